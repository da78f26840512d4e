"""Is the no-intervention baseline stationary? Year-to-year drift of the headline metrics.

With nothing switched on, a city's yearly figures should differ from year to year by noise
only: otherwise a year-on-year change mixes the model's own drift with a package's effect.
This module runs each city's ``<city>_baseline`` for several counted years under common
random numbers and compares every pair of consecutive years replicate by replicate: the
mean difference with its t-interval, the relative change on the log-ratio scale
(:func:`sim.experiments.summary.relative_change`), and a paired t-test of the differences,
with Holm's correction over every test of the table (:func:`holm`), so a table of dozens of
comparisons does not flag drift by chance.

``python -m sim.experiments.stationarity [--cities ...] [--replicates R] [--years Y] [--scale F]
[--jobs J] [--out DIR] [--set key=value ...]`` writes ``metrics.csv`` (every run's yearly
rows) and ``stationarity.csv`` (one row per city × metric × pair of years, columns in
:func:`year_drift`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.csv_output import write_csv
from sim.experiments.runner import metrics_frame, run_tasks, scenario_tasks
from sim.experiments.summary import mean_interval, relative_change
from sim.scenario.loader import load_scenario

__all__ = ["CITIES", "DRIFT_METRICS", "holm", "year_drift", "run_baselines", "main"]

#: The seed cities, each with a ``<city>_baseline`` scenario.
CITIES = ("suizhou", "daqing", "jincheng", "xingan")
#: Metrics whose year-to-year drift is reported: the headline outcomes and the stocks behind them.
DRIFT_METRICS = ("preventable_cases", "calls_for_service", "effective_incidents", "serious_violent",
                 "clearance_rate", "arrests", "disputes_found", "disputes_violent", "sense_of_safety_pct")


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control); NaNs stay NaN and are not counted.

    The i-th smallest of m p-values is multiplied by ``m − i`` (i from 0), then a running
    maximum keeps the order, capped at 1 (Holm 1979).
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok) == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out[order] = adjusted
    return out


def year_drift(frame: pd.DataFrame, metrics: Sequence[str] = DRIFT_METRICS, level: float = 0.95) -> pd.DataFrame:
    """Paired change between consecutive counted years, per scenario and metric.

    Args:
        frame: Yearly rows (``metrics.csv``): ``scenario, replicate, year`` and the metrics.
        metrics: Metrics to compare (those missing from ``frame`` are skipped).
        level: Level of the intervals.

    Returns:
        One row per scenario × metric × pair of consecutive years: ``scenario, metric, year_from,
        year_to, replicates, mean_from, mean_to``, the mean paired difference ``change`` with its
        interval ``change_lo, change_hi``, the relative change ``change_pct`` (log-ratio scale;
        empty when a level is 0) with ``change_pct_lo, change_pct_hi``, the paired t-test's
        ``p_value`` and ``p_holm`` (Holm-adjusted over the whole table), and ``drift``: True where
        ``p_holm`` is below ``1 − level``.
    """
    rows = []
    for scenario, runs in frame.groupby("scenario", sort=True):
        years = sorted(runs["year"].unique())
        for metric in metrics:
            if metric not in runs:
                continue
            wide = runs.pivot(index="replicate", columns="year", values=metric)
            for y0, y1 in zip(years[:-1], years[1:], strict=True):
                pair = wide[[y0, y1]].dropna()
                old, new = pair[y0].to_numpy(dtype=float), pair[y1].to_numpy(dtype=float)
                diff = new - old
                change, lo, hi = mean_interval(diff, level)
                pct, pct_lo, pct_hi = relative_change(new, old, level)
                p = stats.ttest_rel(new, old).pvalue if len(diff) > 1 and np.ptp(diff) > 0 else np.nan
                rows.append({"scenario": scenario, "metric": metric, "year_from": int(y0), "year_to": int(y1),
                             "replicates": len(diff), "mean_from": float(old.mean()), "mean_to": float(new.mean()),
                             "change": change, "change_lo": lo, "change_hi": hi, "change_pct": pct,
                             "change_pct_lo": pct_lo, "change_pct_hi": pct_hi, "p_value": float(p)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_holm"] = holm(table["p_value"].to_numpy())
    table["drift"] = table["p_holm"] < 1.0 - level
    return table


def run_baselines(cities: Sequence[str] = CITIES, replicates: int = 16, years: int = 3, scale: float = 0.1,
                  seed: int = 1, jobs: int = 1, overrides: Sequence[str] = (), progress: bool = True) -> pd.DataFrame:
    """Run each city's ``<city>_baseline`` for ``years`` counted years; their yearly rows.

    Replicate *r* has the same seed in every city (:func:`sim.experiments.runner.replicate_seed`).
    ``overrides`` (``key.path=value``) apply to every scenario after ``run.years``.
    """
    if replicates < 2 or years < 2:
        raise ValueError(f"need at least 2 replicates and 2 counted years, got {replicates} and {years}")
    scenarios = [load_scenario(f"{c}_baseline", [f"run.years={years}", *overrides]) for c in cities]
    results = run_tasks(scenario_tasks(scenarios, replicates, seed, scale), jobs=jobs, progress=progress)
    return metrics_frame(results)


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.experiments.stationarity``: run the baselines, write the drift table."""
    ap = argparse.ArgumentParser(prog="python -m sim.experiments.stationarity", description=__doc__.split("\n")[0])
    ap.add_argument("--cities", nargs="+", default=list(CITIES), choices=CITIES)
    ap.add_argument("--replicates", type=int, default=16)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("results/stationarity"))
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    frame = run_baselines(args.cities, args.replicates, args.years, args.scale, args.seed, args.jobs, args.overrides)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(frame, args.out / "metrics.csv", float_format="%.10g")
    table = year_drift(frame)
    write_csv(table, args.out / "stationarity.csv", float_format="%.6g")
    shown = table[["scenario", "metric", "year_from", "year_to", "mean_from", "mean_to", "change_pct",
                   "change_pct_lo", "change_pct_hi", "p_value", "p_holm", "drift"]]
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
