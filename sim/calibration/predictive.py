"""Calibration, stage 4: the posterior-predictive check and the tension report.

**Posterior-predictive check**: fresh simulations of parameter sets drawn from the posterior,
one per draw and scenario, held-out city included; per target the median and the 90 %
interval against the reported value (``predictive.csv``). **Tension report**: per target, how
close any simulation inside the priors came, which parameter moves it most, and whether the
posterior is pressed against a prior bound (``tension.csv``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from sim.calibration.state import PREDICT_SEEDS, CalibrationState, discrepancies, hits
from sim.csv_output import write_csv

__all__ = ["predict", "tension"]


def predict(cal: CalibrationState, scenarios: list[str] | None = None) -> pd.DataFrame:
    """Posterior-predictive check of every target (held-out city included): ``predictive.csv``.

    Args:
        scenarios: Simulate only these (their targets' rows only are written); default every
            compared scenario.
    """
    cfg = cal.config
    points, seeds = cal.posterior_draws(cfg.draws, PREDICT_SEEDS)
    only = scenarios
    scenarios = sorted(set(cal.targets.loc[cal.compared, "scenario"])) if only is None else sorted(only)
    cal.log(f"posterior predictive: {cfg.draws} draws × {len(scenarios)} scenarios")
    stats = cal.simulate(points, seeds, scenarios, "predictive")
    cal.predictive_stats = stats
    t = cal.targets
    with warnings.catch_warnings():  # targets of scenarios not simulated are NaN throughout
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, med, hi = (np.nanquantile(stats, q, axis=0) for q in (0.05, 0.5, 0.95))
    df = pd.DataFrame({
        "target_id": t["target_id"], "reported": t["value"], "sim_median": med, "sim_lo": lo, "sim_hi": hi,
        "hit": pd.array(hits(lo, hi, t), dtype="boolean"), "city": t["city"], "metric": t["metric"],
        "kind": t["kind"],
        "bound": t["bound"], "tolerance": t["tolerance"],
        "median_discrepancy": discrepancies(med, t), "held_out": cal.held_out, "compared": cal.compared,
    })
    df.loc[~df["compared"], "hit"] = pd.NA
    if only is not None:
        df = df[t["scenario"].isin(scenarios).to_numpy()].reset_index(drop=True)
    write_csv(df, cal.out / "predictive.csv", float_format="%.6g")
    cal.predictive = df
    return df


def tension(cal: CalibrationState) -> pd.DataFrame:
    """Per target: best simulation inside the priors, the parameter that moves it most, bound pressure."""
    from scipy.stats import spearmanr

    t = cal.targets
    if cal.design_stats is not None:  # the emulator method's design is a prior sample of real simulations
        stats, u = cal.design_stats, cal.design_u
        gen0 = np.ones(len(u), dtype=bool)
    else:
        idx = np.array(sorted(cal.stats))
        stats = np.array([cal.stats[i] for i in idx])
        u = cal.result.all_u[idx]
        gen0 = idx < cal.config.n_particles  # the prior sample
    e = discrepancies(stats, t, cap=None)
    post = cal.result.posterior
    rows = []
    for j in range(len(t)):
        tid = t["target_id"].iloc[j]
        pred = cal.predictive.iloc[j]
        hit = bool(pred["hit"]) if not pd.isna(pred["hit"]) else False
        row = {"target_id": tid, "reported": t["value"].iloc[j], "hit": pred["hit"],
               "held_out": bool(cal.held_out[j]), "sim_median": pred["sim_median"]}
        col = e[:, j]
        ok = np.isfinite(col)
        if ok.any():
            best = int(np.argmin(np.where(ok, np.abs(col), np.inf)))
            row["best_simulated"] = stats[best, j]
            row["best_gap_tolerances"] = float(col[best])
            row["share_of_simulations_within_tolerance"] = float(np.mean(np.abs(col[ok]) <= 1.0))
        driver, rho = "", math.nan
        m = gen0 & ok
        if m.sum() > 5 and np.ptp(stats[m, j]) > 0:
            rhos = [spearmanr(u[m, k], stats[m, j]).statistic for k in range(u.shape[1])]
            k = int(np.nanargmax(np.abs(rhos)))
            driver, rho = cal.params[k].key, float(rhos[k])
            mean_u = float(post.mean[k])
            need = -np.sign(pred["median_discrepancy"]) * np.sign(rho)
            row["driver_should_be"] = "" if hit or need == 0 else ("higher" if need > 0 else "lower")
            row["driver_posterior_mean_u"] = mean_u
            row["driver_at_bound"] = bool(mean_u < 0.15 or mean_u > 0.85)
        row["driver"] = driver
        row["driver_spearman"] = rho
        rows.append(row)
    df = pd.DataFrame(rows)
    write_csv(df, cal.out / "tension.csv", float_format="%.6g")
    cal.tension_table = df
    return df
