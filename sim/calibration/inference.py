"""Calibration, stage 3: inference — ABC-SMC over the estimated parameters (:func:`sim.calibration.abc.abc_smc`).

Method ``"simulator"``: one simulation per particle and scenario, every batch run by
:func:`sim.experiments.runner.run_tasks` into the calibration's store, so a restarted calibration
reuses every finished simulation. Method ``"emulator"`` (default): ABC-SMC on synthetic
simulations drawn from the emulators (:mod:`sim.calibration.design`) until ε and the posterior
means stop moving. Writes ``populations.csv``, ``diagnostics.csv`` and ``posterior.csv``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.calibration.abc import ABCResult, Population, abc_smc
from sim.calibration.design import fit_emulators
from sim.calibration.state import ABC_SEEDS, CalibrationState
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed
from sim.rng import stream

__all__ = ["infer", "emulator_summary"]


def infer(cal: CalibrationState) -> ABCResult:
    """ABC-SMC over ``cal.params``; writes ``populations.csv``, ``diagnostics.csv``, ``posterior.csv``.

    With the emulator method, first simulates the design and fits the emulators if that is not
    done yet (:func:`sim.calibration.design.fit_emulators`), then samples on the emulators.
    """
    if cal.config.method == "emulator":
        return _infer_emulator(cal)
    cfg = cal.config
    scenarios = cal.scenarios_used()
    per = len(scenarios)
    budget = max(cfg.n_particles, cfg.n_budget // per)
    started = time.time()

    def simulate(u: np.ndarray, first: int) -> np.ndarray:
        seeds = [replicate_seed(cfg.seed, ABC_SEEDS + first + i) for i in range(len(u))]
        stats = cal.simulate(cal.parameter_sets(cal.params, u), seeds, scenarios, "abc")
        for i, s in enumerate(stats):
            cal.stats[first + i] = s
        return cal.distance(stats)

    cal.log(f"ABC-SMC: {len(cal.params)} parameters, {cfg.n_particles} particles, budget {budget} particles "
            f"× {per} scenarios")
    result = abc_smc(simulate, len(cal.params), cfg.n_particles, budget, cfg.seed, quantile=cfg.quantile,
                     max_generations=cfg.n_generations, on_generation=_reporter(cal, started))
    cal.result = result
    _write_diagnostics(cal, result)
    return result


def _infer_emulator(cal: CalibrationState) -> ABCResult:
    cfg = cal.config
    if cal.emulators is None:
        fit_emulators(cal)
    emulators = cal.emulators

    def simulate(u: np.ndarray, first: int) -> np.ndarray:
        # One synthetic simulation per particle: mean + sd × z, z drawn from a stream named by the
        # particle's global index, so a rerun draws the same simulation whatever the batching.
        # Targets that are one statistic share their z; other targets' noises are drawn
        # independently (the emulators do not model the correlation between statistics).
        mean, sd = emulators.predict(u)
        z = np.array([stream(cfg.seed, f"calibration.emulator.{first + i}").standard_normal(mean.shape[1])
                      for i in range(len(u))])
        return cal.distance(mean + sd * z[:, emulators.groups])

    budget = max(cfg.n_particles, cfg.n_budget)
    cal.log(f"ABC-SMC on emulators: {len(cal.params)} parameters, {cfg.n_particles} particles, budget "
            f"{budget} synthetic simulations")
    result = abc_smc(simulate, len(cal.params), cfg.n_particles, budget, cfg.seed, quantile=cfg.quantile,
                     max_generations=cfg.n_generations, on_generation=_reporter(cal, time.time()),
                     eps_rtol=cfg.eps_rtol, mean_shift_tol=cfg.mean_shift_tol)
    cal.result = result
    _write_diagnostics(cal, result)
    cal.log(f"ABC-SMC stopped: {result.stopped} after {len(result.populations)} generations")
    return result


def _reporter(cal: CalibrationState, started: float) -> Callable[[Population], None]:
    def report(pop: Population) -> None:
        cal.log(f"generation {pop.generation}: epsilon {pop.epsilon:.3g}, acceptance {pop.acceptance:.2f}, "
                f"ESS {pop.ess:.0f}, median distance {np.median(pop.distances):.3g}, "
                f"{time.time() - started:.0f} s")
        _write_population(cal, pop)

    return report


def _write_population(cal: CalibrationState, pop: Population) -> None:
    path = cal.out / "populations.csv"
    df = pd.DataFrame(cal.to_natural(pop.u), columns=[p.key for p in cal.params])
    df.insert(0, "distance", pop.distances)
    df.insert(0, "weight", pop.weights)
    df.insert(0, "simulation", pop.index)
    df.insert(0, "generation", pop.generation)
    old = pd.read_csv(path) if path.exists() and pop.generation > 0 else None
    if old is not None:
        df = pd.concat([old[old["generation"] < pop.generation], df], ignore_index=True)
    write_csv(df, path, float_format="%.8g")


def _write_diagnostics(cal: CalibrationState, result: ABCResult) -> None:
    rows = []
    prev = None
    for pop in result.populations:
        mean = pop.mean
        sd = np.sqrt(pop.weights @ (pop.u - mean) ** 2)
        row = {"generation": pop.generation, "epsilon": pop.epsilon, "accepted": len(pop.u),
               "proposed": pop.proposed, "acceptance": pop.acceptance, "ess": pop.ess,
               "median_distance": float(np.median(pop.distances)),
               # Convergence: how far the posterior mean moved since the last generation, in prior widths.
               "max_mean_shift": pop.mean_shift(prev) if prev is not None else math.nan}
        for p, m, s in zip(cal.params, mean, sd, strict=True):
            row[f"mean_u:{p.key}"] = m
            row[f"sd_u:{p.key}"] = s
        rows.append(row)
        prev = pop
    write_csv(pd.DataFrame(rows), cal.out / "diagnostics.csv", float_format="%.6g")
    cal.posterior().save(cal.out / "posterior.csv")


def emulator_summary(cal: CalibrationState) -> dict:
    cv = cal.emulator_cv
    last = cal.result.populations[-2:]
    shift = last[1].mean_shift(last[0]) if len(last) == 2 else None
    return {
        "design": cal.config.design, "particles": cal.config.n_particles,
        "synthetic_simulations": cal.result.simulated,
        "epsilon_schedule": [p.epsilon for p in cal.result.populations[1:]],
        "ess": round(cal.result.posterior.ess, 1),
        "last_mean_shift": shift,  # prior widths, between the last two generations
        "emulator_seconds": cal.emulator_seconds,
        "emulator_cv": {"targets": int(len(cv)), "r2_median": float(cv["r2"].median()),
                        "r2_min": float(cv["r2"].min()),
                        "coverage_90_median": float(cv["coverage_90"].median()),
                        "coverage_90_min": float(cv["coverage_90"].min()),
                        "rmse_tolerances_median": float(cv["rmse_tolerances"].median())},
    }
