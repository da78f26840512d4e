"""Sense of safety (sim.mechanisms.safety): the yearly survey.

Survey tests call :func:`survey` on the scale-0.2 Suizhou-like city with chosen incidents,
guardians and victimisations. The same seed and year ask the same respondents and draw
the same answers, so two surveys that differ in one input differ only through it.
Model tests read whole runs at scale 0.05.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.model
from sim import PinganModel, load_scenario
from sim.mechanisms.safety import SafetyParams, survey

HOUR = 2 * 8760 - 1  # the last hour of a second year


def _ask(city, residents, seed=5, year=0, incidents=0.0, guardians=0.0, hour=HOUR, **params):
    """Percent who feel safe and each respondent's probability, with per-cell inputs (scalars fill every cell)."""
    incidents = np.broadcast_to(np.asarray(incidents, dtype=float), (city.n_cells,))
    guardians = np.broadcast_to(np.asarray(guardians, dtype=float), (city.n_cells,))
    return survey(SafetyParams(**params), seed, year, residents, city, incidents, guardians, hour)


def test_the_survey_is_reproducible_for_a_seed_and_year(city_and_residents):
    city, residents = city_and_residents
    incidents = np.arange(city.n_cells, dtype=float)
    pct, prob = _ask(city, residents, incidents=incidents)
    again_pct, again_prob = _ask(city, residents, incidents=incidents)
    assert pct == again_pct
    np.testing.assert_array_equal(prob, again_prob)
    assert len(prob) == SafetyParams().sample_size


def test_the_survey_asks_other_respondents_each_year_and_seed(city_and_residents):
    city, residents = city_and_residents
    incidents = np.arange(city.n_cells, dtype=float)  # so that respondents differ by where they live
    pct, prob = _ask(city, residents, incidents=incidents)
    for other in ({"year": 1}, {"seed": 6}):
        other_pct, other_prob = _ask(city, residents, incidents=incidents, **other)
        assert other_pct != pct, other
        assert not np.array_equal(other_prob, prob), other
        assert other_pct == pytest.approx(pct, abs=3.0)  # the same city, another sample


def test_victimised_respondents_feel_less_safe(city_and_residents, fresh_residents):
    city, _ = city_and_residents
    nobody, nobody_prob = _ask(city, fresh_residents)
    fresh_residents.last_victimised[:] = HOUR - 100
    everybody, everybody_prob = _ask(city, fresh_residents)
    assert (everybody_prob < nobody_prob).all()
    assert everybody < nobody - 10


def test_a_victimisation_more_than_a_year_ago_no_longer_counts(city_and_residents, fresh_residents):
    city, _ = city_and_residents
    nobody, _ = _ask(city, fresh_residents)
    fresh_residents.last_victimised[:] = HOUR - 8760
    assert _ask(city, fresh_residents)[0] == nobody
    fresh_residents.last_victimised[:] = HOUR - 8759
    assert _ask(city, fresh_residents)[0] < nobody


def test_more_recorded_incidents_around_home_lower_the_sense_of_safety(city_and_residents):
    city, residents = city_and_residents
    pct = [_ask(city, residents, incidents=k)[0] for k in (0.0, 5.0, 50.0, 500.0)]
    assert all(a > b for a, b in zip(pct, pct[1:], strict=False))


def test_incidents_next_door_count_and_distant_ones_do_not(city_and_residents, fresh_residents):
    city, _ = city_and_residents
    home = int(np.flatnonzero((city.neighbours >= 0).all(axis=1))[0])
    fresh_residents.home_cell[:] = home  # every respondent lives in one cell
    next_door = city.neighbours[home][0]
    far = next(c for c in range(city.n_cells) if c != home and c not in city.neighbours[home])
    _, calm = _ask(city, fresh_residents)
    for cell, felt in ((next_door, True), (far, False)):
        incidents = np.zeros(city.n_cells)
        incidents[cell] = 500.0
        _, prob = _ask(city, fresh_residents, incidents=incidents)
        assert (prob < calm).all() if felt else (prob == calm).all(), cell


def test_more_visible_guardians_raise_the_sense_of_safety(city_and_residents):
    city, residents = city_and_residents
    pct = [_ask(city, residents, guardians=g, incidents=20.0)[0] for g in (0.0, 2.0, 20.0, 200.0)]
    assert all(a < b for a, b in zip(pct, pct[1:], strict=False))


def test_sense_of_safety_is_a_percentage_in_every_counted_year(two_years):
    rows = two_years("suizhou_baseline").year_rows()
    assert len(rows) == 2
    for row in rows:
        assert 50 < row["sense_of_safety_pct"] < 100


def test_the_survey_sees_the_guardian_hours_of_its_own_year(monkeypatch):
    seen = {}

    def spy(p, seed, year, residents, city, incidents, guardian_hours_per_day, hour):
        seen[year] = guardian_hours_per_day.copy()
        return survey(p, seed, year, residents, city, incidents, guardian_hours_per_day, hour)

    monkeypatch.setattr(sim.model, "survey", spy)
    m = PinganModel(load_scenario("suizhou_baseline", ["run.warmup_days=28", "run.years=1"]), seed=1, scale=0.05)
    # One visible guardian in every cell at every hour, and no patrols counted: 24 guardian-hours a day.
    m.levers.visible_guardians[:] = 1.0
    m.fleet.guarding = lambda spill: (np.zeros(m.city.n_cells), np.zeros(m.city.n_cells))
    m.run()
    assert set(seen) == {0}
    np.testing.assert_allclose(seen[0], 24.0)
