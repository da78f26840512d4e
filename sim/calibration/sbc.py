"""Calibration, a check of the inference itself: simulation-based calibration (emulator method).

Does the inference cover the truth at its nominal rates? ``truths`` parameter sets are drawn from
the priors (independent uniform draws in the estimated parameters' unit cube, the others at their defaults); each
is simulated — real simulations, one seed per truth, in every scenario the calibration uses — and
its statistics stand in for the reported outcomes. The calibration's own inference (ABC-SMC on
its emulators, with its tolerances, quantile schedule and stop rule) then gives a posterior, and
the truth's position in it is recorded for every parameter. A calibrated inference puts the
truth inside its central 50 % and 90 % intervals 50 % and 90 % of the time, and the truth's
posterior quantile (its rank) is uniform (Talts et al. 2018, "Validating Bayesian inference
algorithms with simulation-based calibration"). Coverage below nominal means the posteriors are
too narrow (overconfident); above, too wide (ABC's tolerance and the emulators' error both widen them).

The check covers the whole inference as used: the emulators are fitted on the calibration's
design, the pseudo-observations come from the model, not from the emulators, so the emulators'
error is inside the check. A target whose statistic is undefined in a truth's simulation (a
change from zero) is left out of that truth's distance, and so is one no design run came within
tolerance of, by the rule the calibration applied to the reported values
(:func:`sim.calibration.design.out_of_reach`). Each inference may draw the calibration's synthetic
budget per particle.

Writes ``sbc.csv`` (one row per truth and parameter: the truth, the posterior mean and sd, the
truth's posterior quantile, whether it lies inside the central 50 % and 90 % intervals, why that
inference stopped) and ``sbc_summary.csv`` (per parameter: coverage with 95 % Wilson intervals, a
Kolmogorov-Smirnov test of uniform ranks, the mean posterior sd over the prior sd; over all
parameters: the coverage with a 95 % bootstrap interval over truths, since the ranks of one truth
are not independent).
``python -m sim.calibration.sbc RESULTS --truths 40`` runs it on a finished calibration (its store
holds the design, so only the truths are simulated; the emulators are refitted).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats as sps

from sim.calibration.abc import ABCResult
from sim.calibration.design import out_of_reach
from sim.calibration.emulator import Emulators
from sim.calibration.inference import abc_on_emulators
from sim.calibration.state import SBC_SEEDS, CalibrationConfig, CalibrationState, rms_distance
from sim.csv_output import write_csv
from sim.experiments.resources import worker_count
from sim.experiments.runner import local_workers, replicate_seed
from sim.rng import stream

__all__ = ["sbc", "sbc_summary", "wilson"]

#: Sd of a uniform prior on the unit cube (every prior is mapped onto it).
_PRIOR_SD = 1.0 / math.sqrt(12.0)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``k`` of ``n`` (95 % by default)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _infer_back(emulators: Emulators, observed: pd.DataFrame, fitted: np.ndarray, cfg: CalibrationConfig,
                n_params: int, particles: int, truth: int) -> tuple[ABCResult, float]:
    """ABC-SMC on the emulators against a truth's ``observed`` targets (its statistics as the values),
    over the targets ``fitted``; the result and the seconds it took."""
    started = time.time()
    budget = max(particles, math.ceil(cfg.n_budget * particles / cfg.n_particles))
    result = abc_on_emulators(emulators, partial(rms_distance, targets=observed, fitted=fitted), cfg, n_params,
                              particles, budget, replicate_seed(cfg.seed, SBC_SEEDS + truth),
                              f"calibration.sbc.{truth}.emulator")
    result.all_u = result.all_distances = np.empty(0)  # not needed back from a worker
    return result, time.time() - started


def sbc(cal: CalibrationState, truths: int = 40, particles: int | None = None) -> pd.DataFrame:
    """Simulate ``truths`` prior draws, infer each back, and write ``sbc.csv`` and ``sbc_summary.csv``.

    Args:
        cal: A calibration with its parameters screened and its emulators fitted (emulator method).
        truths: Parameter sets drawn from the priors, each simulated once and inferred.
        particles: Particles per generation of each inference; default the calibration's.

    Returns:
        ``sbc.csv``'s table.
    """
    if cal.config.method != "emulator" or cal.emulators is None:
        raise ValueError("the simulation-based calibration check needs the emulator method with its emulators fitted")
    if truths < 2:
        raise ValueError(f"truths: expected at least 2, got {truths}")
    cfg = cal.config
    particles = particles or cfg.n_particles
    # Independent draws, as the check's statistics assume (a Latin hypercube would make them conservative).
    u = stream(cfg.seed, "calibration.sbc").random((truths, len(cal.params)))
    seeds = [replicate_seed(cfg.seed, SBC_SEEDS + k) for k in range(truths)]
    scenarios = cal.scenarios_used()
    cal.log(f"simulation-based calibration: {truths} prior draws × {len(scenarios)} scenarios, one seed per draw")
    observed = cal.simulate(cal.parameter_sets(cal.params, u), seeds, scenarios, "sbc")
    cal.sims["sbc"] = truths * len(scenarios)
    # Each truth's statistics as the reported values, points whatever the real target was (no bound).
    pseudo = [cal.targets.assign(value=observed[k], bound="") for k in range(truths)]
    fit = cal.used & ~cal.quiet  # the targets left out as mostly noise stay out
    fitted = [np.isfinite(observed[k]) & (fit if cfg.fit_unreachable else
                                          fit & ~out_of_reach(cal.design_stats, pseudo[k], fit))
              for k in range(truths)]
    jobs = min(truths, worker_count(cal.jobs))
    cal.log(f"simulation-based calibration: {truths} inferences, {particles} particles each, {jobs} workers")
    with local_workers():  # each truth is seeded by its number: the same results with any number of workers
        results = Parallel(n_jobs=jobs)(
            delayed(_infer_back)(cal.emulators, pseudo[k], fitted[k], cfg, len(cal.params), particles, k)
            for k in range(truths))
    cal.log(f"simulation-based calibration: inferences took {sum(t for _, t in results):.0f} s of worker time")
    rows = []
    for k, (result, _) in enumerate(results):
        pop = result.posterior
        mean, sd = pop.mean, pop.sd
        for j, p in enumerate(cal.params):
            rank = float(pop.weights[pop.u[:, j] < u[k, j]].sum())  # the truth's posterior quantile
            rows.append({"truth": k, "seed": seeds[k], "parameter": p.key, "truth_u": u[k, j],
                         "posterior_mean_u": mean[j], "posterior_sd_u": sd[j], "rank": rank,
                         "inside_50": 0.25 <= rank <= 0.75, "inside_90": 0.05 <= rank <= 0.95,
                         "targets_fitted": int(fitted[k].sum()),
                         "generations": len(result.populations), "stopped": result.stopped})
    table = pd.DataFrame(rows)
    write_csv(table, cal.out / "sbc.csv", float_format="%.6g")
    write_csv(sbc_summary(table), cal.out / "sbc_summary.csv", float_format="%.6g")
    return table


def sbc_summary(table: pd.DataFrame, resamples: int = 2000) -> pd.DataFrame:
    """Per parameter, then over all: coverage of the central 50 % and 90 % intervals, the
    Kolmogorov-Smirnov p-value of the ranks against uniform, the mean posterior sd over the prior sd
    (1 = the data told the inference nothing).

    A parameter's coverage interval is Wilson's (its truths are independent draws). Over all
    parameters the ranks of one truth are not independent: that row's interval is a percentile
    bootstrap over truths (``resamples``, a fixed stream) and it carries no KS test.
    """
    rows = []
    for name, g in table.groupby("parameter", sort=False):
        n = len(g)
        row = {"parameter": name, "truths": int(g["truth"].nunique()), "n": n}
        for level in (50, 90):
            k = int(g[f"inside_{level}"].sum())
            lo, hi = wilson(k, n)
            row.update({f"coverage_{level}": k / n, f"coverage_{level}_lo": lo, f"coverage_{level}_hi": hi})
        row["ks_uniform_p"] = float(sps.kstest(g["rank"], "uniform").pvalue)
        row["sd_ratio"] = float(g["posterior_sd_u"].mean() / _PRIOR_SD)
        rows.append(row)
    per_truth = table.groupby("truth")[["inside_50", "inside_90"]].agg(["sum", "count"])
    pick = stream(0, "calibration.sbc.bootstrap").integers(0, len(per_truth), (resamples, len(per_truth)))
    row = {"parameter": "all parameters", "truths": len(per_truth), "n": len(table)}
    for level in (50, 90):
        inside = per_truth[(f"inside_{level}", "sum")].to_numpy(dtype=float)
        count = per_truth[(f"inside_{level}", "count")].to_numpy(dtype=float)
        boot = inside[pick].sum(axis=1) / count[pick].sum(axis=1)
        row.update({f"coverage_{level}": inside.sum() / count.sum(),
                    f"coverage_{level}_lo": float(np.quantile(boot, 0.025)),
                    f"coverage_{level}_hi": float(np.quantile(boot, 0.975))})
    row["ks_uniform_p"] = math.nan
    row["sd_ratio"] = float(table["posterior_sd_u"].mean() / _PRIOR_SD)
    rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    from sim.calibration.design import fit_emulators
    from sim.calibration.screening import screen

    ap = argparse.ArgumentParser(prog="python -m sim.calibration.sbc", description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a finished emulator calibration's results folder")
    ap.add_argument("--truths", type=int, default=40, help="prior draws simulated and inferred back (default 40)")
    ap.add_argument("--particles", type=int, default=None, help="particles per generation (default: the calibration's)")
    ap.add_argument("--jobs", type=int, default=-1, help="workers for the simulations (default: every core)")
    args = ap.parse_args(argv)
    if args.truths < 2 or (args.particles is not None and args.particles < 2):
        ap.error("--truths and --particles: expected at least 2")
    config = CalibrationConfig.read(args.results)
    if config.method != "emulator":
        ap.error(f"{args.results} was calibrated with --method {config.method}; the check needs the emulator method")
    cal = CalibrationState(config, args.results, jobs=args.jobs)
    try:
        screen(cal)
        fit_emulators(cal)
        sbc(cal, args.truths, args.particles)
    finally:
        cal.close()
    print(pd.read_csv(args.results / "sbc_summary.csv").to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
