"""Video coverage (视频监控): new cameras, e.g. Suizhou's 54 000+ village points in 2022.

"慧眼看千村、警民护万家" (003_d0d6d615d3c4e2fc.txt); 雪亮工程 in Jincheng. Cameras raise the
coverage of the cells they are placed in, which the model turns into deterrence (offenders
who know they are watched), detection of unreported offences and higher clearance.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import Cost, Intervention, InterventionParams, MapMarker
from sim.interventions.siting import SitingProfile, camera_weights, check_given_sites, given_sites, sites_field
from sim.params import MAX_CAMERAS
from sim.space.city import apportion

__all__ = ["VideoParams", "Video"]


class VideoParams(InterventionParams):
    cameras: int = Field(54_000, ge=0, le=MAX_CAMERAS,
                         description="New cameras at full scale (Suizhou 2022: 54 000+).")
    placement: Literal["villages", "hot_spots", "main_roads", "uniform", "given"] = Field(
        "villages", description="Placement policy; ``given``: in equal clusters at the given ``sites``."
    )
    sites: list[list[float]] | None = sites_field()
    setup_cost_yuan_per_camera: float = Field(2_500.0, ge=0, description="Per camera (assumed).")
    running_cost_yuan_per_camera_year: float = Field(
        300.0, ge=0, description="Network, power and upkeep per camera per year (assumed)."
    )
    monitoring_staff: float = Field(
        0.0005, ge=0, description="Monitoring staff on duty per camera (assumed)."
    )
    monitoring: Literal["passive", "active"] = Field(
        "passive", description="Passive: footage is recorded and found after the fact (an unreported "
        "offence the cameras catch is cleared from footage, if at all). Active: a monitoring centre "
        "watches live and calls in what it sees, so a unit responds (Piza et al. 2019, CCTV meta-analysis: "
        "larger effects with active monitoring; not re-verified)."
    )
    live_call_delay_min: float = Field(
        2.0, ge=0, description="Minutes from an offence seen live to the operators' call (assumed; only "
        "with active monitoring)."
    )
    active_monitoring_staff: float = Field(
        0.002, ge=0, description="Operators on duty per camera watched live, in addition to "
        "``monitoring_staff`` (assumed; only with active monitoring)."
    )


    def check(self, city) -> None:
        check_given_sites(self.placement, self.sites, "video")


class Video(Intervention):
    key = "video"
    Params = VideoParams
    map_marker = MapMarker("cells with cameras", "x", "tab:purple", 10.0)
    #: Camera clusters watch their own cell, where recorded offences are; 500 cameras make a
    #: cluster (assumed: the order of a town's "Sharp Eyes" network).
    siting: ClassVar[SitingProfile] = SitingProfile("cameras", "incidents", 0.0, units_per_site=500.0)

    def activate(self, ctx) -> None:
        p = self.params
        self.n = round(p.cameras * ctx.scale)
        if p.placement == "given":
            weights = np.bincount(given_sites(ctx.city, p.sites, self.key), minlength=ctx.city.n_cells)
        else:
            weights = camera_weights(ctx.city, p.placement, ctx.incidents.site_score)
        counts = apportion(self.n, weights)
        self.cells = np.flatnonzero(counts)
        ctx.levers.add_cameras(counts)
        if p.monitoring == "active":
            ctx.levers.watch_live(self.cells, p.live_call_delay_min)

    def cost(self) -> Cost:
        n = getattr(self, "n", 0)
        p = self.params
        staff = p.monitoring_staff + (p.active_monitoring_staff if p.monitoring == "active" else 0.0)
        return Cost(n * p.setup_cost_yuan_per_camera, n * p.running_cost_yuan_per_camera_year, n * staff)
