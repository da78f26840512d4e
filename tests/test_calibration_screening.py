"""The screening's choice of parameters, at one seed and pooled over several."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.calibration.screening import (
    STEP,
    _beyond_noise,
    _pooled,
    _select,
    _write_seed_table,
    mean_abs_normal_quantile,
    noise_bounds,
    screen,
    screening_seed_pair,
)
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
    assert set(table["rule"]) == {"as measured"}  # no noise measured: one rule
    assert messages[-1] == "screening, effects as measured: seed 1 alone chooses 1 of the pooled 2"


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


def test_seed_noise_alone_passes_the_noise_bound_once_in_a_thousand_and_a_real_effect_passes_it():
    rng = np.random.default_rng(7)
    noise = 0.8  # seed noise sd, in tolerances
    for n in (1, 4, 12):
        bound = noise_bounds(pd.Series({"t": noise}), n)["t"]
        # pure noise: each elementary effect is the difference of two independent runs over the step
        ee = (rng.normal(0, noise, (400_000, n)) - rng.normal(0, noise, (400_000, n))) / STEP
        mu_star = np.abs(ee).mean(axis=1)
        assert 0.0008 < np.mean(mu_star >= bound) < 0.0012  # 0.1 %: 400 ± 20 of 400 000
        effect = 1.5 * bound  # a parameter that moves the target well beyond what noise reaches
        assert np.mean(np.abs(effect + ee).mean(axis=1) >= bound) > 0.9
    assert mean_abs_normal_quantile(1, 0.999) == pytest.approx(3.2905, abs=2e-3)  # |Z|: the normal's 99.95 %
    assert noise_bounds(pd.Series({"t": noise}), 12)["t"] < noise_bounds(pd.Series({"t": noise}), 4)["t"]
    assert noise_bounds(pd.Series({"t": math.nan}), 4)["t"] == 0.0  # not measured: every effect counts


def test_effects_below_their_targets_noise_bound_count_as_none():
    effects = _effects({"a": [0.4, 5.0], "b": [0.6, 0.3], "c": [0.0, 2.9]})
    bounds = pd.Series({"t0": 0.0, "t1": 3.0})
    kept = _beyond_noise(effects, bounds)
    assert kept["t0"].tolist() == [0.4, 0.6, 0.0]  # a quiet target: every effect counts
    assert kept["t1"].tolist() == [5.0, 0.0, 0.0]  # a noisy one: only a's effect is beyond its noise
    assert _beyond_noise(effects, None).equals(effects)
    # c's effect on the noisy target made it t1's strongest but one; beyond noise it is not chosen
    assert _select(effects, min_effect=0.5, max_params=10) == ["a", "b", "c"]
    assert _select(kept, min_effect=0.5, max_params=10) == ["a", "b"]
    # nothing beyond noise at all: every effect counts as measured (rather than two chosen at random)
    assert _beyond_noise(effects, pd.Series({"t0": 9.0, "t1": 9.0})).equals(effects)


def test_each_targets_noise_is_measured_over_the_defaults_seeds_with_its_upper_bound(monkeypatch):
    from scipy.stats import chi2

    import sim.calibration.screening as screening

    targets = pd.DataFrame({"target_id": ["t0", "t1", "t2", "held"], "tolerance": [2.0, 0.5, 1.0, 1.0],
                            "kind": ["change"] * 4})
    cal = SimpleNamespace(targets=targets, used=np.array([True, True, True, False]), seed_noise=None)
    monkeypatch.setattr(screening, "defaults_noise",
                        lambda cal, seeds, stage: (np.array([1.0, 0.2, math.nan, 3.0]), np.array([20, 11, 1, 20])))
    assert screening._noise(cal, 0) is None
    noise = screening._noise(cal, 20)
    assert noise.index.tolist() == ["t0", "t1", "t2"]  # the used targets only
    assert noise["noise"].tolist()[:2] == [0.5, 0.4]  # in tolerances
    assert noise.loc["t0", "upper"] == pytest.approx(0.5 * math.sqrt(19 / chi2.ppf(0.05, 19)))
    assert noise.loc["t1", "upper"] == pytest.approx(0.4 * math.sqrt(10 / chi2.ppf(0.05, 10)))  # its own runs
    assert math.isnan(noise.loc["t2", "upper"])  # one run: not measured
    assert cal.seed_noise[1].tolist() == [20, 11, 1, 20]  # kept for the fit, in the targets' own units


def test_the_screening_beyond_noise_writes_each_targets_noise_and_the_seed_table_both_rules(tmp_path, monkeypatch):
    import sim.calibration.screening as screening

    seed0 = _effects({"a": [0.0, 9.0], "b": [0.9, 0.0], "c": [0.0, 2.0]})
    seed1 = _effects({"a": [0.0, 8.0], "b": [0.7, 0.0], "c": [0.0, 5.5]})
    noise = pd.DataFrame({"noise": [0.01, 1.0], "runs": [20, 20], "upper": [0.012, 1.2]}, index=["t0", "t1"])
    monkeypatch.setattr(screening, "_effects", lambda cal, k: [seed0, seed1][k])
    monkeypatch.setattr(screening, "_noise", lambda cal, seeds: noise if seeds else None)
    cal = SimpleNamespace(config=CalibrationConfig(min_effect=0.5, max_params=3, trajectories=2, screening_seeds=2,
                                                   noise_seeds=20),
                          out=tmp_path, log=lambda _m: None, candidates=[SimpleNamespace(key=k) for k in "abc"])
    pooled_bound = noise_bounds(noise["upper"], 4)["t1"]  # two seeds of two trajectories
    seed_bound = noise_bounds(noise["upper"], 2)["t1"]  # one seed alone
    assert 3.75 < pooled_bound < 5.5 < seed_bound < 8.0  # c: 3.75 pooled, 5.5 at seed 1; a: 8.5 and 8
    screen(cal)
    assert [p.key for p in cal.params] == ["a", "b"]  # measured, c (3.75 on t1) would be chosen too
    table = pd.read_csv(tmp_path / "screening.csv").set_index("key")
    assert table.loc["c", "score"] == 0.0 and table.loc["c", "t1"] == 0.0  # counted as no effect
    assert table.loc["a", "t1"] == pytest.approx(8.5)
    written = pd.read_csv(tmp_path / "screening_noise.csv").set_index("target_id")
    assert written.loc["t1", "noise_bound"] == pytest.approx(pooled_bound, rel=1e-3)
    assert written.loc["t1", "largest_effect"] == pytest.approx(8.5) and written.loc["t1", "largest_by"] == "a"
    assert written["beyond_noise"].to_dict() == {"t0": 1, "t1": 1}
    seeds = pd.read_csv(tmp_path / "screening_seeds.csv")
    assert seeds["rule"].tolist() == ["as measured"] * 3 + ["beyond seed noise"] * 3
    measured, beyond = (seeds[seeds["rule"] == r].set_index("key") for r in ("as measured", "beyond seed noise"))
    assert measured["pooled_selected"].to_dict() == {"a": True, "b": True, "c": True}
    assert beyond["pooled_selected"].to_dict() == {"a": True, "b": True, "c": False}
    assert beyond["used"].to_dict() == {"a": True, "b": True, "c": False}
    # each seed alone is held to one seed's bound: c's 5.5 at seed 1 would pass the pooled one
    assert measured.loc["c", "selected_seed1"] and not beyond.loc["c", "selected_seed1"]


@pytest.mark.parametrize("value", ["1", "-2", "x"])
def test_the_screening_command_refuses_a_bad_number_of_noise_seeds_as_the_calibrate_command_does(value, tmp_path,
                                                                                                capsys):
    from sim.calibration.screening import main

    with pytest.raises(SystemExit) as e:
        main([str(tmp_path), "--noise-seeds", value])
    assert e.value.code == 2
    assert "--noise-seeds: expected" in capsys.readouterr().err
