"""How much of each target's spread is seed noise, at the calibration's scale and measured at a larger one.

From a finished calibration's ``predictive_samples.csv``: the shipped defaults simulated under many
seeds give each target's **seed noise** (sd over seeds, parameters fixed); the prior design (one seed
per point, the estimated parameters across their priors, the others at their defaults) gives its
**spread over the priors**. The noise share (noise variance over the spread's) says what one run can
tell about the parameters: near 1, a target's runs differ by seed, whatever the parameters. The
**signal** (the spread the parameters make, ``sqrt(spread² - noise²)``) in the target's tolerances says
whether even noiseless runs could inform the fit (it takes the noise to be about the same across the
priors as at the defaults: a target whose noise varies with the parameters has a less certain signal).
Beside them, the noise the target's emulator learned (its white-noise term, ``emulator.csv``): an
emulator whose learned noise is far below the seed noise interpolates noise.

Seed noise of counts falls as 1/scale in variance (the signal does not depend on the scale); the scale
at which a target's noise share would fall to one half is ``scale · noise² / signal²``. ``--scale S
--seeds R`` measures the noise at scale S (R seeds of the shipped defaults in every compared scenario,
the defaults' first R seeds) to check that projection.

``python -m sim.calibration.noise RESULTS [--scale S --seeds R --jobs J]`` writes ``noise.csv``.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.arguments import whole_number
from sim.calibration.state import PREDICT_SEEDS, CalibrationConfig, CalibrationState, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed

__all__ = ["seed_noise", "noise_at_scale", "defaults_runs", "defaults_noise", "noise_share", "sd_bound",
           "noise_seeds_argument"]


def noise_seeds_argument(text: str) -> int:
    """``--noise-seeds R`` (an ``argparse`` type): how many seeds of the shipped defaults measure each target's
    seed noise, 0 (not measured: effects count as measured) or at least 2 (an sd needs two runs)."""
    v = whole_number(text)
    if v == 1 or v < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (effects as measured) or a number of seeds ≥ 2, got {text}")
    return v


def seed_noise(cal: CalibrationState) -> pd.DataFrame:
    """Per target: seed noise, spread over the priors, noise share (with a 90 % interval: an F ratio of
    the two sample variances), signal, the emulator's learned noise, whether the calibration compared it.

    ``cal`` is a finished calibration (its folder holds ``predictive_samples.csv`` and ``emulator.csv``).
    """
    out, targets = cal.out, cal.targets
    compared = set(targets.loc[cal.compared, "target_id"])
    samples = pd.read_csv(out / "predictive_samples.csv")
    learned = pd.read_csv(out / "emulator.csv").set_index("target_id")["noise_sd"] if (
        out / "emulator.csv").is_file() else pd.Series(dtype=float)
    spread = dict(zip(targets["target_id"], target_spread(targets), strict=True))
    rows = []
    for t in targets.itertuples(index=False):
        if t.target_id not in samples:
            continue
        noise = samples.loc[samples["source"] == "defaults", t.target_id].dropna()
        prior = samples.loc[samples["source"] == "prior", t.target_id].dropna()
        if len(noise) < 2 or len(prior) < 2:
            continue
        n, total = float(noise.std()), float(prior.std())
        signal = math.sqrt(max(total ** 2 - n ** 2, 0.0))
        s = cal.scales[t.scenario]
        share, share_lo, share_hi = noise_share(n, len(noise), float(prior.var()), len(prior))
        rows.append({"target_id": t.target_id, "scenario": t.scenario, "compared": t.target_id in compared,
                     "scale": s, "spread": spread[t.target_id], "seeds": len(noise), "noise_sd": n,
                     "design_points": len(prior), "prior_sd": total, "noise_share": share,
                     "noise_share_lo": share_lo, "noise_share_hi": share_hi,
                     "signal_sd": signal,  # and its range from the noise share's interval
                     "signal_sd_lo": total * math.sqrt(max(1 - share_hi, 0.0)),
                     "signal_sd_hi": total * math.sqrt(max(1 - share_lo, 0.0)),
                     "signal_in_spreads": signal / spread[t.target_id],
                     "emulator_noise_sd": float(learned.get(t.target_id, math.nan)),
                     "scale_for_half": s * n ** 2 / signal ** 2 if signal > 0 else math.inf})
    return pd.DataFrame(rows)


def defaults_runs(cal: CalibrationState, seeds: int, scenarios: list[str], stage: str = "noise") -> np.ndarray:
    """The shipped defaults simulated under ``seeds`` seeds in ``scenarios``: runs × targets (NaN for
    a target outside them). The seeds are the first of the defaults' sample, so these runs are the
    ones the scores stage simulates again for the defaults' predictive sample
    (:func:`sim.calibration.scoring.predictive_samples`; common random numbers, found in the store)."""
    ids = [replicate_seed(cal.config.seed, PREDICT_SEEDS + r) for r in range(seeds)]
    return cal.simulate([{}] * seeds, ids, scenarios, stage)


def defaults_noise(cal: CalibrationState, seeds: int, stage: str = "noise") -> tuple[np.ndarray, np.ndarray]:
    """Each target's seed noise: its sd (ddof 1) over ``seeds`` runs of the shipped defaults in every
    scenario the calibration uses (:func:`defaults_runs`, counted under ``stage``), and how many of those
    runs define it; the sd is NaN for a target fewer than two runs define."""
    cal.log(f"seed noise: the shipped defaults, {seeds} seeds × {len(cal.scenarios_used())} scenarios")
    return _sd_over_runs(defaults_runs(cal, seeds, cal.scenarios_used(), stage))


def _sd_over_runs(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of runs × targets: the sd (ddof 1) over its defined runs (NaN under two), and their count."""
    runs = np.isfinite(stats).sum(axis=0)
    sd = np.full(stats.shape[1], math.nan)
    for j in np.flatnonzero(runs >= 2):
        sd[j] = float(np.std(stats[np.isfinite(stats[:, j]), j], ddof=1))
    return sd, runs


