"""Calibration, stage 2 (emulator method): the design and its emulators.

A Latin-hypercube design over the estimated parameters is simulated once in every compared
scenario (into the calibration's store), and a Gaussian-process emulator is fitted per target
in use (:mod:`sim.calibration.emulator`) and cross-validated (``emulator.csv``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.calibration.emulator import Emulators
from sim.calibration.state import ABC_SEEDS, CalibrationState, discrepancies, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed
from sim.rng import stream

__all__ = ["simulate_design", "fit_emulators", "mark_unreachable", "out_of_reach"]


def simulate_design(cal: CalibrationState) -> np.ndarray:
    """Simulate a Latin-hypercube design over ``cal.params`` once in every compared scenario.

    The held-out city's scenarios are simulated too, so that leave-one-out reuses the same
    design. Deterministic in the seed; every run goes into the store (a rerun finds them).
    Sets ``cal.design_u`` (points × parameters, unit cube) and ``cal.design_stats``.
    """
    cfg = cal.config
    lhs = qmc.LatinHypercube(d=len(cal.params), seed=stream(cfg.seed, "calibration.design"))
    u = lhs.random(cfg.design)
    scenarios = cal.scenarios_compared()
    cal.log(f"design: {cfg.design} points × {len(scenarios)} scenarios, one seed per point")
    seeds = [replicate_seed(cfg.seed, ABC_SEEDS + i) for i in range(cfg.design)]
    cal.design_u = u
    cal.design_stats = cal.simulate(cal.parameter_sets(cal.params, u), seeds, scenarios, "design")
    return cal.design_stats


def fit_emulators(cal: CalibrationState) -> pd.DataFrame:
    """Fit a Gaussian-process emulator per target in use on the design; cross-validate; ``emulator.csv``.

    Targets not in use (not compared, or the held-out city's) get no emulator: they never
    enter the fit.
    """
    cfg = cal.config
    if cal.design_stats is None:
        simulate_design(cal)
    y = np.where(cal.used, cal.design_stats, math.nan)
    t0 = time.time()
    cal.emulators = Emulators(seed=cfg.seed).fit(cal.design_u, y)
    fitted = time.time() - t0
    cv = cal.emulators.cross_validate(cal.design_u, y, target_spread(cal.targets), folds=cfg.cv_folds)
    ls = cal.emulators.length_scales()
    cv.insert(0, "target_id", cal.targets["target_id"].to_numpy())
    for k, p in enumerate(cal.params):
        cv[f"length_scale:{p.key}"] = ls[:, k]
    cv = cv[cal.used].reset_index(drop=True)
    write_csv(cv, cal.out / "emulator.csv", float_format="%.6g")
    cal.emulator_cv = cv
    cal.emulator_seconds = {"fit": round(fitted, 1), "cross_validation": round(time.time() - t0 - fitted, 1)}
    cal.log(f"emulators: {int(cal.used.sum())} targets fitted in {fitted:.0f} s; cross-validated R² median "
            f"{cv['r2'].median():.2f}, 90 % coverage median {cv['coverage_90'].median():.2f}")
    if not cfg.fit_unreachable:
        mark_unreachable(cal)
    return cv


def out_of_reach(design_stats: np.ndarray, targets: pd.DataFrame, used: np.ndarray) -> np.ndarray:
    """The used targets that no design simulation came within tolerance of (within the direction
    spread for a direction-only target; anywhere on the right side of a bound); none if that is
    every used target."""
    e = discrepancies(design_stats, targets, cap=None)
    out = used & ~np.any(np.isfinite(e) & (np.abs(e) <= 1.0), axis=0)
    return np.zeros_like(out) if not (used & ~out).any() else out


def mark_unreachable(cal: CalibrationState) -> np.ndarray:
    """Leave out of the fit each used target that no design simulation came within tolerance of.

    The design spans the priors, so such a target is out of the model's reach anywhere in them:
    fitting it would drive ε and pull the parameters that move it to their bounds. It stays
    compared (predicted and scored). If every used target is out of reach, none is left out.
    Sets and returns ``cal.unreachable``.
    """
    out = out_of_reach(cal.design_stats, cal.targets, cal.used)
    cal.unreachable = out
    if out.any():
        cal.log(f"left out of the fit, out of reach of every design simulation: "
                f"{', '.join(cal.targets.loc[out, 'target_id'])}")
    return out
