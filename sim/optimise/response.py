"""Where dispatch bases cut response times: the expected response of the nearest free patrol unit.

The classical location models (:mod:`sim.optimise.location`) assume that a call is answered from the
nearest site, by a unit that is always there and always free. Dispatch bases in the simulation work
differently (:mod:`sim.agents.patrol`, :mod:`sim.events.dispatch`): a base's units patrol a beat
around it (a share of moves towards the beat's hot spots, the rest anywhere in it), a call goes to
the nearest *free* unit of its county *from where that unit is*, and units are busy on other calls
part of the time. Sites chosen for the classical models therefore need not shorten simulated
responses: they ignore that the police stations' units already patrol their whole jurisdiction and
that a new base's unit is rarely at its base.

This module scores a set of sites the way dispatch answers calls, and chooses sites for it:

* **where units are** — each unit, when free, is in cell ``b`` of its beat with probability
  ``(1 − h)/|beat| + h × heat_b / Σ heat`` (``h`` the hot-spot share of patrol moves, ``heat`` the
  baseline's recorded offences plus public-order calls per cell: what the patrol's hot-spot map
  counts) — :func:`patrol_where`;
* **how often they are busy** — each unit is busy with its own probability (the share of the
  baseline run it spent on calls), independently of the others, as in the maximal expected covering
  model (Daskin 1983) but per unit; units added to a county take part of its workload, so every
  unit's busy share there falls in proportion (an a-priori estimate, as Daskin's);
* **how far dispatch drives** — lattice steps from the unit's cell to the call's, in minutes as
  :func:`sim.events.dispatch.travel_minutes` gives them (turnout, half a cell, detour, the
  destination's speed), a call being answered by units of its own county only.

For demand cell ``i`` the response is ``M_i``, the travel time of the nearest free unit; with
independent units ``P(M_i > k) = Π_u (q_u + (1 − q_u) P(T_ui > k))`` over lattice steps ``k``,
which gives both objectives exactly:

* ``p_median``: the least demand-weighted expected response ``Σ_i w_i E[M_i]`` [minutes] — the
  p-median objective (Hakimi 1964) with busy, patrolling units (cf. Berman, Larson & Chiu 1985);
* ``mclp``: the most demand expected to be reached within the response standard,
  ``Σ_i w_i P(M_i ≤ standard)`` — maximal covering (Church & ReVelle 1974) with busy units
  (maximal expected covering, Daskin 1983).

A call that finds every unit of its county busy is counted one step beyond the longest drive on
the map to its county's calls (the model does not queue). Both objectives' benefits are monotone
and submodular in the set of sites, so sites are chosen greedily (the site that helps most, ``p``
times), then improved by swaps (Teitz & Bart 1968) until no single swap helps. The answer's bound
is the data-dependent bound of submodular maximisation (Nemhauser, Wolsey & Fisher 1978): the best
possible benefit is at most the answer's plus the ``p`` largest gains any further site would bring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from sim.agents.patrol import HOTSPOT_FLOOR
from sim.events.dispatch import DispatchParams, destination_speed_kmh, travel_minutes
from sim.optimise.location import Siting

__all__ = ["Travel", "Units", "patrol_where", "expected_response", "site_dispatch_bases", "OBJECTIVES"]

#: The objectives: ``p_median`` (least expected response) and ``mclp`` (most demand within the standard).
OBJECTIVES = ("p_median", "mclp")
#: Most passes of swaps over the chosen sites (each pass tries to replace every site once).
MAX_SWAP_PASSES = 20
#: A swap must improve the objective by more than this share of it (float noise is not an improvement).
_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Travel:
    """Dispatch's travel time to each cell: ``offset_min + step_min × lattice steps`` (see :func:`travel_minutes`).

    Attributes:
        ix, iy: Lattice coordinates of every cell.
        county: County of every cell (units answer calls in their own county).
        offset_min: Minutes to a cell from its own cell: turnout and half a cell's drive.
        step_min: Minutes per lattice step towards the cell (its speed).
        turnout_min: Minutes from dispatch to moving.
    """

    ix: np.ndarray
    iy: np.ndarray
    county: np.ndarray
    offset_min: np.ndarray
    step_min: np.ndarray
    turnout_min: float

    @classmethod
    def of(cls, city, dispatch: DispatchParams) -> Travel:
        """The travel times of ``city`` under ``dispatch``'s speeds, detour and turnout."""
        speed = destination_speed_kmh(city, dispatch)
        args = (city.cell_size_km, dispatch.turnout_min, dispatch.detour_factor, speed)
        offset = travel_minutes(0, *args)
        return cls(np.asarray(city.ix, np.int64), np.asarray(city.iy, np.int64), np.asarray(city.county, np.int64),
                   offset, travel_minutes(1, *args) - offset, float(dispatch.turnout_min))

    def steps(self, to_cells: np.ndarray, from_cells: np.ndarray) -> np.ndarray:
        """Lattice steps from each of ``from_cells`` (columns) to each of ``to_cells`` (rows)."""
        return (np.abs(self.ix[to_cells][:, None] - self.ix[from_cells][None, :])
                + np.abs(self.iy[to_cells][:, None] - self.iy[from_cells][None, :])).astype(np.int32)

    def longest_steps(self, cells: np.ndarray) -> int:
        """The most lattice steps from any cell of the map to any of ``cells``."""
        s, t = self.ix + self.iy, self.ix - self.iy
        sc, tc = s[cells], t[cells]
        return int(max((s.max() - sc).max(), (sc - s.min()).max(), (t.max() - tc).max(), (tc - t.min()).max()))

    def steps_within(self, cells: np.ndarray, minutes: float) -> np.ndarray:
        """The most lattice steps from which a unit reaches each of ``cells`` within ``minutes`` (−1: none)."""
        off, step = self.offset_min[cells], self.step_min[cells]
        k = np.floor((minutes - off) / step).astype(np.int64)
        k = np.where(off + k * step > minutes, k - 1, k)  # float noise at the boundary: keep it within
        return np.maximum(k, -1)


