"""A planner's own city from GIS files (sim.space.gis, ``pingan city build``): checks before work, then a city."""

from __future__ import annotations

import numpy as np
import pytest

gpd = pytest.importorskip("geopandas", reason="needs the [geo] extra")
shapely = pytest.importorskip("shapely")

from sim import PinganModel, load_scenario  # noqa: E402
from sim.cli import main  # noqa: E402
from sim.space.city import build_city  # noqa: E402
from sim.space.geography import GeographyError  # noqa: E402
from sim.space.geography_files import load_geography  # noqa: E402
from sim.space.gis import CityInputs, build_city_file  # noqa: E402

# Two districts side by side near Suizhou (lon/lat): 0.3° x 0.2°, about 28 x 22 km each.
WEST = shapely.box(113.0, 31.6, 113.3, 31.8)
EAST = shapely.box(113.3, 31.6, 113.6, 31.8)


def _districts(tmp_path, geoms=(WEST, EAST), pops=(300_000, 120_000), crs="EPSG:4326", name="districts.gpkg"):
    df = gpd.GeoDataFrame({"name": ["West", "East"][: len(geoms)], "pop": list(pops)}, geometry=list(geoms), crs=crs)
    path = tmp_path / name
    df.to_file(path, driver="GPKG")
    return str(path)


def _points(tmp_path, xy, name):
    path = tmp_path / name
    gpd.GeoDataFrame(geometry=gpd.points_from_xy(*np.asarray(xy).T), crs="EPSG:4326").to_file(path, driver="GPKG")
    return str(path)


def test_a_city_file_from_districts_and_points_runs_in_the_model(tmp_path):
    stations = _points(tmp_path, [(113.15, 31.7), (113.45, 31.7)], "stations.gpkg")
    market = _points(tmp_path, [(113.16, 31.71), (150.0, 0.0)], "markets.gpkg")  # the second is outside: dropped
    out = tmp_path / "city.gpkg"
    geo = build_city_file(CityInputs(_districts(tmp_path), population_field="pop", stations=stations,
                                     attractors=market), out)
    assert [d.name for d in geo.districts] == ["West", "East"]
    assert [d.population for d in geo.districts] == [300_000, 120_000]
    assert len(geo.stations) == 2 and len(geo.attractors) == 1
    # Areas are those of the lon/lat boxes in an equal-area projection (~28.5 x 22.2 km).
    assert 600 < geo.districts[0].area_km2 < 660
    scen = load_scenario("suizhou_baseline", [f"city.geography={out}", "run.years=1", "run.warmup_days=1",
                                              "city.towns_per_county=3"])
    assert [c.name for c in scen.city.counties] == ["West", "East"]
    assert scen.city.counties[0].main_urban_area  # the most populous, unless --main-urban says otherwise
    assert build_city(scen.city, 0.05).population == round(420_000 * 0.05)
    # The one market inside the city is an attractor site, in West; each town's station is a real one.
    city = build_city(scen.city, 1.0)
    assert (city.attractor > 0).sum() == 1 and city.county[np.argmax(city.attractor)] == 0
    model = PinganModel(scen, seed=1, scale=0.05)
    for _ in range(48):
        model.step()


