"""Seed noise against the spread over the priors: the shares, the signal and the scale that would halve the noise."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import f

from sim.calibration.noise import seed_noise
from sim.calibration.targets import load_targets

ROOT = Path(__file__).resolve().parents[1]


def test_noise_share_signal_and_the_scale_that_halves_the_noise(tmp_path):
    targets = load_targets(ROOT / "calibration" / "targets.csv")
    rng = np.random.default_rng(3)
    n = 20_000
    # sz_preventable_cases_yoy: seed noise sd 2, the parameters add sd 3 (spread over the priors sqrt(13));
    # dq_grid_items: no seed noise to speak of.
    frames = [pd.DataFrame({"source": source, "draw": np.arange(n), "seed": np.arange(n),
                            "sz_preventable_cases_yoy": rng.normal(0, sd, n),
                            "dq_grid_items": rng.normal(5000, grid, n)})
              for source, sd, grid in (("defaults", 2.0, 1.0), ("prior", math.sqrt(13.0), 4000.0))]
    pd.concat(frames).to_csv(tmp_path / "predictive_samples.csv", index=False)
    pd.DataFrame({"target_id": ["sz_preventable_cases_yoy"], "noise_sd": [0.01]}).to_csv(
        tmp_path / "emulator.csv", index=False)
    cal = SimpleNamespace(out=tmp_path, targets=targets, scales=dict.fromkeys(targets["scenario"], 0.1),
                          compared=(targets["target_id"] == "sz_preventable_cases_yoy").to_numpy())
    table = seed_noise(cal).set_index("target_id")
    assert list(table.index) == ["sz_preventable_cases_yoy", "dq_grid_items"]  # targets without samples are left out
    sz = table.loc["sz_preventable_cases_yoy"]
    assert sz["noise_share"] == pytest.approx(4 / 13, rel=0.05)
    assert sz["noise_share_lo"] < 4 / 13 < sz["noise_share_hi"]
    # The interval of a ratio of two sample variances: the F distribution on their degrees of freedom.
    assert sz["noise_share_lo"] == pytest.approx(sz["noise_share"] / f.ppf(0.95, n - 1, n - 1))
    assert sz["noise_share_hi"] == pytest.approx(sz["noise_share"] / f.ppf(0.05, n - 1, n - 1))
    assert sz["signal_sd_lo"] < sz["signal_sd"] < sz["signal_sd_hi"]
    assert sz["signal_sd"] == pytest.approx(3.0, rel=0.05)
    assert sz["signal_in_spreads"] == pytest.approx(3.0 / 5.0, rel=0.05)  # its tolerance is 5 points
    assert sz["scale_for_half"] == pytest.approx(0.1 * 4 / 9, rel=0.1)  # noise variance falls as 1/scale
    assert sz["emulator_noise_sd"] == 0.01 and bool(sz["compared"])
    grid = table.loc["dq_grid_items"]
    assert grid["noise_share"] < 1e-6 and math.isnan(grid["emulator_noise_sd"]) and not bool(grid["compared"])
