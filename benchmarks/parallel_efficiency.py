"""Benchmark: parallel efficiency of the experiment runner, and the store's cost per run.

Runs the same tasks with 1 and with 2 local workers (joblib/loky) through
:func:`sim.experiments.runner.run_tasks`, committing every run to a fresh results store, and
prints wall times, the parallel efficiency T1 / (2 × T2), the mean run time, and the time
spent in the store per run. Usage::

    python benchmarks/parallel_efficiency.py [--runs 4] [--scale 0.2] [--years 2]

Runs must last several seconds each for the figure to mean what planners see (the issue
asks for ≥ 0.8 with 2 workers for runs of ≥ 5 s); the defaults give ~6 s runs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim import load_scenario
from sim.experiments.runner import run_tasks, scenario_tasks
from sim.experiments.store import ResultsStore


class _TimedStore:
    """Wraps a store and adds up the time spent in it."""

    def __init__(self, store: ResultsStore):
        self.store = store
        self.seconds = 0.0

    def finished_ids(self) -> set[str]:
        return self.store.finished_ids()

    def put(self, record) -> bool:
        t = time.perf_counter()
        ok = self.store.put(record)
        self.seconds += time.perf_counter() - t
        return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--years", type=int, default=2)
    args = ap.parse_args()
    scen = load_scenario("suizhou_2022", [f"run.years={args.years}"])
    tasks = scenario_tasks([scen], args.runs, base_seed=11, scale=args.scale)
    wall = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            timed = _TimedStore(ResultsStore(Path(tmp) / f"jobs{jobs}.sqlite"))
            t = time.perf_counter()
            run_tasks(tasks, jobs=jobs, store=timed, progress=False, keep=False)
            wall[jobs] = time.perf_counter() - t
            timed.store.close()
            print(f"jobs={jobs}: {wall[jobs]:7.2f} s for {len(tasks)} runs "
                  f"(store: {timed.seconds / len(tasks) * 1000:.2f} ms per run)")
    print(f"mean run (1 worker)   {wall[1] / len(tasks):7.2f} s")
    print(f"speed-up with 2       {wall[1] / wall[2]:7.2f}x")
    print(f"parallel efficiency   {wall[1] / (2 * wall[2]):7.2f}  (target ≥ 0.8)")


if __name__ == "__main__":
    main()
