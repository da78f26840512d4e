"""Benchmark: wall time and evaluations per minute of a Suizhou package study.

Runs ``pingan optimise suizhou_2022`` through the Python API into a fresh folder (a new study:
nothing is resumed) and prints the wall time, the packages scored and the simulations run per
minute, and what a Dask cluster would give if it scaled as the engine does on one machine. The
issue's study is the default: at least 100 packages within the budget of Suizhou's 2022 package ×
8 posterior draws of the committed calibration, one replicate each, at scale 0.1, on the local
cores. Usage::

    python benchmarks/optimise.py [--packages 100] [--draws 8] [--population 20] [--scale 0.1] [--jobs 2]
                                  [--out DIR] [--report FILE.html]

Try it small first (``--packages 4 --draws 2 --population 4``). Time only on a quiet machine:
the figure is the machine's, and other work on the cores changes it as much as the code does.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from sim import load_scenario
from sim.optimise.costs import package_cost
from sim.optimise.study import load_study

POSTERIOR = Path(__file__).resolve().parents[1] / "calibration" / "results" / "main" / "posterior.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packages", type=int, default=100)
    ap.add_argument("--draws", type=int, default=8)
    ap.add_argument("--replicates", type=int, default=1)
    ap.add_argument("--population", type=int, default=20)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="study folder (default: a new temporary one)")
    ap.add_argument("--report", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    scenario = load_scenario("suizhou_2022")
    budget = package_cost(scenario, 10.0).annual_yuan
    out = args.out or Path(tempfile.mkdtemp(prefix="pingan-optimise-"))
    study = load_study(scenario, budget, out, posterior=str(POSTERIOR), posterior_draws=args.draws,
                       replicates=args.replicates, packages=args.packages, population=args.population,
                       scale=args.scale, seed=args.seed,
                       objectives=["preventable_cases", "calls_for_service", "response_time_p90_min", "cost"])
    start = time.perf_counter()
    result = study.run(args.jobs, progress=True)
    wall = time.perf_counter() - start
    from sim.experiments.store import ResultsStore

    with ResultsStore(out / "store.sqlite") as store:
        simulations = store.count()
    scored = len(result.scored())
    trials = len(result.packages)
    per_sim = wall * args.jobs / max(simulations, 1)
    print(f"study: suizhou_2022, budget {budget:,.0f} yuan per year (its 2022 package), scale {args.scale:g}, "
          f"{args.draws} draws × {args.replicates} replicates, population {args.population}, {args.jobs} workers")
    print(f"wall time                         {wall:10.1f} s ({wall / 60:.1f} min)")
    print(f"packages asked / within budget     {trials:10d} / {sum(p.feasible for p in result.packages)}")
    print(f"distinct packages scored           {scored:10d}")
    print(f"simulations run (with baseline)    {simulations:10d}")
    print(f"packages scored per minute         {scored / wall * 60:10.2f}")
    print(f"simulations per minute             {simulations / wall * 60:10.1f}")
    print(f"worker-seconds per simulation      {per_sim:10.2f}")
    for workers in (8, 32):
        print(f"a Dask cluster of {workers:2d} workers, if it scaled as one machine does: "
              f"{simulations * per_sim / workers / 60:6.1f} min")
    print(f"front: {len(result.front())} packages; folder {out}")
    if args.report is not None:
        from sim.optimise.report import study_report

        result.write(out)
        study_report(result, args.report)


if __name__ == "__main__":
    main()
