"""Calibration, stage 1: screening — which candidate parameters move the targets enough to estimate.

Morris elementary effects (SALib): every candidate prior is moved across its range along a few
trajectories, all points of one screening seed under one simulation seed (common random numbers),
and each parameter is scored by its largest mean absolute effect on a target in units of that
target's tolerance. With several screening seeds (``screening_seeds``) each seed draws its own
trajectories and simulates them under its own seed, and the effects are averaged over seeds (the
mean absolute effect over all their trajectories). Each target's strongest parameter is estimated,
then the next highest scores, as long as they reach ``min_effect`` (at most ``max_params``); the rest
keep their documented defaults.

Effects beyond seed noise (``noise_seeds``): under common random numbers a parameter the
target does not depend on has no effect at all, but one that changes any random draw of the run
lets the two runs of an elementary effect drift apart by seed noise alone, and their μ* then looks
like an effect (for a target whose runs are mostly noise, as large as a real one). With this set, the
shipped defaults are first simulated under that many seeds (the first of the scores' sample of the
defaults, so later reused) to measure each target's seed noise σ, and an effect counts only where its
μ* exceeds what noise alone reaches with probability 0.1 % (:func:`noise_bounds`; σ taken at its
one-sided 95 % upper bound from those seeds, and the same everywhere in the priors as at the
defaults). The rest count as no effect (unless none is left: then every effect counts as measured);
``screening_noise.csv`` shows each target's noise, that bound and how many parameters beat it.

:func:`screening_over_seeds` says whether the choice depends on the seed: every seed's choice on its
own beside the pooled one and the calibration's (``screening_seeds.csv``); ``python -m
sim.calibration.screening RESULTS --seeds K`` writes it for a finished calibration.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.calibration.noise import defaults_noise, noise_seeds_argument, sd_bound
from sim.calibration.state import SCREEN_SEEDS, CalibrationState, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed

__all__ = ["screen", "screening_over_seeds", "screening_seed_pair", "noise_bounds", "mean_abs_normal_quantile"]

LEVELS = 4  # Morris grid levels
STEP = LEVELS / (2 * (LEVELS - 1))  # SALib's Δ for that grid, in the unit cube
NOISE_P = 0.001  # how often seed noise alone may pass for an effect (per parameter and target)


def screening_seed_pair(seed: int, k: int) -> tuple[int, int]:
    """The Morris sampling seed and the simulation seed of screening seed ``k`` of a calibration seeded ``seed``.

    Seed 0 is the one every calibration screens with (its runs are shared with older calibrations).
    """
    if k == 0:
        return seed, replicate_seed(seed, SCREEN_SEEDS)
    derived = replicate_seed(seed, SCREEN_SEEDS + k)
    return derived, derived


def _effects(cal: CalibrationState, k: int) -> pd.DataFrame:
    """Morris mean absolute effects (μ*) of screening seed ``k``: candidate × used target, in tolerances."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    cfg = cal.config
    names = [p.key for p in cal.candidates]
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    sample_seed, sim_seed = screening_seed_pair(cfg.seed, k)
    u = morris_sample.sample(problem, N=cfg.trajectories, num_levels=LEVELS, seed=sample_seed)
    cal.log(f"screening seed {k}: {len(u)} Morris points × {len(cal.scenarios_used())} scenarios")
    stats = cal.simulate(cal.parameter_sets(cal.candidates, u), [sim_seed] * len(u), cal.scenarios_used(),
                         "screening")
    spread = target_spread(cal.targets)
    cols = {}
    for j in np.flatnonzero(cal.used):
        y = stats[:, j]
        if not np.all(np.isfinite(y)):
            y = np.where(np.isfinite(y), y, np.nanmedian(y))
        with warnings.catch_warnings():  # one trajectory has no spread of effects (sigma): only mu* is used
            warnings.simplefilter("ignore", RuntimeWarning)
            res = morris_analyze.analyze(problem, u, y, num_levels=LEVELS, print_to_console=False)
        cols[cal.targets["target_id"].iloc[j]] = np.asarray(res["mu_star"]) / spread[j]
    return pd.DataFrame(cols, index=pd.Index(names, name="key"))


