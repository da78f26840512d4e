"""Where interventions put things: site choice and placement weights shared by several of them.

Street police stations and rapid-response points both pick well-spaced sites and base
officers and patrol units there; the model's existing cameras and the video intervention
share camera placement policies. Interventions import these helpers from here, never from
one another.

Point facilities (street police stations, rapid-response points, camera clusters, hot-spot
patrol spots) also take explicit sites: ``placement: given`` with ``sites:`` as positions in km
on the city at the run's scale, each mapped to the nearest inhabited cell
(:func:`given_sites`). A location model (``sim.optimise``) writes them; each facility says how
it wants to be sited in a :class:`SitingProfile`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim.space.city import LandUse

if TYPE_CHECKING:
    from sim.interventions.context import InterventionContext
    from sim.space.city import City

__all__ = ["camera_weights", "within", "pick_spaced_sites", "base_units_at", "given_sites", "check_given_sites",
           "sites_field", "SitingProfile"]


@dataclass(frozen=True)
class SitingProfile:
    """How a point facility is sited by a location model.

    Attributes:
        count_field: The parameter whose full-scale value sets how many sites there are.
        demand: What the sites serve: ``"calls"`` (calls for service per cell) or ``"incidents"``
            (recorded offences per cell).
        coverage_min: Driving minutes within which a site covers a cell (0: its own cell only).
        dispatch_base: Sites are bases of patrol units, so the existing police stations already
            serve demand near them (a location model keeps them fixed).
        units_per_site: Units of ``count_field`` that make one site (e.g. cameras per cluster).
        patrol_units_field: For a dispatch base, the parameter giving the patrol units based at each site.
        beat_radius_field: For a dispatch base, the parameter giving the radius its units patrol [km].
    """

    count_field: str
    demand: str
    coverage_min: float
    dispatch_base: bool = False
    units_per_site: float = 1.0
    patrol_units_field: str | None = None
    beat_radius_field: str | None = None


def sites_field():
    """The ``sites`` parameter of a point facility (used with ``placement: given``)."""
    return Field(None, max_length=100_000, description="Sites as [x, y] positions in km on the city at the "
                 "run's scale, each placed in the nearest inhabited cell; only with placement: given.")


def check_given_sites(placement: str, sites: list[list[float]] | None, key: str) -> None:
    """``sites`` is given exactly when ``placement`` is ``given``; each is an [x, y] pair of km ≥ 0."""
    if placement == "given" and not sites:
        raise ValueError(f"interventions.{key}.sites: placement 'given' needs a non-empty list of [x, y] "
                         "positions in km")
    if placement != "given" and sites is not None:
        raise ValueError(f"interventions.{key}.sites: only used with placement: given (placement is {placement!r})")
    for site in sites or []:
        if len(site) != 2 or min(site) < 0:
            raise ValueError(f"interventions.{key}.sites: expected [x, y] positions in km (≥ 0), got {site}")


def given_sites(city, sites: list[list[float]], key: str) -> np.ndarray:
    """The cells of sites given as [x, y] positions in km: the nearest inhabited cell of each.

    Raises:
        ValueError: If a site lies off the city's map (outside its square of cells), naming the
            key, the site and the map's extent.
    """
    extent = city.lattice.shape[0] * city.cell_size_km
    xy = np.asarray(sites, dtype=float).reshape(-1, 2)
    off = [list(s) for s in xy if not (0 <= s[0] <= extent and 0 <= s[1] <= extent)]
    if off:
        raise ValueError(f"interventions.{key}.sites: {off[:3]} off the map of the city at this scale "
                         f"(0–{extent:g} km in x and y)")
    dx = np.abs(city.x_km[None, :] - xy[:, 0:1])
    dy = np.abs(city.y_km[None, :] - xy[:, 1:2])
    return np.argmin(dx + dy, axis=1).astype(np.int64)  # lattice (Manhattan) distance, first cell on ties


def camera_weights(city: City, placement: str,
                   site_score: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Relative share of cameras each cell receives under a placement policy.

    Args:
        city: The city.
        placement: ``"villages"`` (village residents), ``"hot_spots"`` (``site_score``),
            ``"main_roads"`` (footfall of urban core, commercial and town cells) or anything
            else (residents).
        site_score: How much cells need presence (:meth:`sim.mechanisms.incident_map.IncidentMap.site_score`),
            for ``"hot_spots"``.
    """
    if placement == "villages":
        return (city.land_use == LandUse.VILLAGE) * city.residents.astype(float)
    if placement == "hot_spots":
        if site_score is None:
            raise ValueError("camera placement 'hot_spots' needs a site score")
        return site_score(np.arange(city.n_cells))
    if placement == "main_roads":
        return np.isin(city.land_use, [LandUse.URBAN_CORE, LandUse.COMMERCIAL, LandUse.TOWN]) * (
            city.attraction + 1.0)
    return city.residents.astype(float)


def within(city, cell: int, radius_km: float) -> np.ndarray:
    """Cells within ``radius_km`` (lattice distance) of ``cell``, the cell itself included."""
    cand = np.arange(city.n_cells)
    return cand[city.distance_km(cell, cand) <= radius_km]


def pick_spaced_sites(city, pool: np.ndarray, score: np.ndarray, n: int, spacing_km: float) -> np.ndarray:
    """The ``n`` best-scoring cells of ``pool`` at least ``spacing_km`` apart (greedy).

    If the pool has no room for ``n`` spaced sites, the rest are filled without spacing.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    chosen: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        c = int(pool[i])
        if all(city.distance_km(c, np.array([d]))[0] >= spacing_km for d in chosen):
            chosen.append(c)
            if len(chosen) == n:
                break
    if len(chosen) < n:  # not enough room: fill without spacing
        rest = [int(pool[i]) for i in np.argsort(-score, kind="stable") if int(pool[i]) not in chosen]
        chosen += rest[: n - len(chosen)]
    return np.array(chosen, dtype=np.int64)


def base_units_at(ctx: InterventionContext, cell: int, officers_on_post: float, beat_radius_km: float, units: int,
                  kind: str) -> np.ndarray:
    """Officers on a fixed post at ``cell`` and ``units`` patrol units based there.

    Args:
        ctx: The intervention's context (its levers and patrol fleet are changed).
        cell: The site.
        officers_on_post: Officers visibly on post there [officers].
        beat_radius_km: Radius of the units' beat [km].
        units: Patrol units based there.
        kind: The units' kind (the intervention's key).

    Returns:
        The cells of the units' beat (within ``beat_radius_km`` of the post).
    """
    ctx.levers.posts[cell] += officers_on_post
    cells = within(ctx.city, cell, beat_radius_km)
    beat = ctx.fleet.add_beat(cells)
    ctx.fleet.add_units(np.full(units, cell), np.full(units, beat), kind=kind)
    return cells
