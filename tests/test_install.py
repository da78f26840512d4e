"""Installation: the built-in scenarios, sweeps and calibration inputs ship inside the
package, found through ``importlib.resources`` whether installed from a wheel or from a checkout.

One test builds the wheel, installs it into a folder of its own (``pip install --target``, no
dependencies: this venv's are reused) and runs ``pingan`` from an empty folder with only that
wheel's ``sim`` importable (about 20 s on 2 cores: building the wheel is most of it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sim
from sim._data import data_file, data_folder
from sim.calibration.targets import default_input
from sim.experiments.sweep import SWEEP_DIR, load_sweep
from sim.scenario import builtin_scenarios, load_scenario

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*(f"scenarios/{p.name}" for p in (REPO / "scenarios").glob("*.yaml")),
                  *(f"scenarios/sweeps/{p.name}" for p in (REPO / "scenarios" / "sweeps").glob("*.yaml")),
                  "calibration/targets.csv", "calibration/priors.yaml"])


def test_the_shipped_folders_are_found_through_the_package():
    assert {p.name for p in data_folder("scenarios").glob("*.yaml")} == {
        Path(f).name for f in SHIPPED if f.count("/") == 1 and f.startswith("scenarios/")}
    assert data_folder("scenarios/sweeps") == SWEEP_DIR
    assert set(builtin_scenarios()) >= {"suizhou_2022", "suizhou_baseline"}
    assert data_file("calibration", "targets.csv").is_file()
    assert data_file("calibration", "priors.yaml").is_file()


def test_only_shipped_folders_can_be_asked_for():
    with pytest.raises(ValueError, match="not a shipped folder"):
        data_folder("../etc")


def test_calibration_inputs_default_to_the_packaged_copies_outside_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_input("targets.csv") == data_file("calibration", "targets.csv")
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "targets.csv").write_text("city\n")
    assert default_input("targets.csv") == Path("calibration/targets.csv")  # the working folder's own wins


def test_built_in_scenarios_and_sweeps_load_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_scenario("suizhou_2022").name == "suizhou_2022"
    assert load_sweep("smoke").name == "smoke"


def test_the_package_is_typed():
    assert (Path(sim.__file__).parent / "py.typed").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(out)],
                       capture_output=True, text=True, timeout=600, check=False)
    if r.returncode != 0 and "No matching distribution" in r.stderr:  # setuptools not reachable for the build
        pytest.skip(f"cannot build a wheel here: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr
    (path,) = out.glob("pingan-*.whl")
    return path


def test_the_wheel_holds_the_data_files_and_py_typed_but_no_results(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"sim/_data/{f}" for f in SHIPPED} <= names
    assert "sim/py.typed" in names and "sim/__main__.py" in names
    assert not [n for n in names if "results" in n.split("/")[:-1] or n.endswith(".sqlite")]


def test_pingan_runs_from_an_empty_folder_with_only_the_wheel_installed(wheel, tmp_path):
    target, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}  # before site-packages, where the editable install is

    def pingan(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sim", *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600, check=False)

    where = subprocess.run([sys.executable, "-c", "import sim._data as d; print(d.data_folder('scenarios'))"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == target / "sim" / "_data" / "scenarios"
    r = pingan("run", "--scale", "0.02", "--replicates", "1", "--jobs", "1", "--no-plots", "-q",
               "--set", "run.years=1", "--set", "run.warmup_days=2", "--out", str(work / "x"))
    assert r.returncode == 0, r.stderr
    assert "suizhou_2022" in r.stdout and (work / "x" / "summary.csv").is_file()
    assert pingan("calibrate", "--help").returncode == 0
    assert pingan("--version").stdout.strip() == f"pingan {sim.__version__}"
    assert sorted(p.name for p in work.iterdir()) == ["x"]
