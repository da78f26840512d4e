"""Sweep files, designs and sensitivity analysis (sim.experiments.sweep, sim.experiments.sensitivity).

No simulation runs here: designs are checked point by point, bad sweep files must fail before
any run, and the sensitivity indices are checked on synthetic outputs of known structure.
"""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim.experiments.runner
import sim.experiments.sweep
import sim.model
from sim import load_scenario
from sim.experiments.runner import replicate_seed
from sim.experiments.sensitivity import analyse, plot
from sim.experiments.sweep import (
    SWEEP_DIR,
    SweepError,
    SweepSpec,
    design_matrix,
    design_points,
    format_value,
    load_sweep,
    salib_problem,
    sweep_tasks,
)

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(autouse=True)
def no_simulation(monkeypatch):
    """Nothing in this module may start a model."""

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation was started")

    monkeypatch.setattr(sim.model.PinganModel, "__init__", refuse)
    monkeypatch.setattr(sim.experiments.runner, "run_one", refuse)


def spec(**kw) -> SweepSpec:
    data = {"name": "t", "scenarios": ["suizhou_baseline"], "scale": 0.05}
    data.update(kw)
    return SweepSpec.model_validate(data)


def write_sweep(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def sweep_error(path: Path, tasks: bool = False) -> str:
    with pytest.raises(SweepError) as err:
        s = load_sweep(path)
        if tasks:
            sweep_tasks(s)
    return str(err.value)


UNIFORM3 = {"a.x1": {"range": [0.0, 1.0]}, "a.x2": {"range": [10.0, 20.0]}, "a.x3": {"range": [-1.0, 1.0]}}


# ---- designs ------------------------------------------------------------------------------------


def test_factorial_is_the_full_product_of_values_and_levels():
    s = spec(factors={
        "interventions.video.cameras": {"values": [0, 27000, 54000]},
        "crime.displacement_prob": {"range": [0.1, 0.5], "levels": 3},
        "interventions.street_police_stations.count": {"range": [0, 16], "type": "int", "levels": 5},
    })
    points = design_points(s)
    assert len(points) == 3 * 3 * 5
    expected = itertools.product([0, 27000, 54000], [0.1, 0.3, 0.5], [0, 4, 8, 12, 16])
    assert [tuple(p.values()) for p in points] == list(expected)
    assert all(type(p["interventions.street_police_stations.count"]) is int for p in points)


def test_factorial_without_factors_is_one_point():
    assert design_points(spec()) == [{}]


def test_lhs_puts_one_point_in_each_stratum_of_each_factor():
    n = 20
    s = spec(design={"kind": "lhs", "samples": n, "seed": 3},
             factors={"a.x": {"range": [2.0, 4.0]}, "a.y": {"range": [-1.0, 0.0]}})
    points = design_points(s)
    assert len(points) == n
    for key, (lo, hi) in (("a.x", (2.0, 4.0)), ("a.y", (-1.0, 0.0))):
        v = np.array([p[key] for p in points])
        assert ((v >= lo) & (v <= hi)).all()
        strata = np.floor((v - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n))


@pytest.mark.parametrize("second_order, per_base", [(True, 2 * 3 + 2), (False, 3 + 2)])
def test_sobol_gives_saltelli_points_within_bounds(second_order, per_base):
    s = spec(design={"kind": "sobol", "samples": 16, "second_order": second_order}, factors=UNIFORM3)
    points = design_points(s)
    assert len(points) == 16 * per_base
    for key, f in UNIFORM3.items():
        lo, hi = f["range"]
        assert all(lo <= p[key] <= hi for p in points)


def test_morris_gives_trajectories_on_the_grid():
    levels, trajectories = 4, 6
    s = spec(design={"kind": "morris", "samples": trajectories, "levels": levels}, factors=UNIFORM3)
    points = design_points(s)
    assert len(points) == trajectories * (3 + 1)
    for key, f in UNIFORM3.items():
        lo, hi = f["range"]
        grid = lo + (hi - lo) * np.arange(levels) / (levels - 1)
        v = np.array([p[key] for p in points])
        assert np.isclose(v[:, None], grid[None, :]).any(axis=1).all(), key
    # one factor changes at each step of a trajectory
    x = design_matrix(s).reshape(trajectories, 4, 3)
    assert ((np.diff(x, axis=1) != 0).sum(axis=2) == 1).all()


@pytest.mark.parametrize("kind, extra", [("lhs", {}), ("sobol", {}), ("morris", {"levels": 4})])
def test_int_factors_are_ints_within_their_range(kind, extra):
    s = spec(design={"kind": kind, "samples": 8, **extra},
             factors={"interventions.street_police_stations.count": {"range": [0, 16], "type": "int"},
                      "crime.displacement_prob": {"range": [0.1, 0.5]}})
    for p in design_points(s):
        n = p["interventions.street_police_stations.count"]
        assert type(n) is int and 0 <= n <= 16
        assert type(p["crime.displacement_prob"]) is float


@pytest.mark.parametrize("kind", ["lhs", "sobol", "morris"])
def test_designs_are_deterministic_for_a_seed(kind):
    def points(seed):
        return design_points(spec(design={"kind": kind, "samples": 8, "seed": seed}, factors=UNIFORM3))

    assert points(5) == points(5)
    assert points(5) != points(6)


def test_distributions_map_to_salib_dists():
    s = spec(design={"kind": "lhs", "samples": 4}, factors={
        "a.u": {"range": [0.0, 2.0]},
        "a.n": {"distribution": "normal", "mean": 1.0, "sd": 0.1},
        "a.t": {"distribution": "triangular", "range": [0.0, 4.0], "mode": 1.0},
        "a.l": {"distribution": "lognormal", "mean": 0.0, "sd": 0.5},
    })
    problem = salib_problem(s)
    assert problem["names"] == ["a.u", "a.n", "a.t", "a.l"]
    assert problem["dists"] == ["unif", "norm", "triang", "lognorm"]
    assert problem["bounds"] == [[0.0, 2.0], [1.0, 0.1], [0.0, 4.0, 0.25], [0.0, 0.5]]
    big = spec(design={"kind": "lhs", "samples": 400}, factors=s.model_dump()["factors"])
    v = pd.DataFrame(design_points(big))
    assert abs(v["a.n"].mean() - 1.0) < 0.02 and (v["a.l"] > 0).all()
    assert v["a.t"].between(0, 4).all() and abs(v["a.t"].mean() - 5 / 3) < 0.1


def test_uniform_problem_has_no_dists():
    assert "dists" not in salib_problem(spec(design={"kind": "lhs", "samples": 2}, factors=UNIFORM3))


# ---- values written as --set overrides ------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 54000, 0.1, 0.30000000000000004, 1e-05, 2.5e-07, 1e20, -3.0, True, False,
                                   "villages", "yes", "1.5", [1, 2.5, "a"], {"a": 1e-9}])
