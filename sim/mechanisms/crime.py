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
from numba import njit
from pydantic import Field

from sim.params import NonNegative, Params
from sim.rng import event_keys, event_uniforms, keyed_uniform, keyed_uniforms, stream, term_of

__all__ = ["CRIME_TYPES", "PREVENTABLE", "CrimeParams", "Offences", "Offending", "log_logistic", "log_logistic_one"]

CRIME_TYPES: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime", "fraud", "assault")
PREVENTABLE: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime")
BURGLARY, THEFT, ROBBERY, VEHICLE, FRAUD, ASSAULT = range(6)
# Rows of Offending._cell_state: the per-cell memories that decay every hour.
_NEAR_REPEAT, _ARREST_RISK, _PRESENCE_MEMORY = range(3)
# Above this many offenders, a draw uses keys hashed once per offender (keyed_uniforms);
# up to it, event_uniforms' compiled path is cheaper. Both give the same values.
_KEYED_ABOVE = 8
# The draws of an offence, each keyed by offender and hour: rows of Offending._draw_keys.
_DRAWS = ("offending.place", "offending.type", "offending.block", "offending.displace", "offending.where",
          "offending.severity", "offending.victim")
_PLACE, _TYPE, _BLOCK, _MOVE, _WHERE, _SEVERITY, _VICTIM = range(len(_DRAWS))
# Entries of Offending._constants, the scalar parameters the compiled hour (_offend) reads.
(_LAMBDA, _BETA, _PRESENCE_RISK, _CAMERA_RISK, _PATROL_GUARD, _POST_GUARD, _DISPLACEMENT, _NR_BOOST, _NR_SPREAD,
 _NR_MAX, _HOMICIDE, _SERIOUS) = range(12)
