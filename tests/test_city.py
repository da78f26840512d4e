"""The synthetic city (sim.space.city): presets, scaling, administrative map, lattice."""

from __future__ import annotations

import numpy as np
import pytest

from sim import PinganModel, load_scenario
from sim.scenario.schema import Scenario
from sim.space.city import LandUse, apportion, build_city, city_size
from sim.space.presets import PRESETS


def _params(preset: str, **city):
    return Scenario.model_validate({"city": {"preset": preset, **city}}).city


@pytest.fixture(scope="module")
def cities():
    """Every preset at full scale and at scale 0.05."""
    return {(name, scale): build_city(_params(name), scale) for name in PRESETS for scale in (1.0, 0.05)}


@pytest.mark.parametrize("scale", [1.0, 0.05])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_build_with_the_population_times_the_scale(cities, preset, scale):
    city = cities[(preset, scale)]
    assert city.population == round(PRESETS[preset]["population"] * scale)
    assert city.n_cells > 0
    assert (city.residents >= 0).all()
    assert city.county_names == [c["name"] for c in PRESETS[preset]["counties"]]
    # Every county is inhabited, roughly in its population share.
    shares = np.bincount(city.county, weights=city.residents, minlength=len(city.county_names)) / city.population
    expected = np.array([c["population_share"] for c in PRESETS[preset]["counties"]])
    np.testing.assert_allclose(shares, expected / expected.sum(), atol=0.01)
    # Urban residents in roughly the preset's urban share (rural towns count as urban).
    urban = city.residents[city.land_use <= LandUse.TOWN].sum() / city.population
    assert abs(urban - PRESETS[preset]["urban_share"]) < 0.05


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_main_urban_area_keeps_its_density_at_small_scale(cities, preset):
    # A scaled city is a sample at the same density: residents per urban cell do not change.
    # Tolerance: at scale 0.05 a main urban area has only 5-10 cells, and rounding the cell
    # count up dilutes it by up to 1/5.
    def density(city):
        cells = city.main_urban
        return city.residents[cells].sum() / cells.sum()

    full, small = density(cities[(preset, 1.0)]), density(cities[(preset, 0.05)])
    nominal = PRESETS[preset].get("urban_density_per_km2", 12_000.0) * 0.5**2
    assert abs(full / nominal - 1) < 0.1
    assert abs(small / full - 1) < 0.25


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_land_area_scales_with_the_city(cities, preset):
    full, small = cities[(preset, 1.0)], cities[(preset, 0.05)]
    side = full.lattice.shape[0] * full.cell_size_km
    assert abs(side**2 / PRESETS[preset]["area_km2"] - 1) < 0.05
    small_side = small.lattice.shape[0] * small.cell_size_km
    assert abs(small_side**2 / (0.05 * PRESETS[preset]["area_km2"]) - 1) < 0.1


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_villages_scale_with_the_city(cities, preset):
    # The module promises "F times the residents, towns, villages and cells".
    def villages_per_100k(city):
        return (city.land_use == LandUse.VILLAGE).sum() / city.population * 1e5

    full, small = villages_per_100k(cities[(preset, 1.0)]), villages_per_100k(cities[(preset, 0.05)])
    assert abs(small / full - 1) < 0.25


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_administrative_hierarchy_is_consistent(cities, preset):
    city = cities[(preset, 0.05)]
    n_towns = len(city.town_county)
    assert city.town.min() >= 0 and city.town.max() < n_towns
    # cell -> community -> town -> county agree with the cell's own town and county.
    np.testing.assert_array_equal(city.town_county[city.town], city.county)
    np.testing.assert_array_equal(city.community_town[city.community], city.town)
    # Every town has cells, and its police station sits in one of them.
    assert set(np.unique(city.town)) == set(range(n_towns))
    np.testing.assert_array_equal(city.town[city.station_cell], np.arange(n_towns))
    # Urban streets (街道) hold urban cells only; villages belong to rural towns.
    assert (city.land_use[city.town_is_street[city.town]] <= LandUse.INDUSTRIAL).all()
    assert not city.town_is_street[city.town[city.land_use == LandUse.VILLAGE]].any()


