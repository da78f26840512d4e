"""Siting a package's point facilities on the simulated city with the location models.

Demand comes from the baseline runs of the study (every intervention off, all posterior draws and
replicates, their last counted year): calls for service per cell for dispatch bases (stations,
rapid-response points), recorded offences per cell for camera clusters and hot-spot patrol spots
(each facility's :class:`sim.interventions.siting.SitingProfile`).

Dispatch bases are sited on the expected response of the nearest free unit
(:mod:`sim.optimise.response`): the police stations' units — and those of the dispatch bases this
package has already placed — are kept, each patrolling its beat (where the baseline's heat puts it)
and busy for the share of the time the baseline runs measured; a new base's units patrol the beat
its intervention gives them; a call is answered by its own county's units, as the dispatcher does.
Camera clusters and hot-spot spots use the classical models (:mod:`sim.optimise.location`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from sim.agents.patrol import PatrolFleet, station_unit_count
from sim.events.dispatch import destination_speed_kmh
from sim.interventions import REGISTRY
from sim.interventions.base import scaled_count
from sim.interventions.siting import within
from sim.optimise.location import Siting, driving_minutes, mclp, p_median
from sim.optimise.response import Travel, Units, expected_response, patrol_where, site_dispatch_bases
from sim.space.city import City, build_city

__all__ = ["Demand", "DEMAND_FIELDS", "baseline_demand", "site_facility", "siting_order", "city_at", "candidate_cells",
           "dispatch_units", "DispatchBaseInstance", "dispatch_base_instance"]


@dataclass(frozen=True)
class Demand:
    """Mean demand per cell of the simulated city, from the baseline runs.

    Attributes:
        calls: Calls for service attended per cell and year (where they came from).
        incidents: Police-recorded offences per cell and year.
        heat: What the patrols' hot-spot map counts per cell and year: recorded offences and
            public-order calls.
        unit_busy: Share of the time each of the police stations' patrol units was on calls (in the
            fleet's order).
    """

    calls: np.ndarray
    incidents: np.ndarray
    heat: np.ndarray
    unit_busy: np.ndarray

    def of(self, kind: str) -> np.ndarray:
        """The demand a facility's :class:`~sim.interventions.siting.SitingProfile` names."""
        if kind not in ("calls", "incidents"):
            raise ValueError(f"unknown demand {kind!r}; expected calls or incidents")
        return self.calls if kind == "calls" else self.incidents


#: The fields of :class:`Demand` (what a study's ``demand.npz`` holds).
DEMAND_FIELDS = ("calls", "incidents", "heat", "unit_busy")


def baseline_demand(results) -> Demand:
    """Mean demand per cell over baseline runs (their last counted year), and the units' busy shares."""
    last = [res.calls[res.calls["year"] == len(res.cell_incidents) - 1] for res in results]
    n = len(results[0].cell_incidents[-1])
    public_order = [np.bincount(c["cell"][c["public_order"]], minlength=n) for c in last]
    shares = [np.asarray(res.unit_busy_share, dtype=float) for res in results]
    if len({len(x) for x in shares}) == 1:
        unit_busy = np.mean(shares, axis=0)
    else:  # runs with other fleets (posterior draws of the patrol strength): one mean share for every unit
        unit_busy = np.array([float(np.mean(np.concatenate(shares)))])
    return Demand(calls=np.mean([res.cell_calls[-1] for res in results], axis=0),
                  incidents=np.mean([res.cell_incidents[-1] for res in results], axis=0),
                  heat=np.mean([res.cell_incidents[-1] + po for res, po in zip(results, public_order, strict=True)],
                               axis=0),
                  unit_busy=unit_busy)


@functools.lru_cache(maxsize=4)
def _city(city_json: str, scale: float) -> City:
    from sim.space.city import CityParams

    return build_city(CityParams.model_validate_json(city_json), scale)


def city_at(scenario, scale: float) -> City:
    """The scenario's city at ``scale`` (built once per process)."""
    return _city(scenario.city.model_dump_json(), float(scale))


def siting_order(keys) -> list[str]:
    """Dispatch bases first (each sees the ones placed before it as fixed), then the rest, by key."""
    return sorted(keys, key=lambda k: (not REGISTRY[k].siting.dispatch_base, k))


def site_count(key: str, params, scale: float) -> int:
    """How many sites the facility has on the city at ``scale``."""
    profile = REGISTRY[key].siting
    size = getattr(params, profile.count_field)
    return scaled_count(math.ceil(size / profile.units_per_site), scale)


