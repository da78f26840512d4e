"""The dispute book: every dispute (矛盾纠纷) of a run, how it arises, escalates, is found and ends — exactly once.

Households generate disputes by type — neighbour (邻里), family (婚姻家庭), property and
parking (物业/停车), wage arrears (欠薪) and land (土地) — at rates that depend on land use
and on special-population members in the household. A live dispute climbs the stages
minor → conflict → call for service → violence, each step a daily hazard, and may lapse
on its own at each stage. Discovery (grid workers, home visits, joint screening) and
handling (on-the-spot settlement, governance tickets, mediation, police at the scene)
intercept it. Every dispute ends exactly once: settled, lapsed, or escalated to violence.

Disputes are rows of a growable structure of arrays. Each has a stable ``uid`` (the day it
arose and its rank that day; for a broken agreement that re-enters, a uid derived from its
parent's and its count of re-entries), so its random draws are the same in every scenario.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

import numpy as np
from pydantic import Field

from sim.params import Params, Probability
from sim.rng import event_uniform, event_uniforms, stream

__all__ = ["DISPUTE_TYPES", "Stage", "Outcome", "Resolver", "DisputeParams", "DisputeBook"]

DISPUTE_TYPES: tuple[str, ...] = ("neighbour", "family", "property_parking", "wage_arrears", "land")
_LAND_USES = ("urban_core", "commercial", "residential", "industrial", "town", "village")
#: Most new disputes of one type per 1 000 households per year (see ``per_1000_households_year``).
MAX_DISPUTES_PER_1000_HOUSEHOLDS = 1_000
#: A rate of new disputes [per 1 000 households per year], bounded by what a household can have.
DisputeRate = Annotated[float, Field(ge=0, le=MAX_DISPUTES_PER_1000_HOUSEHOLDS)]


class Stage(IntEnum):
    """Escalation stages."""

    MINOR = 0
    CONFLICT = 1
    CALL = 2
    VIOLENCE = 3


class Outcome(IntEnum):
    """How a dispute ended (ACTIVE while it has not)."""

    ACTIVE = 0
    SETTLED = 1
    LAPSED = 2
    VIOLENCE = 3


class Resolver(IntEnum):
    """Who settled a dispute."""

    NONE = 0
    ON_THE_SPOT = 1  # a grid worker, during the visit (auxiliary police count as POLICE)
    MEDIATION = 2  # people's, judicial-office or court mediation
    POLICE = 3  # police-accompanied mediation (随警调解) or a home visit
    GOVERNANCE = 4  # a governance centre's own disposal


class DisputeParams(Params):
    """How often disputes arise and how they escalate (all assumed; the sensitive ones calibrated,
    :mod:`sim.calibration`)."""

    per_1000_households_year: dict[str, DisputeRate] = Field(
        default={"neighbour": 20.0, "family": 20.0, "property_parking": 10.0, "wage_arrears": 6.0,
                 "land": 10.0},
        description="New disputes per 1 000 households per year at land-use multiplier 1 (assumed; "
        "Daqing screened and resolved 34 991 in a year for ~1 M households, 002_5234f462d53c6514.txt). At "
        f"most {MAX_DISPUTES_PER_1000_HOUSEHOLDS:,} of a type: one a year in every household, thirty times "
        "Daqing's rate of all types; every dispute is a row of the run's dispute book.",
    )
    land_use_multiplier: dict[str, dict[str, float]] = Field(
        default={
            "neighbour": {"urban_core": 1.2, "commercial": 1.0, "residential": 1.3, "industrial": 0.6,
                          "town": 1.0, "village": 0.8},
            "family": {k: 1.0 for k in _LAND_USES},
            "property_parking": {"urban_core": 1.5, "commercial": 1.2, "residential": 1.8,
                                 "industrial": 0.5, "town": 0.8, "village": 0.2},
            "wage_arrears": {"urban_core": 0.8, "commercial": 1.0, "residential": 0.6, "industrial": 4.0,
                             "town": 1.2, "village": 0.8},
            "land": {"urban_core": 0.05, "commercial": 0.05, "residential": 0.1, "industrial": 0.3,
                     "town": 0.8, "village": 3.0},
        },
        description="Relative dispute rate by type and land use (assumed).",
    )
    special_population_multiplier: float = Field(
        2.5, ge=0, description="Dispute rate of a household with a special-population member, "
        "relative to others (assumed)."
    )
    escalation_per_day: list[Probability] = Field(
        default=[0.012, 0.010, 0.004], min_length=3, max_length=3,
        description="Daily hazard of climbing from minor→conflict, conflict→call, call→violence (assumed; "
        "a chance per day, in [0, 1]).",
    )
    lapse_per_day: list[Probability] = Field(
        default=[0.025, 0.012, 0.02], min_length=3, max_length=3,
        description="Daily hazard of a dispute fading by itself at minor, conflict, call (assumed; a chance "
        "per day, in [0, 1]).",
    )
    in_handling_escalation_factor: float = Field(
        0.3, ge=0, le=1, description="Escalation hazard while a dispute is being handled (ticket or "
        "mediation under way), relative to an unhandled one (assumed)."
    )
    violence_serious_share: float = Field(
        0.06, ge=0, le=1, description="Share of dispute violence that is serious (八类) (assumed)."
    )
    violence_homicide_share: float = Field(
        0.004, ge=0, le=1, description="Share of dispute violence that ends in death (assumed)."
    )
    reentry_delay_days: float = Field(
        30.0, gt=0, description="Mean days before a broken agreement flares up again (assumed)."
    )


_GROW = 4096
# Plain ints for comparisons with the int8 arrays: numpy compares against an IntEnum member
# some ten times more slowly than against an int (same result).
_ACTIVE = int(Outcome.ACTIVE)
_CALL, _VIOLENCE = int(Stage.CALL), int(Stage.VIOLENCE)
# First uid of the disputes live when a run starts (DisputeBook.add_standing): above every
# day × 10 000 000 + rank of a run, and × 8 (a re-entry's uid) still below 2**62; each stage
# has its own range of 2**40.
_STANDING_UID = 1 << 58
_STANDING_STAGE_BITS = 40


class DisputeBook:
    """Every dispute of a run, live or ended.

    Args:
        params: Dispute parameters.
        city: The city.
        residents: The residents (households, special populations).
        seed: The run's seed.
    """

    def __init__(self, params: DisputeParams, city, residents, seed: int):
        self.p = params
        self.city = city
        self.seed = seed
        self._rng = stream(seed, "disputes.new")
        self.n = 0
        self.uid = np.zeros(_GROW, dtype=np.uint64)
        self.household = np.zeros(_GROW, dtype=np.int64)
        self.cell = np.zeros(_GROW, dtype=np.int64)
        self.kind = np.zeros(_GROW, dtype=np.int8)
        self.stage = np.zeros(_GROW, dtype=np.int8)
        self.outcome = np.zeros(_GROW, dtype=np.int8)
        self.resolver = np.zeros(_GROW, dtype=np.int8)
        self.found = np.zeros(_GROW, dtype=bool)
        self.handling = np.zeros(_GROW, dtype=bool)
        self.start_day = np.zeros(_GROW, dtype=np.int32)
        self.end_day = np.full(_GROW, -1, dtype=np.int32)
        self.reentries = np.zeros(_GROW, dtype=np.int16)
        self._pending_reentry: list[tuple[int, int]] = []  # (day due, parent row)

        # Expected new disputes per cell and type per day.
        hh = city.households.astype(float)
        special_hh = np.zeros(int(residents.household.max()) + 1, dtype=bool)
        special_hh[residents.household[residents.special > 0]] = True
        hh_first = np.concatenate([[0], np.cumsum(city.households)[:-1]])
        special_per_cell = np.add.reduceat(special_hh[: int(city.households.sum())].astype(float),
                                           hh_first) if len(hh_first) else np.zeros(0)
        special_per_cell[city.households == 0] = 0
        weight = hh + (params.special_population_multiplier - 1) * special_per_cell
        lu = np.array([[params.land_use_multiplier.get(t, {}).get(u, 1.0) for u in _LAND_USES]
                       for t in DISPUTE_TYPES])[:, city.land_use]
        rate = np.array([params.per_1000_households_year.get(t, 0.0) for t in DISPUTE_TYPES])
        self._expected = (rate[:, None] * lu * weight[None, :] / 1000.0 / 365.0).T  # cells × types
        self._hh_first = hh_first
        self.special_household = special_hh
        # Households with a special-population member are picked m times as often as others:
        # with probability (m−1)S/(H+(m−1)S) a uniform special household, else any household.
        m = params.special_population_multiplier
        specials = np.flatnonzero(special_hh[: int(city.households.sum())])
        self._special_sorted = specials
        owner = np.searchsorted(hh_first, specials, side="right") - 1
        self._special_start = np.searchsorted(owner, np.arange(city.n_cells), side="left")
        self._special_count = np.bincount(owner, minlength=city.n_cells)
        s_c, h_c = self._special_count.astype(float), hh.astype(float)
        self._p_special = np.where(h_c > 0, np.maximum(m - 1, 0) * s_c / np.maximum(h_c + (m - 1) * s_c, 1e-12), 0.0)

    def _pick_households(self, cells: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A household in each cell, special-population households weighted by the multiplier."""
        hh_n = self.city.households[cells]
        p_s = self._p_special[cells]
        special = u < p_s
        v = np.where(special, u / np.maximum(p_s, 1e-12), (u - p_s) / np.maximum(1 - p_s, 1e-12))
        anyone = self._hh_first[cells] + np.minimum((v * hh_n).astype(np.int64), np.maximum(hh_n - 1, 0))
        k = self._special_count[cells]
        idx = self._special_start[cells] + np.minimum((v * k).astype(np.int64), np.maximum(k - 1, 0))
        return np.where(special & (k > 0), self._special_sorted[np.minimum(idx, max(len(self._special_sorted) - 1, 0))],
                        anyone)

    # ---------------------------------------------------------------- storage
    def _append(self, k: int) -> np.ndarray:
        if self.n + k > len(self.uid):
            size = max(len(self.uid) * 2, self.n + k + _GROW)
            for name in ("uid", "household", "cell", "kind", "stage", "outcome", "resolver", "found",
                         "handling", "start_day", "end_day", "reentries"):
                old = getattr(self, name)
                new = np.full(size, -1 if name == "end_day" else 0, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        rows = np.arange(self.n, self.n + k)
        self.n += k
        return rows

    def active(self) -> np.ndarray:
        """Rows of live disputes."""
        return np.flatnonzero(self.outcome[: self.n] == _ACTIVE)

    # -------------------------------------------------------------- each day
    def arise(self, day: int, household_weight: np.ndarray | None = None) -> np.ndarray:
        """New disputes of ``day`` (and broken agreements due today); returns their rows."""
        counts = self._rng.poisson(self._expected)  # fixed-size draw: aligned across scenarios
        total = int(counts.sum())
        cells, kinds = np.nonzero(counts)
        reps = counts[cells, kinds]
        cells, kinds = np.repeat(cells, reps), np.repeat(kinds, reps)
        u = self._rng.random(total)
        uid = np.uint64(day) * np.uint64(10_000_000) + np.arange(total, dtype=np.uint64)
        household = self._pick_households(cells, u)
        if household_weight is not None and total:
            # Thinning: households under management (special-population contact) have fewer.
            keep = event_uniforms(self.seed, "disputes.managed", uid) < household_weight[household]
            uid, household, cells, kinds = uid[keep], household[keep], cells[keep], kinds[keep]
        rows = self._append(len(uid))
        self.uid[rows] = uid
        self.household[rows] = household
        self.cell[rows] = cells
        self.kind[rows] = kinds
        self._start(rows, day)
        due = [r for d, r in self._pending_reentry if d <= day]
        self._pending_reentry = [(d, r) for d, r in self._pending_reentry if d > day]
        if due:
            parents = np.array(due, dtype=np.int64)
            again = self._append(len(parents))
            for name in ("household", "cell", "kind"):
                getattr(self, name)[again] = getattr(self, name)[parents]
            self.reentries[again] = self.reentries[parents] + 1
            self.uid[again] = (np.uint64(1) << np.uint64(62)) + self.uid[parents] * np.uint64(8) + \
                self.reentries[again].astype(np.uint64)
            self._start(again, day)
            self.stage[again] = Stage.CONFLICT  # a broken agreement flares up as a conflict
            rows = np.concatenate([rows, again])
        return rows

    def stationary_stage_means(self) -> np.ndarray:
        """Expected live disputes per cell, type and stage in the steady state of the book alone.

        The state the book settles into when disputes only arise, escalate and lapse (nothing
        finds or handles them: a run before any intervention starts), seen at midnight before the
        day's disputes arise. Disputes arise as a Poisson stream and move through the stages
        independently of each other, so the number at each stage is Poisson with mean
        ``rate × (days expected at that stage per dispute that arises)`` (an M/G/∞ queue). Each
        day a dispute at stage k climbs with chance ``e_k = 1 − exp(−escalation_k)`` and lapses
        with ``l_k = 1 − exp(−lapse_k)`` (:meth:`escalate`), stays with ``s_k = 1 − e_k − l_k``;
        one that arose on an earlier day is seen at the minor stage ``s_0 / (1 − s_0)`` times on
        average, and one that climbs into stage k is seen ``1 / (1 − s_k)`` times. A stage nothing
        leaves (both hazards 0) has no steady state: it, and the stages after it, start empty.

        Returns:
            Array (cells, types, 3): minor, conflict and call stage.
        """
        p = self.p
        climb = 1 - np.exp(-np.asarray(p.escalation_per_day, dtype=float))
        lapse = np.minimum(1 - np.exp(-np.asarray(p.lapse_per_day, dtype=float)), 1 - climb)
        leave = climb + lapse
        seen = np.zeros(3)
        if leave[0] > 0:
            seen[0] = (1 - leave[0]) / leave[0]  # arose on an earlier day, still minor
        reach = 1.0
        for k in (1, 2):
            reach = reach * climb[k - 1] / leave[k - 1] if leave[k - 1] > 0 else 0.0  # share that ever reach k
            seen[k] = reach / leave[k] if leave[k] > 0 else 0.0
        return self._expected[:, :, None] * seen[None, None, :]

    def add_standing(self, day: int) -> np.ndarray:
        """Disputes already live when the run starts, drawn from :meth:`stationary_stage_means`.

        Without them every run starts with no disputes, and the stock of live disputes — with the
        dispute calls and violence it feeds — fills over the first months (minor disputes live
        ~27 days, conflicts ~46 and calls ~42 at the default hazards), well past a few weeks of
        warm-up. Disputes at the call stage have had their call, so police have found them.
        The draws come from their own streams, so the disputes that arise later are unchanged.

        Args:
            day: The run's first day (standing disputes get ``start_day = day − 1``).

        Returns:
            Their rows.
        """
        means = self.stationary_stage_means()  # (cells, types, stages)
        added = []
        for stage in range(means.shape[2]):
            # Each stage from its own stream and uid range: a hazard of a later stage changes that
            # stage's stock only, and the same disputes stand at the earlier ones.
            rng = stream(self.seed, f"disputes.standing.{Stage(stage).name.lower()}")
            counts = rng.poisson(means[:, :, stage])
            cells, kinds = np.nonzero(counts)
            reps = counts[cells, kinds]
            cells, kinds = np.repeat(cells, reps), np.repeat(kinds, reps)
            rows = self._append(len(cells))
            self.uid[rows] = np.uint64(_STANDING_UID + (stage << _STANDING_STAGE_BITS)) + \
                np.arange(len(rows), dtype=np.uint64)
            self.household[rows] = self._pick_households(cells, rng.random(len(cells)))
            self.cell[rows] = cells
            self.kind[rows] = kinds
            self._start(rows, day - 1)
            self.stage[rows] = stage
            self.found[rows] = stage == _CALL
            added.append(rows)
        return np.concatenate(added)

    def _start(self, rows: np.ndarray, day: int) -> None:
        self.stage[rows] = Stage.MINOR
        self.outcome[rows] = Outcome.ACTIVE
        self.resolver[rows] = Resolver.NONE
        self.found[rows] = False
        self.handling[rows] = False
        self.start_day[rows] = day
        self.end_day[rows] = -1

    def escalate(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Advance every live dispute by one day.

        Returns:
            ``(to_call, to_violence)``: rows that reached the call stage or violence today.
        """
        p = self.p
        rows = self.active()
        if len(rows) == 0:
            e = np.zeros(0, dtype=np.int64)
            return e, e
        stage = self.stage[rows].astype(np.int64)
        esc = np.asarray(p.escalation_per_day)[stage]
        esc = np.where(self.handling[rows], esc * p.in_handling_escalation_factor, esc)
        lapse = np.asarray(p.lapse_per_day)[stage]
        p_esc = 1 - np.exp(-esc)
        p_lapse = 1 - np.exp(-lapse)
        u = event_uniforms(self.seed, "disputes.escalate", self.uid[rows], day)
        up = u < p_esc
        fade = ~up & (u < p_esc + p_lapse)
        self.end(rows[fade], Outcome.LAPSED, day)
        climbed = rows[up]
        self.stage[climbed] += 1
        new_stage = self.stage[climbed]
        to_violence = climbed[new_stage == _VIOLENCE]
        self.end(to_violence, Outcome.VIOLENCE, day)
        return climbed[new_stage == _CALL], to_violence

    def discover(self, day: int, hazard_per_cell: np.ndarray, source: str = "") -> np.ndarray:
        """Live, not yet found disputes found today by one source; returns their rows."""
        rows = self.active()
        rows = rows[~self.found[rows]]
        if len(rows) == 0 or not hazard_per_cell.any():
            return np.zeros(0, dtype=np.int64)
        p = 1 - np.exp(-hazard_per_cell[self.cell[rows]])
        hit = rows[event_uniforms(self.seed, f"disputes.discover.{source}", self.uid[rows], day) < p]
        self.found[hit] = True
        return hit

    # ----------------------------------------------------------------- ending
    def end(self, rows: np.ndarray | int, outcome: Outcome, day: int, resolver: Resolver = Resolver.NONE) -> None:
        """End disputes (rows, or one row as an int). Ending one that has already ended is a bug and raises."""
        if isinstance(rows, int):  # one dispute (settlements, many a day): no arrays to build
            if self.outcome[rows] != _ACTIVE:
                raise RuntimeError("a dispute was ended twice")
        else:
            rows = np.asarray(rows, dtype=np.int64)
            if len(rows) == 0:
                return
            # Rows from a mask are increasing, hence distinct: sort for duplicates only otherwise.
            distinct = len(rows) < 2 or (rows[1:] > rows[:-1]).all() or len(np.unique(rows)) == len(rows)
            if (self.outcome[rows] != _ACTIVE).any() or not distinct:
                raise RuntimeError("a dispute was ended twice")
        self.outcome[rows] = outcome
        self.end_day[rows] = day
        self.resolver[rows] = resolver
        self.handling[rows] = False

    def settle(self, row: int, day: int, resolver: Resolver, honoured: bool) -> None:
        """Settle a dispute; a broken agreement re-enters as a new dispute later."""
        self.end(int(row), Outcome.SETTLED, day, resolver)
        if not honoured:
            u = event_uniform(self.seed, "disputes.reentry", int(self.uid[row]))
            delay = -np.log1p(-min(u, 1 - 1e-12)) * self.p.reentry_delay_days
            self._pending_reentry.append((day + 1 + int(delay), row))

    def is_active(self, row: int) -> bool:
        return self.outcome[row] == _ACTIVE

    def counts(self) -> dict[str, int]:
        """Disputes by outcome (for checks: every dispute is in exactly one)."""
        out = self.outcome[: self.n]
        return {o.name.lower(): int((out == o).sum()) for o in Outcome}
