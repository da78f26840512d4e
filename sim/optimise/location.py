"""Location models: where a given number of new facilities serve the most demand.

Two classical models on the city's cells, each with the sites that already exist kept fixed:

* **MCLP**, the maximal covering location problem (Church & ReVelle 1974): choose ``p`` sites to
  maximise the demand within ``coverage`` driving minutes of a site (existing sites' coverage
  counts as already covered).
* **p-median** (Hakimi 1964; ReVelle & Swain 1970): choose ``p`` sites to minimise the total
  demand-weighted driving minutes from each cell to its nearest site, existing or new — the
  demand-weighted response time.

Both are solved exactly as mixed-integer programmes with :func:`scipy.optimize.milp` (HiGHS) when
the programme has at most ``max_variables`` variables. Larger instances are solved greedily (add
the site that helps most, ``p`` times), and the answer says how far from optimal it can be: the
bound is the programme's LP relaxation when that fits, otherwise the bound that greedy selection
guarantees for these problems, whose benefit is monotone and submodular (Nemhauser, Wolsey &
Fisher 1978: greedy reaches at least 1 − 1/e of the best benefit).

Distances are driving minutes along the street lattice (lattice km × detour factor / speed at the
destination), without turnout. These models site camera clusters and hot-spot patrol spots.
Dispatch bases are sited on :mod:`sim.optimise.response` instead, which scores sites the way the
dispatcher answers calls (patrolling, sometimes busy units); its objectives are these two with
units that are not always at their sites nor always free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["Siting", "mclp", "p_median", "driving_minutes", "MAX_VARIABLES", "MAX_LP_VARIABLES"]

#: Largest programme solved exactly (variables). A scale-0.1 Suizhou has ~200 cells: a p-median
#: there has up to ~40 000 variables and solves in well under a second; full scale (~1 400 cells)
#: can have ~2 M and goes to the greedy solver.
MAX_VARIABLES = 200_000
#: Largest LP relaxation solved for the greedy solver's bound.
MAX_LP_VARIABLES = 2_000_000
#: Seconds HiGHS may spend on one exact programme before the best solution found is returned
#: with its own bound (reported as the gap).
TIME_LIMIT_S = 60.0
_GREEDY_GUARANTEE = 1.0 - 1.0 / math.e


@dataclass(frozen=True)
class Siting:
    """A location model's answer.

    Attributes:
        sites: The chosen cells (indices into the city's cells), in the order chosen.
        objective: Covered demand (MCLP, including what existing sites cover) or demand-weighted
            driving minutes (p-median, to the nearest existing or new site).
        bound: A bound on the best possible objective (above it for MCLP, below for p-median);
            equal to ``objective`` when solved to optimality.
        method: ``"milp"`` (exact, HiGHS), ``"greedy+lp"`` or ``"greedy+submodular"`` (greedy, with
            the bound's source).
        rule: ``"mclp"`` or ``"p_median"``.
    """

    sites: np.ndarray
    objective: float
    bound: float
    method: str
    rule: str

    @property
    def gap(self) -> float:
        """How far from optimal the answer can be, relative to the bound (0 when optimal)."""
        if not np.isfinite(self.bound):
            return math.inf
        scale = max(abs(self.bound), 1e-12)
        return max(0.0, (self.bound - self.objective) if self.rule == "mclp" else (self.objective - self.bound)) / scale


def driving_minutes(ix: np.ndarray, iy: np.ndarray, cell_km: float, detour: float, speed_kmh: np.ndarray,
                    demand_cells: np.ndarray, site_cells: np.ndarray) -> np.ndarray:
    """Driving minutes from each site cell to each demand cell (demand × sites).

    Args:
        ix, iy: Lattice coordinates of every cell.
        cell_km: Side of a cell [km].
        detour: Road distance over lattice distance.
        speed_kmh: Speed towards each cell [km/h] (the destination's).
        demand_cells, site_cells: The cells of the rows and of the columns.
    """
    steps = (np.abs(ix[demand_cells][:, None] - ix[site_cells][None, :])
             + np.abs(iy[demand_cells][:, None] - iy[site_cells][None, :]))
    return steps * cell_km * detour / speed_kmh[demand_cells][:, None] * 60.0


def _check(weights: np.ndarray, minutes: np.ndarray, fixed: np.ndarray, p: int) -> None:
    if minutes.shape != (len(weights), minutes.shape[1]) or len(fixed) != len(weights):
        raise ValueError(f"shapes disagree: weights {weights.shape}, minutes {minutes.shape}, fixed {fixed.shape}")
    if p < 0 or p > minutes.shape[1]:
        raise ValueError(f"cannot place {p} sites on {minutes.shape[1]} candidate cells")
    if (weights < 0).any():
        raise ValueError("demand weights must be non-negative")


# ---- maximal covering ---------------------------------------------------------------------------


def mclp(weights: np.ndarray, minutes: np.ndarray, fixed: np.ndarray, p: int, coverage: float,
         candidates: np.ndarray, max_variables: int = MAX_VARIABLES) -> Siting:
    """Place ``p`` sites to cover the most demand within ``coverage`` minutes.

    Args:
        weights: Demand of each demand cell (row of ``minutes``).
        minutes: Driving minutes from each candidate (column) to each demand cell; ``inf`` where a
            candidate cannot serve the cell.
        fixed: Minutes from each demand cell to its nearest existing site (``inf`` if none).
        p: New sites to place.
        coverage: A cell is covered by a site within this many minutes.
        candidates: The cell of each column.
        max_variables: Largest programme solved exactly; larger ones are solved greedily.
    """
    w, fixed = np.asarray(weights, float), np.asarray(fixed, float)
    _check(w, minutes, fixed, p)
    reach = minutes <= coverage
    done = fixed <= coverage
    base = float(w[done].sum())
    open_rows = np.flatnonzero(~done & (w > 0) & reach.any(axis=1))
    a = reach[open_rows]
    if p == 0 or len(open_rows) == 0:
        return Siting(_pad(np.zeros(0, dtype=np.int64), p, candidates, w, minutes), base, base, "milp", "mclp")
    m, n = a.shape[1], len(open_rows)
    if m + n <= max_variables:
        res = _solve_mclp(w[open_rows], a, p, relax=False)
        chosen = np.flatnonzero(res.x[:m] > 0.5)
        value = base + float(w[open_rows][a[:, chosen].any(axis=1)].sum())
        dual = _dual_bound(res)
        bound = base - dual if np.isfinite(dual) else value
        return Siting(_pad(candidates[chosen], p, candidates, w, minutes), value, max(bound, value), "milp", "mclp")
    chosen = _greedy(lambda cur, col: w[open_rows] @ (~cur & a[:, col]), np.zeros(n, dtype=bool),
                     lambda cur, col: cur | a[:, col], m, p)
    value = base + float(w[open_rows][a[:, chosen].any(axis=1)].sum())
    if m + n <= MAX_LP_VARIABLES:
        lp = _solve_mclp(w[open_rows], a, p, relax=True)
        return Siting(candidates[chosen], value, base - lp.fun, "greedy+lp", "mclp")
    return Siting(candidates[chosen], value, base + (value - base) / _GREEDY_GUARANTEE, "greedy+submodular", "mclp")


def _solve_mclp(w: np.ndarray, a: np.ndarray, p: int, relax: bool):
    """max Σ w_i y_i  s.t.  y_i ≤ Σ_j a_ij x_j,  Σ_j x_j = p,  x binary, 0 ≤ y ≤ 1."""
    n, m = a.shape
    c = np.concatenate([np.zeros(m), -w])
    cover = sparse.hstack([-sparse.csr_matrix(a.astype(float)), sparse.identity(n)])  # y_i − Σ a_ij x_j ≤ 0
    count = sparse.hstack([sparse.csr_matrix(np.ones((1, m))), sparse.csr_matrix((1, n))])
    constraints = [LinearConstraint(cover, -np.inf, 0.0), LinearConstraint(count, p, p)]
    integrality = np.concatenate([np.ones(m) * (not relax), np.zeros(n)])
    res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": TIME_LIMIT_S})
    if res.x is None:
        raise RuntimeError(f"the covering programme found no solution: {res.message}")
    return res


# ---- p-median -----------------------------------------------------------------------------------


def p_median(weights: np.ndarray, minutes: np.ndarray, fixed: np.ndarray, p: int, candidates: np.ndarray,
             max_variables: int = MAX_VARIABLES) -> Siting:
    """Place ``p`` sites to minimise demand-weighted minutes to the nearest site (existing or new).

    Arguments as :func:`mclp` (no coverage). A demand cell without an existing site must be
    reachable from some candidate.
    """
    w, fixed = np.asarray(weights, float), np.asarray(fixed, float)
    _check(w, minutes, fixed, p)
    rows = np.flatnonzero(w > 0)
    if p == 0 or len(rows) == 0:
        cost = float(w[rows] @ fixed[rows]) if len(rows) else 0.0
        return Siting(_pad(np.zeros(0, dtype=np.int64), p, candidates, w, minutes), cost, cost, "milp", "p_median")
    unserved = rows[~np.isfinite(fixed[rows]) & ~np.isfinite(minutes[rows]).any(axis=1)]
    if len(unserved):
        raise ValueError(f"{len(unserved)} demand cells can be reached by no site")
    # Only pairs closer than the cell's existing site matter; cells without one must be assigned.
    useful = minutes[rows] < fixed[rows][:, None]
    r, j = np.nonzero(useful)
    m = minutes.shape[1]
    if m + len(r) <= max_variables:
        res = _solve_p_median(w[rows], minutes[rows], fixed[rows], r, j, m, p, relax=False)
        chosen = np.flatnonzero(res.x[:m] > 0.5)
        value = _p_median_cost(w, minutes, fixed, chosen)
        bound = res.mip_dual_bound if np.isfinite(res.mip_dual_bound) else value
        return Siting(_pad(candidates[chosen], p, candidates, w, minutes), value, min(bound, value), "milp",
                      "p_median")
    big = np.where(np.isfinite(fixed[rows]), fixed[rows], np.nanmax(np.where(np.isfinite(minutes), minutes, 0)) * 10)
    sub = np.where(np.isfinite(minutes[rows]), minutes[rows], np.inf)
    chosen = _greedy(lambda cur, col: w[rows] @ np.maximum(cur - sub[:, col], 0.0), big.copy(),
                     lambda cur, col: np.minimum(cur, sub[:, col]), m, p)
    value = _p_median_cost(w, minutes, fixed, chosen)
    if m + len(r) <= MAX_LP_VARIABLES:
        lp = _solve_p_median(w[rows], minutes[rows], fixed[rows], r, j, m, p, relax=True)
        return Siting(candidates[chosen], value, float(lp.fun), "greedy+lp", "p_median")
    if not np.isfinite(fixed[rows]).all():
        return Siting(candidates[chosen], value, -math.inf, "greedy", "p_median")
    empty = float(w[rows] @ fixed[rows])
    return Siting(candidates[chosen], value, empty - (empty - value) / _GREEDY_GUARANTEE, "greedy+submodular",
                  "p_median")


def _p_median_cost(w: np.ndarray, minutes: np.ndarray, fixed: np.ndarray, chosen: np.ndarray) -> float:
    near = np.minimum(fixed, minutes[:, chosen].min(axis=1)) if len(chosen) else fixed
    keep = w > 0
    return float(w[keep] @ near[keep])


def _solve_p_median(w, minutes, fixed, r, j, m, p, relax: bool):
    """min Σ_i w_i base_i + Σ_ij w_i (d_ij − base_i) z_ij  s.t.  z_ij ≤ x_j,  Σ_j z_ij ≤ 1 (= 1 without an
    existing site),  Σ_j x_j = p;  base_i is the existing site's minutes (0 without one)."""
    n, k = len(w), len(r)
    has = np.isfinite(fixed)
    base = np.where(has, fixed, 0.0)
    c = np.concatenate([np.zeros(m), w[r] * (minutes[r, j] - base[r])])
    link = sparse.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                              (np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([m + np.arange(k), j]))),
                             shape=(k, m + k))  # z_ij − x_j ≤ 0
    assign = sparse.csr_matrix((np.ones(k), (r, m + np.arange(k))), shape=(n, m + k))
    count = sparse.csr_matrix((np.ones(m), (np.zeros(m, dtype=int), np.arange(m))), shape=(1, m + k))
    constraints = [LinearConstraint(link, -np.inf, 0.0),
                   LinearConstraint(assign, np.where(has, 0.0, 1.0), 1.0),
                   LinearConstraint(count, p, p)]
    integrality = np.concatenate([np.ones(m) * (not relax), np.zeros(k)])
    res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": TIME_LIMIT_S})
    if res.x is None:
        raise RuntimeError(f"the p-median programme found no solution: {res.message}")
    res.fun = float(res.fun) + float(w @ base)
    res.mip_dual_bound = _dual_bound(res) + float(w @ base)
    return res


def _dual_bound(res) -> float:
    """HiGHS's bound on the optimum of a programme with integers (NaN when it has none, as for an LP)."""
    bound = getattr(res, "mip_dual_bound", None)
    return float(bound) if bound is not None else math.nan


# ---- shared -------------------------------------------------------------------------------------


def _greedy(gain, state, update, m: int, p: int) -> np.ndarray:
    """Add, ``p`` times, the column with the largest ``gain(state, column)`` (lowest index on ties)."""
    chosen: list[int] = []
    free = np.ones(m, dtype=bool)
    for _ in range(p):
        gains = np.array([gain(state, col) if free[col] else -np.inf for col in range(m)])
        best = int(np.argmax(gains))
        chosen.append(best)
        free[best] = False
        state = update(state, best)
    return np.array(chosen, dtype=np.int64)


def _pad(sites: np.ndarray, p: int, candidates: np.ndarray, w: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Fill up to ``p`` sites when fewer help (all demand already covered): the busiest other candidates."""
    sites = np.asarray(sites, dtype=np.int64)
    if len(sites) >= p:
        return sites
    served = np.where(np.isfinite(minutes), 1.0, 0.0).T @ w  # demand each candidate can reach
    order = [int(candidates[k]) for k in np.argsort(-served, kind="stable") if int(candidates[k]) not in set(sites)]
    return np.concatenate([sites, np.array(order[: p - len(sites)], dtype=np.int64)])