def test_format_value_reads_back_exactly(value):
    parsed = yaml.safe_load(format_value(value))
    assert parsed == value and type(parsed) is type(value)


# ---- tasks ---------------------------------------------------------------------------------------


def test_sweep_tasks_cover_scenarios_points_replicates_with_common_random_numbers():
    s = spec(scenarios=["suizhou_baseline", "suizhou_2022"], replicates=3, seed=7,
             overrides=["run.years=1"],
             factors={"interventions.video.cameras": {"values": [0, 54000]},
                      "crime.displacement_prob": {"range": [0.1, 0.3], "levels": 2}})
    tasks = sweep_tasks(s)
    assert len(tasks) == 2 * 4 * 3
    assert len({t.run_id for t in tasks}) == len(tasks)
    for t in tasks:
        assert t.seed == replicate_seed(7, t.replicate)
        assert t.scale == 0.05
        scenario = json.loads(t.scenario_json)
        assert scenario["name"] == t.scenario_name
        assert scenario["run"]["years"] == 1
        assert scenario["interventions"]["video"]["cameras"] == t.point["interventions.video.cameras"]
        assert scenario["crime"]["displacement_prob"] == t.point["crime.displacement_prob"]
    assert {t.scenario_name for t in tasks} == {"suizhou_baseline", "suizhou_2022"}
    assert sorted({t.point_id for t in tasks}) == [0, 1, 2, 3]


def test_each_point_is_the_scenario_the_loader_gives_with_its_overrides():
    s = spec(scenarios=["suizhou_2022"], overrides=["run.years=1"],
             factors={"crime.camera_deterrence": {"values": [0.25, 1e-05]},
                      "interventions.video.placement": {"values": ["hot_spots"]}})
    for t in sweep_tasks(s)[::2]:
        sets = ["run.years=1", *(f"{k}={format_value(v)}" for k, v in t.point.items())]
        assert t.scenario_json == load_scenario("suizhou_2022", sets).model_dump_json()


