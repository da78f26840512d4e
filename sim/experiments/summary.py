"""Summaries over replicates: year-on-year change and scenario differences, with intervals.

A stochastic result is a distribution. Every absolute figure here is a mean over replicates
with a 95 % confidence interval of that mean (Student's t). Differences between scenarios
(and between years) are taken replicate by replicate, which under common random numbers
removes most of the noise the scenarios share.

Relative changes (percent) are computed on the log-ratio scale: for each replicate
``log(new / old)``, a t-interval of their mean, transformed back with ``100 × (exp(·) − 1)``.
The point is the geometric-mean ratio of the paired replicates, and the interval can never go
below −100 % (a count cannot fall by more than all of it). A replicate with a zero level has no
log ratio: the relative change is then left empty and flagged, and the difference in counts
(``difference``/``change`` columns) is the figure to read.

``summary.csv`` (:func:`summarise`), one row per scenario × metric:

==================  =======================================================================
scenario, metric    the scenario and the metric (see :data:`METRIC_LABELS` for plain names)
year_from, year_to  the two counted years compared (the last two)
mean_from, mean_to  mean over replicates in each year
change_pct          relative change, % (log-ratio scale, see above); empty when not estimable
change_pct_lo/_hi   its 95 % interval (never below −100)
change              absolute change (year_to − year_from), mean over paired replicates
change_lo/_hi       its 95 % t-interval
replicates          replicates paired
flag                ``;``-separated notes, see :data:`FLAGS` (empty when none apply)
==================  =======================================================================

``compare.csv`` (:func:`compare`), one row per scenario × counted year × metric:

==================  =======================================================================
scenario, base      the alternative and the baseline scenario
year, metric        the counted year and the metric
base_mean           the baseline's mean over replicates
alt_mean            the alternative's mean over replicates
difference          alternative − baseline, mean over paired replicates
difference_lo/_hi   its 95 % t-interval
relative_pct        relative difference, % (log-ratio scale); empty when not estimable
relative_pct_lo/_hi its 95 % interval (never below −100)
replicates          replicates paired
flag                as in summary.csv
==================  =======================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import CORE_METRICS, METRICS

__all__ = ["mean_interval", "relative_change", "summarise", "compare", "HEADLINE", "METRIC_LABELS", "FLAGS",
           "RARE_COUNT", "FEW_REPLICATES", "is_rare", "flag_notes", "metric_label", "is_count"]

#: Metrics printed in the terminal tables and shown in reports (declared ``headline`` in sim.metrics).
HEADLINE: tuple[str, ...] = METRICS.headline()

#: Plain names with units for tables and plot axes (metrics not listed fall back to their id).
METRIC_LABELS: dict[str, str] = {
    "population": "population [residents]",
    "preventable_cases": "preventable cases, recorded [per year]",
    "calls_for_service": "calls for service [per year]",
    "effective_incidents": "effective incidents, recorded [per year]",
    "serious_violent": "serious violent crime, recorded [per year]",
    "homicides": "homicides [per year]",
    "clearance_rate": "clearance rate [share of recorded offences]",
    "response_time_median_min": "response time, median [min]",
    "response_time_p90_min": "response time, 90th percentile [min]",
    "cost_yuan": "cost [yuan per year]",
    "staff_hours": "staff hours [h per year]",
    "preventable_cases_true": "preventable cases, all (recorded or not) [per year]",
    "offences_true": "offences, all (recorded or not) [per year]",
    "wait_time_median_min": "wait for dispatch, median [min]",
    "preventable_cases_per_100k": "preventable cases [per 100 000 residents and year]",
    "calls_for_service_per_100k": "calls for service [per 100 000 residents and year]",
    "mediation_success_rate": "mediation success rate [share]",
    "agreements_honoured_rate": "mediated agreements honoured [share]",
    "tickets_disposed_rate": "governance tickets disposed [share]",
    "tickets_completed_rate": "governance tickets completed [share]",
    "ticket_latency_median_h": "governance ticket latency, median [h]",
    "sense_of_safety_pct": "sense of safety [% of residents]",
    "volunteer_hours": "volunteer patrol hours [h per year]",
    "grid_worker_visits": "grid worker visits [per year]",
}

#: A count whose baseline mean is below this many events per replicate is "rare": Poisson noise
#: alone is about ±1.96/√20 ≈ ±44 % of it. Assumed (a reading threshold, not a model parameter).
RARE_COUNT = 20.0
#: Fewer paired replicates than this make a rare count's interval unreliable. Assumed.
FEW_REPLICATES = 10

#: Notes in the ``flag`` column, by code.
FLAGS: dict[str, str] = {
    "single replicate": "one replicate: no interval can be computed",
    "zero level": "a replicate has a zero (or negative) level, so the relative change is not estimable; "
                  "read the difference in counts",
    "rare": f"rare count (baseline mean below {RARE_COUNT:g} events) with fewer than {FEW_REPLICATES} "
            "replicates: the relative interval is wide and unreliable; read counts, add replicates",
    "no variation": "identical in every replicate (e.g. a median of discrete response times, which are "
                    "lattice distances at a fixed speed, or a deterministic cost): the zero-width "
                    "interval means the replicates agree, not that the figure is exact",
    "identical": "the same value in both, replicate by replicate: a year before the interventions start "
                 "(common random numbers make it identical by construction), or a median of discrete "
                 "response times landing on the same value; the zero-width interval means agreement, "
                 "not certainty",
}

_SAME = 1e-9  # relative tolerance under which two replicates' figures count as the same (float rounding)
_RATE_SUFFIXES = ("_rate", "_pct", "_min", "_h", "_per_100k", "_yuan", "population")


def metric_label(metric: str) -> str:
    """The plain name with units of ``metric`` (its id with spaces when unknown)."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def is_count(metric: str, values: np.ndarray) -> bool:
    """True for an event count: whole numbers, and not a rate, share, time, cost or population."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return not metric.endswith(_RATE_SUFFIXES) and len(v) > 0 and bool(np.all(v == np.round(v)))


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


def relative_change(new: np.ndarray, old: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Percent change from ``old`` to ``new``, paired by position, on the log-ratio scale.

    Returns:
        ``(point, lo, hi)`` in percent: ``100 × (exp(m) − 1)`` for the mean ``m`` of
        ``log(new / old)`` and the ends of its t-interval. All NaN when a pair has a level ≤ 0
        (no log ratio); the interval is NaN with a single pair. ``lo`` is never below −100.
    """
    new, old = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    keep = ~(np.isnan(new) | np.isnan(old))
    new, old = new[keep], old[keep]
    if len(new) == 0 or (new <= 0).any() or (old <= 0).any():
        return (np.nan, np.nan, np.nan)
    m, lo, hi = mean_interval(np.log(new / old), level)
    return tuple(float(100.0 * np.expm1(x)) for x in (m, lo, hi))  # type: ignore[return-value]