# Calls of Offending.step whose attempt draws are drawn at once.
_ATTEMPT_BLOCK = 24
# Rows of Offending._out, where the compiled hour writes its offences.
_OUT_SLOT, _OUT_CELL, _OUT_TYPE, _OUT_DISPLACED, _OUT_SERIOUS, _OUT_HOMICIDE, _OUT_VICTIM = range(7)
_OUT_ROWS = 7
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
    type_share: dict[str, NonNegative] = Field(
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
    guardian_sensitivity: dict[str, NonNegative] = Field(
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
    u = np.minimum(np.maximum(u, 1e-12), 1 - 1e-12)  # np.clip, without its wrapper's overhead
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
        self._attempts, self._attempt_row = np.zeros((0, 0)), 0
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
        self._deterrence_factor = np.ones(len(CRIME_TYPES))
        # The kernel's results, one column per offence of the hour (at most one per offender).
        self._out = np.zeros((_OUT_ROWS, len(self.offenders)), dtype=np.int64)
        self._draw_keys = np.stack([event_keys(seed, name, np.arange(len(self.offenders))) for name in _DRAWS])
        consts = {_LAMBDA: self._lambda, _BETA: p.risk_sensitivity, _PRESENCE_RISK: p.presence_risk,
                  _CAMERA_RISK: self._camera_risk, _PATROL_GUARD: p.patrol_guard, _POST_GUARD: p.post_guard,
                  _DISPLACEMENT: p.displacement_prob, _NR_BOOST: p.near_repeat_boost,
                  _NR_SPREAD: p.near_repeat_spread, _NR_MAX: p.near_repeat_max, _HOMICIDE: p.homicide_share,
                  _SERIOUS: p.serious_assault_share}
        self._constants = np.array([consts[k] for k in range(len(consts))], dtype=np.float64)
        #: Skip offenders whose attempt draw is above a cheap upper bound of their hazard. Switching
        #: it off (every free offender takes the exact test) gives the same offences, more slowly.
        self.bound_candidates = True

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

    def decay(self, patrol_presence: np.ndarray, posts: np.ndarray) -> None:
        """Advance near-repeat, arrest deterrence and presence memory by one hour."""
        _decay(self._cell_state, self._decay_per_hour, patrol_presence, posts)

    def step(self, hour: int, hour_of_week: int, state) -> Offences:
        """Offences committed in the hour ``hour`` (counted from the start of the run).

        Args:
            hour: Absolute hour of the run, the time coordinate of counter-based draws.
            hour_of_week: Row of the weekly presence tables.
            state: The model's guardian state (patrol_presence, posts, extra_guardians,
                cameras, type_deterrence).
        """
        # One uniform per offender every call, whatever happens (aligned across scenarios): the
        # stream's next numbers, drawn for several calls at once (rows in call order).
        if self._attempt_row == len(self._attempts):
            self._attempts = self._attempt_rng.random((_ATTEMPT_BLOCK, len(self.offenders)))
            self._attempt_row = 0
        u_attempt = self._attempts[self._attempt_row]
        self._attempt_row += 1
        out = self._out
        k, first_blocked, n_blocked, n_moved = _offend(
            hour, hour_of_week, u_attempt, self.free_at, self.propensity, self._best_rate, self.home,
            self.hangout, self._cell_state, state.cameras, self._total_opportunity,
            self._opportunity_by_hour, self._deterrence(state.type_deterrence),
            self._home_guard, self._street_guard, state.patrol_presence,
            state.posts, state.extra_guardians, state.type_guardians, self._sens, self.city.neighbours,
            self.residents.cell_start, self.residents.victimisations, self.residents.last_victimised,
            self._draw_keys, self._hangout_share, self._constants, self.bound_candidates, out)
        if first_blocked:  # blocked at first; of them, n_blocked still blocked after n_moved moved next door
            state.record_blocked(n_blocked, n_moved)
        if k == 0:  # most hours
            return _EMPTY
        cand = out[_OUT_SLOT, :k].copy()
        return Offences(self.offenders[cand], cand, out[_OUT_CELL, :k].copy(), out[_OUT_TYPE, :k].copy(),
                        out[_OUT_DISPLACED, :k] == 1, out[_OUT_SERIOUS, :k] == 1, out[_OUT_HOMICIDE, :k] == 1,
                        out[_OUT_VICTIM, :k].copy())

    def _deterrence(self, type_deterrence: np.ndarray) -> np.ndarray:
        # exp(−β · deterrence) per crime type; deterrence changes only with campaigns.
        key = type_deterrence.tobytes()
        if key != self._deterrence_key:
            self._deterrence_factor = np.exp(-self.p.risk_sensitivity * type_deterrence)
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


@njit(cache=True)
def _decay(cell_state, decay_per_hour, patrol_presence, posts):
    # Offending.decay in one pass: each memory decays by its factor, then presence is remembered
    # (the array expressions' float operations, element by element).
    for k in range(cell_state.shape[0]):
        f = decay_per_hour[k, 0]
        for i in range(cell_state.shape[1]):
            cell_state[k, i] *= f
    for i in range(cell_state.shape[1]):
        cell_state[_PRESENCE_MEMORY, i] += patrol_presence[i] + posts[i]


@njit(cache=True)
def _guard(cell, ctype, home_guard, street_guard, patrol_presence, posts, extra_guardians, type_guardians, sens, c):
    # Blocking hazard at ``cell`` for an offence of ``ctype``: occupants at home against burglary,
    # passers-by against the other types, patrols, fixed posts, and what interventions add.
    g = home_guard[cell] if ctype == BURGLARY else street_guard[cell]
    g = g + c[_PATROL_GUARD] * patrol_presence[cell] + c[_POST_GUARD] * posts[cell]
    g = g + extra_guardians[cell] + type_guardians[ctype, cell]
    return g * sens[ctype]


@njit(cache=True)
def _cell_rate(cell, total_opportunity, cell_state, cameras, c):
    # Opportunity × (1 + near-repeat) × exp(−β · perceived risk) at ``cell``.
    risk = (cell_state[_ARREST_RISK, cell] + c[_PRESENCE_RISK] * cell_state[_PRESENCE_MEMORY, cell]
            + c[_CAMERA_RISK] * cameras[cell])
    return total_opportunity[cell] * (1 + cell_state[_NEAR_REPEAT, cell]) * np.exp(-c[_BETA] * risk)


@njit(cache=True)
def _offend(hour, how, u_attempt, free_at, propensity, best_rate_by_how, home, hangout, cell_state, cameras,
            total_opportunity_by_how, opportunity_by_how, deterrence, home_guard_by_how, street_guard_by_how,
            patrol_presence, posts, extra_guardians, type_guardians, sens, neighbours, cell_start, victimisations,
            last_victimised, keys, hangout_share_by_hour, c, bound_candidates, out):
    """One hour of offending (compiled: :meth:`Offending.step` runs it every hour of every run).

    Writes the hour's k offences into the first k columns of ``out`` (rows ``_OUT_*``: offender
    slot, cell, crime type, displaced, serious and homicide flags as 0/1, victim) and returns k,
    how many attempts were blocked at first, and, after displacement, how many stayed blocked
    and how many moved next door. (Returning new arrays every hour cost more than most hours'
    offending: Python has to wrap each one.) Offences are decided on the state at the start
    of the hour; near-repeat risk and victims are updated afterwards.
    """
    n = len(u_attempt)
    # This hour of the week's rows of the weekly tables (hour of day for the hangout share).
    best_rate, total_opportunity = best_rate_by_how[how], total_opportunity_by_how[how]
    opportunity, home_guard, street_guard = opportunity_by_how[how], home_guard_by_how[how], street_guard_by_how[how]
    hangout_share = hangout_share_by_hour[how % 24]
    term0, term1 = term_of(hour, 0), term_of(hour, 1)  # the hour's two draws per offender
    near_repeat = cell_state[_NEAR_REPEAT]
    # A cheap bound for everyone, so most offenders are skipped: the better of home and hangout,
    # the largest near-repeat boost and propensity, and no perceived risk or crackdown deterrence
    # (both only lower the hazard). The margins keep it a bound whatever the rounding of exp().
    top = 0.0
    for i in range(n):
        top = max(top, propensity[i])
    scale = (1 + near_repeat.max()) * top * (1 + 1e-9)
    n_types = opportunity.shape[0]
    opp = np.empty(n_types)
    slot, loc, ctype = out[_OUT_SLOT], out[_OUT_CELL], out[_OUT_TYPE]
    k = 0
    first_blocked = n_blocked = n_moved = 0
    for i in range(n):
        u = u_attempt[i]
        if bound_candidates:
            if not u < best_rate[i] * scale:
                continue
        if free_at[i] > hour:
            continue
        if bound_candidates:  # a tighter bound with each cell's own boost and risk
            rate = max(_cell_rate(home[i], total_opportunity, cell_state, cameras, c),
                       _cell_rate(hangout[i], total_opportunity, cell_state, cameras, c))
            if not u < c[_LAMBDA] * rate * propensity[i] * (1 + 1e-9):
                continue
        here = hangout[i] if keyed_uniform(keys[_PLACE, i], term0) < hangout_share else home[i]
        total = 0.0
        for t in range(n_types):
            opp[t] = opportunity[t, here] * deterrence[t]
            total += opp[t]
        risk = (cell_state[_ARREST_RISK, here] + c[_PRESENCE_RISK] * cell_state[_PRESENCE_MEMORY, here]
                + c[_CAMERA_RISK] * cameras[here])
        hazard = c[_LAMBDA] * total * (1 + near_repeat[here]) * np.exp(-c[_BETA] * risk) * propensity[i]
        if not u < hazard:
            continue
        # Crime type in proportion to its opportunity here.
        u_type = keyed_uniform(keys[_TYPE, i], term0)
        ct, cum = 0, 0.0
        for t in range(n_types):
            cum += opp[t]
            if cum / total < u_type:
                ct += 1
        ct = min(ct, n_types - 1)
        # Guardianship: a blocked attempt moves to a neighbouring cell once, or desists.
        g = _guard(here, ct, home_guard, street_guard, patrol_presence, posts, extra_guardians, type_guardians,
                   sens, c)
        out[_OUT_DISPLACED, k] = 0
        if keyed_uniform(keys[_BLOCK, i], term0) < 1 - np.exp(-g):
            first_blocked += 1
            valid = 0
            for nb in neighbours[here]:
                valid += nb >= 0
            if valid == 0 or not keyed_uniform(keys[_MOVE, i], term0) < c[_DISPLACEMENT]:
                n_blocked += 1
                continue
            pick = min(int(keyed_uniform(keys[_WHERE, i], term0) * valid), valid - 1)
            for nb in neighbours[here]:  # the pick-th valid neighbour, in the row's order
                if nb >= 0:
                    if pick == 0:
                        here = nb
                        break
                    pick -= 1
            n_moved += 1
            g = _guard(here, ct, home_guard, street_guard, patrol_presence, posts, extra_guardians,
                       type_guardians, sens, c)
            if keyed_uniform(keys[_BLOCK, i], term1) < 1 - np.exp(-g):
                n_blocked += 1
                continue
            out[_OUT_DISPLACED, k] = 1
        slot[k], loc[k], ctype[k] = i, here, ct
        k += 1

    # Near-repeat: the hit cells and their neighbours are at higher risk for a while.
    for j in range(k):
        near_repeat[loc[j]] += c[_NR_BOOST]
    spread = c[_NR_BOOST] * c[_NR_SPREAD]
    for j in range(k):
        for nb in neighbours[loc[j]]:
            if nb >= 0:
                near_repeat[nb] += spread
    if k:
        np.minimum(near_repeat, c[_NR_MAX], near_repeat)
    for j in range(k):
        i = slot[j]
        out[_OUT_SERIOUS, j] = out[_OUT_HOMICIDE, j] = 0
        if ctype[j] == ASSAULT:
            u_sev = keyed_uniform(keys[_SEVERITY, i], term0)
            out[_OUT_HOMICIDE, j] = u_sev < c[_HOMICIDE]
            out[_OUT_SERIOUS, j] = u_sev < c[_SERIOUS]
        start = cell_start[loc[j]]
        size = cell_start[loc[j] + 1] - start
        v = start + min(int(keyed_uniform(keys[_VICTIM, i], term0) * size), max(size - 1, 0))
        victimisations[v] += 1
        last_victimised[v] = hour
        out[_OUT_VICTIM, j] = v
    return k, first_blocked, n_blocked, n_moved


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


#: The result of an hour without offences, shared (its arrays are read-only; callers only read it).
_EMPTY = Offences(*(_read_only(np.zeros(0, dtype=t)) for t in (np.int64,) * 4 + (bool,) * 3 + (np.int64,)))
