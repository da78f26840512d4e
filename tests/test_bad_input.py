"""Bad input through the command line: every case is one line on stderr naming the file
or option and what was expected, exit status 2, no traceback, before any simulation starts, and
nothing written — not even the output folder.

The cases are those a fuzzing probe found; each is fixed where the input is read (the schema,
the YAML reader, the sweep and store loaders, the argument types), and tested here end to end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim.experiments.runner
import sim.model
from sim.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working folder; any simulation started fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation was started")

    monkeypatch.setattr(sim.model.PinganModel, "__init__", refuse)
    monkeypatch.setattr(sim.experiments.runner, "run_one", refuse)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


def _refused(workdir: Path, capsys, argv: list[str], status: int = 2) -> str:
    """Run the CLI; check it refused with one line and wrote nothing. Returns that line."""
    before = _files(workdir)
    assert main(argv) == status
    out, err = capsys.readouterr()
    assert _files(workdir) == before, "a file or folder was written"
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


SCENARIO_FILES = {  # file text -> what the one-line error says
    "name_dots": ("extends: suizhou_2022\nname: ../../x\n", "key 'name': expected a plain name"),
    "name_absolute": ("extends: suizhou_2022\nname: /tmp/x\n", "key 'name': expected a plain name"),
    "probability": ("extends: suizhou_2022\ncalls:\n  report_prob:\n    theft: 1.5\n",
                    "key 'calls.report_prob.theft': expected less than or equal to 1 (got 1.5)"),
    "cameras": ("extends: suizhou_2022\ninterventions:\n  video:\n    cameras: 1000000000000000\n",
                "key 'interventions.video.cameras': expected less than or equal to 10000000"),
    "stations": ("extends: suizhou_2022\ninterventions:\n  street_police_stations:\n    count: 1000000000\n",
                 "key 'interventions.street_police_stations.count': expected less than or equal to 10000"),
    "warmup": ("extends: suizhou_2022\nrun:\n  warmup_days: 100000000\n",
               "key 'run.warmup_days': expected less than or equal to 3650"),
    "population": ("extends: suizhou_2022\ncity:\n  population: 100000000000\n",
                   "key 'city.population': expected less than or equal to 50000000"),
    "infinity": ("extends: suizhou_2022\nclearance:\n  camera_log_odds: .inf\n",
                 "key 'clearance.camera_log_odds': expected a finite number"),
    "nan": ("extends: suizhou_2022\ncrime:\n  displacement_prob: .nan\n",
            "key 'crime.displacement_prob': expected a finite number"),
    "duplicated": ("extends: suizhou_2022\nrun:\n  years: 1\nrun:\n  years: 2\n",
                   "line 4, column 1: key 'run' appears twice (first at line 2)"),
    "empty": ("", "the file has no keys"),
    "deep": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 32 levels"),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_FILES))
def test_a_bad_scenario_file_is_refused_before_any_work(workdir, capsys, case):
    text, expected = SCENARIO_FILES[case]
    path = workdir / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    line = _refused(workdir, capsys, ["run", str(path), "--out", str(workdir / "out"), "-q"])
    assert line.startswith(f"pingan: {path}: ") and expected in line


@pytest.mark.parametrize("content, expected", [
    ("name: café\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at line 1)"),
    (bytes(range(256)), "a binary file"),
])
def test_a_non_utf8_or_binary_scenario_file_is_refused(workdir, capsys, content, expected):
    path = workdir / "bad.yaml"
    path.write_bytes(content)
    line = _refused(workdir, capsys, ["compare", "suizhou_baseline", str(path), "-q"])
    assert line.startswith(f"pingan: {path}: ") and expected in line


def test_validate_reports_a_bad_file_without_a_traceback(workdir, capsys):
    path = workdir / "dup.yaml"
    path.write_text(SCENARIO_FILES["duplicated"][0], encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "appears twice" in err and "Traceback" not in err


def test_a_sweep_of_ten_billion_runs_is_refused_up_front(workdir, capsys):
    path = workdir / "huge.yaml"
    path.write_text("name: huge\nscenarios: [suizhou_baseline]\nreplicates: 10\nfactors:\n"
                    "  crime.displacement_prob: {range: [0.1, 0.5], levels: 1000}\n"
                    "  calls.record_prob: {range: [0.1, 0.9], levels: 1000}\n"
                    "  clearance.camera_log_odds: {range: [0.1, 0.9], levels: 1000}\n", encoding="utf-8")
    line = _refused(workdir, capsys, ["sweep", str(path), "-q"])
    assert "10,000,000,000 runs" in line and "expected at most 100,000" in line and "--max-runs" in line


def test_a_sweep_with_a_duplicated_factor_is_refused(workdir, capsys):
    path = workdir / "dup.yaml"
    path.write_text("name: dup\nscenarios: [suizhou_baseline]\nfactors:\n"
                    "  crime.displacement_prob: {values: [0.1]}\n"
                    "  crime.displacement_prob: {values: [0.3]}\n", encoding="utf-8")
    line = _refused(workdir, capsys, ["sweep", str(path), "-q"])
    assert "key 'crime.displacement_prob' appears twice (first at line 4)" in line


def test_a_sweep_named_as_a_path_is_refused(workdir, capsys):
    path = workdir / "up.yaml"
    path.write_text("name: ../../up\nscenarios: [suizhou_baseline]\n", encoding="utf-8")
    line = _refused(workdir, capsys, ["sweep", str(path), "-q"])
    assert "key 'name': expected a plain name" in line


@pytest.mark.parametrize("argv, expected", [
    (["run", "--seed", "-1"], "argument --seed: expected a seed from 0 to 2**63 - 1, got -1"),
    (["run", "--seed", "x"], "argument --seed: expected a whole number, got 'x'"),
    (["run", "--jobs", "0"], "argument --jobs/-j: expected a number of workers ≥ 1, or -1 for one per core"),
    (["run", "--jobs", "-2"], "argument --jobs/-j: expected a number of workers ≥ 1, or -1 for one per core"),
    (["sweep", "smoke", "--jobs", "0"], "argument --jobs/-j: expected a number of workers"),
    (["run", "--scale", "nan"], "argument --scale: expected a fraction of the city, 0 < F ≤ 1"),
    (["run", "--backend", "dask"], "--backend dask needs --scheduler ADDRESS"),
    (["sweep", "smoke", "--backend", "dask"], "--backend dask needs --scheduler ADDRESS"),
    (["calibrate", "--backend", "dask"], "--backend dask needs --scheduler ADDRESS"),
    (["run", "--scheduler", "tcp://h:8786"], "--scheduler is only used with --backend dask"),
    (["sweep", "smoke", "--max-runs", "0"], "argument --max-runs: expected a whole number ≥ 1"),
])
def test_bad_options_are_refused_by_the_parser(workdir, capsys, argv, expected):
    before = _files(workdir)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expected in err.strip().splitlines()[-1] and "Traceback" not in err
    assert _files(workdir) == before


def test_jobs_minus_one_means_one_per_core():
    from sim.cli import build_parser

    assert build_parser().parse_args(["run", "--jobs", "-1"]).jobs == -1


def test_out_pointing_to_a_file_is_refused(workdir, capsys):
    target = workdir / "afile"
    target.write_text("keep me")
    with pytest.raises(SystemExit):
        main(["run", "--out", str(target), "-q"])
    assert "--out " + str(target) + ": is a file; expected a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("command", [["run", "suizhou_baseline"], ["sweep", "smoke"]])
def test_a_corrupted_store_in_the_output_folder_is_refused_and_kept(workdir, capsys, command):
    out = workdir / "out"
    out.mkdir()
    (out / "store.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    line = _refused(workdir, capsys, [*command, "--out", str(out), "-q"])
    assert line.startswith(f"pingan: {out / 'store.sqlite'}: not a readable results store (")
    assert "Move it aside" in line


def test_results_of_a_truncated_store_is_a_clear_error(workdir, capsys):
    path = workdir / "store.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + bytes(80))
    line = _refused(workdir, capsys, ["results", str(path)])
    assert line.startswith(f"pingan: {path}: not a readable results store")


def test_the_installed_entry_point_prints_no_traceback(tmp_path, pingan_script):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: suizhou_2022\nname: ../../x\n", encoding="utf-8")
    r = subprocess.run([str(pingan_script), "run", str(bad), "-q"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"pingan: {bad}: key 'name': expected a plain name of at most 100 letters, digits, '_', '-' or '.' "
        "(not starting with '.' or '-', no '..'), not a path: it names the output folder results/NAME; "
        "got '../../x'"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


# ---- reliability, part two: the probes of an adversarial user, with their exact inputs ------------------

PROBE_HEAD = "extends: suizhou_baseline\nrun: {warmup_days: 7, years: 1}\n"
PROBE_ARGS = ["--scale", "0.05", "-r", "1", "-j", "1", "-q"]


def _probe(workdir: Path, capsys, name: str, text: str, extra: list[str] = ()) -> str:
    """Run a probe scenario file as the probe did; it must be refused, on stderr only, before any work."""
    path = workdir / f"{name}.yaml"
    path.write_text(PROBE_HEAD + text, encoding="utf-8")
    before = _files(workdir)
    assert main(["run", str(path), *PROBE_ARGS, *extra]) == 2
    out, err = capsys.readouterr()
    assert _files(workdir) == before, "a file or folder was written"
    assert "Traceback" not in err and out == ""
    return err.strip()


# Values the schema allowed, which crashed the city builder or exhausted memory. Each is now bounded
# by what the model means, and the message names the file, the key and the bound.
ALLOWED_EXTREMES = {
    "cell_size": ("city: {cell_size_km: 0.000001}", "key 'city.cell_size_km': expected greater than or equal to 0.1"),
    "attractors": ("city: {attractor_sites_per_100k: 1000000000}",
                   "key 'city.attractor_sites_per_100k': expected less than or equal to 1000"),
    "density": ("city: {urban_density_per_km2: 0.0001}",
                "key 'city.urban_density_per_km2': expected greater than or equal to 100"),
    "disputes": ("disputes: {per_1000_households_year: {neighbour: 1000000000}}",
                 "key 'disputes.per_1000_households_year.neighbour': expected less than or equal to 1000"),
    "street": ("city: {residents_per_street: 1}", "key 'city.residents_per_street': expected greater than or equal "
               "to 1000"),
}


@pytest.mark.parametrize("case", sorted(ALLOWED_EXTREMES))
def test_an_extreme_value_the_schema_allowed_is_refused_naming_its_bound(workdir, capsys, case):
    text, expected = ALLOWED_EXTREMES[case]
    line = _probe(workdir, capsys, case, text + "\n")
    assert len(line.splitlines()) == 1 and line.startswith(f"pingan: {workdir / case}.yaml: ") and expected in line


@pytest.mark.parametrize("key, bound", [
    ("policing.units_per_100k_residents", "less than or equal to 1000"),  # a billion units crashed
    ("policing.existing_cameras_per_1000", "less than or equal to 1000"),
    ("crime.attempts_per_offender_year", "less than or equal to 8760"),
    ("calls.non_crime_per_1000_year.public_order", "less than or equal to 10000"),  # ran for hours
    ("interventions.grid_workers.workers_per_grid", "less than or equal to 20"),
    ("interventions.grid_workers.visits_per_worker_day", "less than or equal to 100"),  # asked for 3.4 GiB
    ("interventions.grid_workers.other_items_per_1000_visits", "less than or equal to 1000"),
])
def test_a_rate_that_makes_agents_or_events_is_bounded(workdir, capsys, key, bound):
    line = _refused(workdir, capsys, ["run", "suizhou_baseline", "--set", f"{key}=1.0e+9", "-q"])
    assert line.startswith(f"pingan: --set {key}: key '{key}': expected {bound}")


def test_towns_and_villages_beyond_any_county_are_refused_naming_both_keys(workdir, capsys):
    err = _probe(workdir, capsys, "towns", "city: {towns_per_county: 10000, villages_per_town: 1000}\n")
    assert "key 'city.towns_per_county': expected less than or equal to 1000" in err
    assert "key 'city.villages_per_town': expected less than or equal to 500" in err


def test_a_street_smaller_than_one_cell_is_refused(workdir, capsys):
    err = _probe(workdir, capsys, "street_cell", "city: {residents_per_street: 5000, urban_density_per_km2: 100000}\n")
    assert "city.residents_per_street=5000: expected at least the residents of one urban cell" in err


def test_towns_and_villages_that_do_not_fit_the_city_are_refused_before_it_is_built(workdir, capsys):
    # Each value within its bound, but 1.5 million village cells on a map of 39 000.
    err = _probe(workdir, capsys, "crowded", "city: {towns_per_county: 1000, villages_per_town: 500}\n",
                 ["--scale", "1"])
    assert len(err.splitlines()) == 1
    assert "the city needs up to 1,503,292 cells but its area at scale 1 holds 38,809 cells of 0.5 km" in err


def test_a_run_larger_than_the_memory_available_is_refused_with_the_estimate(workdir, capsys, monkeypatch):
    import sim.experiments.resources as resources

    monkeypatch.setattr(resources, "available_memory", lambda: 2 * 2**30)
    err = _probe(workdir, capsys, "big", "city: {population: 50000000, area_km2: 300000.0, cell_size_km: 0.1}\n",
                 ["--scale", "1"])
    assert len(err.splitlines()) == 1
    assert re.search(r"big: a run at scale 1 needs about 1\d\.\d GiB of memory \(cells: 5\.66 GiB, set by "
                     r"city\.cell_size_km, city\.urban_density_per_km2, .*\) \+ [\d.]+ MiB of results kept = "
                     r"1\d\.\d GiB; this machine has 2 GiB available\. Lower --scale or those values$", err), err


def test_several_workers_count_in_the_memory_needed(workdir, capsys, monkeypatch):
    import sim.experiments.resources as resources

    monkeypatch.setattr(resources, "available_memory", lambda: 2 * 2**30)
    err = _probe(workdir, capsys, "wide", "city: {population: 5000000}\n", ["--scale", "1", "-r", "4", "-j", "4"])
    assert "× 4 workers at once" in err and "Lower --scale, --jobs or those values" in err


def _alias_bomb(levels: int = 9, repeat: int = 10) -> str:
    """Nine levels of aliases, each repeated ten times: 441 bytes that expand to 10⁹ values."""
    lines = ['a: &a [l]']
    for i in range(1, levels + 1):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * repeat) + "]")
    return PROBE_HEAD + "\n".join(lines) + f"\ncrime: {{displacement_prob: *{chr(97 + levels)}}}\n"


def test_a_yaml_alias_bomb_is_refused_at_once_without_echoing_it(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    assert path.stat().st_size == 441

    def limit_memory():  # a regression fails with MemoryError in seconds, not after minutes of swapping
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    r = subprocess.run([sys.executable, "-m", "sim", "run", str(path), *PROBE_ARGS], cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120,
                       check=False, preexec_fn=limit_memory)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"pingan: {path}: line 7, column 17: aliases (*name) expand to more than 10,000 values; expected plain "
        "data with few aliases (write the values out)"]


def test_an_error_quotes_a_short_excerpt_of_a_long_value(workdir, capsys):
    err = _probe(workdir, capsys, "long", "name: " + "x" * 100_000 + "\n")
    assert "key 'name': expected a plain name" in err and len(err) < 400


def test_a_million_replicates_are_refused_before_any_task_is_built(workdir, capsys):
    before = _files(workdir)
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--replicates", "1000000"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --replicates/-r: expected at most 10,000 replicates (as in a sweep), got 1000000" in err
    assert _files(workdir) == before


def _posterior(workdir: Path, text: str) -> Path:
    path = workdir / "p.csv"
    path.write_text(text, encoding="utf-8")
    return path


POSTERIORS = {  # posterior file -> what the one-line error says
    "name": ("weight,name\n1,2\n", "column 'name': expected a number-valued parameter of scenario "
             "'suizhou_baseline', but it holds text"),
    "description": ("weight,description\n1,2\n", "column 'description': expected a number-valued parameter"),
    "section": ("weight,crime\n1,2\n", "column 'crime': expected a number-valued parameter of scenario "
                "'suizhou_baseline', but it holds a section of parameters"),
    "switch": ("weight,interventions.video.enabled\n1,1\n", "but it holds true or false"),
    "fractional_count": ("weight,interventions.video.cameras\n1,1000\n1,1000.5\n",
                         "row 3, column 'interventions.video.cameras': expected a whole number"),
    "out_of_range": ("weight,crime.displacement_prob\n1,0.3\n1,1.5\n", "row 3: column 'crime.displacement_prob': "
                     "expected less than or equal to 1 (got 1.5) in scenario 'suizhou_baseline'"),
    "daily_hazard": ("weight,disputes.escalation_per_day[1]\n1,-0.5\n",
                     "row 2: column 'disputes.escalation_per_day[1]': expected greater than or equal to 0"),
    "nan_weight": ("weight,crime.displacement_prob\nnan,0.3\n", "column 'weight', row 2: expected a finite number, "
                   "got nan"),
    "negative_weight": ("weight,crime.displacement_prob\n-1,0.3\n1,0.2\n",
                        "column 'weight', row 2: expected a non-negative weight, got -1"),
    "zero_weights": ("weight,crime.displacement_prob\n0,0.3\n0,0.2\n", "column 'weight': every weight is 0"),
}


@pytest.mark.parametrize("case", sorted(POSTERIORS))
def test_a_posterior_file_is_checked_row_by_row_before_any_run(workdir, capsys, case):
    text, expected = POSTERIORS[case]
    path = _posterior(workdir, text)
    line = _refused(workdir, capsys, ["run", "suizhou_baseline", "--scale", "0.05", "-r", "1", "--posterior",
                                      str(path), "--out", str(workdir / "out"), "-q"])
    assert line.startswith(f"pingan: {path}: ") and expected in line


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_bad_posterior_row_is_refused_whichever_seed_would_draw_it(workdir, capsys, seed):
    path = _posterior(workdir, "weight,crime.displacement_prob\n1,0.3\n1,1.5\n")
    line = _refused(workdir, capsys, ["run", "suizhou_baseline", "--scale", "0.05", "-r", "1", "--seed", str(seed),
                                      "--posterior", str(path), "-q"])
    assert "row 3: column 'crime.displacement_prob'" in line


@pytest.mark.parametrize("text, key, value", [
    ("weight,run.years\n1,2\n", "run.years", 2),
    ("weight,interventions.video.cameras\n1,1000\n", "interventions.video.cameras", 1000),
])
def test_a_posterior_may_set_a_whole_number_setting(workdir, text, key, value):
    from sim.calibration.posterior import load_posterior, with_parameters
    from sim.calibration.targets import parameter_value
    from sim.scenario import load_scenario

    post = load_posterior(_posterior(workdir, text))
    scenario = load_scenario("suizhou_baseline")
    post.check(scenario)
    got = parameter_value(with_parameters(scenario, post.draw(1, 0)), key)
    assert got == value and type(got) is int


def test_the_fast_path_gives_the_scenario_the_set_overrides_give():
    import json

    from sim.calibration.posterior import load_posterior, with_parameters
    from sim.calibration.targets import prior_overrides
    from sim.scenario import Scenario, load_scenario
    from sim.scenario.loader import apply_overrides

    post = load_posterior(REPO / "calibration" / "results" / "main" / "posterior.csv")
    scenario = load_scenario("daqing_2021")
    for row in post.values[:50]:
        values = dict(zip(post.keys, map(float, row), strict=True))
        slow = apply_overrides(json.loads(scenario.model_dump_json()), prior_overrides(scenario, values))
        assert with_parameters(scenario, values).model_dump_json() == \
            Scenario.model_validate_json(json.dumps(slow)).model_dump_json()


def test_serve_with_a_bad_host_is_one_line_not_a_traceback(workdir, capsys):
    pytest.importorskip("panel")
    assert main(["serve", "--host", "999.1.1.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["pingan: --host 999.1.1.1: not an address of this machine (Name or service not known); expected "
                   "e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"]


def test_serve_on_a_port_in_use_is_one_line_not_a_traceback(workdir, capsys):
    import socket

    pytest.importorskip("panel")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"pingan: --port {port}: already in use on 127.0.0.1 (another pingan serve?); give another "
                   "--port, or --port 0 for a free one"]


HOLD_LOCK = """
import sys
from sim.experiments.folder_lock import FolderLock
lock = FolderLock(sys.argv[1]).acquire()
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin
"""


def test_a_second_run_into_a_folder_another_run_holds_is_refused_naming_it(workdir, capsys):
    out = workdir / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        line = _refused(workdir, capsys, ["run", "suizhou_baseline", "--scale", "0.1", "-r", "1", "--out", str(out),
                                          "-q"])
        assert line.startswith(f"pingan: {out}: another pingan command is writing into this folder (pid "
                               f"{holder.pid}, started ")
        assert "wait for it to finish, or give another --out" in line
    finally:
        holder.communicate("", timeout=60)
    # The holder has ended: the folder is free, and the next run gets as far as simulating.
    with pytest.raises(AssertionError, match="a simulation was started"):
        main(["run", "suizhou_baseline", "--scale", "0.05", "-r", "1", "--out", str(out), "-q"])


def test_a_folder_lock_is_released_when_its_holder_is_killed(tmp_path):
    from sim.experiments.folder_lock import FolderBusy, FolderLock

    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(FolderBusy, match=f"pid {holder.pid}"):
        FolderLock(tmp_path).acquire()
    holder.kill()
    holder.communicate(timeout=60)
    with FolderLock(tmp_path) as lock:
        assert lock.held


def test_results_never_write_to_a_file_that_is_not_a_results_store(workdir, capsys):
    import sqlite3

    empty = workdir / "empty.sqlite"
    empty.write_bytes(b"")
    other = workdir / "other.sqlite"
    con = sqlite3.connect(other)  # another program's empty database: a header page, no tables
    con.execute("CREATE TABLE t (x)")
    con.execute("DROP TABLE t")
    con.close()
    before = other.read_bytes()
    line = _refused(workdir, capsys, ["results", str(empty)])
    assert line == (f"pingan: {empty}: an empty file, not a results store (a store is created where no file exists); "
                    "move it aside or give another --out/--store file")
    line = _refused(workdir, capsys, ["results", str(other)])
    assert line.startswith(f"pingan: {other}: a SQLite database without the results store's tables (it has none)")
    assert empty.read_bytes() == b"" and other.read_bytes() == before


def test_the_explorers_open_results_never_writes_to_a_file_that_is_not_a_results_store(workdir):
    import sqlite3

    from sim.app.session import ResultsFileError, open_results

    empty = workdir / "empty.sqlite"
    empty.write_bytes(b"")
    other = workdir / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.execute("DROP TABLE t")
    con.close()
    before = other.read_bytes()
    for path in (empty, other):
        with pytest.raises(ResultsFileError, match="not a readable results store"):
            open_results(path)
    assert empty.read_bytes() == b"" and other.read_bytes() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["empty.sqlite", "other.sqlite"]
