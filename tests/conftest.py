"""Shared fixtures: small cities, a stand-in guardian state, and cached simulation runs.

Simulation runs are expensive, so they are cached for the whole session and shared across
test modules: a run is identified by its scenario, ``--set`` overrides, seed, scale and
length. Tests must treat the models they get as read-only.

Two kinds of run:

* :func:`simulate` — one counted year in which interventions are on from its first hour
  (``run.intervention_year`` = the first year), stepped for ``days`` counted days after a
  one-week warm-up. Offences and clearances are tallied per cell along the way
  (``run.true_offences``, ``run.cleared``), which the year rows do not break down.
* :func:`two_years` — a full two-year run (baseline year, then the intervention year),
  the way the shipped scenarios are meant to be run.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import sim.model
import sim.space.city
from sim import PinganModel, load_scenario
from sim.agents.residents import build_residents
from sim.mechanisms.crime_types import CRIME_TYPES
from sim.scenario.schema import Scenario
from sim.space.city import build_city

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DIR = ROOT / "scenarios"
SCALE = 0.05
WARMUP_DAYS = 7


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail loudly if anything starts building a city or a model (for tests of what happens before any run)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a simulation was started")

    monkeypatch.setattr(sim.model.PinganModel, "__init__", refuse)
    monkeypatch.setattr(sim.space.city, "build_city", refuse)
    monkeypatch.setattr(sim.model, "build_city", refuse)


@pytest.fixture(scope="session")
def pingan_script() -> Path:
    """The ``pingan`` console script that installing the project (README's quick start) put beside Python."""
    script = Path(sysconfig.get_path("scripts")) / ("pingan.exe" if os.name == "nt" else "pingan")
    assert script.is_file(), f"no console script {script}: install the project as the README says (pip install -e .)"
    return script


#: ``pingan`` with a test hook: after the results store has committed ``PAUSE_AFTER`` runs in this
#: process, it writes that number to ``SIGNAL_FILE`` and waits there until it is killed. A test that
#: kills a command mid-batch waits for the file (an event it controls), not for a race it may lose.
PAUSING_PINGAN = """
import sys, time
from pathlib import Path
from sim.cli import main
from sim.experiments.store import ResultsStore

pause_after, signal_file = int(sys.argv[1]), Path(sys.argv[2])
put, stored = ResultsStore.put, []

def put_then_pause(self, record, **kwargs):
    done = put(self, record, **kwargs)
    stored.append(record.run_id)
    if len(stored) == pause_after:
        signal_file.write_text(str(len(stored)))
        while True:  # the test kills the process group here
            time.sleep(60)
    return done

ResultsStore.put = put_then_pause
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture
def paused_pingan(tmp_path):
    """Start ``pingan ARGS`` in its own process group, paused after ``after`` committed runs.

    Returns a function ``start(args, after, cwd) -> Popen`` that returns once the command has
    paused (it fails if the command ends first or does not pause within ``timeout`` seconds).
    """
    def start(args: list[str], after: int, cwd: Path = ROOT, timeout: float = 600) -> subprocess.Popen:
        n = len(list(tmp_path.glob("paused-*.err")))
        signal_file, err = tmp_path / f"paused-{n}", tmp_path / f"paused-{n}.err"
        with err.open("w") as err_file:  # a file, not a pipe: a chatty command cannot block on it
            proc = subprocess.Popen([sys.executable, "-c", PAUSING_PINGAN, str(after), str(signal_file), *args],
                                    cwd=cwd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=err_file)
        deadline = time.monotonic() + timeout
        while not signal_file.exists():
            if proc.poll() is not None:
                raise AssertionError(f"pingan {args} ended before pausing: {err.read_text()}")
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(f"pingan {args} did not pause within {timeout} s")
            time.sleep(0.05)
        return proc
    return start


@dataclass
class Run:
    """A finished (or partly run) model and per-cell tallies of its counted period."""

    model: PinganModel
    true_offences: np.ndarray  # offences committed per cell (recorded or not)
    cleared: np.ndarray  # cases cleared per cell (by the offence's cell)

    @property
    def row(self) -> dict:
        """Metrics of the first counted year (so far)."""
        return self.model.year_rows()[0]


def _instrument(model: PinganModel) -> Run:
    """Wrap the model's offending so that offences and arrests are tallied per cell."""
    run = Run(model, np.zeros(model.city.n_cells), np.zeros(model.city.n_cells))
    offending = model.offending
    step, arrest = offending.step, offending.arrest

    def counted_step(hour, hour_of_week, state):
        off = step(hour, hour_of_week, state)
        if hour >= model.warmup_hours:
            np.add.at(run.true_offences, off.cell, 1)
        return off

    def counted_arrest(slots, cells, hour):
        if hour >= model.warmup_hours:
            np.add.at(run.cleared, cells, 1)
        return arrest(slots, cells, hour)

    offending.step = counted_step
    offending.arrest = counted_arrest
    return run


@functools.cache
def _simulate(overrides: tuple[str, ...], seed: int, scale: float, days: int, scenario: str) -> Run:
    s = load_scenario(scenario, [f"run.warmup_days={WARMUP_DAYS}", "run.years=1", "run.first_year=2021",
                                 "run.intervention_year=2021", *overrides])
    model = PinganModel(s, seed=seed, scale=scale)
    run = _instrument(model)
    for _ in range((WARMUP_DAYS + days) * 24):
        model.step()
    return run


def simulate_run(*overrides: str, seed: int = 1, scale: float = SCALE, days: int = 182,
                 scenario: str = "suizhou_baseline") -> Run:
    """A cached run of ``days`` counted days with interventions on from the first counted hour."""
    return _simulate(tuple(overrides), seed, scale, days, scenario)


@functools.cache
def _two_years(scenario: str, overrides: tuple[str, ...], seed: int, scale: float) -> PinganModel:
    model = PinganModel(load_scenario(scenario, [f"run.warmup_days={WARMUP_DAYS}", *overrides]),
                        seed=seed, scale=scale)
    model.run()
    return model


def two_years_run(scenario: str, *overrides: str, seed: int = 1, scale: float = SCALE) -> PinganModel:
    """A cached full run of a scenario (two counted years; interventions in the second)."""
    return _two_years(scenario, tuple(overrides), seed, scale)


@pytest.fixture(scope="session")
def simulate():
    """``simulate(*overrides, seed=1, scale=0.05, days=182, scenario=...)`` -> :class:`Run`."""
    return simulate_run


@pytest.fixture(scope="session")
def two_years():
    """``two_years(scenario, *overrides, seed=1, scale=0.05)`` -> finished model."""
    return two_years_run


@pytest.fixture(scope="session")
def default_scenario() -> Scenario:
    """Every default: a Suizhou-like city, no interventions."""
    return Scenario.model_validate({})


@pytest.fixture(scope="session")
def city_and_residents(default_scenario):
    """A Suizhou-like city at scale 0.2 (about 410 000 residents) and its residents."""
    city = build_city(default_scenario.city, 0.2)
    return city, build_residents(city, default_scenario.residents)


@pytest.fixture
def fresh_residents(city_and_residents):
    """A copy of the shared residents (offending writes victimisations into them)."""
    _, residents = city_and_residents
    copies = {f.name: getattr(residents, f.name).copy() for f in dataclasses.fields(residents)
              if isinstance(getattr(residents, f.name), np.ndarray)}
    return dataclasses.replace(residents, **copies)


def make_state(n_cells: int, **arrays) -> SimpleNamespace:
    """A stand-in for the model's guardian levers, as read by :class:`sim.mechanisms.offending.Offending`.

    Every lever is zero unless given.
    """
    n_types = len(CRIME_TYPES)
    state = SimpleNamespace(
        patrol_presence=np.zeros(n_cells), posts=np.zeros(n_cells), extra_guardians=np.zeros(n_cells),
        type_guardians=np.zeros((n_types, n_cells)), cameras=np.zeros(n_cells), type_deterrence=np.zeros(n_types),
    )
    for key, value in arrays.items():
        setattr(state, key, value)
    return state


@pytest.fixture(scope="session")
def guardian_state():
    """``guardian_state(n_cells, **levers)`` -> a stand-in guardian state (see :func:`make_state`)."""
    return make_state


def rows_equal(a: dict, b: dict, keys=None) -> list[str]:
    """Keys whose values differ between two metric rows (NaN equals NaN)."""
    keys = keys if keys is not None else sorted(set(a) | set(b))
    bad = []
    for k in keys:
        x, y = a.get(k), b.get(k)
        same = x == y or (isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y))
        if not same:
            bad.append(f"{k}: {x!r} != {y!r}")
    return bad


@pytest.fixture(scope="session")
def differing_keys():
    """``differing_keys(row_a, row_b, keys=None)`` -> list of 'key: a != b' strings."""
    return rows_equal
