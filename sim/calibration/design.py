"""Calibration, stage 2 (emulator method): the design and its emulators.

A Latin-hypercube design over the estimated parameters is simulated once in every scenario with a
target in use (into the calibration's store), and a Gaussian-process emulator is fitted per target
in use (:mod:`sim.calibration.emulator`) and cross-validated (``emulator.csv``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.calibration.emulator import Emulators
from sim.calibration.noise import noise_share
from sim.calibration.state import ABC_SEEDS, CalibrationState, discrepancies, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed
from sim.rng import stream

__all__ = ["simulate_design", "fit_emulators", "mark_unreachable", "out_of_reach", "mark_noise_dominated",
           "NOISE_DOMINATED"]

#: A target whose noise share over the design (seed noise variance over the design runs' variance) is
#: above this even at its one-sided 95 % lower bound is left out of the fit.
NOISE_DOMINATED = 0.5


def simulate_design(cal: CalibrationState) -> np.ndarray:
    """Simulate a Latin-hypercube design over ``cal.params`` once in every scenario with a target in use.

    A held-out city's scenarios are not simulated: nothing of the city enters the emulators.
    Deterministic in the seed; every run goes into the store (a rerun finds them).
    Sets ``cal.design_u`` (points × parameters, unit cube) and ``cal.design_stats``.
    """
    cfg = cal.config
    lhs = qmc.LatinHypercube(d=len(cal.params), seed=stream(cfg.seed, "calibration.design"))
    u = lhs.random(cfg.design)
    scenarios = cal.scenarios_used()
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
    share = mark_noise_dominated(cal) if cal.seed_noise is not None else None
    y = np.where(cal.used, cal.design_stats, math.nan)
    t0 = time.time()
    cal.emulators = Emulators(seed=cfg.seed).fit(cal.design_u, y)
    fitted = time.time() - t0
    cv = cal.emulators.cross_validate(cal.design_u, y, target_spread(cal.targets), folds=cfg.cv_folds)
    ls = cal.emulators.length_scales()
    cv.insert(0, "target_id", cal.targets["target_id"].to_numpy())
    if share is not None:
        cv["noise_share"], cv["noise_share_lo"] = share
        cv["left_out_as_noise"] = cal.quiet
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


def mark_noise_dominated(cal: CalibrationState) -> tuple[np.ndarray, np.ndarray]:
    """Leave out of the fit each used target whose spread over the design is mostly seed noise.

    The noise share is the seed noise variance (``cal.seed_noise``: the defaults under ``noise_seeds``
    seeds) over the variance of the target's design runs (one run per point, the parameters across their
    priors); a target whose share is above :data:`NOISE_DOMINATED` even at its one-sided 95 % lower bound
    (an F ratio) is one the design cannot teach the emulators or the sampler anything about, only noise
    to interpolate. It stays compared (predicted and scored). Sets ``cal.quiet``; returns the share and
    its lower bound per target (NaN where not measured).
    """
    sd, runs = cal.seed_noise
    share = np.full(len(cal.targets), math.nan)
    low = np.full(len(cal.targets), math.nan)
    for j in np.flatnonzero(cal.used):
        y = cal.design_stats[:, j][np.isfinite(cal.design_stats[:, j])]
        if len(y) < 2 or runs[j] < 2 or not np.isfinite(sd[j]):
            continue
        share[j], low[j], _ = noise_share(sd[j], runs[j], float(np.var(y, ddof=1)), len(y))
    cal.quiet = cal.used & (np.nan_to_num(low, nan=0.0) > NOISE_DOMINATED)
    if cal.quiet.any():
        cal.log("left out of the fit, their spread over the design mostly seed noise: "
                + ", ".join(cal.targets.loc[cal.quiet, "target_id"]))
    return share, low


def mark_unreachable(cal: CalibrationState) -> np.ndarray:
    """Leave out of the fit each used target that no design simulation came within tolerance of (of those
    not left out as mostly noise).

    The design spans the priors, so such a target is out of the model's reach anywhere in them:
    fitting it would drive ε and pull the parameters that move it to their bounds. It stays
    compared (predicted and scored). If every used target is out of reach, none is left out.
    Sets and returns ``cal.unreachable``.
    """
    out = out_of_reach(cal.design_stats, cal.targets, cal.used & ~cal.quiet)
    cal.unreachable = out
    if out.any():
        cal.log(f"left out of the fit, out of reach of every design simulation: "
                f"{', '.join(cal.targets.loc[out, 'target_id'])}")
    return out
