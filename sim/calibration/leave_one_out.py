"""Calibration, stage 6: leave one city out — each city predicted by a calibration without its targets.

For each city, ABC-SMC on the same design without that city's targets, then the city predicted
with real simulations of that posterior (``holdout-<city>/``, ``leave_one_out.csv``).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pandas as pd

from sim.calibration.design import fit_emulators
from sim.calibration.inference import emulator_summary, infer
from sim.calibration.predictive import predict
from sim.calibration.state import CalibrationState
from sim.csv_output import write_csv

__all__ = ["leave_one_out"]


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
        child.design_u, child.design_stats = cal.design_u, cal.design_stats
        child.emulators = cal.emulators  # the city's targets are excluded by child.used in the distance
        child.unreachable = cal.unreachable & child.used  # decided on the whole design, as for the parent
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
    return table
