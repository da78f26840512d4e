"""The runner and the command line: outputs, determinism, common random numbers, bad input."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import PinganModel, load_scenario
from sim.cli import main
from sim.experiments import ResultsStore, compare, replicate_seed, run_batch, summarise, write_metrics
from sim.presentation import interval, percent

SMALL = ["--scale", "0.03", "--replicates", "2", "--seed", "7", "--quiet", "--no-plots",
         "--set", "run.warmup_days=7"]
REQUIRED = ["scenario", "replicate", "seed", "year", "preventable_cases", "calls_for_service",
            "effective_incidents", "serious_violent", "homicides", "clearance_rate",
            "response_time_median_min", "response_time_p90_min", "cost_yuan"]


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """``pingan run suizhou_2022`` with one and two workers (the folders), and what the first printed."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for jobs in (1, 2):
        d = base / f"jobs{jobs}"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(["run", "suizhou_2022", *SMALL, "--jobs", str(jobs), "--out", str(d)]) == 0
        out[jobs] = d
        out.setdefault("printed", printed.getvalue())
    return out


def test_metrics_csv_has_one_row_per_scenario_replicate_year(run_dirs):
    df = pd.read_csv(run_dirs[1] / "metrics.csv")
    assert list(df.columns[:4]) == ["scenario", "replicate", "seed", "year"]
    assert set(REQUIRED) <= set(df.columns)
    assert list(df["scenario"].unique()) == ["suizhou_baseline", "suizhou_2022"]  # the baseline first
    assert len(df) == 2 * 2 * 2
    assert sorted(df["year"].unique()) == [2021, 2022]
    assert df.groupby("replicate")["seed"].nunique().eq(1).all()


def test_run_pairs_the_package_with_the_baseline_it_extends_under_the_same_seeds(run_dirs):
    df = pd.read_csv(run_dirs[1] / "metrics.csv").set_index(["scenario", "replicate", "year"])
    base, package = df.loc["suizhou_baseline"], df.loc["suizhou_2022"]
    assert base["seed"].equals(package["seed"])
    # The package starts in 2022: its 2021 is the baseline's 2021, metric by metric.
    pd.testing.assert_frame_equal(base.xs(2021, level="year"), package.xs(2021, level="year"))
    cases = base.xs(2022, level="year")["preventable_cases"], package.xs(2022, level="year")["preventable_cases"]
    assert (cases[0] != cases[1]).any()


def test_run_writes_what_compare_writes_for_the_pair(run_dirs, tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "suizhou_baseline", "suizhou_2022", *SMALL, "--jobs", "1", "--out", str(out)]) == 0
    for name in ("metrics.csv", "summary.csv", "compare.csv", "packages.csv", "areas_county.csv", "rings.csv"):
        assert (run_dirs[1] / name).read_bytes() == (out / name).read_bytes(), name


def test_run_prints_the_baseline_then_the_effect_as_in_compare_csv_then_the_year_on_year_change(run_dirs):
    printed = run_dirs["printed"]
    assert printed.splitlines()[0] == ("baseline suizhou_baseline: the scenario suizhou_2022 extends with no "
                                       "intervention switched on, run with the same seeds")
    effect, yoy = printed.split("Year on year, as the city reports it")
    assert "suizhou_2022 against suizhou_baseline, 2022: mean over 2 paired replicates" in effect
    assert "suizhou_baseline, 2021" not in effect  # before the package starts there is nothing to show
    d = pd.read_csv(run_dirs[1] / "compare.csv").set_index(["scenario", "year", "metric"])
    r = d.loc[("suizhou_2022", 2022, "preventable_cases")]
    (row,) = [line for line in effect.splitlines() if line.lstrip().startswith("preventable cases, recorded")]
    assert interval(r.difference, r.difference_lo, r.difference_hi, signed=True) in row
    assert percent(r.relative_pct, r.relative_pct_lo, r.relative_pct_hi) in row
    s = pd.read_csv(run_dirs[1] / "summary.csv").set_index(["scenario", "metric"])
    y = s.loc[("suizhou_2022", "preventable_cases")]
    assert "suizhou_2022: 2022 against 2021" in yoy and "suizhou_baseline: 2022 against 2021" not in yoy
    (row,) = [line for line in yoy.splitlines() if line.lstrip().startswith("preventable cases, recorded")]
    assert percent(y.change_pct, y.change_pct_lo, y.change_pct_hi) in row


def test_a_run_folder_opens_in_the_explorer_against_its_baseline(run_dirs):
    from sim.app.session import open_results

    opened = open_results(run_dirs[1])
    assert opened.scenarios == ["suizhou_baseline", "suizhou_2022"] and opened.baseline == "suizhou_baseline"
    assert "compare.csv" in opened.baseline_from and "54,000" in opened.contents["suizhou_2022"]


