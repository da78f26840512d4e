"""How close the pre-run memory estimate is to the measured peak memory of real runs.

Each configuration runs once, in a fresh Python process (``pingan``'s own engine, one replicate,
one worker), and the process's peak resident set size (``ru_maxrss``) is compared with
:func:`sim.experiments.resources.estimate_run_memory`, computed before anything is built::

    python benchmarks/memory_estimate.py --out benchmarks/results/memory_estimate.txt   # ~8 min on 2 cores
    python benchmarks/memory_estimate.py --quick    # the small ones only (~1 min)

The first group of configurations is the one the bytes per item were read from (pairs that
differ in one thing: scale, cell size, urban density, calls, grids, disputes); the second group
was not used to set them (other cities, full scale, several years). Prints one line per run and
the ratio estimate / measured; ``--out`` also writes them to a file (the committed one is quoted in
``docs/bad-input.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

#: (scenario, scale, --set overrides, whether its run length is the scenario's own); the short runs
#: are one counted year after a week's warm-up.
SET_FROM = [
    ("suizhou_baseline", 0.01, []),
    ("suizhou_baseline", 0.2, []),
    ("suizhou_baseline", 0.4, []),
    ("suizhou_baseline", 0.2, ["city.cell_size_km=0.25"]),
    ("suizhou_baseline", 0.2, ["city.urban_density_per_km2=500.0"]),
    ("suizhou_baseline", 0.05, ["calls.non_crime_per_1000_year.public_order=3000.0"]),
    ("suizhou_baseline", 0.05, ["city.residents_per_grid=50"]),
    ("suizhou_baseline", 0.1, ["disputes.per_1000_households_year.neighbour=1000.0"]),
]
CHECKED_ON = [
    ("suizhou_2022", 1.0, ["full"]),
    ("daqing_2021", 1.0, ["full"]),
    ("xingan_2016_2020", 0.5, ["full"]),
    ("jincheng_2016_2020", 0.3, ["full", "city.urban_density_per_km2=300.0"]),
    ("suizhou_baseline", 0.05, ["calls.non_crime_per_1000_year.public_order=10000.0"]),
    ("suizhou_baseline", 0.3, ["city.attractor_sites_per_100k=1000.0", "city.cell_size_km=0.2"]),
]
QUICK = {0, 1, 5, 6}

_CHILD = """
import json, resource, sys
from sim.experiments.resources import estimate_run_memory
from sim.experiments.runner import run_one
from sim.scenario import load_scenario
name, scale, sets = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
full = sets[:1] == ["full"]
s = load_scenario(name, sets[1:] if full else ["run.warmup_days=7", "run.years=1", *sets])
estimate = estimate_run_memory(s, scale)
run_one(s, 0, 1, scale)
print(json.dumps({"estimate": estimate.total, "parts": estimate.parts,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def measure(name: str, scale: float, sets: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, name, str(scale), json.dumps(sets)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the small configurations")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this file")
    args = parser.parse_args()
    mib = 2**20
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    say(f"pingan {metadata.version('pingan')}, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; peak RSS of "
        "one run in a fresh process against the estimate made before it")
    groups = [("bytes per item read from these", SET_FROM), ("not used to set them", CHECKED_ON)]
    for title, configs in groups:
        say(f"\n{title}:")
        say(f"{'scenario':20s} {'scale':>5s}  {'overrides':58s} {'estimate':>9s} {'measured':>9s} {'ratio':>6s}")
        for i, (name, scale, sets) in enumerate(configs):
            if args.quick and (configs is CHECKED_ON or i not in QUICK):
                continue
            r = measure(name, scale, sets)
            shown = " ".join(sets) or "-"
            say(f"{name:20s} {scale:5g}  {shown[:58]:58s} {r['estimate'] / mib:7.0f} M {r['peak'] / mib:7.0f} M "
                f"{r['estimate'] / r['peak']:6.2f}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
