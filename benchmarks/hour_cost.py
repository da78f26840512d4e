"""Benchmark: where one calibration simulation spends its time, phase by phase of the hourly step.

For each scenario of a finished calibration, cut and scaled as that calibration runs it, with
one parameter set drawn from its posterior, it runs one simulation plainly (the time per hour
and per simulation) and once more with a timer around each phase of the hourly step (the
shares). It then prints what 2 000 simulations cost on ``--jobs`` workers, and what they would
still cost if the event processes (SimPy: dispatch, governance tickets, mediation) took no time
at all: the floor that cheaper event handling alone cannot go below. Usage::

    python benchmarks/hour_cost.py [--folder calibration/results/main] [--jobs 2] [--draw 0]

Phases: ``events`` is ``env.advance`` for the hour (dispatch, scene work and clearance, governance
and mediation); ``patrol`` moves units and counts their presence and guardianship; ``offending`` decays cell
memories and draws offences; ``calls`` turns offences into reports and draws non-crime calls;
``disputes`` is the midnight dispute work; ``interventions`` their hourly hooks and the daily reading of their costs;
``rest`` is the step's own bookkeeping (recording, heat, data collection).
The timers add about a microsecond per wrapped call, so the shares come from the timed run
and the totals from the plain one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

PHASES = ("events", "patrol", "offending", "calls", "disputes", "interventions", "rest")


def _timed(obj, name: str, phase: str, spent: dict[str, float]) -> None:
    """Shadow ``obj.name`` with a wrapper that adds its time to ``spent[phase]``."""
    f = getattr(obj, name)
    clock = time.perf_counter

    def wrapper(*args, **kwargs):
        t = clock()
        try:
            return f(*args, **kwargs)
        finally:
            spent[phase] += clock() - t

    setattr(obj, name, wrapper)


def _instrument(model, spent: dict[str, float]) -> None:
    _timed(model.env, "advance", "events", spent)
    _timed(model.fleet, "reposition", "patrol", spent)
    _timed(model.fleet, "guarding", "patrol", spent)
    _timed(model.offending, "decay", "offending", spent)
    _timed(model.offending, "step", "offending", spent)
    _timed(model.calls, "report", "calls", spent)
    _timed(model.calls, "non_crime", "calls", spent)
    _timed(model.disputes, "day", "disputes", spent)
    for iv in model.interventions:
        _timed(iv, "on_hour", "interventions", spent)
        _timed(iv, "cost", "interventions", spent)


def measure(scenario, seed: int, scale: float) -> tuple[float, int, dict[str, float]]:
    """Seconds of a plain run, its hours, and each phase's share of a timed run."""
    from sim.model import PinganModel

    model = PinganModel(scenario, seed=seed, scale=scale)
    started = time.perf_counter()
    model.run()
    plain = time.perf_counter() - started

    spent: dict[str, float] = defaultdict(float)
    model = PinganModel(scenario, seed=seed, scale=scale)
    _instrument(model, spent)
    started = time.perf_counter()
    model.run()
    total = time.perf_counter() - started
    spent["rest"] = total - sum(spent.values())
    return plain, model.total_hours, {p: spent[p] / total for p in PHASES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folder", type=Path, default=Path("calibration/results/main"),
                    help="a finished calibration (its config.json and posterior.csv)")
    ap.add_argument("--jobs", type=int, default=2, help="workers the projection assumes (efficiency 1)")
    ap.add_argument("--draw", type=int, default=0, help="which posterior draw to run")
    args = ap.parse_args()

    from sim.calibration.calibrate import Calibration, CalibrationConfig
    from sim.calibration.posterior import load_posterior, with_parameters

    cfg = CalibrationConfig.read(args.folder)
    with tempfile.TemporaryDirectory() as tmp:
        cal = Calibration(cfg, Path(tmp) / "cal", jobs=1, progress=False)
        cal.close()
    point = load_posterior(args.folder / "posterior.csv").draw(cfg.seed, args.draw)

    print(f"{'scenario':20s} {'hours':>6s} {'s/run':>6s} {'us/hour':>8s}  "
          + " ".join(f"{p:>9s}" for p in PHASES))
    per_run, floor_run = [], []
    for name, base in sorted(cal.scenarios.items()):
        scale = cal.scales[name]
        seconds, hours, share = measure(with_parameters(base, point), seed=cfg.seed + args.draw, scale=scale)
        per_run.append(seconds)
        floor_run.append(seconds * (1.0 - share["events"]))
        print(f"{name:20s} {hours:6d} {seconds:6.2f} {seconds / hours * 1e6:8.0f}  "
              + " ".join(f"{100 * share[p]:8.1f}%" for p in PHASES))

    # The calibration simulates every scenario once per particle: equal numbers of each.
    def minutes(seconds: list[float]) -> float:
        return 2000 * sum(seconds) / len(seconds) / args.jobs / 60

    print(f"2 000 simulations on {args.jobs} worker(s), equal numbers of each scenario:")
    print(f"  as measured             {minutes(per_run):6.1f} min")
    print(f"  if events took no time  {minutes(floor_run):6.1f} min (the floor without the event processes)")


if __name__ == "__main__":
    main()
