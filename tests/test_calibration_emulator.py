"""Emulator-based calibration: the emulators, the convergence stop and a tiny calibration end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from calibration_helpers import rerun_simulates_nothing
from scipy.stats import qmc

from sim.calibration.abc import abc_smc
from sim.calibration.calibrate import Calibration, CalibrationConfig
from sim.calibration.emulator import Emulators
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["interventions.mediation.service.honour_prob", "interventions.governance_centres.pipeline.resolve_prob[0]"]
NOISE = 0.1


def _smooth(u):
    return np.sin(3 * u[:, 0]) + u[:, 1] ** 2  # the third input has no effect


def test_the_emulator_recovers_a_smooth_noisy_function_and_its_noise():
    rng = np.random.default_rng(4)
    u = qmc.LatinHypercube(d=3, seed=4).random(120)
    y = _smooth(u) + rng.normal(0, NOISE, len(u))
    ys = np.column_stack([y, np.where(np.arange(len(u)) % 3 == 0, np.nan, y)])  # NaN rows are skipped
    em = Emulators(seed=1).fit(u, ys)
    assert em.points == [120, 80]
    cv = em.cross_validate(u, ys, spread=np.array([NOISE, NOISE]))
    assert (cv["r2"] > 0.9).all(), cv
    assert cv["coverage_90"].between(0.8, 0.97).all(), cv
    assert em.noise_sd()[0] == pytest.approx(NOISE, rel=0.3)
    # New simulations fall in the 90 % predictive interval about 90 % of the time.
    ut = rng.random((2000, 3))
    mean, sd = em.predict(ut)
    yt = _smooth(ut) + rng.normal(0, NOISE, len(ut))
    assert np.mean(np.abs(yt - mean[:, 0]) <= 1.645 * sd[:, 0]) == pytest.approx(0.9, abs=0.06)
    assert np.sqrt(np.mean((mean[:, 0] - _smooth(ut)) ** 2)) < NOISE  # the mean is closer than one run's noise
    assert em.length_scales()[0, 2] > 5 * em.length_scales()[0, 0]  # the inert input is found inert


def test_targets_that_are_one_statistic_share_an_emulator():
    u = np.random.default_rng(1).random((30, 2))
    y = np.column_stack([u[:, 0], u[:, 1], u[:, 0]])
    em = Emulators().fit(u, y)
    assert em.groups == [0, 1, 0] and em.models[2] is em.models[0]


def test_a_target_with_too_few_design_points_gets_no_emulator():
    u = np.random.default_rng(1).random((20, 2))
    y = np.full((20, 1), np.nan)
    y[:5, 0] = 1.0
    em = Emulators().fit(u, y)
    assert em.models == [None]
    assert np.isnan(em.predict(u[:3])[0]).all()


TRUE = np.array([0.4, 0.65])
SD, REPEATS = 0.1, 10


def gaussian_toy(u, first):
    """Each parameter observed REPEATS times with N(0, SD²) noise, all at TRUE: under the flat prior the
    posterior is near N(TRUE, SD² / REPEATS), and the noise puts a floor under the distance."""
    rng = np.random.default_rng(first)
    y = np.repeat(u, REPEATS, axis=1) + rng.normal(0, SD, (len(u), 2 * REPEATS))
    return np.sqrt(np.mean((y - np.repeat(TRUE, REPEATS)) ** 2, axis=1))


def test_abc_smc_stops_converged_near_the_known_posterior():
    # Under the median schedule ε keeps falling by a few % a generation even at the noise floor
    # (each generation keeps the lower half of the distances), hence a 10 % criterion here.
    res = abc_smc(gaussian_toy, 2, 300, 300 * 300, seed=2, max_generations=30, eps_rtol=0.1, mean_shift_tol=0.02)
    assert res.stopped == "converged"
    post = res.posterior
    mean = post.weights @ post.u
    assert np.all(np.abs(mean - TRUE) < 0.03), mean
    last, before = res.populations[-1], res.populations[-2]
    assert before.epsilon - last.epsilon <= 0.1 * before.epsilon
    assert np.max(np.abs(last.weights @ last.u - before.weights @ before.u)) < 0.02
    # Without the stop it goes on until the acceptance rate collapses.
    assert abc_smc(gaussian_toy, 2, 300, 300 * 300, seed=2, max_generations=30).stopped == "acceptance"


def test_abc_smc_without_the_convergence_stop_behaves_as_before():
    a = abc_smc(gaussian_toy, 2, 60, 900, seed=5)
    b = abc_smc(gaussian_toy, 2, 60, 900, seed=5, eps_rtol=None, mean_shift_tol=None)
    assert a.stopped == b.stopped != "converged"
    assert len(a.populations) == len(b.populations)
    assert np.array_equal(a.posterior.u, b.posterior.u)
    # The stop only cuts the same sequence of generations short.
    c = abc_smc(gaussian_toy, 2, 60, 900, seed=5, eps_rtol=0.5, mean_shift_tol=0.5)
    assert c.stopped == "converged" and len(c.populations) < len(a.populations)
    assert np.array_equal(c.posterior.u, a.populations[len(c.populations) - 1].u)
    with pytest.raises(ValueError, match="eps_rtol and mean_shift_tol"):
        abc_smc(gaussian_toy, 2, 60, 900, seed=5, eps_rtol=0.1)


def test_the_calibrations_tolerance_floor_reaches_the_sampler_on_the_emulators():
    from sim.calibration.inference import abc_on_emulators

    class Line:  # an emulator of one target equal to the first parameter, with a little noise
        groups = [0]

        def predict(self, u):
            return u[:, :1].copy(), np.full((len(u), 1), 0.01)

    def distance(stats):  # in tolerances of 0.05 around 0.4
        return np.abs(stats[:, 0] - 0.4) / 0.05

    runs = {}
    for floor in (None, 1.0):
        cfg = CalibrationConfig(particles=100, max_generations=10, min_epsilon=floor)
        runs[floor] = abc_on_emulators(Line(), distance, cfg, 2, 100, 30_000, 3, "test")
    assert runs[1.0].stopped == "min_epsilon" and runs[1.0].posterior.epsilon == 1.0
    assert runs[None].stopped != "min_epsilon" and runs[None].posterior.epsilon < 1.0
    assert runs[1.0].posterior.sd[0] > runs[None].posterior.sd[0]  # not narrowed below the tolerance


def test_the_inputs_version_follows_the_targets_priors_and_scenarios_not_where_they_are(tmp_path, monkeypatch):
    from sim.calibration.state import inputs_version

    targets, priors = ROOT / "calibration" / "targets.csv", ROOT / "calibration" / "priors.yaml"
    here = inputs_version(targets, priors)
    (tmp_path / "t.csv").write_bytes(targets.read_bytes())
    (tmp_path / "p.yaml").write_bytes(priors.read_bytes())
    assert inputs_version(tmp_path / "t.csv", tmp_path / "p.yaml") == here  # the same files elsewhere
    (tmp_path / "p.yaml").write_bytes(priors.read_bytes() + b"\n# a comment changes the file, not the priors\n")
    assert inputs_version(tmp_path / "t.csv", tmp_path / "p.yaml") == here
    raw = yaml.safe_load(priors.read_text(encoding="utf-8"))
    raw[0]["high"] = raw[0]["high"] * 1.5
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert inputs_version(tmp_path / "t.csv", tmp_path / "p.yaml") != here  # a wider prior
    fewer = pd.read_csv(targets).query("city != 'daqing'")  # fewer scenarios, fewer targets
    fewer.to_csv(tmp_path / "t.csv", index=False)
    assert inputs_version(tmp_path / "t.csv", priors) != here
    import sim.calibration.state as state  # a scenario's loaded content changes it too

    real = state.load_scenario
    monkeypatch.setattr(state, "load_scenario", lambda name: real(name).model_copy(update={"name": "edited"}))
    assert inputs_version(targets, priors) != here


def test_a_bad_method_is_refused_at_construction():
    with pytest.raises(ValueError, match="method"):
        CalibrationConfig(method="bayes")
    with pytest.raises(ValueError, match="min_acceptance"):
        CalibrationConfig(min_acceptance=2)
    with pytest.raises(ValueError, match="sbc_truths"):
        CalibrationConfig(sbc_truths=1)
    with pytest.raises(ValueError, match="emulator method"):
        CalibrationConfig(method="simulator", sbc_truths=10)
    with pytest.raises(ValueError, match="design"):
        CalibrationConfig(design=1)
    with pytest.raises(ValueError, match="noise_seeds"):
        CalibrationConfig(noise_seeds=-3)
    for bad in (-1.0, float("inf")):
        with pytest.raises(ValueError, match="min_epsilon"):
            CalibrationConfig(min_epsilon=bad)


def test_an_old_config_without_a_method_reads_back_as_the_simulator(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"budget": 2000, "particles": 100}))
    assert CalibrationConfig.read(tmp_path).method == "simulator"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Suizhou's and Xing'an's targets, two priors, an 8-point design at scale 0.05.

    Its real simulations are most of its cost (screening, design, predictive check, leave-one-out):
    the tests below check what a calibration writes and that it reruns from its store, which a
    smaller design, fewer particles and generations show as well as a larger one. Still slow (a
    minute on a loaded machine): they run in .ci/run's second pytest.
    """
    work = tmp_path_factory.mktemp("emu")
    pd.read_csv(ROOT / "calibration/targets.csv").query("city in ['suizhou', 'xingan']").to_csv(
        work / "targets.csv", index=False)
    raw = yaml.safe_load((ROOT / "calibration/priors.yaml").read_text(encoding="utf-8"))
    (work / "priors.yaml").write_text(yaml.safe_dump([e for e in raw if e["key"] in KEYS], allow_unicode=True),
                                      encoding="utf-8")
    cfg = CalibrationConfig(targets=str(work / "targets.csv"), priors=str(work / "priors.yaml"), method="emulator",
                            design=8, particles=100, scale=0.05, trajectories=1, screening_seeds=2, draws=2,
                            noise_seeds=3,
                            attribution_replicates=0, min_effect=0.0, max_generations=6, cv_folds=4, any_scale=True,
                            leave_one_out=True, sbc_truths=3, sbc_particles=40)
    cal = Calibration(cfg, work / "out", jobs=2, progress=False)
    summary = cal.run(plots=False)
    cal.close()
    return cfg, work / "out", summary, cal.leave_one_out_table