def sd_bound(sd, runs, q: float):
    """An sd measured over ``runs`` runs scaled to its chi-square bound: the sd at which a sample sd this
    large or larger has probability ``q`` (``q`` = 0.05: the one-sided 95 % upper bound; 0.95: the lower)."""
    from scipy.stats import chi2

    df = np.asarray(runs) - 1
    return sd * np.sqrt(df / chi2.ppf(q, df))


def noise_share(noise_sd: float, noise_runs: int, spread_var: float, spread_runs: int) -> tuple[float, float, float]:
    """The noise share (seed noise variance over a spread's variance, each a sample variance over its runs)
    and its 90 % interval, an F ratio of the two (the lower end is the one-sided 95 % lower bound)."""
    from scipy.stats import f as f_dist

    share = noise_sd ** 2 / spread_var if spread_var > 0 else (math.inf if noise_sd > 0 else math.nan)
    f_hi, f_lo = f_dist.ppf([0.95, 0.05], noise_runs - 1, spread_runs - 1)
    return share, share / f_hi, share / f_lo


def noise_at_scale(cal: CalibrationState, scale: float, seeds: int) -> pd.DataFrame:
    """Seed noise measured at ``scale``: ``seeds`` runs of the shipped defaults in every compared scenario.

    The seeds are the first of the defaults' sample (common random numbers with it). Returns
    ``target_id``, ``measured_scale``, ``measured_seeds``, ``measured_noise_sd`` and its 90 % interval
    (chi-square, ``measured_noise_sd_lo``, ``measured_noise_sd_hi``).
    """
    big = CalibrationState(replace(cal.config, scale=scale, leave_one_out=False), cal.out, jobs=cal.jobs,
                           backend=cal.backend, scheduler=cal.scheduler, progress=cal.progress, log=cal.log,
                           store=cal.store)
    scenarios = cal.scenarios_compared()
    cal.log(f"seed noise at scale {scale:g}: the shipped defaults, {seeds} seeds × {len(scenarios)} scenarios")
    sd, runs = _sd_over_runs(defaults_runs(big, seeds, scenarios))
    rows = []
    for j, (tid, scen) in enumerate(zip(cal.targets["target_id"], cal.targets["scenario"], strict=True)):
        if scen not in scenarios or runs[j] < 2:
            continue
        rows.append({"target_id": tid, "measured_scale": big.scales[scen], "measured_seeds": int(runs[j]),
                     "measured_noise_sd": sd[j], "measured_noise_sd_lo": float(sd_bound(sd[j], runs[j], 0.95)),
                     "measured_noise_sd_hi": float(sd_bound(sd[j], runs[j], 0.05))})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.calibration.noise",
                                 description="each target's seed noise against its spread over the priors "
                                             "(noise.csv)")
    ap.add_argument("results", type=Path, help="a finished calibration's results folder")
    ap.add_argument("--scale", type=float, default=None, help="also measure the noise at this scale")
    ap.add_argument("--seeds", type=int, default=16, help="seeds at --scale (default 16)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the runs at --scale (-1: every core)")
    args = ap.parse_args(argv)
    if args.scale is not None and not 0 < args.scale <= 1:
        ap.error(f"--scale: expected a fraction of the city in (0, 1], got {args.scale}")
    if args.seeds < 2:
        ap.error(f"--seeds: expected at least 2, got {args.seeds}")
    cal = CalibrationState(CalibrationConfig.read(args.results), args.results, jobs=args.jobs)
    try:
        table = seed_noise(cal)
        if args.scale is not None:
            measured = noise_at_scale(cal, args.scale, args.seeds)
            table = table.merge(measured, on="target_id", how="left")
            table["projected_noise_sd"] = table["noise_sd"] * np.sqrt(table["scale"] / table["measured_scale"])
    finally:
        cal.close()
    write_csv(table, args.results / "noise.csv", float_format="%.4g")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
