"""Location models (sim.optimise.location): exact answers equal brute force; greedy answers bound their gap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.optimise.location import driving_minutes, mclp, p_median

COVERAGE = 8.0


def _instance(seed: int):
    """A small instance: 14 demand cells, 9 candidates, some pairs unreachable, half the cells with an existing site."""
    rng = np.random.default_rng(seed)
    n, m = 14, 9
    weights = rng.integers(0, 10, n).astype(float)
    minutes = rng.uniform(0, 20, (n, m))
    minutes[rng.random((n, m)) < 0.2] = np.inf
    minutes[:, 0] = np.where(np.isinf(minutes[:, 0]), 30.0, minutes[:, 0])  # every cell reachable by someone
    fixed = np.where(rng.random(n) < 0.5, rng.uniform(0, 25, n), np.inf)
    return weights, minutes, fixed, np.arange(100, 100 + m)


def _brute_force(weights, minutes, fixed, p):
    best_cover, best_cost = -np.inf, np.inf
    for chosen in itertools.combinations(range(minutes.shape[1]), p):
        near = np.minimum(fixed, minutes[:, list(chosen)].min(axis=1))
        best_cover = max(best_cover, weights[near <= COVERAGE].sum())
        best_cost = min(best_cost, weights[weights > 0] @ near[weights > 0])
    return best_cover, best_cost


@pytest.mark.parametrize("seed", range(12))
def test_exact_mclp_and_p_median_equal_brute_force_on_small_instances(seed):
    weights, minutes, fixed, candidates = _instance(seed)
    p = 1 + seed % 3
    best_cover, best_cost = _brute_force(weights, minutes, fixed, p)
    cover = mclp(weights, minutes, fixed, p, COVERAGE, candidates)
    median = p_median(weights, minutes, fixed, p, candidates)
    assert cover.objective == pytest.approx(best_cover) and cover.method == "milp" and cover.gap < 1e-9
    assert median.objective == pytest.approx(best_cost) and median.method == "milp" and median.gap < 1e-9
    assert len(cover.sites) == p and len(median.sites) == p
    assert set(cover.sites) <= set(candidates) and set(median.sites) <= set(candidates)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_answers_report_a_bound_that_holds(seed):
    weights, minutes, fixed, candidates = _instance(seed)
    best_cover, best_cost = _brute_force(weights, minutes, fixed, 2)
    cover = mclp(weights, minutes, fixed, 2, COVERAGE, candidates, max_variables=0)
    median = p_median(weights, minutes, fixed, 2, candidates, max_variables=0)
    assert cover.method.startswith("greedy") and median.method.startswith("greedy")
    assert cover.objective <= best_cover + 1e-9 <= cover.bound + 1e-6  # bound above the optimum
    assert median.bound - 1e-6 <= best_cost <= median.objective + 1e-9  # bound below the optimum
    assert cover.gap >= (best_cover - cover.objective) / cover.bound - 1e-9
    assert median.gap >= (median.objective - best_cost) / median.bound - 1e-9


def test_existing_sites_are_kept_so_new_sites_go_where_demand_is_unserved():
    # Two clusters of demand; an existing site already serves the first: the one new site goes to the second.
    minutes = np.array([[0.0, 50.0], [1.0, 50.0], [50.0, 0.0], [50.0, 1.0]])
    weights = np.array([10.0, 10.0, 1.0, 1.0])
    fixed = np.array([0.0, 1.0, np.inf, np.inf])
    candidates = np.array([7, 8])
    assert mclp(weights, minutes, fixed, 1, COVERAGE, candidates).sites.tolist() == [8]
    assert p_median(weights, minutes, fixed, 1, candidates).sites.tolist() == [8]


def test_driving_minutes_are_lattice_km_over_the_destination_speed():
    ix, iy = np.array([0, 3, 0]), np.array([0, 0, 4])
    speed = np.array([30.0, 60.0, 30.0])
    d = driving_minutes(ix, iy, 0.5, 1.0, speed, np.arange(3), np.array([0]))
    assert d[:, 0].tolist() == pytest.approx([0.0, 1.5 / 60 * 60, 2.0 / 30 * 60])
