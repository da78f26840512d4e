"""Benchmark: do the calibration targets' statistics at a reduced scale agree with full scale?

For every target in ``calibration/targets.csv`` whose scenario is run, the statistic the calibration
compares (``sim.calibration.targets``: a level or rate is the mean over the target's ``years``, a change
is ``100 * (value in year / value in base_year - 1)``) is computed in each run, with levels divided by
the scale. Runs go one after the other in this process (no workers). Usage::

    python benchmarks/calibration_scale.py [--scales 0.05 0.1 1.0] [--seeds 1 2 3]
        [--scenarios suizhou_2022 daqing_2021 ...] [--out stats.csv] [--rows rows.csv]

Prints a table target × scale (mean and sd over seeds) and, for each reduced scale, the difference
from the largest scale run in units of the target's tolerance (``d/tol``; ``-`` where the tolerance
is 0, i.e. a direction-only bound), the relative difference in percent, and ``z``, the difference over
its standard error from the seed-to-seed spread. A second table compares every level metric's
level / scale with the largest scale over all counted years of all runs (per scenario), which is what
deciding on ``RESCALABLE_LEVELS`` needs. Scenarios are cut to the years the targets use, as the
calibration cuts them (``sim.calibration.state.cut_scenario``), and the statistics are the
calibration's own (``target_statistics``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core

import pandas as pd  # noqa: E402

from sim.calibration.state import cut_scenario, target_statistics  # noqa: E402
from sim.calibration.targets import load_targets  # noqa: E402
from sim.csv_output import write_csv  # noqa: E402
from sim.experiments.runner import run_one  # noqa: E402
from sim.scenario.loader import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: The population (a check on the sample size), the level metrics of the targets table, and the two
#: levels already rescalable.
LEVEL_METRICS = ("population", "disputes_found", "disputes_resolved_by_police", "tickets_received", "disputes_mediated",
                 "cases_cleared", "serious_violent", "homicides", "preventable_cases", "calls_for_service")


def fmt(x: float, width: int = 9) -> str:
    if not math.isfinite(x):
        return "-".rjust(width)
    a = abs(x)
    s = f"{x:.0f}" if a >= 1000 else f"{x:.1f}" if a >= 10 else f"{x:.2f}" if a >= 1 else f"{x:.3f}"
    return s.rjust(width)


def compare(means: pd.Series, sds: pd.Series, ns: pd.Series, ref: float, scale: float):
    """Difference of ``scale`` from ``ref``: (d, relative %, z)."""
    d = means[scale] - means[ref]
    rel = 100.0 * d / abs(means[ref]) if means[ref] else math.nan
    se = math.sqrt((sds[scale] ** 2) / ns[scale] + (sds[ref] ** 2) / ns[ref]) if ns[scale] > 1 and ns[ref] > 1 else 0
    z = d / se if se > 0 else math.nan
    return d, rel, z


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[0.05, 0.1, 1.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--scenarios", nargs="+", default=None, help="default: every scenario of the targets table")
    ap.add_argument("--targets", default=str(ROOT / "calibration" / "targets.csv"))
    ap.add_argument("--out", default=None, help="write the per-run statistics here (CSV)")
    ap.add_argument("--rows", default=None, help="write every run's per-year metric rows here (CSV)")
    ap.add_argument("--reuse", action="store_true", help="run nothing: print the tables from --out and --rows")
    args = ap.parse_args()
    if args.reuse and not (args.out and args.rows):
        ap.error("--reuse needs --out and --rows")

    targets = load_targets(args.targets)
    names = args.scenarios or list(dict.fromkeys(targets["scenario"]))
    unknown = [n for n in names if n not in set(targets["scenario"])]
    if unknown:
        sys.exit(f"no target uses scenario(s) {unknown}")
    scales = sorted(set(args.scales))

    if args.reuse:
        st, rows_df = pd.read_csv(args.out), pd.read_csv(args.rows)
        st = st[st["scenario"].isin(names) & st["scale"].isin(scales) & st["seed"].isin(args.seeds)]
        rows_df = rows_df[rows_df["scenario"].isin(names) & rows_df["scale"].isin(scales)
                          & rows_df["seed"].isin(args.seeds)]
        timings = st.drop_duplicates(["scenario", "scale", "seed"])[["scenario", "scale", "seed", "seconds"]]
    else:
        st, rows_df, timings = run_all(names, targets, scales, args.seeds)
        if args.out:
            write_csv(st, args.out, float_format="%.10g")
        if args.rows:
            write_csv(rows_df, args.rows, float_format="%.10g")
    report(st, rows_df, timings, names, scales, args.seeds)


def run_all(names, targets, scales, seeds):
    """Run every scenario × scale × seed, one after the other; per-run statistics, rows and timings."""
    stats, all_rows, timings = [], [], []
    for name in names:
        tg = targets[targets["scenario"] == name]
        last = max(max(y) for y in tg["years"])
        base = load_scenario(name)
        scen = cut_scenario(name, base, last - base.run.first_year + 1)
        print(f"# {name}: years {scen.run.year_labels}", flush=True)
        for scale in scales:
            for seed in seeds:
                t0 = time.perf_counter()
                res = run_one(scen, seed, seed, scale)
                secs = time.perf_counter() - t0
                timings.append({"scenario": name, "scale": scale, "seed": seed, "seconds": secs})
                print(f"  scale {scale:g} seed {seed}: {secs:6.1f} s", flush=True)
                rows = {int(r["year"]): r for r in res.rows}
                for r in res.rows:
                    all_rows.append({"scenario": name, "scale": scale, "seed": seed, **r})
                values = target_statistics(res.rows, tg, scale)
                for t, value in zip(tg.to_dict("records"), values, strict=True):
                    stats.append({"target_id": t["target_id"], "scenario": name, "metric": t["metric"],
                                  "kind": t["kind"], "tolerance": t["tolerance"], "scale": scale, "seed": seed,
                                  "value": value, "population": rows[t["years"][0]]["population"], "seconds": secs})
    return pd.DataFrame(stats), pd.DataFrame(all_rows), pd.DataFrame(timings)


def report(st, rows_df, timings, names, scales, seeds) -> None:
    """Print the target table, the level-metric table and the timings."""
    ref = scales[-1]
    reduced = [s for s in scales if s != ref]
    print(f"\nTargets: mean ± sd over seeds {seeds} (levels / scale; * = a change with a zero base in some seed, "
          f"left out); against scale {ref:g}: d/tol = difference in tolerances, rel = relative difference %, "
          "z = difference / its standard error")
    head = f"{'target_id':32s} {'kind':10s} {'tol':>7s}"
    for s in scales:
        head += f" | {'scale ' + format(s, 'g'):>19s}"
    for s in reduced:
        head += f" | {format(s, 'g') + ': d/tol':>10s} {'rel%':>6s} {'z':>5s}"
    print(head)
    print("-" * len(head))
    for tid in dict.fromkeys(st["target_id"]):
        d = st[st["target_id"] == tid]
        g = d.groupby("scale")["value"]
        means, sds, ns = g.mean(), g.std(ddof=1), g.count()
        tol, kind = d["tolerance"].iloc[0], d["kind"].iloc[0]
        line = f"{tid:32s} {kind:10s} {fmt(tol, 7)}"
        for s in scales:
            line += f" | {fmt(means[s])}{'*' if ns[s] < len(seeds) else ' '}± {fmt(sds[s], 7)}"
        for s in reduced:
            diff, rel, z = compare(means, sds, ns, ref, s)
            line += f" | {fmt(diff / tol if tol else math.nan, 10)} {fmt(rel, 6)} {fmt(z, 5)}"
        print(line)

    print(f"\nLevel metrics, level / scale over every counted year of each scenario (mean over seeds and years); "
          f"against scale {ref:g}: ratio - 1 in %, and z")
    head = f"{'metric':28s} {'scenario':20s}"
    for s in scales:
        head += f" {'scale ' + format(s, 'g'):>12s}"
    for s in reduced:
        head += f" | {format(s, 'g') + ': rel%':>10s} {'z':>6s}"
    print(head)
    print("-" * len(head))
    for metric in LEVEL_METRICS:
        for name in names:
            d = rows_df[rows_df["scenario"] == name].copy()
            if metric not in d or not d[metric].abs().sum():
                continue
            d["v"] = d[metric] / d["scale"]
            per_run = d.groupby(["scale", "seed"])["v"].mean().reset_index()  # mean over years, per run
            g = per_run.groupby("scale")["v"]
            means, sds, ns = g.mean(), g.std(ddof=1), g.count()
            line = f"{metric:28s} {name:20s}" + "".join(f" {fmt(means[s], 12)}" for s in scales)
            for s in reduced:
                _, rel, z = compare(means, sds, ns, ref, s)
                line += f" | {fmt(rel, 10)} {fmt(z, 6)}"
            print(line)

    tm = timings.groupby(["scenario", "scale"])["seconds"].agg(["median", "min", "max"])
    print("\nWall time per run [s] (city build included in each scale's first run)")
    print(tm.round(1).to_string())


if __name__ == "__main__":
    main()
