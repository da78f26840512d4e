"""Calibration against a city's incident records: where, when and what crime the police recorded.

The seeds report a handful of year-on-year changes; a city's own records say much more about the
crime side of the model — how much is recorded in each district, of which type, and how strongly it
concentrates in a few places. That is what makes the crime parameters identifiable where a city has
records (against the seeds alone their posterior equals their prior).

The statistics compared (:func:`record_statistics`, :func:`simulated_statistics`):

* the mean monthly count of recorded offences of each district (whole-city level: a run at scale F
  is divided by F), on the log scale;
* the mean monthly count of each crime type over the city, on the log scale;
* the concentration curve: the share of recorded offences in the top 5 %, 10 % and 20 % of cells
  (percent), from records with a point location, over the same city's cells.

The method is the emulator ABC of :mod:`sim.calibration.calibrate` (Wilkinson 2014): the scenario is
simulated once at each point of a Latin-hypercube design over the priors (every run through the
experiment runner), a Gaussian process is fitted per statistic (:class:`~sim.calibration.emulator.Emulators`),
and ABC-SMC (:func:`~sim.calibration.abc.abc_smc`) draws synthetic simulations from the emulators.
:func:`records_from_runs` writes records the model itself produced — for the recovery test, and as a
worked example of the records format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.calibration.abc import abc_smc, weighted_quantile
from sim.calibration.emulator import Emulators
from sim.calibration.posterior import with_parameters
from sim.calibration.targets import Prior
from sim.experiments.evidence import top_share
from sim.experiments.runner import RunResult, Task, replicate_seed, run_tasks
from sim.experiments.store import run_id
from sim.mechanisms.crime_types import CRIME_TYPES
from sim.rng import stream
from sim.scenario.schema import Scenario
from sim.space.incidents import IncidentCounts

__all__ = ["CONCENTRATION_SHARES", "IncidentFit", "record_statistics", "simulated_statistics",
           "statistic_names", "calibrate_to_incidents", "records_from_runs", "COUNT_SPREAD_FLOOR",
           "SHARE_SPREAD"]

#: Shares of cells whose share of recorded offences is compared (the concentration curve).
CONCENTRATION_SHARES = (0.05, 0.10, 0.20)
#: Least spread of a log monthly count in the distance (10 %: month-to-month and recording noise; assumed).
COUNT_SPREAD_FLOOR = 0.1
#: Spread of a concentration share in the distance [percentage points] (assumed).
SHARE_SPREAD = 2.0


def statistic_names(districts: list[str]) -> list[str]:
    """Names of the compared statistics, in order."""
    return ([f"log_monthly[{d}]" for d in districts] + [f"log_monthly[{t}]" for t in CRIME_TYPES]
            + [f"top_{round(q * 100)}pct_share" for q in CONCENTRATION_SHARES])


def _statistics(by_district_type: np.ndarray, months: int, cells: np.ndarray | None, scale: float) -> np.ndarray:
    monthly = by_district_type / max(months, 1) / scale
    counts = np.concatenate([monthly.sum(axis=1), monthly.sum(axis=0)])
    conc = [math.nan if cells is None else top_share(cells, q) for q in CONCENTRATION_SHARES]
    return np.concatenate([np.log1p(counts), conc])


def record_statistics(counts: IncidentCounts, districts: list[str], scale: float = 1.0) -> np.ndarray:
    """The statistics of aggregated records (``scale``: the share of the city the records cover)."""
    cells = None if counts.cells is None else counts.cells.sum(axis=1)
    return _statistics(counts.by_district_type(districts), counts.n_months, cells, scale)


def simulated_statistics(result: RunResult, scale: float) -> np.ndarray:
    """The same statistics from one run (every counted year; recorded offences)."""
    return _statistics(result.monthly.sum(axis=0), result.monthly.shape[0], result.cell_incidents.sum(axis=0), scale)


def _spread(observed: np.ndarray, n_districts: int) -> np.ndarray:
    """Each statistic's spread in the distance: Poisson noise of a log count (at least the floor), or
    :data:`SHARE_SPREAD` points for a concentration share."""
    n_counts = n_districts + len(CRIME_TYPES)
    level = np.expm1(observed[:n_counts])
    count_spread = np.maximum(COUNT_SPREAD_FLOOR, 1.0 / np.sqrt(np.maximum(level, 1.0)))
    return np.concatenate([count_spread, np.full(len(observed) - n_counts, SHARE_SPREAD)])


@dataclass
class IncidentFit:
    """A calibration against incident records.

    Attributes:
        priors: The estimated parameters.
        posterior: Particles × parameters (natural units); ``weights`` their weights.
        summary: One row per parameter: prior and posterior mean and 90 % intervals, and the
            posterior's width as a share of the prior's.
        emulator_cv: Cross-validation of the emulators (one row per statistic).
        observed: The records' statistics (named by :func:`statistic_names`).
        design: The design points (natural units) and their simulated statistics.
    """

    priors: list[Prior]
    posterior: np.ndarray
    weights: np.ndarray
    summary: pd.DataFrame
    emulator_cv: pd.DataFrame
    observed: pd.Series
    design: pd.DataFrame


def calibrate_to_incidents(scenario: Scenario, counts: IncidentCounts, priors: list[Prior], *, design: int = 40,
                           scale: float = 0.1, records_scale: float = 1.0, seed: int = 1, jobs: int = 1,
                           particles: int = 500, generations: int = 12, progress: bool = False) -> IncidentFit:
    """Estimate ``priors`` from a city's incident records.

    Args:
        scenario: The city's scenario (its city has the records' geography; the counted years are
            compared with the records' months, whatever the calendar).
        counts: The records, aggregated against the city built from ``scenario`` at ``scale``.
        priors: Parameters to estimate (keys of the scenario, ranges and scales).
        design: Design points, each simulated once (replicate seeds differ between points).
        scale: Scale of the simulations.
        records_scale: Share of the city the records cover (1 for a city's own records).
        seed: Seeds the design, the simulations and the sampler.
        jobs: Worker processes.
        particles: ABC particles per generation (drawn from the emulators: cheap).
        generations: Most ABC generations.
        progress: Show progress bars.
    """
    names = [c.name for c in scenario.city.counties]
    observed = record_statistics(counts, names, records_scale)
    spread = _spread(observed, len(names))
    u = qmc.LatinHypercube(d=len(priors), seed=stream(seed, "incidents.design")).random(design)
    values = [{p.key: p.from_unit(x) for p, x in zip(priors, row, strict=True)} for row in u]
    tasks = []
    for i, point in enumerate(values):
        payload = with_parameters(scenario, point).model_dump_json()
        s = replicate_seed(seed, i)
        tasks.append(Task(scenario.name, payload, i, point, i, s, float(scale), run_id(payload, point, s, scale)))
    results = run_tasks(tasks, jobs, progress=progress, sweep="incidents-design")
    sims = np.array([simulated_statistics(r, scale) for r in results])
    usable = np.isfinite(observed)
    emu = Emulators(seed=seed).fit(u, sims[:, usable])
    cv = emu.cross_validate(u, sims[:, usable], spread[usable])
    cv.insert(0, "statistic", np.asarray(statistic_names(names))[usable])
    noise_rng = stream(seed, "incidents.abc")

    def simulate(batch: np.ndarray, first: int) -> np.ndarray:
        mean, sd = emu.predict(batch)
        draw = mean + sd * noise_rng.standard_normal(mean.shape)
        return np.sqrt(np.mean(((draw - observed[usable]) / spread[usable]) ** 2, axis=1))

    res = abc_smc(simulate, len(priors), particles, budget=particles * 60, seed=seed, max_generations=generations)
    post = res.posterior
    natural = np.array([[p.from_unit(x) for p, x in zip(priors, row, strict=True)] for row in post.u])
    prior_draws = np.array([[p.from_unit(x) for p, x in zip(priors, row, strict=True)]
                            for row in qmc.LatinHypercube(d=len(priors), seed=stream(seed, "incidents.prior"))
                            .random(4000)])
    rows = []
    for j, p in enumerate(priors):
        lo, hi = (weighted_quantile(natural[:, j], post.weights, q) for q in (0.05, 0.95))
        plo, phi = np.quantile(prior_draws[:, j], [0.05, 0.95])
        rows.append({"key": p.key, "prior_lo": plo, "prior_hi": phi,
                     "posterior_mean": float(post.weights @ natural[:, j]), "posterior_lo": lo,
                     "posterior_hi": hi, "width_ratio": (hi - lo) / (phi - plo),
                     "generations": len(res.populations), "stopped": res.stopped})
    design_frame = pd.DataFrame([{**v} for v in values])
    design_frame[statistic_names(names)] = sims
    return IncidentFit(priors, natural, post.weights, pd.DataFrame(rows), cv,
                       pd.Series(observed, index=statistic_names(names)), design_frame)


def records_from_runs(results: list[RunResult], city, first_year: int = 2021, seed: int = 0) -> pd.DataFrame:
    """Incident records (the CSV format of :mod:`sim.space.incidents`) of recorded offences in runs of ``city``.

    Each run's counted years follow one another from ``first_year``. Within a district, the month and
    type of each recorded offence come from the run's monthly counts and its cell from the run's
    per-cell counts, paired at random (the run keeps no list of single offences); the point is the
    cell's centre, in the city's CRS (``x``, ``y`` metres).
    """
    rng = stream(seed, "incidents.records")
    layers = city.map_layers
    rows = []
    year = first_year
    for r in results:
        n_years = r.cell_incidents.shape[0]
        for y in range(n_years):
            cells_year = r.cell_incidents[y].astype(np.int64)
            for d in range(r.monthly.shape[1]):
                block = r.monthly[y * 12:(y + 1) * 12, d].astype(np.int64)  # months × types
                months, types = np.nonzero(block)
                events = np.repeat(np.column_stack([months, types]), block[months, types], axis=0)
                mine = np.flatnonzero(city.county == d)
                where = np.repeat(mine, cells_year[mine])
                if len(where) != len(events):
                    raise ValueError(f"run {r.replicate}: district {d} has {len(events)} monthly and {len(where)} "
                                     "cell records (the run's cells are not this city's)")
                where = rng.permutation(where)
                x = layers.origin_m[0] + (city.ix[where] + 0.5) * city.cell_size_km * 1000
                yy = layers.origin_m[1] + (city.iy[where] + 0.5) * city.cell_size_km * 1000
                for (m, t), xi, yi in zip(events.tolist(), x.tolist(), yy.tolist(), strict=True):
                    rows.append((f"{year + y:04d}-{m + 1:02d}-15", CRIME_TYPES[t], round(xi, 1), round(yi, 1)))
        year += n_years
    return pd.DataFrame(rows, columns=["time", "type", "x", "y"])