def _select(effects: pd.DataFrame, min_effect: float, max_params: int) -> list[str]:
    """The parameters to estimate: every target's strongest first (so no mechanism is left unestimated
    because another target's effects are larger in tolerances), then the highest scores."""
    score = effects.max(axis=1)
    ranked = score.sort_values(ascending=False, kind="stable").index.tolist()
    tops = {str(effects[c].idxmax()) for c in effects.columns if effects[c].max() >= min_effect}
    above = [k for k in ranked if k in tops] + [k for k in ranked if k not in tops and score[k] >= min_effect]
    return (above or ranked[:2])[:max_params]


@functools.lru_cache(maxsize=64)
def mean_abs_normal_quantile(n: int, p: float, step: float = 1e-3) -> float:
    """The ``p`` quantile of the mean of ``n`` absolute standard normals (numerically: the n-fold
    convolution of the half-normal's probabilities on a grid of ``step``, by FFT; error about ``step``)."""
    edges = np.arange(0.0, 9.0 + step, step)  # beyond 9 sd: probability below 1e-18
    mass = np.diff(2 * norm.cdf(edges))
    size = 1 << math.ceil(math.log2(n * len(mass)))
    total = np.clip(np.fft.irfft(np.fft.rfft(mass, size) ** n, size)[: n * len(mass)], 0.0, None)
    k = int(np.searchsorted(np.cumsum(total), p * total.sum()))
    return (k + 0.5 * n) * step / n  # each term stands at its cell's middle


def noise_bounds(noise: pd.Series, n_effects: int) -> pd.Series:
    """Per target, the μ* (in its tolerances) that seed noise alone exceeds with probability 0.1 % when
    μ* is the mean of ``n_effects`` absolute elementary effects (trajectories × screening seeds);
    ``noise`` is each target's seed noise sd in its tolerances (NaN: not measured, bound 0). The
    screening passes the upper bound of the measured noise, so that a low estimate from few seeds does
    not let noise through.

    Under noise alone an elementary effect is the difference of two runs over the step Δ: N(0, s²) with
    ``s = √2·σ/Δ`` when the two runs' noise is independent (common random numbers can only make it
    smaller), and the effects of different trajectories are taken as independent; the bound is ``s``
    times the 99.9 % quantile of the mean of n absolute standard normals
    (:func:`mean_abs_normal_quantile`).
    """
    s = math.sqrt(2.0) * noise.fillna(0.0) / STEP
    return s * mean_abs_normal_quantile(n_effects, 1 - NOISE_P)


def _beyond_noise(effects: pd.DataFrame, bounds: pd.Series | None) -> pd.DataFrame:
    """``effects`` with every μ* below its target's noise bound counted as no effect; unchanged without
    bounds, or when no effect at all is beyond them (then nothing could be chosen on them)."""
    if bounds is None:
        return effects
    kept = effects.where(effects.ge(bounds.reindex(effects.columns), axis=1), 0.0)
    return kept if (kept.to_numpy() > 0).any() else effects


def _pooled(per_seed: list[pd.DataFrame]) -> pd.DataFrame:
    """μ* over the trajectories of every seed (each seed has as many: the mean of the seeds' μ*)."""
    return sum(per_seed) / len(per_seed)


def _noise(cal: CalibrationState, seeds: int) -> pd.DataFrame | None:
    """Per used target: its seed noise in its tolerances over ``seeds`` runs of the shipped defaults
    (``noise``), the runs that define it (``runs``) and the noise's one-sided 95 % upper bound
    (``upper``, chi-square on runs - 1 degrees of freedom; NaN with fewer than two runs: not measured,
    the target's effects then count as measured). None (no seeds) when every effect counts as measured."""
    if not seeds:
        return None
    sd, runs = defaults_noise(cal, seeds, "screening")
    cal.seed_noise = (sd, runs)
    sd = sd / target_spread(cal.targets)
    upper = np.where(runs >= 2, sd_bound(sd, np.maximum(runs, 2), 0.05), math.nan)
    ids = cal.targets["target_id"].to_numpy()
    return pd.DataFrame({"noise": sd[cal.used], "runs": runs[cal.used], "upper": upper[cal.used]},
                        index=ids[cal.used])


