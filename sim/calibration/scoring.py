"""Calibration, stage 7: the predictive samples of every source, and their scores against the targets.

Four predictive samples, each one simulated value per draw and target, written to
``predictive_samples.csv`` so the scores can be recomputed from the committed file alone:

- ``defaults``: the scenarios as shipped (every parameter at its documented default), one seed
  per draw — the same seeds as the posterior draws (common random numbers);
- ``prior``: the emulator method's design, a Latin hypercube over the estimated parameters'
  priors (the others at their defaults), one seed per point; the simulator method draws the
  same number from the priors;
- ``posterior``: the posterior-predictive check's draws (:func:`sim.calibration.predictive.predict`);
- ``leave-one-out``: each city's targets from the calibration that left that city out.

:func:`score_files` turns the samples and the targets table into ``scores.csv`` (one row per
source and target, :func:`sim.calibration.scores.score_table`) and ``scores_summary.csv``
(:func:`sim.calibration.scores.score_summary`); ``python -m sim.calibration.scoring RESULTS``
rewrites both from a results folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.calibration.scores import score_summary, score_table
from sim.calibration.state import ABC_SEEDS, PREDICT_SEEDS, CalibrationState
from sim.calibration.targets import load_targets
from sim.csv_output import write_csv
from sim.experiments.runner import replicate_seed
from sim.rng import stream

__all__ = ["SOURCES", "predictive_samples", "score_files"]

#: The sources in the order the tables list them.
SOURCES = ("defaults", "prior", "posterior", "leave-one-out")


def _long(source: str, stats: np.ndarray, seeds: list[int], target_ids: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(stats, columns=target_ids)
    frame.insert(0, "seed", seeds)
    frame.insert(0, "draw", np.arange(len(stats)))
    frame.insert(0, "source", source)
    return frame


def predictive_samples(cal: CalibrationState) -> pd.DataFrame:
    """Simulate the defaults' sample, gather the prior, posterior and leave-one-out samples, and write
    ``predictive_samples.csv`` (one row per source and draw, one column per target)."""
    cfg = cal.config
    ids = cal.targets["target_id"].tolist()
    scenarios = cal.scenarios_compared()
    seeds = [replicate_seed(cfg.seed, PREDICT_SEEDS + r) for r in range(cfg.draws)]
    cal.log(f"scores: the shipped defaults, {cfg.draws} seeds × {len(scenarios)} scenarios")
    parts = [_long("defaults", cal.simulate([{}] * cfg.draws, seeds, scenarios, "defaults"), seeds, ids)]
    if cal.design_stats is not None:
        design_seeds = [replicate_seed(cfg.seed, ABC_SEEDS + r) for r in range(len(cal.design_stats))]  # design.py's
        parts.append(_long("prior", cal.design_stats, design_seeds, ids))
    else:
        u = qmc.LatinHypercube(d=len(cal.params), seed=stream(cfg.seed, "calibration.prior_predictive")).random(
            cfg.draws)
        parts.append(_long("prior", cal.simulate(cal.parameter_sets(cal.params, u), seeds, scenarios, "prior"),
                           seeds, ids))
    parts.append(_long("posterior", cal.predictive_stats, seeds, ids))
    held = getattr(cal, "leave_one_out_stats", None)
    if held:
        n = min(len(s) for s in held.values())
        stats = np.full((n, len(ids)), np.nan)
        for city, s in held.items():
            cols = (cal.targets["city"] == city).to_numpy()
            stats[:, cols] = s[:n, cols]
        parts.append(_long("leave-one-out", stats, seeds[:n], ids))
    samples = pd.concat(parts, ignore_index=True)
    write_csv(samples, cal.out / "predictive_samples.csv", float_format="%.8g")
    return samples


def score_files(out: str | Path, targets: str | Path | pd.DataFrame = "calibration/targets.csv",
                scales: dict[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score ``out/predictive_samples.csv`` against the targets: write ``scores.csv`` and
    ``scores_summary.csv`` in ``out`` and return them.

    Targets whose ``fitted_by_hand`` column names a scenario constant chosen to match them are
    scored but left out of the headline counts (``compared`` False), with the constant beside them.

    Args:
        out: A calibration's results folder.
        targets: The targets table (a path, or loaded).
        scales: Scale per scenario the targets were simulated at; default ``out/config.json``'s.
    """
    import json

    out = Path(out)
    t = load_targets(targets) if not isinstance(targets, pd.DataFrame) else targets
    config = json.loads((out / "config.json").read_text())
    scales = config["scales"] if scales is None else scales
    samples = pd.read_csv(out / "predictive_samples.csv")
    scale_of = t["scenario"].map(scales).fillna(0.0).to_numpy(dtype=float)
    compared = pd.Series(scale_of >= t["min_scale"].to_numpy(dtype=float) - 1e-12, index=t.index)
    if config.get("any_scale"):
        compared[:] = True
    by_hand = t["fitted_by_hand"].fillna("") if "fitted_by_hand" in t else pd.Series("", index=t.index)
    tt = t.assign(compared=(compared & (by_hand == "")).to_numpy())
    tables = []
    for source in [s for s in SOURCES if s in set(samples["source"])]:
        draws = samples[samples["source"] == source][t["target_id"].tolist()].to_numpy(dtype=float)
        table = score_table(draws, tt, source)
        table["fitted_by_hand"] = by_hand.to_numpy()
        table.loc[~compared.to_numpy(), "compared"] = False
        tables.append(table)
    scores = pd.concat(tables, ignore_index=True)
    summary = score_summary(scores)
    write_csv(scores, out / "scores.csv", float_format="%.6g")
    write_csv(summary, out / "scores_summary.csv", float_format="%.6g")
    return scores, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.calibration.scoring", description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a calibration's results folder (with predictive_samples.csv)")
    ap.add_argument("--targets", type=Path, default=Path("calibration/targets.csv"))
    args = ap.parse_args(argv)
    _, summary = score_files(args.results, args.targets)
    print(summary.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