def test_repeated_design_points_keep_their_own_run_ids():
    s = spec(design={"kind": "morris", "samples": 10, "levels": 2},
             factors={"crime.displacement_prob": {"range": [0.1, 0.3]}})
    tasks = sweep_tasks(s)
    points = [json.dumps(t.point) for t in tasks]
    assert len(set(points)) < len(points)  # 2 levels, 10 trajectories: points repeat
    assert len({t.run_id for t in tasks}) == len(tasks)


def test_sweep_tasks_are_deterministic():
    s = spec(design={"kind": "lhs", "samples": 3}, factors={"crime.displacement_prob": {"range": [0.1, 0.3]}},
             replicates=2)
    assert [t.run_id for t in sweep_tasks(s)] == [t.run_id for t in sweep_tasks(s)]


# ---- sweep files ---------------------------------------------------------------------------------


def test_shipped_sweeps_load_and_validate_every_point():
    for path in sorted(SWEEP_DIR.glob("*.yaml")):
        tasks = sweep_tasks(load_sweep(path))
        assert tasks, path


def test_smoke_sweep_has_at_least_eight_small_runs():
    s = load_sweep("smoke")
    tasks = sweep_tasks(s)
    assert len(tasks) >= 8 and s.scale <= 0.05


def test_scenarios_are_found_next_to_the_sweep_file_then_as_built_ins(tmp_path):
    (tmp_path / "mine.yaml").write_text("extends: suizhou_baseline\nname: mine\n", encoding="utf-8")
    path = write_sweep(tmp_path, """\
        name: s
        scenarios: [mine.yaml, suizhou_2022]
        """)
    s = load_sweep(path)
    assert s.scenarios == [str((tmp_path / "mine.yaml").resolve()), str(SCENARIO_DIR.resolve() / "suizhou_2022.yaml")]
    assert s.source == path.resolve()
    assert [t.scenario_name for t in sweep_tasks(s)] == ["mine", "suizhou_2022"]


@pytest.mark.parametrize("body, key, expected", [
    ("scenarios: [suizhou_baseline]\nreplicas: 2\n", "replicas", "unknown key"),
    ("scenarios: [suizhou_baseline]\nreplicates: two\n", "replicates", "valid integer"),
    ("scenarios: [suizhou_baseline]\nscale: 2\n", "scale", "less than or equal to 1"),
    ("scenarios: suizhou_baseline\n", "scenarios", "valid list"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: grid}\n", "design.kind", "'factorial'"),
    ("scenarios: [suizhou_baseline]\nfactors: {crime.displacement_prob: {range: [0.5, 0.1], levels: 2}}\n",
     "factors.crime.displacement_prob", "lo < hi"),
    ("scenarios: [suizhou_baseline]\nfactors: {crime.displacement_prob: [0.1, 0.2]}\n",
     "factors.crime.displacement_prob", "{values: [...]}"),
    ("scenarios: [suizhou_baseline]\nfactors: {crime.displacement_prob: {range: [0.1, 0.5]}}\n",
     "factors.crime.displacement_prob", "levels: n"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: sobol, samples: 8}\n"
     "factors: {crime.displacement_prob: {values: [0.1, 0.2]}}\n",
     "factors.crime.displacement_prob", "values: [...] is for factorial"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: sobol, samples: 8}\n", "factors", "at least one factor"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: sobol}\nfactors: {a.b: {range: [0, 1]}}\n",
     "design", "design.samples is required"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: sobol, samples: 10}\nfactors: {a.b: {range: [0, 1]}}\n",
     "design", "power of 2"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: lhs, samples: 4, levels: 3}\nfactors: {a.b: {range: [0, 1]}}\n",
     "design", "design.levels is not used by kind lhs"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: morris, samples: 4}\n"
     "factors: {a.b: {distribution: normal, mean: 0, sd: 1}}\n", "factors.a.b", "infinite"),
    ("scenarios: [suizhou_baseline]\ndesign: {kind: lhs, samples: 4}\n"
     "factors: {a.b: {distribution: normal, mean: 0}}\n", "factors.a.b", "needs sd"),
    ("scenarios: [suizhou_baseline]\noutputs: [preventable_case]\n", "outputs", "not a metric"),
    ("scenarios: [suizhou_baseline]\noutputs: [mediation_successes]\n", "outputs", "not a metric"),  # a tally
    ("scenarios: [no_such_city]\n", "scenarios[0]", "not found"),
])
def test_bad_sweep_files_name_the_file_and_the_key(tmp_path, body, key, expected):
    path = write_sweep(tmp_path, "name: bad\n" + body)
    msg = sweep_error(path)
    assert str(path.resolve()) in msg
    assert f"key '{key}" in msg
    assert expected in msg


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = write_sweep(tmp_path, "name: bad\nscenarios: [suizhou_baseline\nreplicates: 2\n")
    msg = sweep_error(path)
    assert str(path.resolve()) in msg and "malformed YAML at line" in msg


