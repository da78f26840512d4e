"""Benchmark: one full-scale city-year, every mechanism on, one core.

Prints the wall time of building the city and of simulating one year hour by hour, the
resident-hours per second, and the process's peak memory. Usage::

    python benchmarks/city_year.py [--scenario suizhou_2022] [--scale 1.0] [--seed 1] [--scenario-only]

By default every registered intervention is switched on (policing and social governance),
from the first hour (no baseline year, no warm-up), so the year measured carries them all;
``--scenario-only`` keeps just the scenario's own interventions.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core

from sim import PinganModel, load_scenario  # noqa: E402
from sim.interventions import REGISTRY  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="suizhou_2022")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario-only", action="store_true", help="only the scenario's own interventions")
    args = ap.parse_args()
    every = [] if args.scenario_only else [f"interventions.{k}.enabled=true" for k in sorted(REGISTRY)]
    scen = load_scenario(args.scenario, ["run.years=1", "run.warmup_days=0", "run.intervention_year=2021",
                                         "run.first_year=2021", *every])
    t0 = time.perf_counter()
    model = PinganModel(scen, seed=args.seed, scale=args.scale)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    row = model.year_rows()[0]
    hours = model.total_hours
    n = model.city.population
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scenario            {scen.name} (scale {args.scale}, seed {args.seed})")
    print(f"residents           {n:,}")
    print(f"cells / units       {model.city.n_cells:,} / {model.fleet.n}")
    print(f"interventions       {', '.join(iv.key for iv in model.interventions)}")
    print(f"build city          {t1 - t0:8.2f} s")
    print(f"simulate 1 year     {t2 - t1:8.2f} s  ({hours} hourly steps)")
    print(f"resident-hours/s    {n * hours / (t2 - t1):.3e}")
    print(f"peak memory         {peak:8.0f} MiB")
    print(f"offences / calls    {row['offences_true']:.0f} / {row['calls_for_service']:.0f}")
    print(f"disputes / tickets  {row['disputes_new']:.0f} / {row['tickets_received']:.0f}")


if __name__ == "__main__":
    main()
