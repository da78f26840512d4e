"""The response model for dispatch bases (sim.optimise.response): exact expectations, honest bounds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from sim.agents.patrol import HOTSPOT_FLOOR, hotspot_pick, uniform_pick
from sim.events.dispatch import DispatchParams, destination_speed_kmh, travel_minutes
from sim.optimise.location import driving_minutes, p_median
from sim.optimise.response import Travel, Units, expected_response, patrol_where, site_dispatch_bases


def _travel(rng, n=16, counties=2, turnout=2.0):
    ix, iy = rng.integers(0, 6, n), rng.integers(0, 6, n)
    county = np.arange(n) % counties
    step = rng.choice([0.78, 1.56], n)  # minutes per step: rural and urban speeds on 0.5 km cells
    return Travel(ix, iy, county, turnout + 0.5 * step, step, turnout)


def _units(rng, travel, k, beat_size=3, busy=(0.0, 0.3)):
    n = len(travel.county)
    beats = [rng.choice(n, size=beat_size, replace=False) for _ in range(k)]
    where = patrol_where(n, beats, rng.uniform(0, 5, n), 0.4)
    county = travel.county[[b[0] for b in beats]]
    return Units(county, where, rng.uniform(*busy, k))


def _instance(seed):
    rng = np.random.default_rng(seed)
    travel = _travel(rng)
    n = len(travel.county)
    weights = rng.integers(0, 10, n).astype(float)
    fixed = _units(rng, travel, 3)
    candidates = np.arange(n)[:9]
    where = _units(rng, travel, len(candidates))
    where = Units(travel.county[candidates], where.where, where.busy)
    return travel, weights, fixed, candidates, where


def _subset(units: Units, rows) -> Units:
    rows = list(rows)
    return Units(units.county[rows], units.where[rows], units.busy[rows])


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("objective", ["p_median", "mclp"])
def test_sites_are_within_their_reported_bound_of_the_brute_force_optimum(seed, objective):
    travel, weights, fixed, candidates, where = _instance(seed)
    p = 1 + seed % 3
    values = [expected_response(travel, weights, fixed, _subset(where, chosen), objective, 10.0)
              for chosen in itertools.combinations(range(len(candidates)), p)]
    best = min(values) if objective == "p_median" else max(values)
    answer = site_dispatch_bases(travel, weights, fixed, candidates, where, p, objective, 10.0)
    assert len(answer.sites) == p and set(answer.sites) <= set(candidates)
    chosen = [int(np.flatnonzero(candidates == s)[0]) for s in answer.sites]
    assert answer.objective == pytest.approx(expected_response(travel, weights, fixed, _subset(where, chosen),
                                                               objective, 10.0))
    if objective == "p_median":
        assert answer.bound - 1e-9 <= best <= answer.objective + 1e-9
    else:
        assert answer.objective - 1e-9 <= best <= answer.bound + 1e-9
    # Greedy selection and swaps find the optimum of these small instances.
    assert answer.objective == pytest.approx(best)


def test_the_expected_response_equals_the_mean_nearest_free_unit_over_sampled_patrols_and_busy_units():
    rng = np.random.default_rng(3)
    travel = _travel(rng, n=12, counties=1)
    weights = rng.uniform(0, 3, 12)
    units = _units(rng, travel, 4, beat_size=4, busy=(0.1, 0.5))
    model = expected_response(travel, weights, Units(units.county[:0], units.where[:0], units.busy[:0]), units,
                              "p_median")
    covered = expected_response(travel, weights, Units(units.county[:0], units.where[:0], units.busy[:0]), units,
                                "mclp", standard_min=6.0)
    # Sample where every unit is and whether it is busy; a call takes the nearest free unit.
    draws = 100_000
    where = units.where.toarray()
    pos = np.stack([rng.choice(12, size=draws, p=where[u]) for u in range(4)])  # units × draws
    free = rng.random((4, draws)) >= units.busy[:, None]
    steps = (np.abs(travel.ix[pos][..., None] - travel.ix[None, None, :])
             + np.abs(travel.iy[pos][..., None] - travel.iy[None, None, :]))  # units × draws × cells
    longest = int(travel.steps(np.arange(12), np.arange(12)).max()) + 1
    nearest = np.where(free[..., None], steps, longest).min(axis=0)  # all busy: beyond the longest drive
    minutes = travel.offset_min + travel.step_min * nearest  # draws × cells
    assert model == pytest.approx(float((minutes.mean(axis=0) * weights).sum()), rel=5e-3)
    assert covered == pytest.approx(float(((minutes <= 6.0).mean(axis=0) * weights).sum()), rel=5e-3)


def test_with_units_always_free_at_their_sites_it_is_the_classical_p_median():
    rng = np.random.default_rng(5)
    travel = _travel(rng, n=14, counties=1, turnout=0.0)
    travel = Travel(travel.ix, travel.iy, travel.county, np.zeros(14), travel.step_min, 0.0)  # no half cell
    weights = rng.integers(1, 10, 14).astype(float)
    candidates = np.arange(2, 11)
    point = sparse.csr_matrix((np.ones(len(candidates)), (np.arange(len(candidates)), candidates)), shape=(9, 14))
    where = Units(np.zeros(9, dtype=np.int64), point, np.zeros(9))
    fixed = Units(np.zeros(1, dtype=np.int64), sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, 14)), np.zeros(1))
    minutes = travel.steps(np.arange(14), candidates) * travel.step_min[:, None]
    to_fixed = travel.steps(np.arange(14), np.array([0]))[:, 0] * travel.step_min
    classic = p_median(weights, minutes, to_fixed, 3, candidates)
    answer = site_dispatch_bases(travel, weights, fixed, candidates, where, 3, "p_median", 10.0)
    assert answer.objective == pytest.approx(classic.objective)
    assert sorted(answer.sites) == sorted(classic.sites) or answer.objective == pytest.approx(classic.objective)


def test_a_unit_always_busy_answers_nothing_and_units_serve_only_their_own_county():
    rng = np.random.default_rng(1)
    travel = _travel(rng, n=10, counties=2)
    weights = np.ones(10)
    none = Units(np.zeros(0, dtype=np.int64), sparse.csr_matrix((0, 10)), np.zeros(0))
    unit = sparse.csr_matrix(([1.0], ([0], [0])), shape=(1, 10))  # at cell 0, county 0
    empty = expected_response(travel, weights, none, none, "p_median")
    busy = expected_response(travel, weights, none, Units(np.array([0]), unit, np.array([1.0])), "p_median")
    free = expected_response(travel, weights, none, Units(np.array([0]), unit, np.array([0.0])), "p_median")
    assert busy == pytest.approx(empty) and free < empty
    own = travel.county == 0
    only_own = expected_response(travel, weights * own, none, Units(np.array([0]), unit, np.array([0.0])), "p_median")
    other = expected_response(travel, weights * ~own, none, Units(np.array([0]), unit, np.array([0.0])), "p_median")
    assert other == pytest.approx(expected_response(travel, weights * ~own, none, none, "p_median"))
    assert only_own < expected_response(travel, weights * own, none, none, "p_median")


def test_where_a_patrol_is_mirrors_the_patrols_hot_spot_and_uniform_moves():
    rng = np.random.default_rng(2)
    heat = rng.uniform(0, 4, 20) * (rng.random(20) < 0.6)
    beat = np.array([3, 7, 8, 12, 15])
    where = patrol_where(20, [beat], heat, 0.4).toarray()[0]
    u_mode, u_cell = rng.random(200_000), rng.random(200_000)
    picks = np.array([beat[hotspot_pick(heat[beat], u) if m < 0.4 else uniform_pick(u, len(beat))]
                      for m, u in zip(u_mode, u_cell, strict=True)])
    assert where.sum() == pytest.approx(1.0) and set(np.flatnonzero(where)) == set(beat)
    assert np.bincount(picks, minlength=20) / len(picks) == pytest.approx(where, abs=4e-3)
    assert HOTSPOT_FLOOR > 0  # a beat without heat is patrolled uniformly, not left out


def test_travel_times_are_the_dispatchers_town_centres_included(city_and_residents):
    city, _ = city_and_residents
    params = DispatchParams()
    travel = Travel.of(city, params)
    speed = destination_speed_kmh(city, params)
    for steps in (0, 1, 7):
        want = travel_minutes(steps, city.cell_size_km, params.turnout_min, params.detour_factor, speed)
        assert travel.offset_min + steps * travel.step_min == pytest.approx(want)
    town = np.flatnonzero(city.land_use == 4)
    assert len(town) and (speed[town] == params.speed_urban_kmh).all()  # as the dispatcher drives to them
    assert (travel.steps_within(np.arange(city.n_cells), 10.0) >= 0).any()
    k = travel.steps_within(np.arange(city.n_cells), 10.0)
    inside = travel.offset_min + k * travel.step_min
    assert (inside[k >= 0] <= 10.0).all() and (travel.offset_min + (k + 1) * travel.step_min > 10.0).all()
    assert driving_minutes is not None
