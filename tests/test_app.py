"""The package explorer (``pingan serve``): its logic without a browser, then the page in one.

The browser test starts ``pingan serve`` on 127.0.0.1 at a free port, drives the page with
Playwright against Debian's chromium, runs two packages and checks the results change, that
no console error occurs and that no request leaves this machine (the page must work offline).
It skips where Panel, Playwright or chromium is missing — except in CI (``CI=true``), where a
missing piece fails the test instead.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from sim.app.session import (
    METRICS,
    PackageRun,
    ResultsFileError,
    Session,
    baseline_scenario,
    editable_fields,
    headline_table,
    open_results,
    package_scenario,
)
from sim.experiments.runner import write_metrics
from sim.interventions import REGISTRY
from sim.scenario import ScenarioError, load_scenario

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("PINGAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCALE = 0.05


def _missing(what: str) -> None:
    """Skip locally; fail in CI, where the browser test must run."""
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI must run the browser test (.ci/run installs it)")
    pytest.skip(f"{what} is missing")


# ---------------------------------------------------------------------------------------- logic


def test_widgets_come_from_the_intervention_schema():
    for key in REGISTRY:
        fields = editable_fields(key)
        assert fields[0].name == "enabled" and fields[0].kind == "bool", key
        assert "start_year" not in {f.name for f in fields}
    stations = {f.name: f for f in editable_fields("street_police_stations")}
    assert stations["count"].kind == "int" and stations["count"].size and stations["count"].lower == 0
    assert stations["walk_in_share"].upper == 1
    assert stations["placement"].kind == "choice" and "hot_spots" in stations["placement"].choices
    assert not stations["setup_cost_yuan"].size
    assert {f.name for f in editable_fields("video") if f.size} == {"cameras"}
    # lists and nested groups keep the scenario's values
    assert "campaigns" not in {f.name for f in editable_fields("crackdown")}


def test_package_applies_settings_and_refuses_bad_values_by_key():
    base = load_scenario("suizhou_2022")
    pkg = package_scenario(base, {"video": {"cameras": 1000}, "street_police_stations": {"enabled": False}}, "mine")
    assert pkg.name == "mine"
    assert pkg.interventions.video.cameras == 1000 and not pkg.interventions.street_police_stations.enabled
    assert pkg.interventions.rapid_response_points.count == base.interventions.rapid_response_points.count
    with pytest.raises(ScenarioError, match=r"interventions\.video\.cameras"):
        package_scenario(base, {"video": {"cameras": -5}}, "bad")
    with pytest.raises(ScenarioError, match="unknown intervention"):
        package_scenario(base, {"teleporters": {"enabled": True}}, "bad")


def test_baseline_switches_every_intervention_off_and_keeps_the_rest():
    scenario = load_scenario("daqing_2021")
    base = baseline_scenario(scenario)
    assert base.enabled_interventions() == {}
    assert base.name == "daqing_2021_no_interventions"
    assert base.run == scenario.run and base.city == scenario.city and base.crime == scenario.crime
    assert baseline_scenario(scenario, "as_loaded") is scenario
    with pytest.raises(ValueError, match="baseline must be one of"):
        baseline_scenario(scenario, "yesterday")


@pytest.fixture(scope="module")
def suizhou_run(tmp_path_factory) -> tuple[PackageRun, Path]:
    """Suizhou's 2022 package against no interventions: 2 paired replicates at scale 0.05."""
    store = tmp_path_factory.mktemp("explorer") / "store.sqlite"
    scenario = load_scenario("suizhou_2022")
    job = PackageRun(baseline_scenario(scenario), package_scenario(scenario, {}, "sz_package"), replicates=2,
                     seed=1, scale=SCALE, jobs=1, store=store).start()
    assert job.wait(600), "the package run did not finish"
    assert job.error is None, job.error
    return job, store


