"""Siting a package's point facilities on the simulated city with the location models.

Demand comes from the baseline runs of the study (every intervention off, all posterior draws and
replicates, their last counted year): calls for service per cell for dispatch bases (stations,
rapid-response points), recorded offences per cell for camera clusters and hot-spot patrol spots
(each facility's :class:`sim.interventions.siting.SitingProfile`). Dispatch bases keep the city's
police stations — and the dispatch bases this package has already placed — fixed, and serve only
their own county, as the dispatcher does.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from sim.interventions import REGISTRY
from sim.interventions.base import scaled_count
from sim.optimise.location import Siting, driving_minutes, mclp, p_median
from sim.space.city import City, build_city

__all__ = ["Demand", "site_facility", "siting_order", "city_at"]


@dataclass(frozen=True)
class Demand:
    """Mean demand per cell of the simulated city, from the baseline runs.

    Attributes:
        calls: Calls for service per cell and year (where they came from).
        incidents: Police-recorded offences per cell and year.
    """

    calls: np.ndarray
    incidents: np.ndarray

    def of(self, kind: str) -> np.ndarray:
        if kind not in ("calls", "incidents"):
            raise ValueError(f"unknown demand {kind!r}; expected calls or incidents")
        return self.calls if kind == "calls" else self.incidents


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
                  placed: np.ndarray) -> Siting:
    """Site ``n`` facilities of kind ``key`` by ``rule`` (``"mclp"`` or ``"p_median"``).

    Args:
        scenario: The package's scenario (its city, dispatch speeds and the facility's counties).
        key: The intervention.
        rule: The location model.
        n: Sites to place on the simulated city.
        demand: Baseline demand per cell.
        scale: The simulated scale.
        placed: Cells of dispatch bases this package already placed (kept fixed with the police stations).
    """
    city = city_at(scenario, scale)
    profile = REGISTRY[key].siting
    params = getattr(scenario.interventions, key)
    dispatch = scenario.dispatch
    speed = np.where(city.urban, dispatch.speed_urban_kmh, dispatch.speed_rural_kmh).astype(float)
    cells = np.arange(city.n_cells)
    pool = cells[city.residents > 0]
    counties = getattr(params, "counties", None)
    if counties:
        pool = pool[np.isin(city.county[pool], [city.county_names.index(c) for c in counties])]
    n = min(n, len(pool))
    minutes = driving_minutes(city.ix, city.iy, city.cell_size_km, dispatch.detour_factor, speed, cells, pool)
    fixed = np.full(city.n_cells, np.inf)
    if profile.dispatch_base:
        minutes[city.county[:, None] != city.county[pool][None, :]] = np.inf
        bases = np.concatenate([city.station_cell.astype(np.int64), np.asarray(placed, dtype=np.int64)])
        to_bases = driving_minutes(city.ix, city.iy, city.cell_size_km, dispatch.detour_factor, speed, cells, bases)
        to_bases[city.county[:, None] != city.county[bases][None, :]] = np.inf
        fixed = to_bases.min(axis=1)
    weights = demand.of(profile.demand)
    if rule == "mclp":
        return mclp(weights, minutes, fixed, n, profile.coverage_min, pool)
    if rule == "p_median":
        return p_median(weights, minutes, fixed, n, pool)
    raise ValueError(f"unknown siting rule {rule!r}; expected mclp or p_median")
