"""Scoring a calibration's predictive samples (sim.calibration.scoring): what the headline counts hold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.scoring import score_files
from sim.calibration.targets import CalibrationFileError, load_targets

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def results(tmp_path):
    targets = load_targets(ROOT / "calibration/targets.csv")
    scales = {name: 0.1 for name in targets["scenario"].unique()}
    (tmp_path / "config.json").write_text(json.dumps({"scales": scales, "any_scale": False}))
    rng = np.random.default_rng(3)
    rows = []
    for source, shift in (("defaults", 3.0), ("posterior", 0.0)):
        draws = targets["value"].to_numpy() + (shift + rng.normal(0, 1, (200, len(targets)))) * np.maximum(
            targets["tolerance"].to_numpy(), 0.01)
        frame = pd.DataFrame(draws, columns=targets["target_id"])
        frame.insert(0, "seed", np.arange(200))
        frame.insert(0, "draw", np.arange(200))
        frame.insert(0, "source", source)
        rows.append(frame)
    pd.concat(rows).to_csv(tmp_path / "predictive_samples.csv", index=False)
    return tmp_path, targets


def test_hand_fitted_targets_are_scored_but_left_out_of_the_headline_counts(results):
    out, targets = results
    scores, summary = score_files(out, targets)
    by_hand = set(targets.loc[targets["fitted_by_hand"] != "", "target_id"])
    assert len(by_hand) >= 4  # Daqing's and Jincheng's constants set from their own figures
    rows = scores[scores["target_id"].isin(by_hand)]
    assert not rows["compared"].any() and rows["fitted_by_hand"].str.contains("=").all()
    assert rows["pit"].notna().all()  # scored all the same
    posterior = summary.set_index("source").loc["posterior"]
    counted = scores[(scores["source"] == "posterior") & scores["compared"] & (scores["group"] == "point")]
    assert posterior["point_targets"] == len(counted) and by_hand.isdisjoint(counted["target_id"])


def test_a_sample_centred_on_the_reports_outscores_a_shifted_one(results):
    out, targets = results
    _, summary = score_files(out, targets)
    s = summary.set_index("source")
    assert s.loc["posterior", "inside_90"] > s.loc["defaults", "inside_90"]
    assert s.loc["posterior", "mean_crps"] < s.loc["defaults", "mean_crps"]
    assert (out / "scores.csv").is_file() and (out / "scores_summary.csv").is_file()


def test_an_unknown_targets_column_is_still_refused(tmp_path):
    frame = pd.read_csv(ROOT / "calibration/targets.csv").assign(fitted_by_eye="")
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(CalibrationFileError, match="unknown column.*fitted_by_eye.*optionally.*fitted_by_hand"):
        load_targets(tmp_path / "t.csv")
