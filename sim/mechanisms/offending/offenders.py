"""Motivated offenders and the places they act in: :class:`Offending`, and the :class:`Offences` of an hour.

Every hour each free motivated offender may attempt an offence where they are (home cell, or
their hangout by day); :meth:`Offending.step` runs the compiled hour
(:func:`sim.mechanisms.offending.kernel.offend_hour`) on the levers and returns the hour's
offences. Arrests hold offenders and deter nearby (:meth:`Offending.arrest`); near-repeat risk,
arrest deterrence and remembered presence decay hour by hour (:meth:`Offending.decay`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.mechanisms.crime_types import ASSAULT, BURGLARY, CRIME_TYPES, ROBBERY, THEFT
from sim.mechanisms.offending.formulas import add_near, perceived_risk
from sim.mechanisms.offending.kernel import (
    ARREST_RISK,
    DRAWS,
    NEAR_REPEAT,
    OUT_CELL,
    OUT_DISPLACED,
    OUT_HOMICIDE,
    OUT_PRIOR,
    OUT_ROWS,
    OUT_SERIOUS,
    OUT_SLOT,
    OUT_TYPE,
    OUT_VICTIM,
    PRESENCE_MEMORY,
    OffenderArrays,
    OffendingConstants,
    Places,
    WeeklyTables,
    decay_cell_state,
    offend_hour,
)
from sim.mechanisms.offending.params import LAND_USES, CrimeParams
from sim.rng import event_keys, event_uniforms, keyed_uniforms, stream

__all__ = ["Offences", "Offending"]

# Above this many offenders, a draw uses keys hashed once per offender (keyed_uniforms);
# up to it, event_uniforms' compiled path is cheaper. Both give the same values.
_KEYED_ABOVE = 8
# Calls of Offending.step whose attempt draws are drawn at once.
_ATTEMPT_BLOCK = 24
#: Burglary opportunity of a home that is empty, relative to the average home (assumed).
_VACANCY_OPPORTUNITY = 2.0
#: Hour-of-day profile of a crime type the parameters give none: flat.
_FLAT = [1.0] * 24

#: Offences.victim_last_victimised of an hour without offences (read-only, shared).
_NO_PRIOR = np.zeros(0, dtype=np.int64)
_NO_PRIOR.flags.writeable = False


@dataclass
class Offences:
    """Offences committed in one hour (parallel arrays), and the attempts guardians blocked.

    ``attempts_blocked`` counts attempts that ended blocked (at the offender's place, or
    again next door); ``attempts_displaced`` counts blocked attempts that moved next door
    (whether or not they then succeeded, as ``displaced`` offences).
    """

    offender: np.ndarray  # resident index
    offender_slot: np.ndarray  # index into Offending.offenders
    cell: np.ndarray
    crime_type: np.ndarray
    displaced: np.ndarray
    serious: np.ndarray
    homicide: np.ndarray
    victim: np.ndarray  # resident index of the victim
    attempts_blocked: int = 0
    attempts_displaced: int = 0
    #: Hour the victim was last victimised before this offence (−1: never): repeat victimisation.
    victim_last_victimised: np.ndarray = field(default_factory=lambda: _NO_PRIOR)

    def __len__(self) -> int:
        return len(self.cell)



class Offending:
    """Motivated offenders and the places they act in.

    Args:
        params: Crime parameters.
        city: The city.
        residents: The residents.
        seed: The run's seed.
        propensity: Each offender's offending propensity, read in place every hour (the
            ``offender_propensity`` lever); default: all 1, owned here.
    """

    def __init__(self, params: CrimeParams, city, residents, seed: int, propensity: np.ndarray | None = None):
        p = params
        self.p = p
        self.city = city
        self.residents = residents
        self.seed = seed
        self.offenders = residents.offenders
        home = residents.home_cell[self.offenders]
        hangout = residents.day_cell[self.offenders]
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
        # Per crime type: camera deterrence and near-repeat boost multipliers (rows CAMERA_WEIGHT,
        # REPEAT_WEIGHT). Cameras deter each type by its weight, or are one camera term of perceived
        # risk (CrimeParams.camera_deterrence_model).
        self._type_weights = np.array([[p.camera_deterrence_by_type.get(t, 1.0) for t in CRIME_TYPES],
                                       [p.near_repeat_by_type.get(t, 1.0) for t in CRIME_TYPES]])
        self._camera_by_type = p.camera_deterrence_model == "by_crime_type"

        share = np.array([p.type_share.get(t, 0.0) for t in CRIME_TYPES])
        share = share / share.sum()
        land = np.array([[p.land_use_opportunity.get(t, {}).get(lu, 1.0) for lu in LAND_USES]
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
        best = np.maximum(total[:, home], total[:, hangout])
        if p.place_choice:  # the hangout's neighbours may be chosen too
            for nb in city.neighbours[hangout].T:
                best = np.maximum(best, np.where(nb >= 0, total[:, np.maximum(nb, 0)], 0.0))
        best_rate = self._lambda * best
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
        self._out = np.zeros((OUT_ROWS, len(self.offenders)), dtype=np.int64)
        draw_keys = np.stack([event_keys(seed, name, np.arange(len(self.offenders))) for name in DRAWS])
        # The kernel's inputs that are fixed objects (changed in place only), as plain tuples.
        self._offender_arrays = OffenderArrays(
            free_at=np.zeros(len(self.offenders), dtype=np.int64),
            propensity=np.ones(len(self.offenders)) if propensity is None else propensity,
            best_rate=best_rate, home=home, hangout=hangout, draw_keys=draw_keys)
        self._offenders_tuple = tuple(self._offender_arrays)
        self._places = tuple(Places(
            cell_state=self._cell_state, neighbours=city.neighbours, cell_start=residents.cell_start,
            victimisations=residents.victimisations, last_victimised=residents.last_victimised,
            cell_last_victim=np.full(n, -1, dtype=np.int64)))
        self._constants = tuple(OffendingConstants(
            base_rate=self._lambda, risk_sensitivity=p.risk_sensitivity, presence_risk=p.presence_risk,
            # With cameras by type, their deterrence acts on each type's opportunity, not on risk.
            camera_risk=0.0 if self._camera_by_type else self._camera_risk,
            patrol_guard=p.patrol_guard, post_guard=p.post_guard,
            displacement_prob=p.displacement_prob, near_repeat_boost=p.near_repeat_boost,
            near_repeat_spread=p.near_repeat_spread, near_repeat_max=p.near_repeat_max,
            homicide_share=p.homicide_share, serious_assault_share=p.serious_assault_share,
            camera_by_type=self._camera_by_type, type_camera_risk=p.camera_deterrence * p.camera_awareness,
            place_choice=p.place_choice, place_beta=p.place_choice_risk_sensitivity,
            repeat_victim_share=p.repeat_victim_share))
        self._weekly = tuple(WeeklyTables(
            total_opportunity=self._total_opportunity, opportunity=self._opportunity_by_hour,
            home_guard=self._home_guard, street_guard=self._street_guard, hangout_share=self._hangout_share))
        #: Skip offenders whose attempt draw is above a cheap upper bound of their hazard. Switching
        #: it off (every free offender takes the exact test) gives the same offences, more slowly.
        self.bound_candidates = True

    @property
    def home(self) -> np.ndarray:
        """Home cell per offender."""
        return self._offender_arrays.home

    @property
    def hangout(self) -> np.ndarray:
        """Daytime hangout cell per offender."""
        return self._offender_arrays.hangout

    @property
    def free_at(self) -> np.ndarray:
        """Hour each offender is free again (held after an arrest until then); change it in place."""
        return self._offender_arrays.free_at

    @property
    def propensity(self) -> np.ndarray:
        """Offending propensity per offender (the ``offender_propensity`` lever: changed in place)."""
        return self._offender_arrays.propensity

    @property
    def near_repeat(self) -> np.ndarray:
        """Near-repeat boost per cell (relative hazard added after nearby offences)."""
        return self._cell_state[NEAR_REPEAT]

    @near_repeat.setter
    def near_repeat(self, value) -> None:
        self._cell_state[NEAR_REPEAT] = value

    @property
    def arrest_risk(self) -> np.ndarray:
        """Perceived risk per cell from recent arrests there and nearby."""
        return self._cell_state[ARREST_RISK]

    @arrest_risk.setter
    def arrest_risk(self, value) -> None:
        self._cell_state[ARREST_RISK] = value

    @property
    def presence_memory(self) -> np.ndarray:
        """Remembered police presence per cell (unit-hours, decayed)."""
        return self._cell_state[PRESENCE_MEMORY]

    @presence_memory.setter
    def presence_memory(self, value) -> None:
        self._cell_state[PRESENCE_MEMORY] = value

    def opportunity(self, hour_of_week, cells) -> np.ndarray:
        """Relative opportunity per crime type: shape (types, cells), or (hours, types, cells) for an
        array of hours of the week. ``cells=None`` means every cell.

        The type's share × its land use's opportunity × its hour-of-day profile; burglary scales
        with the share of homes empty (an empty home offers :data:`_VACANCY_OPPORTUNITY` times
        the opportunity), theft, robbery and assault with crowding (people present per resident,
        capped at ``CrimeParams.crowding_cap``).
        """
        h = np.asarray(hour_of_week)
        if h.ndim == 0:
            return self.opportunity(h[None], cells)[0]
        cols = slice(None) if cells is None else cells
        hours = self._hours[:, h % 24].T[:, :, None]  # (hours, types, 1)
        out = self._static[:, cols][None] * hours
        out[:, BURGLARY] *= _VACANCY_OPPORTUNITY * self._vacancy[h][:, cols]
        out[:, [THEFT, ROBBERY, ASSAULT]] *= np.minimum(self._dens[h][:, cols], self.p.crowding_cap)[:, None]
        return out

    def perceived_risk(self, cells: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        """Risk an offender perceives in ``cells`` (arrests, presence memory, cameras)."""
        return self._risk(self._cell_state[:, cells], cameras[cells])

    def _risk(self, cell_state: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        # Perceived risk from columns of _cell_state (some cells or all) and their camera coverage.
        # (With cameras by crime type, cameras act on each type's opportunity instead: no camera term.)
        camera_risk = 0.0 if self._camera_by_type else self._camera_risk
        return perceived_risk(cell_state[ARREST_RISK], cell_state[PRESENCE_MEMORY], cameras, self.p.presence_risk,
                              camera_risk)

    def decay(self, patrol_presence: np.ndarray, posts: np.ndarray) -> None:
        """Advance near-repeat, arrest deterrence and presence memory by one hour."""
        decay_cell_state(self._cell_state, self._decay_per_hour, patrol_presence, posts)

    def step(self, hour: int, hour_of_week: int, state) -> Offences:
        """Offences committed in the hour ``hour`` (counted from the start of the run).

        Args:
            hour: Absolute hour of the run, the time coordinate of counter-based draws.
            hour_of_week: Row of the weekly presence tables.
            state: The levers, read by attribute name: ``patrol_presence``, ``posts``,
                ``extra_guardians``, ``type_guardians``, ``cameras`` and ``type_deterrence``
                (the model, or any object with them). Offending only reads them.

        Returns:
            The hour's offences, with the attempts guardians blocked and displaced
            (``attempts_blocked``, ``attempts_displaced``) for the caller to record.
        """
        # One uniform per offender every call, whatever happens (aligned across scenarios): the
        # stream's next numbers, drawn for several calls at once (rows in call order).
        if self._attempt_row == len(self._attempts):
            self._attempts = self._attempt_rng.random((_ATTEMPT_BLOCK, len(self.offenders)))
            self._attempt_row = 0
        u_attempt = self._attempts[self._attempt_row]
        self._attempt_row += 1
        out = self._out
        k, first_blocked, n_blocked, n_moved = offend_hour(
            hour, hour_of_week, u_attempt, self._offenders_tuple, self._weekly, self._places,
            (state.cameras, state.patrol_presence, state.posts, state.extra_guardians, state.type_guardians,
             self._deterrence(state.type_deterrence)),
            self._sens, self._type_weights, self._constants, self.bound_candidates, out)
        # Blocked at first: first_blocked; of them, n_blocked still blocked after n_moved moved next door.
        if k == 0:  # most hours
            return _EMPTY if first_blocked == 0 else Offences(*_EMPTY_ARRAYS, n_blocked, n_moved)
        cand = out[OUT_SLOT, :k].copy()
        return Offences(self.offenders[cand], cand, out[OUT_CELL, :k].copy(), out[OUT_TYPE, :k].copy(),
                        out[OUT_DISPLACED, :k] == 1, out[OUT_SERIOUS, :k] == 1, out[OUT_HOMICIDE, :k] == 1,
                        out[OUT_VICTIM, :k].copy(), n_blocked, n_moved, out[OUT_PRIOR, :k].copy())

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
        add_near(self._cell_state[ARREST_RISK], cells, self.city.neighbours, p.arrest_risk, p.near_repeat_spread)



def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


#: The arrays of an hour without offences, shared (read-only; callers only read them).
_EMPTY_ARRAYS = tuple(_read_only(np.zeros(0, dtype=t)) for t in (np.int64,) * 4 + (bool,) * 3 + (np.int64,))
#: The result of an hour without offences or blocked attempts, shared.
_EMPTY = Offences(*_EMPTY_ARRAYS)