@pytest.mark.slow
def test_an_emulator_calibration_writes_its_validation_and_stop_reason(tiny):
    cfg, out, summary, _ = tiny
    cv = pd.read_csv(out / "emulator.csv")
    assert {"target_id", "points", "r2", "coverage_90", "rmse_tolerances", "noise_sd"} <= set(cv.columns)
    assert len(cv) == 4  # every compared target has an emulator
    diag = pd.read_csv(out / "diagnostics.csv")
    assert {"generation", "epsilon", "acceptance", "ess", "max_mean_shift"} <= set(diag.columns)
    assert summary["method"] == "emulator" and summary["design"] == cfg.design
    written = json.loads((out / "config.json").read_text())
    assert {"model_version", "inputs_version"} <= set(written)
    assert summary["stopped"] in {"converged", "max_generations", "acceptance", "budget"}
    assert len(diag) == summary["generations"] <= cfg.max_generations
    assert summary["simulations"]["design"] == cfg.design * 2 and summary["simulations"]["abc"] == 0
    pred = pd.read_csv(out / "predictive.csv")
    assert list(pred.columns[:6]) == ["target_id", "reported", "sim_median", "sim_lo", "sim_hi", "hit"]
    assert len(pred) == 4 and pred["sim_median"].notna().any()
    assert len(pd.read_csv(out / "posterior.csv")) == cfg.particles
    assert (out / "tension.csv").is_file()


