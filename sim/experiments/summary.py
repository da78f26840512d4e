"""Summaries over replicates: year-on-year change and scenario differences, with intervals.

A stochastic result is a distribution. Every figure here is a mean over replicates with a
95 % confidence interval of that mean (Student's t), and — for differences between
scenarios — the differences are taken replicate by replicate, which under common random
numbers removes most of the noise the scenarios share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import CORE_METRICS

__all__ = ["mean_interval", "summarise", "compare", "HEADLINE"]

#: Metrics printed in the terminal tables.
HEADLINE = ("preventable_cases", "calls_for_service", "effective_incidents", "serious_violent",
            "homicides", "clearance_rate", "response_time_median_min", "response_time_p90_min",
            "cost_yuan")


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided ``level`` t-interval of the mean; NaNs are dropped."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return (np.nan, np.nan, np.nan)
    m = float(v.mean())
    if len(v) < 2:
        return (m, np.nan, np.nan)
    half = stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return (m, m - half, m + half)


def _nanmean(v: np.ndarray) -> float:
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else np.nan


def _metrics(df: pd.DataFrame) -> list[str]:
    skip = {"scenario", "replicate", "seed", "year", "population"}
    extra = [c for c in df.columns if c not in skip and c not in CORE_METRICS]
    return [c for c in CORE_METRICS if c in df.columns and c not in skip] + extra


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Year-on-year change of every metric, last counted year against the one before.

    Returns:
        One row per scenario × metric: the mean of each year, and the change in percent and
        in absolute terms, each as mean with a 95 % interval over replicates.
    """
    out = []
    for scen, g in df.groupby("scenario", sort=False):
        years = sorted(g["year"].unique())
        y0, y1 = (years[-2], years[-1]) if len(years) > 1 else (years[0], years[0])
        a = g[g["year"] == y0].set_index("replicate").sort_index()
        b = g[g["year"] == y1].set_index("replicate").sort_index()
        for m in _metrics(df):
            va, vb = a[m].to_numpy(float), b[m].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = np.where(va != 0, (vb - va) / va * 100.0, np.nan)
            pm, plo, phi = mean_interval(pct)
            dm, dlo, dhi = mean_interval(vb - va)
            out.append({"scenario": scen, "metric": m, "year_from": y0, "year_to": y1,
                        "mean_from": _nanmean(va), "mean_to": _nanmean(vb),
                        "change_pct": pm, "change_pct_lo": plo, "change_pct_hi": phi,
                        "change": dm, "change_lo": dlo, "change_hi": dhi, "replicates": len(va)})
    return pd.DataFrame(out)


def compare(df: pd.DataFrame, base: str) -> pd.DataFrame:
    """Each scenario's difference from ``base``, per metric and year, paired by replicate."""
    b = df[df["scenario"] == base].set_index(["replicate", "year"]).sort_index()
    out = []
    for scen, g in df[df["scenario"] != base].groupby("scenario", sort=False):
        a = g.set_index(["replicate", "year"]).sort_index()
        common = a.index.intersection(b.index)
        for year in sorted({y for _, y in common}):
            idx = [k for k in common if k[1] == year]
            for m in _metrics(df):
                diff = a.loc[idx, m].to_numpy(float) - b.loc[idx, m].to_numpy(float)
                base_mean = _nanmean(b.loc[idx, m].to_numpy(float))
                dm, dlo, dhi = mean_interval(diff)
                rlo, rm, rhi = (np.array([dlo, dm, dhi]) / base_mean * 100.0 if base_mean else [np.nan] * 3)
                out.append({"scenario": scen, "base": base, "year": year, "metric": m,
                            "base_mean": base_mean, "difference": dm, "difference_lo": dlo,
                            "difference_hi": dhi, "relative_pct": rm,
                            "relative_pct_lo": rlo, "relative_pct_hi": rhi,
                            "replicates": len(idx)})
    return pd.DataFrame(out)