def _constant(v: np.ndarray) -> bool:
    return bool(np.allclose(v, v[0], rtol=_SAME, atol=0))


def flag_notes(metric: str, new: np.ndarray, old: np.ndarray) -> str:
    """The ``flag`` text (codes of :data:`FLAGS`, ``;``-separated) for paired values ``new`` against ``old``."""
    new, old = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    keep = ~(np.isnan(new) | np.isnan(old))
    new, old = new[keep], old[keep]
    out = []
    if len(new) < 2:
        out.append("single replicate")
    if len(new) and ((new <= 0).any() or (old <= 0).any()):
        out.append("zero level")
    if (len(new) and is_count(metric, np.concatenate([new, old])) and old.mean() < RARE_COUNT
            and len(new) < FEW_REPLICATES):
        out.append("rare")
    if len(new) and np.allclose(new, old, rtol=_SAME, atol=0):
        out.append("identical")
    elif len(new) >= 2 and _constant(new) and _constant(old):
        out.append("no variation")
    return "; ".join(out)


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
        One row per scenario × metric (columns in the module docstring): the mean of each year,
        the change in percent (log-ratio scale) and in absolute terms, each with a 95 % interval
        over replicates, and a ``flag`` column.
    """
    out = []
    for scen, g in df.groupby("scenario", sort=False):
        years = sorted(g["year"].unique())
        y0, y1 = (years[-2], years[-1]) if len(years) > 1 else (years[0], years[0])
        a = g[g["year"] == y0].set_index("replicate").sort_index()
        b = g[g["year"] == y1].set_index("replicate").sort_index()
        common = a.index.intersection(b.index)
        a, b = a.loc[common], b.loc[common]
        for m in _metrics(df):
            va, vb = a[m].to_numpy(float), b[m].to_numpy(float)
            pm, plo, phi = relative_change(vb, va)
            dm, dlo, dhi = mean_interval(vb - va)
            out.append({"scenario": scen, "metric": m, "year_from": y0, "year_to": y1,
                        "mean_from": _nanmean(va), "mean_to": _nanmean(vb),
                        "change_pct": pm, "change_pct_lo": plo, "change_pct_hi": phi,
                        "change": dm, "change_lo": dlo, "change_hi": dhi, "replicates": len(va),
                        "flag": flag_notes(m, vb, va)})
    return pd.DataFrame(out)


def compare(df: pd.DataFrame, base: str) -> pd.DataFrame:
    """Each scenario's difference from ``base``, per metric and year, paired by replicate.

    Returns:
        One row per scenario × year × metric (columns in the module docstring).
    """
    b = df[df["scenario"] == base].set_index(["replicate", "year"]).sort_index()
    out = []
    for scen, g in df[df["scenario"] != base].groupby("scenario", sort=False):
        a = g.set_index(["replicate", "year"]).sort_index()
        common = a.index.intersection(b.index)
        for year in sorted({y for _, y in common}):
            idx = [k for k in common if k[1] == year]
            for m in _metrics(df):
                va, vb = a.loc[idx, m].to_numpy(float), b.loc[idx, m].to_numpy(float)
                dm, dlo, dhi = mean_interval(va - vb)
                rm, rlo, rhi = relative_change(va, vb)
                out.append({"scenario": scen, "base": base, "year": year, "metric": m,
                            "base_mean": _nanmean(vb), "difference": dm, "difference_lo": dlo,
                            "difference_hi": dhi, "relative_pct": rm,
                            "relative_pct_lo": rlo, "relative_pct_hi": rhi,
                            "replicates": len(idx), "alt_mean": _nanmean(va), "flag": flag_notes(m, va, vb)})
    return pd.DataFrame(out)


def is_rare(flag: object) -> bool:
    """A rare count with few replicates: its relative interval is noise, so tables show counts."""
    return isinstance(flag, str) and "rare" in flag.split("; ")