@pytest.mark.slow
def test_an_emulator_calibration_reruns_identically_from_the_store(tiny):
    cfg, out, _, _ = tiny
    before = (out / "posterior.csv").read_bytes()
    held = (out / "holdout-xingan" / "posterior.csv").read_bytes()
    rerun_simulates_nothing(cfg, out)
    assert (out / "posterior.csv").read_bytes() == before
    assert (out / "holdout-xingan" / "posterior.csv").read_bytes() == held


@pytest.mark.slow
def test_leave_one_out_writes_a_holdout_folder_per_city(tiny):
    cfg, out, summary, loo = tiny
    assert set(loo["city"]) == {"suizhou", "xingan"}
    assert list(loo.columns) == ["city", "target", "reported", "sim_lo", "sim_median", "sim_hi", "hit"]
    assert (out / "leave_one_out.csv").is_file()
    for city in ("suizhou", "xingan"):
        folder = out / f"holdout-{city}"
        for name in ("predictive.csv", "diagnostics.csv", "posterior.csv", "summary.json", "emulator.csv"):
            assert (folder / name).is_file(), (city, name)
        pred = pd.read_csv(folder / "predictive.csv")
        assert set(pred["city"]) == {city}  # only the held-out city's targets, from real simulations
        held = json.loads((folder / "summary.json").read_text())
        assert held["held_out"] == city and held["held_out_targets"] == len(pred)
        assert not held["own_design"] and held["simulations"]["design"] == 0  # same screening: design reused
        assert held["simulations"]["predictive"] == cfg.draws  # one scenario per city
        cv = pd.read_csv(folder / "emulator.csv")
        assert not cv["target_id"].str.startswith({"suizhou": "sz_", "xingan": "xa_"}[city]).any()
    assert set(summary["leave_one_out"]) == {"suizhou", "xingan"}
    assert summary["simulations"]["leave_one_out"] == 2 * cfg.draws
    # The screening without each city: from the stored Morris runs, every parameter estimated either way.
    by_city = pd.read_csv(out / "screening_by_city.csv")
    assert set(by_city["city"]) == {"suizhou", "xingan"}
    assert set(by_city.loc[by_city["estimated"], "parameter"]) == set(summary["parameters"])
    for city, g in by_city.groupby("city"):
        own = pd.read_csv(out / f"holdout-{city}" / "screening.csv")
        assert set(g.loc[g["estimated_without_city"], "parameter"]) == set(own.loc[own["selected"], "key"])
    before = (out / "screening_by_city.csv").read_bytes()
    from sim.calibration.leave_one_out import main as rescreen
    assert rescreen([str(out)]) == 0
    assert (out / "screening_by_city.csv").read_bytes() == before


