"""Comparing intervention packages: effects, cost per prevented case, ranking, Pareto
frontier, breakdowns by county and town, and displacement or diffusion around treated areas.

Every comparison is paired: replicate ``r`` of a package and of the baseline share a seed
(common random numbers), so differences are taken replicate by replicate and reported as a
mean with a 95 % interval over replicates. The effect is measured in the last counted year.

Displacement versus diffusion of benefits: cells are grouped into rings by their lattice
distance to the nearest cell where the package placed something (ring 0 = treated cells,
ring 1 = adjacent, …). Fewer offences than the baseline in ring 0 is prevention; more in the
rings around it is displacement, fewer there is a diffusion of benefits (Guerette & Bowers
2009 found diffusion more common than displacement).
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.runner import RunResult
from sim.experiments.summary import FLAGS, flag_notes, mean_interval, relative_change

__all__ = ["package_table", "area_breakdown", "ring_effects", "pareto_front", "pareto_plot", "cost_per_prevented",
           "RINGS", "BOOTSTRAP_RESAMPLES", "PACKAGE_COLUMNS"]

RINGS = 4  # rings 0..3; farther cells are "outside"
#: Resamples of the cost-per-prevented-case bootstrap (percentile interval; 2 000 keeps the
#: 2.5 % and 97.5 % points within about 1 % of their limit, Efron & Tibshirani 1993 ch. 19).
BOOTSTRAP_RESAMPLES = 2000
# scipy ≥ 1.15 names the bootstrap's generator ``rng``; older versions ``random_state``.
_RNG = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"

#: The columns of ``packages.csv`` (:func:`package_table`), in order, with their meaning.
#: ``{metric}`` is the outcome counted as prevented (``preventable_cases`` by default); for each
#: of ``calls_for_service``, ``serious_violent``, ``response_time_median_min`` and
#: ``sense_of_safety_pct`` there are also ``d_<m>``, ``d_<m>_lo`` and ``d_<m>_hi``: the package
#: minus the baseline, mean and 95 % t-interval over paired replicates.
PACKAGE_COLUMNS: dict[str, str] = {
    "rank": "rank by prevented cases, most first",
    "package": "the package (scenario) name",
    "year": "the counted year compared (the last)",
    "{metric}_base": "the baseline's mean count",
    "prevented": "baseline minus package, mean over paired replicates",
    "prevented_lo": "95 % t-interval of prevented, lower end",
    "prevented_hi": "95 % t-interval of prevented, upper end",
    "prevented_pct": "prevented as a share of the baseline, % (log-ratio scale: 100 × (1 − geometric-mean "
                     "ratio package/baseline); never above 100; empty when a replicate counts zero)",
    "extra_cost_yuan": "package minus baseline cost per year, mean [yuan]",
    "extra_cost_lo": "its 95 % t-interval, lower end [yuan]",
    "extra_cost_hi": "its 95 % t-interval, upper end [yuan]",
    "cost_per_prevented_yuan": "extra cost per prevented case, ratio of means [yuan]; empty when not estimable",
    "cost_per_prevented_lo": "scipy.stats.bootstrap paired percentile interval, lower end [yuan]",
    "cost_per_prevented_hi": "upper end [yuan]; inf when some resamples prevent no cases",
    "replicates": "replicates paired",
    "pareto": "True when no other package prevents more for less (or as much for less)",
    "prevented_pct_lo": "95 % interval of prevented_pct, lower end (log-ratio scale)",
    "prevented_pct_hi": "95 % interval of prevented_pct, upper end (never above 100)",
    "cost_yuan_base": "the baseline's own cost per year [yuan] (absolute; a zero-cost baseline shows 0)",
    "cost_yuan": "the package's own cost per year [yuan]",
    "cost_per_prevented_note": "why cost per prevented case is empty or open-ended (empty when estimable)",
    "flag": "notes on the prevented count: " + "; ".join(f"{k}: {v}" for k, v in FLAGS.items()),
    "contains": "what the package contains, in words (sim.presentation.package_contents); written by pingan compare",
}


def _paired(base: pd.DataFrame, alt: pd.DataFrame, metric: str) -> np.ndarray:
    b = base.set_index("replicate")[metric]
    a = alt.set_index("replicate")[metric]
    common = a.index.intersection(b.index)
    return (a.loc[common] - b.loc[common]).to_numpy(float), b.loc[common].to_numpy(float)


def cost_per_prevented(extra_cost: np.ndarray, prevented: np.ndarray, level: float = 0.95, seed: int = 0,
                       n_resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float, float, str]:
    """Extra cost per prevented case: ratio of means with a paired percentile bootstrap interval.

    Uses :func:`scipy.stats.bootstrap` over replicates (pairs of extra cost and prevented
    cases resampled together).

    Args:
        extra_cost: Package minus baseline cost per replicate [yuan].
        prevented: Baseline minus package cases per replicate.
        level: Confidence level.
        seed: Seed of the bootstrap's resampling (results are reproducible).
        n_resamples: Bootstrap resamples.

    Returns:
        ``(point, lo, hi, note)``. NaN with a note saying why when not estimable: the t-interval
        of prevented cases includes zero (or the package prevents none), or there is a single
        replicate (point only). ``hi`` is ``inf`` when some resamples prevent no cases.
    """
    c, p = np.asarray(extra_cost, dtype=float), np.asarray(prevented, dtype=float)
    if len(p) == 0:
        return (np.nan, np.nan, np.nan, "no paired replicates")
    pm, plo, phi = mean_interval(p, level)
    if len(p) > 1 and plo <= 0 <= phi:
        return (np.nan, np.nan, np.nan, "not estimable: the prevented-cases interval includes zero")
    if pm <= 0:
        return (np.nan, np.nan, np.nan, "not estimable: the package prevents no cases")
    point = float(c.mean() / pm)
    if len(p) < 2:
        return (point, np.nan, np.nan, "one replicate: no interval")

    def ratio(cost, cases, axis=-1):
        m = cases.mean(axis=axis)
        return np.where(m > 0, cost.mean(axis=axis) / np.where(m > 0, m, 1.0), np.inf)

    if np.ptp(c) == 0 and np.ptp(p) == 0:
        return (point, point, point, "")
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.bootstrap((c, p), ratio, paired=True, vectorized=True, confidence_level=level,
                              n_resamples=n_resamples, method="percentile", **{_RNG: np.random.default_rng(seed)})
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return (point, lo, hi, "upper end unbounded: some resamples prevent no cases" if not np.isfinite(hi) else "")


def package_table(df: pd.DataFrame, base: str, metric: str = "preventable_cases",
                  contents: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per package: effect on ``metric`` and other headline metrics, cost, cost per prevented case.

    Args:
        df: metrics frame (scenario, replicate, year, metrics).
        base: The baseline scenario's name.
        metric: The outcome whose reduction counts as "prevented".
        contents: What each package contains, in words: adds the ``contains`` column (last).

    Returns:
        Packages ranked by prevented cases (most first), with intervals over replicates; the
        columns are described in :data:`PACKAGE_COLUMNS`.
    """
    year = int(df["year"].max())
    last = df[df["year"] == year]
    b = last[last["scenario"] == base]
    rows = []
    for name, a in last[last["scenario"] != base].groupby("scenario", sort=False):
        d, base_vals = _paired(b, a, metric)
        prevented = -d
        pm, plo, phi = mean_interval(prevented)
        rm, rlo, rhi = relative_change(base_vals + d, base_vals)  # package against baseline
        dcost, base_cost = _paired(b, a, "cost_yuan")
        cm, clo, chi = mean_interval(dcost)
        cpp, cpp_lo, cpp_hi, note = cost_per_prevented(dcost, prevented)
        row = {"package": name, "year": year, f"{metric}_base": float(np.mean(base_vals)),
               "prevented": pm, "prevented_lo": plo, "prevented_hi": phi, "prevented_pct": -rm,
               "extra_cost_yuan": cm, "extra_cost_lo": clo, "extra_cost_hi": chi,
               "cost_per_prevented_yuan": cpp, "cost_per_prevented_lo": cpp_lo, "cost_per_prevented_hi": cpp_hi,
               "replicates": len(d), "prevented_pct_lo": -rhi, "prevented_pct_hi": -rlo,
               "cost_yuan_base": float(np.mean(base_cost)), "cost_yuan": float(np.mean(base_cost + dcost)),
               "cost_per_prevented_note": note, "flag": flag_notes(metric, base_vals + d, base_vals)}
        for m in ("calls_for_service", "serious_violent", "response_time_median_min", "sense_of_safety_pct"):
            if m in a.columns:
                dm, lo, hi = mean_interval(_paired(b, a, m)[0])
                row.update({f"d_{m}": dm, f"d_{m}_lo": lo, f"d_{m}_hi": hi})
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values("prevented", ascending=False, kind="stable").reset_index(drop=True)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        out["pareto"] = pareto_front(out["extra_cost_yuan"].to_numpy(), out["prevented"].to_numpy())
        added = ["prevented_pct_lo", "prevented_pct_hi", "cost_yuan_base", "cost_yuan", "cost_per_prevented_note",
                 "flag"]  # after the columns packages.csv has always had, so old readers keep working
        out = out[[c for c in out.columns if c not in added] + added]
        if contents is not None:
            out["contains"] = out["package"].map(lambda p: contents.get(p, ""))
    return out


