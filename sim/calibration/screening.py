"""Calibration, stage 1: screening — which candidate parameters move the targets enough to estimate.

Morris elementary effects (SALib): every candidate prior is moved across its range along a few
trajectories, all points of one screening seed under one simulation seed (common random numbers),
and each parameter is scored by its largest mean absolute effect on a target in units of that
target's tolerance. With several screening seeds (``screening_seeds``) each seed draws its own
trajectories and simulates them under its own seed, and the effects are averaged over seeds (the
mean absolute effect over all their trajectories). Each target's strongest parameter is estimated,
then the next highest scores, as long as they reach ``min_effect`` (at most ``max_params``); the rest
keep their documented defaults.

Effects beyond seed noise (``screening_noise_seeds``): under common random numbers a parameter the
target does not depend on has no effect at all, but one that changes any random draw of the run
lets the two runs of an elementary effect drift apart by seed noise alone, and their μ* then looks
like an effect (for a target whose runs are mostly noise, as large as a real one). With this set, the
shipped defaults are first simulated under that many seeds (the predictive check's, so later reused)
to measure each target's seed noise σ, and an effect counts only where its μ* exceeds what noise alone
reaches with probability at most 0.1 % (:func:`noise_bounds`; σ taken at its one-sided 95 % upper bound
from those seeds). The rest count as no effect; ``screening_noise.csv`` shows each target's noise, that
bound and how many parameters beat it.

:func:`screening_over_seeds` says whether the choice depends on the seed: every seed's choice on its
own beside the pooled one and the calibration's (``screening_seeds.csv``); ``python -m
sim.calibration.screening RESULTS --seeds K`` writes it for a finished calibration.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.noise import defaults_noise
from sim.calibration.state import SCREEN_SEEDS, CalibrationState, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed

__all__ = ["screen", "screening_over_seeds", "screening_seed_pair", "noise_bounds"]

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


def noise_bounds(noise: pd.Series, trajectories: int) -> pd.Series:
    """Per target, a μ* (in its tolerances) that seed noise alone exceeds with probability at most 0.1 %
    when μ* is the mean of ``trajectories`` absolute elementary effects; ``noise`` is each target's seed
    noise sd in its tolerances (NaN: not measured, bound 0). The screening passes the upper bound of
    the measured noise, so that a low estimate from few seeds does not let noise through.

    Under noise alone each elementary effect is N(0, s²), ``s = √2·σ/Δ``; the mean of n absolute values
    is at most their root mean square (Cauchy-Schwarz), ``s·√(χ²ₙ/n)``, so its 99.9 % chi-square quantile
    bounds μ* (a little above the exact quantile: the rule errs towards calling an effect noise).
    """
    from scipy.stats import chi2

    s = math.sqrt(2.0) * noise.fillna(0.0) / STEP
    return s * math.sqrt(chi2.ppf(1 - NOISE_P, trajectories) / trajectories)


def _beyond_noise(effects: pd.DataFrame, bounds: pd.Series | None) -> pd.DataFrame:
    """``effects`` with every μ* below its target's noise bound counted as no effect (unchanged without bounds)."""
    if bounds is None:
        return effects
    return effects.where(effects.ge(bounds.reindex(effects.columns), axis=1), 0.0)


def _pooled(per_seed: list[pd.DataFrame]) -> pd.DataFrame:
    """μ* over the trajectories of every seed (each seed has as many: the mean of the seeds' μ*)."""
    return sum(per_seed) / len(per_seed)


def _noise(cal: CalibrationState, seeds: int) -> pd.DataFrame | None:
    """Each used target's seed noise in its tolerances over ``seeds`` runs of the shipped defaults
    (``noise``) and its one-sided 95 % upper bound (``upper``, chi-square), or None (no seeds) when
    effects count as measured."""
    if not seeds:
        return None
    from scipy.stats import chi2

    sd = defaults_noise(cal, seeds, "screening") / target_spread(cal.targets)
    ids = cal.targets["target_id"].to_numpy()
    upper = math.sqrt((seeds - 1) / chi2.ppf(0.05, seeds - 1))
    return pd.DataFrame({"noise": sd[cal.used], "upper": sd[cal.used] * upper}, index=ids[cal.used])