@pytest.mark.slow
def test_a_held_out_city_whose_screening_differs_gets_its_own_design_without_its_scenarios(tiny, tmp_path,
                                                                                          monkeypatch):
    import shutil

    from sim.calibration import leave_one_out as loo
    from sim.experiments.store import ResultsStore

    cfg, out, summary, _ = tiny
    assert len(summary["parameters"]) == 2
    work = tmp_path / "out"
    shutil.copytree(out, work)
    screen = loo.screen

    def one_parameter_without_xingan(cal):
        table = screen(cal)
        if cal.config.hold_out == "xingan":
            cal.params = cal.params[:1]
        return table

    monkeypatch.setattr(loo, "screen", one_parameter_without_xingan)
    cal = Calibration(cfg, work, jobs=2, progress=False)
    cal.screen()
    cal.infer()
    with ResultsStore(work / "store.sqlite") as store:
        n = store.count()
    cal.leave_one_out()
    cal.close()
    held = json.loads((work / "holdout-xingan" / "summary.json").read_text())
    assert held["own_design"] and held["parameters"] == summary["parameters"][:1]
    assert held["simulations"]["design"] == cfg.design  # in Suizhou's scenario only, none of Xing'an's
    cv = pd.read_csv(work / "holdout-xingan" / "emulator.csv")
    assert [c for c in cv.columns if c.startswith("length_scale:")] == [f"length_scale:{summary['parameters'][0]}"]
    assert cv["target_id"].str.startswith("sz_").all()
    assert json.loads((work / "holdout-suizhou" / "summary.json").read_text())["own_design"] is False
    with ResultsStore(work / "store.sqlite") as store:
        # new: the held-out design and Xing'an predicted from its posterior; Suizhou's runs are all stored
        assert store.count() == n + cfg.design + cfg.draws
    by_city = pd.read_csv(work / "screening_by_city.csv").set_index(["city", "parameter"])
    dropped = by_city.loc[("xingan", summary["parameters"][1])]
    assert dropped["estimated"] and not dropped["estimated_without_city"]