def test_package_run_gives_paired_headline_changes_with_intervals(suizhou_run):
    job, store = suizhou_run
    assert job.done == job.total == 4
    session = Session()
    saved = session.save(job)
    table = headline_table(saved.metrics, saved.base, saved.name).set_index("metric")
    assert list(table.index) == [m for m in METRICS if m in table.index]
    assert {"preventable_cases", "calls_for_service", "cost_yuan", "sense_of_safety_pct"} <= set(table.index)
    assert (table["year"] == 2022).all() and (table["replicates"] == 2).all()
    cost = table.loc["cost_yuan"]
    assert cost["base_mean"] == 0 and cost["difference"] > 0  # the package costs money, no package costs none
    row = table.loc["calls_for_service"]
    assert row["difference_lo"] <= row["difference"] <= row["difference_hi"]
    # the year before the package is identical in both (common random numbers, switched on in 2022)
    first = saved.metrics[saved.metrics["year"] == 2021].set_index(["scenario", "replicate"])["preventable_cases"]
    assert (first.loc[saved.base].to_numpy() == first.loc[saved.name].to_numpy()).all()
    assert saved.first_year == 2021 and saved.starts == [(2022, "package starts")]
    assert "8 street police stations" in saved.contents and saved.sample.short == "5 % sample"
    # sites of each intervention, as many as the package builds at this scale (at least one each)
    sites = job.results[-1].sites
    assert len(sites["street_police_stations"]) == 1 and len(sites["rapid_response_points"]) == 1
    assert len(sites["video"]) > 0
    # the session's cost-effect table: one package, on its own Pareto frontier
    table = session.cost_effect(saved.name)
    assert list(table["package"]) == ["sz_package"] and bool(table["pareto"].iloc[0])


