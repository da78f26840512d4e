"""The incident map (sim.mechanisms.incident_map): one owner, a recent view and a yearly view."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.incident_map import IncidentMap


def _map() -> IncidentMap:
    return IncidentMap(n_years=2, attraction=np.array([5.0, 0.0, 10.0, 1.0]), half_life_days=1.0)


def test_counted_offences_fill_their_years_map_and_warm_up_offences_none():
    m = _map()
    m.count(0, np.array([1, 1, 3]), np.array([True, False, True]))
    m.count(-1, np.array([2]), np.array([True]))  # warm-up: not counted
    m.count(2, np.array([2]), np.array([True]))  # after the last counted year: not counted
    assert m.true.tolist() == [[0, 2, 0, 1], [0, 0, 0, 0]]
    assert m.recorded.tolist() == [[0, 1, 0, 1], [0, 0, 0, 0]]
    assert not m.recent.any()  # counting does not touch the recent map


def test_the_recent_map_adds_recorded_incidents_and_halves_in_its_half_life():
    m = _map()
    m.note(np.array([0, 0, 2]))
    m.note(3)  # one cell: a public-order call
    assert m.recent.tolist() == [2.0, 0.0, 1.0, 1.0]
    for _ in range(24):
        m.decay()
    assert m.recent == pytest.approx([1.0, 0.0, 0.5, 0.5])


def test_site_score_ranks_recent_incidents_first_and_footfall_breaks_ties():
    m = _map()
    assert np.argsort(-m.site_score(np.arange(4)), kind="stable").tolist() == [2, 0, 3, 1]  # footfall only
    m.note(1)
    assert np.argmax(m.site_score(np.arange(4))) == 1  # one incident outweighs any footfall
