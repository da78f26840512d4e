"""Patrol fleets (sim.agents.patrol): units move as specified, checked against a whole-array formulation."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.patrol import PatrolFleet, PolicingParams, hotspot_pick, patrol_guardianship, uniform_pick
from sim.rng import event_uniforms


@pytest.fixture
def city(city_and_residents):
    return city_and_residents[0]


def _fleet(city, units: int) -> PatrolFleet:
    fleet = PatrolFleet(city, PolicingParams(dwell_hours=2), seed=7)
    fleet.add_station_units(units)
    return fleet


def _reference_moves(fleet: PatrolFleet, hour: int, heat: np.ndarray) -> tuple[list[int], list[int]]:
    """Cells and dwell ends after a move, from the readable picks (:func:`hotspot_pick`, :func:`uniform_pick`)."""
    cell, dwell = fleet.cell.copy(), fleet.dwell_until.copy()
    move = (~fleet.busy & ~fleet.retired & (fleet.dwell_until <= hour)).nonzero()[0]
    u_mode = event_uniforms(fleet.seed, "patrol.mode", fleet.uid[move], hour)
    u_cell = event_uniforms(fleet.seed, "patrol.cell", fleet.uid[move], hour)
    beats = fleet.beat[move]
    hot = u_mode < fleet.hotspot_share[move]
    pick = [hotspot_pick(heat[fleet.beat_cells(b)], u) if h else uniform_pick(u, len(fleet.beat_cells(b)))
            for b, u, h in zip(beats, u_cell.tolist(), hot, strict=True)]
    cell[move] = [fleet.beat_cells(b)[k] for b, k in zip(beats, pick, strict=True)]
    dwell[move] = hour + fleet.p.dwell_hours
    return cell.tolist(), dwell.tolist()


@pytest.mark.parametrize("units", [6, 60])
def test_moves_follow_hot_spots_and_uniform_draws_as_specified(city, units):
    fleet = _fleet(city, units)
    rng = np.random.default_rng(0)
    heat = np.zeros(city.n_cells)
    for hour in list(range(300)) + list(range(40, 80)):  # the second stretch redraws earlier hours
        if hour == 150:  # units added mid-run (as interventions do) get draws of their own
            beat = fleet.add_beat(np.flatnonzero(city.county == 0)[:5])
            fleet.add_units(np.full(3, fleet.beat_cells(beat)[0]), np.full(3, beat), kind="post", hotspot_share=0.9)
        if hour == 200:
            fleet.retire(np.array([1]))
        fleet.busy[:] = rng.random(fleet.n) < 0.2
        heat *= 0.97
        heat[rng.integers(0, city.n_cells, 3)] += 1.0
        expected = _reference_moves(fleet, hour, heat)
        fleet.reposition(hour, heat)
        assert (fleet.cell.tolist(), fleet.dwell_until.tolist()) == expected
        units = np.bincount(fleet.cell[~fleet.retired], minlength=city.n_cells).astype(np.float64)
        assert fleet.presence().tobytes() == units.tobytes()
        nearby = np.array([units[nb[nb >= 0]].sum() for nb in city.neighbours])
        present, guard = fleet.guarding(0.25)  # units, and units + 0.25 × units next door
        expected = patrol_guardianship(units, nearby, 0.25)
        assert (present.tobytes(), guard.tobytes()) == (units.tobytes(), expected.tobytes())
    assert (fleet.cell != fleet.base_cell).any()


def test_a_hot_spot_move_picks_cells_in_proportion_to_their_heat():
    heat = np.array([0.0, 3.0, 0.0, 1.0])
    weights = heat + 1e-3
    share = np.cumsum(weights) / weights.sum()
    assert hotspot_pick(heat, 0.0) == 0 and hotspot_pick(heat, 1.0) == 3
    u = np.random.default_rng(2).random(20_000)
    picks = np.bincount([hotspot_pick(heat, x) for x in u.tolist()], minlength=4)
    np.testing.assert_allclose(picks / len(u), np.diff(share, prepend=0.0), atol=0.01)
    assert [uniform_pick(x, 4) for x in (0.0, 0.25, 0.2500001, 0.999)] == [0, 0, 1, 3]


def test_pinned_units_stay_put_and_count_by_their_visits(city):
    fleet = _fleet(city, 6)
    fleet.pin(np.array([0, 1]))
    placed = fleet.cell[[0, 1]].copy()
    fleet.visiting[[3, 4]] = [0.25, 0.5]  # unit-hours of the pinned units' stops this hour
    fleet.busy[1] = True  # at a scene: counted there like any unit
    fleet.reposition(5, np.zeros(city.n_cells))
    assert (fleet.cell[[0, 1]] == placed).all() and (fleet.cell[2:] != fleet.base_cell[2:]).any()
    counted = ~fleet.retired & (~fleet.pinned | fleet.busy)
    units = np.bincount(fleet.cell[counted], minlength=city.n_cells).astype(np.float64)
    units[[3, 4]] += [0.25, 0.5]
    nearby = np.array([units[nb[nb >= 0]].sum() for nb in city.neighbours])
    present, guard = fleet.guarding(0.25)
    np.testing.assert_array_equal(fleet.presence(), units)
    np.testing.assert_array_equal(present, units)
    np.testing.assert_array_equal(guard, patrol_guardianship(units, nearby, 0.25))
