"""Bad input through the command line: every case is one line on stderr naming the file
or option and what was expected, exit status 2, no traceback, before any simulation starts, and
nothing written — not even the output folder.

The cases are those a fuzzing probe found; each is fixed where the input is read (the schema,
the YAML reader, the sweep and store loaders, the argument types), and tested here end to end.
"""

from __future__ import annotations

import os
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


def test_the_installed_entry_point_prints_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: suizhou_2022\nname: ../../x\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-m", "sim", "run", str(bad), "-q"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"pingan: {bad}: key 'name': expected a plain name of at most 100 letters, digits, '_', '-' or '.' "
        "(not starting with '.' or '-', no '..'), not a path: it names the output folder results/NAME; "
        "got '../../x'"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