def site_facility(scenario, key: str, rule: str, n: int, demand: Demand, scale: float,
                  placed: dict[str, np.ndarray]) -> Siting:
    """Site ``n`` facilities of kind ``key`` by ``rule`` (``"mclp"`` or ``"p_median"``).

    Args:
        scenario: The package's scenario (its city, dispatch speeds and the facility's counties).
        key: The intervention.
        rule: The location model.
        n: Sites to place on the simulated city.
        demand: Baseline demand per cell.
        scale: The simulated scale.
        placed: Facility -> cells of the dispatch bases this package already placed (kept with the police
            stations).
    """
    if rule not in ("mclp", "p_median"):
        raise ValueError(f"unknown siting rule {rule!r}; expected mclp or p_median")
    city = city_at(scenario, scale)
    profile = REGISTRY[key].siting
    pool = candidate_cells(city, getattr(scenario.interventions, key))
    n = min(n, len(pool))
    weights = demand.of(profile.demand)
    if profile.dispatch_base:
        return dispatch_base_instance(scenario, key, n, demand, scale, placed).solve(n, rule)
    dispatch = scenario.dispatch
    speed = destination_speed_kmh(city, dispatch)
    cells = np.arange(city.n_cells)
    minutes = driving_minutes(city.ix, city.iy, city.cell_size_km, dispatch.detour_factor, speed, cells, pool)
    fixed = np.full(city.n_cells, np.inf)
    if rule == "mclp":
        return mclp(weights, minutes, fixed, n, profile.coverage_min, pool)
    return p_median(weights, minutes, fixed, n, pool)


def candidate_cells(city: City, params) -> np.ndarray:
    """Cells a facility may be sited in: inhabited cells of its ``counties`` (all counties if it has none)."""
    pool = np.flatnonzero(city.residents > 0)
    counties = getattr(params, "counties", None)
    if counties:
        pool = pool[np.isin(city.county[pool], [city.county_names.index(c) for c in counties])]
    return pool


