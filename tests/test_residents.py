"""Residents (sim.agents.residents): homes, households, grids, special populations, daily rhythm."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.residents import HOURS_PER_WEEK, SpecialPopulation, build_residents
from sim.space.city import LandUse, build_city

WEEKDAY_10H = 2 * 24 + 10  # Wednesday 10:00
WEEKDAY_3H = 2 * 24 + 3  # Wednesday 03:00
SUNDAY_10H = 6 * 24 + 10


@pytest.fixture(scope="module")
def full_city(default_scenario):
    """A Suizhou-like city at full scale (about 2 million residents)."""
    city = build_city(default_scenario.city, 1.0)
    return city, build_residents(city, default_scenario.residents)


def test_residents_live_in_their_cells_in_the_city_counts(city_and_residents):
    city, r = city_and_residents
    assert r.n == city.population
    np.testing.assert_array_equal(np.bincount(r.home_cell, minlength=city.n_cells), city.residents)
    # Sorted by home cell, with cell_start marking each cell's block.
    assert (np.diff(r.home_cell) >= 0).all()
    np.testing.assert_array_equal(np.diff(r.cell_start), city.residents)


def test_households_lie_within_one_cell_and_match_the_city_counts(city_and_residents):
    city, r = city_and_residents
    first_cell = np.full(r.household.max() + 1, -1)
    first_cell[r.household] = r.home_cell
    assert (first_cell[r.household] == r.home_cell).all()
    per_cell = np.array([len(np.unique(r.household[r.cell_start[c]:r.cell_start[c + 1]]))
                         for c in range(city.n_cells)])
    np.testing.assert_array_equal(per_cell, city.households)


def test_grids_hold_about_residents_per_grid(city_and_residents):
    city, r = city_and_residents
    target = city.params.residents_per_grid
    size = np.bincount(r.grid, minlength=r.n_grids)
    size = size[size > 0]  # empty grids: see test_every_grid_has_residents
    assert abs(np.median(size) / target - 1) < 0.15
    assert abs(r.n / r.n_grids / target - 1) < 0.2
    # A grid never holds more than one and a half grids' worth of residents.
    assert size.max() < 1.5 * target


def test_every_grid_has_residents(city_and_residents):
    city, r = city_and_residents
    size = np.bincount(r.grid, minlength=r.n_grids)
    assert (size > 0).all(), f"{(size == 0).sum()} of {r.n_grids} grids are empty"


def test_each_grid_lies_within_one_community(city_and_residents):
    city, r = city_and_residents
    np.testing.assert_array_equal(r.grid_community[r.grid], city.community[r.home_cell])


def test_special_populations_have_their_configured_shares(full_city, default_scenario):
    city, r = full_city
    shares = default_scenario.residents.special_population_share
    for group in SpecialPopulation:
        if group == SpecialPopulation.NONE:
            continue
        p = shares[group.name.lower()]
        got = (r.special == group).mean()
        assert abs(got - p) < 5 * np.sqrt(p * (1 - p) / r.n), group.name


def test_offenders_are_more_common_among_special_populations(full_city, default_scenario):
    city, r = full_city
    is_offender = np.zeros(r.n, dtype=bool)
    is_offender[r.offenders] = True
    special = r.special > 0
    rate_special = is_offender[special].mean()
    rate_other = is_offender[~special].mean()
    assert rate_special > 3 * rate_other
    # Each group offends at the base share times its multiplier (5 binomial standard errors).
    params = default_scenario.residents
    for group in SpecialPopulation:
        members = r.special == group
        mult = 1.0 if group == SpecialPopulation.NONE else params.special_offender_multiplier[group.name.lower()]
        p = params.motivated_offender_share * mult
        assert abs(is_offender[members].mean() - p) < 5 * np.sqrt(p * (1 - p) / members.sum()), group.name


def _presence_by_land_use(city, r, how, land_use):
    return r.presence[how, city.land_use == land_use].sum()


def test_centre_and_commercial_streets_fill_up_on_weekday_daytime(city_and_residents):
    city, r = city_and_residents
    for lu in (LandUse.URBAN_CORE, LandUse.COMMERCIAL, LandUse.INDUSTRIAL):
        assert _presence_by_land_use(city, r, WEEKDAY_10H, lu) > 1.1 * _presence_by_land_use(city, r, WEEKDAY_3H, lu)


def test_residential_compounds_empty_on_weekday_daytime(city_and_residents):
    city, r = city_and_residents
    lu = LandUse.RESIDENTIAL
    assert _presence_by_land_use(city, r, WEEKDAY_10H, lu) < 0.9 * _presence_by_land_use(city, r, WEEKDAY_3H, lu)
    # Homes are emptier on a weekday morning than on a Sunday morning.
    cells = city.land_use == lu
    assert r.home_occupancy[WEEKDAY_10H, cells].mean() < r.home_occupancy[SUNDAY_10H, cells].mean()


def test_everyone_is_at_home_at_night_and_nobody_is_counted_twice(city_and_residents):
    city, r = city_and_residents
    np.testing.assert_allclose(r.presence[WEEKDAY_3H], city.residents)
    inhabited = city.residents > 0
    np.testing.assert_allclose(r.home_occupancy[WEEKDAY_3H, inhabited], 1.0)
    assert (r.presence.sum(axis=1) <= city.population + 1e-6).all()
    assert r.presence.shape == (HOURS_PER_WEEK, city.n_cells)
    assert r.home_occupancy.min() >= 0 and r.home_occupancy.max() <= 1


def test_commuters_work_in_their_own_county(city_and_residents):
    city, r = city_and_residents
    moving = r.day_cell != r.home_cell
    assert 0.2 < moving.mean() < 0.7
    np.testing.assert_array_equal(city.county[r.day_cell[moving]], city.county[r.home_cell[moving]])


def test_residents_are_deterministic_for_the_city_seed(city_and_residents, default_scenario):
    city, r = city_and_residents
    again = build_residents(city, default_scenario.residents)
    for field in ("day_cell", "household", "grid", "special", "offenders"):
        np.testing.assert_array_equal(getattr(r, field), getattr(again, field), err_msg=field)


def _offenders_away(city, params):
    r = build_residents(city, params)
    o = r.offenders
    return r, np.mean(r.day_cell[o] != r.home_cell[o])


def test_offender_hangouts_take_offenders_to_the_attractors(default_scenario):
    city = build_city(default_scenario.city.model_copy(update={"attractor_sites_per_100k": 10.0}), 0.1)
    off = default_scenario.residents.model_copy(update={"offender_hangout_share": 0.0})
    on = default_scenario.residents.model_copy(update={"offender_hangout_share": 1.0})
    r_off, away_off = _offenders_away(city, off)
    r_on, away_on = _offenders_away(city, on)
    # The same people; only non-commuting offenders' daytime places change.
    np.testing.assert_array_equal(r_on.offenders, r_off.offenders)
    others = np.setdiff1d(np.arange(r_on.n), r_on.offenders)
    np.testing.assert_array_equal(r_on.day_cell[others], r_off.day_cell[others])
    assert away_on > away_off + 0.3
    # Their hangouts lie mostly at the cells with attractor sites.
    moved = r_on.offenders[r_on.day_cell[r_on.offenders] != r_off.day_cell[r_off.offenders]]
    assert len(moved) > 0
    attractor_pull = city.attractor[r_on.day_cell[moved]].sum() / city.attraction[r_on.day_cell[moved]].sum()
    assert attractor_pull > city.attractor.sum() / city.attraction.sum() * 0.8
    assert (city.land_use[r_on.day_cell[moved]] <= LandUse.TOWN).all()