@pytest.mark.slow
def test_the_screening_pools_its_seeds_and_the_command_adds_seeds_without_changing_the_choice(tiny):
    from sim.calibration.screening import main as screen_at_seeds
    from sim.experiments.store import ResultsStore

    cfg, out, summary, _ = tiny
    # seeds × Morris points (1 trajectory) × scenarios, and the defaults under 3 seeds (the predictive check's first)
    assert summary["simulations"]["screening"] == 2 * 3 * 2 + 3 * 2
    noise_table = (out / "screening_noise.csv").read_bytes()
    noise = pd.read_csv(out / "screening_noise.csv")
    assert len(noise) == 4 and (noise["noise_seeds"] == 3).all() and (noise["noise_tolerances"] > 0).all()
    emulators = pd.read_csv(out / "emulator.csv")  # the design's noise shares, and who was left out by them
    left = set(emulators.loc[emulators["left_out_as_noise"].astype(bool), "target_id"])
    assert left == set(emulators.loc[emulators["noise_share_lo"] > 0.5, "target_id"])
    assert set(summary["left_out_as_noise"]) == left
    assert left <= set(pd.read_csv(out / "predictive.csv").query("compared")["target_id"])  # still compared
    seeds = pd.read_csv(out / "screening_seeds.csv")
    assert set(seeds["rule"]) == {"as measured", "beyond seed noise"}
    chose = seeds[seeds["rule"] == "beyond seed noise"]  # the rule the calibration chose by
    assert set(chose.loc[chose["used"], "key"]) == set(summary["parameters"])
    assert (chose["used"] == chose["pooled_selected"]).all()  # the calibration chose from the pooled effects
    screening = (out / "screening.csv").read_bytes()
    with ResultsStore(out / "store.sqlite") as store:
        n = store.count()
    assert screen_at_seeds([str(out), "--seeds", "3"]) == 0
    with ResultsStore(out / "store.sqlite") as store:
        # only the third seed is simulated: the noise runs (the calibration's noise seeds, by default) are stored
        assert store.count() == n + 3 * 2
    assert (out / "screening.csv").read_bytes() == screening  # the calibration's own screening is unchanged
    assert (out / "screening_noise.csv").read_bytes() == noise_table  # the calibration's own, as it chose by it
    again = pd.read_csv(out / "screening_seeds.csv")
    assert set(again["rule"]) == {"as measured", "beyond seed noise"}
    for rule in ("as measured", "beyond seed noise"):
        before, after = (t[t["rule"] == rule].set_index("key") for t in (seeds, again))
        assert {"score_seed2", "selected_seed2"} <= set(after.columns)
        for column in ("score_seed0", "score_seed1"):
            assert after[column].to_dict() == before[column].to_dict()
    assert screen_at_seeds([str(out), "--seeds", "2", "--noise-seeds", "0"]) == 0
    assert set(pd.read_csv(out / "screening_seeds.csv")["rule"]) == {"as measured"}
    assert (out / "screening_noise.csv").is_file()  # the calibration used the rule: its noise table stays


@pytest.mark.slow
def test_the_seed_noise_command_measures_the_noise_at_a_second_scale(tiny):
    from sim.calibration.noise import main as noise

    cfg, out, _, _ = tiny
    assert noise([str(out), "--scale", "0.1", "--seeds", "2"]) == 0
    table = pd.read_csv(out / "noise.csv")
    assert set(table["target_id"]) == {t for t in pd.read_csv(Path(cfg.targets))["target_id"]}
    assert (table["seeds"] == cfg.draws).all() and (table["design_points"] == cfg.design).all()
    assert (table["measured_scale"] == 0.1).all() and (table["measured_seeds"] == 2).all()
    measured = table.dropna(subset=["measured_noise_sd"])
    assert (measured["measured_noise_sd_lo"] <= measured["measured_noise_sd"]).all()
    assert (measured["measured_noise_sd"] <= measured["measured_noise_sd_hi"]).all()
    # The projection from the calibration's scale: noise variance as 1/scale.
    assert np.allclose(table["projected_noise_sd"], table["noise_sd"] * np.sqrt(0.05 / 0.1), rtol=1e-3)  # 4 digits


