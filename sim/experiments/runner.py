"""The experiment runner: one engine for runs, comparisons, sweeps and calibration.

A :class:`Task` is one run: a scenario's content, a design point, a replicate and its seed,
a scale, and a run id derived from all of them. :func:`run_tasks` runs tasks on local
processes (joblib/loky) or on an existing Dask cluster (joblib's Dask backend), commits each
finished run to the results store the moment it arrives, skips runs the store already has
(so an interrupted batch resumes where it stopped), and hands results back in task order.

Replicate ``r`` of a batch with base seed ``S`` uses the seed :func:`replicate_seed(S, r)`
in every scenario and at every design point, so they are compared under common random
numbers. Runs are independent, so results do not depend on the backend or the number of
workers.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim._data import install_hint
from sim.agents.residents import build_residents
from sim.csv_output import write_csv
from sim.metrics import CORE_METRICS
from sim.model import PinganModel
from sim.observers import Observer
from sim.scenario.schema import Scenario
from sim.space.city import build_city

__all__ = ["Task", "Recompute", "RunResult", "CALL_RECORD", "replicate_seed", "run_one", "run_tasks", "run_batch",
           "scenario_tasks", "write_metrics", "metrics_frame", "exit_with_parent", "local_workers", "ID_COLUMNS",
           "BACKENDS"]

BACKENDS = ("loky", "dask")

#: One attended call of a run (:attr:`RunResult.calls`): its counted year, cell, dispatch priority
#: (1 urgent, 2 normal, 3 non-urgent), whether it was a public-order call, the unit that answered it,
#: and minutes from the call to the unit's arrival.
CALL_RECORD = np.dtype([("year", np.int16), ("cell", np.int32), ("priority", np.int8), ("public_order", np.bool_),
                        ("unit", np.int32), ("response_min", np.float64)])

ID_COLUMNS = ("scenario", "replicate", "seed", "year")


@dataclass
class RunResult:
    """What one run leaves behind."""

    scenario: str
    replicate: int
    seed: int
    rows: list[dict]
    cell_incidents: np.ndarray  # counted years × cells, recorded offences
    daily: np.ndarray  # days × (preventable_cases, calls_for_service, effective_incidents)
    cell_xy: np.ndarray  # cells × 2, km
    cell_offences_true: np.ndarray | None = None  # counted years × cells, every offence
    treated_cells: np.ndarray | None = None  # cells where the run's interventions were placed
    cell_county: np.ndarray | None = None
    cell_town: np.ndarray | None = None
    county_names: list[str] | None = None
    sites: dict[str, np.ndarray] | None = None  # intervention key -> cells of its sites (stations, cameras...)
    monthly: np.ndarray | None = None  # counted months × counties × crime types, recorded offences
    cell_calls: np.ndarray | None = None  # counted years × cells, calls for service attended (where they came from)
    calls: np.ndarray | None = None  # attended calls of the counted years (CALL_RECORD)
    unit_busy_share: np.ndarray | None = None  # per patrol unit: share of the run it spent on calls

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        df.insert(0, "seed", self.seed)
        df.insert(0, "replicate", self.replicate)
        df.insert(0, "scenario", self.scenario)
        return df


@dataclass(frozen=True)
class Task:
    """One run to do.

    Attributes:
        scenario_name: The scenario's name (shared by all its design points).
        scenario_json: The validated scenario's content (``Scenario.model_dump_json()``).
        point_id: Index of the design point (0 where there is no design).
        point: The design point's ``{key: value}`` overrides.
        replicate: Replicate number.
        seed: The run's seed (:func:`replicate_seed` of the batch seed and replicate).
        scale: Fraction of the full city.
        run_id: Identity of the run in the results store.
    """

    scenario_name: str
    scenario_json: str
    point_id: int
    point: dict = field(hash=False, compare=False)
    replicate: int
    seed: int
    scale: float
    run_id: str


def replicate_seed(base_seed: int, replicate: int) -> int:
    """The seed of replicate ``replicate``: the same in every scenario of a batch."""
    return int(np.random.SeedSequence([base_seed, replicate]).generate_state(1)[0])


@functools.lru_cache(maxsize=4)
def _city_and_residents(city_json: str, residents_json: str, scale: float):
    # Shared by the replicates a worker runs: the city depends on its own seed, not the run's.
    from sim.agents.residents import ResidentParams
    from sim.space.city import CityParams

    city = build_city(CityParams.model_validate_json(city_json), scale)
    return city, build_residents(city, ResidentParams.model_validate_json(residents_json))


def run_one(scenario: Scenario, replicate: int, seed: int, scale: float = 1.0,
            progress: bool = False, observers: Iterable[Observer] = ()) -> RunResult:
    """Run one replicate of a scenario.

    Args:
        scenario: A validated scenario.
        replicate: Replicate number (recorded in the results).
        seed: The run's seed.
        scale: Fraction of the full city.
        progress: Show a progress bar over simulated days.
        observers: Watch the run's events (:class:`sim.observers.Observer`); they change no result.
    """
    city, residents = _city_and_residents(scenario.city.model_dump_json(),
                                          scenario.residents.model_dump_json(), float(scale))
    model = PinganModel(scenario, seed=seed, scale=scale, city=city, residents=residents)
    for observer in observers:
        model.observe(observer)
    if progress:
        with tqdm(total=model.total_hours // 24, desc=f"{scenario.name} r{replicate}",
                  unit="day", leave=False) as bar:
            model.run(progress=bar.update)
    else:
        model.run()
    xy = np.column_stack([city.x_km, city.y_km])
    sites = {iv.key: np.asarray(iv.treated_cells(), dtype=np.int64) for iv in model.interventions}
    treated = list(sites.values())
    records = _call_records(model)
    calls = np.zeros((len(model.years), city.n_cells), dtype=np.int64)
    np.add.at(calls, (records["year"], records["cell"]), 1)
    treated = np.unique(np.concatenate(treated)).astype(np.int64) if treated else np.zeros(0, dtype=np.int64)
    busy = np.array(model.dispatcher.busy_minutes) / max(model.env.now, 1.0)
    return RunResult(scenario.name, replicate, seed, model.year_rows(),
                     model.incidents.recorded.copy(), model.recorder.daily.copy(), xy,
                     model.incidents.true.copy(), treated, city.county.copy(), city.town.copy(),
                     list(city.county_names), sites, model.recorder.monthly.copy(), calls, records, busy)


def _call_records(model: PinganModel) -> np.ndarray:
    """Every attended call of the counted years as a :data:`CALL_RECORD` array."""
    rows = [(y, c.cell, c.priority, c.kind == "public_order", c.unit, c.arrived_at - c.time)
            for y in range(len(model.years)) for c in model.recorder.attended_in_year(y)]
    return np.array(rows, dtype=CALL_RECORD)


def _task(payload: str, replicate: int, seed: int, scale: float, progress: bool, index: int):
    return index, run_one(Scenario.model_validate_json(payload), replicate, seed, scale, progress)


#: vary(scenario, replicate) -> (the replicate's scenario, its parameter values): gives each
#: replicate its own parameters (e.g. a draw from a calibrated posterior).
Vary = Callable[[Scenario, int], tuple[Scenario, dict]]


def scenario_tasks(scenarios: Iterable[Scenario], replicates: int, base_seed: int = 1,
                   scale: float = 1.0, vary: Vary | None = None) -> list[Task]:
    """Tasks for every scenario × replicate (no design), with common random numbers.

    With ``vary``, replicate ``r`` of every scenario runs ``vary(scenario, r)``; the parameter
    values it returns are recorded as the run's point.
    """
    from sim.experiments.store import run_id

    tasks = []
    for s in scenarios:
        payload = s.model_dump_json()
        for r in range(replicates):
            seed = replicate_seed(base_seed, r)
            point: dict = {}
            if vary is not None:
                scen, point = vary(s, r)
                payload = scen.model_dump_json()
            tasks.append(Task(s.name, payload, 0, point, r, seed, float(scale),
                              run_id(payload, point, seed, float(scale))))
    return tasks


#: How often a worker process checks that the process that started it is alive [s].
PARENT_CHECK_SECONDS = 0.5
#: Exit status of a worker that stops because its parent died (128 + SIGKILL, as if killed with it).
PARENT_GONE_STATUS = 137


def exit_with_parent(parent: int) -> None:
    """Make this worker process exit when ``parent`` (the process that started it) dies.

    A loky worker blocks on its task queue, whose pipe it holds both ends of, so it does not
    notice when the process that started the batch is killed (SIGKILL runs no clean-up): it
    would finish its run and then wait forever, with its city in memory. A daemon thread
    checks every :data:`PARENT_CHECK_SECONDS` that the worker still has that parent (a process
    whose parent dies is adopted by another) and ends the worker at once when it does not.
    Linux's parent-death signal would fire when the *thread* that started the worker ends,
    which loky's executor threads do; the check works on every POSIX system.

    Used as the loky executor's initializer, so it runs in every worker, busy or idle.
    """
    if os.getppid() != parent:  # gone before this worker started
        os._exit(PARENT_GONE_STATUS)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(PARENT_GONE_STATUS)  # no clean-up: the results of a dead batch go nowhere

    threading.Thread(target=watch, name="pingan-exit-with-parent", daemon=True).start()


@contextlib.contextmanager
def local_workers():
    """joblib's loky backend, configured so that its worker processes end with this process
    however it ends, SIGKILL included (see :func:`exit_with_parent`)."""
    from joblib import parallel_config

    with parallel_config(backend="loky", initializer=exit_with_parent, initargs=(os.getpid(),)):
        yield


@contextlib.contextmanager
def _backend(backend: str, scheduler: str | None, jobs: int):
    """Yields the n_jobs to hand joblib, inside the chosen backend's configuration."""
    if backend == "loky":
        with local_workers():
            yield os.cpu_count() or 1 if jobs == -1 else max(1, jobs)
        return
    if backend != "dask":
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    try:
        from dask.distributed import Client
    except ImportError as e:  # pragma: no cover - depends on the install
        raise RuntimeError(f"the dask backend needs the dask extra: {install_hint('dask')}") from e
    if not scheduler:
        raise ValueError("--backend dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    from joblib import parallel_config

    with Client(scheduler) as client, parallel_config(backend="dask"):
        workers = len(client.scheduler_info().get("workers", {})) or 1
        yield -1 if jobs == -1 else max(1, min(jobs, workers * 64))


def run_tasks(tasks: list[Task], jobs: int = 1, backend: str = "loky", scheduler: str | None = None,
              store=None, sweep: str = "", progress: bool = True, keep: bool = True) -> list[RunResult | None]:
    """Run tasks, committing each finished run to ``store`` as soon as it arrives.

    Args:
        tasks: The runs to do.
        jobs: Worker processes (loky) or concurrent tasks (dask); -1 for as many as possible.
        backend: ``"loky"`` (local processes) or ``"dask"`` (an existing cluster at ``scheduler``).
        scheduler: The Dask scheduler's address.
        store: A :class:`sim.experiments.store.ResultsStore`; runs it already has are skipped.
        sweep: The sweep's name, recorded with each run.
        progress: Show a progress bar with ETA.
        keep: Keep the results in memory and return them (off for big sweeps).

    Returns:
        In task order, each task's result, or None where it was skipped (already stored) or
        not kept. KeyboardInterrupt propagates after every finished run has been committed.
    """
    from sim.experiments.store import RunRecord

    done = store.finished_ids() if store is not None else set()
    todo = [i for i, t in enumerate(tasks) if t.run_id not in done]
    out: list[RunResult | None] = [None] * len(tasks)
    inner = progress and len(todo) == 1 and backend == "loky"
    with _backend(backend, scheduler, jobs) as n_jobs:
        calls = (delayed(_task)(tasks[i].scenario_json, tasks[i].replicate, tasks[i].seed, tasks[i].scale,
                                inner, i) for i in todo)
        with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=sweep or "runs", unit="run",
                  disable=not progress) as bar:
            if todo:
                parallel = Parallel(n_jobs=n_jobs if len(todo) > 1 else 1, return_as="generator_unordered")
                for i, res in parallel(calls):
                    t = tasks[i]
                    if store is not None:
                        store.put(RunRecord(t.run_id, sweep, t.scenario_name, t.point_id, t.point, t.replicate,
                                            t.seed, t.scale, res.rows))
                    if keep:
                        out[i] = res
                    bar.update(1)
    return out