@dataclass(frozen=True)
class Units:
    """Patrol units as the model sees them.

    Attributes:
        county: County of each unit (it answers calls there only).
        where: Units × cells: the chance each free unit is in each cell (rows sum to 1).
        busy: Chance each unit is busy on another call when a call comes.
    """

    county: np.ndarray
    where: sparse.csr_matrix
    busy: np.ndarray

    def __post_init__(self):
        n = len(self.county)
        if self.where.shape[0] != n or len(self.busy) != n:
            raise ValueError(f"units disagree: {n} counties, {self.where.shape[0]} rows of where, "
                             f"{len(self.busy)} busy shares")
        if ((self.busy < 0) | (self.busy > 1)).any():
            raise ValueError("busy shares must lie in [0, 1]")


def patrol_where(n_cells: int, beats: list[np.ndarray], heat: np.ndarray, hotspot_share: float) -> sparse.csr_matrix:
    """Where a free unit patrolling each beat is: the hot-spot move's and the uniform move's cells, mixed.

    Mirrors :meth:`sim.agents.patrol.PatrolFleet.reposition`: a move goes to a beat cell weighted by
    its heat (plus :data:`~sim.agents.patrol.HOTSPOT_FLOOR`) with probability ``hotspot_share``,
    otherwise to a beat cell drawn uniformly.

    Args:
        n_cells: Cells of the city.
        beats: The cells of each unit's beat.
        heat: Mean heat of each cell (recorded offences and public-order calls).
        hotspot_share: Share of patrol moves directed at hot spots.

    Returns:
        Units × cells, each row a probability distribution over its beat.
    """
    rows, cols, vals = [], [], []
    for u, beat in enumerate(beats):
        beat = np.asarray(beat, dtype=np.int64)
        h = np.asarray(heat, dtype=float)[beat] + HOTSPOT_FLOOR
        rows.append(np.full(len(beat), u))
        cols.append(beat)
        vals.append((1.0 - hotspot_share) / len(beat) + hotspot_share * h / h.sum())
    if not beats:
        return sparse.csr_matrix((0, n_cells))
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(len(beats), n_cells))