def test_session_groups_packages_by_baseline(suizhou_run):
    job, _ = suizhou_run
    session = Session()
    session.save(job)
    again = PackageRun(job.base, job.package.model_copy(update={"name": "same_again"}), 2, 1, SCALE)
    again.results = [dataclasses.replace(r, scenario="same_again") if r.scenario == "sz_package" else r
                     for r in job.results]  # as if run again under another name: same baseline
    session.save(again)
    assert [p.name for p in session.comparable("sz_package")] == ["sz_package", "same_again"]
    assert list(session.cost_effect("same_again")["package"]) == ["sz_package", "same_again"]
    more = PackageRun(job.base, job.package, 3, 1, SCALE)
    assert Session._group(more) != Session._group(job)  # other replicates: not the same baseline


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """``pingan compare suizhou_baseline suizhou_2022`` at the explorer's test scale, 2 replicates, seed 1."""
    from sim import cli

    out = tmp_path_factory.mktemp("cli") / "compare"
    assert cli.main(["compare", "suizhou_baseline", "suizhou_2022", "--scale", str(SCALE), "-r", "2", "--seed", "1",
                     "--jobs", "1", "--out", str(out), "--no-plots", "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def run_alone_folder(compared, tmp_path_factory) -> Path:
    """A folder as ``pingan run`` writes a scenario run alone: its two years (cut from the comparison's runs)."""
    import pandas as pd

    out = tmp_path_factory.mktemp("run") / "suizhou_2022"
    out.mkdir()
    df = pd.read_csv(compared / "metrics.csv")
    df[df["scenario"] == "suizhou_2022"].to_csv(out / "metrics.csv", index=False)
    return out


def test_open_results_reads_a_folder_a_store_and_refuses_junk(suizhou_run, compared, tmp_path):
    job, store = suizhou_run
    folder = tmp_path / "compare"
    folder.mkdir()
    write_metrics(job.results, folder / "metrics.csv")
    opened = open_results(folder)
    assert opened.scenarios == [job.base.name, "sz_package"]
    from_store = open_results(store)
    assert set(from_store.scenarios) == {job.base.name, "sz_package"}
    assert "no maps" in from_store.note
    a = headline_table(opened.metrics, job.base.name, "sz_package").set_index("metric")["difference"]
    b = headline_table(from_store.metrics, job.base.name, "sz_package").set_index("metric")["difference"]
    assert np.allclose(a.to_numpy(), b.loc[a.index].to_numpy(), equal_nan=True)  # the store keeps what ran
    # the explorer gives the numbers `pingan compare` gives for the same scenarios, seed and scale
    c = headline_table(open_results(compared).metrics, "suizhou_baseline", "suizhou_2022")
    assert np.allclose(a.to_numpy(), c.set_index("metric")["difference"].loc[a.index].to_numpy(), equal_nan=True)
    with pytest.raises(ResultsFileError, match="no such file"):
        open_results(tmp_path / "nowhere")
    with pytest.raises(ResultsFileError, match="no metrics.csv or store.sqlite"):
        open_results(tmp_path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ResultsFileError, match="junk.sqlite: not a readable results store"):
        open_results(junk)


def test_opened_results_compare_against_the_baseline_they_name_never_the_first_in_the_alphabet(suizhou_run, compared,
                                                                                            tmp_path):
    # pingan compare's store: suizhou_2022 comes first in the alphabet, but compare.csv names the baseline
    opened = open_results(compared / "store.sqlite")
    assert sorted(opened.scenarios)[0] == "suizhou_2022"
    assert opened.baseline == "suizhou_baseline" and "compare.csv" in opened.baseline_from
    assert opened.scale == SCALE and opened.sample.short == "5 % sample"
    assert open_results(compared).baseline == "suizhou_baseline"  # its metrics.csv: the baseline first
    # the explorer's own store names its baseline (every intervention off)
    job, store = suizhou_run
    assert open_results(store).baseline == job.base.name
    # a store that does not say: the planner chooses, nothing is guessed
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(compared / "store.sqlite", alone / "store.sqlite")
    assert open_results(alone).baseline is None


def test_opening_a_single_scenario_shows_its_year_on_year_change_as_pingan_run_prints_it(run_alone_folder):
    opened = open_results(run_alone_folder)
    assert opened.scenarios == ["suizhou_2022"]
    rows = opened.year_on_year("suizhou_2022")
    (row,) = [r for r in rows if r["metric"].startswith("preventable cases, recorded [per year, sample of ")]
    assert set(row) == {"metric", "2021", "2022", "change [95 % interval]", "change % [95 % interval]", "note"}
    assert row["change % [95 % interval]"].endswith("]")


def test_the_session_marks_when_the_package_starts_not_the_earliest_intervention(suizhou_run):
    job, _ = suizhou_run
    daqing = load_scenario("daqing_2021")  # its package starts in 2021; people's mediation runs from 2020
    run = PackageRun(baseline_scenario(daqing), package_scenario(daqing, {}, "dq"), 2, 1, SCALE)
    run.results = [dataclasses.replace(r, scenario=run.base.name if r.scenario == job.base.name else "dq")
                   for r in job.results]
    saved = Session().save(run)
    assert saved.starts == [(2021, "package starts"), (2020, "mediation starts")]
    assert "46 smart compounds" in saved.contents


def test_the_explorer_checks_every_value_on_the_server_as_the_cli_does():
    from sim.app.session import MAX_REPLICATES, SettingsError, run_settings

    assert run_settings(2, 1, 0.05) == (2, 1, 0.05)
    for replicates, seed, scale, expected in (
            (10**6, 1, 0.05, f"replicates: expected a whole number from 2 (an interval needs two) to {MAX_REPLICATES}"),
            (1, 1, 0.05, "replicates: expected a whole number from 2"),
            (2, 2**80, 0.05, "seed: expected a seed from 0 to 2**63 - 1, got 1208925819614629174706176"),
            (2, -1, 0.05, "seed: expected a seed from 0 to 2**63 - 1, got -1"),
            (2, 1, 0.0, "scale: expected a fraction of the city, 0 < F ≤ 1"),
            (2, 1, float("nan"), "scale: expected a fraction of the city"),
            (2, None, 0.05, "seed: expected a number")):
        with pytest.raises(SettingsError, match=re.escape(expected)):
            run_settings(replicates, seed, scale)
    _panel_or_skip()
    from sim.app.explorer import Explorer

    page = Explorer()
    for widget, bad in ((page.replicates, 10**6), (page.seed, 2**80), (page.seed, -1)):
        good = widget.value
        widget.value = bad  # as a websocket message may set it, whatever the browser's widget allows
        assert page.run_button.disabled and "Invalid run settings" in page.status.object
        assert page.start() is None and page.job is None  # nothing ran
        widget.value = good
    assert not page.run_button.disabled


def test_the_explorer_runs_at_the_tested_minimum_scale_by_default_and_warns_below_it():
    _panel_or_skip()
    from sim.app.explorer import DEFAULT_SCALE, Explorer

    page = Explorer()
    assert DEFAULT_SCALE == 0.1 and page.scale.value == 0.1 and page.scale_note.object == ""
    page.scale.value = 0.01
    assert "scale below 0.1" in page.scale_note.object and not page.run_button.disabled


_KERNELS_AFTER_WARM_UP = """
import sys
from numba.core.registry import CPUDispatcher
from sim.app.serve import warm_up_kernels


def kernels():  # every compiled kernel of sim and the argument types it has code for
    found = {}
    for name, module in list(sys.modules.items()):
        for value in vars(module).values() if name.startswith("sim.") and module else ():
            if isinstance(value, CPUDispatcher):
                found[value.py_func.__qualname__] = set(map(str, value.signatures))
    return found


warm_up_kernels().join()
before = kernels()
from sim.app.session import baseline_scenario, package_scenario
from sim.experiments.runner import run_one
from sim.scenario import load_scenario

scenario = load_scenario("daqing_2021", ["run.warmup_days=2"])  # another city, other interventions
run_one(package_scenario(scenario, {}, "p"), 0, 1, 0.02)
run_one(baseline_scenario(scenario), 0, 1, 0.02)
after = kernels()
print(sorted(k for k in after if after[k] - before.get(k, set())))
"""


def test_the_servers_warm_up_compiles_every_kernel_a_package_run_needs():
    """So the planner's first Run does not wait for numba (the warm-up runs when pingan serve starts)."""
    _panel_or_skip()
    r = subprocess.run([sys.executable, "-c", _KERNELS_AFTER_WARM_UP], capture_output=True, text=True, timeout=600,
                       check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"kernels a run compiled after the warm-up: {r.stdout}"


def test_editing_the_app_keeps_stored_results(tmp_path):
    """The explorer computes nothing: editing it must not change the model version in run ids."""
    import importlib.util

    package = tmp_path / "sim"
    shutil.copytree(Path(__file__).resolve().parents[1] / "sim", package, ignore=shutil.ignore_patterns("__pycache__"))

    def version() -> str:
        spec = importlib.util.spec_from_file_location("store_copy", package / "experiments" / "store.py")
        module = sys.modules["store_copy"] = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            return module.model_version()
        finally:
            del sys.modules["store_copy"]

    before = version()
    with open(package / "app" / "explorer.py", "a") as f:
        f.write("\n# a new widget\n")
    assert version() == before


def test_serve_without_panel_says_what_to_install(monkeypatch, capsys):
    from sim import cli

    monkeypatch.setitem(sys.modules, "panel", None)  # import panel -> ImportError
    assert cli.main(["serve", "--port", "0"]) == 2
    assert "pip install -e '.[app]'" in capsys.readouterr().err  # a checkout; a wheel's hint: test_install


def test_serve_refuses_unknown_scenario_and_bad_port(capsys):
    from sim import cli

    assert cli.main(["serve", "--scenario", "atlantis"]) == 2
    assert "expected a built-in scenario" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # the parser refuses it, as every bad option (test_bad_input)
        cli.main(["serve", "--port", "70000"])
    assert exit_.value.code == 2
    assert "argument --port: expected a TCP port 0–65535, got 70000" in capsys.readouterr().err


def _panel_or_skip():
    try:
        import panel  # noqa: F401
    except ImportError:
        _missing("Panel (the app extra: pip install -e '.[app]')")


def test_explorer_widgets_follow_the_scenario_and_refuse_bad_input():
    _panel_or_skip()
    from sim.app.explorer import Explorer

    page = Explorer()
    assert page.scenario.value == "suizhou_2022"
    assert page.fields[("street_police_stations", "enabled")].value is True
    assert page.fields[("street_police_stations", "count")].value == 8
    assert page.fields[("video", "cameras")].value == 54000
    page.scenario.value = "daqing_2021"  # the widgets are reset from the new scenario's file
    assert page.fields[("street_police_stations", "enabled")].value is False
    assert page.fields[("smart_compounds", "count")].value == 46
    assert page.package_name.value == "daqing_2021_p1"
    assert page.settings()["home_visits"]["share_of_patrol_units"] == 0.1

    page.package_name.value = "../../x"
    assert page.start() is None and "Package name" in page.status.object
    page.package_name.value = "daqing_2021_no_interventions"
    assert page.start() is None and "baseline's name" in page.status.object
    page.package_name.value = "ok"
    page.fields[("smart_compounds", "count")].value = -3  # shown as soon as it is typed, Run stays off
    assert "Invalid package" in page.status.object and "interventions.smart_compounds.count" in page.status.object
    assert page.run_button.disabled
    assert page.start() is None
    assert page.job is None  # nothing ran
    switch = page.fields[("street_police_stations", "enabled")]
    assert switch.label == "Street police stations: off"  # daqing_2021 has none
    switch.value = True
    assert switch.label == "Street police stations: on"


def test_explorer_shows_the_shared_map_series_and_pareto_plots(suizhou_run):
    _panel_or_skip()
    from sim.app.explorer import Explorer

    job, _ = suizhou_run
    page = Explorer()
    page.show(page.session.save(job))
    ax = page.map_pane.object.axes[0]  # sim.plots.difference_map: county borders, sites, blank outside the sample
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("street police station") for label in labels)
    assert any(label.startswith("rapid-response point") for label in labels)
    assert "no simulated cell" in labels
    assert any(c.get_gid() == "county boundaries" and len(c.get_segments()) for c in ax.collections)
    assert "sz_package − suizhou_2022_no_interventions, 2022" in ax.get_title()
    series = page.series_pane.object.axes  # sim.plots.time_series: dated, the package's start marked on each panel
    for axis in series:
        assert [t.get_text() for t in axis.get_legend().get_texts()] == [
            "all scenarios alike (common random numbers)", "suizhou_2022_no_interventions", "sz_package",
            "package starts (2022-01-01)"]
    assert series[0].lines[0].get_xdata()[0] == np.datetime64("2021-01-04")
    frontier = [ln for ln in page.pareto_pane.object.axes[0].lines if ln.get_label() == "Pareto frontier"]
    assert len(frontier) == 1  # sim.plots.pareto of the session's one package


# ------------------------------------------------------------------------------ optimiser study

#: A study small enough to write in about a minute: Suizhou's 2022 package with its rapid-response
#: points sited by MCLP or left out, and its cameras or none (4 packages asked, 2 replicates).
STUDY_MENU = """\
extends: suizhou_2022
name: suizhou_study
optimise:
  levers:
    rapid_response_points.count: {choices: [0, 28]}
    rapid_response_points.siting: {choices: [mclp]}
    video.cameras: {choices: [0, 54000]}
  objectives: [preventable_cases, response_time_p90_min, cost]
  posterior_draws: 1
  replicates: 2
  packages: 4
  population: 4
"""


@pytest.fixture(scope="module")
def optimiser_study(tmp_path_factory) -> Path:
    """A study folder written by ``pingan optimise`` at the 2022 package's budget (default parameters, scale 0.05)."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        _missing("Optuna (the optimise extra: pip install -e '.[optimise]')")
    from sim import cli

    folder = tmp_path_factory.mktemp("optimise")
    menu = folder / "suizhou_study.yaml"
    menu.write_text(STUDY_MENU)
    out = folder / "study"
    assert cli.main(["optimise", str(menu), "--budget", "actual", "--posterior", "none", "--scale", str(SCALE),
                     "--warmup-days", "7", "--seed", "1", "--jobs", "1", "--out", str(out), "-q"]) == 0
    return out


def _legend(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


@pytest.mark.slow
def test_an_opened_study_shows_its_front_the_actual_package_and_robustness(optimiser_study):
    _panel_or_skip()
    from sim.app.study import StudyPanel

    panel = StudyPanel()
    tables = panel.open(str(optimiser_study))
    assert tables is not None, panel.status.object
    assert f"Opened the study **{optimiser_study}**" in panel.status.object
    front = panel.front.object
    assert list(front["package"]) == [str(int(p)) for p in tables.front["package"]]
    assert "preventable cases prevented [per year, 5 % sample], mean [95 % interval]" in front.columns
    assert "annual cost [million yuan per year, whole city]" in front.columns
    # each package in words: what the levers chose, and what every package keeps from the scenario
    assert all("kept as the scenario has them: crackdown (6 campaigns), 8 street police stations" in c
               for c in front["contains"])
    assert not front.map(lambda v: bool(re.search(r"\d[eE][+-]?\d", str(v)))).any().any()
    # the actual package, and the best front package at no more than its cost
    actual = panel.actual.object
    assert actual["package"].iloc[0] == "actual"
    assert actual["contains"].iloc[0].startswith("28 rapid-response points (the scenario's siting), 54 000 cameras")
    best = tables.best_within(float(tables.actual_row()["cost_yuan_per_year"]))
    assert list(actual["package"]) == ["actual", str(int(best["package"]))]
    assert f"package {int(best['package'])}, the best front package" in panel.actual_title.object
    assert len(panel.robustness.object) == len(tables.front) and "beaten in [share of draws]" in panel.robustness.object
    # the front plot (sim.plots) and the map of the chosen package's sites, the best one first
    assert "the city's actual package" in _legend(panel.front_plot.object)
    assert panel.member.options[0].startswith("actual package (79.3 M yuan/yr)")
    assert panel.member.value.startswith(f"package {int(best['package'])} (")
    panel.member.value = panel.member.options[0]
    assert panel.member_words.object.startswith("**actual package (79.3 M yuan/yr) contains:** 28 rapid-response")
    legend = _legend(panel.member_map.object)
    assert "rapid-response point (1)" in legend and "street police station (1)" in legend
    assert any(label.startswith("cells with cameras") for label in legend)
    mclp = [label for label, row in panel._packages.items() if "(mclp)" in row["contents"]]
    assert mclp, "no front package sites its rapid-response points by MCLP"
    panel.member.value = mclp[0]
    assert "rapid-response point (1)" in _legend(panel.member_map.object)


@pytest.mark.slow
def test_the_study_panel_checks_every_value_the_page_sends_on_the_server(optimiser_study, tmp_path):
    _panel_or_skip()
    from sim.app.study import StudyPanel

    panel = StudyPanel()
    assert panel.open(str(optimiser_study)) is not None
    panel.member.param.update(value="package 999 (1 M yuan/yr)")  # as a websocket message may set it
    assert "Not a package of this study" in panel.member_words.object and not panel.member_map.visible
    for value in (None, "  "):
        panel.path.param.update(value=value)
        assert panel.open() is None and "give the folder" in panel.status.object
    assert panel.open(42) is None and "give the folder" in panel.status.object
    # a folder that is not a study clears the one shown
    assert panel.open(str(tmp_path)) is None and "no settings.json: not a study folder" in panel.status.object
    assert panel.tables is None and panel.front.object.empty and not panel.front_plot.visible
    # a study that has not finished (killed before it wrote its tables): the same command resumes it
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for name in ("settings.json", "study.journal"):
        shutil.copy(optimiser_study / name, unfinished / name)
    assert panel.open(str(unfinished)) is None
    assert "front.csv: missing" in panel.status.object and "resumes the study" in panel.status.object
    # a damaged table names its file and column; sites off the city are refused when mapped
    import pandas as pd

    damaged = tmp_path / "damaged"
    shutil.copytree(optimiser_study, damaged)
    table = pd.read_csv(optimiser_study / "front.csv")
    table.assign(cost_yuan_per_year="lots").to_csv(damaged / "front.csv", index=False)
    assert panel.open(str(damaged)) is None
    assert "front.csv: column 'cost_yuan_per_year': expected numbers, got 'lots'" in panel.status.object
    table.assign(**{"sites:video": "99999"}).to_csv(damaged / "front.csv", index=False)
    assert panel.open(str(damaged)) is not None
    panel.member.value = panel.member.options[-1]
    assert "Cannot map" in panel.member_words.object and "expected cells 0 to" in panel.member_words.object


@pytest.mark.slow
def test_open_results_shows_a_study_folder_in_the_packages_tab(optimiser_study):
    _panel_or_skip()
    from sim.app.explorer import PACKAGES_TAB, Explorer

    page = Explorer()
    page.view()
    page.open_path.value = str(optimiser_study / "store.sqlite")  # its store holds every package under one name
    page.open()
    assert "a study written by `pingan optimise`: its front is shown in the **Packages** tab" in page.open_status.object
    assert page.tabs.active == PACKAGES_TAB and page.study.tables is not None
    assert page.open_packages.object.empty  # not the store's runs as if they were packages


# ---------------------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def server():
    """``pingan serve`` on 127.0.0.1 at a free port, in its own process."""
    _panel_or_skip()
    from sim.app.serve import free_port

    port = free_port()
    code = f"import sys; from sim.cli import main; sys.exit(main(['serve', '--port', '{port}', '--jobs', '1']))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.poll() is not None else "(still running)"
                    pytest.fail(f"pingan serve did not start on port {port}: {out}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright (pip install playwright; no browser download needed)")
    if not Path(CHROMIUM).is_file():
        _missing(f"chromium ({CHROMIUM}; apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "about"):
        return True
    if parsed.scheme == "blob":  # blob:http://127.0.0.1:PORT/uuid: made by the page itself
        return _is_local(url.removeprefix("blob:"))
    return parsed.hostname in LOCAL_HOSTS


def _tab(page, title: str):
    return page.locator(".bk-tab", has_text=re.compile(rf"^{re.escape(title)}$"))


def _run_and_wait(page, name: str) -> None:
    page.locator(".pingan-run button").click()
    # the progress shows while the runs go on in the background
    page.get_by_text(re.compile(rf"Running {re.escape(name)} against .*: \d of 4 runs finished")).wait_for(
        timeout=30_000)
    assert page.locator(".pingan-run button").is_disabled()
    page.get_by_text(re.compile(rf"{re.escape(name)} finished")).wait_for(timeout=300_000)
    assert page.locator(".pingan-run button").is_enabled()


def _handshake(url: str, origin: str | None) -> int:
    """The HTTP status of a websocket handshake with the page's server, with or without an Origin header."""
    parsed = urlparse(url)
    lines = [f"GET {parsed.path.rstrip('/')}/ws HTTP/1.1", f"Host: {parsed.netloc}", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(conn.recv(1024).split(b" ", 2)[1])


def test_the_server_refuses_a_websocket_without_an_allowed_origin(server):
    assert _handshake(server, None) == 403  # a script, not a browser: it could drive the page from anywhere
    assert _handshake(server, "http://elsewhere.example:5006") == 403
    assert _handshake(server, server.rstrip("/")) == 101  # the page's own origin is let in


_TEXT = ("e => { const r = e.shadowRoot || e; return Array.from(r.children)"
         ".filter(c => !['STYLE', 'LINK'].includes(c.tagName)).map(c => c.innerText || '').join('\\n'); }")


def _text(page, css: str) -> str:
    """The text a Panel pane shows (Bokeh draws it in a shadow root)."""
    return page.locator(css).first.evaluate(_TEXT)


def _wait_text(page, css: str, pattern: str, timeout: float = 30.0) -> str:
    """Wait until the pane ``css`` shows text matching ``pattern``; return its text."""
    deadline = time.monotonic() + timeout
    while True:
        text = _text(page, css)
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{css} did not show {pattern!r}; it shows {text!r}")
        page.wait_for_timeout(200)


def _wait_table(page, css: str, pattern: str, timeout: float = 30.0) -> str:
    """Wait until the table in the pane ``css`` shows text matching ``pattern``; return its text."""
    deadline = time.monotonic() + timeout
    while True:
        tables = page.locator(f"{css} table")
        text = tables.first.inner_text() if tables.count() else ""
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{css} did not show {pattern!r} in a table; it shows {text!r}")
        page.wait_for_timeout(200)


def _type(page, css: str, value: str) -> None:
    box = page.locator(f"{css} input")
    box.fill(value)
    box.press("Enter")


@pytest.mark.slow
def test_explorer_in_a_browser_runs_packages_offline(browser, server, compared, run_alone_folder, optimiser_study,
                                                    tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda w: requests.append(w.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(re.compile(r"^(https?|wss?)://(?!(127\.0\.0\.1|localhost)[:/])"), lambda route: route.abort())

    page.goto(server)
    page.get_by_text("Pingan package explorer").wait_for(timeout=60_000)

    # Before a run, Map and Time series say what to do instead of staying blank.
    for tab in ("Map", "Time series"):
        _tab(page, tab).click()
        page.get_by_text("No run yet").first.wait_for(state="visible", timeout=5_000)
    _tab(page, "Against baseline").click()

    # The switch says whether the intervention is in the package, ticked or not.
    stations = page.locator(".pingan-street_police_stations-enabled input[type=checkbox]")
    assert stations.is_checked()  # suizhou_2022's package, as its file has it
    _wait_text(page, ".pingan-street_police_stations-enabled", r"Street police stations: on")
    stations.uncheck()
    _wait_text(page, ".pingan-street_police_stations-enabled", r"Street police stations: off")
    stations.check()
    _wait_text(page, ".pingan-street_police_stations-enabled", r"Street police stations: on")

    # The default scale is the tested minimum; below it the page warns, as the command line does.
    assert page.locator(".pingan-scale input").input_value() == "0.1"
    _type(page, ".pingan-scale", str(SCALE))
    _wait_text(page, ".pingan-scale-note", r"scale below 0\.1")

    # Out-of-range sizes stay as typed, the loader's message shows and Run stays off.
    for css, value, message in ((".pingan-smart_compounds-count", "-3",
                                 r"interventions\.smart_compounds\.count': expected greater than or equal to 0"),
                                (".pingan-video-cameras", "99999999999",
                                 r"interventions\.video\.cameras': expected less than or equal to")):
        _type(page, css, value)
        _wait_text(page, ".pingan-status", message)
        assert page.locator(f"{css} input").input_value() == value
        assert page.locator(".pingan-run button").is_disabled()
        page.locator(".pingan-run button").click(force=True)
        page.wait_for_timeout(500)
        assert "Running" not in _text(page, ".pingan-status")
        _type(page, css, "46" if "compounds" in css else "54000")
    _wait_text(page, ".pingan-status", r"Ready")

    _run_and_wait(page, "suizhou_2022_p1")
    table = page.locator(".pingan-headline table")
    first = table.inner_text()
    assert "preventable cases, recorded [per year, 5 % sample]" in first and "cost [million yuan per year" in first
    assert "rare" in first and "note" in first  # the flags the command line and the report show
    assert not re.search(r"\d[eE][+-]\d", first)
    title = _text(page, ".pingan-headline-title")
    assert "suizhou_2022_p1 contains: " in title and "8 street police stations" in title
    assert "Counts and costs are for the simulated 5 % sample of the city" in title

    stations.uncheck()  # the planner takes the street police stations out of the package
    _type(page, ".pingan-video-cameras", "20000")
    _run_and_wait(page, "suizhou_2022_p2")
    second = table.inner_text()
    assert second != first, "the headline table did not change with the package"
    page.get_by_text("suizhou_2022_p2 against suizhou_2022_no_interventions").wait_for(timeout=5_000)

    _tab(page, "Packages").click()
    packages = page.locator(".pingan-packages table").inner_text()
    assert "suizhou_2022_p1" in packages and "suizhou_2022_p2" in packages
    assert "8 street police stations" in packages and "cameras 20,000" in packages  # what each contains

    # An optimiser study in the Packages tab: its front, each package in words, the actual package, robustness.
    _type(page, ".pingan-study-path", str(optimiser_study))
    page.locator(".pingan-study-open button").click()
    front = _wait_table(page, ".pingan-study-front", r"kept as the scenario has them", timeout=60.0)
    assert "preventable cases prevented [per year, 5 % sample]" in front and "whole city" in front
    assert "rapid-response points (mclp)" in front and not re.search(r"\d[eE][+-]\d", front)
    actual = _wait_table(page, ".pingan-study-actual", r"actual")
    assert "28 rapid-response points (the scenario's siting), 54 000 cameras" in actual
    _wait_table(page, ".pingan-study-robustness", r"beaten in \[share of draws\]")
    page.locator(".pingan-study-member select").select_option(label="actual package (79.3 M yuan/yr)")
    _wait_text(page, ".pingan-study-member-words", r"actual package \(79\.3 M yuan/yr\) contains: 28 rapid-response")
    page.wait_for_timeout(500)
    shot = tmp_path / "study.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("PINGAN_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["PINGAN_SCREENSHOT_DIR"]) / "study.png")
    _tab(page, "Map").click()
    page.wait_for_timeout(500)
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot))
    if os.environ.get("PINGAN_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["PINGAN_SCREENSHOT_DIR"]) / "explorer.png")
    assert shot.stat().st_size > 10_000

    # Open results: pingan compare's store is compared against the baseline it names.
    _tab(page, "Open results").click()
    _type(page, ".pingan-open-path", str(compared / "store.sqlite"))
    page.locator(".pingan-open button").click()
    _wait_text(page, ".pingan-open-status", r"against the baseline suizhou_baseline")
    opened = _wait_table(page, ".pingan-open-packages", r"suizhou_2022")
    assert "suizhou_baseline" not in opened  # the baseline is not shown as a package
    _wait_table(page, ".pingan-open-headline", r"5 % sample")
    # A scenario run alone (one scenario, two years): its year-on-year change.
    _type(page, ".pingan-open-path", str(run_alone_folder))
    page.locator(".pingan-open button").click()
    _wait_text(page, ".pingan-open-status", r"one scenario, suizhou_2022, 2022 against 2021")
    _wait_table(page, ".pingan-open-headline", r"2021(.|\n)*change % \[95 % interval\]")
    # A study folder given to Open results (here its store) opens in the Packages tab.
    _type(page, ".pingan-open-path", str(optimiser_study / "store.sqlite"))
    page.locator(".pingan-open button").click()
    _wait_text(page, ".pingan-open-status", r"a study written by pingan optimise: its front is shown in the Packages")
    expect(_tab(page, "Packages")).to_have_class(re.compile(r"\bbk-active\b"), timeout=10_000)
    _tab(page, "Open results").click()
    # A failed open leaves nothing of the earlier one on screen.
    _type(page, ".pingan-open-path", str(tmp_path / "nowhere"))
    page.locator(".pingan-open button").click()
    _wait_text(page, ".pingan-open-status", r"Cannot open")
    _wait_text(page, ".pingan-open-headline", r"^(?![\s\S]*preventable cases)", timeout=5.0)  # its table is gone

    # A city on its real map: the Map tab draws the districts and names them (in the caption and the image's
    # alt text; the names drawn on the map itself are checked in tests/test_plots.py).
    _tab(page, "Against baseline").click()
    page.locator(".pingan-scenario select").select_option("suizhou_2022_real")
    name = page.locator(".pingan-package-name input")
    for _ in range(150):  # the scenario is loaded when its package name is proposed
        if name.input_value() == "suizhou_2022_real_p1":
            break
        page.wait_for_timeout(200)
    assert name.input_value() == "suizhou_2022_real_p1"
    _run_and_wait(page, "suizhou_2022_real_p1")
    _tab(page, "Map").click()
    caption = _wait_text(page, ".pingan-map-caption", r"real district map of Suizhou")
    assert "Zengdu, Sui County, Guangshui" in caption and "not simulated" in caption
    alt = page.locator(".pingan-map img").first.get_attribute("alt")
    assert "suizhou_2022_real_p1" in alt and "Zengdu, Sui County, Guangshui" in alt

    assert not errors, f"console errors: {errors}"
    outside = [u for u in requests if not _is_local(u)]
    assert not outside, f"requests left this machine: {outside}"
    assert any(u.startswith(server) and "static" in u for u in requests), "no JS/CSS served by the app itself"