def screen(cal: CalibrationState) -> pd.DataFrame:
    """Morris screening of the candidate priors; sets ``cal.params`` and writes ``screening.csv`` (and
    ``screening_seeds.csv`` when it screens with several seeds, ``screening_noise.csv`` when it counts
    only effects beyond seed noise)."""
    cfg = cal.config
    noise = _noise(cal, cfg.noise_seeds)
    per_seed = [_effects(cal, k) for k in range(cfg.screening_seeds)]
    measured = _pooled(per_seed)
    bounds = None if noise is None else noise_bounds(noise["upper"], cfg.trajectories * cfg.screening_seeds)
    effects = _beyond_noise(measured, bounds)
    if bounds is not None and effects is measured:
        cal.log("screening: no effect on any target is beyond seed noise; choosing from the effects as measured")
    chosen = _select(effects, cfg.min_effect, cfg.max_params)
    table = pd.DataFrame({"key": effects.index, "score": effects.max(axis=1).to_numpy(),
                          "most_affected": effects.idxmax(axis=1).where(effects.max(axis=1) > 0, "").to_numpy()})
    # the per-target columns: the effects the choice counted (with the noise rule, 0 where within seed noise;
    # screening_noise.csv has the largest effect measured on each target)
    table["selected"] = table["key"].isin(set(chosen))
    table = pd.concat([table, effects.reset_index(drop=True)], axis=1).sort_values("score", ascending=False,
                                                                                    kind="stable")
    write_csv(table, cal.out / "screening.csv", float_format="%.6g")
    cal.params = [p for p in cal.candidates if p.key in set(chosen)]
    cal.log("screening: estimating " + ", ".join(p.key for p in cal.params))
    if noise is not None:
        _write_noise_table(cal, noise, bounds, measured, cfg.noise_seeds,
                           cfg.trajectories * cfg.screening_seeds)
    if len(per_seed) > 1:
        _write_seed_table(cal, per_seed, chosen, noise)
    return table


def _write_noise_table(cal: CalibrationState, noise: pd.DataFrame, bounds: pd.Series, measured: pd.DataFrame,
                       seeds: int, n_effects: int) -> None:
    """``screening_noise.csv``: per used target, its seed noise (and the upper bound used), the μ* (a mean of
    ``n_effects`` absolute effects, the pooled screening's) noise alone stays below, the largest μ* measured
    and by which parameter, how many parameters beat the bound."""
    beyond = (measured.gt(0) & measured.ge(bounds, axis=1)).sum(axis=0)
    table = pd.DataFrame({"target_id": noise.index, "noise_seeds": seeds, "noise_runs": noise["runs"].to_numpy(),
                          "noise_tolerances": noise["noise"].to_numpy(),
                          "noise_upper_tolerances": noise["upper"].to_numpy(), "effects_per_mu_star": n_effects,
                          "noise_bound": bounds.to_numpy(),
                          "largest_effect": measured.max(axis=0).reindex(noise.index).to_numpy(),
                          "largest_by": measured.idxmax(axis=0).reindex(noise.index).to_numpy(),
                          "beyond_noise": beyond.reindex(noise.index).to_numpy()})
    write_csv(table, cal.out / "screening_noise.csv", float_format="%.4g")


def screening_over_seeds(cal: CalibrationState, seeds: int, used: list[str], noise_seeds: int = 0,
                         noise_table: bool = True) -> pd.DataFrame:
    """The screening at ``seeds`` screening seeds, each seed's choice beside the pooled one and ``used``
    (the parameters the calibration estimates); with ``noise_seeds``, the same again counting only
    effects beyond seed noise measured over that many seeds of the defaults.

    Seeds the calibration screened with are found in the store; the others are simulated (and stored).
    Writes ``screening_seeds.csv`` and, with ``noise_seeds`` and ``noise_table``, ``screening_noise.csv``
    (the effects pooled over these seeds against each target's noise); nothing else.
    """
    if seeds < 2:
        raise ValueError(f"seeds: expected at least 2, got {seeds}")
    noise = _noise(cal, noise_seeds)
    per_seed = [_effects(cal, k) for k in range(seeds)]
    if noise is not None and noise_table:
        n = cal.config.trajectories * seeds
        _write_noise_table(cal, noise, noise_bounds(noise["upper"], n), _pooled(per_seed), noise_seeds, n)
    return _write_seed_table(cal, per_seed, used, noise)