class _County:
    """One county's demand cells, the cells its units can be in, and P(M > k) for its demand cells."""

    def __init__(self, travel: Travel, rows: np.ndarray, weights: np.ndarray, cols: np.ndarray, standard_min: float,
                 objective: str):
        self.rows, self.cols = rows, cols
        self.steps = travel.steps(rows, cols)  # demand rows × possible unit cells
        self.k_max = travel.longest_steps(rows) + 1  # a call no unit can take counts as this many steps
        self.w = weights[rows]
        self.w_min = self.w * travel.step_min[rows]  # demand × minutes per step
        self.offset = float(self.w @ travel.offset_min[rows])
        self.within = np.minimum(travel.steps_within(rows, standard_min), self.k_max - 1)
        self.objective = objective
        self.survival = np.ones((len(rows), self.k_max))  # P(M > k), k = 0 .. k_max − 1

    def factor(self, where: np.ndarray, busy: float, units: int) -> np.ndarray:
        """P(a site's units are all busy or farther than k), for each demand row and k.

        ``where`` is the units' position distribution over :attr:`cols`.
        """
        cdf = np.zeros_like(self.survival)
        support = np.flatnonzero(where)
        idx = self.steps[:, support]
        np.add.at(cdf, (np.repeat(np.arange(len(self.rows)), len(support)), idx.ravel()),
                  np.tile(where[support], len(self.rows)))
        np.cumsum(cdf, axis=1, out=cdf)
        return (busy + (1.0 - busy) * (1.0 - np.minimum(cdf, 1.0))) ** units

    def value(self, survival: np.ndarray | None = None) -> float:
        """The county's objective: demand-weighted expected minutes, or expected demand within the standard."""
        s = self.survival if survival is None else survival
        if self.objective == "p_median":
            return self.offset + float(self.w_min @ s.sum(axis=1))
        inside = self.within >= 0
        return float(self.w[inside] @ (1.0 - s[inside, self.within[inside]]))

    def field(self, survival: np.ndarray | None = None) -> np.ndarray:
        """What one always-free unit in each of :attr:`cols` would add to the objective's benefit.

        ``p_median``: the minutes it saves, ``Σ_i w_i Σ_{k ≥ d(b, i)} P(M_i > k)`` (times the minutes per
        step); ``mclp``: the demand it brings within the standard, ``Σ_i w_i P(M_i > k*_i) [d(b, i) ≤ k*_i]``.
        """
        s = self.survival if survival is None else survival
        if self.objective == "p_median":
            tail = np.cumsum(s[:, ::-1], axis=1)[:, ::-1]  # Σ_{k ≥ d} P(M > k)
            return self.w_min @ np.take_along_axis(tail, self.steps, axis=1)
        inside = self.within >= 0
        open_demand = np.zeros(len(self.rows))
        open_demand[inside] = self.w[inside] * s[inside, self.within[inside]]
        return open_demand @ (self.steps <= self.within[:, None])


def expected_response(travel: Travel, weights: np.ndarray, fixed: Units, sites: Units,
                      objective: str = "p_median", standard_min: float = 10.0, units_per_site: int = 1) -> float:
    """The objective of ``fixed`` units plus ``sites``' units (see the module docstring).

    Args:
        travel: Dispatch's travel times.
        weights: Calls per cell.
        fixed: Units already in place.
        sites: Units of the new sites (each row: one site's ``units_per_site`` units).
        objective: ``"p_median"`` (demand-weighted expected minutes) or ``"mclp"`` (expected demand within
            ``standard_min`` minutes' response).
        standard_min: The response standard [minutes] (``mclp``).
        units_per_site: Units at each site.
    """
    model = _Model(travel, weights, fixed, sites, objective, standard_min, units_per_site)
    for j in range(sites.where.shape[0]):
        model.add(j)
    return model.total()


