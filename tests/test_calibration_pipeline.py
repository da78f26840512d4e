"""The calibration pipeline end to end on a small problem, its resumption, and --posterior runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from calibration_helpers import rerun_simulates_nothing

from sim.calibration import CalibrationFileError
from sim.calibration.calibrate import Calibration, CalibrationConfig
from sim.calibration.posterior import Posterior, load_posterior, with_parameters
from sim.cli import main
from sim.experiments.store import ResultsStore
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["interventions.mediation.service.honour_prob", "interventions.governance_centres.pipeline.resolve_prob[0]"]
SCALE = 0.05


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Jincheng's targets and two priors, calibrated with a few dozen simulations (with plots): the tests
    that share it are slow, run by .ci/run."""
    work = tmp_path_factory.mktemp("cal")
    pd.read_csv(ROOT / "calibration/targets.csv").query("city == 'jincheng'").to_csv(work / "targets.csv",
                                                                                     index=False)
    raw = yaml.safe_load((ROOT / "calibration/priors.yaml").read_text(encoding="utf-8"))
    (work / "priors.yaml").write_text(yaml.safe_dump([e for e in raw if e["key"] in KEYS], allow_unicode=True),
                                      encoding="utf-8")
    cfg = CalibrationConfig(targets=str(work / "targets.csv"), priors=str(work / "priors.yaml"), budget=12,
                            particles=6, scale=SCALE, trajectories=1, draws=3, attribution_replicates=2,
                            min_effect=0.0, max_generations=2, any_scale=True, method="simulator")
    cal = Calibration(cfg, work / "out", jobs=2, progress=False)
    summary = cal.run(plots=True)
    cal.close()
    return cfg, work, summary


@pytest.mark.slow
def test_outputs_are_written_with_the_promised_columns(small):
    cfg, work, summary = small
    out = work / "out"
    for name in ("posterior.csv", "populations.csv", "diagnostics.csv", "screening.csv", "predictive.csv",
                 "tension.csv", "attribution.csv", "summary.json", "config.json", "posterior.png",
                 "predictive.png", "schedule.png"):
        assert (out / name).is_file(), name
    pred = pd.read_csv(out / "predictive.csv")
    assert list(pred.columns[:6]) == ["target_id", "reported", "sim_median", "sim_lo", "sim_hi", "hit"]
    assert set(pred["target_id"]) == set(pd.read_csv(work / "targets.csv")["target_id"])
    ok = pred["compared"]
    assert (pred.loc[ok, "sim_lo"] <= pred.loc[ok, "sim_median"]).all()
    assert (pred.loc[ok, "sim_median"] <= pred.loc[ok, "sim_hi"]).all()
    post = load_posterior(out / "posterior.csv")
    assert set(post.keys) <= set(KEYS) and post.values.shape[0] == cfg.particles
    assert np.isclose(post.weights.sum(), 1)
    diag = pd.read_csv(out / "diagnostics.csv")
    assert {"generation", "epsilon", "acceptance", "ess", "max_mean_shift"} <= set(diag.columns)
    assert summary["simulations"]["abc"] <= cfg.budget


@pytest.mark.slow
def test_a_finished_calibrations_config_reads_back_as_it_was_run(small):
    cfg, work, _ = small
    assert CalibrationConfig.read(work / "out") == cfg


@pytest.mark.slow
def test_attribution_switches_each_intervention_off_under_common_random_numbers(small):
    _, work, _ = small
    attr = pd.read_csv(work / "out" / "attribution.csv")
    scen = load_scenario("jincheng_2016_2020")
    on = [k for k, v in scen.interventions if v.enabled]
    assert set(attr["variant"]) == {"all", "none", *[f"without {k}" for k in on]}
    everything = attr[attr["variant"] == "all"]
    assert everything["contribution_pts"].isna().all()


@pytest.mark.slow
def test_a_rerun_resumes_from_the_store_and_reproduces_the_results(small):
    cfg, work, _ = small
    out = work / "out"
    before = pd.read_csv(out / "predictive.csv")
    rerun_simulates_nothing(cfg, out)
    pd.testing.assert_frame_equal(pd.read_csv(out / "predictive.csv"), before)


def test_hold_out_keeps_a_city_out_of_the_fit_but_predicts_it(tmp_path):
    targets = ROOT / "calibration/targets.csv"
    cal = Calibration(CalibrationConfig(targets=str(targets), hold_out="suizhou"), tmp_path, progress=False)
    held = cal.targets["city"].eq("suizhou").to_numpy()
    assert not cal.used[held].any()
    assert cal.compared[held].all()
    assert "suizhou_2022" not in cal.scenarios_used()
    cal.close()
    with pytest.raises(ValueError, match="hold-out 'atlantis'"):
        Calibration(CalibrationConfig(targets=str(targets), hold_out="atlantis"), tmp_path, progress=False)


def test_runs_are_cut_after_the_last_year_a_target_needs(tmp_path):
    cal = Calibration(CalibrationConfig(), tmp_path, progress=False)
    xa = cal.scenarios["xingan_2016_2020"]
    assert xa.run.year_labels == [2016, 2017]
    assert not xa.interventions.governance_centres.enabled  # starts in 2020, after the cut
    assert cal.scenarios["suizhou_2022"] == load_scenario("suizhou_2022")
    cal.close()


