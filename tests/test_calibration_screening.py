"""The screening's choice of parameters, at one seed and pooled over several."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from sim.calibration.screening import _pooled, _select, _write_seed_table, screen, screening_seed_pair
from sim.calibration.state import SCREEN_SEEDS, CalibrationConfig
from sim.experiments.runner import replicate_seed


def _effects(rows: dict[str, list[float]]) -> pd.DataFrame:
    """Effects in tolerances, candidate × target (targets t0, t1)."""
    return pd.DataFrame(rows, index=["t0", "t1"]).T.rename_axis("key")


def test_seed_zero_is_the_seed_every_calibration_screened_with_and_the_others_differ():
    assert screening_seed_pair(1, 0) == (1, replicate_seed(1, SCREEN_SEEDS))  # its stored runs are reused
    seeds = [screening_seed_pair(1, k) for k in range(4)]
    assert len({s for s, _ in seeds}) == 4 and len({s for _, s in seeds}) == 4
    assert screening_seed_pair(2, 1) != screening_seed_pair(1, 1)


def test_every_targets_strongest_parameter_is_chosen_before_higher_scores():
    effects = _effects({"a": [0.0, 5.0], "b": [0.1, 3.0], "c": [0.6, 0.0], "d": [0.2, 0.4]})
    assert _select(effects, min_effect=0.5, max_params=2) == ["a", "c"]  # c is t0's strongest, b scores higher
    assert _select(effects, min_effect=0.5, max_params=10) == ["a", "c", "b"]  # d is below the threshold
    assert _select(effects, min_effect=0.7, max_params=10) == ["a", "b"]  # t0's strongest no longer counts
    assert _select(effects, min_effect=9.0, max_params=10) == ["a", "b"]  # none reaches it: the two highest


def test_the_pooled_choice_averages_the_seeds_and_each_seeds_choice_is_written_beside_it(tmp_path):
    seed0 = _effects({"a": [0.0, 2.0], "b": [0.9, 0.0], "c": [0.0, 0.1]})
    seed1 = _effects({"a": [0.0, 1.0], "b": [0.2, 0.0], "c": [0.0, 1.4]})
    pooled = _pooled([seed0, seed1])
    assert pooled.loc["b", "t0"] == pytest.approx(0.55) and pooled.loc["c", "t1"] == pytest.approx(0.75)
    messages = []
    cal = SimpleNamespace(config=CalibrationConfig(min_effect=0.5, max_params=2), out=tmp_path, log=messages.append)
    table = _write_seed_table(cal, [seed0, seed1], used=["a", "b"])
    assert table.equals(pd.read_csv(tmp_path / "screening_seeds.csv").astype(table.dtypes))
    row = table.set_index("key")
    assert row["pooled_selected"].to_dict() == {"a": True, "b": True, "c": False}  # (0.55 and 0.75 < 1.5)
    assert row["selected_seed0"].to_dict() == {"a": True, "b": True, "c": False}
    assert row["selected_seed1"].to_dict() == {"a": True, "b": False, "c": True}  # seed 1 alone swaps b for c
    assert row.loc["c", "score_seed1"] == pytest.approx(1.4) and row.loc["a", "pooled_score"] == pytest.approx(1.5)
    assert messages[-1] == "screening seed 1 alone: 1 of 2 estimated parameters chosen"


def test_one_seed_chooses_from_its_own_effects_and_writes_no_seed_table(tmp_path, monkeypatch):
    import sim.calibration.screening as screening

    effects = _effects({"a": [0.0, 5.0], "b": [0.1, 3.0], "c": [0.6, 0.0]})
    calls = []
    monkeypatch.setattr(screening, "_effects", lambda cal, k: calls.append(k) or effects)
    cal = SimpleNamespace(config=CalibrationConfig(min_effect=0.5, max_params=2), out=tmp_path, log=lambda _m: None,
                          candidates=[SimpleNamespace(key=k) for k in ("a", "b", "c")])
    table = screen(cal)
    assert calls == [0] and [p.key for p in cal.params] == ["a", "c"]  # the one-seed rule, in the candidates' order
    assert table["selected"].tolist() == [True, False, True]  # rows by score: a 5.0, b 3.0, c 0.6
    assert (tmp_path / "screening.csv").is_file() and not (tmp_path / "screening_seeds.csv").exists()
