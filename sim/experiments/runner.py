"""Running replicates: seeds, common random numbers, local processes, and finished-run files.

Replicate ``r`` of a batch with base seed ``S`` uses the seed :func:`replicate_seed(S, r)`
in every scenario of the batch, so scenarios are compared under common random numbers. Runs
are independent, so the results do not depend on how many worker processes ran them; they
are gathered in task order. Each finished run is written at once to ``DIR/runs/`` (atomic
rename), so an interrupted batch keeps every finished run.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from sim.agents.residents import build_residents
from sim.metrics import CORE_METRICS
from sim.model import PinganModel
from sim.scenario.schema import Scenario
from sim.space.city import build_city

__all__ = ["RunResult", "replicate_seed", "run_one", "run_batch", "write_metrics", "ID_COLUMNS"]

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

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        df.insert(0, "seed", self.seed)
        df.insert(0, "replicate", self.replicate)
        df.insert(0, "scenario", self.scenario)
        return df


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
            progress: bool = False) -> RunResult:
    """Run one replicate of a scenario.

    Args:
        scenario: A validated scenario.
        replicate: Replicate number (recorded in the results).
        seed: The run's seed.
        scale: Fraction of the full city.
        progress: Show a progress bar over simulated days.
    """
    city, residents = _city_and_residents(scenario.city.model_dump_json(),
                                          scenario.residents.model_dump_json(), float(scale))
    model = PinganModel(scenario, seed=seed, scale=scale, city=city, residents=residents)
    if progress:
        with tqdm(total=model.total_hours // 24, desc=f"{scenario.name} r{replicate}",
                  unit="day", leave=False) as bar:
            model.run(progress=bar.update)
    else:
        model.run()
    xy = np.column_stack([city.x_km, city.y_km])
    return RunResult(scenario.name, replicate, seed, model.year_rows(),
                     model.recorder.cell_incidents.copy(), model.recorder.daily.copy(), xy)


def _task(payload: str, replicate: int, seed: int, scale: float, progress: bool) -> RunResult:
    return run_one(Scenario.model_validate_json(payload), replicate, seed, scale, progress)


def run_batch(scenarios: Iterable[Scenario], replicates: int, base_seed: int = 1, scale: float = 1.0,
              jobs: int = 1, out_dir: Path | None = None, progress: bool = True) -> list[RunResult]:
    """Run every scenario × replicate, with common random numbers across scenarios.

    Args:
        scenarios: Validated scenarios (names must differ).
        replicates: Replicates per scenario.
        base_seed: Base seed of the batch.
        scale: Fraction of the full city.
        jobs: Worker processes (joblib/loky); -1 for one per core.
        out_dir: If given, each finished run is written to ``out_dir/runs/`` at once.
        progress: Show progress bars.

    Returns:
        Results in task order (scenario, then replicate), whatever ``jobs``.
    """
    scenarios = list(scenarios)
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ, got {names}")
    tasks = [(s, r, replicate_seed(base_seed, r)) for s in scenarios for r in range(replicates)]
    n_jobs = os.cpu_count() or 1 if jobs == -1 else max(1, jobs)
    inner = progress and (n_jobs == 1 or len(tasks) == 1)
    calls = (delayed(_task)(s.model_dump_json(), r, seed, scale, inner) for s, r, seed in tasks)
    results: list[RunResult] = []
    runs_dir = None
    if out_dir is not None:
        runs_dir = Path(out_dir) / "runs"
        runs_dir.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(tasks), desc="runs", unit="run", disable=not progress) as bar:
        for res in Parallel(n_jobs=min(n_jobs, len(tasks)), return_as="generator")(calls):
            results.append(res)
            if runs_dir is not None:
                _write_atomic(res.frame(), runs_dir / f"{res.scenario}_r{res.replicate:03d}.csv")
            bar.update(1)
    return results


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_csv(tmp, index=False, float_format="%.10g")
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