def run_batch(scenarios: Iterable[Scenario], replicates: int, base_seed: int = 1, scale: float = 1.0,
              jobs: int = 1, store=None, progress: bool = True, backend: str = "loky",
              scheduler: str | None = None, vary: Vary | None = None) -> list[RunResult]:
    """Run every scenario × replicate with common random numbers; results in task order.

    Every run is computed (plots need their maps); each is committed to ``store`` if given.
    ``vary`` gives each replicate its own parameters (see :func:`scenario_tasks`).
    """
    scenarios = list(scenarios)
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ, got {names}")
    tasks = scenario_tasks(scenarios, replicates, base_seed, scale, vary)
    fresh = Recompute(store) if store is not None else None
    return run_tasks(tasks, jobs, backend, scheduler, fresh, sweep="runs" if store is None else "run",
                     progress=progress)


class Recompute:
    """A store view that reports no finished runs (so everything is computed) but records each."""

    def __init__(self, store):
        self._store = store

    def finished_ids(self) -> set[str]:
        return set()

    def put(self, record) -> bool:
        return self._store.put(record, replace=True)


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    write_csv(df, tmp, float_format="%.10g")
    os.replace(tmp, path)


def metrics_frame(results: list[RunResult]) -> pd.DataFrame:
    """All runs' per-year rows, ordered by scenario, replicate and year."""
    df = pd.concat([r.frame() for r in results], ignore_index=True)
    extra = sorted(c for c in df.columns if c not in ID_COLUMNS and c not in CORE_METRICS)
    return df[[*ID_COLUMNS, *CORE_METRICS, *extra]]


def write_metrics(results: list[RunResult], path: Path) -> pd.DataFrame:
    """Write ``metrics.csv`` (byte-identical for the same scenarios and seeds)."""
    df = metrics_frame(results)
    _write_atomic(df, Path(path))
    return df
