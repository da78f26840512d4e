"""Calibration, stage 6: leave one city out — each city predicted by a calibration without its targets.

For each city, ABC-SMC on the same design without that city's targets, then the city predicted
with real simulations of that posterior (``holdout-<city>/``, ``leave_one_out.csv``).

The screening and the design are shared with the full calibration, so a held-out city still had a say
in *which* parameters are estimated (not in their values). :func:`screening_without_each_city` says
how much: the screening repeated without each city (the same Morris runs, found in the store), and
the parameters it would estimate instead (``screening_by_city.csv``). ``python -m
sim.calibration.leave_one_out RESULTS`` writes it for a finished calibration.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from sim.calibration.design import fit_emulators, mark_unreachable
from sim.calibration.inference import emulator_summary, infer
from sim.calibration.predictive import predict
from sim.calibration.screening import screen
from sim.calibration.state import CalibrationState
from sim.csv_output import write_csv

__all__ = ["leave_one_out", "screening_without_each_city"]


def leave_one_out(cal: CalibrationState) -> pd.DataFrame:
    """For each city: emulator ABC without its targets, then real simulations of its scenarios.

    Call after the other stages (emulator method, nothing held out). Reuses the design, its store
    and the screening's parameters; each target has its own emulator, so leaving a city out
    drops its emulators and refits nothing else (a refit on the same design would give the
    same fit). Writes ``holdout-<city>/`` (``predictive.csv`` of the city's targets,
    ``diagnostics.csv``, ``populations.csv``, ``posterior.csv``, ``emulator.csv``,
    ``summary.json``) and ``leave_one_out.csv``.
    """
    cal.check_leave_one_out()
    if cal.emulators is None:
        fit_emulators(cal)
    tables = []
    cal.leave_one_out_stats = {}
    for city in sorted(set(cal.targets.loc[cal.compared, "city"])):
        started = time.time()
        cal.log(f"leave-one-out: {city}")
        child = CalibrationState(replace(cal.config, hold_out=city, leave_one_out=False),
                                 cal.out / f"holdout-{city}", jobs=cal.jobs, backend=cal.backend,
                                 scheduler=cal.scheduler, progress=cal.progress, log=cal.log, store=cal.store)
        child.params = cal.params
        child.quiet = cal.quiet & child.used  # the parent's rule on the same design
        child.design_u, child.design_stats = cal.design_u, cal.design_stats
        child.emulators = cal.emulators  # the city's targets are excluded by child.used in the distance
        if not cal.config.fit_unreachable:
            mark_unreachable(child)  # the same rule on the same design, over the child's targets
        cv = cal.emulator_cv
        child.emulator_cv = cv[cv["target_id"].isin(set(child.targets.loc[child.used, "target_id"]))]
        write_csv(child.emulator_cv, child.out / "emulator.csv", float_format="%.6g")
        child.emulator_seconds = {"fit": 0.0, "cross_validation": 0.0}
        child.write_config()
        infer(child)
        held = child.targets.loc[child.held_out & child.compared, "scenario"]
        pred = predict(child, sorted(set(held)))
        cal.leave_one_out_stats[city] = child.predictive_stats
        pred = pred[pred["held_out"] & pred["compared"]]
        summary = {
            "held_out": city, "wall_seconds": round(time.time() - started, 1),
            "simulations": dict(child.sims, total=sum(child.sims.values())),
            "generations": len(child.result.populations), "stopped": child.result.stopped,
            "parameters": [p.key for p in child.params],
            "held_out_hits": int(pred["hit"].astype(bool).sum()), "held_out_targets": int(len(pred)),
            **emulator_summary(child),
        }
        (child.out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        cal.log(f"leave-one-out {city}: {summary['held_out_hits']} of {summary['held_out_targets']} held-out "
                f"targets hit")
        tables.append(pred.assign(city=city)[["city", "target_id", "reported", "sim_lo", "sim_median",
                                              "sim_hi", "hit"]].rename(columns={"target_id": "target"}))
        cal.sims["leave_one_out"] = cal.sims.get("leave_one_out", 0) + child.sims["predictive"]
        child.close()
    table = pd.concat(tables, ignore_index=True)
    write_csv(table, cal.out / "leave_one_out.csv", float_format="%.6g")
    cal.leave_one_out_table = table
    screening_without_each_city(cal)
    return table


def screening_without_each_city(cal: CalibrationState) -> pd.DataFrame:
    """For each city, the screening repeated without its targets: which parameters it would estimate.

    The same Morris points and seed as the calibration's screening, on the other cities' scenarios
    (their runs are in the store: nothing new is simulated). Writes ``holdout-<city>/screening.csv``
    and ``screening_by_city.csv`` (``city, parameter, estimated, estimated_without_city``: every
    parameter estimated either way).
    """
    estimated = {p.key for p in cal.params}
    rows = []
    for city in sorted(set(cal.targets.loc[cal.compared, "city"])):
        child = CalibrationState(replace(cal.config, hold_out=city, leave_one_out=False),
                                 cal.out / f"holdout-{city}", jobs=cal.jobs, backend=cal.backend,
                                 scheduler=cal.scheduler, progress=False, store=cal.store)
        screen(child)
        without = {p.key for p in child.params}
        rows += [{"city": city, "parameter": p.key, "estimated": p.key in estimated,
                  "estimated_without_city": p.key in without}
                 for p in cal.candidates if p.key in estimated | without]
        changed = estimated ^ without
        cal.log(f"screening without {city}: " + (f"{len(changed)} parameters differ" if changed else "the same"))
        child.close()
    table = pd.DataFrame(rows)
    write_csv(table, cal.out / "screening_by_city.csv")
    return table


def main(argv: list[str] | None = None) -> int:
    from sim.calibration.state import CalibrationConfig

    ap = argparse.ArgumentParser(prog="python -m sim.calibration.leave_one_out",
                                 description="the screening repeated without each city (screening_by_city.csv)")
    ap.add_argument("results", type=Path, help="a finished calibration's results folder (its store holds the runs)")
    args = ap.parse_args(argv)
    cal = CalibrationState(CalibrationConfig.read(args.results), args.results, jobs=1)
    try:
        screen(cal)
        table = screening_without_each_city(cal)
    finally:
        cal.close()
    differ = table[table["estimated"] != table["estimated_without_city"]]
    print(differ.to_string(index=False) if len(differ) else "every city's screening estimates the same parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
