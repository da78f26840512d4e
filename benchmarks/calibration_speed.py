"""Benchmark: how long a calibration takes, stage by stage, and what 2 000 simulations cost.

Runs the whole pipeline (:class:`sim.calibration.calibrate.Calibration`: Morris screening,
ABC-SMC, posterior-predictive check, attribution) into a fresh folder and prints the wall time,
the simulations of each stage (a simulation is one run of one scenario), the wall time per
simulation, and the projected wall time of 2 000 simulations at that rate. Usage::

    python benchmarks/calibration_speed.py [--budget 400] [--particles 20] [--scale 0.1] [--jobs -1]
    python benchmarks/calibration_speed.py --from calibration/results/main   # read a finished run's summary
    python benchmarks/calibration_speed.py --replay calibration/results/main --sample 200 [--jobs 2]

``--from`` reads ``summary.json`` of a calibration already run with ``pingan calibrate`` (the
figures in the README come from the committed full calibration, which is its own benchmark).

``--replay`` measures the current code on the committed calibration's own simulations: it
reruns an evenly spaced sample of the ABC runs (simulator method) or design runs (emulator
method) kept in that calibration's store (the same scenarios, parameter values, seeds and
scale), on the local workers, prints the wall time per simulation and the projected time of
2 000, and checks each rerun's yearly rows against the stored ones (a faster model must compute
the same results, or the calibration must be rerun). The store is not committed (it is in
``.gitignore``): replay where the calibration ran, or on a store of the same simulations.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def report(summary: dict) -> None:
    sims = summary["simulations"]
    wall = summary["wall_seconds"]
    per = wall / sims["total"]
    print(f"wall time           {wall:8.0f} s ({wall / 60:.1f} min)")
    for stage in ("screening", "abc", "predictive", "attribution"):
        print(f"  {stage:17s} {sims.get(stage, 0):6d} simulations")
    print(f"  {'total':17s} {sims['total']:6d} simulations")
    print(f"per simulation      {per:8.2f} s wall (all workers together)")
    stages = summary.get("stage_seconds", {})
    if stages.get("abc"):
        per = stages["abc"] / sims["abc"]
        print(f"ABC stage           {stages['abc']:8.0f} s for {sims['abc']} simulations: {per:.2f} s each")
    print(f"2 000 simulations   {2000 * per / 60:8.1f} min projected at this rate")
    print(f"scales              {summary['scales']}")


def replay(folder: Path, sample: int, jobs: int) -> None:
    """Rerun a sample of ``folder``'s stored ABC or design simulations; time them and compare their rows."""
    import math
    import sqlite3

    from sim.calibration.calibrate import Calibration, CalibrationConfig
    from sim.calibration.posterior import with_parameters
    from sim.experiments.runner import Task, run_tasks
    from sim.experiments.store import ResultsStore, model_version, run_id

    config = json.loads((folder / "config.json").read_text())
    cfg = CalibrationConfig.read(folder)
    con = sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True)
    runs = con.execute("SELECT run_id, scenario, point, seed, scale FROM runs WHERE sweep IN ('abc', 'design') "
                       "ORDER BY point_id, scenario").fetchall()
    con.close()
    if not runs:
        raise SystemExit(f"{folder / 'store.sqlite'}: no ABC or design simulations stored")
    # The same number of each scenario, as a particle simulates every scenario once; evenly spaced.
    names = sorted({r[1] for r in runs})
    picked = []
    for name in names:
        mine = [r for r in runs if r[1] == name]
        k = min(len(mine), max(1, sample // len(names)))
        picked += [mine[round(i * (len(mine) - 1) / max(k - 1, 1))] for i in range(k)]
    with tempfile.TemporaryDirectory() as tmp:
        cal = Calibration(cfg, Path(tmp) / "cal", jobs=jobs, progress=False)
        cal.close()
        tasks = []
        for i, (_rid, name, point, seed, scale) in enumerate(picked):
            payload = with_parameters(cal.scenarios[name], json.loads(point)).model_dump_json()
            tasks.append(Task(name, payload, i, json.loads(point), i, int(seed), float(scale),
                              run_id(payload, json.loads(point), int(seed), float(scale))))
        with ResultsStore(Path(tmp) / "replay.sqlite") as fresh:
            started = time.perf_counter()
            run_tasks(tasks, jobs, store=fresh, sweep="replay", progress=False, keep=False)
            wall = time.perf_counter() - started
            new = fresh.run_rows([t.run_id for t in tasks])
        with ResultsStore(folder / "store.sqlite") as old_store:
            old = old_store.run_rows([r[0] for r in picked])

    def same(a: list[dict], b: list[dict]) -> bool:
        return len(a) == len(b) and all(
            x.keys() == y.keys() and all(x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k])) for k in x)
            for x, y in zip(a, b, strict=True))

    equal = sum(same(new[t.run_id], old[r[0]]) for t, r in zip(tasks, picked, strict=True))
    per = wall / len(tasks)
    mix = {n: sum(r[1] == n for r in picked) for n in sorted({r[1] for r in picked})}
    print(f"replayed            {len(tasks)} of {len(runs)} stored simulations of {folder} ({mix})")
    print(f"model version       stored {config.get('model_version')}, this code {model_version()}")
    print(f"identical rows      {equal} of {len(tasks)}")
    print(f"wall time           {wall:8.1f} s on {jobs} worker(s): {per:.2f} s per simulation")
    print(f"2 000 simulations   {2000 * per / 60:8.1f} min projected at this rate")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="source", type=Path, default=None, help="a finished calibration's folder")
    ap.add_argument("--replay", type=Path, default=None, help="a finished calibration's folder (with its store)")
    ap.add_argument("--sample", type=int, default=200, help="stored simulations to rerun, with --replay")
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--particles", type=int, default=20)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--jobs", type=int, default=-1)
    args = ap.parse_args()
    if args.source is not None:
        report(json.loads((args.source / "summary.json").read_text()))
        return
    if args.replay is not None:
        replay(args.replay, args.sample, args.jobs)
        return
    from sim.calibration.calibrate import Calibration, CalibrationConfig

    cfg = CalibrationConfig(budget=args.budget, particles=args.particles, scale=args.scale, trajectories=1,
                            max_params=6, draws=8, attribution_replicates=2, method="simulator")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cal = Calibration(cfg, Path(tmp), jobs=args.jobs, progress=False)
        summary = cal.run(plots=False)
        cal.close()
        summary["wall_seconds"] = time.perf_counter() - started
    report(summary)


if __name__ == "__main__":
    main()
