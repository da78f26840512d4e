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

from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.runner import RunResult
from sim.experiments.summary import mean_interval

__all__ = ["package_table", "area_breakdown", "ring_effects", "pareto_front", "pareto_plot", "RINGS"]

RINGS = 4  # rings 0..3; farther cells are "outside"


def _paired(base: pd.DataFrame, alt: pd.DataFrame, metric: str) -> np.ndarray:
    b = base.set_index("replicate")[metric]
    a = alt.set_index("replicate")[metric]
    common = a.index.intersection(b.index)
    return (a.loc[common] - b.loc[common]).to_numpy(float), b.loc[common].to_numpy(float)


def _bootstrap_ratio(num: np.ndarray, den: np.ndarray, seed: int = 0, n: int = 2000) -> tuple[float, float, float]:
    """Ratio of means with a percentile-bootstrap 95 % interval over replicates."""
    if len(num) == 0 or np.mean(den) <= 0:
        return (np.nan, np.nan, np.nan)
    point = float(np.mean(num) / np.mean(den))
    if len(num) < 2:
        return (point, np.nan, np.nan)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(num), size=(n, len(num)))
    d = den[idx].mean(axis=1)
    r = np.where(d > 0, num[idx].mean(axis=1) / np.where(d > 0, d, 1), np.nan)
    r = r[~np.isnan(r)]
    if len(r) < n // 2:  # the prevented count is too often ≤ 0 for a ratio to mean anything
        return (point, np.nan, np.nan)
    return (point, float(np.percentile(r, 2.5)), float(np.percentile(r, 97.5)))


def package_table(df: pd.DataFrame, base: str, metric: str = "preventable_cases") -> pd.DataFrame:
    """One row per package: effect on ``metric`` and other headline metrics, cost, cost per prevented case.

    Args:
        df: metrics frame (scenario, replicate, year, metrics).
        base: The baseline scenario's name.
        metric: The outcome whose reduction counts as "prevented".

    Returns:
        Packages ranked by prevented cases (most first), with intervals over replicates.
    """
    year = int(df["year"].max())
    last = df[df["year"] == year]
    b = last[last["scenario"] == base]
    rows = []
    for name, a in last[last["scenario"] != base].groupby("scenario", sort=False):
        d, base_vals = _paired(b, a, metric)
        prevented = -d
        pm, plo, phi = mean_interval(prevented)
        dcost, _ = _paired(b, a, "cost_yuan")
        cm, clo, chi = mean_interval(dcost)
        cpp, cpp_lo, cpp_hi = _bootstrap_ratio(dcost, prevented)
        row = {"package": name, "year": year, f"{metric}_base": float(np.mean(base_vals)),
               "prevented": pm, "prevented_lo": plo, "prevented_hi": phi,
               "prevented_pct": pm / np.mean(base_vals) * 100 if np.mean(base_vals) else np.nan,
               "extra_cost_yuan": cm, "extra_cost_lo": clo, "extra_cost_hi": chi,
               "cost_per_prevented_yuan": cpp, "cost_per_prevented_lo": cpp_lo, "cost_per_prevented_hi": cpp_hi,
               "replicates": len(d)}
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
    return out


def pareto_front(cost: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """True for packages no other package beats on both cost (lower) and effect (higher)."""
    cost, effect = np.asarray(cost, float), np.asarray(effect, float)
    front = np.ones(len(cost), dtype=bool)
    for i in range(len(cost)):
        better = (cost <= cost[i]) & (effect >= effect[i]) & ((cost < cost[i]) | (effect > effect[i]))
        front[i] = not better.any()
    return front


def pareto_plot(table: pd.DataFrame, path: Path, metric: str = "preventable_cases") -> None:
    """Extra cost against cases prevented, with intervals; the Pareto frontier joined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 6))
    t = table
    ax.errorbar(t["extra_cost_yuan"] / 1e6, t["prevented"],
                xerr=[(t["extra_cost_yuan"] - t["extra_cost_lo"]).fillna(0) / 1e6,
                      (t["extra_cost_hi"] - t["extra_cost_yuan"]).fillna(0) / 1e6],
                yerr=[(t["prevented"] - t["prevented_lo"]).fillna(0), (t["prevented_hi"] - t["prevented"]).fillna(0)],
                fmt="o", capsize=3, color="tab:blue")
    for _, r in t.iterrows():
        ax.annotate(r["package"], (r["extra_cost_yuan"] / 1e6, r["prevented"]), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    f = t[t["pareto"]].sort_values("extra_cost_yuan")
    ax.plot(f["extra_cost_yuan"] / 1e6, f["prevented"], "--", color="tab:red", label="Pareto frontier")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("extra cost per year [million yuan]")
    ax.set_ylabel(f"{metric.replace('_', ' ')} prevented per year (vs baseline)")
    ax.set_title("Packages: cost against effect (mean, 95 % interval over replicates)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
