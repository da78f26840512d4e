"""Benchmark: how long a calibration takes, stage by stage, and what 2 000 simulations cost.

Runs the whole pipeline (:class:`sim.calibration.calibrate.Calibration`: Morris screening,
ABC-SMC, posterior-predictive check, attribution) into a fresh folder and prints the wall time,
the simulations of each stage (a simulation is one run of one scenario), the wall time per
simulation, and the projected wall time of 2 000 simulations at that rate. Usage::

    python benchmarks/calibration_speed.py [--budget 400] [--particles 20] [--scale 0.1] [--jobs -1]
    python benchmarks/calibration_speed.py --from calibration/results/main   # read a finished run's summary

``--from`` reads ``summary.json`` of a calibration already run with ``pingan calibrate`` (the
figures in the README come from the committed full calibration, which is its own benchmark).
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--from", dest="source", type=Path, default=None, help="a finished calibration's folder")
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--particles", type=int, default=20)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--jobs", type=int, default=-1)
    args = ap.parse_args()
    if args.source is not None:
        report(json.loads((args.source / "summary.json").read_text()))
        return
    from sim.calibration.calibrate import Calibration, CalibrationConfig

    cfg = CalibrationConfig(budget=args.budget, particles=args.particles, scale=args.scale, trajectories=1,
                            max_params=6, draws=8, attribution_replicates=2)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cal = Calibration(cfg, Path(tmp), jobs=args.jobs, progress=False)
        summary = cal.run(plots=False)
        cal.close()
        summary["wall_seconds"] = time.perf_counter() - started
    report(summary)


if __name__ == "__main__":
    main()