def test_missing_sweep_file_is_named(tmp_path):
    msg = sweep_error(tmp_path / "nope.yaml")
    assert "nope.yaml" in msg and "no such sweep file" in msg


def test_a_factor_that_is_not_a_scenario_key_fails_before_any_run(tmp_path):
    path = write_sweep(tmp_path, """\
        name: bad
        scenarios: [suizhou_baseline]
        factors:
          crime.nonsense: {values: [1, 2]}
        """)
    msg = sweep_error(path, tasks=True)
    assert str(path.resolve()) in msg
    assert "key 'factors.crime.nonsense'" in msg
    assert "unknown key" in msg  # the scenario loader's message


def test_a_factor_value_out_of_range_fails_before_any_run(tmp_path):
    path = write_sweep(tmp_path, """\
        name: bad
        scenarios: [suizhou_baseline]
        factors:
          crime.displacement_prob: {values: [0.5, 1.5]}
        """)
    msg = sweep_error(path, tasks=True)
    assert str(path.resolve()) in msg and "key 'factors.crime.displacement_prob'" in msg
    assert "design point 1" in msg and "less than or equal to 1" in msg


def test_a_bad_override_fails_before_any_run(tmp_path):
    path = write_sweep(tmp_path, """\
        name: bad
        scenarios: [suizhou_baseline]
        overrides: ["run.years=0"]
        """)
    msg = sweep_error(path, tasks=True)
    assert str(path.resolve()) in msg and "key 'overrides'" in msg and "run.years" in msg


def test_two_scenarios_with_one_name_are_refused(tmp_path):
    (tmp_path / "copy.yaml").write_text("extends: suizhou_baseline\nname: suizhou_baseline\n", encoding="utf-8")
    path = write_sweep(tmp_path, "name: bad\nscenarios: [suizhou_baseline, copy.yaml]\n")
    msg = sweep_error(path, tasks=True)
    assert "names must differ" in msg


# ---- sensitivity ---------------------------------------------------------------------------------


def synthetic_frame(s: SweepSpec, f, replicates: int = 2, noise: float = 0.0) -> pd.DataFrame:
    """The store's frame for a sweep whose output is ``f(point)`` (+ replicate noise), two years."""
    rng = np.random.default_rng(0)
    rows = []
    for pid, point in enumerate(design_points(s)):
        for r in range(replicates):
            for year, level in ((2021, 100.0), (2022, 100.0 + f(point) + noise * rng.normal())):
                rows.append({"sweep": s.name, "scenario": "syn", "point_id": pid, "replicate": r, "year": year,
                             **point, "preventable_cases": level})
    return pd.DataFrame(rows)


def linear(point) -> float:
    return 4 * point["a.x1"] + point["a.x2"] + 0 * point["a.x3"]


UNIT3 = {"a.x1": {"range": [0.0, 1.0]}, "a.x2": {"range": [0.0, 1.0]}, "a.x3": {"range": [0.0, 1.0]}}


def test_sobol_indices_rank_the_factors_of_a_linear_model(tmp_path):
    s = spec(design={"kind": "sobol", "samples": 256, "seed": 1}, factors=UNIT3, outputs=["preventable_cases"])
    ind = analyse(s, synthetic_frame(s, linear, noise=0.01)).set_index("factor")
    # y = 4 x1 + x2 with uniform inputs: S1 = ST = 16/17 and 1/17 (no interactions), 0 for x3
    assert ind.loc["a.x1", "S1"] > ind.loc["a.x2", "S1"] > ind.loc["a.x3", "S1"]
    assert ind.loc["a.x1", "ST"] > ind.loc["a.x2", "ST"] > ind.loc["a.x3", "ST"]
    assert ind.loc["a.x1", "ST"] == pytest.approx(16 / 17, abs=0.05)
    assert ind.loc["a.x2", "S1"] == pytest.approx(1 / 17, abs=0.03)
    assert abs(ind.loc["a.x3", "S1"]) < 0.01 and ind.loc["a.x3", "ST"] < 0.01
    assert (ind[["S1_conf", "ST_conf"]] >= 0).all().all()
    plot(ind.reset_index(), tmp_path / "sobol.png")
    assert (tmp_path / "sobol.png").stat().st_size > 0