def _seed_rows(per_seed: list[pd.DataFrame], used: list[str], noise: pd.DataFrame | None, trajectories: int,
               min_effect: float, max_params: int) -> pd.DataFrame:
    """One rule's rows of the seed table: per candidate its score and choice pooled and at each seed."""
    pooled = _beyond_noise(_pooled(per_seed), None if noise is None else
                           noise_bounds(noise["upper"], trajectories * len(per_seed)))
    table = pd.DataFrame({"rule": "as measured" if noise is None else "beyond seed noise", "key": pooled.index,
                          "used": pooled.index.isin(used), "pooled_score": pooled.max(axis=1).to_numpy(),
                          "pooled_selected": pooled.index.isin(_select(pooled, min_effect, max_params))})
    for k, measured in enumerate(per_seed):
        effects = _beyond_noise(measured, None if noise is None else noise_bounds(noise["upper"], trajectories))
        table[f"score_seed{k}"] = effects.max(axis=1).to_numpy()
        table[f"selected_seed{k}"] = effects.index.isin(_select(effects, min_effect, max_params))
    return table


def _write_seed_table(cal: CalibrationState, per_seed: list[pd.DataFrame], used: list[str],
                      noise: pd.DataFrame | None = None) -> pd.DataFrame:
    """``screening_seeds.csv``: per rule (effects as measured; with ``noise``, also only those beyond
    seed noise) and candidate, whether the calibration estimates it, its score and choice pooled over
    the seeds and at each seed alone (rows: the candidates any of them would estimate)."""
    cfg = cal.config
    rules = [None] if noise is None else [None, noise]
    table = pd.concat([_seed_rows(per_seed, used, n, cfg.trajectories, cfg.min_effect, cfg.max_params)
                       for n in rules], ignore_index=True)
    choices = ["used", "pooled_selected", *(f"selected_seed{k}" for k in range(len(per_seed)))]
    keep = table.groupby("key")[choices].transform("any").any(axis=1)
    order = table["rule"].map({"as measured": 0, "beyond seed noise": 1})
    table = table[keep].assign(_order=order).sort_values(["_order", "pooled_score"], ascending=[True, False],
                                                         kind="stable").drop(columns="_order").reset_index(drop=True)
    write_csv(table, cal.out / "screening_seeds.csv", float_format="%.4g")
    for rule, rows in table.groupby("rule", sort=False):
        pooled = set(rows.loc[rows["pooled_selected"], "key"])
        for k in range(len(per_seed)):
            same = len(pooled & set(rows.loc[rows[f"selected_seed{k}"], "key"]))
            cal.log(f"screening, effects {rule}: seed {k} alone chooses {same} of the pooled {len(pooled)}")
    return table


def main(argv: list[str] | None = None) -> int:
    from sim.calibration.state import CalibrationConfig

    ap = argparse.ArgumentParser(prog="python -m sim.calibration.screening",
                                 description="the screening at several seeds, each seed's choice beside the "
                                             "calibration's (screening_seeds.csv)")
    ap.add_argument("results", type=Path, help="a finished calibration's results folder (its store holds the runs)")
    ap.add_argument("--seeds", type=int, default=3, help="screening seeds, the calibration's among them (default 3)")
    ap.add_argument("--noise-seeds", type=noise_seeds_argument, default=None,
                    help="also choose counting only effects beyond seed noise, measured over this many seeds of "
                         "the shipped defaults (0: effects as measured only; default: as the calibration did)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the new runs (-1: every core)")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error(f"--seeds: expected at least 2, got {args.seeds}")
    screening = args.results / "screening.csv"
    if not screening.is_file():
        ap.error(f"{screening}: no such file (a finished calibration's screening)")
    chosen = pd.read_csv(screening)
    used = chosen.loc[chosen["selected"].astype(bool), "key"].tolist()  # the calibration's choice, as it made it
    cfg = CalibrationConfig.read(args.results)
    noise_seeds = cfg.noise_seeds if args.noise_seeds is None else args.noise_seeds
    cal = CalibrationState(cfg, args.results, jobs=args.jobs)
    try:
        # a calibration that measured the noise wrote its own screening_noise.csv: leave it as it chose by it
        table = screening_over_seeds(cal, args.seeds, used, noise_seeds, noise_table=not cfg.noise_seeds)
    finally:
        cal.close()
    if not noise_seeds and not cfg.noise_seeds:  # an earlier run's, not the calibration's: now stale
        (args.results / "screening_noise.csv").unlink(missing_ok=True)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
