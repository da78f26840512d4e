"""Where interventions put things: site choice and placement weights shared by several of them.

Street police stations and rapid-response points both pick well-spaced sites and base
officers and patrol units there; the model's existing cameras and the video intervention
share camera placement policies. Interventions import these helpers from here, never from
one another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.space.city import LandUse

if TYPE_CHECKING:
    from sim.interventions.context import InterventionContext
    from sim.space.city import City

__all__ = ["camera_weights", "within", "pick_spaced_sites", "base_units_at"]


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
