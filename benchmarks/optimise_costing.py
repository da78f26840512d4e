"""Benchmark: what costing packages at full scale takes before and during a ``pingan optimise`` study.

Prints the wall time and peak memory of setting up a study of a scenario's default lever menu (which
costs the cheapest package that buys anything: one package per lever), then the time to cost
``--packages`` packages drawn at random from that menu, as the search asks them. Each step runs in
the same process, after the imports, so the peak memory includes the full-scale population the
costing builds. Usage::

    python benchmarks/optimise_costing.py [--scenario suizhou_2022] [--packages 20] [--seed 1] [--write FILE]

Time only on a quiet machine or pair the runs you compare (the figure is the machine's).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from sim import load_scenario
from sim.optimise.costs import package_cost
from sim.optimise.menu import apply_levers, default_levers
from sim.optimise.study import load_study
from sim.scenario.schema import Scenario


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="suizhou_2022")
    ap.add_argument("--packages", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", type=Path, default=None, help="append the figures to this file")
    args = ap.parse_args()
    load = os.getloadavg()[0]

    scenario = load_scenario(args.scenario)
    before = _peak_mb()
    start = time.perf_counter()
    load_study(scenario, 1e15, tempfile.mkdtemp(prefix="pingan-costing-"))
    setup = time.perf_counter() - start
    lines = [f"{args.scenario}: study set-up (the default menu's cheapest package) {setup:.1f} s, "
             f"peak memory {_peak_mb():.0f} MB ({_peak_mb() - before:.0f} MB above the imports)"]
    rng = random.Random(args.seed)
    data = json.loads(scenario.model_dump_json())
    levers = default_levers(scenario)
    start = time.perf_counter()
    for _ in range(args.packages):
        values = {}
        for key, lever in levers.items():
            if lever.range is not None:
                low, high = lever.range
                step = lever.step or 1.0
                values[key] = low + step * rng.randint(0, int((high - low) / step))
            else:
                values[key] = rng.choice(lever.choices)
        package_cost(Scenario.model_validate(apply_levers(data, values)), 10)
    each = (time.perf_counter() - start) / max(args.packages, 1)
    lines.append(f"then {args.packages} packages from the menu: {each:.2f} s each, peak memory {_peak_mb():.0f} MB "
                 f"(load average {load:.1f} before, shared machine)")
    print("\n".join(lines))
    if args.write is not None:
        with args.write.open("a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