def screen(cal: CalibrationState) -> pd.DataFrame:
    """Morris screening of the candidate priors; sets ``cal.params`` and writes ``screening.csv`` (and
    ``screening_seeds.csv`` when it screens with several seeds, ``screening_noise.csv`` when it counts
    only effects beyond seed noise)."""
    cfg = cal.config
    noise = _noise(cal, cfg.screening_noise_seeds)
    per_seed = [_effects(cal, k) for k in range(cfg.screening_seeds)]
    measured = _pooled(per_seed)
    bounds = None if noise is None else noise_bounds(noise["upper"], cfg.trajectories * cfg.screening_seeds)
    effects = _beyond_noise(measured, bounds)
    chosen = _select(effects, cfg.min_effect, cfg.max_params)
    table = pd.DataFrame({"key": effects.index, "score": effects.max(axis=1).to_numpy(),
                          "most_affected": effects.idxmax(axis=1).where(effects.max(axis=1) > 0, "").to_numpy()})
    table["selected"] = table["key"].isin(set(chosen))
    table = pd.concat([table, measured.reset_index(drop=True)], axis=1).sort_values("score", ascending=False,
                                                                                     kind="stable")
    write_csv(table, cal.out / "screening.csv", float_format="%.6g")
    cal.params = [p for p in cal.candidates if p.key in set(chosen)]
    cal.log("screening: estimating " + ", ".join(p.key for p in cal.params))
    if noise is not None:
        _write_noise_table(cal, noise, bounds, measured, cfg.screening_noise_seeds)
    if len(per_seed) > 1:
        _write_seed_table(cal, per_seed, chosen, noise)
    return table


def _write_noise_table(cal: CalibrationState, noise: pd.DataFrame, bounds: pd.Series, measured: pd.DataFrame,
                       seeds: int) -> None:
    """``screening_noise.csv``: per used target, its seed noise (and the upper bound used), the μ* noise
    alone stays below, the largest μ* measured and by which parameter, how many parameters beat the bound."""
    beyond = (measured.gt(0) & measured.ge(bounds, axis=1)).sum(axis=0)
    table = pd.DataFrame({"target_id": noise.index, "noise_seeds": seeds,
                          "noise_tolerances": noise["noise"].to_numpy(),
                          "noise_upper_tolerances": noise["upper"].to_numpy(), "noise_bound": bounds.to_numpy(),
                          "largest_effect": measured.max(axis=0).reindex(noise.index).to_numpy(),
                          "largest_by": measured.idxmax(axis=0).reindex(noise.index).to_numpy(),
                          "beyond_noise": beyond.reindex(noise.index).to_numpy()})
    write_csv(table, cal.out / "screening_noise.csv", float_format="%.4g")


def screening_over_seeds(cal: CalibrationState, seeds: int, used: list[str], noise_seeds: int = 0) -> pd.DataFrame:
    """The screening at ``seeds`` screening seeds, each seed's choice beside the pooled one and ``used``
    (the parameters the calibration estimates); with ``noise_seeds``, the same again counting only
    effects beyond seed noise measured over that many seeds of the defaults.

    Seeds the calibration screened with are found in the store; the others are simulated (and stored).
    Writes ``screening_seeds.csv`` and, with ``noise_seeds``, ``screening_noise.csv`` (the pooled
    effects against each target's noise); nothing else.
    """
    if seeds < 2:
        raise ValueError(f"seeds: expected at least 2, got {seeds}")
    noise = _noise(cal, noise_seeds)
    per_seed = [_effects(cal, k) for k in range(seeds)]
    if noise is not None:
        measured = _pooled(per_seed)
        _write_noise_table(cal, noise, noise_bounds(noise["upper"], cal.config.trajectories * seeds), measured,
                           noise_seeds)
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
    table = table[keep].sort_values(["rule", "pooled_score"], ascending=[True, False],
                                    kind="stable").reset_index(drop=True)
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
    ap.add_argument("--noise-seeds", type=int, default=0,
                    help="also choose counting only effects beyond seed noise, measured over this many seeds of "
                         "the shipped defaults (default 0: effects as measured only)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the new runs (-1: every core)")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error(f"--seeds: expected at least 2, got {args.seeds}")
    if args.noise_seeds == 1 or args.noise_seeds < 0:
        ap.error(f"--noise-seeds: expected 0 or at least 2, got {args.noise_seeds}")
    screening = args.results / "screening.csv"
    if not screening.is_file():
        ap.error(f"{screening}: no such file (a finished calibration's screening)")
    chosen = pd.read_csv(screening)
    used = chosen.loc[chosen["selected"].astype(bool), "key"].tolist()  # the calibration's choice, as it made it
    cal = CalibrationState(CalibrationConfig.read(args.results), args.results, jobs=args.jobs)
    try:
        table = screening_over_seeds(cal, args.seeds, used, args.noise_seeds)
    finally:
        cal.close()
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