def test_leave_one_out_needs_two_cities_and_is_refused_before_any_file_is_written(tmp_path):
    targets = tmp_path / "targets.csv"
    pd.read_csv(ROOT / "calibration/targets.csv").query("city == 'jincheng'").to_csv(targets, index=False)
    with pytest.raises(ValueError, match="two cities"):
        Calibration(CalibrationConfig(targets=str(targets), leave_one_out=True), tmp_path / "o", progress=False)
    with pytest.raises(ValueError, match="method 'emulator'"):
        Calibration(CalibrationConfig(method="simulator", leave_one_out=True), tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, words", [
    (["--leave-one-out", "--method", "simulator"], "--leave-one-out needs --method emulator"),
    (["--leave-one-out", "--hold-out", "daqing"], "leave out --hold-out"),
    (["--method", "simulator", "--design", "50"], "--design is for --method emulator"),
    (["--method", "bayes"], "--method"),
    (["--method", "simulator", "--sbc", "5"], "--sbc is for --method emulator"),
    (["--method", "simulator", "--fit-unreachable"], "--fit-unreachable is for --method emulator"),
    (["--sbc-particles", "50"], "--sbc-particles needs --sbc"),
    (["--noise-seeds", "1"], "--noise-seeds: expected 0 (effects as measured) or a number"),
    (["--min-epsilon", "0"], "--min-epsilon: expected a distance > 0"),
    (["--min-epsilon", "nan"], "--min-epsilon: expected a distance > 0"),
])
def test_bad_calibrate_options_are_refused(args, words, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["calibrate", *args, "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_the_scores_set_defaults_prior_posterior_and_leave_one_out_side_by_side(tiny):
    cfg, out, summary, _ = tiny
    samples = pd.read_csv(out / "predictive_samples.csv")
    counts = samples.groupby("source", sort=False).size()
    assert counts.to_dict() == {"defaults": cfg.draws, "prior": cfg.design, "posterior": cfg.draws,
                                "leave-one-out": cfg.draws}
    # The defaults and the posterior draws share their seeds (common random numbers).
    assert (samples.loc[samples["source"] == "defaults", "seed"].to_numpy()
            == samples.loc[samples["source"] == "posterior", "seed"].to_numpy()).all()
    table = pd.read_csv(out / "scores_summary.csv")
    assert table["source"].tolist() == ["defaults", "prior", "posterior", "leave-one-out"]
    assert [row["source"] for row in summary["scores"]] == table["source"].tolist()
    # The committed tables are what the command rewrites from the samples alone.
    before = {name: (out / name).read_bytes() for name in ("scores.csv", "scores_summary.csv")}
    from sim.calibration.scoring import main as rescore
    assert rescore([str(out), "--targets", str(Path(cfg.targets))]) == 0
    assert {name: (out / name).read_bytes() for name in before} == before


def test_a_target_no_design_simulation_reaches_is_left_out_of_the_fit_and_only_then():
    from types import SimpleNamespace

    from sim.calibration.design import mark_unreachable

    targets = pd.DataFrame({"target_id": ["a", "b", "c"], "value": [0.0, 10.0, 5.0], "tolerance": [1.0, 1.0, 1.0],
                            "kind": ["level"] * 3, "bound": ["", "", "lower"]})
    stats = np.array([[0.5, 2.0, 9.0], [3.0, 8.5, 20.0], [np.nan, 7.0, 1.0]])
    cal = SimpleNamespace(design_stats=stats, targets=targets, used=np.array([True, True, True]), log=lambda m: None,
                          quiet=np.zeros(3, dtype=bool))
    # a: one simulation within tolerance; b: the nearest is 1.5 tolerances away; c: above its lower bound.
    assert mark_unreachable(cal).tolist() == [False, True, False]
    assert cal.unreachable.tolist() == [False, True, False]
    cal.quiet = np.array([False, True, False])  # left out as mostly noise already: not also unreachable
    assert mark_unreachable(cal).tolist() == [False, False, False]
    cal.quiet = np.zeros(3, dtype=bool)
    cal.used = np.array([True, True, False])  # a target not in use is never marked
    stats[:, 0] = 50.0
    assert mark_unreachable(cal).tolist() == [False, False, False]  # every used target out of reach: none left out


def test_a_target_whose_spread_over_the_design_is_mostly_seed_noise_is_left_out_of_the_fit():
    from types import SimpleNamespace

    from sim.calibration.design import mark_noise_dominated
    from sim.calibration.state import CalibrationState

    rng = np.random.default_rng(4)
    x = rng.random(400)  # one parameter across its prior
    stats = np.column_stack([5 * x + rng.normal(0, 1, 400),  # a: noise sd 1, signal sd 1.4: informative
                             0.2 * x + rng.normal(0, 1, 400),  # b: almost all noise
                             rng.normal(0, 1, 400),  # c: all noise, but not in use
                             np.full(400, 3.0)])  # d: no spread at all, and no noise either
    targets = pd.DataFrame({"target_id": list("abcd")})
    cal = SimpleNamespace(design_stats=stats, targets=targets, used=np.array([True, True, False, True]),
                          seed_noise=(np.array([1.0, 1.0, 1.0, 0.0]), np.array([200, 200, 200, 200])),
                          log=lambda m: None)
    share, low = mark_noise_dominated(cal)
    assert cal.quiet.tolist() == [False, True, False, False]
    assert share[0] == pytest.approx(1 / np.var(stats[:, 0], ddof=1)) and 0.2 < low[0] < share[0] < 0.5
    assert low[1] > 0.5 and np.isnan(share[2]) and np.isnan(share[3])
    cal.seed_noise = (np.array([1.0, 1.0, 1.0, 0.0]), np.array([3, 3, 3, 3]))  # three runs: b's bound drops below ½
    mark_noise_dominated(cal)
    assert not cal.quiet.any()
    # the fit leaves out the quiet and the unreachable targets, and nothing else
    state = CalibrationState.__new__(CalibrationState)
    state.used = np.array([True, True, True, False])
    state.quiet, state.unreachable = np.array([False, True, False, False]), np.array([False, False, True, False])
    assert state.fitted.tolist() == [True, False, False, False]


def test_the_wilson_interval_and_the_sbc_summary():
    from sim.calibration.sbc import sbc_summary, wilson

    lo, hi = wilson(45, 50)
    assert lo == pytest.approx(0.786, abs=0.002) and hi == pytest.approx(0.957, abs=0.002)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    rank = np.linspace(0.01, 0.99, 40)
    table = pd.DataFrame({"truth": np.tile(np.arange(40), 2), "parameter": ["p"] * 40 + ["q"] * 40,
                          "rank": np.concatenate([rank, np.full(40, 0.99)]),
                          "posterior_sd_u": 0.5 / np.sqrt(12)})
    table["inside_50"] = table["rank"].between(0.25, 0.75)
    table["inside_90"] = table["rank"].between(0.05, 0.95)
    s = sbc_summary(table).set_index("parameter")
    assert s.loc["p", "coverage_90"] == pytest.approx(0.9, abs=0.03) and s.loc["p", "ks_uniform_p"] > 0.5
    assert s.loc["q", "coverage_90"] == 0.0 and s.loc["q", "ks_uniform_p"] < 1e-6  # the truth always at the top
    assert s.loc["all parameters", "n"] == 80 and s.loc["p", "sd_ratio"] == pytest.approx(0.5)


@pytest.mark.slow
def test_unreachable_targets_are_reported_and_the_inference_is_checked_on_model_made_data(tiny):
    cfg, out, summary, _ = tiny
    from sim.calibration.targets import load_targets

    targets = load_targets(cfg.targets)
    design = pd.read_csv(out / "predictive_samples.csv").query("source == 'prior'")
    # A target left out of the fit is one no design simulation came within tolerance of.
    for tid in summary["left_out_of_fit"]:
        t = targets.set_index("target_id").loc[tid]
        if t["tolerance"] > 0 and t["bound"] not in ("lower", "upper"):  # a point target: plain arithmetic
            assert (np.abs(design[tid] - t["value"]) > t["tolerance"]).all(), tid
    if summary["left_out_of_fit"]:
        moved = pd.read_csv(out / "unreachable.csv")
        assert moved["parameter"].tolist() == summary["parameters"]
        assert {"mean", "sd", "with_unreachable_mean", "with_unreachable_sd", "shift_prior_widths"} <= set(moved)
        assert summary["with_unreachable"]["stopped"] in {"converged", "max_generations", "acceptance", "budget"}
    table = pd.read_csv(out / "sbc.csv")
    assert len(table) == cfg.sbc_truths * len(summary["parameters"])
    assert table["rank"].between(0, 1).all() and table["truth_u"].between(0, 1).all()
    assert (table["inside_50"] <= table["inside_90"]).all()  # the 50 % interval lies inside the 90 %
    assert summary["simulations"]["sbc"] == cfg.sbc_truths * 2  # one seed per truth, in both scenarios
    assert pd.read_csv(out / "sbc_summary.csv")["parameter"].iloc[-1] == "all parameters"
    # The committed check is what its command rewrites (the truths' runs are found in the store).
    before = {name: (out / name).read_bytes() for name in ("sbc.csv", "sbc_summary.csv")}
    from sim.calibration.sbc import main as check
    assert check([str(out), "--truths", str(cfg.sbc_truths), "--particles", str(cfg.sbc_particles), "--jobs", "1"]) == 0
    assert {name: (out / name).read_bytes() for name in before} == before
