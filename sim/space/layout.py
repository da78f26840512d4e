"""What a city is made of: its parameters, land uses, the City record of cells, and the helpers both builders use.

The synthetic builder (:mod:`sim.space.city`) and the real-map builder (:mod:`sim.space.real_city`)
both lay a city out on a square lattice with these pieces; keeping them here, below both builders,
lets :func:`sim.space.city.build_city` hand a real geography to the real-map builder without an
import cycle. Everything is re-exported by :mod:`sim.space.city`, the module users import.

Only inhabited cells are stored, as parallel arrays (structure of arrays). The hierarchy is
cell → grid (网格) → community or village (社区/村) → town or street (乡镇/街道) → county
(区县) → city; grids are held per resident (an urban cell holds several grids, a village
cell one). Every town or street has one police station (派出所) whose jurisdiction is that
town or street.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from math import ceil, pi, sqrt

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.params import MAX_AREA_KM2, MAX_POPULATION, Params
from sim.rng import stream
from sim.space.presets import PRESETS

__all__ = ["LandUse", "CountySpec", "CityParams", "City", "apportion", "seat_cluster"]

#: Most county-level units of a city (Chongqing, the largest, has 38).
MAX_COUNTIES = 100
#: Most rural towns per county at full scale (real counties have 10–40).
MAX_TOWNS_PER_COUNTY = 1_000
#: Most villages per rural town (real towns have 10–50).
MAX_VILLAGES_PER_TOWN = 500
#: Smallest cell side [km]: a street block.
MIN_CELL_KM = 0.1
#: Residents per km² of built-up urban land: from a sparse suburb to beyond the densest district on record.
MIN_URBAN_DENSITY = 100.0
MAX_URBAN_DENSITY = 200_000.0
#: Fewest residents of an urban street (街道); real ones have tens of thousands.
MIN_RESIDENTS_PER_STREET = 1_000
#: Fewest residents of a grid (网格); real grids are a few hundred households.
MIN_RESIDENTS_PER_GRID = 50
#: Largest mean household [residents].
MAX_HOUSEHOLD_SIZE = 20.0
#: Most attractor sites per 100 000 residents: one per 100 residents.
MAX_ATTRACTORS_PER_100K = 1_000.0


class LandUse(IntEnum):
    """Land use of a cell."""

    URBAN_CORE = 0
    COMMERCIAL = 1
    RESIDENTIAL = 2
    INDUSTRIAL = 3
    TOWN = 4
    VILLAGE = 5


class CountySpec(Params):
    """One county-level unit (区/县/县级市/旗)."""

    name: str
    population_share: float = Field(gt=0, le=1, description="Share of the city's residents.")
    main_urban_area: bool = Field(False, description="Holds the city's main urban area.")


class CityParams(Params):
    """Size and shape of a synthetic city. A ``preset`` fills every field not given."""

    preset: str | None = Field(None, description="One of sim.space.presets.PRESETS.")
    geography: str | None = Field(
        None, description="Real districts to lay the city out in: a built-in geography (the seed cities' "
        "real outlines: suizhou, daqing, jincheng, xingan) or a city file from `pingan city build`. With "
        "one, population, area_km2 and counties are the geography's (sim.space.geography).")
    incidents: str | None = Field(
        None, description="Incident records (CSV: time, type, location; sim.space.incidents) placing the "
        "attractor pull: each cell's pull is its share of the records times attractor_weight. Needs a geography.")
    seed: int = Field(2022, ge=0, description="Seed of the city's layout and population.")
    population: int = Field(ge=1, le=MAX_POPULATION,
                            description="Residents at full scale (2020 census, seed-facts).")
    area_km2: float = Field(gt=0, le=MAX_AREA_KM2, description="Land area at full scale [km²].")
    urban_share: float = Field(ge=0, le=1, description="Share of residents in urban cells.")
    counties: list[CountySpec] = Field(min_length=1, max_length=MAX_COUNTIES, description="County-level units "
                                       f"(at most {MAX_COUNTIES}; Chongqing, the largest city, has 38).")
    towns_per_county: int = Field(ge=1, le=MAX_TOWNS_PER_COUNTY, description="Rural towns per county at full "
                                  f"scale (at most {MAX_TOWNS_PER_COUNTY}: a Chinese county has 10–40).")
    villages_per_town: int = Field(20, ge=1, le=MAX_VILLAGES_PER_TOWN, description="Villages per rural town "
                                   f"(assumed; at most {MAX_VILLAGES_PER_TOWN}: a town has 10–50, each village "
                                   "is a cell of the map).")
    cell_size_km: float = Field(0.5, ge=MIN_CELL_KM, le=5, description="Side of a cell [km] (brief: 0.2–0.5; at "
                                f"least {MIN_CELL_KM}, a street block: the map has area / size² positions, "
                                "and a smaller cell holds too few residents for its rates to mean anything).")
    urban_density_per_km2: float = Field(
        12_000.0, ge=MIN_URBAN_DENSITY, le=MAX_URBAN_DENSITY,
        description=f"Mean residents per km² in built-up urban cells (assumed; {MIN_URBAN_DENSITY:,.0f}–"
        f"{MAX_URBAN_DENSITY:,.0f}: below, the place is countryside, not built-up; above, denser than Mong "
        "Kok, the densest district on record at about 130 000; urban cells = urban residents / density)."
    )
    main_county_urban_share: float = Field(
        0.85, ge=0, le=1, description="Urban share in the county holding the main urban area."
    )
    seat_share_of_urban: float = Field(
        0.8, gt=0, le=1, description="Share of a county's urban residents living in its seat."
    )
    residents_per_street: int = Field(
        60_000, ge=MIN_RESIDENTS_PER_STREET, le=MAX_POPULATION,
        description="Residents of one urban street (街道), one police station each (at least "
        f"{MIN_RESIDENTS_PER_STREET:,}: streets have tens of thousands; and at least one urban cell's residents, "
        "urban_density_per_km2 × cell_size_km²: a street is made of whole cells)."
    )
    residents_per_community: int = Field(8_000, ge=1, le=MAX_POPULATION, description="Residents of a community.")
    residents_per_grid: int = Field(700, ge=MIN_RESIDENTS_PER_GRID, le=MAX_POPULATION,
                                    description="Residents of one grid (网格; at least "
                                    f"{MIN_RESIDENTS_PER_GRID}: a grid is a few hundred households with one grid "
                                    "worker, and every grid is a row of the model's grid tables).")
    dedicated_grids: int = Field(0, ge=0, le=MAX_POPULATION,
                                 description="Dedicated grids at full scale (Jincheng 937).")
    household_size_urban: float = Field(2.6, ge=1, le=MAX_HOUSEHOLD_SIZE, description="Residents per urban "
                                        f"household (at most {MAX_HOUSEHOLD_SIZE}).")
    household_size_rural: float = Field(3.1, ge=1, le=MAX_HOUSEHOLD_SIZE, description="Residents per rural "
                                        f"household (at most {MAX_HOUSEHOLD_SIZE}).")
    village_radius_km: float = Field(6.0, gt=0, description="Villages lie within this of their town.")
    commute_share_urban: float = Field(
        0.55, ge=0, le=1, description="Urban residents with a daytime place outside home (assumed)."
    )
    commute_share_rural: float = Field(0.2, ge=0, le=1, description="Same for villagers (assumed).")
    rural_to_county_seat: float = Field(
        0.3, ge=0, le=1, description="Share of commuting villagers who go to the county seat rather "
        "than their town seat (assumed)."
    )
    # Attractors: places that draw people far beyond their residents — markets (市场), transport
    # hubs (车站), nightlife streets, car parks. Crime concentrates at such places (Brantingham &
    # Brantingham 1995, crime generators and attractors; Weisburd 2015, the law of crime
    # concentration: ~50 % of crime at ~5 % of street segments). Their pull is heavy-tailed: a
    # few sites (the railway station, the central market) draw most visitors.
    attractor_sites_per_100k: float = Field(
        10.0, ge=0, le=MAX_ATTRACTORS_PER_100K,
        description="Attractor sites (markets, transport hubs, nightlife streets, car parks) per 100 000 "
        "residents, placed in built-up cells; 0 switches attractors off (the "
        "pre-evidence model). 10 is the order of magnitude of a Chinese prefecture's markets and stations "
        "(assumed): with ``residents.offender_hangout_share`` 0.8 and the other defaults the top 5 % of "
        "cells hold ~38 % of recorded offences, ~29 % without attractors (evidence harness, Suizhou, "
        f"scale 0.1; Weisburd 2015: ~50 %). At most {MAX_ATTRACTORS_PER_100K:,}: one site per 100 residents, "
        "a hundred times the assumed density; every site is drawn and placed when the city is built."
    )
    attractor_pareto_shape: float = Field(
        1.2, gt=0, description="Tail index of the sites' pull (Pareto): smaller is more unequal "
        "(assumed; visits to urban venues are close to Zipf-distributed, shape ~1)."
    )
    attractor_siting: dict[str, float] = Field(
        default={"urban_core": 4.0, "commercial": 3.0, "residential": 0.3, "industrial": 0.5, "town": 0.5},
        description="Relative chance that an attractor site falls on a built-up cell of each land use, "
        "whatever its residents (assumed: markets, stations and nightlife streets lie in centres and "
        "on commercial roads, few in housing estates or factory districts).",
    )
    attractor_weight: float = Field(
        1.0, ge=0, description="Total daytime pull of all attractor sites relative to the pull of "
        "the cells' own residents and land use [ratio] (assumed; calibrate with the evidence "
        "harness's crime-concentration measure)."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, data):
        if isinstance(data, dict) and data.get("preset") is not None:
            base = PRESETS.get(data["preset"])
            if base is not None:  # unknown names are reported by the scenario loader
                data = {**base, **data}
        if isinstance(data, dict) and data.get("geography") is not None:
            from sim.space.geography_files import geography_fields

            data = {**data, **geography_fields(data["geography"], data.get("incidents"))}
        return data

    @field_validator("attractor_siting")
    @classmethod
    def _known_land_uses(cls, v):
        known = [lu.name.lower() for lu in LandUse if lu != LandUse.VILLAGE]
        bad = [k for k in v if k not in known]
        if bad:
            raise ValueError(f"city.attractor_siting: unknown land use(s) {bad}; expected some of {known}")
        if any(x < 0 for x in v.values()):
            raise ValueError("city.attractor_siting: values must be >= 0")
        return v

    @model_validator(mode="after")
    def _street_holds_a_cell(self):
        cell = self.urban_density_per_km2 * self.cell_size_km**2
        if self.residents_per_street < cell:
            raise ValueError(f"city.residents_per_street={self.residents_per_street}: expected at least the "
                             f"residents of one urban cell, urban_density_per_km2 × cell_size_km² = {cell:,.0f} "
                             "(a street is made of whole cells)")
        return self

    @model_validator(mode="after")
    def _shares_sum_to_one(self):
        total = sum(c.population_share for c in self.counties)
        if abs(total - 1.0) > 0.02:
            raise ValueError(f"county population_share values sum to {total:.3f}, expected 1")
        return self


#: Daytime attraction of a cell per resident living there, by land use (assumed).
_ATTRACTION = {
    LandUse.URBAN_CORE: 3.0,
    LandUse.COMMERCIAL: 2.5,
    LandUse.RESIDENTIAL: 0.3,
    LandUse.INDUSTRIAL: 6.0,
    LandUse.TOWN: 1.5,
    LandUse.VILLAGE: 0.1,
}


@dataclass
class City:
    """Inhabited cells and the administrative map. Arrays are indexed by cell."""

    params: CityParams
    scale: float
    cell_size_km: float
    ix: np.ndarray
    iy: np.ndarray
    land_use: np.ndarray
    county: np.ndarray
    town: np.ndarray
    community: np.ndarray
    residents: np.ndarray
    households: np.ndarray
    attraction: np.ndarray
    attractor: np.ndarray
    county_names: list[str]
    town_county: np.ndarray
    town_is_street: np.ndarray
    community_town: np.ndarray
    station_cell: np.ndarray
    neighbours: np.ndarray = field(repr=False)
    lattice: np.ndarray = field(repr=False)
    #: A real city's map (district outlines, the simulated sample): :class:`sim.space.geography.MapLayers`.
    map_layers: object | None = field(default=None, repr=False)

    @property
    def n_cells(self) -> int:
        return len(self.ix)

    @property
    def population(self) -> int:
        return int(self.residents.sum())

    @property
    def x_km(self) -> np.ndarray:
        return (self.ix + 0.5) * self.cell_size_km

    @property
    def y_km(self) -> np.ndarray:
        return (self.iy + 0.5) * self.cell_size_km

    @property
    def urban(self) -> np.ndarray:
        return self.land_use <= LandUse.INDUSTRIAL

    @property
    def main_urban(self) -> np.ndarray:
        """Cells of the main urban area (the seat of the county flagged main_urban_area)."""
        mains = [i for i, c in enumerate(self.params.counties) if c.main_urban_area] or [0]
        return self.urban & np.isin(self.county, mains)

    def distance_km(self, cell: np.ndarray | int, cells: np.ndarray) -> np.ndarray:
        """Manhattan distance along the street lattice between ``cell`` and ``cells`` [km]."""
        d = np.abs(self.ix[cells] - self.ix[cell]) + np.abs(self.iy[cells] - self.iy[cell])
        return d * self.cell_size_km


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    quota = w / w.sum() * total
    out = np.floor(quota).astype(np.int64)
    short = total - out.sum()
    if short > 0:
        out[np.argsort(-(quota - out), kind="stable")[:short]] += 1
    return out


def seat_cluster(pos: np.ndarray, cx: int, cy: int, seat_pop: int,
                 residents_per_street: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Land use, residents, distance from the centre and street (街道) of a seat cluster's cells.

    Land use by share of the cluster, so that small-scale cities keep the mix: the nearest 15 % are
    the urban core, 15 % commercial (first those on the main roads through the centre), the farthest
    10 % industrial, the rest residential compounds. Residents fall off with distance from the centre
    (industry at a fifth of the density). Streets are sectors of the cluster by angle, one per
    ``residents_per_street``.

    Args:
        pos: The cluster's lattice positions, (n, 2).
        cx, cy: Its centre.
        seat_pop: Its residents.
        residents_per_street: Residents of one street.
    """
    n = len(pos)
    r = np.hypot(pos[:, 0] - cx, pos[:, 1] - cy)
    r_max = max(r.max(), 1.0)
    lu = np.full(n, LandUse.RESIDENTIAL)
    by_r = np.argsort(r, kind="stable")
    n_core, n_com, n_ind = round(0.15 * n), round(0.15 * n), round(0.10 * n)
    lu[by_r[:n_core]] = LandUse.URBAN_CORE
    on_road = (pos[:, 0] == cx) | (pos[:, 1] == cy)
    rest = by_r[n_core:]
    lu[rest[np.argsort(~on_road[rest], kind="stable")[:n_com]]] = LandUse.COMMERCIAL
    if n_ind:
        lu[by_r[-n_ind:]] = LandUse.INDUSTRIAL
    density = np.exp(-r / (0.6 * r_max)) * np.where(lu == LandUse.INDUSTRIAL, 0.2, 1.0)
    res = apportion(seat_pop, density)
    angle = np.arctan2(pos[:, 1] - cy, pos[:, 0] - cx)
    n_streets = max(1, round(seat_pop / residents_per_street))
    street_of = np.minimum((np.argsort(np.argsort(angle)) * n_streets) // n, n_streets - 1)
    return lu, res, r, street_of


class _Lattice:
    """Occupancy of lattice positions while the city is laid out."""

    def __init__(self, n_side: int):
        self.n = n_side
        self.owner = np.full((n_side, n_side), -1, dtype=np.int64)

    def grow(self, cx: int, cy: int, n_cells: int, rng: np.random.Generator) -> np.ndarray:
        """Free positions nearest to (cx, cy), slightly irregular: an (n, 2) array."""
        r = int(ceil(sqrt(n_cells / pi) * 1.5)) + 2
        while True:
            xs = np.arange(max(cx - r, 0), min(cx + r + 1, self.n))
            ys = np.arange(max(cy - r, 0), min(cy + r + 1, self.n))
            gx, gy = np.meshgrid(xs, ys, indexing="ij")
            gx, gy = gx.ravel(), gy.ravel()
            free = self.owner[gx, gy] < 0
            if free.sum() >= n_cells or r > self.n:
                break
            r *= 2
        gx, gy = gx[free], gy[free]
        d = np.hypot(gx - cx, gy - cy) + rng.random(len(gx)) * 0.8
        take = np.argsort(d, kind="stable")[:n_cells]
        return np.column_stack([gx[take], gy[take]])

    def free_near(self, cx: int, cy: int, radius: int, rng: np.random.Generator) -> tuple[int, int]:
        for _ in range(200):
            x = int(np.clip(cx + rng.integers(-radius, radius + 1), 0, self.n - 1))
            y = int(np.clip(cy + rng.integers(-radius, radius + 1), 0, self.n - 1))
            if self.owner[x, y] < 0:
                return x, y
        pos = self.grow(cx, cy, 1, rng)[0]
        return int(pos[0]), int(pos[1])


def _attractors(p: CityParams, land_use: np.ndarray, attraction: np.ndarray, population: int) -> np.ndarray:
    """Pull of the attractor sites in each cell (0 where there is none).

    ``attractor_sites_per_100k`` sites (at least one when it is positive) fall on built-up cells
    (urban core, commercial, industrial, town seats) with probability ``attractor_siting`` by land
    use, whatever the cell's residents: a station or a market is not where most people live. A
    cell may hold several. The sites' pulls are Pareto quantiles (shape ``attractor_pareto_shape``)
    at evenly spaced ranks, scaled so that together they weigh ``attractor_weight`` times the
    cells' own attraction. Drawn from the city seed's own stream
    (``city.attractors``): switching attractors on or off leaves the rest of the layout unchanged.
    """
    out = np.zeros(len(land_use))
    n_sites = 0 if p.attractor_sites_per_100k <= 0 else max(1, round(p.attractor_sites_per_100k * population / 1e5))
    siting = np.array([p.attractor_siting.get(LandUse(v).name.lower(), 0.0) for v in range(len(LandUse))])
    built = np.flatnonzero((land_use <= LandUse.TOWN) & (attraction > 0) & (siting[land_use] > 0))
    if n_sites == 0 or p.attractor_weight <= 0 or len(built) == 0:
        return out
    rng = stream(p.seed, "city.attractors")
    w = siting[land_use[built]] / siting[land_use[built]].sum()
    where = built[rng.choice(len(built), size=n_sites, p=w)]
    # Pareto quantiles at evenly spaced ranks rather than random draws: the size distribution of the
    # sites is then the same at every scale (a few random draws from a heavy tail would make a small
    # city's concentration depend on one lucky site).
    q = (np.arange(n_sites) + 0.5) / n_sites
    pull = (1.0 - q) ** (-1.0 / p.attractor_pareto_shape)
    np.add.at(out, where, pull)
    return out * (p.attractor_weight * attraction.sum() / out.sum())


def _neighbours(ix: np.ndarray, iy: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Inhabited cells among the 8 around each cell; -1 where there is none."""
    n = lattice.shape[0]
    out = np.full((len(ix), 8), -1, dtype=np.int32)
    offsets = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]
    for j, (dx, dy) in enumerate(offsets):
        x, y = ix + dx, iy + dy
        ok = (x >= 0) & (x < n) & (y >= 0) & (y < n)
        out[ok, j] = lattice[x[ok], y[ok]]
    return out
