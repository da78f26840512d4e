"""One auxiliary police officer per village (一村一辅警).

Daqing's Dorbod county placed an auxiliary police officer (辅警) in every village, and
Lindian county's auxiliary police joined the village committees (002_5234f462d53c6514.txt).
Here each village (a VILLAGE cell) gets ``per_village`` officers. During duty hours they are
capable guardians there (like an officer on post, a little weaker) and people residents see
on guard; on their rounds they find village disputes and settle minor ones on the spot,
credited to the police (``disputes_resolved_by_police``).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.disputes import DiscoverySource, Resolver
from sim.interventions.base import (
    Cost,
    DutyRoster,
    DutyRosterParams,
    Intervention,
    select_counties,
)
from sim.metrics import Metric
from sim.space.city import LandUse

__all__ = ["AuxiliaryPoliceParams", "AuxiliaryPolice"]


class AuxiliaryPoliceParams(DutyRosterParams):
    key = "auxiliary_police"

    per_village: float = Field(1.0, ge=0, description="Auxiliary officers per village (Daqing, Dorbod: one).")
    counties: list[str] | None = Field(
        None, description="Counties whose villages get them; default all (Daqing: Dorbod county)."
    )
    hours: list[int] = Field(
        default=list(range(8, 20)), min_length=1, description="Hours of the day on duty, each the hour "
        "starting then; default 08:00–20:00 (assumed)."
    )
    guard_per_officer: float = Field(
        0.6, ge=0, description="Blocking hazard an officer on duty adds in the village (a police officer "
        "on post adds 0.8) (assumed)."
    )
    visits_per_officer_day: float = Field(
        8.0, ge=0, description="Household visits an officer makes on a day's rounds [visits/day] (assumed)."
    )
    find_prob_per_visit: float = Field(
        0.5, ge=0, le=1, description="Chance a visit to a household with a live dispute finds it (assumed)."
    )
    targeting_factor: float = Field(
        2.0, ge=1, description="Live-dispute rate of visited households relative to a random one: a "
        "village officer knows whom to call on (assumed)."
    )
    on_spot_prob: float = Field(
        0.5, ge=0, le=1, description="Chance a found minor dispute is settled on the spot (assumed)."
    )
    honour_prob: float = Field(0.9, ge=0, le=1, description="Chance that settlement holds (assumed).")
    setup_cost_yuan_per_officer: float = Field(
        8_000.0, ge=0, description="Uniform, kit and training per officer [yuan] (assumed)."
    )
    cost_yuan_per_officer_year: float = Field(
        45_000.0, ge=0, description="Pay and allowances per officer per year [yuan] (assumed)."
    )


class AuxiliaryPolice(Intervention):
    key = "auxiliary_police"
    Params = AuxiliaryPoliceParams
    declares = (
        Metric("auxiliary_officers", "officers",
               "Village auxiliary police officers in place (0 before they start).", kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        city = ctx.city
        counties = select_counties(city, p.counties, self.key)
        villages = (city.land_use == LandUse.VILLAGE) & np.isin(city.county, counties) & (city.residents > 0)
        self.officers = np.where(villages, p.per_village, 0.0)  # officers per cell
        self.n_officers = float(self.officers.sum())
        # Rounds reach only the officer's own village: visits a day per household of that cell.
        per_household = np.divide(self.officers * p.visits_per_officer_day, city.households,
                                  out=np.zeros(city.n_cells), where=city.households > 0)
        hazard = np.minimum(per_household * p.targeting_factor, 1.0) * p.find_prob_per_visit
        ctx.disputes.add_discovery_source(DiscoverySource("auxiliary_police", hazard, p.on_spot_prob,
                                                       Resolver.POLICE, p.honour_prob))
        self._roster = DutyRoster(self.officers, p.guard_per_officer, p.hours)

    def on_hour(self, ctx, hour: int, day_of_year: int) -> None:
        self._roster.update(ctx.levers, hour)

    def cost(self) -> Cost:
        p = self.params
        n = getattr(self, "n_officers", 0.0)
        return Cost(n * p.setup_cost_yuan_per_officer, n * p.cost_yuan_per_officer_year, n * len(p.hours) / 24)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        started = self.started(year)
        return {"auxiliary_officers": self.n_officers if started else 0.0}