def _posterior_file(path: Path) -> Path:
    pd.DataFrame({"particle": [0, 1, 2], "weight": [0.2, 0.5, 0.3],
                  "crime.camera_deterrence": [0.1, 0.6, 1.1],
                  "calls.report_prob.theft": [0.3, 0.45, 0.6]}).to_csv(path, index=False)
    return path


def test_posterior_draws_differ_per_replicate_and_are_reproducible(tmp_path):
    post = load_posterior(_posterior_file(tmp_path / "p.csv"))
    draws = [post.draw(1, r) for r in range(12)]
    assert len({tuple(d.values()) for d in draws}) > 1
    assert draws == [post.draw(1, r) for r in range(12)]
    assert draws != [post.draw(2, r) for r in range(12)]
    # Drawn in proportion to the weights.
    many = [post.draw(7, r)["crime.camera_deterrence"] for r in range(3000)]
    assert np.mean(np.isclose(many, 0.6)) == pytest.approx(0.5, abs=0.04)


def test_a_posterior_calibrated_on_another_model_version_is_used_with_a_warning(tmp_path, caplog):
    import json
    import logging

    from sim.experiments.pipeline import posterior_draws
    from sim.experiments.store import model_version

    path = _posterior_file(tmp_path / "posterior.csv")
    with caplog.at_level(logging.WARNING, logger="pingan"):
        load_posterior(path)  # no calibration beside it: nothing to check
        (tmp_path / "config.json").write_text(json.dumps({"model_version": model_version()}))
        load_posterior(path)
        assert not caplog.records
        (tmp_path / "config.json").write_text(json.dumps({"model_version": "0123456789abcdef"}))
        load_posterior(path)  # what the optimiser reads its posterior with
        assert posterior_draws(path, [load_scenario("suizhou_2022")], 1) is not None  # and pingan run
    assert len(caplog.records) == 2
    message = caplog.records[0].getMessage()
    assert "calibrated on model version 0123456789abcdef" in message
    assert model_version() in message and "recalibrate" in message


def test_the_committed_posterior_ships_with_the_model_version_it_was_calibrated_on():
    from sim._data import posterior_file
    from sim.calibration.posterior import calibrated_model_version

    assert calibrated_model_version(posterior_file("main")) is not None


def test_with_parameters_sets_a_mapping_entry_and_keeps_the_others():
    base = load_scenario("suizhou_2022")
    scen = with_parameters(base, {"calls.report_prob.theft": 0.31, "crime.camera_deterrence": 0.9})
    assert scen.calls.report_prob["theft"] == 0.31
    assert scen.calls.report_prob["burglary"] == base.calls.report_prob["burglary"]
    assert scen.crime.camera_deterrence == 0.9


@pytest.mark.parametrize("content, words", [
    ("particle,crime.camera_deterrence\n0,0.5\n", "column 'weight'"),
    ("weight,crime.camera_deterrence\n1,abc\n", "column 'crime.camera_deterrence', row 2"),
    ("weight\n1\n", "no parameter columns"),
    ("weight,crime.camera_deterrence\n-1,0.5\n", "non-negative"),
])
def test_a_bad_posterior_file_is_named(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CalibrationFileError, match=words) as e:
        load_posterior(path)
    assert str(path) in str(e.value)


def test_an_unknown_parameter_in_a_posterior_is_refused_before_any_run(tmp_path, capsys):
    path = tmp_path / "p.csv"
    pd.DataFrame({"weight": [1.0], "crime.no_such_thing": [0.5]}).to_csv(path, index=False)
    assert main(["run", "suizhou_2022", "--posterior", str(path), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "crime.no_such_thing" in err and str(path) in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_run_with_a_posterior_draws_per_replicate_reproducibly(tmp_path):
    path = _posterior_file(tmp_path / "p.csv")
    args = ["run", "jincheng_2016_2020", "--posterior", str(path), "--scale", "0.05", "-r", "3", "-j", "2",
            "--no-plots", "-q"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    params = pd.read_csv(tmp_path / "a" / "parameters.csv")
    assert len(params.drop_duplicates(subset=[c for c in params if c != "replicate"])) > 1
    a = (tmp_path / "a" / "metrics.csv").read_bytes()
    assert a == (tmp_path / "b" / "metrics.csv").read_bytes()
    # Each replicate really ran its drawn parameters: the store records them as the run's point.
    with ResultsStore(tmp_path / "a" / "store.sqlite") as store:
        frame = store.frame()
    got = frame.groupby("replicate")["crime.camera_deterrence"].first()
    assert got.tolist() == params.sort_values("replicate")["crime.camera_deterrence"].tolist()


def test_posterior_frame_round_trips(tmp_path):
    post = Posterior(("crime.camera_deterrence",), np.array([[0.2], [0.4]]), np.array([0.25, 0.75]))
    post.save(tmp_path / "p.csv")
    back = load_posterior(tmp_path / "p.csv")
    assert back.keys == post.keys and np.allclose(back.values, post.values) and np.allclose(back.weights, [0.25, 0.75])
    assert json.loads(json.dumps(back.draw(1, 0)))
