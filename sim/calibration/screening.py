"""Calibration, stage 1: screening — which candidate parameters move the targets enough to estimate.

Morris elementary effects (SALib): every candidate prior is moved across its range along a few
trajectories, all points of one screening seed under one simulation seed (common random numbers),
and each parameter is scored by its largest mean absolute effect on a target in units of that
target's tolerance. With several screening seeds (``screening_seeds``) each seed draws its own
trajectories and simulates them under its own seed, and the effects are averaged over seeds (the
mean absolute effect over all their trajectories). Each target's strongest parameter is estimated,
then the next highest scores, as long as they reach ``min_effect`` (at most ``max_params``); the rest
keep their documented defaults.

:func:`screening_over_seeds` says whether the choice depends on the seed: every seed's choice on its
own beside the pooled one and the calibration's (``screening_seeds.csv``); ``python -m
sim.calibration.screening RESULTS --seeds K`` writes it for a finished calibration.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.state import SCREEN_SEEDS, CalibrationState, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed

__all__ = ["screen", "screening_over_seeds", "screening_seed_pair"]


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
    u = morris_sample.sample(problem, N=cfg.trajectories, num_levels=4, seed=sample_seed)
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
            res = morris_analyze.analyze(problem, u, y, num_levels=4, print_to_console=False)
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


def _pooled(per_seed: list[pd.DataFrame]) -> pd.DataFrame:
    """μ* over the trajectories of every seed (each seed has as many: the mean of the seeds' μ*)."""
    return sum(per_seed) / len(per_seed)


def screen(cal: CalibrationState) -> pd.DataFrame:
    """Morris screening of the candidate priors; sets ``cal.params`` and writes ``screening.csv``
    (and ``screening_seeds.csv`` when it screens with several seeds)."""
    cfg = cal.config
    per_seed = [_effects(cal, k) for k in range(cfg.screening_seeds)]
    effects = _pooled(per_seed)
    chosen = _select(effects, cfg.min_effect, cfg.max_params)
    table = pd.DataFrame({"key": effects.index, "score": effects.max(axis=1).to_numpy(),
                          "most_affected": effects.idxmax(axis=1).to_numpy()})
    table["selected"] = table["key"].isin(set(chosen))
    table = pd.concat([table, effects.reset_index(drop=True)], axis=1).sort_values("score", ascending=False,
                                                                                    kind="stable")
    write_csv(table, cal.out / "screening.csv", float_format="%.6g")
    cal.params = [p for p in cal.candidates if p.key in set(chosen)]
    cal.log("screening: estimating " + ", ".join(p.key for p in cal.params))
    if len(per_seed) > 1:
        _write_seed_table(cal, per_seed, chosen)
    return table


def screening_over_seeds(cal: CalibrationState, seeds: int, used: list[str]) -> pd.DataFrame:
    """The screening at ``seeds`` screening seeds, each seed's choice beside the pooled one and ``used``
    (the parameters the calibration estimates).

    Seeds the calibration screened with are found in the store; the others are simulated (and stored).
    Writes ``screening_seeds.csv`` and nothing else.
    """
    if seeds < 2:
        raise ValueError(f"seeds: expected at least 2, got {seeds}")
    per_seed = [_effects(cal, k) for k in range(seeds)]
    return _write_seed_table(cal, per_seed, used)


def _write_seed_table(cal: CalibrationState, per_seed: list[pd.DataFrame], used: list[str]) -> pd.DataFrame:
    """``screening_seeds.csv``: per candidate, whether the calibration estimates it, its score and choice
    pooled over the seeds and at each seed alone (rows: the candidates any of them would estimate)."""
    cfg = cal.config
    pooled = _pooled(per_seed)
    table = pd.DataFrame({"key": pooled.index, "used": pooled.index.isin(used),
                          "pooled_score": pooled.max(axis=1).to_numpy(),
                          "pooled_selected": pooled.index.isin(_select(pooled, cfg.min_effect, cfg.max_params))})
    for k, effects in enumerate(per_seed):
        table[f"score_seed{k}"] = effects.max(axis=1).to_numpy()
        table[f"selected_seed{k}"] = effects.index.isin(_select(effects, cfg.min_effect, cfg.max_params))
    choices = ["used", "pooled_selected", *(f"selected_seed{k}" for k in range(len(per_seed)))]
    table = table[table[choices].any(axis=1)].sort_values("pooled_score", ascending=False,
                                                          kind="stable").reset_index(drop=True)
    write_csv(table, cal.out / "screening_seeds.csv", float_format="%.4g")
    for k in range(len(per_seed)):
        same = int((table["used"] & table[f"selected_seed{k}"]).sum())
        cal.log(f"screening seed {k} alone: {same} of {int(table['used'].sum())} estimated parameters chosen")
    return table


def main(argv: list[str] | None = None) -> int:
    from sim.calibration.state import CalibrationConfig

    ap = argparse.ArgumentParser(prog="python -m sim.calibration.screening",
                                 description="the screening at several seeds, each seed's choice beside the "
                                             "calibration's (screening_seeds.csv)")
    ap.add_argument("results", type=Path, help="a finished calibration's results folder (its store holds the runs)")
    ap.add_argument("--seeds", type=int, default=3, help="screening seeds, the calibration's among them (default 3)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the new runs (-1: every core)")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error(f"--seeds: expected at least 2, got {args.seeds}")
    screening = args.results / "screening.csv"
    if not screening.is_file():
        ap.error(f"{screening}: no such file (a finished calibration's screening)")
    chosen = pd.read_csv(screening)
    used = chosen.loc[chosen["selected"].astype(bool), "key"].tolist()  # the calibration's choice, as it made it
    cal = CalibrationState(CalibrationConfig.read(args.results), args.results, jobs=args.jobs)
    try:
        table = screening_over_seeds(cal, args.seeds, used)
    finally:
        cal.close()
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
