"""Calibration, stage 6: leave one city out — each city predicted by a calibration that never saw its targets.

For each city: the screening without its targets (the same Morris points and seeds, on the other
cities' scenarios, found in the store), then ABC-SMC on emulators without its targets, then the city
predicted with real simulations of that posterior (``holdout-<city>/``, ``leave_one_out.csv``). Where
the screening without the city estimates the same parameters as the full calibration's, the full
design is reused (its emulators of the other cities' targets are the ones a design without the city
would give: the same points, seeds and runs); where it estimates others, the held-out calibration
simulates its own design over them, in the other cities' scenarios only, and fits its own emulators.
So the held-out city chooses neither the parameters, nor the design, nor which targets are left out
of the fit. ``screening_by_city.csv`` lists, per city, each parameter estimated with or without it;
``python -m sim.calibration.leave_one_out RESULTS`` writes it for a finished calibration.
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
    """For each city: a calibration without its targets (screening, design if the screening differs,
    emulators, ABC), then real simulations of the city's scenarios from its posterior.

    Call after the other stages (emulator method, nothing held out). Writes ``holdout-<city>/``
    (``screening.csv``, ``predictive.csv`` of the city's targets, ``diagnostics.csv``,
    ``populations.csv``, ``posterior.csv``, ``emulator.csv``, ``summary.json``), ``leave_one_out.csv``
    and ``screening_by_city.csv``.
    """
    cal.check_leave_one_out()
    if cal.emulators is None:
        fit_emulators(cal)
    tables = []
    chosen: dict[str, set[str]] = {}
    cal.leave_one_out_stats = {}
    for city in sorted(set(cal.targets.loc[cal.compared, "city"])):
        started = time.time()
        cal.log(f"leave-one-out: {city}")
        child = _without(cal, city, cal.progress)
        screen(child)
        chosen[city] = {p.key for p in child.params}
        shared = [p.key for p in child.params] == [p.key for p in cal.params]
        if shared:
            _share_design(cal, child)
        else:
            cal.log(f"leave-one-out {city}: its own design over the {len(child.params)} parameters its "
                    "screening estimates")
        child.write_config()
        infer(child)  # with its own design: simulated and emulated here first
        held = child.targets.loc[child.held_out & child.compared, "scenario"]
        pred = predict(child, sorted(set(held)))
        cal.leave_one_out_stats[city] = child.predictive_stats
        pred = pred[pred["held_out"] & pred["compared"]]
        summary = {
            "held_out": city, "wall_seconds": round(time.time() - started, 1),
            "own_design": not shared,
            "simulations": dict(child.sims, total=sum(child.sims.values())),
            "generations": len(child.result.populations), "stopped": child.result.stopped,
            "parameters": [p.key for p in child.params],
            "left_out_of_fit": child.targets.loc[child.unreachable, "target_id"].tolist(),
            "left_out_as_noise": child.targets.loc[child.quiet, "target_id"].tolist(),
            "held_out_hits": int(pred["hit"].astype(bool).sum()), "held_out_targets": int(len(pred)),
            **emulator_summary(child),
        }
        (child.out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        cal.log(f"leave-one-out {city}: {summary['held_out_hits']} of {summary['held_out_targets']} held-out "
                f"targets hit")
        tables.append(pred.assign(city=city)[["city", "target_id", "reported", "sim_lo", "sim_median",
                                              "sim_hi", "hit"]].rename(columns={"target_id": "target"}))
        # the screening's runs are the calibration's own; the design's are new only when the child has its own
        new = child.sims["predictive"] + child.sims["design"]
        cal.sims["leave_one_out"] = cal.sims.get("leave_one_out", 0) + new
        child.close()
    table = pd.concat(tables, ignore_index=True)
    write_csv(table, cal.out / "leave_one_out.csv", float_format="%.6g")
    cal.leave_one_out_table = table
    _write_screening_by_city(cal, chosen)
    return table


def _without(cal: CalibrationState, city: str, progress: bool) -> CalibrationState:
    """The calibration's configuration with ``city`` held out, writing to ``holdout-<city>/``, sharing the store."""
    return CalibrationState(replace(cal.config, hold_out=city, leave_one_out=False), cal.out / f"holdout-{city}",
                            jobs=cal.jobs, backend=cal.backend, scheduler=cal.scheduler, progress=progress,
                            log=cal.log, store=cal.store)


def _share_design(cal: CalibrationState, child: CalibrationState) -> None:
    """Give ``child`` (the same parameters, a city held out) the parent's design and emulators.

    Each target has its own emulator, so leaving a city out drops its emulators and refits nothing
    else; the rules that leave targets out of the fit are applied again over the child's targets.
    """
    child.quiet = cal.quiet & child.used  # the parent's rule on the same design, per target
    child.design_u, child.design_stats = cal.design_u, cal.design_stats
    child.emulators = cal.emulators  # the city's targets are excluded by child.used in the distance
    if not cal.config.fit_unreachable:
        mark_unreachable(child)
    cv = cal.emulator_cv
    child.emulator_cv = cv[cv["target_id"].isin(set(child.targets.loc[child.used, "target_id"]))]
    write_csv(child.emulator_cv, child.out / "emulator.csv", float_format="%.6g")
    child.emulator_seconds = {"fit": 0.0, "cross_validation": 0.0}


def screening_without_each_city(cal: CalibrationState) -> pd.DataFrame:
    """For each city, the screening repeated without its targets: which parameters it would estimate.

    What :func:`leave_one_out` does first for each city, alone: the same Morris points and seeds as
    the calibration's screening, on the other cities' scenarios (their runs are in the store: nothing
    new is simulated). Writes ``holdout-<city>/screening.csv`` and ``screening_by_city.csv``.
    """
    chosen = {}
    for city in sorted(set(cal.targets.loc[cal.compared, "city"])):
        child = _without(cal, city, False)
        screen(child)
        chosen[city] = {p.key for p in child.params}
        child.close()
    return _write_screening_by_city(cal, chosen)


def _write_screening_by_city(cal: CalibrationState, chosen: dict[str, set[str]]) -> pd.DataFrame:
    """``screening_by_city.csv`` (``city, parameter, estimated, estimated_without_city``): every parameter
    estimated with or without each city."""
    estimated = {p.key for p in cal.params}
    rows = []
    for city, without in chosen.items():
        rows += [{"city": city, "parameter": p.key, "estimated": p.key in estimated,
                  "estimated_without_city": p.key in without}
                 for p in cal.candidates if p.key in estimated | without]
        changed = estimated ^ without
        cal.log(f"screening without {city}: " + (f"{len(changed)} parameters differ" if changed else "the same"))
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
