"""Rapid-response prevention points (快反防控点).

Suizhou built 28 of them in Sui County and Guangshui in 2022 (003_d0d6d615d3c4e2fc.txt).
A point is a dispatch base outside the main urban area: units on duty there patrol a
local beat, add visible presence, and answer calls nearby within a response-time target.
The share of urgent calls near the points answered within that target is reported.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import (
    Cost,
    Intervention,
    InterventionParams,
    MapMarker,
    check_counties,
    scaled_count,
    select_counties,
)
from sim.interventions.siting import (
    SitingProfile,
    base_units_at,
    check_given_sites,
    given_sites,
    pick_spaced_sites,
    sites_field,
)
from sim.metrics import Metric
from sim.params import MAX_SITES, MAX_UNITS_PER_SITE

__all__ = ["RapidResponsePointParams", "RapidResponsePoints"]


class RapidResponsePointParams(InterventionParams):
    count: int = Field(28, ge=0, le=MAX_SITES, description="Points at full scale (Suizhou 2022: 28).")
    counties: list[str] | None = Field(
        None, description="Counties to site them in; default: every county without the main "
        "urban area (Suizhou: Sui County and Guangshui)."
    )
    placement: Literal["hot_spots", "given"] = Field(
        "hot_spots", description="Where to site them: the busiest well-spaced cells of ``counties``, or at the "
        "given ``sites``."
    )
    sites: list[list[float]] | None = sites_field()
    units_per_point: int = Field(1, ge=0, le=MAX_UNITS_PER_SITE, description="Patrol units on duty at each point.")
    officers_on_post: float = Field(1.0, ge=0, description="Officers visibly on post (assumed).")
    beat_radius_km: float = Field(3.0, gt=0, description="Radius its units patrol [km].")
    response_target_min: float = Field(
        10.0, gt=0, description="Response-time target for calls near a point [minutes] (assumed)."
    )
    min_spacing_km: float = Field(4.0, ge=0, description="Least distance between two points.")
    setup_cost_yuan: float = Field(400_000.0, ge=0, description="Set up one point (assumed).")
    running_cost_yuan_per_year: float = Field(
        900_000.0, ge=0, description="Staff, vehicle and upkeep of one per year (assumed)."
    )


    def check(self, city) -> None:
        check_counties(self.counties, city, "rapid_response_points")
        check_given_sites(self.placement, self.sites, "rapid_response_points")


class RapidResponsePoints(Intervention):
    key = "rapid_response_points"
    Params = RapidResponsePointParams
    map_marker = MapMarker("rapid-response point", "D", "tab:green", 30.0)
    declares = (
        Metric("rrp_urgent_within_target_share", "share",
               "Urgent calls in the points' catchment answered within the response target (NaN before the "
               "points or without such calls).", kind="reported"),
    )

    #: Dispatch bases answering calls within their response target (10 minutes: 8 minutes' drive
    #: after 2 minutes' turnout).
    siting: ClassVar[SitingProfile] = SitingProfile("count", "calls", 8.0, dispatch_base=True,
                                                  patrol_units_field="units_per_point",
                                                  beat_radius_field="beat_radius_km")

    def activate(self, ctx) -> None:
        p = self.params
        city = ctx.city
        if p.placement == "given":
            self.cells = given_sites(city, p.sites, self.key)
        else:
            if p.counties is None:
                counties = [i for i, c in enumerate(city.params.counties) if not c.main_urban_area]
            else:
                counties = select_counties(city, p.counties, self.key)
            pool = np.flatnonzero(np.isin(city.county, counties) & (city.residents > 0))
            n = scaled_count(p.count, ctx.scale)
            self.cells = pick_spaced_sites(city, pool, ctx.incidents.site_score(pool), n, p.min_spacing_km)
        self.catchment = np.zeros(city.n_cells, dtype=bool)
        for c in self.cells:
            beat = base_units_at(ctx, c, p.officers_on_post, p.beat_radius_km, p.units_per_point, self.key)
            self.catchment[beat] = True

    def cost(self) -> Cost:
        n = len(getattr(self, "cells", []))
        p = self.params
        return Cost(n * p.setup_cost_yuan, n * p.running_cost_yuan_per_year,
                    n * (p.officers_on_post + 2 * p.units_per_point))

    def metrics(self, ctx, year: int) -> dict[str, float]:
        if not self.started(year):
            return {"rrp_urgent_within_target_share": float("nan")}
        calls = ctx.attended_calls(year)
        near = [c for c in calls if self.catchment[c.cell] and c.priority == 1]
        if not near:
            return {"rrp_urgent_within_target_share": float("nan")}
        ok = sum((c.arrived_at - c.time) <= self.params.response_target_min for c in near)
        return {"rrp_urgent_within_target_share": ok / len(near)}
