"""Offending by routine activity (犯罪): offender, target, and the absence of a guardian.

Every hour each free motivated offender may attempt an offence where they are (home cell,
or their hangout by day). The attempt hazard grows with the cell's opportunities for each
crime type and with near-repeat risk, and shrinks with the offender's perceived risk
(recent arrests nearby, remembered police presence, cameras, crackdown publicity) — the
deterrence feedback. An attempt succeeds unless a capable guardian blocks it: residents at
home or in the street, patrol units in or beside the cell, officers on fixed posts, and
whatever guardians interventions add. A blocked offender moves to a neighbouring cell and
tries once more (displacement) or gives up (desistance); both are recorded.

Crime types: burglary (入室盗窃), theft (盗窃), robbery (抢劫/抢夺), vehicle crime (盗窃机动车/
车内财物), fraud (诈骗) and assault (故意伤害). The first four are the seeds' preventable
cases (可防性案件).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from sim.params import Params
from sim.rng import event_keys, event_uniforms, keyed_uniforms, stream

__all__ = ["CRIME_TYPES", "PREVENTABLE", "CrimeParams", "Offences", "Offending", "log_logistic", "log_logistic_one"]

CRIME_TYPES: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime", "fraud", "assault")
PREVENTABLE: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime")
BURGLARY, THEFT, ROBBERY, VEHICLE, FRAUD, ASSAULT = range(6)
# Rows of Offending._cell_state: the per-cell memories that decay every hour.
_NEAR_REPEAT, _ARREST_RISK, _PRESENCE_MEMORY = range(3)
# Above this many offenders, a draw uses keys hashed once per offender (keyed_uniforms);
# up to it, event_uniforms' plain-Python path is cheaper. Both give the same values.
_KEYED_ABOVE = 8
_LAND_USES = ("urban_core", "commercial", "residential", "industrial", "town", "village")

_DEFAULT_LAND_USE = {
    # Relative opportunity per crime type in each land use (assumed; shaped after the
    # criminology of place: thefts in commercial centres, burglary in residential areas).
    "burglary": {"urban_core": 0.8, "commercial": 0.5, "residential": 1.2, "industrial": 0.4,
                 "town": 0.9, "village": 0.7},
    "theft": {"urban_core": 2.2, "commercial": 2.5, "residential": 0.7, "industrial": 0.8,
              "town": 1.0, "village": 0.3},
    "robbery": {"urban_core": 1.5, "commercial": 1.5, "residential": 0.8, "industrial": 0.8,
                "town": 0.8, "village": 0.3},
    "vehicle_crime": {"urban_core": 1.3, "commercial": 1.3, "residential": 1.2,
                      "industrial": 1.0, "town": 0.8, "village": 0.5},
    "fraud": {k: 1.0 for k in _LAND_USES},
    "assault": {"urban_core": 1.6, "commercial": 1.6, "residential": 0.8, "industrial": 1.0,
                "town": 1.0, "village": 0.8},
}

_FLAT = [1.0] * 24
_DEFAULT_HOURS = {
    # Relative hazard by hour of day (assumed; burglary peaks when homes are empty, street
    # crime in the evening, assault late at night).
    "burglary": [0.6, 0.5, 0.5, 0.4, 0.3, 0.3, 0.4, 0.6, 1.0, 1.4, 1.6, 1.5, 1.2, 1.3, 1.5,
                 1.6, 1.5, 1.3, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7],
    "theft": [0.3, 0.2, 0.2, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.4, 1.5, 1.6, 1.5, 1.4, 1.5, 1.6,
              1.7, 1.8, 1.7, 1.5, 1.3, 1.0, 0.7, 0.5],
    "robbery": [1.6, 1.5, 1.2, 0.9, 0.6, 0.4, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8,
                0.9, 1.0, 1.1, 1.3, 1.5, 1.7, 1.8, 1.8, 1.7],
    "vehicle_crime": [1.5, 1.6, 1.6, 1.4, 1.1, 0.8, 0.6, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8,
                      0.8, 0.8, 0.9, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
    "fraud": [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.3, 1.6, 1.7, 1.6, 1.3, 1.4, 1.6, 1.7,
              1.6, 1.4, 1.2, 1.2, 1.1, 0.9, 0.6, 0.4],
    "assault": [1.8, 1.7, 1.4, 1.0, 0.6, 0.3, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.8, 0.8,
                0.9, 1.0, 1.1, 1.3, 1.5, 1.7, 1.8, 1.9, 1.9],
}


class CrimeParams(Params):
    """Behavioural parameters of offending. Every one is a calibration or sweep handle."""


    attempts_per_offender_year: float = Field(
        6.0, ge=0, description="Mean offence attempts per free motivated offender per year at "
        "average opportunity and no perceived risk (assumed; calibrated)."
    )
    type_share: dict[str, float] = Field(
        default={"burglary": 0.20, "theft": 0.42, "robbery": 0.012, "vehicle_crime": 0.14,
                 "fraud": 0.16, "assault": 0.07},
        description="Relative frequency of attempts by crime type (assumed; calibrated).",
    )
    land_use_opportunity: dict[str, dict[str, float]] = Field(
        default=_DEFAULT_LAND_USE, description="Opportunity by crime type and land use (assumed)."
    )
    hour_profile: dict[str, list[float]] = Field(
        default=_DEFAULT_HOURS, description="Relative hazard by hour of day (assumed)."
    )
    hangout_share: list[float] = Field(
        default=[0.1] * 6 + [0.3, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7,
                             0.6, 0.5, 0.4, 0.3, 0.2],
        min_length=24, max_length=24,
        description="Share of offenders at their daytime hangout rather than home, by hour.",
    )
    guardian_sensitivity: dict[str, float] = Field(
        default={"burglary": 1.0, "theft": 0.8, "robbery": 1.0, "vehicle_crime": 0.9,
                 "fraud": 0.0, "assault": 0.5},
        description="How strongly guardians block each type; fraud is remote (assumed).",
    )
    occupancy_guard: float = Field(
        1.5, ge=0, description="Blocking hazard from a fully occupied home block (burglary) "
        "[per unit occupancy] (assumed; Cohen & Felson 1979 guardianship)."
    )
    street_guard: float = Field(
        0.3, ge=0, description="Blocking hazard from passers-by at saturation (assumed)."
    )
    street_guard_density: float = Field(
        2_000.0, gt=0, description="People present in a cell at which passers-by give 63 % of "
        "their saturating guardianship [persons] (assumed)."
    )
    patrol_guard: float = Field(
        1.2, ge=0, description="Blocking hazard per patrol unit in the cell (assumed; hot-spot "
        "policing trials, Braga et al. 2019)."
    )
    patrol_spill: float = Field(
        0.25, ge=0, le=1, description="Share of a unit's guardianship felt in adjacent cells."
    )
    post_guard: float = Field(
        0.8, ge=0, description="Blocking hazard per officer on a fixed post in the cell (assumed)."
    )
    displacement_prob: float = Field(
        0.3, ge=0, le=1, description="Chance a blocked offender tries a neighbouring cell "
        "(assumed; Guerette & Bowers 2009 found displacement in ~26 % of observations)."
    )
    near_repeat_boost: float = Field(
        0.5, ge=0, description="Added relative hazard in a cell after an offence (assumed; "
        "Johnson 2008)."
    )
    near_repeat_max: float = Field(
        5.0, ge=0, description="Cap on a cell's near-repeat boost (keeps low-deterrence sweeps bounded)."
    )
    near_repeat_spread: float = Field(
        0.3, ge=0, le=1, description="Share of the near-repeat boost given to adjacent cells."
    )
    near_repeat_half_life_days: float = Field(
        7.0, gt=0, description="Half-life of near-repeat risk [days] (Johnson 2008: 1–2 weeks)."
    )
    risk_sensitivity: float = Field(
        1.0, ge=0, description="Offenders' response to perceived risk: hazard × exp(−β·risk)."
    )
    arrest_risk: float = Field(
        0.4, ge=0, description="Perceived risk added in a cell by one arrest (assumed)."
    )
    arrest_risk_half_life_days: float = Field(
        30.0, gt=0, description="Half-life of the deterrence of an arrest [days] (assumed)."
    )
    presence_risk: float = Field(
        0.15, ge=0, description="Perceived risk per unit of remembered police presence "
        "(unit-hours, decayed) (assumed; Sherman & Weisburd 1995 residual deterrence)."
    )
    presence_memory_half_life_h: float = Field(
        48.0, gt=0, description="Half-life of remembered police presence [hours] (assumed)."
    )
    camera_deterrence: float = Field(
        0.5, ge=0, description="Perceived risk in a fully covered cell (assumed; Welsh & "
        "Farrington 2009 CCTV meta-analysis: ~13 % fewer crimes, more in car parks)."
    )
    camera_awareness: float = Field(
        0.6, ge=0, le=1, description="Share of offenders who know where cameras are (assumed)."
    )
    incapacitation_days: float = Field(
        150.0, ge=0, description="Mean days an arrested offender is held (detention or prison; "
        "assumed)."
    )
    serious_assault_share: float = Field(
        0.12, ge=0, le=1, description="Share of assaults that are serious injuries (assumed)."
    )
    homicide_share: float = Field(
        0.03, ge=0, le=1, description="Share of assaults that end in death (assumed)."
    )


@dataclass
class Offences:
    """Offences committed in one hour (parallel arrays)."""

    offender: np.ndarray  # resident index
    offender_slot: np.ndarray  # index into Offending.offenders
    cell: np.ndarray
    crime_type: np.ndarray
    displaced: np.ndarray
    serious: np.ndarray
    homicide: np.ndarray
    victim: np.ndarray

    def __len__(self) -> int:
        return len(self.cell)


def log_logistic(u: np.ndarray, median: np.ndarray | float, shape: float) -> np.ndarray:
    """Inverse CDF of a log-logistic distribution (a heavy-tailed delay or duration)."""
    u = np.clip(u, 1e-12, 1 - 1e-12)
    return median * (u / (1 - u)) ** (1.0 / shape)


def log_logistic_one(u: float, median: float, shape: float) -> float:
    """:func:`log_logistic` for one value, in plain Python floats: the same value, without numpy's
    per-call overhead (vectorised, numpy's power can differ in the last bit: keep one value scalar)."""
    u = min(max(u, 1e-12), 1 - 1e-12)
    return median * (u / (1 - u)) ** (1.0 / shape)


class Offending:
    """Motivated offenders and the places they act in.

    Args:
        params: Crime parameters.
        city: The city.
        residents: The residents.
        seed: The run's seed.
    """

    def __init__(self, params: CrimeParams, city, residents, seed: int):
        p = params
        self.p = p
        self.city = city
        self.residents = residents
        self.seed = seed
        self.offenders = residents.offenders
        self.home = residents.home_cell[self.offenders]
        self.hangout = residents.day_cell[self.offenders]
        self.free_at = np.zeros(len(self.offenders), dtype=np.int64)
        #: Offending propensity per offender (special-population management lowers it).
        self.propensity = np.ones(len(self.offenders))
        self.special = residents.special[self.offenders]
        self._attempt_rng = stream(seed, "offending.attempts")
        #: Keys of the counter-based draws by stream name, hashed once per offender (lazily).
        self._keys: dict[str, np.ndarray] = {}
        n = city.n_cells
        # Near-repeat boost, arrest deterrence and remembered presence per cell, stacked so
        # that one operation decays all three and one gather reads them for a set of cells
        # (exposed as the near_repeat, arrest_risk and presence_memory rows).
        self._cell_state = np.zeros((3, n))
        self._decay_per_hour = np.array([[0.5 ** (1 / (24 * p.near_repeat_half_life_days))],
                                         [0.5 ** (1 / (24 * p.arrest_risk_half_life_days))],
                                         [0.5 ** (1 / p.presence_memory_half_life_h)]])
        self._camera_risk = p.camera_deterrence * p.camera_awareness

        share = np.array([p.type_share.get(t, 0.0) for t in CRIME_TYPES])
        share = share / share.sum()
        land = np.array([[p.land_use_opportunity.get(t, {}).get(lu, 1.0) for lu in _LAND_USES]
                         for t in CRIME_TYPES])
        hours = np.array([p.hour_profile.get(t, _FLAT) for t in CRIME_TYPES])
        hours = hours / hours.mean(axis=1, keepdims=True)
        # Opportunity of each type in each cell by hour of week, before guardianship.
        lu_cell = land[:, city.land_use]  # (types, cells)
        dens = residents.presence / np.maximum(city.residents, 1)  # crowding relative to home
        vacancy = 1.0 - residents.home_occupancy
        self._static = share[:, None] * lu_cell
        self._hours = hours
        self._dens = dens
        self._vacancy = vacancy
        # Opportunity by hour of week (hours, types, cells), and its total over crime types.
        self._opportunity_by_hour = self.opportunity(np.arange(168), None)
        self._total_opportunity = self._opportunity_by_hour.sum(axis=1)
        mean_opp = self._total_opportunity.mean()
        self._lambda = p.attempts_per_offender_year / 8760.0 / mean_opp
        # The candidate bound's per-offender part by hour of week: the base rate times the better
        # of home and hangout. Memory: 168 floats per offender (≈ 40 MB for 30 000 offenders).
        total = self._total_opportunity
        self._best_rate = self._lambda * np.maximum(total[:, self.home], total[:, self.hangout])
        self._sens = np.array([p.guardian_sensitivity.get(t, 1.0) for t in CRIME_TYPES])
        self._hangout_share = np.array(p.hangout_share)
        # Guardianship of residents by hour of week and cell (they do not depend on the state):
        # occupants at home against burglary, passers-by against the other types.
        self._home_guard = p.occupancy_guard * residents.home_occupancy
        self._street_guard = p.street_guard * (1 - np.exp(-residents.presence / p.street_guard_density))
        # exp(−β · crackdown deterrence) per crime type, recomputed only when deterrence changes.
        self._deterrence_key: bytes | None = None
        self._deterrence_factor = np.ones((len(CRIME_TYPES), 1))

    @property
    def near_repeat(self) -> np.ndarray:
        """Near-repeat boost per cell (relative hazard added after nearby offences)."""
        return self._cell_state[_NEAR_REPEAT]

    @near_repeat.setter
    def near_repeat(self, value) -> None:
        self._cell_state[_NEAR_REPEAT] = value

    @property
    def arrest_risk(self) -> np.ndarray:
        """Perceived risk per cell from recent arrests there and nearby."""
        return self._cell_state[_ARREST_RISK]

    @arrest_risk.setter
    def arrest_risk(self, value) -> None:
        self._cell_state[_ARREST_RISK] = value

    @property
    def presence_memory(self) -> np.ndarray:
        """Remembered police presence per cell (unit-hours, decayed)."""
        return self._cell_state[_PRESENCE_MEMORY]

    @presence_memory.setter
    def presence_memory(self, value) -> None:
        self._cell_state[_PRESENCE_MEMORY] = value

    def opportunity(self, hour_of_week, cells) -> np.ndarray:
        """Relative opportunity per crime type: shape (types, cells) or (hours, types, cells)."""
        h = np.asarray(hour_of_week)
        cols = slice(None) if cells is None else cells
        hod = h % 24
        dens = self._dens[h][..., cols]
        vac = self._vacancy[h][..., cols]
        static = self._static[:, cols]
        hours = self._hours[:, hod]  # (types,) or (types, hours)
        if h.ndim:
            hours = np.moveaxis(hours, -1, 0)[..., None]
            out = static[None] * hours
            out[:, BURGLARY] *= 2.0 * vac
            out[:, [THEFT, ROBBERY, ASSAULT]] *= np.minimum(dens, 3.0)[:, None]
            return out
        out = static * hours[:, None]
        out[BURGLARY] *= 2.0 * vac
        out[[THEFT, ROBBERY, ASSAULT]] *= np.minimum(dens, 3.0)
        return out

    def perceived_risk(self, cells: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        """Risk an offender perceives in ``cells`` (arrests, presence memory, cameras)."""
        return self._risk(self._cell_state[:, cells], cameras[cells])

    def _risk(self, cell_state: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        # Perceived risk from columns of _cell_state (some cells or all) and their camera coverage.
        return (cell_state[_ARREST_RISK] + self.p.presence_risk * cell_state[_PRESENCE_MEMORY]
                + self._camera_risk * cameras)

    def guardianship(self, hour_of_week: int, cells, crime_type, state) -> np.ndarray:
        """Blocking hazard at ``cells`` for offences of ``crime_type``."""
        p = self.p
        g = np.where(crime_type == BURGLARY, self._home_guard[hour_of_week, cells],
                     self._street_guard[hour_of_week, cells])
        g = g + p.patrol_guard * state.patrol_presence[cells] + p.post_guard * state.posts[cells]
        g = g + state.extra_guardians[cells] + state.type_guardians[crime_type, cells]
        return g * self._sens[crime_type]

    def decay(self, patrol_presence: np.ndarray, posts: np.ndarray) -> None:
        """Advance near-repeat, arrest deterrence and presence memory by one hour."""
        self._cell_state *= self._decay_per_hour
        self._cell_state[_PRESENCE_MEMORY] += patrol_presence + posts

    def step(self, hour: int, hour_of_week: int, state) -> Offences:
        """Offences committed in the hour ``hour`` (counted from the start of the run).

        Args:
            hour: Absolute hour of the run, the time coordinate of counter-based draws.
            hour_of_week: Row of the weekly presence tables.
            state: The model's guardian state (patrol_presence, posts, extra_guardians,
                cameras, type_deterrence).
        """
        p = self.p
        n = len(self.offenders)
        u_attempt = self._attempt_rng.random(n)  # fixed size every hour: aligned across scenarios
        # Only offenders whose attempt uniform is below an upper bound of their hazard need more work.
        cand, boost, risk = self._candidates(u_attempt, hour, hour_of_week, state)
        if len(cand) == 0:
            return _EMPTY
        u_place = self._uniforms("offending.place", cand, hour)
        at_hangout = u_place < self._hangout_share[hour_of_week % 24]
        loc = np.where(at_hangout, self.hangout[cand], self.home[cand])
        opp = self._opportunity_by_hour[hour_of_week][:, loc] * self._deterrence(state.type_deterrence)
        total = opp.sum(axis=0)
        # λ · total · (1 + near_repeat) · exp(−β · risk) · propensity at the offenders' places.
        hazard = (self._lambda * total * boost[loc] * np.exp(-p.risk_sensitivity * risk[loc])
                  * self.propensity[cand])
        act = u_attempt[cand] < hazard
        if not np.count_nonzero(act):
            return _EMPTY
        cand, loc, opp, total = cand[act], loc[act], opp[:, act], total[act]
        u_type = self._uniforms("offending.type", cand, hour)
        cum = np.cumsum(opp, axis=0) / total
        ctype = np.minimum((cum < u_type).sum(axis=0), len(CRIME_TYPES) - 1)

        # Guardianship: blocked attempts displace to a neighbour once, or desist.
        u_block = self._uniforms("offending.block", cand, hour)
        blocked = u_block < 1 - np.exp(-self.guardianship(hour_of_week, loc, ctype, state))
        displaced = np.zeros(len(cand), dtype=bool)
        if blocked.any():
            b = np.flatnonzero(blocked)
            u_move = self._uniforms("offending.displace", cand[b], hour)
            moves = u_move < p.displacement_prob
            nbrs = self.city.neighbours[loc[b]]
            n_valid = (nbrs >= 0).sum(axis=1)
            moves &= n_valid > 0
            pick = np.minimum((self._uniforms("offending.where", cand[b], hour) *
                               np.maximum(n_valid, 1)).astype(int), np.maximum(n_valid - 1, 0))
            order = np.argsort(nbrs < 0, axis=1, kind="stable")  # valid neighbours first
            new = nbrs[np.arange(len(b)), order[np.arange(len(b)), pick]]
            m = b[moves]
            if len(m):
                new_loc = new[moves]
                u2 = self._uniforms("offending.block", cand[m], hour, slot=1)
                again = u2 < 1 - np.exp(-self.guardianship(hour_of_week, new_loc, ctype[m], state))
                loc[m] = new_loc
                displaced[m] = ~again
                blocked[m] = again
            state.record_blocked(int(blocked.sum()), int(len(m)))
        ok = ~blocked
        cand, loc, ctype, displaced = cand[ok], loc[ok], ctype[ok], displaced[ok]
        if len(cand) == 0:
            return _EMPTY

        # Near-repeat: the hit cell and its neighbours are at higher risk for a while.
        near_repeat = self._cell_state[_NEAR_REPEAT]
        np.add.at(near_repeat, loc, p.near_repeat_boost)
        nb = self.city.neighbours[loc].ravel()
        np.add.at(near_repeat, nb[nb >= 0], p.near_repeat_boost * p.near_repeat_spread)
        np.minimum(near_repeat, p.near_repeat_max, out=near_repeat)

        u_sev = self._uniforms("offending.severity", cand, hour)
        is_assault = ctype == ASSAULT
        homicide = is_assault & (u_sev < p.homicide_share)
        serious = is_assault & (u_sev < p.serious_assault_share)
        start = self.residents.cell_start[loc]
        size = self.residents.cell_start[loc + 1] - start
        u_vic = self._uniforms("offending.victim", cand, hour)
        victim = start + np.minimum((u_vic * size).astype(np.int64), np.maximum(size - 1, 0))
        np.add.at(self.residents.victimisations, victim, 1)
        self.residents.last_victimised[victim] = hour
        return Offences(self.offenders[cand], cand, loc.astype(np.int64), ctype, displaced,
                        serious, homicide, victim)

    def _candidates(self, u_attempt: np.ndarray, hour: int, hour_of_week: int, state):
        """Free offenders whose attempt uniform is below an upper bound of their hazard this hour.

        Returns ``(cand, boost, risk)``: the candidates in increasing order, and each cell's
        near-repeat factor ``1 + near_repeat`` and perceived risk this hour, from which the exact
        hazard takes its values (computed elementwise, they are the same for all cells or a few).
        Any looser bound gives the same offences (extra candidates fail the exact test).
        """
        cells = self._cell_state
        # A cheap bound for everyone, so most offenders are skipped: the better of home and
        # hangout, the largest near-repeat boost and propensity, and no perceived risk or crackdown
        # deterrence (both only lower the hazard). The margin keeps it a bound whatever the order
        # of the floating-point products and sums.
        scale = (1 + cells[_NEAR_REPEAT].max()) * self.propensity.max(initial=0.0) * (1 + 1e-9)
        cand = (u_attempt < self._best_rate[hour_of_week] * scale).nonzero()[0]  # flatnonzero, less overhead
        if len(cand) == 0:
            return cand, None, None
        cand = cand[self.free_at[cand] <= hour]
        # A tighter bound for the few left: the better of home and hangout with each cell's own
        # near-repeat boost and perceived risk, still without crackdown deterrence. The margin also
        # covers exp() rounding differently for a whole array and for a few elements.
        boost = 1 + cells[_NEAR_REPEAT]
        risk = self._risk(cells, state.cameras)
        cell_rate = self._total_opportunity[hour_of_week] * boost * np.exp(-self.p.risk_sensitivity * risk)
        bound = (self._lambda * np.maximum(cell_rate[self.home[cand]], cell_rate[self.hangout[cand]])
                 * self.propensity[cand] * (1 + 1e-9))
        return cand[u_attempt[cand] < bound], boost, risk

    def _deterrence(self, type_deterrence: np.ndarray) -> np.ndarray:
        # exp(−β · deterrence) per crime type as a column; deterrence changes only with campaigns.
        key = type_deterrence.tobytes()
        if key != self._deterrence_key:
            self._deterrence_factor = np.exp(-self.p.risk_sensitivity * type_deterrence)[:, None]
            self._deterrence_key = key
        return self._deterrence_factor

    def _uniforms(self, name: str, slots: np.ndarray, hour: int, slot: int = 0) -> np.ndarray:
        # event_uniforms(seed, name, slots, hour, slot): offenders are fixed (slots 0..n−1), so
        # for larger sets the first hashing stage is done once per offender and kept.
        if len(slots) <= _KEYED_ABOVE:
            return event_uniforms(self.seed, name, slots, hour, slot)
        keys = self._keys.get(name)
        if keys is None:
            keys = self._keys[name] = event_keys(self.seed, name, np.arange(len(self.offenders)))
        return keyed_uniforms(keys[slots], hour, slot)

    def arrest(self, offender_slots: np.ndarray, cells: np.ndarray, hour: int) -> None:
        """Hold arrested offenders and raise perceived risk where they were caught.

        A slot of −1 is an arrest of someone who is not a motivated offender (dispute violence):
        it deters nearby but holds no one from the offender pool.
        """
        if len(cells) == 0:
            return
        p = self.p
        held = offender_slots[offender_slots >= 0]
        if len(held):
            u = self._uniforms("offending.held", held, hour)
            held_h = -np.log1p(-np.clip(u, 0, 1 - 1e-12)) * p.incapacitation_days * 24
            self.free_at[held] = np.maximum(self.free_at[held], hour + held_h.astype(np.int64))
        arrest_risk = self._cell_state[_ARREST_RISK]
        np.add.at(arrest_risk, cells, p.arrest_risk)
        nb = self.city.neighbours[cells].ravel()
        np.add.at(arrest_risk, nb[nb >= 0], p.arrest_risk * p.near_repeat_spread)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


#: The result of an hour without offences, shared (its arrays are read-only; callers only read it).
_EMPTY = Offences(*(_read_only(np.zeros(0, dtype=t)) for t in (np.int64,) * 4 + (bool,) * 3 + (np.int64,)))
