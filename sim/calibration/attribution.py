"""Calibration, stage 5: attribution — how much of each city's simulated change each intervention accounts for.

Per city, the scenario with every intervention and with each one switched off in turn (and with
none), under common random numbers and the same posterior draws (``attribution.csv``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibration.state import ATTRIBUTION_SEEDS, CalibrationState
from sim.csv_output import write_csv

__all__ = ["attribute"]


def attribute(cal: CalibrationState) -> pd.DataFrame:
    """Per city, the simulated change with every intervention and with each one off: ``attribution.csv``."""
    cfg = cal.config
    t = cal.targets
    points, seeds = cal.posterior_draws(cfg.attribution_replicates, ATTRIBUTION_SEEDS)
    rows = []
    for name in sorted(set(t.loc[cal.compared, "scenario"])):
        scen = cal.scenarios[name]
        on = [k for k, v in scen.interventions if getattr(v, "enabled", False)]
        yoy = t[(t["scenario"] == name) & (t["kind"] == "yoy_change")].drop_duplicates("metric")
        if yoy.empty or not on:
            continue
        variants = [("all", [])] + [(f"without {k}", [f"interventions.{k}.enabled=false"]) for k in on]
        variants.append(("none", [f"interventions.{k}.enabled=false" for k in on]))
        cal.log(f"attribution: {name}, {len(variants)} variants × {len(points)} replicates")
        n = len(points)
        stats = cal.simulate(points * len(variants), seeds * len(variants), [name], "attribution",
                             extra=[v for _, v in variants for _ in range(n)])
        cols = [int(np.flatnonzero((t["target_id"] == tid).to_numpy())[0]) for tid in yoy["target_id"]]
        for vi, (label, _) in enumerate(variants):
            block = stats[vi * n:(vi + 1) * n]
            for j, metric in zip(cols, yoy["metric"], strict=True):
                allv = stats[:n, j]
                diff = allv - block[:, j]
                rows.append({"scenario": name, "city": scen.city.preset, "variant": label, "metric": metric,
                             "change_pct": float(np.nanmean(block[:, j])),
                             "change_pct_sd": float(np.nanstd(block[:, j], ddof=1)),
                             "contribution_pts": float(np.nanmean(diff)) if vi else math.nan,
                             "contribution_sd": float(np.nanstd(diff, ddof=1)) if vi else math.nan})
    df = pd.DataFrame(rows)
    write_csv(df, cal.out / "attribution.csv", float_format="%.6g")
    cal.attribution = df
    return df
