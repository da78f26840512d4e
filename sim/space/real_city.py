"""A real city: the same :class:`~sim.space.city.City` as the synthetic one, laid out inside real districts.

Counties are the geography's districts (区/县), on a metric lattice of the scenario's cell size that
covers the whole city. Inside each district the administrative map is synthesised with the
synthetic city's rules and sizes (``CityParams``): an urban seat cluster around the district's seat,
with a dense core, commercial main roads, industry on its edge, split into streets (街道) and
communities (社区); rural towns (乡镇), each with a small seat and its villages (村). What differs
is where things go: every cell lies inside its district's outline, the towns are spread over the
district (k-means centres of its squares, so each town's jurisdiction is about as large as the
others'), and villages fall anywhere in their town's jurisdiction — by the population surface where
the geography has one, else uniformly.

Scale: a real city at scale F is a *stratified sample of jurisdictions* at full density. The lattice
is always the whole city; in every district, F of its rural towns (at least one, drawn from the
city's seed) are laid out whole — seat and every village, on their real ground — and the urban seat
keeps F of its residents in an F-sized core. Residents, towns, villages and cells are F times the
full city's, as in the synthetic city, so rates per 100 000 residents and patrol density keep their
meaning, and distances inside a town are real ones. The jurisdictions that were not drawn are
"outside the simulated sample" (:attr:`MapLayers.sampled` is False there) and maps draw them so.

Attractor sites (markets, hubs, nightlife, car parks) come from the geography's attractor layer
where it has one (each site in its cell, or the nearest cell of its town; sites outside the simulated
sample are left out), else they are placed as in the synthetic city; with incident records
(``city.incidents``) each cell's pull is instead its share of the records, so that simulated crime
concentrates where recorded crime does. A town's police station sits at the geography's station
nearest to the town's most populous cell when the geography has stations there, else in that cell.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sim.rng import stream
from sim.space.geography import Geography, MapLayers, district_raster, lattice_frame, point_cells
from sim.space.geography_files import load_geography
from sim.space.layout import (
    _ATTRACTION,
    City,
    CityParams,
    LandUse,
    _attractors,
    _Lattice,
    _neighbours,
    apportion,
    seat_cluster,
)

__all__ = ["build_real_city", "KMEANS_ITERATIONS", "KMEANS_POINTS"]

#: Lloyd iterations placing a district's town seats (enough for the centres to settle: assumed).
KMEANS_ITERATIONS = 12
#: Largest number of a district's squares the town seats are fitted on (a random subset beyond it).
KMEANS_POINTS = 4000
#: Free lattice positions are marked with this owner while a district is laid out: occupied for
#: every other district (``_Lattice`` treats owners >= 0 as taken).
_BLOCKED = np.iinfo(np.int64).max


@functools.lru_cache(maxsize=8)
def _frame(name: str, cell_size_km: float):
    geo = load_geography(name)
    origin, n_side = lattice_frame(geo, cell_size_km)
    return geo, origin, n_side, district_raster(geo, origin, cell_size_km, n_side)


def build_real_city(params: CityParams, scale: float = 1.0) -> City:
    """Lay out a city inside the real districts of ``params.geography``.

    Args:
        params: Validated city parameters with a ``geography`` (population, area and counties are
            the geography's).
        scale: Fraction of the city to simulate (0 < scale ≤ 1), a sample of whole jurisdictions.

    Returns:
        The city (cells ordered by county, town and community); ``city.map_layers`` holds its map.
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    p = params
    geo, origin, n_side, territory = _frame(p.geography, p.cell_size_km)
    rng = stream(p.seed, "city")
    cell_area = p.cell_size_km**2
    k = len(geo.districts)
    census = np.array([d.population for d in geo.districts], dtype=np.float64)
    pop = max(1, round(geo.population * scale))
    county_pop = apportion(pop, census)
    mains = np.array([c.main_urban_area for c in p.counties], dtype=bool)
    county_urban = _urban_split(county_pop, mains, p.urban_share * pop, p.main_county_urban_share)
    county_rural = county_pop - county_urban
    # Rural towns of the full city, shared among districts by their rural residents (the synthetic
    # city has towns_per_county in each county: the same total).
    full_rural = census - _urban_split(census.astype(np.int64), mains, p.urban_share * census.sum(),
                                       p.main_county_urban_share)
    towns_full = np.maximum(1, apportion(p.towns_per_county * k, np.maximum(full_rural, 1.0)))

    lat = _Lattice(n_side)
    free = lat.owner < 0
    cells: list[tuple] = []  # (ix, iy, land use, county, town, community, residents, household size)
    towns: list[tuple[int, bool]] = []
    communities: list[int] = []
    jurisdiction = np.full((n_side, n_side), -1, dtype=np.int32)  # town of each square, for the map
    density_w = _population_weights(geo, origin, p.cell_size_km, n_side)
    sample_rng = stream(p.seed, "city.sample")

    def add_cell(x, y, lu, county, town, community, residents, hh_size):
        lat.owner[x, y] = len(cells)
        cells.append((int(x), int(y), int(lu), county, town, community, int(residents), hh_size))

    for c in range(k):
        mine = territory == c
        lat.owner[free & ~mine] = _BLOCKED  # lay out inside the district only
        sx, sy = _seat_square(geo.districts[c].seat, origin, p.cell_size_km, mine)
        seats = _town_seats(mine, (sx, sy), int(towns_full[c]), stream(p.seed, f"city.towns.{c}"))
        n_towns = max(1, round(len(seats) * scale))
        drawn = np.sort(sample_rng.choice(len(seats), size=n_towns, replace=False))
        # Jurisdictions: every square of the district goes to the nearest town seat (the urban seat
        # counts as a town seat here, so that its surroundings are not given to a far town).
        centres = np.vstack([[sx, sy], seats])
        gx, gy = np.nonzero(mine)
        nearest = np.argmin((gx[:, None] - centres[None, :, 0]) ** 2 + (gy[:, None] - centres[None, :, 1]) ** 2,
                            axis=1) if len(gx) else np.zeros(0, dtype=np.int64)

        seat_pop = round(county_urban[c] * p.seat_share_of_urban)
        town_urban = apportion(int(county_urban[c] - seat_pop), np.ones(n_towns))
        rural = apportion(int(county_rural[c]), np.ones(n_towns))
        if seat_pop > 0:
            first_cell = len(cells)
            _lay_out_seat(p, lat, (sx, sy), seat_pop, c, towns, communities, add_cell, rng)
            if scale >= 1.0:  # the seat's hinterland is its nearest street's (in the sample at full scale only)
                hinterland = np.flatnonzero(nearest == 0)
                seat = np.array([cl[:2] for cl in cells[first_cell:]])
                d = np.abs(gx[hinterland, None] - seat[None, :, 0]) + np.abs(gy[hinterland, None] - seat[None, :, 1])
                jurisdiction[gx[hinterland], gy[hinterland]] = [cells[first_cell + i][4] for i in np.argmin(d, axis=1)]
        for j, t_idx in enumerate(drawn.tolist()):
            town_id = len(towns)
            towns.append((c, False))
            own = nearest == t_idx + 1
            jurisdiction[gx[own], gy[own]] = town_id
            tx, ty = int(seats[t_idx, 0]), int(seats[t_idx, 1])
            n = max(1, int(math.ceil(town_urban[j] / (p.urban_density_per_km2 * 0.5 * cell_area))))
            pos = lat.grow(tx, ty, n, rng)
            # Villages next (the seat's squares taken first): a jurisdiction with no free square left
            # keeps its villagers in the town seat.
            lat.owner[pos[:, 0], pos[:, 1]] = _BLOCKED
            spots = _village_squares(lat, gx[own], gy[own], density_w, p.villages_per_town, rng)
            vil_pop = apportion(int(rural[j]), rng.lognormal(0, 0.4, len(spots)))
            seat_res = int(town_urban[j]) + (int(rural[j]) if not spots else 0)
            res = apportion(seat_res, np.ones(len(pos)))
            comm = len(communities)
            communities.append(town_id)
            for m in range(len(pos)):
                add_cell(pos[m, 0], pos[m, 1], LandUse.TOWN, c, town_id, comm, res[m], p.household_size_urban)
            for v, (x, y) in enumerate(spots):
                if vil_pop[v] == 0:
                    continue
                comm = len(communities)
                communities.append(town_id)
                add_cell(x, y, LandUse.VILLAGE, c, town_id, comm, vil_pop[v], p.household_size_rural)
        lat.owner[lat.owner == _BLOCKED] = -1
        free = lat.owner < 0

    city = _assemble(p, scale, geo, origin, n_side, territory, jurisdiction, cells, towns, communities, pop)
    if p.incidents is not None:
        from sim.space.incidents import aggregate, attraction_from_records, read_incidents

        pull = attraction_from_records(city, aggregate(read_incidents(p.incidents, geo), city), p.attractor_weight)
        city.attraction = city.attraction - city.attractor + pull
        city.attractor = pull
    return city


def _urban_split(county_pop: np.ndarray, mains: np.ndarray, urban_total: float, main_share: float) -> np.ndarray:
    """Urban residents of each district: ``main_share`` in the main urban districts, the same share
    in every other district such that the city's urban total is ``urban_total`` (as in the synthetic city)."""
    urban_main = np.minimum(county_pop * main_share, county_pop) * mains
    urban_main *= min(1.0, urban_total / max(urban_main.sum(), 1e-12))
    rest = county_pop[~mains].sum()
    rest_share = 0.0 if rest == 0 else min(0.95, max(0.0, urban_total - urban_main.sum()) / rest)
    return np.where(mains, urban_main, county_pop * rest_share).round().astype(np.int64)


def _seat_square(seat_m, origin, cell_size_km: float, mine: np.ndarray) -> tuple[int, int]:
    """The district's square nearest to its seat."""
    sx = int((seat_m[0] - origin[0]) / (cell_size_km * 1000.0))
    sy = int((seat_m[1] - origin[1]) / (cell_size_km * 1000.0))
    gx, gy = np.nonzero(mine)
    if len(gx) == 0:
        return sx, sy
    i = int(np.argmin((gx - sx) ** 2 + (gy - sy) ** 2))
    return int(gx[i]), int(gy[i])


def _town_seats(mine: np.ndarray, seat: tuple[int, int], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` town seats spread over the district: k-means centres of its squares (the urban seat a
    fixed centre), each moved to the nearest square of the district. An (n, 2) array of squares."""
    gx, gy = np.nonzero(mine)
    if len(gx) == 0:
        return np.tile(np.asarray(seat), (n, 1))
    pts = np.column_stack([gx, gy]).astype(np.float64)
    if len(pts) > KMEANS_POINTS:
        pts = pts[rng.choice(len(pts), KMEANS_POINTS, replace=False)]
    centres = np.vstack([np.asarray(seat, dtype=np.float64), pts[rng.choice(len(pts), n, replace=len(pts) < n)]])
    for _ in range(KMEANS_ITERATIONS):
        label = np.argmin(((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        for j in range(1, n + 1):  # centre 0, the urban seat, stays where it is
            members = pts[label == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    out = np.empty((n, 2), dtype=np.int64)
    for j in range(n):
        i = int(np.argmin((gx - centres[j + 1, 0]) ** 2 + (gy - centres[j + 1, 1]) ** 2))
        out[j] = gx[i], gy[i]
    return out


def _lay_out_seat(p: CityParams, lat: _Lattice, seat: tuple[int, int], seat_pop: int, county: int,
                  towns: list, communities: list, add_cell, rng: np.random.Generator) -> None:
    """The district's urban seat: a dense core, commercial main roads, industry on the edge, residential
    compounds elsewhere, split into streets and communities (the synthetic city's rules)."""
    cx, cy = seat
    n = max(1, int(math.ceil(seat_pop / (p.urban_density_per_km2 * p.cell_size_km**2))))
    pos = lat.grow(cx, cy, n, rng)
    lu, res, r, street_of = seat_cluster(pos, cx, cy, seat_pop, p.residents_per_street)
    for s in range(int(street_of.max()) + 1):
        members = np.flatnonzero(street_of == s)
        if len(members) == 0:
            continue
        town_id = len(towns)
        towns.append((county, True))
        members = members[np.argsort(r[members], kind="stable")]
        total = int(res[members].sum())
        n_comm = max(1, round(total / p.residents_per_community))
        before = np.cumsum(res[members]) - res[members]
        comm_of = np.minimum((before * n_comm) // max(total, 1), n_comm - 1)
        _, comm_of = np.unique(comm_of, return_inverse=True)
        first = len(communities)
        communities.extend([town_id] * (int(comm_of.max()) + 1))
        for m, cm in zip(members, comm_of, strict=True):
            add_cell(pos[m, 0], pos[m, 1], lu[m], county, town_id, first + int(cm), res[m], p.household_size_urban)


def _population_weights(geo: Geography, origin, cell_size_km: float, n_side: int) -> np.ndarray | None:
    """Residents of the geography's population surface per lattice square, or None without one."""
    pts = geo.population_points
    if pts is None or len(pts) == 0:
        return None
    cell_m = cell_size_km * 1000.0
    ix = ((pts[:, 0] - origin[0]) // cell_m).astype(np.int64)
    iy = ((pts[:, 1] - origin[1]) // cell_m).astype(np.int64)
    ok = (ix >= 0) & (ix < n_side) & (iy >= 0) & (iy < n_side)
    out = np.zeros((n_side, n_side))
    np.add.at(out, (ix[ok], iy[ok]), pts[ok, 2])
    return out


def _village_squares(lat: _Lattice, gx: np.ndarray, gy: np.ndarray, weights: np.ndarray | None, n: int,
                     rng: np.random.Generator) -> list[tuple[int, int]]:
    """``n`` free squares of a town's jurisdiction for its villages: drawn by the population surface
    where there is one (and it has residents there), else uniformly."""
    ok = lat.owner[gx, gy] < 0
    gx, gy = gx[ok], gy[ok]
    if len(gx) == 0:
        return []
    w = None if weights is None else weights[gx, gy]
    p = None if w is None or w.sum() <= 0 else w / w.sum()
    take = rng.choice(len(gx), size=min(n, len(gx)) if p is None else min(n, int((w > 0).sum())), replace=False, p=p)
    return [(int(gx[i]), int(gy[i])) for i in take]


def _place_sites(city: City, geo: Geography) -> None:
    """Attractor pull and police stations from the geography's point layers (sites outside the simulated
    sample are left out, so a sampled city keeps its share of them)."""
    p = city.params
    if len(geo.attractors) and p.attractor_weight > 0:
        where = point_cells(city, geo.attractors)
        weight = geo.attractor_weight if len(geo.attractor_weight) == len(where) else np.ones(len(where))
        pull = np.zeros(city.n_cells)
        np.add.at(pull, where[where >= 0], weight[where >= 0])
        if pull.sum() > 0:
            own = city.attraction - city.attractor
            pull *= p.attractor_weight * own.sum() / pull.sum()
            city.attraction, city.attractor = own + pull, pull
    if len(geo.stations):
        at = point_cells(city, geo.stations)
        for t in np.unique(city.town[at[at >= 0]]).tolist():  # a town with a real station: the one nearest its centre
            mine = at[(at >= 0) & (city.town[at] == t)]
            main = city.station_cell[t]
            d = np.abs(city.ix[mine] - city.ix[main]) + np.abs(city.iy[mine] - city.iy[main])
            city.station_cell[t] = mine[int(np.argmin(d))]


def _assemble(p: CityParams, scale: float, geo: Geography, origin, n_side: int, territory: np.ndarray,
              jurisdiction: np.ndarray, cells: list[tuple], towns: list, communities: list, pop: int) -> City:
    arr = np.array([c[:7] for c in cells], dtype=np.int64).reshape(-1, 7)
    hh = np.array([c[7] for c in cells], dtype=np.float64)
    order = np.argsort(arr[:, 5], kind="stable")  # by community, so residents are grouped by community
    arr, hh = arr[order], hh[order]
    ix, iy = arr[:, 0].astype(np.int32), arr[:, 1].astype(np.int32)
    land_use = arr[:, 2].astype(np.int8)
    residents = arr[:, 6]
    town = arr[:, 4].astype(np.int32)
    households = np.where(residents > 0, np.ceil(residents / hh), 0).astype(np.int64)
    attraction = residents * np.array([_ATTRACTION[LandUse(v)] for v in range(6)])[land_use]
    attractor = np.zeros(len(ix)) if len(geo.attractors) else _attractors(p, land_use, attraction, pop)
    lattice = np.full((n_side, n_side), -1, dtype=np.int32)
    lattice[ix, iy] = np.arange(len(ix), dtype=np.int32)
    station_cell = np.zeros(len(towns), dtype=np.int32)
    for t in range(len(towns)):
        members = np.flatnonzero(town == t)
        if len(members) == 0:
            continue
        station_cell[t] = members[np.argmax(residents[members])]
    km = p.cell_size_km
    to_km = lambda xy: (np.asarray(xy, dtype=np.float64).reshape(-1, 2) - np.asarray(origin)) / 1000.0  # noqa: E731
    jurisdiction[ix, iy] = town  # a seat's streets hold their own squares
    layers = MapLayers(
        cell_size_km=km, district=territory, sampled=jurisdiction >= 0, town=jurisdiction,
        names=[d.name for d in geo.districts],
        outlines=[[to_km(ring) for poly in d.polygons for ring in poly] for d in geo.districts],
        label_xy=to_km([d.seat for d in geo.districts]),
        sites={"stations": to_km(geo.stations), "cameras": to_km(geo.cameras), "attractors": to_km(geo.attractors)},
        origin_m=(float(origin[0]), float(origin[1])), crs=geo.crs, source=geo.source)
    city = City(
        params=p, scale=scale, cell_size_km=km, ix=ix, iy=iy, land_use=land_use,
        county=arr[:, 3].astype(np.int32), town=town, community=arr[:, 5].astype(np.int32),
        residents=residents, households=households, attraction=(attraction + attractor).astype(np.float64),
        attractor=attractor, county_names=[d.name for d in geo.districts],
        town_county=np.array([t[0] for t in towns], dtype=np.int32),
        town_is_street=np.array([t[1] for t in towns], dtype=bool),
        community_town=np.array(communities, dtype=np.int32), station_cell=station_cell,
        neighbours=_neighbours(ix, iy, lattice), lattice=lattice, map_layers=layers)
    _place_sites(city, geo)
    return city
