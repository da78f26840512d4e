"""Residents (居民) as a structure of arrays, and where people are by hour.

Millions of residents are never stepped one by one. Each resident has a home cell, a
household, a grid and, for those who commute, a daytime place; per-cell counts by hour
(:attr:`Residents.presence`, :attr:`Residents.home_occupancy`) carry the daily rhythm that
guardianship and targets depend on. Only the few who act — motivated offenders, victims —
are touched individually.

Special populations (重点人群) follow the Suizhou report (003_d0d6d615d3c4e2fc.txt):
released prisoners (刑满释放人员), community-corrections subjects (社区矫正对象), people with
severe mental illness (严重精神障碍患者) and drug users (吸毒成瘾人员).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from pydantic import Field

from sim.params import NonNegative, Params, Probability
from sim.rng import stream
from sim.space.city import City, LandUse

__all__ = ["SpecialPopulation", "ResidentParams", "Residents", "build_residents", "HOURS_PER_WEEK"]

HOURS_PER_WEEK = 168


class SpecialPopulation(IntEnum):
    """Managed special populations named in the seeds."""

    NONE = 0
    RELEASED_PRISONER = 1
    COMMUNITY_CORRECTIONS = 2
    SEVERE_MENTAL_ILLNESS = 3
    DRUG_USER = 4


class ResidentParams(Params):
    """Who the residents are and how their day runs."""


    special_population_share: dict[str, Probability] = Field(
        default={
            "released_prisoner": 0.0020,
            "community_corrections": 0.0006,
            "severe_mental_illness": 0.0045,
            "drug_user": 0.0012,
        },
        description="Share of residents in each special population (assumed; order of "
        "magnitude of national registers).",
    )
    motivated_offender_share: float = Field(
        0.0018, ge=0, le=1, description="Share of ordinary residents who are motivated offenders "
        "in a year (assumed; calibrated)."
    )
    special_offender_multiplier: dict[str, NonNegative] = Field(
        default={
            "released_prisoner": 12.0,
            "community_corrections": 8.0,
            "severe_mental_illness": 2.0,
            "drug_user": 10.0,
        },
        description="Offender share relative to ordinary residents (assumed; recidivism studies "
        "put released prisoners' rates an order of magnitude higher).",
    )
    offender_hangout_share: float = Field(
        0.8, ge=0, le=1, description="Share of motivated offenders without a daytime place who still "
        "spend the day away from home, at a place drawn like a commuter's destination, so mostly at "
        "the city's attractors (markets, stations, nightlife streets) (assumed; offenders' activity "
        "spaces centre on such nodes: Brantingham & Brantingham 1995; Bernasco & Block 2009). "
        "0 (the pre-evidence model) keeps every non-commuting offender at home; 0.8 goes with "
        "``city.attractor_sites_per_100k`` 10."
    )
    weekday_away: list[float] = Field(
        default=[0, 0, 0, 0, 0, 0, 0.05, 0.35, 0.8, 0.9, 0.9, 0.85, 0.7, 0.85, 0.9, 0.9, 0.85,
                 0.7, 0.4, 0.25, 0.2, 0.15, 0.05, 0.0],
        min_length=24, max_length=24,
        description="Share of commuters at their daytime place, by hour, Monday–Friday (assumed).",
    )
    weekend_away: list[float] = Field(
        default=[0, 0, 0, 0, 0, 0, 0, 0.05, 0.15, 0.3, 0.4, 0.45, 0.4, 0.45, 0.45, 0.45, 0.4,
                 0.35, 0.3, 0.25, 0.2, 0.1, 0.05, 0.0],
        min_length=24, max_length=24,
        description="Same for Saturday and Sunday (assumed).",
    )
    errand_out: list[float] = Field(
        default=[0, 0, 0, 0, 0, 0, 0.02, 0.08, 0.15, 0.2, 0.25, 0.2, 0.1, 0.1, 0.2, 0.25, 0.25,
                 0.2, 0.15, 0.2, 0.15, 0.08, 0.03, 0.01],
        min_length=24, max_length=24,
        description="Share of non-commuters away from home on errands, by hour (assumed).",
    )

    def special_keys(self) -> list[str]:
        return [p.name.lower() for p in SpecialPopulation if p != SpecialPopulation.NONE]


@dataclass
class Residents:
    """All residents of a city, as arrays indexed by resident."""

    home_cell: np.ndarray
    day_cell: np.ndarray
    household: np.ndarray
    grid: np.ndarray
    special: np.ndarray
    victimisations: np.ndarray
    last_victimised: np.ndarray  # hour of the latest victimisation, −1 if never
    offenders: np.ndarray
    cell_start: np.ndarray
    grid_community: np.ndarray
    presence: np.ndarray = field(repr=False)
    home_occupancy: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.home_cell)

    @property
    def n_grids(self) -> int:
        return len(self.grid_community)

    def hour_of_week_index(self, hour: int) -> int:
        """Row of :attr:`presence` for an hour counted from a Monday 00:00."""
        return hour % HOURS_PER_WEEK


def build_residents(city: City, params: ResidentParams) -> Residents:
    """Create the residents of ``city``.

    Args:
        city: The synthetic city.
        params: Resident parameters.

    Returns:
        Residents sorted by home cell (and so by community, town and county).
    """
    rng = stream(city.params.seed, "residents")
    p = params
    n_cells = city.n_cells
    res = city.residents
    n = int(res.sum())
    home_cell = np.repeat(np.arange(n_cells, dtype=np.int32), res)
    cell_start = np.concatenate([[0], np.cumsum(res)]).astype(np.int64)
    rank_in_cell = np.arange(n, dtype=np.int64) - cell_start[home_cell]

    # Households: consecutive residents of a cell share a household.
    hh_first = np.concatenate([[0], np.cumsum(city.households)[:-1]])
    safe_res = np.maximum(res, 1)
    household = (hh_first[home_cell] + rank_in_cell * city.households[home_cell] // safe_res[home_cell])

    # Grids: each community's residents split into grids of about residents_per_grid.
    comm = city.community[home_cell]
    comm_pop = np.bincount(city.community, weights=res, minlength=len(city.community_town))
    n_grids = np.maximum(1, np.round(comm_pop / city.params.residents_per_grid)).astype(np.int64)
    grid_first = np.concatenate([[0], np.cumsum(n_grids)[:-1]])
    comm_start = np.concatenate([[0], np.cumsum(comm_pop)[:-1]]).astype(np.int64)
    rank_in_comm = np.arange(n, dtype=np.int64) - comm_start[comm]
    grid = grid_first[comm] + rank_in_comm * n_grids[comm] // np.maximum(comm_pop[comm], 1).astype(np.int64)
    grid_community = np.repeat(np.arange(len(comm_pop), dtype=np.int32), n_grids)

    # Daytime places: commuters go to attractive cells in their county, nearer ones first.
    day_cell = home_cell.copy()
    urban = city.land_use <= LandUse.TOWN
    share = np.where(urban, city.params.commute_share_urban, city.params.commute_share_rural)
    commuters = rng.binomial(res, share)
    # Destinations follow the administrative structure, not absolute distance, so that a
    # scaled-down city (smaller clusters, shorter distances) keeps the same daily flows:
    # urban residents go anywhere in their county's built-up area by attraction; villagers go
    # to their own town seat, or with probability rural_to_county_seat to the county seat.
    built = city.land_use <= LandUse.TOWN
    seat = city.land_use <= LandUse.INDUSTRIAL
    urban_dest = {c: np.flatnonzero((city.county == c) & built & (city.attraction > 0))
                  for c in np.unique(city.county)}
    seat_dest = {c: np.flatnonzero((city.county == c) & seat & (city.attraction > 0))
                 for c in np.unique(city.county)}
    town_dest = {t: np.flatnonzero((city.town == t) & built & (city.attraction > 0))
                 for t in np.unique(city.town)}
    for c in np.flatnonzero(commuters):
        dests, w = _destinations(city, c, urban_dest, seat_dest, town_dest)
        if len(dests) == 0 or w.sum() <= 0:
            continue
        counts = rng.multinomial(commuters[c], w / w.sum())
        start = cell_start[c]
        day_cell[start:start + commuters[c]] = np.repeat(dests, counts)

    keys = p.special_keys()
    shares = np.array([p.special_population_share.get(k, 0.0) for k in keys])
    u = rng.random(n)
    special = np.searchsorted(np.cumsum(shares), u, side="right").astype(np.int8) + 1
    special[special > len(keys)] = 0
    mult = np.concatenate([[1.0], [p.special_offender_multiplier.get(k, 1.0) for k in keys]])
    offender = rng.random(n) < np.minimum(1.0, p.motivated_offender_share * mult[special])

    offenders = np.flatnonzero(offender).astype(np.int64)
    if p.offender_hangout_share > 0:
        # Their own stream, so that the rest of the population is the same with hangouts on or off.
        hang_rng = stream(city.params.seed, "residents.offender_hangouts")
        at_home = offenders[day_cell[offenders] == home_cell[offenders]]
        roam = at_home[hang_rng.random(len(at_home)) < p.offender_hangout_share]
        for i in roam.tolist():
            dests, w = _destinations(city, int(home_cell[i]), urban_dest, seat_dest, town_dest)
            if len(dests) and w.sum() > 0:
                day_cell[i] = dests[min(int(np.searchsorted(np.cumsum(w / w.sum()), hang_rng.random(),
                                                            side="right")), len(dests) - 1)]

    presence, occupancy = _hourly_presence(city, home_cell, day_cell, p)
    return Residents(
        home_cell=home_cell,
        day_cell=day_cell.astype(np.int32),
        household=household.astype(np.int64),
        grid=grid.astype(np.int32),
        special=special,
        victimisations=np.zeros(n, dtype=np.uint16),
        last_victimised=np.full(n, -1, dtype=np.int64),
        offenders=offenders,
        cell_start=cell_start,
        grid_community=grid_community,
        presence=presence,
        home_occupancy=occupancy,
    )


def _destinations(city: City, cell: int, urban_dest: dict, seat_dest: dict, town_dest: dict):
    """Daytime destinations of someone living in ``cell``, and their (unnormalised) weights.

    Urban residents go anywhere in their county's built-up area by attraction; villagers go to
    their own town seat, or with probability ``rural_to_county_seat`` to the county seat.
    """
    county = city.county[cell]
    if city.land_use[cell] <= LandUse.TOWN:
        dests = urban_dest[county]
        return dests, city.attraction[dests]
    local, far = town_dest.get(city.town[cell], np.zeros(0, int)), seat_dest[county]
    dests = np.concatenate([local, far])
    wl, wf = city.attraction[local], city.attraction[far]
    share = city.params.rural_to_county_seat if len(local) and len(far) else float(len(far) > 0)
    return dests, np.concatenate([wl / max(wl.sum(), 1e-12) * (1 - share), wf / max(wf.sum(), 1e-12) * share])


def _hourly_presence(city: City, home: np.ndarray, day: np.ndarray, p: ResidentParams):
    """People present per cell, and share of households occupied, for each hour of a week."""
    n_cells = city.n_cells
    residents = city.residents.astype(np.float64)
    moving = home != day
    out = np.bincount(home[moving], minlength=n_cells).astype(np.float64)
    inflow = np.bincount(day[moving], minlength=n_cells).astype(np.float64)
    stay = residents - out
    presence = np.empty((HOURS_PER_WEEK, n_cells), dtype=np.float64)
    occupancy = np.empty((HOURS_PER_WEEK, n_cells), dtype=np.float64)
    for h in range(HOURS_PER_WEEK):
        day_of_week, hour = divmod(h, 24)
        away = (p.weekday_away if day_of_week < 5 else p.weekend_away)[hour]
        errand = p.errand_out[hour]
        at_home = stay * (1 - errand) + out * (1 - away)
        presence[h] = at_home + inflow * away + residents * errand * 0.5
        occupancy[h] = np.divide(at_home, residents, out=np.zeros(n_cells), where=residents > 0)
    return presence, occupancy
