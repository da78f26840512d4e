"""The ``pingan`` command line: run, compare and validate scenarios.

    pingan run [SCENARIO] [--replicates R] [--seed S] [--scale F] [--jobs J] [--out DIR]
    pingan compare BASE ALT [ALT ...] [same options]
    pingan validate SCENARIO [SCENARIO ...]
    pingan scenarios

Every scenario is loaded and validated before any simulation starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.experiments.runner import RunResult, run_batch, write_metrics
from sim.experiments.summary import HEADLINE, compare, summarise
from sim.scenario import ScenarioError, builtin_scenarios, load_scenario

__all__ = ["main"]

DEFAULT_SCENARIO = "suizhou_2022"
MIN_RATE_SCALE = 0.1


def _scale(text: str) -> float:
    v = float(text)
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"--scale must be in (0, 1], got {text}")
    return v


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text}")
    return v


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicates", "-r", type=_positive, default=4, help="replicates (default 4)")
    p.add_argument("--seed", type=int, default=1, help="base seed (default 1)")
    p.add_argument("--scale", type=_scale, default=1.0, help="fraction of the full city, 0 < F ≤ 1")
    p.add_argument("--jobs", "-j", type=int, default=-1, help="worker processes (-1: one per core)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default results/NAME)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key, e.g. interventions.video.cameras=1000")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pingan", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario's replicates and summarise year on year")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help=f"scenario file or built-in name (default {DEFAULT_SCENARIO})")
    _run_options(run)
    cmp_ = sub.add_parser("compare", help="compare scenarios with BASE under common random numbers")
    cmp_.add_argument("base")
    cmp_.add_argument("alternatives", nargs="+")
    _run_options(cmp_)
    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", nargs="+")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sub.add_parser("scenarios", help="list the built-in scenarios")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "scenarios":
            for name, path in builtin_scenarios().items():
                print(f"{name:28s} {path}")
            return 0
        names = [args.scenario] if args.command == "run" else [args.base, *args.alternatives]
        scenarios = [load_scenario(n, args.overrides) for n in names]  # all validated first
    except ScenarioError as e:
        print(f"pingan: {e}", file=sys.stderr)
        return 2
    if args.scale < MIN_RATE_SCALE:
        print(f"pingan: note: at --scale below {MIN_RATE_SCALE} a county's few patrol units make rates per "
              f"100 000 drift from full scale (tested agreement from {MIN_RATE_SCALE} up)", file=sys.stderr)
    labels = [s.name for s in scenarios]
    if len(set(labels)) != len(labels):
        print(f"pingan: scenarios must have different names, got {labels}", file=sys.stderr)
        return 2
    out = args.out or Path("results") / "_vs_".join(labels)
    out.mkdir(parents=True, exist_ok=True)
    try:
        results = run_batch(scenarios, args.replicates, args.seed, args.scale, args.jobs, out,
                            progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"\npingan: interrupted; finished runs are kept in {out / 'runs'}", file=sys.stderr)
        return 130
    df = write_metrics(results, out / "metrics.csv")
    summary = summarise(df)
    summary.to_csv(out / "summary.csv", index=False, float_format="%.10g")
    _print_summary(summary)
    if args.command == "compare":
        diff = compare(df, labels[0])
        diff.to_csv(out / "compare.csv", index=False, float_format="%.10g")
        _print_compare(diff)
    if not args.no_plots:
        _plots(results, scenarios, out)
    print(f"\nwrote {out / 'metrics.csv'}, {out / 'summary.csv'}"
          + (f", {out / 'compare.csv'}" if args.command == "compare" else "")
          + ("" if args.no_plots else f" and plots in {out}"))
    return 0


def _validate(args) -> int:
    bad = 0
    for name in args.scenarios:
        try:
            s = load_scenario(name, args.overrides)
        except ScenarioError as e:
            print(f"{name}: INVALID\n{e}", file=sys.stderr)
            bad += 1
            continue
        on = ", ".join(s.enabled_interventions()) or "none"
        print(f"{name}: ok ({s.city.preset or 'custom'} city, years {s.run.year_labels}, "
              f"interventions: {on})")
    return 1 if bad else 0


def _print_summary(summary: pd.DataFrame) -> None:
    for scen, g in summary.groupby("scenario", sort=False):
        g = g[g["metric"].isin(HEADLINE)].set_index("metric").loc[[m for m in HEADLINE if m in set(g["metric"])]]
        y0, y1, n = g["year_from"].iloc[0], g["year_to"].iloc[0], g["replicates"].iloc[0]
        print(f"\n{scen}: {y1} against {y0}, mean over {n} replicates [95 % interval]")
        print(f"  {'metric':26s} {y0:>12} {y1:>12}   {'change %':>24}")
        for m, r in g.iterrows():
            print(f"  {m:26s} {r.mean_from:12.4g} {r.mean_to:12.4g}   "
                  f"{r.change_pct:+7.1f} [{r.change_pct_lo:+7.1f}, {r.change_pct_hi:+7.1f}]")


def _print_compare(diff: pd.DataFrame) -> None:
    for (scen, year), g in diff.groupby(["scenario", "year"], sort=False):
        g = g[g["metric"].isin(HEADLINE)]
        print(f"\n{scen} minus {g['base'].iloc[0]}, {year} (paired by replicate) [95 % interval]")
        for _, r in g.iterrows():
            print(f"  {r.metric:26s} {r.difference:+12.4g} [{r.difference_lo:+.4g}, {r.difference_hi:+.4g}]"
                  f"  {r.relative_pct:+7.1f} %")


def _plots(results: list[RunResult], scenarios, out: Path) -> None:
    from sim.plots import incident_map, time_series

    by_name: dict[str, list[RunResult]] = {}
    for r in results:
        by_name.setdefault(r.scenario, []).append(r)
    for s in scenarios:
        incident_map(by_name[s.name], s.run.year_labels, out / f"map_{s.name}.png")
    time_series(by_name, scenarios[0].run.first_year, out / "timeseries.png")


if __name__ == "__main__":
    sys.exit(main())
