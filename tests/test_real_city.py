"""Real cities (sim.space.real_city, sim.space.geography): the seed cities on their real district maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as MplPath

from sim import PinganModel, load_scenario
from sim.scenario.loader import ScenarioError
from sim.scenario.schema import Scenario
from sim.space.city import LandUse, build_city
from sim.space.geography import builtin_geographies, rasterise
from sim.space.geography_files import load_geography

SEEDS = ["daqing", "jincheng", "suizhou", "xingan"]


def _params(name: str, **city):
    return Scenario.model_validate({"city": {"preset": name, "geography": name, **city}}).city


@pytest.fixture(scope="module")
def cities():
    return {(name, scale): build_city(_params(name), scale) for name in SEEDS for scale in (1.0, 0.1)}


def test_the_four_seed_cities_ship_as_built_in_geographies():
    assert builtin_geographies() == SEEDS
    for name in SEEDS:
        geo = load_geography(name)
        assert all(d.population > 0 and d.population_source for d in geo.districts)
    codes = [d.code for d in load_geography("suizhou").districts]
    assert codes == ["421303", "421321", "421381"]


@pytest.mark.parametrize("name", SEEDS)
def test_each_district_has_its_source_area_and_census_population_within_one_percent(cities, name):
    geo, city = load_geography(name), cities[(name, 1.0)]
    layers = city.map_layers
    cell_km2 = city.cell_size_km**2
    for k, d in enumerate(geo.districts):
        area = (layers.district == k).sum() * cell_km2
        assert abs(area / d.area_km2 - 1) < 0.01, (d.name, area, d.area_km2)
        people = city.residents[city.county == k].sum()
        assert abs(people / d.population - 1) < 0.01, (d.name, people, d.population)
    assert city.county_names == [d.name for d in geo.districts]


@pytest.mark.parametrize("scale", [1.0, 0.1])
@pytest.mark.parametrize("name", SEEDS)
def test_every_resident_lives_inside_their_district_outline(cities, name, scale):
    # An independent point-in-polygon test (matplotlib's) on every inhabited cell's centre.
    geo, city = load_geography(name), cities[(name, scale)]
    origin = city.map_layers.origin_m
    xy = np.column_stack([origin[0] + city.x_km * 1000, origin[1] + city.y_km * 1000])
    for k, d in enumerate(geo.districts):
        mine = city.county == k
        inside = np.zeros(mine.sum(), dtype=int)
        for poly in d.polygons:
            for ring in poly:  # even-odd: inside an odd number of rings
                inside += MplPath(ring).contains_points(xy[mine])
        assert (inside % 2 == 1).all(), f"{d.name}: {(inside % 2 == 0).sum()} cells outside the outline"


@pytest.mark.parametrize("name", SEEDS)
def test_a_scaled_real_city_is_a_sample_of_whole_jurisdictions_in_every_district(cities, name):
    full, small = cities[(name, 1.0)], cities[(name, 0.1)]
    assert small.population == round(full.population * 0.1)
    # Every district is in the sample, with about its share of the residents.
    shares = np.bincount(small.county, weights=small.residents) / small.population
    np.testing.assert_allclose(shares, np.bincount(full.county, weights=full.residents) / full.population, atol=0.002)
    # The map is the whole city either way; the sample covers a part of it, every cell inside it.
    layers = small.map_layers
    np.testing.assert_array_equal(layers.district, full.map_layers.district)
    assert full.map_layers.sampled_share() == 1.0
    assert 0.05 < layers.sampled_share() < 0.3
    assert layers.sampled[small.ix, small.iy].all()
    # Towns and villages scale with the city, as in the synthetic city (F times, within rounding).
    villages = [(c.land_use == LandUse.VILLAGE).sum() for c in (full, small)]
    assert 0.06 < villages[1] / villages[0] < 0.2


@pytest.mark.parametrize("name", SEEDS)
def test_real_cities_keep_the_administrative_hierarchy_of_the_synthetic_city(cities, name):
    city = cities[(name, 0.1)]
    n_towns = len(city.town_county)
    np.testing.assert_array_equal(city.town_county[city.town], city.county)
    np.testing.assert_array_equal(city.community_town[city.community], city.town)
    assert set(np.unique(city.town)) == set(range(n_towns))
    assert (np.bincount(city.community, minlength=len(city.community_town)) > 0).all()
    np.testing.assert_array_equal(city.town[city.station_cell], np.arange(n_towns))
    assert (city.land_use[city.town_is_street[city.town]] <= LandUse.INDUSTRIAL).all()
    # Distinct lattice squares, and the lattice points back at each cell.
    np.testing.assert_array_equal(city.lattice[city.ix, city.iy], np.arange(city.n_cells))
    assert (np.diff(city.community) >= 0).all()  # cells ordered by community (residents grouped by it)


def test_a_real_city_is_reproducible_from_its_seed_and_changes_with_it():
    a, b = build_city(_params("jincheng"), 0.1), build_city(_params("jincheng"), 0.1)
    for f in ("ix", "iy", "land_use", "county", "town", "community", "residents", "attraction", "station_cell"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    other = build_city(_params("jincheng", seed=7), 0.1)
    assert other.population == a.population
    assert not np.array_equal(other.ix, a.ix)


def test_same_seed_gives_the_same_rows_on_a_real_map():
    scen = load_scenario("suizhou_2022_real", ["run.years=1", "run.warmup_days=2", "run.first_year=2022"])
    rows = []
    for _ in range(2):
        model = PinganModel(scen, seed=5, scale=0.03)
        model.run()
        rows.append(model.year_rows())
    pd.testing.assert_frame_equal(pd.DataFrame(rows[0]), pd.DataFrame(rows[1]))  # NaN equals NaN here
    assert rows[0][0]["preventable_cases"] > 0


def test_the_real_scenarios_keep_the_package_and_take_the_real_districts():
    real, synthetic = load_scenario("suizhou_2022_real"), load_scenario("suizhou_2022")
    assert real.city.geography == "suizhou" and synthetic.city.geography is None
    assert real.interventions == synthetic.interventions
    assert [c.name for c in real.city.counties] == ["Zengdu", "Sui County", "Guangshui"]
    assert real.city.population == load_geography("suizhou").population
    assert [c.name for c in load_scenario("daqing_2021_real").city.counties][-1] == "Dorbod"


def test_an_unknown_geography_is_an_error_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: suizhou_baseline\ncity:\n  geography: atlantis\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml.*city.geography.*atlantis.*suizhou"):
        load_scenario(bad)


def test_rasterise_keeps_holes_and_counts_squares_by_their_centres():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], dtype=float)
    hole = np.array([[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]], dtype=float)
    inside = rasterise([[square, hole]], (0.0, 0.0), 1.0, (12, 12))
    assert inside.sum() == 100 - 4
    assert not inside[4:6, 4:6].any() and inside[0, 0] and not inside[10, 0]
