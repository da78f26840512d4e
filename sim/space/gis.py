"""A planner's own city from standard GIS files (GeoPandas, pyogrio, shapely, pyproj, rasterio).

``pingan city build DISTRICTS -o city.gpkg`` reads district or county polygons (GeoJSON,
GeoPackage, shapefile: anything pyogrio reads, in any CRS) with a population per district, and
optionally a population raster (GeoTIFF) to spread residents inside districts, point layers of
attractors (markets, transport hubs, nightlife, car parks), existing police stations, camera sites and
district seats. Everything is checked before any work, with an error naming the file and the field
(:class:`~sim.space.geography.GeographyError`): a missing CRS, empty or invalid polygons, a district
without population, a raster that does not overlap the districts. The layers are reprojected to one
metric CRS (by default a Lambert azimuthal equal-area projection centred on the city, so areas are
exact) and written to a GeoPackage that a scenario names as ``city.geography`` and any GIS opens.

These libraries are heavy, so they are the optional extra ``[geo]`` (``pip install -e ".[geo]"``);
without it this module raises an error naming the extra. The built-in seed cities do not need it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim._data import install_hint
from sim.space.geography import District, Geography, GeographyError

__all__ = ["CityInputs", "build_city_file", "read_city_file", "local_equal_area_crs", "require_geo",
           "MAX_RASTER_PIXELS", "SEAT_PRECISION_M"]

#: Largest number of raster pixels read at full resolution; a larger raster is read averaged over
#: blocks (population is conserved: block sums), which keeps a city's surface under ~100 MB.
MAX_RASTER_PIXELS = 4_000_000
#: Precision of the seat found inside a district without a seat point (pole of inaccessibility) [m].
SEAT_PRECISION_M = 100.0
_LAYERS = ("districts", "attractors", "stations", "cameras", "population")


def require_geo():
    """Import the GIS libraries, or fail with an error naming the ``[geo]`` extra."""
    try:
        import geopandas
        import pyogrio  # noqa: F401
        import pyproj  # noqa: F401
        import shapely  # noqa: F401
    except ImportError as e:
        raise GeographyError(f"building a city from GIS files needs the [geo] extra (GeoPandas, pyogrio, shapely, "
                             f"pyproj, rasterio): {install_hint('geo')} (missing: {e.name})") from None
    return geopandas


def local_equal_area_crs(lon: float, lat: float) -> str:
    """A Lambert azimuthal equal-area projection centred on (lon, lat), in metres (PROJ string)."""
    return f"+proj=laea +lat_0={lat:.2f} +lon_0={lon:.2f} +datum=WGS84 +units=m +no_defs"


@dataclass
class CityInputs:
    """The GIS inputs of a city (file paths; fields of the districts file).

    Attributes:
        districts: Polygons of the districts or counties.
        name_field, code_field, population_field: Their fields (the code defaults to the row number).
        main_urban: Names of the districts holding the main urban area (default: the most populous).
        raster: Population raster (GeoTIFF) spreading residents inside districts.
        attractors, stations, cameras, seats: Point layers; ``attractor_weight_field`` the
            attractors' relative pull (default 1 each); a seat is the centre of a district's urban area.
        crs: Metric CRS to work in (default: a local equal-area projection).
        name: The city's name (default: the districts file's stem).
    """

    districts: str
    name_field: str = "name"
    code_field: str | None = None
    population_field: str = "population"
    main_urban: list[str] | None = None
    raster: str | None = None
    attractors: str | None = None
    attractor_weight_field: str | None = None
    stations: str | None = None
    cameras: str | None = None
    seats: str | None = None
    crs: str | None = None
    name: str | None = None


def _read(path: str, what: str):
    gpd = require_geo()
    p = Path(path)
    if not p.exists():
        raise GeographyError(f"{path}: {what} file not found")
    try:
        df = gpd.read_file(p)
    except Exception as e:  # pyogrio raises its own errors for unreadable files
        raise GeographyError(f"{path}: not a readable {what} file ({e})") from None
    if df.crs is None:
        raise GeographyError(f"{path}: no coordinate reference system (CRS); give the file one (a .prj beside a "
                             "shapefile, the SRS of a GeoPackage layer; GeoJSON is always lon/lat WGS84)")
    if len(df) == 0:
        raise GeographyError(f"{path}: the {what} layer has no features")
    return df


def _check_districts(df, inputs: CityInputs):
    import shapely

    path = inputs.districts
    for f in (inputs.name_field, inputs.population_field, inputs.code_field):
        if f is not None and f not in df.columns:
            have = [c for c in df.columns if c != "geometry"]
            raise GeographyError(f"{path}: field '{f}' not found (have: {', '.join(have)})")
    problems = []
    names = df[inputs.name_field].astype(str).tolist()
    for i, (name, geom, pop) in enumerate(zip(names, df.geometry, df[inputs.population_field], strict=True)):
        who = f"{path}: feature {i} ({inputs.name_field}={name!r})"
        if geom is None or geom.is_empty:
            problems.append(f"{who}: empty geometry")
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"{who}: a {geom.geom_type}, expected a Polygon or MultiPolygon")
        elif not geom.is_valid:
            problems.append(f"{who}: invalid polygon ({shapely.is_valid_reason(geom)}); repair it "
                            "(e.g. shapely.make_valid or QGIS 'Fix geometries') and build again")
        try:
            value = float(pop)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            problems.append(f"{who}: field '{inputs.population_field}': expected a positive number of residents, "
                            f"got {pop!r}")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        problems.append(f"{path}: field '{inputs.name_field}': names must be unique, repeated: {dup}")
    unknown = sorted(set(inputs.main_urban or []) - set(names))
    if unknown:
        problems.append(f"--main-urban: {unknown} not among the districts' names {names}")
    if problems:
        raise GeographyError("invalid districts:\n  " + "\n  ".join(problems) if len(problems) > 1 else problems[0])


def _points(path: str | None, what: str, crs, districts_union, weight_field: str | None = None):
    """A point layer in ``crs`` (points outside every district dropped): (xy array, weights)."""
    if path is None:
        return np.zeros((0, 2)), np.zeros(0)
    df = _read(path, what).to_crs(crs)
    bad = [i for i, g in enumerate(df.geometry) if g is None or g.is_empty or g.geom_type != "Point"]
    if bad:
        raise GeographyError(f"{path}: feature {bad[0]}: expected a Point ({len(bad)} features are not points)")
    if weight_field is not None and weight_field not in df.columns:
        raise GeographyError(f"{path}: field '{weight_field}' not found")
    inside = df.geometry.within(districts_union).to_numpy()
    xy = np.column_stack([df.geometry.x.to_numpy(), df.geometry.y.to_numpy()])[inside]
    w = (df[weight_field].to_numpy(dtype=float) if weight_field else np.ones(len(df)))[inside]
    return xy, w


def _raster_points(path: str, crs, districts_union) -> np.ndarray:
    """A population raster as points (x, y in ``crs``, residents), inside the districts only."""
    try:
        import rasterio
        from rasterio.enums import Resampling
    except ImportError:
        raise GeographyError("a population raster needs rasterio, part of the [geo] extra: "
                             f"{install_hint('geo')}") from None
    import pyproj
    import shapely

    if not Path(path).exists():
        raise GeographyError(f"{path}: raster file not found")
    try:
        src = rasterio.open(path)
    except Exception as e:  # rasterio raises RasterioIOError and others
        raise GeographyError(f"{path}: not a readable raster ({e})") from None
    with src:
        if src.crs is None:
            raise GeographyError(f"{path}: the raster has no coordinate reference system (CRS)")
        to_city = pyproj.Transformer.from_crs(src.crs, crs, always_xy=True)
        b = src.bounds
        xs, ys = to_city.transform([b.left, b.right, b.right, b.left], [b.bottom, b.bottom, b.top, b.top])
        box = shapely.Polygon(list(zip(xs, ys, strict=True)))
        if not box.intersects(districts_union):
            raise GeographyError(f"{path}: the raster does not overlap the districts (raster bounds "
                                 f"{[round(v) for v in box.bounds]}, districts "
                                 f"{[round(v) for v in districts_union.bounds]} in the city's CRS [m]); is it the "
                                 "right file, or is its CRS wrong?")
        factor = max(1, math.ceil(math.sqrt(src.width * src.height / MAX_RASTER_PIXELS)))
        shape = (max(1, src.height // factor), max(1, src.width // factor))
        band = src.read(1, out_shape=shape, resampling=Resampling.average, masked=True).astype(np.float64)
        band *= (src.height / shape[0]) * (src.width / shape[1])  # block means back to block sums
        rows, cols = np.nonzero(~np.ma.getmaskarray(band) & (band.filled(0) > 0))
        vals = band[rows, cols].filled(0)
        transform = src.transform @ src.transform.scale(src.width / shape[1], src.height / shape[0])
    px, py = transform @ (cols + 0.5, rows + 0.5)
    x, y = to_city.transform(np.asarray(px), np.asarray(py))
    inside = shapely.contains_xy(districts_union, x, y)
    return np.column_stack([np.asarray(x)[inside], np.asarray(y)[inside], vals[inside]])


def build_city_file(inputs: CityInputs, out: str | Path) -> Geography:
    """Check, reproject and write a city's GIS inputs to a GeoPackage (layers ``districts``, ``attractors``,
    ``stations``, ``cameras``, ``population``) that ``city.geography`` can name.

    Raises:
        GeographyError: Naming the file and the field of the first problem found, before any output.
    """
    gpd = require_geo()
    import shapely
    from shapely.ops import polylabel

    df = _read(inputs.districts, "districts")
    _check_districts(df, inputs)
    if inputs.crs:
        crs = inputs.crs
    else:
        c = df.to_crs("EPSG:4326").geometry.union_all().centroid
        crs = local_equal_area_crs(c.x, c.y)
    df = df.to_crs(crs)
    union = df.geometry.union_all()
    seats_xy, _ = _points(inputs.seats, "seats", crs, union)
    attractors, weights = _points(inputs.attractors, "attractors", crs, union, inputs.attractor_weight_field)
    stations, _ = _points(inputs.stations, "stations", crs, union)
    cameras, _ = _points(inputs.cameras, "cameras", crs, union)
    surface = _raster_points(inputs.raster, crs, union) if inputs.raster else np.zeros((0, 3))

    names = df[inputs.name_field].astype(str).tolist()
    pops = df[inputs.population_field].astype(float).round().astype(np.int64).tolist()
    mains = set(inputs.main_urban or [names[int(np.argmax(pops))]])
    seats = []
    for geom in df.geometry:
        inside = [p for p in seats_xy if geom.contains(shapely.Point(p))]
        if inside:
            seats.append(tuple(inside[0]))
        else:
            part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
            pt = polylabel(part, SEAT_PRECISION_M)
            seats.append((pt.x, pt.y))
    codes = df[inputs.code_field].astype(str).tolist() if inputs.code_field else [str(i) for i in range(len(df))]
    source = f"built by `pingan city build` from {Path(inputs.districts).name}"
    table = gpd.GeoDataFrame({
        "code": codes, "name": names, "population": pops, "main_urban_area": [n in mains for n in names],
        "area_km2": (df.geometry.area / 1e6).round(3).tolist(), "seat_x": [s[0] for s in seats],
        "seat_y": [s[1] for s in seats], "population_source": [f"{Path(inputs.districts).name}, field "
                                                              f"'{inputs.population_field}'"] * len(df),
        "source": [source] * len(df)}, geometry=df.geometry.to_list(), crs=crs)
    out = Path(out)
    if out.exists():
        out.unlink()
    table.to_file(out, layer="districts", driver="GPKG")
    for layer, xy, extra in (("attractors", attractors, {"weight": weights}), ("stations", stations, {}),
                             ("cameras", cameras, {}), ("population", surface[:, :2], {"residents": surface[:, 2]})):
        if len(xy):
            gpd.GeoDataFrame(extra, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs).to_file(
                out, layer=layer, driver="GPKG")
    return read_city_file(str(out))


def read_city_file(path: str) -> Geography:
    """Read a GeoPackage written by :func:`build_city_file` (or any with a compatible ``districts`` layer).

    Raises:
        GeographyError: A missing layer or field, named with the file.
    """
    gpd = require_geo()
    import pyogrio

    layers = {row[0] for row in pyogrio.list_layers(path)}
    if "districts" not in layers:
        raise GeographyError(f"{path}: no 'districts' layer (have: {sorted(layers)}); build it with "
                             "`pingan city build`")
    df = gpd.read_file(path, layer="districts")
    if df.crs is None or not df.crs.is_projected:
        raise GeographyError(f"{path}: layer 'districts': expected a projected (metric) CRS, got {df.crs}")
    for f in ("name", "population", "area_km2", "seat_x", "seat_y"):
        if f not in df.columns:
            raise GeographyError(f"{path}: layer 'districts': field '{f}' not found")
    districts = []
    for row in df.itertuples(index=False):
        polys = []
        for part in getattr(row.geometry, "geoms", [row.geometry]):
            polys.append([np.asarray(part.exterior.coords)[:, :2]] +
                         [np.asarray(r.coords)[:, :2] for r in part.interiors])
        districts.append(District(code=str(getattr(row, "code", "")), name=str(row.name),
                                  population=int(row.population), area_km2=float(row.area_km2), polygons=polys,
                                  seat=(float(row.seat_x), float(row.seat_y)),
                                  main_urban_area=bool(getattr(row, "main_urban_area", False)),
                                  population_source=str(getattr(row, "population_source", ""))))

    def points(layer: str, field: str | None = None):
        if layer not in layers:
            return np.zeros((0, 2)), np.zeros(0)
        pts = gpd.read_file(path, layer=layer)
        xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
        return xy, (pts[field].to_numpy(dtype=float) if field else np.ones(len(pts)))

    attractors, weight = points("attractors", "weight")
    surface, residents = points("population", "residents")
    return Geography(name=Path(path).stem, crs=df.crs.to_wkt(), districts=districts,
                     source=str(df["source"].iloc[0]) if "source" in df.columns else "", path=str(path),
                     attractors=attractors, attractor_weight=weight, stations=points("stations")[0],
                     cameras=points("cameras")[0],
                     population_points=np.column_stack([surface, residents]) if len(surface) else None)