def test_sobol_second_order_adds_pair_rows():
    s = spec(design={"kind": "sobol", "samples": 64, "second_order": True}, factors=UNIT3,
             outputs=["preventable_cases"])
    ind = analyse(s, synthetic_frame(s, linear, replicates=1))
    pairs = ind[ind["factor"].str.contains(" × ")]
    assert len(pairs) == 3 and pairs["S2"].notna().all()


def test_morris_mu_star_ranks_the_factors_of_a_linear_model(tmp_path):
    s = spec(design={"kind": "morris", "samples": 20, "levels": 4}, factors=UNIT3, outputs=["preventable_cases"])
    ind = analyse(s, synthetic_frame(s, linear)).set_index("factor")
    assert ind.loc["a.x1", "mu_star"] == pytest.approx(4.0)
    assert ind.loc["a.x2", "mu_star"] == pytest.approx(1.0)
    assert ind.loc["a.x3", "mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert ind["sigma"].max() == pytest.approx(0.0, abs=1e-9)  # linear: the same effect everywhere
    plot(ind.reset_index(), tmp_path / "morris.png")
    assert (tmp_path / "morris.png").stat().st_size > 0


def test_change_pct_is_taken_per_replicate_against_the_year_before():
    s = spec(design={"kind": "morris", "samples": 10, "levels": 4}, factors=UNIT3, outputs=["preventable_cases"],
             output="change_pct")
    ind = analyse(s, synthetic_frame(s, linear)).set_index("factor")
    # the baseline year is 100, so the change in percent equals the added level
    assert ind.loc["a.x1", "mu_star"] == pytest.approx(4.0)
    assert ind.loc["a.x2", "mu_star"] == pytest.approx(1.0)


def test_output_year_picks_the_year():
    s = spec(design={"kind": "morris", "samples": 10, "levels": 4}, factors=UNIT3, outputs=["preventable_cases"],
             output_year=2021)
    with pytest.warns(UserWarning, match="same at every design point"):
        ind = analyse(s, synthetic_frame(s, linear))
    assert ind["mu_star"].isna().all()  # 2021 is flat at 100


def test_analysis_refuses_incomplete_or_mismatched_results():
    s = spec(design={"kind": "morris", "samples": 10, "levels": 4}, factors=UNIT3, outputs=["preventable_cases"])
    frame = synthetic_frame(s, linear)
    with pytest.raises(SweepError, match="finish the sweep"):
        analyse(s, frame[frame["point_id"] != 3])
    other = spec(design={"kind": "morris", "samples": 10, "levels": 4, "seed": 9}, factors=UNIT3,
                 outputs=["preventable_cases"])
    with pytest.raises(SweepError, match="not this design's points"):
        analyse(other, frame)
    with pytest.raises(SweepError, match="sobol or morris"):
        analyse(spec(design={"kind": "lhs", "samples": 4}, factors=UNIT3), frame)


# ---- hostile or broken sweep files ---------------------------------------------------------


def test_a_design_of_ten_billion_runs_is_refused_before_any_point_is_generated(tmp_path, monkeypatch):
    monkeypatch.setattr(sim.experiments.sweep, "design_points", _refuse_points)
    path = write_sweep(tmp_path, """\
        name: huge
        scenarios: [suizhou_baseline]
        replicates: 10
        factors:
          crime.displacement_prob: {range: [0.1, 0.5], levels: 1000}
          calls.record_prob: {range: [0.1, 0.9], levels: 1000}
          clearance.camera_log_odds: {range: [0.1, 0.9], levels: 1000}
        """)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert str(err.value) == (f"{path.resolve()}: key 'design': 10,000,000,000 runs (1 scenarios × "
                              "1,000,000,000 points × 10 replicates); expected at most 100,000 (raise the "
                              "limit with --max-runs N if you mean it)")


def _refuse_points(spec):
    raise AssertionError("design points were generated")


@pytest.mark.parametrize("design, factors, runs", [
    ({"kind": "factorial"}, {"a.b": {"values": [1, 2, 3]}, "a.c": {"range": [0, 1], "levels": 4}}, 12),
    ({"kind": "lhs", "samples": 7}, {"a.b": {"range": [0, 1]}}, 7),
    ({"kind": "sobol", "samples": 8}, {"a.b": {"range": [0, 1]}, "a.c": {"range": [0, 1]}}, 8 * 4),
    ({"kind": "sobol", "samples": 8, "second_order": True}, {"a.b": {"range": [0, 1]}, "a.c": {"range": [0, 1]}},
     8 * 6),
    ({"kind": "morris", "samples": 3}, {"a.b": {"range": [0, 1]}, "a.c": {"range": [0, 1]}}, 3 * 3),
])
def test_the_run_count_is_computed_without_generating_the_design(design, factors, runs):
    s = spec(design=design, factors=factors, replicates=2)
    assert s.n_points == runs == len(design_points(s))
    assert s.n_runs == 2 * runs


def test_max_runs_can_be_raised_and_lowered(tmp_path):
    path = write_sweep(tmp_path, """\
        name: small
        scenarios: [suizhou_baseline]
        replicates: 2
        factors:
          crime.displacement_prob: {values: [0.1, 0.3]}
        """)
    assert load_sweep(path, max_runs=4).n_runs == 4
    with pytest.raises(SweepError, match="4 runs .* expected at most 3"):
        load_sweep(path, max_runs=3)
    with pytest.raises(SweepError, match="expected at most 3"):
        sweep_tasks(load_sweep(path), max_runs=3)


def test_a_duplicated_factor_key_is_an_error_naming_it_and_its_lines(tmp_path):
    path = write_sweep(tmp_path, """\
        name: dup
        scenarios: [suizhou_baseline]
        factors:
          crime.displacement_prob: {values: [0.1, 0.2]}
          crime.displacement_prob: {values: [0.3]}
        """)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert str(err.value) == (f"{path.resolve()}: line 5, column 3: key 'crime.displacement_prob' appears twice "
                              "(first at line 4); remove one (YAML would silently keep the last)")


def test_factors_that_vary_the_same_value_are_an_error():
    with pytest.raises(Exception, match="'calls.report_prob' and 'calls.report_prob.theft' vary the same value"):
        spec(factors={"calls.report_prob": {"values": [{"theft": 0.1}]},
                      "calls.report_prob.theft": {"values": [0.1, 0.3]}})


def test_a_factor_also_set_by_an_override_is_an_error():
    with pytest.raises(Exception, match="'crime.displacement_prob' is also the factor"):
        spec(overrides=["crime.displacement_prob=0.2"], factors={"crime.displacement_prob": {"values": [0.1, 0.3]}})


@pytest.mark.parametrize("name", ["../up", "/tmp/x", "a/b", ".."])
def test_a_sweep_name_that_is_a_path_is_refused(tmp_path, name):
    path = write_sweep(tmp_path, f"name: {name!r}\nscenarios: [suizhou_baseline]\n")
    with pytest.raises(SweepError, match="key 'name': expected a plain name"):
        load_sweep(path)


@pytest.mark.parametrize("text, key", [
    ("design: {kind: lhs, samples: 4}\nfactors:\n  crime.displacement_prob: {range: [0.1, .inf]}\n",
     "factors.crime.displacement_prob.range.1"),
    ("factors:\n  crime.displacement_prob: {range: [0.1, 0.5], levels: 100000}\n",
     "factors.crime.displacement_prob.levels"),
    ("replicates: 100000000\n", "replicates"),
    ("design: {kind: lhs, samples: 1000000000}\nfactors:\n  crime.displacement_prob: {range: [0.1, 0.5]}\n",
     "design.samples"),
])
def test_unbounded_sweep_values_are_refused_naming_the_key(tmp_path, text, key):
    path = write_sweep(tmp_path, "name: t\nscenarios: [suizhou_baseline]\n" + text)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    assert str(err.value).startswith(f"{path.resolve()}: key '{key}': expected")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"# nothing\n", b"\x00\x01binary", "name: caf\xe9".encode("latin-1")])
def test_empty_binary_or_non_utf8_sweep_files_are_refused(tmp_path, content):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    with pytest.raises(SweepError, match="no keys|binary|not UTF-8"):
        load_sweep(path)


def test_sweep_outputs_are_whatever_the_metric_registry_declares_as_a_column(tmp_path):
    # Core columns, members of a family, and metrics an intervention reports (here the hot-spot patrol's).
    from sim.experiments.sweep import load_sweep

    body = ("name: outputs\nscenarios: [suizhou_baseline]\n"
            "outputs: [preventable_cases, disputes_found_by_grid_worker, hot_spot_offences]\n")
    spec = load_sweep(write_sweep(tmp_path, body))
    assert spec.outputs == ["preventable_cases", "disputes_found_by_grid_worker", "hot_spot_offences"]
