"""The optimiser's study (sim.optimise.study): budget, front, determinism, resuming after a real kill, siting."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("optuna")

from sim.optimise.evaluate import HIGHER_IS_BETTER  # noqa: E402
from sim.optimise.study import load_study, optimise  # noqa: E402
from sim.optimise.summary import non_dominated  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Cameras cost 2 500 set-up (over 10 years) + 300 a year each: 550 yuan a year; the crackdown 7.68 M.
BUDGET = 35_000_000
#: A menu of six packages (five within budget: 60 000 cameras with the crackdown cost 40.7 M).
MENU = """\
extends: suizhou_baseline
name: tiny_menu
optimise:
  levers:
    video.cameras: {choices: [0, 20000, 60000]}
    crackdown.enabled: {choices: [false, true]}
  objectives: [preventable_cases, cost]
  posterior_draws: 1
  replicates: 2
  packages: 30
  population: 5
"""
SETTINGS = {"scale": 0.05, "warmup_days": 7, "seed": 1}
CLI = ["--budget", str(BUDGET), "--posterior", "none", "--scale", "0.05", "--warmup-days", "7", "--seed", "1",
       "--jobs", "2"]


@pytest.fixture(scope="module")
def menu(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("menu") / "tiny_menu.yaml"
    path.write_text(MENU)
    return path


@pytest.fixture(scope="module")
def uninterrupted(menu, tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    return optimise(menu, BUDGET, out, jobs=2, progress=False, **SETTINGS), out


def _front(result) -> list[tuple]:
    return [(json.dumps(p.levers, sort_keys=True), round(p.cost), round(p.scores["preventable_cases"].mean, 9))
            for p in result.front()]


@pytest.mark.slow
def test_every_front_package_is_within_budget_and_none_dominates_another(uninterrupted):
    result, _ = uninterrupted
    front = result.front()
    assert front and all(p.cost <= BUDGET for p in front)
    values = np.array([[p.scores["preventable_cases"].mean, p.cost] for p in front])
    assert non_dominated(values, [HIGHER_IS_BETTER["preventable_cases"], False]).all()
    over = [p for p in result.packages if not p.feasible]
    assert all(p.cost > BUDGET and not p.scores for p in over)  # over budget: never simulated


@pytest.mark.slow
def test_on_a_menu_small_enough_to_enumerate_the_optimiser_finds_the_true_front(uninterrupted):
    result, _ = uninterrupted
    scored = {(p.levers["video.cameras"], p.levers["crackdown.enabled"]): p for p in result.scored()}
    within = {(c, k) for c in (0, 20000, 60000) for k in (False, True) if c * 550 + 7_680_000 * k <= BUDGET}
    assert set(scored) == within  # every package within budget was scored...
    values = np.array([[p.scores["preventable_cases"].mean, p.cost] for p in scored.values()])
    true_front = {k for k, keep in zip(scored, non_dominated(values, [True, False]), strict=True) if keep}
    found = {(p.levers["video.cameras"], p.levers["crackdown.enabled"]) for p in result.front()}
    assert found == true_front  # ...and the front is the enumerated one


@pytest.mark.slow
def test_a_killed_study_resumes_to_the_same_front_without_repeating_a_simulation(menu, uninterrupted, tmp_path):
    result, _ = uninterrupted
    out = tmp_path / "killed"
    # Kill the process (SIGKILL, no clean-up) after its third package is scored: the rest of that
    # generation is asked and simulated but not yet told.
    script = textwrap.dedent(f"""
        import logging, os, signal
        from sim.optimise.study import optimise
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        scored = []
        def stop(package):
            scored.append(package)
            if len(scored) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        optimise({str(menu)!r}, {BUDGET}, {str(out)!r}, jobs=1, progress=False, after_package=stop, **{SETTINGS!r})
    """)
    # One process (jobs=1): worker processes orphaned by the kill would hold its pipes open.
    log = tmp_path / "killed.log"
    with open(log, "w") as f:
        code = subprocess.run([sys.executable, "-c", script], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode
    killed_log = log.read_text()
    assert code == -signal.SIGKILL, killed_log
    resumed = subprocess.run([sys.executable, "-m", "sim", "optimise", str(menu), *CLI, "--out", str(out)],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming 2 packages asked before the study stopped" in resumed.stderr
    # Simulations: the two processes together ran each stored simulation once.
    from sim.experiments.store import ResultsStore

    with ResultsStore(out / "store.sqlite") as store:
        total = store.count()
    first = sum(int(n) for n in re.findall(r"(\d+) simulations to run", killed_log))
    second = sum(int(n) for n in re.findall(r"(\d+) simulations to run", resumed.stderr))
    assert first > 0 and second > 0 and first + second == total
    again = load_study(menu, BUDGET, out, **SETTINGS).read()
    reference = load_study(menu, BUDGET, uninterrupted[1], **SETTINGS).read()
    assert _front(again) == _front(result) == _front(reference)  # same seed, same front, killed or not
    assert [p.number for p in again.packages] == [p.number for p in reference.packages]  # no package asked twice


@pytest.mark.slow
def test_a_location_model_places_a_packages_sites_on_the_simulated_city(menu, uninterrupted):
    _, out = uninterrupted
    study = load_study(menu, BUDGET, out, **SETTINGS)
    study.open()
    try:
        scenario, pkg = study.build({"rapid_response_points.count": 56, "rapid_response_points.siting": "p_median",
                                     "street_police_stations.count": 8, "street_police_stations.siting": "mclp"}, 0)
    finally:
        study.store.close()
    points = scenario.interventions.rapid_response_points
    assert points.placement == "given" and len(points.sites) == len(pkg.sites["rapid_response_points"]) == 3
    assert scenario.interventions.street_police_stations.placement == "given"
    assert pkg.siting["rapid_response_points"].startswith("p_median (greedy+swap, gap ")
    assert not set(pkg.sites["rapid_response_points"]) & set(pkg.sites["street_police_stations"])


@pytest.mark.slow
def test_the_report_is_one_offline_html_file_with_the_front_the_actual_package_and_robustness(uninterrupted, tmp_path):
    from sim.optimise.report import study_report

    result, out = uninterrupted
    result.write(out)
    for name in ("packages.csv", "front.csv", "robustness.csv", "actual.csv"):
        assert (out / name).is_file()
    page = study_report(result, tmp_path / "front.html").read_text()
    for heading in ("The front", "The city's actual package against the front", "Robustness across posterior draws"):
        assert heading in page
    assert "data:image/png;base64," in page and "http://" not in page and "https://" not in page
    assert "cameras" in page  # packages in words
    # figures through sim.presentation: counts labelled with their sample, costs the whole city's, no 1e+07
    assert "preventable cases prevented [per year, 5 % sample], mean [95 % interval]" in page
    assert "annual cost [million yuan per year, whole city]" in page
    assert "Counts are for the simulated 5 % sample of the city" in page
    text = re.sub(r"<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", page)
    assert not re.search(r"\d[eE][+-]?\d", text)


@pytest.mark.slow
def test_the_study_folder_reads_back_as_the_tables_the_command_line_printed(uninterrupted, tmp_path):
    from sim.optimise.summary import read_study
    from sim.presentation import front_rows

    result, out = uninterrupted
    result.write(out)
    read = read_study(out / "front.csv")  # a file of the folder names the folder
    tables = result.tables()
    assert read.text() == result.text()
    assert front_rows(read.front, read.objectives, read.sample) == front_rows(tables.front, tables.objectives,
                                                                              tables.sample)
    assert "kept as the scenario has them" not in read.text()  # every intervention of the menu's city has a lever
    assert read.actual_row()["contents"] == "nothing"  # suizhou_baseline buys nothing
