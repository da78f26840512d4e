"""Check by simulation: at equal numbers, do the location models' sites beat the scenario's and random ones?

For one dispatch base (default: Suizhou's rapid-response points, 28 at full scale), runs the same
package with its sites chosen by the scenario's own rule, by p-median, by MCLP and at random cells
of the same pool, all with the same seeds (common random numbers), and prints for each the
objective each model optimises on the calls it sites for — mean response (p-median) and share
within the response standard (MCLP) — then urgent calls only and the city-wide 90th percentile,
each paired against the scenario's sites with a 95 % interval, and the response model's prediction
beside the simulated value (:mod:`sim.optimise.siting_check`). The models' demand comes from
baseline runs with other seeds. Anchors (from the issue): a real police zone redesign in Atlanta
cut high-priority response time 5.8 %; a simulated p-median redesign cut it up to 14.5 %. Usage::

    python benchmarks/siting.py [--scenario suizhou_2022] [--facility rapid_response_points] [--count N]
                                [--scale 1.0] [--replicates 10] [--demand-replicates 4] [--random 3]
                                [--jobs 2] [--write docs/optimise/siting_rapid_response_points.txt]

A full-scale Suizhou year takes ~10 s; the defaults run 6 variants × 10 replicates plus 4 baseline
runs (about 6 minutes on 2 quiet cores).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from sim import load_scenario
from sim.optimise.siting_check import compare_sitings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="suizhou_2022")
    ap.add_argument("--facility", default="rapid_response_points",
                    choices=["rapid_response_points", "street_police_stations"])
    ap.add_argument("--count", type=int, default=None, help="sites at full scale (default: the scenario's)")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--demand-replicates", type=int, default=4)
    ap.add_argument("--random", type=int, default=3, help="random sets of sites")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--former", action="store_true", help="also the models' former formulation")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--write", type=Path, default=None, help="also write the output to this file")
    args = ap.parse_args()

    load_before = os.getloadavg()
    start = time.perf_counter()
    result = compare_sitings(load_scenario(args.scenario), args.facility, args.count, scale=args.scale,
                             replicates=args.replicates, demand_replicates=args.demand_replicates,
                             random_sets=args.random, seed=args.seed, former=args.former, jobs=args.jobs,
                             progress=True)
    wall = time.perf_counter() - start
    command = "python benchmarks/siting.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    text = (f"# {command}\n# wall time {wall / 60:.1f} min on {args.jobs} workers; load average before "
            f"{load_before[0]:.1f}, after {os.getloadavg()[0]:.1f} (shared machine)\n\n{result.text()}\n")
    print(text)
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)


if __name__ == "__main__":
    main()