@pytest.mark.parametrize("scale", [1.0, 0.05])
def test_every_community_has_cells(cities, scale):
    city = cities[("suizhou", scale)]
    cells_per_community = np.bincount(city.community, minlength=len(city.community_town))
    assert (cells_per_community > 0).all(), f"empty communities: {np.flatnonzero(cells_per_community == 0)}"


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_police_station_sits_in_the_most_populous_cell_of_its_town(cities, preset):
    city = cities[(preset, 1.0)]
    for t, cell in enumerate(city.station_cell):
        assert city.residents[cell] == city.residents[city.town == t].max()


@pytest.mark.parametrize("scale", [1.0, 0.05])
def test_cells_occupy_distinct_lattice_positions(cities, scale):
    city = cities[("suizhou", scale)]
    pos = set(zip(city.ix.tolist(), city.iy.tolist(), strict=True))
    assert len(pos) == city.n_cells
    np.testing.assert_array_equal(city.lattice[city.ix, city.iy], np.arange(city.n_cells))
    assert (city.lattice >= 0).sum() == city.n_cells


@pytest.mark.parametrize("scale", [1.0, 0.05])
def test_neighbours_are_exactly_the_adjacent_inhabited_cells(cities, scale):
    city = cities[("daqing", scale)]
    nb = city.neighbours
    i, j = np.nonzero(nb >= 0)
    k = nb[i, j]
    cheb = np.maximum(np.abs(city.ix[i] - city.ix[k]), np.abs(city.iy[i] - city.iy[k]))
    assert (cheb == 1).all()
    # Symmetric: if k neighbours i, i neighbours k.
    pairs = set(zip(i.tolist(), k.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in pairs)
    # Complete: every inhabited cell one step away is listed.
    listed = np.bincount(i, minlength=city.n_cells)
    n = city.lattice.shape[0]
    for c in range(0, city.n_cells, max(1, city.n_cells // 200)):
        around = [city.lattice[x, y] for x in range(city.ix[c] - 1, city.ix[c] + 2)
                  for y in range(city.iy[c] - 1, city.iy[c] + 2)
                  if 0 <= x < n and 0 <= y < n and (x, y) != (city.ix[c], city.iy[c])]
        assert listed[c] == sum(1 for v in around if v >= 0)


def test_distance_is_the_lattice_distance_in_km(cities):
    city = cities[("suizhou", 0.05)]
    d = city.distance_km(0, np.arange(city.n_cells))
    expected = (np.abs(city.ix - city.ix[0]) + np.abs(city.iy - city.iy[0])) * city.cell_size_km
    np.testing.assert_allclose(d, expected)
    assert d[0] == 0


def test_city_is_deterministic_for_its_seed():
    a, b = build_city(_params("jincheng"), 0.1), build_city(_params("jincheng"), 0.1)
    for field in ("ix", "iy", "land_use", "county", "town", "community", "residents", "households",
                  "station_cell", "neighbours"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    other = build_city(_params("jincheng", seed=7), 0.1)
    assert other.population == a.population
    assert not (np.array_equal(other.ix, a.ix) and np.array_equal(other.iy, a.iy))


@pytest.mark.parametrize("scale", [0, -0.1, 1.5])
def test_scale_outside_zero_to_one_is_rejected(scale):
    with pytest.raises(ValueError, match="scale"):
        build_city(_params("suizhou"), scale)


@pytest.mark.parametrize("total", [0, 1, 7, 1000])
def test_apportion_splits_a_total_in_proportion(total):
    w = np.array([0.0, 1.0, 2.0, 3.5, 0.25])
    out = apportion(total, w)
    assert out.sum() == total
    assert out[0] == 0
    assert (np.abs(out - w / w.sum() * total) < 1).all()


# ------------------------------------------------------------------------ scaling
SCALE_DAYS = 91
# 0.1 is the smallest scale documented to keep rates (README); below it a county's few
# patrol units make response slower and deterrence patchier.
SMALL, LARGE = 0.1, 0.4
REPLICATES = {SMALL: 10, LARGE: 4}


@pytest.fixture(scope="module")
def rates_by_scale():
    """Rates per 100 000 residents over the first 91 counted days, per replicate.

    A replicate is a city seed and a run seed, so the spread covers both the layout of the
    city and the run's randomness.
    """
    out = {}
    for scale, n in REPLICATES.items():
        rows = []
        for k in range(n):
            s = load_scenario("suizhou_baseline", ["run.warmup_days=7", "run.years=1", f"city.seed={100 + k}"])
            m = PinganModel(s, seed=k, scale=scale)
            for _ in range((7 + SCALE_DAYS) * 24):
                m.step()
            rows.append(m.year_rows()[0])
        out[scale] = rows
    return out


def _agree_within_replicate_noise(rates_by_scale, metric):
    a = np.array([r[metric] for r in rates_by_scale[SMALL]])
    b = np.array([r[metric] for r in rates_by_scale[LARGE]])
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    assert a.mean() > 0 and b.mean() > 0
    assert abs(a.mean() - b.mean()) < 3 * se, (
        f"{metric}: {a.mean():.1f} at scale {SMALL} vs {b.mean():.1f} at scale {LARGE}, "
        f"difference {abs(a.mean() - b.mean()):.1f} > 3 SE = {3 * se:.1f}")


@pytest.mark.slow
def test_calls_for_service_per_100k_agree_across_scales(rates_by_scale):
    _agree_within_replicate_noise(rates_by_scale, "calls_for_service_per_100k")


@pytest.mark.slow
def test_preventable_cases_per_100k_agree_across_scales(rates_by_scale):
    _agree_within_replicate_noise(rates_by_scale, "preventable_cases_per_100k")


# ------------------------------------------------------------------------ attractors
def test_attractors_concentrate_the_city_pull_far_beyond_residents():
    # Markets, stations, nightlife streets: heavy-tailed pull on a few built-up cells.
    city = build_city(_params("suizhou", attractor_sites_per_100k=10), 0.1)
    top = max(1, int(np.ceil(0.05 * city.n_cells)))

    def top_share(v):
        return np.sort(v)[::-1][:top].sum() / v.sum()

    assert (city.attractor >= 0).all() and city.attractor.sum() > 0
    assert (city.attractor[city.land_use == LandUse.VILLAGE] == 0).all()  # only built-up cells
    # Together the sites weigh attractor_weight times the cells' own pull.
    own = city.attraction - city.attractor
    assert city.attractor.sum() == pytest.approx(city.params.attractor_weight * own.sum())
    assert top_share(city.attraction) > top_share(city.residents) + 0.3


def test_attractors_are_deterministic_for_a_seed_and_change_with_it():
    on = _params("suizhou", attractor_sites_per_100k=10)
    a, b = build_city(on, 0.1), build_city(on, 0.1)
    np.testing.assert_array_equal(a.attractor, b.attractor)
    other = build_city(_params("suizhou", attractor_sites_per_100k=10, seed=7), 0.1)
    assert not np.array_equal(a.attractor, other.attractor)  # array_equal is False for other shapes too


def test_switching_attractors_off_leaves_the_layout_unchanged():
    on = build_city(_params("suizhou", attractor_sites_per_100k=10), 0.1)
    off = build_city(_params("suizhou", attractor_sites_per_100k=0), 0.1)  # 0 switches them off
    assert off.attractor.sum() == 0
    for name in ("ix", "iy", "land_use", "residents", "households", "town", "community"):
        np.testing.assert_array_equal(getattr(on, name), getattr(off, name))
    np.testing.assert_allclose(on.attraction - on.attractor, off.attraction)


def test_a_heavier_tail_puts_more_pull_on_the_largest_site():
    def largest(shape):
        c = build_city(_params("suizhou", attractor_sites_per_100k=10, attractor_pareto_shape=shape), 0.1)
        return c.attractor.max() / c.attractor.sum()

    assert largest(0.8) > largest(1.2) > largest(3.0)


def test_attractor_siting_names_must_be_land_uses():
    with pytest.raises(ValueError, match="attractor_siting"):
        _params("suizhou", attractor_siting={"stadium": 1.0})


@pytest.mark.parametrize("preset", ["suizhou", "daqing", "jincheng", "xingan"])
@pytest.mark.parametrize("scale", [0.05, 0.3])
def test_the_size_computed_before_building_is_the_size_built(preset, scale):
    params = _params(preset)
    size, city = city_size(params, scale), build_city(params, scale)
    assert size.residents == city.population and size.lattice_side == city.lattice.shape[0]
    assert size.cells >= city.n_cells >= 0.95 * size.cells  # an upper bound: a village may be left empty
    assert size.households >= int(city.households.sum())
    assert size.attractor_sites >= int((city.attractor > 0).sum())


def test_a_city_whose_cells_do_not_fit_its_area_is_refused_before_it_is_laid_out():
    params = _params("suizhou", towns_per_county=1000, villages_per_town=500)
    with pytest.raises(ValueError, match="the city needs up to 1,503,292 cells but its area at scale 1 holds 38,809"):
        build_city(params, 1.0)
