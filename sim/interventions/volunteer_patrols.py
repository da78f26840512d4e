"""Volunteer patrols (群防群治: 红袖标 "red armbands", 红城义警 "Red City volunteer police").

Xing'an League raised red-armband and "Red City volunteer police" teams because it was
short of police (004_d1fb0e0d9599ba9c.txt); Jincheng's volunteer patrol teams and
neighbourhood mutual-aid teams are rewarded with points (积分奖励, 001_b31210ca73dc4a0f.txt).
Here volunteers walk their own community in chosen hours: while on duty they are capable
guardians in the community's cells (blocking hazard, weaker than an officer on post) and
people residents see on guard (the sense-of-safety survey); off duty they are neither.
Each volunteer hour earns points worth a fixed sum.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.interventions.base import (
    Cost,
    DutyRoster,
    DutyRosterParams,
    Intervention,
    select_counties,
)
from sim.metrics import Metric

__all__ = ["VolunteerPatrolParams", "VolunteerPatrols"]


class VolunteerPatrolParams(DutyRosterParams):
    key = "volunteer_patrols"

    volunteers_per_community: float = Field(
        2.0, ge=0, description="Volunteers on duty in each covered community during duty hours, one "
        "pair walking the community [people] (assumed)."
    )
    hours: list[int] = Field(
        default=[18, 19, 20], min_length=1, description="Hours of the day on duty, each the hour "
        "starting then; default 18:00–21:00, the evening walk (assumed)."
    )
    counties: list[str] | None = Field(None, description="Counties whose communities are covered; default all.")
    community_share: float = Field(
        1.0, ge=0, le=1, description="Share of those communities covered, most residents first."
    )
    guard_per_volunteer: float = Field(
        0.25, ge=0, description="Blocking hazard a volunteer on duty adds in a cell (an officer on post "
        "adds 0.8) (assumed)."
    )
    points_yuan_per_volunteer_hour: float = Field(
        10.0, ge=0, description="Value of the points a volunteer hour earns [yuan] (assumed; Jincheng "
        "rewards volunteers with points)."
    )
    setup_cost_yuan_per_volunteer: float = Field(
        150.0, ge=0, description="Armbands, vests, torches and training per volunteer on duty, shared by the "
        "rota [yuan] (assumed)."
    )


class VolunteerPatrols(Intervention):
    key = "volunteer_patrols"
    Params = VolunteerPatrolParams
    declares = (
        Metric("volunteer_communities", "communities",
               "Communities with volunteer patrols (0 before they start).", kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        city = ctx.city
        n_comm = len(city.community_town)
        comm_pop = np.bincount(city.community, weights=city.residents, minlength=n_comm)
        counties = select_counties(city, p.counties, self.key)
        eligible = np.flatnonzero(np.isin(city.town_county[city.community_town], counties) & (comm_pop > 0))
        n = round(p.community_share * len(eligible))
        self.communities = np.sort(eligible[np.argsort(-comm_pop[eligible], kind="stable")[:n]])
        # Each community's volunteers spread over its cells in proportion to residents.
        covered = np.isin(city.community, self.communities)
        share = np.where(covered, city.residents / np.maximum(comm_pop[city.community], 1), 0.0)
        self.on_duty = p.volunteers_per_community * share  # volunteers per cell while on duty
        self.n_volunteers = float(self.on_duty.sum())
        self._roster = DutyRoster(self.on_duty, p.guard_per_volunteer, p.hours)

    def on_hour(self, ctx, hour: int, day_of_year: int) -> None:
        if self._roster.update(ctx.levers, hour):
            ctx.count("volunteer_hours", self.n_volunteers)

    def cost(self) -> Cost:
        p = self.params
        n = getattr(self, "n_volunteers", 0.0)
        # Volunteers are not paid staff: their hours are reported as volunteer_hours, not staff_hours.
        return Cost(n * p.setup_cost_yuan_per_volunteer,
                    n * len(p.hours) * 365.0 * p.points_yuan_per_volunteer_hour, 0.0)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        started = self.started(year)
        return {"volunteer_communities": float(len(self.communities)) if started else 0.0}