class _Model:
    def __init__(self, travel: Travel, weights: np.ndarray, fixed: Units, candidates: Units, objective: str,
                 standard_min: float, units_per_site: int):
        if objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {objective!r}; expected one of {OBJECTIVES}")
        w = np.asarray(weights, dtype=float)
        if len(w) != len(travel.county) or (w < 0).any():
            raise ValueError(f"weights: expected {len(travel.county)} non-negative values, got {len(w)}")
        self.objective, self.units_per_site, self.candidates = objective, int(units_per_site), candidates
        self.counties: dict[int, _County] = {}
        self.fixed_survival: dict[int, np.ndarray] = {}
        fixed_where, cand_where = fixed.where.tocsr(), candidates.where.tocsr()
        for c in np.unique(travel.county[w > 0]):
            rows = np.flatnonzero((w > 0) & (travel.county == c))
            mine_f, mine_c = np.flatnonzero(fixed.county == c), np.flatnonzero(candidates.county == c)
            cols = np.union1d(fixed_where[mine_f].indices, cand_where[mine_c].indices).astype(np.int64)
            county = _County(travel, rows, w, cols, standard_min, objective)
            col_of = {int(b): i for i, b in enumerate(cols)}
            for u in mine_f:
                county.survival *= county.factor(self._dense(fixed_where, u, col_of, len(cols)), float(fixed.busy[u]),
                                                 1)
            self.counties[int(c)] = county
            self.fixed_survival[int(c)] = county.survival.copy()
        # Candidates' position distributions over their county's columns, as one sparse matrix per county.
        self.cand_rows: dict[int, np.ndarray] = {}
        self.cand_where: dict[int, sparse.csr_matrix] = {}
        for c, county in self.counties.items():
            mine = np.flatnonzero(candidates.county == c)
            self.cand_rows[c] = mine
            lookup = np.full(len(travel.county), -1)
            lookup[county.cols] = np.arange(len(county.cols))
            sub = cand_where[mine].tocoo()
            self.cand_where[c] = sparse.csr_matrix((sub.data, (sub.row, lookup[sub.col])),
                                                   shape=(len(mine), len(county.cols)))
        self.chosen: list[int] = []
        self.factors: dict[int, np.ndarray] = {}

    @staticmethod
    def _dense(where: sparse.csr_matrix, row: int, col_of: dict[int, int], n: int) -> np.ndarray:
        out = np.zeros(n)
        start, end = where.indptr[row], where.indptr[row + 1]
        for b, v in zip(where.indices[start:end], where.data[start:end], strict=True):
            out[col_of[int(b)]] += v
        return out

    def _factor(self, j: int) -> np.ndarray:
        if j not in self.factors:
            c = int(self.candidates.county[j])
            k = int(np.searchsorted(self.cand_rows[c], j))
            where = self.cand_where[c][k].toarray().ravel()
            self.factors[j] = self.counties[c].factor(where, float(self.candidates.busy[j]), self.units_per_site)
        return self.factors[j]

    def add(self, j: int) -> None:
        c = int(self.candidates.county[j])
        if c in self.counties:  # a site in a county without demand changes nothing
            self.counties[c].survival *= self._factor(j)
        self.chosen.append(j)

    def survival_without(self, j: int) -> np.ndarray:
        c = int(self.candidates.county[j])
        s = self.fixed_survival[c].copy()
        for t in self.chosen:
            if t != j and int(self.candidates.county[t]) == c:
                s *= self._factor(t)
        return s

    def total(self) -> float:
        return sum(county.value() for county in self.counties.values())

    def gains(self, survival: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """Each candidate's first unit's benefit, given the current state (or ``survival`` for some counties).

        With one unit per site it is the site's exact benefit; with more, an under-estimate whose
        ``units_per_site`` multiple bounds the site's benefit from above (submodularity).
        """
        out = np.zeros(self.candidates.where.shape[0])
        for c, county in self.counties.items():
            rows = self.cand_rows[c]
            if len(rows):
                field = county.field(None if survival is None else survival.get(c))
                out[rows] = (1.0 - self.candidates.busy[rows]) * (self.cand_where[c] @ field)
        return out

    def better(self, new: float, old: float) -> bool:
        margin = _TOLERANCE * max(abs(old), 1.0)
        return new < old - margin if self.objective == "p_median" else new > old + margin


def site_dispatch_bases(travel: Travel, weights: np.ndarray, fixed: Units, candidates: np.ndarray, where: Units,
                        p: int, objective: str, standard_min: float, units_per_site: int = 1) -> Siting:
    """Choose ``p`` of ``candidates`` for new dispatch bases (see the module docstring).

    Args:
        travel: Dispatch's travel times.
        weights: Calls per cell (demand).
        fixed: Units already in place (the police stations', and bases placed before).
        candidates: The candidate cells.
        where: The units a base at each candidate would have (one row per candidate: its position
            distribution, county and busy share).
        p: Sites to place.
        objective: ``"p_median"`` or ``"mclp"``.
        standard_min: Response standard for ``mclp`` [minutes].
        units_per_site: Patrol units at each base.

    Returns:
        The sites (cells, in the order chosen), the objective (``p_median``: demand-weighted expected
        minutes; ``mclp``: expected calls within the standard), and its bound, method ``"greedy+swap"``.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if where.where.shape[0] != len(candidates):
        raise ValueError(f"{len(candidates)} candidates but {where.where.shape[0]} rows of where")
    if not 0 <= p <= len(candidates):
        raise ValueError(f"cannot place {p} sites on {len(candidates)} candidate cells")
    model = _Model(travel, weights, fixed, where, objective, standard_min, units_per_site)
    sign = -1.0 if objective == "p_median" else 1.0  # gains are benefits; p-median's objective falls
    free = np.ones(len(candidates), dtype=bool)
    for _ in range(p):
        gains = np.where(free, model.gains(), -np.inf)
        best = int(np.argmax(gains))  # lowest index on ties
        model.add(best)
        free[best] = False
    _swap(model, free)
    value = model.total()
    gains = np.sort(np.where(free, model.gains(), 0.0))[::-1][:p]
    bound = value + sign * units_per_site * float(np.maximum(gains, 0.0).sum())
    return Siting(candidates[np.array(model.chosen, dtype=np.int64)], value, bound, "greedy+swap", objective)


def _swap(model: _Model, free: np.ndarray) -> None:
    """Replace chosen sites by better ones, one at a time, until no single swap improves the objective."""
    for _ in range(MAX_SWAP_PASSES):
        improved = False
        for pos in range(len(model.chosen)):
            j = model.chosen[pos]
            c = int(model.candidates.county[j])
            if c not in model.counties:
                continue
            # Without j only its county changes; the best replacement is the site that gains most there.
            without = model.survival_without(j)
            gains = np.where(free, model.gains({c: without}), -np.inf)
            best = int(np.argmax(gains))
            if not np.isfinite(gains[best]):
                continue
            current = model.total()
            changed = {c: without}
            b = int(model.candidates.county[best])
            if b in model.counties:
                changed[b] = changed.get(b, model.counties[b].survival) * model._factor(best)
            value = current + sum(model.counties[k].value(s) - model.counties[k].value() for k, s in changed.items())
            if model.better(value, current):
                for k, s in changed.items():
                    model.counties[k].survival = s
                model.chosen[pos] = best
                free[j], free[best] = True, False
                improved = True
        if not improved:
            return
