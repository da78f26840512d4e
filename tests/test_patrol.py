"""Patrol fleets (sim.agents.patrol): the plain-Python and the array patrol moves agree."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.patrol import PatrolFleet, PolicingParams


@pytest.fixture
def city(city_and_residents):
    return city_and_residents[0]


def _fleet(city, units: int) -> PatrolFleet:
    fleet = PatrolFleet(city, PolicingParams(dwell_hours=2), seed=7)
    fleet.add_station_units(units)
    return fleet


@pytest.mark.parametrize("units", [6, 60])
def test_python_and_array_moves_pick_the_same_cells(city, units):
    small, arrays = _fleet(city, units), _fleet(city, units)
    rng = np.random.default_rng(0)
    heat = np.zeros(city.n_cells)
    for hour in list(range(300)) + list(range(40, 80)):  # the second stretch redraws earlier hours
        if hour == 150:  # units added mid-run (as interventions do) get draws of their own
            for f in (small, arrays):
                beat = f.add_beat(np.flatnonzero(city.county == 0)[:5])
                f.add_units(np.full(3, f.beat_cells(beat)[0]), np.full(3, beat), kind="post", hotspot_share=0.9)
        if hour == 200:
            for f in (small, arrays):
                f.retire(np.array([1]))
        busy = rng.random(small.n) < 0.2
        small.busy[:], arrays.busy[:] = busy, busy
        heat *= 0.97
        heat[rng.integers(0, city.n_cells, 3)] += 1.0
        small.reposition(hour, heat, small=True)
        arrays.reposition(hour, heat, small=False)
        assert small.cell.tolist() == arrays.cell.tolist()
        assert small.dwell_until.tolist() == arrays.dwell_until.tolist()
        for f in (small, arrays):
            assert f.presence().tobytes() == np.bincount(
                f.cell[~f.retired], minlength=city.n_cells).astype(np.float64).tobytes()
    assert (small.cell != small.base_cell).any()