def test_pingan_city_build_writes_the_city_file_and_reports_its_districts(tmp_path, capsys):
    out = tmp_path / "c.gpkg"
    assert main(["city", "build", _districts(tmp_path), "-o", str(out), "--population-field", "pop",
                 "--main-urban", "East"]) == 0
    assert "West" in capsys.readouterr().out
    geo = load_geography(str(out))
    assert [d.main_urban_area for d in geo.districts] == [False, True]


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: _districts(p, crs=None), r"no coordinate reference system"),
    (lambda p: _districts(p, geoms=(WEST, shapely.Polygon())), r"feature 1 \(name='East'\): empty geometry"),
    (lambda p: _districts(p, geoms=(WEST, shapely.Polygon([(113.3, 31.6), (113.6, 31.8), (113.6, 31.6),
                                                           (113.3, 31.8)]))),
     r"feature 1 \(name='East'\): invalid polygon \(Self-intersection"),
    (lambda p: _districts(p, pops=(300_000, float("nan"))), r"feature 1 \(name='East'\): field 'pop': expected a "
                                                            r"positive number of residents"),
    (lambda p: _districts(p, pops=(300_000, 0)), r"field 'pop': expected a positive number"),
])
def test_bad_districts_are_refused_naming_the_file_and_the_field(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(GeographyError, match=message) as err:
        build_city_file(CityInputs(path, population_field="pop"), tmp_path / "out.gpkg")
    assert "districts.gpkg" in str(err.value)
    assert not (tmp_path / "out.gpkg").exists()  # refused before any output


def test_a_missing_population_field_names_the_fields_there_are(tmp_path):
    with pytest.raises(GeographyError, match=r"field 'population' not found \(have: name, pop\)"):
        build_city_file(CityInputs(_districts(tmp_path)), tmp_path / "out.gpkg")


def _raster(tmp_path, west: float, south: float, crs="EPSG:4326"):
    """A 0.2° x 0.2° population raster (10 x 20 pixels of 50 residents) from (west, south)."""
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    path = tmp_path / "pop.tif"
    data = np.full((20, 10), 50.0, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", height=20, width=10, count=1, dtype="float32", crs=crs,
                       transform=from_origin(west, south + 0.2, 0.02, 0.01)) as dst:
        dst.write(data, 1)
    return str(path)


def test_a_raster_that_does_not_overlap_the_districts_is_refused(tmp_path):
    path = _raster(tmp_path, 10.0, 50.0)  # in Europe
    with pytest.raises(GeographyError, match=r"pop.tif: the raster does not overlap the districts"):
        build_city_file(CityInputs(_districts(tmp_path), population_field="pop", raster=path), tmp_path / "o.gpkg")


def test_a_population_raster_places_the_villages_where_people_live(tmp_path):
    # The raster covers the western two thirds of West only: West's villages all fall there.
    path = _raster(tmp_path, 113.0, 31.6)
    geo = build_city_file(CityInputs(_districts(tmp_path), population_field="pop", raster=path), tmp_path / "o.gpkg")
    surface = geo.population_points
    assert surface is not None and abs(surface[:, 2].sum() - 200 * 50) < 200 * 50 * 0.01
    scen = load_scenario("suizhou_baseline", [f"city.geography={tmp_path / 'o.gpkg'}", "city.towns_per_county=2"])
    city = build_city(scen.city, 1.0)
    assert city.population == 420_000
    layers = city.map_layers
    x_m = layers.origin_m[0] + city.x_km * 1000
    villages = (city.land_use == 5) & (city.county == 0)
    assert villages.sum() > 10
    assert (x_m[villages] <= surface[:, 0].max() + city.cell_size_km * 1000).all()


def test_building_without_the_geo_extra_names_it(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_geopandas(name, *args, **kwargs):
        if name == "geopandas":
            raise ImportError("no", name="geopandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_geopandas)
    with pytest.raises(GeographyError, match=r"needs the \[geo\] extra.*pip install -e '\.\[geo\]'"):
        build_city_file(CityInputs("x.gpkg"), tmp_path / "o.gpkg")


def test_pingan_city_build_refuses_bad_input_with_exit_status_2_and_one_line(tmp_path, capsys):
    path = _districts(tmp_path, pops=(300_000, -5))
    assert main(["city", "build", path, "-o", str(tmp_path / "c.gpkg"), "--population-field", "pop"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pingan: ") and "districts.gpkg: feature 1 (name='East'): field 'pop'" in err
    assert main(["city", "build", path, "-o", str(tmp_path / "c.txt")]) == 2  # not a GeoPackage
    assert not (tmp_path / "c.gpkg").exists()