def test_no_baseline_runs_the_package_alone_as_before(run_dirs, tmp_path, capsys):
    out = tmp_path / "alone"
    assert main(["run", "suizhou_2022", *SMALL, "--replicates", "1", "--jobs", "1", "--no-baseline",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "baseline" not in printed.split("What the seed cities reported")[0]
    assert "suizhou_2022: 2022 against 2021" in printed
    alone = pd.read_csv(out / "metrics.csv")
    assert list(alone["scenario"].unique()) == ["suizhou_2022"] and not (out / "compare.csv").exists()
    paired = pd.read_csv(run_dirs[1] / "metrics.csv")
    paired = paired[(paired["scenario"] == "suizhou_2022") & (paired["replicate"] == 0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, paired)  # replicate 0 is the same run alone or paired


def test_metrics_csv_is_byte_identical_whatever_the_number_of_jobs(run_dirs):
    assert (run_dirs[1] / "metrics.csv").read_bytes() == (run_dirs[2] / "metrics.csv").read_bytes()


def test_summary_reports_year_on_year_change_with_intervals(run_dirs):
    s = pd.read_csv(run_dirs[1] / "summary.csv")
    row = s[s["metric"] == "preventable_cases"].iloc[0]
    assert (row.year_from, row.year_to) == (2021, 2022)
    assert row.change_pct_lo <= row.change_pct <= row.change_pct_hi
    assert set(REQUIRED[4:]) <= set(s["metric"])


def test_each_finished_run_is_committed_to_the_results_store(run_dirs):
    with ResultsStore(run_dirs[1] / "store.sqlite") as store:
        frame = store.frame()
    assert frame["run_id"].nunique() == 2 * 2  # the package's and the baseline's replicates
    metrics = pd.read_csv(run_dirs[1] / "metrics.csv")
    order = ["scenario", "replicate", "year"]
    assert frame.sort_values(order)["preventable_cases"].tolist() == \
        metrics.sort_values(order)["preventable_cases"].tolist()


def test_plots_are_written(tmp_path):
    args = [a for a in SMALL if a != "--no-plots"]
    assert main(["run", "suizhou_2022", *args, "--replicates", "1", "--jobs", "1", "--out", str(tmp_path)]) == 0
    for name in ("map_suizhou_2022.png", "map_suizhou_baseline.png", "timeseries.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_compare_with_a_disabled_intervention_shows_exactly_no_difference(tmp_path):
    off = tmp_path / "off.yaml"
    off.write_text("extends: suizhou_baseline\nname: video_off\n"
                   "interventions:\n  video: {enabled: false, cameras: 99999}\n")
    out = tmp_path / "cmp"
    assert main(["compare", "suizhou_baseline", str(off), *SMALL, "--jobs", "1", "--out", str(out)]) == 0
    diff = pd.read_csv(out / "compare.csv")
    core = diff[diff["metric"].isin(REQUIRED[4:])]
    assert len(core) > 0
    assert (core["difference"].fillna(0) == 0).all()


def test_compare_uses_common_random_numbers_so_year_one_is_identical():
    base = load_scenario("suizhou_baseline", ["run.warmup_days=7"])
    alt = load_scenario("suizhou_2022", ["run.warmup_days=7"])
    results = run_batch([base, alt], replicates=2, base_seed=3, scale=0.03, jobs=1, progress=False)
    df = write_metrics(results, Path("/dev/null"))
    d = compare(df, "suizhou_baseline")
    y1 = d[(d["year"] == 2021) & d["metric"].isin(REQUIRED[4:])]
    assert (y1["difference"].fillna(0) == 0).all()
    y2 = d[(d["year"] == 2022) & (d["metric"] == "preventable_cases")]
    assert y2["difference"].iloc[0] != 0
    assert summarise(df)["replicates"].eq(2).all()


def test_replicate_seeds_are_distinct_and_stable():
    seeds = [replicate_seed(1, r) for r in range(50)]
    assert len(set(seeds)) == 50
    assert seeds == [replicate_seed(1, r) for r in range(50)]


def test_bad_scenario_fails_before_any_run(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: suizhou_2022\ninterventions:\n  video:\n    camras: 10\n")
    out = tmp_path / "out"
    assert main(["run", str(bad), *SMALL, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "interventions.video.camras" in err and "unknown key" in err
    assert not out.exists()


def test_validate_command_reports_ok_and_invalid(tmp_path, capsys):
    assert main(["validate", "suizhou_2022", "suizhou_baseline"]) == 0
    assert "suizhou_2022: ok" in capsys.readouterr().out
    bad = tmp_path / "neg.yaml"
    bad.write_text("extends: suizhou_2022\ninterventions:\n  street_police_stations: {count: -3}\n")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "neg.yaml" in err and "interventions.street_police_stations.count" in err
    assert "greater than or equal to 0" in err


def test_set_override_changes_the_run_and_a_baseline_scenario_runs_alone(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "suizhou_baseline", *SMALL, "--replicates", "1", "--jobs", "1",
                 "--set", "run.years=1", "--out", str(out)]) == 0
    assert pd.read_csv(out / "metrics.csv")["year"].tolist() == [2021]
    assert capsys.readouterr().out.startswith("suizhou_baseline switches no intervention on: it runs alone")
    assert not (out / "compare.csv").exists()


def test_a_baseline_that_cannot_be_loaded_is_refused_before_any_run(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", "suizhou_2022", *SMALL, "--baseline", "no_such_scenario", "--out", str(out)]) == 2
    assert "no_such_scenario: no such scenario file" in capsys.readouterr().err
    assert not out.exists()


def test_the_installed_pingan_console_script_runs_the_command(pingan_script, tmp_path):
    # The script pip generated from [project.scripts], run from a folder outside the checkout.
    r = subprocess.run([str(pingan_script), "validate", "suizhou_2022"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert "suizhou_2022" in r.stdout + r.stderr


def test_run_counts_its_steps_as_mesa_counts_them():
    stepped = PinganModel(load_scenario("suizhou_2022", ["run.warmup_days=0"]), seed=2, scale=0.03)
    for _ in range(48):
        stepped.step()
    run = PinganModel(load_scenario("suizhou_2022", ["run.warmup_days=0"]), seed=2, scale=0.03)
    run.total_hours = 48  # stop after two days
    run.run()
    assert run.steps == stepped.steps == 48
    assert run.datacollector.get_model_vars_dataframe().equals(stepped.datacollector.get_model_vars_dataframe())


def test_researchers_can_step_the_mesa_model_and_collect_data():
    m = PinganModel(load_scenario("suizhou_2022", ["run.warmup_days=0"]), seed=2, scale=0.03)
    for _ in range(24 * 3):
        m.step()
    assert m.steps == 72
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 3
    assert {"recorded_preventable", "calls_for_service", "units_busy"} <= set(df.columns)
    assert df["calls_for_service"].is_monotonic_increasing and df["calls_for_service"].iloc[-1] > 0


def test_a_run_leaves_the_garbage_collector_as_it_found_it():
    import gc

    before = gc.get_threshold()
    model = PinganModel(load_scenario("suizhou_2022", ["run.warmup_days=1", "run.years=1"]), seed=1, scale=0.02)
    model.run()
    assert model.finished
    assert gc.get_threshold() == before


def _group(pgid: int) -> list[int]:
    """Processes of a process group (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    out.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="lists processes through /proc")
def test_workers_and_helpers_die_with_a_sweep_killed_by_sigkill(tmp_path, paused_pingan):
    spec = tmp_path / "orphans.yaml"
    spec.write_text("name: orphans\nscenarios: [suizhou_baseline]\nreplicates: 6\nscale: 0.05\n"
                    "overrides: [\"run.warmup_days=7\", \"run.years=1\"]\n", encoding="utf-8")
    # Held after the first finished run is committed: by then both workers have taken tasks, and the
    # sweep cannot end before it is killed.
    sweep = paused_pingan(["sweep", str(spec), "--jobs", "2", "-q", "--out", str(tmp_path / "out")], after=1,
                          cwd=tmp_path)
    try:
        helpers = [p for p in _group(sweep.pid) if p != sweep.pid]
        assert len(helpers) >= 2, helpers  # the two workers, and the resource trackers
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait(timeout=60)
        deadline = time.monotonic() + 60
        while _group(sweep.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _group(sweep.pid) == [], "processes of the killed sweep are still running"
    finally:
        if _group(sweep.pid):  # never leave a process behind, whatever failed
            os.killpg(sweep.pid, signal.SIGKILL)
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()


def test_a_run_records_every_attended_call_and_each_units_share_of_time_on_calls():
    from sim.experiments.runner import run_one

    scenario = load_scenario("suizhou_2022", ["run.warmup_days=7"])
    res = run_one(scenario, 0, replicate_seed(1, 0), scale=0.03)
    calls = res.calls
    rows = pd.DataFrame(res.rows)
    assert len(calls) and set(calls["year"]) == {0, 1}
    assert (calls["priority"] >= 1).all() and (calls["response_min"] > 0).all()
    for year in (0, 1):
        mine = calls[calls["year"] == year]
        assert len(mine) == res.cell_calls[year].sum()
        assert float(pd.Series(mine["response_min"]).median()) == pytest.approx(
            rows["response_time_median_min"][year])
    busy = res.unit_busy_share
    answered = pd.Series(calls["unit"]).unique()
    assert ((busy >= 0) & (busy <= 1)).all() and (busy[answered] > 0).all()
