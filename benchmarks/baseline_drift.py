"""Benchmark: why a no-intervention baseline drifts from year to year, and what a start from the steady state costs.

Three measurements, each printed as a table:

``--ablations`` (the causes). ``<city>_baseline`` over ``--years`` counted years, started the old
way (``run.stationary_start=false``, 28-day warm-up), with the slow stocks switched off one at a
time: offenders held after arrest (``crime.incapacitation_days=0``), disputes (every dispute rate
0), both; and the new start with its 63-day warm-up. Means over replicates per year, replicate *r*
with the same seed in every variant. A stock causes the drift if the first year stops differing
from the later ones when it is switched off.

``--stocks`` (the stocks themselves). Monthly means, from the first counted hour, of the offenders
held, the live disputes by stage and the arrest deterrence summed over cells, for the old start
and the new one: what fills up, and how fast.

``--cost`` (the price of the longer warm-up). Wall time of one run of ``suizhou_2022`` (two counted
years, scale 0.1) with the old start and warm-up and with the new ones, alternated ``--pairs``
times in this process; only paired runs compare, the machine drifts.

Usage::

    python benchmarks/baseline_drift.py [--ablations] [--stocks] [--cost] [--city suizhou]
        [--replicates 6] [--years 4] [--scale 0.1] [--jobs 2] [--pairs 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sim.experiments.runner import metrics_frame, replicate_seed, run_one, run_tasks, scenario_tasks
from sim.model import PinganModel
from sim.scenario.loader import load_scenario

OLD = ("run.stationary_start=false", "run.warmup_days=28")
NO_DISPUTES = ("disputes.per_1000_households_year="
               "{neighbour: 0, family: 0, property_parking: 0, wage_arrears: 0, land: 0}")
VARIANTS = {
    "old start": OLD,
    "old, no holds": (*OLD, "crime.incapacitation_days=0"),
    "old, no disputes": (*OLD, NO_DISPUTES),
    "old, neither": (*OLD, "crime.incapacitation_days=0", NO_DISPUTES),
    "new start": (),
}
SHOWN = ("preventable_cases", "calls_for_service", "clearance_rate", "serious_violent", "disputes_found", "arrests")


def ablations(city: str, replicates: int, years: int, scale: float, jobs: int) -> None:
    scenarios = [load_scenario(f"{city}_baseline", [f"name={name.replace(' ', '_').replace(',', '')}",
                                                    f"run.years={years}", *over])
                 for name, over in VARIANTS.items()]
    frame = metrics_frame(run_tasks(scenario_tasks(scenarios, replicates, 1, scale), jobs=jobs, progress=False))
    table = frame.groupby(["scenario", "year"], sort=False)[list(SHOWN)].mean()
    print(f"{city}_baseline, scale {scale}, {replicates} replicates: yearly means")
    print(table.to_string(float_format=lambda x: f"{x:.3f}" if abs(x) < 2 else f"{x:.1f}"))


def _monthly(scenario, seed: int, scale: float) -> pd.DataFrame:
    model = PinganModel(scenario, seed=seed, scale=scale)
    offending, book = model.offending, model.disputes.book
    rows, acc, n = [], np.zeros(5), 0
    while not model.finished:
        model.step()
        if model.hour <= model.warmup_hours:
            continue
        live = book.outcome[: book.n] == 0
        stages = np.bincount(book.stage[: book.n][live], minlength=3)[:3]
        acc += [np.count_nonzero(offending.free_at > model.hour - 1), *stages, offending.arrest_risk.sum()]
        n += 1
        if n == 30 * 24:
            rows.append(acc / n)
            acc, n = np.zeros(5), 0
    return pd.DataFrame(rows, columns=["held", "minor", "conflict", "call", "arrest_deterrence"])


def stocks(city: str, replicates: int, scale: float) -> None:
    for name, over in (("old start", OLD), ("new start", ())):
        scenario = load_scenario(f"{city}_baseline", ["run.years=1", *over])
        months = [_monthly(scenario, replicate_seed(1, r), scale) for r in range(replicates)]
        mean = sum(months) / len(months)
        mean.index.name = "month"
        print(f"{city}_baseline, {name}: monthly means from the first counted hour, {replicates} replicates")
        print(mean.T.to_string(float_format=lambda x: f"{x:.1f}"))


def cost(pairs: int, scale: float) -> None:
    timed = {"old start, 28-day warm-up": OLD, "new start, 63-day warm-up": ()}
    scenarios = {k: load_scenario("suizhou_2022", list(v)) for k, v in timed.items()}
    run_one(scenarios["old start, 28-day warm-up"], 0, 1, scale)  # compile and build the city first
    seconds: dict[str, list[float]] = {k: [] for k in timed}
    for _ in range(pairs):
        for name, scenario in scenarios.items():
            t0 = time.perf_counter()
            run_one(scenario, 0, 1, scale)
            seconds[name].append(time.perf_counter() - t0)
    print(f"suizhou_2022 (two counted years), scale {scale}, one process, {pairs} alternated pairs")
    for name, s in seconds.items():
        print(f"  {name}: median {np.median(s):.2f} s ({min(s):.2f}-{max(s):.2f})")
    ratio = np.array(seconds["new start, 63-day warm-up"]) / np.array(seconds["old start, 28-day warm-up"])
    print(f"  ratio new/old per pair: {', '.join(f'{r:.3f}' for r in ratio)}; simulated days "
          f"{(730 + 63) / (730 + 28):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ablations", action="store_true")
    ap.add_argument("--stocks", action="store_true")
    ap.add_argument("--cost", action="store_true")
    ap.add_argument("--city", default="suizhou")
    ap.add_argument("--replicates", type=int, default=6)
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    if not (args.ablations or args.stocks or args.cost):
        args.ablations = args.stocks = args.cost = True
    if args.ablations:
        ablations(args.city, args.replicates, args.years, args.scale, args.jobs)
    if args.stocks:
        stocks(args.city, args.replicates, args.scale)
    if args.cost:
        cost(args.pairs, args.scale)


if __name__ == "__main__":
    main()