def pareto_front(cost: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """True for packages no other package beats on both cost (lower) and effect (higher)."""
    cost, effect = np.asarray(cost, float), np.asarray(effect, float)
    front = np.ones(len(cost), dtype=bool)
    for i in range(len(cost)):
        better = (cost <= cost[i]) & (effect >= effect[i]) & ((cost < cost[i]) | (effect > effect[i]))
        front[i] = not better.any()
    return front


def pareto_plot(table: pd.DataFrame, path: Path | str | None = None, metric: str = "preventable_cases",
                sample=None):
    """Extra cost against cases prevented, with intervals; the Pareto frontier joined.

    Returns:
        The :class:`matplotlib.figure.Figure` (:func:`sim.plots.pareto`, its axes labelled with the
        :class:`sim.presentation.Sample` given), also saved to ``path`` when given.
    """
    from sim.plots import pareto, save

    return save(pareto(table, metric=metric, sample=sample), path)


def area_breakdown(results: list[RunResult], base: str, level: str = "county") -> pd.DataFrame:
    """Recorded and true offences by county or town: each package's difference from the baseline.

    Args:
        results: Runs of the baseline and the packages (paired by replicate).
        base: The baseline scenario's name.
        level: ``"county"`` or ``"town"``.
    """
    by = {(r.scenario, r.replicate): r for r in results}
    rows = []
    for (name, rep), r in by.items():
        if name == base or (base, rep) not in by:
            continue
        b = by[(base, rep)]
        area = r.cell_county if level == "county" else r.cell_town
        n_areas = int(area.max()) + 1
        for kind, arr_a, arr_b in (("recorded", r.cell_incidents[-1], b.cell_incidents[-1]),
                                   ("true", r.cell_offences_true[-1], b.cell_offences_true[-1])):
            da = np.bincount(area, weights=arr_a, minlength=n_areas)
            db = np.bincount(area, weights=arr_b, minlength=n_areas)
            for k in range(n_areas):
                rows.append({"package": name, "replicate": rep, "level": level, "area": k, "offences": kind,
                             "base": db[k], "difference": da[k] - db[k]})
    raw = pd.DataFrame(rows)
    if raw.empty:
        return raw
    names = results[0].county_names or []
    out = []
    for (pkg, lvl, area, kind), g in raw.groupby(["package", "level", "area", "offences"], sort=True):
        m, lo, hi = mean_interval(g["difference"].to_numpy())
        label = names[area] if lvl == "county" and area < len(names) else str(area)
        out.append({"package": pkg, "level": lvl, "area": label, "offences": kind, "base_mean": g["base"].mean(),
                    "difference": m, "difference_lo": lo, "difference_hi": hi, "replicates": len(g)})
    return pd.DataFrame(out)


def ring_distance(xy: np.ndarray, treated: np.ndarray, cell_km: float) -> np.ndarray:
    """Lattice (Chebyshev) distance in cells from each cell to the nearest treated cell."""
    if len(treated) == 0:
        return np.full(len(xy), np.inf)
    ij = np.floor(xy / cell_km + 1e-9).astype(np.int64)  # xy are cell centres, (i + 0.5) × size
    t = ij[treated]
    d = np.full(len(xy), np.inf)
    for k in range(0, len(t), 512):
        block = t[k:k + 512]
        cheb = np.maximum(np.abs(ij[:, None, 0] - block[None, :, 0]), np.abs(ij[:, None, 1] - block[None, :, 1]))
        d = np.minimum(d, cheb.min(axis=1))
    return d


def ring_effects(results: list[RunResult], base: str) -> pd.DataFrame:
    """True offences in rings around each package's treated cells, against the baseline."""
    by = {(r.scenario, r.replicate): r for r in results}
    rows = []
    for (name, rep), r in by.items():
        if name == base or (base, rep) not in by or r.treated_cells is None:
            continue
        b = by[(base, rep)]
        xy = r.cell_xy
        gaps = np.diff(np.unique(np.round(xy[:, 0], 6)))
        cell_km = float(gaps.min()) if len(gaps) else 0.5
        d = ring_distance(xy, r.treated_cells, cell_km)
        ring = np.where(d < RINGS, d, RINGS).astype(np.int64)
        a_true = np.bincount(ring, weights=r.cell_offences_true[-1], minlength=RINGS + 1)
        b_true = np.bincount(ring, weights=b.cell_offences_true[-1], minlength=RINGS + 1)
        cells = np.bincount(ring, minlength=RINGS + 1)
        for k in range(RINGS + 1):
            rows.append({"package": name, "replicate": rep, "ring": k, "cells": cells[k], "base": b_true[k],
                         "difference": a_true[k] - b_true[k]})
    raw = pd.DataFrame(rows)
    if raw.empty:
        return raw
    out = []
    for (pkg, ring), g in raw.groupby(["package", "ring"], sort=True):
        m, lo, hi = mean_interval(g["difference"].to_numpy())
        if ring == 0:
            reading = "prevention" if hi < 0 else ("more offences" if lo > 0 else "no clear change")
        else:
            reading = "displacement" if lo > 0 else ("diffusion of benefits" if hi < 0 else "no clear change")
        out.append({"package": pkg, "ring": "treated" if ring == 0 else (f"{ring}" if ring < RINGS else "outside"),
                    "cells": int(g["cells"].iloc[0]), "base_mean": g["base"].mean(), "difference": m,
                    "difference_lo": lo, "difference_hi": hi, "reading": reading, "replicates": len(g)})
    return pd.DataFrame(out)
