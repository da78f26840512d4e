"""The synthetic city: a lattice of inhabited cells with land use and an administrative map.

Only inhabited cells are stored, as parallel arrays (structure of arrays). The hierarchy is
cell → grid (网格) → community or village (社区/村) → town or street (乡镇/街道) → county
(区县) → city; grids are held per resident (an urban cell holds several grids, a village
cell one). Every town or street has one police station (派出所) whose jurisdiction is that
town or street.

Scaling: a city built at ``scale`` F is an F-sized sample of the full city at the *same
density* — F times the residents, towns, villages and cells, on F times the area — so that
rates per 100 000 residents, patrol density and distances to the nearest unit stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, pi, sqrt

import numpy as np

from sim.rng import stream
from sim.space.layout import (  # City, CityParams, CountySpec and LandUse are re-exported: users import them from here
    _ATTRACTION,
    City,
    CityParams,
    CountySpec,
    LandUse,
    _attractors,
    _Lattice,
    _neighbours,
    apportion,
    seat_cluster,
)

__all__ = ["LandUse", "CountySpec", "CityParams", "City", "CitySize", "build_city", "city_size", "apportion"]


@dataclass(frozen=True)
class CitySize:
    """How big a city will be, computed from its parameters before it is built (:func:`city_size`).

    Attributes:
        residents: Residents.
        households: Households (rounded up per cell, so a little above residents / household size).
        cells: Inhabited cells at most (county seats, town seats and villages; a village whose
            draw leaves it empty is not stored).
        lattice_side: Side of the square lattice the cells are laid on [positions].
        attractor_sites: Attractor sites drawn.
        grids: Grids (网格) at least (one per ``residents_per_grid``; communities round up).
    """

    residents: int
    households: int
    cells: int
    lattice_side: int
    attractor_sites: int
    grids: int

    @property
    def lattice_positions(self) -> int:
        return self.lattice_side**2

    @property
    def fits(self) -> bool:
        """Whether the cells fit on the lattice (the city's area at this cell size)."""
        return self.cells <= self.lattice_positions

    def misfit(self, params: CityParams, scale: float) -> str | None:
        """Why the cells do not fit on the lattice, or None if they do."""
        if self.fits:
            return None
        return (f"the city needs up to {self.cells:,} cells but its area at scale {scale:g} holds "
                f"{self.lattice_positions:,} cells of {params.cell_size_km:g} km; raise city.area_km2 or "
                "city.urban_density_per_km2, or lower city.towns_per_county or city.villages_per_town")

    @property
    def build_bytes(self) -> int:
        """Peak memory of :func:`build_city` beyond the cells' arrays the run keeps [bytes].

        The lattice's occupancy (int64) and index (int32), and one Python dict per cell while
        the cells are laid out (measured: about 1 KiB with its values).
        """
        return 12 * self.lattice_positions + _BUILD_BYTES_PER_CELL * self.cells


#: Python objects per cell while a city is laid out [bytes]: a dict of eight values, the values,
#: and list slots (``sys.getsizeof`` of a dict of 8 plus its int and float objects).
_BUILD_BYTES_PER_CELL = 1_024


def city_size(params: CityParams, scale: float = 1.0) -> CitySize:
    """The size of the city :func:`build_city` would build, without building it.

    The same arithmetic as :func:`build_city` up to the random parts (where cells fall, which
    villages end up empty): exact for residents, lattice and attractor sites, an upper bound for
    cells. Takes microseconds, whatever the size, so that a run too large for the machine can be
    refused before anything is built.

    Args:
        params: Validated city parameters.
        scale: Fraction of the full city (0 < scale ≤ 1).
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    p = params
    pop = max(1, round(p.population * scale))
    cell_area = p.cell_size_km**2
    n_side = max(16, int(ceil(sqrt(p.area_km2 * scale) / p.cell_size_km)))
    k = len(p.counties)
    main = next((i for i, c in enumerate(p.counties) if c.main_urban_area), 0)
    county_pop = apportion(pop, np.array([c.population_share for c in p.counties]))
    urban_total = p.urban_share * pop
    urban_main = min(urban_total, county_pop[main] * p.main_county_urban_share)
    rest = county_pop.sum() - county_pop[main]
    rest_share = 0.0 if rest == 0 else min(0.95, (urban_total - urban_main) / rest)
    county_urban = np.array([urban_main if i == main else county_pop[i] * rest_share for i in range(k)]
                            ).round().astype(np.int64)
    n_towns = max(1, round(p.towns_per_county * scale))
    villages_per_county = max(1, round(p.towns_per_county * p.villages_per_town * scale))
    cells = 0
    for c in range(k):
        seat_pop = round(county_urban[c] * p.seat_share_of_urban)
        if seat_pop > 0:
            cells += max(1, int(ceil(seat_pop / (p.urban_density_per_km2 * cell_area))))
        town_urban = apportion(int(county_urban[c] - seat_pop), np.ones(n_towns))
        cells += int(np.maximum(1, np.ceil(town_urban / (p.urban_density_per_km2 * 0.5 * cell_area))).sum())
        cells += villages_per_county
    n_sites = 0 if p.attractor_sites_per_100k <= 0 else max(1, round(p.attractor_sites_per_100k * pop / 1e5))
    urban = int(county_urban.sum())
    households = int(ceil(urban / p.household_size_urban + (pop - urban) / p.household_size_rural)) + cells
    return CitySize(residents=pop, households=households, cells=cells, lattice_side=n_side,
                    attractor_sites=n_sites, grids=max(1, pop // p.residents_per_grid))


def build_city(params: CityParams, scale: float = 1.0) -> City:
    """Lay out a synthetic city, or a real one where ``params.geography`` is set (:mod:`sim.space.real_city`).

    Args:
        params: Validated city parameters.
        scale: Fraction of the full city to build (0 < scale ≤ 1), at full-scale density.

    Returns:
        The city, with cells ordered by county, town and community.
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    if params.geography is not None:
        from sim.space.real_city import build_real_city

        return build_real_city(params, scale)
    p = params
    misfit = city_size(p, scale).misfit(p, scale)
    if misfit:
        raise ValueError(misfit)
    rng = stream(p.seed, "city")
    pop = max(1, round(p.population * scale))
    cell_area = p.cell_size_km**2
    n_side = max(16, int(ceil(sqrt(p.area_km2 * scale) / p.cell_size_km)))
    lat = _Lattice(n_side)

    # County seats: the main county at the centre, the others on a ring around it.
    k = len(p.counties)
    main = next((i for i, c in enumerate(p.counties) if c.main_urban_area), 0)
    order = [main] + [i for i in range(k) if i != main]
    seats = np.zeros((k, 2), dtype=np.int64)
    seats[main] = (n_side // 2, n_side // 2)
    for j, i in enumerate(order[1:]):
        angle = 2 * pi * j / max(k - 1, 1) + rng.uniform(-0.2, 0.2)
        seats[i] = (n_side // 2 + 0.3 * n_side * np.cos(angle), n_side // 2 + 0.3 * n_side * np.sin(angle))
    county_radius = max(2, int(0.3 * n_side / sqrt(k)))

    county_pop = apportion(pop, np.array([c.population_share for c in p.counties]))
    urban_total = p.urban_share * pop
    urban_main = min(urban_total, county_pop[main] * p.main_county_urban_share)
    rest = county_pop.sum() - county_pop[main]
    rest_share = 0.0 if rest == 0 else min(0.95, (urban_total - urban_main) / rest)
    county_urban = np.array(
        [urban_main if i == main else county_pop[i] * rest_share for i in range(k)]
    ).round().astype(np.int64)

    cells: list[dict] = []  # one dict per cell, turned into arrays at the end
    towns: list[tuple[int, bool]] = []  # (county, is_street)
    communities: list[int] = []  # town of each community
    n_towns = max(1, round(p.towns_per_county * scale))
    # Villages scale with the city even where the town count had to be rounded up to one.
    villages_per_county = max(1, round(p.towns_per_county * p.villages_per_town * scale))
    villages_of_town = apportion(villages_per_county, np.ones(n_towns))

    def add_cell(x, y, lu, county, town, community, residents, hh_size):
        lat.owner[x, y] = len(cells)
        cells.append(dict(ix=x, iy=y, lu=lu, county=county, town=town, community=community,
                          residents=int(residents), hh_size=hh_size))

    for c in range(k):
        cx, cy = int(seats[c, 0]), int(seats[c, 1])
        seat_pop = round(county_urban[c] * (p.seat_share_of_urban if n_towns else 1.0))
        town_urban = apportion(int(county_urban[c] - seat_pop), np.ones(n_towns))
        rural = apportion(int(county_pop[c] - county_urban[c]), np.ones(n_towns))

        # County seat: an urban cluster with a dense core, commercial main roads, industry
        # on its edge, residential compounds elsewhere, divided into streets and communities.
        if seat_pop > 0:
            n = max(1, int(ceil(seat_pop / (p.urban_density_per_km2 * cell_area))))
            pos = lat.grow(cx, cy, n, rng)
            lu, res, r, street_of = seat_cluster(pos, cx, cy, seat_pop, p.residents_per_street)
            for s in range(int(street_of.max()) + 1):
                town_id = len(towns)
                towns.append((c, True))
                members = np.flatnonzero(street_of == s)
                members = members[np.argsort(r[members], kind="stable")]
                n_comm = max(1, round(res[members].sum() / p.residents_per_community))
                before = np.cumsum(res[members]) - res[members]  # residents before each cell
                comm_of = np.minimum((before * n_comm) // max(int(res[members].sum()), 1), n_comm - 1)
                _, comm_of = np.unique(comm_of, return_inverse=True)  # no community without cells
                n_comm = int(comm_of.max()) + 1
                first_comm = len(communities)
                communities.extend([town_id] * n_comm)
                for m, cm in zip(members, comm_of, strict=True):
                    add_cell(pos[m, 0], pos[m, 1], lu[m], c, town_id, first_comm + int(cm),
                             res[m], p.household_size_urban)

        # Rural towns: a small town seat (one community) and its villages (one each).
        for t in range(n_towns):
            town_id = len(towns)
            towns.append((c, False))
            ang = rng.uniform(0, 2 * pi)
            rad = rng.uniform(0.35, 1.0) * county_radius
            tx = int(np.clip(cx + rad * np.cos(ang), 0, n_side - 1))
            ty = int(np.clip(cy + rad * np.sin(ang), 0, n_side - 1))
            n = max(1, int(ceil(town_urban[t] / (p.urban_density_per_km2 * 0.5 * cell_area))))
            pos = lat.grow(tx, ty, n, rng)
            res = apportion(int(town_urban[t]), np.ones(n))
            comm = len(communities)
            communities.append(town_id)
            for m in range(n):
                add_cell(pos[m, 0], pos[m, 1], LandUse.TOWN, c, town_id, comm, res[m],
                         p.household_size_urban)
            vil_pop = apportion(int(rural[t]), rng.lognormal(0, 0.4, int(villages_of_town[t])))
            radius = max(1, int(p.village_radius_km / p.cell_size_km))
            for v in range(int(villages_of_town[t])):
                if vil_pop[v] == 0:
                    continue
                x, y = lat.free_near(tx, ty, radius, rng)
                comm = len(communities)
                communities.append(town_id)
                add_cell(x, y, LandUse.VILLAGE, c, town_id, comm, vil_pop[v], p.household_size_rural)

    # Arrays, with cells ordered by community so that residents sorted by home cell are
    # also grouped by community, town and county.
    get = lambda key, dt: np.array([cell[key] for cell in cells], dtype=dt)  # noqa: E731
    community = get("community", np.int32)
    order_ = np.argsort(community, kind="stable")
    ix, iy = get("ix", np.int32)[order_], get("iy", np.int32)[order_]
    land_use = get("lu", np.int8)[order_]
    residents = get("residents", np.int64)[order_]
    hh_size = get("hh_size", np.float64)[order_]
    households = np.where(residents > 0, np.ceil(residents / hh_size), 0).astype(np.int64)
    attraction = residents * np.array([_ATTRACTION[LandUse(v)] for v in range(6)])[land_use]
    attractor = _attractors(p, land_use, attraction, pop)
    lattice = np.full((n_side, n_side), -1, dtype=np.int32)
    lattice[ix, iy] = np.arange(len(ix), dtype=np.int32)
    town = get("town", np.int32)[order_]

    # Police station of each town or street: its most populous cell.
    n_towns_total = len(towns)
    station_cell = np.zeros(n_towns_total, dtype=np.int32)
    for t in range(n_towns_total):
        members = np.flatnonzero(town == t)
        station_cell[t] = members[np.argmax(residents[members])]

    return City(
        params=p,
        scale=scale,
        cell_size_km=p.cell_size_km,
        ix=ix,
        iy=iy,
        land_use=land_use,
        county=get("county", np.int32)[order_],
        town=town,
        community=community[order_],
        residents=residents,
        households=households,
        attraction=(attraction + attractor).astype(np.float64),
        attractor=attractor,
        county_names=[c.name for c in p.counties],
        town_county=np.array([t[0] for t in towns], dtype=np.int32),
        town_is_street=np.array([t[1] for t in towns], dtype=bool),
        community_town=np.array(communities, dtype=np.int32),
        station_cell=station_cell,
        neighbours=_neighbours(ix, iy, lattice),
        lattice=lattice,
    )
