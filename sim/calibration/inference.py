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
from functools import partial

import numpy as np
import pandas as pd

from sim.calibration.abc import ABCResult, Population, Simulate, abc_smc
from sim.calibration.design import fit_emulators
from sim.calibration.emulator import Emulators
from sim.calibration.state import ABC_SEEDS, CalibrationConfig, CalibrationState, rms_distance
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed
from sim.rng import stream

__all__ = ["infer", "emulator_summary", "emulator_simulate", "abc_on_emulators", "with_unreachable"]


def infer(cal: CalibrationState) -> ABCResult:
    """ABC-SMC over ``cal.params``; writes ``populations.csv``, ``diagnostics.csv``, ``posterior.csv``.

    With the emulator method, first simulates the design and fits the emulators if that is not
    done yet (:func:`sim.calibration.design.fit_emulators`), then samples on the emulators.
    """
    if cal.config.method == "emulator":
        return _infer_emulator(cal)
    _check_fitted(cal)
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
                     max_generations=cfg.n_generations, min_acceptance=cfg.acceptance_floor,
                     on_generation=_reporter(cal, started), min_epsilon=cfg.min_epsilon)
    cal.result = result
    _write_diagnostics(cal, result)
    return result


def _infer_emulator(cal: CalibrationState) -> ABCResult:
    cfg = cal.config
    if cal.emulators is None:
        fit_emulators(cal)
    _check_fitted(cal)
    budget = max(cfg.n_particles, cfg.n_budget)
    cal.log(f"ABC-SMC on emulators: {len(cal.params)} parameters, {cfg.n_particles} particles, budget "
            f"{budget} synthetic simulations")
    result = abc_on_emulators(cal.emulators, cal.distance, cfg, len(cal.params), cfg.n_particles, budget, cfg.seed,
                              "calibration.emulator", on_generation=_reporter(cal, time.time()))
    cal.result = result
    _write_diagnostics(cal, result)
    cal.log(f"ABC-SMC stopped: {result.stopped} after {len(result.populations)} generations")
    return result


def _check_fitted(cal: CalibrationState) -> None:
    if not cal.fitted.any():
        raise ValueError("no target left to fit: every used target is out of reach or mostly seed noise "
                         "(emulator.csv says which)")


def with_unreachable(cal: CalibrationState) -> pd.DataFrame | None:
    """The inference again with the unreachable targets in the distance: how the posterior moves.

    Emulator method, after :func:`infer`, when targets were left out as unreachable
    (:func:`sim.calibration.design.mark_unreachable`). The same seed, noise and settings (common
    random numbers), so the difference is the targets'. Writes ``unreachable.csv``: per parameter
    the posterior mean and sd without and with them, and the mean's shift in prior widths.
    Returns None (and writes nothing) when no target was left out.
    """
    if cal.config.method != "emulator" or not cal.unreachable.any():
        return None
    cfg = cal.config
    names = ", ".join(cal.targets.loc[cal.unreachable, "target_id"])
    cal.log(f"ABC-SMC on emulators with the unreachable targets fitted too ({names})")
    result = abc_on_emulators(cal.emulators, partial(rms_distance, targets=cal.targets,
                                                     fitted=cal.used & ~cal.quiet), cfg,
                              len(cal.params), cfg.n_particles, max(cfg.n_particles, cfg.n_budget), cfg.seed,
                              "calibration.emulator")
    table = pd.DataFrame({"parameter": [p.key for p in cal.params]})
    for label, pop in (("", cal.result.posterior), ("with_unreachable_", result.posterior)):
        natural = cal.to_natural(pop.u)
        mean = pop.weights @ natural
        table[f"{label}mean"] = mean
        table[f"{label}sd"] = np.sqrt(pop.weights @ (natural - mean) ** 2)
    table["shift_prior_widths"] = result.posterior.mean - cal.result.posterior.mean
    table["sd_ratio_with_over_without"] = table["with_unreachable_sd"] / table["sd"]
    write_csv(table, cal.out / "unreachable.csv", float_format="%.6g")
    cal.with_unreachable_result = result
    cal.log(f"with the unreachable targets: {result.stopped} after {len(result.populations)} generations, final "
            f"epsilon {result.posterior.epsilon:.3g} (without: {cal.result.posterior.epsilon:.3g}); largest mean "
            f"shift {np.abs(table['shift_prior_widths']).max():.2f} prior widths")
    return table


def abc_on_emulators(emulators: Emulators, distance: Callable[[np.ndarray], np.ndarray], cfg: CalibrationConfig,
                     n_params: int, particles: int, budget: int, seed: int, noise: str,
                     on_generation: Callable[[Population], None] | None = None) -> ABCResult:
    """ABC-SMC on synthetic simulations from ``emulators`` (:func:`emulator_simulate`, noise streams
    ``noise`` under ``cfg.seed``), with the calibration's quantile schedule and stops (generations,
    acceptance floor, convergence rule, tolerance floor); ``seed`` seeds the sampler."""
    return abc_smc(emulator_simulate(emulators, distance, cfg.seed, noise), n_params, particles, budget, seed,
                   quantile=cfg.quantile, max_generations=cfg.n_generations, min_acceptance=cfg.acceptance_floor,
                   on_generation=on_generation, eps_rtol=cfg.eps_rtol, mean_shift_tol=cfg.mean_shift_tol,
                   min_epsilon=cfg.min_epsilon)


def emulator_simulate(emulators: Emulators, distance: Callable[[np.ndarray], np.ndarray], seed: int,
                      noise: str) -> Simulate:
    """ABC's simulator on emulators: one synthetic simulation per particle, scored by ``distance``.

    A synthetic simulation is mean + sd × z, z drawn from the stream ``<noise>.<particle's global
    index>`` under ``seed``, so a rerun draws the same simulation whatever the batching. Targets
    that are one statistic share their z; other targets' noises are drawn independently (the
    emulators do not model the correlation between statistics).
    """

    def simulate(u: np.ndarray, first: int) -> np.ndarray:
        mean, sd = emulators.predict(u)
        z = np.array([stream(seed, f"{noise}.{first + i}").standard_normal(mean.shape[1]) for i in range(len(u))])
        return distance(mean + sd * z[:, emulators.groups])

    return simulate


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
        mean, sd = pop.mean, pop.sd
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
