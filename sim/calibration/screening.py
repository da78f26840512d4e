"""Calibration, stage 1: screening — which candidate parameters move the targets enough to estimate.

Morris elementary effects (SALib): every candidate prior is moved across its range along a few
trajectories, all points under one seed (common random numbers), and each parameter is scored
by its largest mean absolute effect on a target in units of that target's tolerance. Each
target's strongest parameter is estimated, then the next highest scores, as long as they reach
``min_effect`` (at most ``max_params``); the rest keep their documented defaults.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.calibration.state import SCREEN_SEEDS, CalibrationState, target_spread
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed

__all__ = ["screen"]


def screen(cal: CalibrationState) -> pd.DataFrame:
    """Morris screening of the candidate priors; sets ``cal.params`` and writes ``screening.csv``."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    cfg = cal.config
    k = len(cal.candidates)
    problem = {"num_vars": k, "names": [p.key for p in cal.candidates], "bounds": [[0.0, 1.0]] * k}
    u = morris_sample.sample(problem, N=cfg.trajectories, num_levels=4, seed=cfg.seed)
    cal.log(f"screening: {len(u)} Morris points × {len(cal.scenarios_used())} scenarios, one seed")
    seed = replicate_seed(cfg.seed, SCREEN_SEEDS)
    stats = cal.simulate(cal.parameter_sets(cal.candidates, u), [seed] * len(u), cal.scenarios_used(),
                         "screening")
    spread = target_spread(cal.targets)
    table = pd.DataFrame({"key": problem["names"]})
    cols = {}
    for j in np.flatnonzero(cal.used):
        y = stats[:, j]
        tid = cal.targets["target_id"].iloc[j]
        if not np.all(np.isfinite(y)):
            y = np.where(np.isfinite(y), y, np.nanmedian(y))
        with warnings.catch_warnings():  # one trajectory has no spread of effects (sigma): only mu* is used
            warnings.simplefilter("ignore", RuntimeWarning)
            res = morris_analyze.analyze(problem, u, y, num_levels=4, print_to_console=False)
        cols[tid] = np.asarray(res["mu_star"]) / spread[j]
    effects = pd.DataFrame(cols)
    table["score"] = effects.max(axis=1).to_numpy()
    table["most_affected"] = effects.idxmax(axis=1).to_numpy()
    # Every target's strongest parameter first (so no mechanism is left unestimated because
    # another target's effects are larger in tolerances), then the highest scores.
    order = table.sort_values("score", ascending=False, kind="stable")
    by_key = effects.set_axis(problem["names"], axis=0)
    tops = {str(by_key[c].idxmax()) for c in by_key.columns if by_key[c].max() >= cfg.min_effect}
    ranked = order["key"].tolist()
    score = dict(zip(table["key"], table["score"], strict=True))
    above = [k for k in ranked if k in tops] + [k for k in ranked if k not in tops and score[k] >= cfg.min_effect]
    chosen = pd.Series((above or ranked[:2])[:cfg.max_params])
    table["selected"] = table["key"].isin(set(chosen))
    table = pd.concat([table, effects], axis=1).sort_values("score", ascending=False, kind="stable")
    write_csv(table, cal.out / "screening.csv", float_format="%.6g")
    cal.params = [p for p in cal.candidates if p.key in set(chosen)]
    cal.log("screening: estimating " + ", ".join(p.key for p in cal.params))
    return table
