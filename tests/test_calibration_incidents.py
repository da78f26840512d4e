"""Calibration against incident records (sim.calibration.incidents): statistics, and parameter recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.calibration.incidents import (
    calibrate_to_incidents,
    record_statistics,
    records_from_runs,
    simulated_statistics,
    statistic_names,
)
from sim.calibration.posterior import with_parameters
from sim.calibration.targets import Prior
from sim.cli import main
from sim.experiments.runner import run_tasks, scenario_tasks
from sim.space.city import build_city
from sim.space.geography_files import load_geography
from sim.space.incidents import aggregate, read_incidents

SCALE = 0.1
#: The crime parameters whose posterior equalled their prior against the seeds' targets alone.
PRIORS = [Prior("crime.attempts_per_offender_year", 1.2, 4.8, 2.4, "log", "calibration/priors.yaml"),
          Prior("city.attractor_weight", 0.25, 4.0, 1.0, "log", "assumed: a factor 4 either side of the default")]
TRUTH = {"crime.attempts_per_offender_year": 3.2, "city.attractor_weight": 0.6}


def _records(tmp_path, scenario, replicates: int, seed: int):
    """Records the model produced with ``scenario``, aggregated against its city."""
    results = run_tasks(scenario_tasks([scenario], replicates, base_seed=seed, scale=SCALE), jobs=2, progress=False)
    city = build_city(scenario.city, SCALE)
    path = tmp_path / "records.csv"
    records_from_runs(results, city, first_year=2021, seed=seed).to_csv(path, index=False)
    return results, city, aggregate(read_incidents(path, load_geography("suizhou")), city)


@pytest.fixture(scope="module")
def base():
    return load_scenario("suizhou_baseline_real", ["run.years=1", "run.warmup_days=7"])


def test_records_written_from_runs_give_back_the_runs_statistics(tmp_path, base):
    results, city, counts = _records(tmp_path, base, replicates=1, seed=4)
    names = city.county_names
    np.testing.assert_allclose(record_statistics(counts, names, SCALE), simulated_statistics(results[0], SCALE))
    assert len(statistic_names(names)) == len(names) + 6 + 3
    assert counts.n_months == 12 and counts.outside_sample == 0


@pytest.mark.slow
def test_calibrating_on_model_made_records_recovers_the_crime_parameters(tmp_path, base):
    # Records made by the model with known crime parameters (two simulated years, seeds apart from the
    # design's); the calibration sees only the records. Strict check: each true value inside its 90 %
    # posterior interval; and the posterior at most half as wide as the prior.
    _, _, counts = _records(tmp_path, with_parameters(base, TRUTH), replicates=2, seed=999)
    fit = calibrate_to_incidents(base, counts, PRIORS, design=24, scale=SCALE, records_scale=SCALE, seed=3, jobs=2,
                                 particles=300)
    for row in fit.summary.itertuples():
        assert row.posterior_lo <= TRUTH[row.key] <= row.posterior_hi, row
        assert row.width_ratio < 0.5, row


@pytest.mark.slow
def test_pingan_city_incidents_calibrate_writes_the_posterior(tmp_path, base):
    scen = tmp_path / "small.yaml"
    scen.write_text("extends: suizhou_baseline_real\nrun: {years: 1, warmup_days: 2}\n")
    small = load_scenario(scen)
    results = run_tasks(scenario_tasks([small], 1, base_seed=7, scale=0.05), jobs=1, progress=False)
    records = tmp_path / "records.csv"
    records_from_runs(results, build_city(small.city, 0.05)).to_csv(records, index=False)
    out = tmp_path / "out"
    assert main(["city", "incidents", str(records), "--scenario", str(scen), "--scale", "0.05", "--calibrate",
                 "--design", "10", "--calibration-scale", "0.05", "--jobs", "2", "--out", str(out), "-q"]) == 0
    post = pd.read_csv(out / "posterior.csv")
    assert list(post["key"]) == ["crime.attempts_per_offender_year", "city.attractor_weight"]
    assert (post["posterior_lo"] <= post["posterior_hi"]).all() and (out / "emulator.csv").is_file()
