"""Siting checked by simulation (sim.optimise.siting_check): the models' sites do what they claim."""

from __future__ import annotations

import numpy as np
import pytest

from sim import load_scenario
from sim.experiments.runner import CALL_RECORD
from sim.optimise.siting_check import check_scenario, compare_sitings, served_metrics


def test_siting_metrics_read_the_calls_of_the_served_cells_in_the_counted_year():
    calls = np.array([(0, 0, 1, False, 0, 30.0),  # last year only counts
                      (1, 0, 1, False, 0, 4.0), (1, 1, 2, False, 1, 12.0), (1, 2, 3, True, 1, 8.0),
                      (1, 3, 1, False, 2, 20.0)], dtype=CALL_RECORD)
    served = np.array([True, True, True, False])
    m = served_metrics(calls, served, standard_min=10.0)
    assert m["response_mean_min"] == pytest.approx((4 + 12 + 8) / 3)
    assert m["within_standard_share"] == pytest.approx(2 / 3)
    assert m["urgent_response_mean_min"] == pytest.approx(4.0) and m["urgent_within_standard_share"] == 1.0
    assert m["city_response_p90_min"] == pytest.approx(np.percentile([4, 12, 8, 20], 90))


def test_a_check_run_counts_one_year_with_the_interventions_in_place_from_its_start():
    run = check_scenario(load_scenario("suizhou_2022"), warmup_days=7).run
    assert run.years == 1 and run.start_year_of_interventions == run.first_year and run.warmup_days == 7


@pytest.mark.slow
def test_on_a_small_city_each_models_sites_beat_random_sites_on_the_simulated_objective_they_optimise(tmp_path):
    # Suizhou at scale 0.1 (138 cells): 3 rapid-response points. Demand from 2 baseline runs with other seeds
    # than the 4 compared replicates, which every variant shares (common random numbers).
    result = compare_sitings(load_scenario("suizhou_2022"), "rapid_response_points", scale=0.1, replicates=4,
                             demand_replicates=2, random_sets=2, warmup_days=7, jobs=2, out=tmp_path)
    assert result.n_sites == 3 and len(result.random_names()) == 2
    for model, metric in (("p_median", "response_mean_min"), ("mclp", "within_standard_share")):
        for rand in result.random_names():
            assert result.beats(model, rand, metric), (model, rand, result.paired(model, rand, metric))
    # The model predicted the simulated objective of its own sites to within 10 %.
    simulated = result.values["p_median"]["response_mean_min"].mean()
    assert result.predicted["p_median"]["p_median"] == pytest.approx(simulated, rel=0.1)
