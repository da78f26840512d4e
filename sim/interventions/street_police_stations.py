"""Street police stations (街面警务站).

Suizhou built 8 "standard" stations in its main urban area in 2022, each combining call
reception and patrol, rapid response, case handling and walk-in public service
(003_d0d6d615d3c4e2fc.txt). Here a station is, all in one place: officers on a fixed post
(guardianship in its cell and, weaker, around it), patrol units based there that patrol a
small beat and are dispatched like any unit, and a walk-in desk that serves some non-urgent
requests nearby so they never become 110 calls.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import Cost, Intervention, InterventionParams, MapMarker, scaled_count
from sim.interventions.siting import (
    SitingProfile,
    base_units_at,
    check_given_sites,
    given_sites,
    pick_spaced_sites,
    sites_field,
    within,
)
from sim.params import MAX_SITES, MAX_UNITS_PER_SITE

__all__ = ["StreetPoliceStationParams", "StreetPoliceStations"]


class StreetPoliceStationParams(InterventionParams):
    count: int = Field(8, ge=0, le=MAX_SITES, description="Stations at full scale (Suizhou 2022: 8).")
    placement: Literal["main_urban_hot_spots", "hot_spots", "given"] = Field(
        "main_urban_hot_spots", description="Where to site them: busiest cells of the main "
        "urban area, or of the whole city, or at the given ``sites``."
    )
    sites: list[list[float]] | None = sites_field()
    officers_on_post: float = Field(
        2.0, ge=0, description="Officers visibly on post at any hour (assumed)."
    )
    patrol_units: int = Field(1, ge=0, le=MAX_UNITS_PER_SITE, description="Patrol units on duty based at each station.")
    beat_radius_km: float = Field(1.0, gt=0, description="Radius its units patrol [km].")
    walk_in_share: float = Field(
        0.3, ge=0, le=1, description="Share of non-urgent requests near a station served at the "
        "desk instead of by a 110 call (assumed)."
    )
    walk_in_radius_km: float = Field(1.0, ge=0, description="Reach of the walk-in desk [km].")
    min_spacing_km: float = Field(1.5, ge=0, description="Least distance between two stations.")
    setup_cost_yuan: float = Field(1_500_000.0, ge=0, description="Build and equip one (assumed).")
    running_cost_yuan_per_year: float = Field(
        1_800_000.0, ge=0, description="Staff and upkeep of one per year (assumed)."
    )

    def check(self, city) -> None:
        check_given_sites(self.placement, self.sites, "street_police_stations")


class StreetPoliceStations(Intervention):
    key = "street_police_stations"
    Params = StreetPoliceStationParams
    map_marker = MapMarker("street police station", "^", "tab:blue", 40.0)
    #: Dispatch bases serving calls within a 10-minute response (8 minutes' drive after 2 minutes'
    #: turnout; assumed, as the rapid-response points' target).
    siting: ClassVar[SitingProfile] = SitingProfile("count", "calls", 8.0, dispatch_base=True,
                                                  patrol_units_field="patrol_units",
                                                  beat_radius_field="beat_radius_km")

    def activate(self, ctx) -> None:
        p = self.params
        city = ctx.city
        if p.placement == "given":
            self.cells = given_sites(city, p.sites, self.key)
        else:
            n = scaled_count(p.count, ctx.scale)
            pool = np.flatnonzero(city.main_urban if p.placement == "main_urban_hot_spots" else
                                  city.land_use <= 4)
            self.cells = pick_spaced_sites(city, pool, ctx.incidents.site_score(pool), n, p.min_spacing_km)
        for c in self.cells:
            base_units_at(ctx, c, p.officers_on_post, p.beat_radius_km, p.patrol_units, self.key)
            near = within(city, c, p.walk_in_radius_km)
            desks = ctx.levers.walk_in_share
            desks[near] = 1 - (1 - desks[near]) * (1 - p.walk_in_share)

    def cost(self) -> Cost:
        n = len(getattr(self, "cells", []))
        p = self.params
        return Cost(n * p.setup_cost_yuan, n * p.running_cost_yuan_per_year,
                    n * (p.officers_on_post + 2 * p.patrol_units))