def _base_beats(city: City, scenario, key: str, cells: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """The patrol units at each dispatch base of kind ``key``, and the beat of a base at each of ``cells``."""
    profile = REGISTRY[key].siting
    params = getattr(scenario.interventions, key)
    radius = getattr(params, profile.beat_radius_field)
    return int(getattr(params, profile.patrol_units_field)), [within(city, int(c), radius) for c in cells]


def dispatch_units(scenario, city: City, demand: Demand, placed: dict[str, np.ndarray],
                   new_units: dict[int, float] | None = None) -> Units:
    """The units answering calls before new dispatch bases are placed, as the response model sees them.

    The police stations' units (the baseline's fleet: their bases and beats at this scale, busy for the
    share of the time the baseline runs measured) and the units of ``placed`` bases. Each county's
    workload is shared by all its units: with ``new_units[c]`` units to come in county ``c``, every
    unit's busy share there falls in proportion.
    """
    policing = scenario.policing
    n_counties = len(city.county_names)
    fleet = PatrolFleet(city, policing, 0)
    fleet.add_station_units(station_unit_count(city, policing))
    beats = [fleet.beat_cells(int(b)) for b in fleet.beat]
    county = [int(c) for c in fleet.county]
    busy = np.asarray(demand.unit_busy, dtype=float)
    if len(busy) != fleet.n:  # the baseline ran another fleet: its mean share for every unit
        busy = np.full(fleet.n, float(np.mean(busy)) if len(busy) else 0.0)
    busy = list(busy)
    station_units = np.bincount(fleet.county, minlength=n_counties).astype(float)
    load = np.bincount(fleet.county, weights=np.asarray(busy), minlength=n_counties)
    extra = np.zeros(n_counties)
    for key, cells in placed.items():
        units, key_beats = _base_beats(city, scenario, key, np.asarray(cells, dtype=np.int64))
        for c, beat in zip(cells, key_beats, strict=True):
            c_county = int(city.county[c])
            beats += [beat] * units
            county += [c_county] * units
            busy += [load[c_county] / max(station_units[c_county], 1.0)] * units  # the county's mean
            extra[c_county] += units
    for c, k in (new_units or {}).items():
        extra[c] += k
    county = np.array(county, dtype=np.int64)
    share = station_units / np.maximum(station_units + extra, 1.0)
    where = patrol_where(city.n_cells, beats, demand.heat, policing.hotspot_share)
    return Units(county, where, np.clip(np.asarray(busy) * share[county], 0.0, 1.0))


@dataclass(frozen=True)
class DispatchBaseInstance:
    """A dispatch base's siting problem on the response model (:mod:`sim.optimise.response`).

    Attributes:
        travel: Dispatch's travel times on the city.
        weights: Calls per cell (the facility's demand).
        fixed: The units already answering calls.
        pool: Cells a base may be placed in.
        candidates: The units a base at each cell of ``pool`` would have (one row per cell).
        units_per_site: Patrol units at each base.
        standard_min: Response standard [minutes]: the facility's coverage drive plus turnout.
    """

    travel: Travel
    weights: np.ndarray
    fixed: Units
    pool: np.ndarray
    candidates: Units
    units_per_site: int
    standard_min: float

    def solve(self, n: int, rule: str) -> Siting:
        """Place ``n`` bases by ``rule`` (``"p_median"`` or ``"mclp"``)."""
        n = min(n, len(self.pool))
        if self.units_per_site == 0:  # bases without units answer no calls: any sites are as good
            return Siting(self.pool[:n], math.nan, math.nan, "no units", rule)
        return site_dispatch_bases(self.travel, self.weights, self.fixed, self.pool, self.candidates, n, rule,
                                   self.standard_min, self.units_per_site)

    def value(self, sites: np.ndarray, rule: str, region: np.ndarray | None = None) -> float:
        """The model's objective for bases at ``sites`` (cells of :attr:`pool`), per call of ``region``.

        ``p_median``: expected mean response [minutes]; ``mclp``: expected share within the standard.
        """
        rows = np.searchsorted(self.pool, np.asarray(sites, dtype=np.int64))
        if not np.array_equal(self.pool[np.minimum(rows, len(self.pool) - 1)], sites):
            raise ValueError("every site must be a cell of the pool")
        w = self.weights if region is None else self.weights * region
        c = self.candidates
        chosen = Units(c.county[rows], c.where[rows], c.busy[rows])
        return expected_response(self.travel, w, self.fixed, chosen, rule, self.standard_min,
                                 self.units_per_site) / w.sum()


def dispatch_base_instance(scenario, key: str, n: int, demand: Demand, scale: float,
                           placed: dict[str, np.ndarray]) -> DispatchBaseInstance:
    """The siting problem of ``n`` new dispatch bases of kind ``key`` (see the module docstring).

    A base goes to an inhabited cell of the facility's counties that holds no base this package placed.

    Each base's units patrol the beat its intervention gives them; they share their county's workload, so
    the busy share of every unit of a county falls with the bases expected there (the ``n`` bases shared
    out by the demand of the counties they may go to: an a-priori estimate, as the maximal expected
    covering model's busy fraction is).
    """
    city = city_at(scenario, scale)
    profile = REGISTRY[key].siting
    pool = candidate_cells(city, getattr(scenario.interventions, key))
    taken = np.concatenate([np.zeros(0, dtype=np.int64), *(np.asarray(c, dtype=np.int64) for c in placed.values())])
    pool = pool[~np.isin(pool, taken)]  # one base to a cell
    per_site, beats = _base_beats(city, scenario, key, pool)
    weights = demand.of(profile.demand)
    n_counties = len(city.county_names)
    may = np.bincount(city.county[pool], minlength=n_counties) > 0
    county_demand = np.bincount(city.county, weights=weights, minlength=n_counties) * may
    share = county_demand / county_demand.sum() if county_demand.sum() > 0 else may / max(may.sum(), 1)
    fixed = dispatch_units(scenario, city, demand, placed,
                           {c: n * per_site * float(share[c]) for c in range(n_counties) if share[c] > 0})
    county_busy = (np.bincount(fixed.county, weights=fixed.busy, minlength=n_counties)
                   / np.maximum(np.bincount(fixed.county, minlength=n_counties), 1))
    pool_county = city.county[pool].astype(np.int64)
    candidates = Units(pool_county, patrol_where(city.n_cells, beats, demand.heat, scenario.policing.hotspot_share),
                       county_busy[pool_county])
    return DispatchBaseInstance(Travel.of(city, scenario.dispatch), weights, fixed, pool, candidates, per_site,
                                profile.coverage_min + scenario.dispatch.turnout_min)
