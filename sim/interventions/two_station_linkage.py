"""Police station and judicial office working jointly (两所联动, "two offices linked").

Xing'an League's 99 police stations (派出所) and 68 judicial offices (司法所) share
prevention, building and governance work, screen risks together and resolve disputes
together, with full coverage by 2020 (004_d1fb0e0d9599ba9c.txt). Here a linked town is one
that has both: the towns with the most residents, one per judicial office. In a linked
town a joint team of police and judicial-office staff screens households for disputes
(a discovery source whose minor finds are mediated there and then), and the town's
judicial-office mediation succeeds more often because police information and presence
back the mediator.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.disputes import DiscoverySource, Resolver, visit_hazard
from sim.interventions.base import Cost, Intervention, InterventionParams, scaled_count
from sim.metrics import Metric
from sim.params import MAX_SITES

__all__ = ["TwoStationLinkageParams", "TwoStationLinkage"]

_TOWN_LEVEL = 1  # MediationService level of the judicial office (village, town, county)


class TwoStationLinkageParams(InterventionParams):
    judicial_offices: int = Field(
        68, ge=0, le=MAX_SITES, description="Judicial offices linked with a police station at full scale; each links "
        "one town (Xing'an League: 68 judicial offices with 99 police stations)."
    )
    screenings_per_town_day: float = Field(
        10.0, ge=0, description="Households screened a day by a linked town's joint team [households/day] "
        "(assumed)."
    )
    find_prob_per_screening: float = Field(
        0.6, ge=0, le=1, description="Chance screening a household with a live dispute finds it (assumed)."
    )
    targeting_factor: float = Field(
        5.0, ge=1, description="Live-dispute rate of screened households relative to a random one: "
        "teams work from police call records and mediation registers (assumed)."
    )
    on_spot_prob: float = Field(
        0.5, ge=0, le=1, description="Chance a found minor dispute is mediated on the spot by the joint "
        "team (assumed)."
    )
    honour_prob: float = Field(0.95, ge=0, le=1, description="Chance that settlement holds (assumed).")
    mediation_success_boost: float = Field(
        0.05, ge=0, le=1, description="Added chance that judicial-office mediation succeeds in a linked "
        "town (assumed)."
    )
    staff_per_town: float = Field(
        1.0, ge=0, description="Joint-team staff on duty 8 hours a day per linked town [people] (assumed)."
    )
    setup_cost_yuan_per_town: float = Field(
        50_000.0, ge=0, description="Joint office room, registers and data link per town [yuan] (assumed)."
    )
    running_cost_yuan_per_town_year: float = Field(
        60_000.0, ge=0, description="Staff time and upkeep per linked town per year [yuan] (assumed)."
    )


class TwoStationLinkage(Intervention):
    key = "two_station_linkage"
    Params = TwoStationLinkageParams
    declares = (
        Metric("linked_towns", "towns",
               "Towns whose police station and judicial office work jointly (0 before it starts).", kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        city = ctx.city
        n_towns = len(city.town_county)
        pop = np.bincount(city.town, weights=city.residents, minlength=n_towns)
        n = min(scaled_count(p.judicial_offices, ctx.scale), n_towns)
        self.towns = np.sort(np.argsort(-pop, kind="stable")[:n])
        hazard = np.zeros(city.n_cells)
        for t in self.towns:
            hazard += visit_hazard(city, np.flatnonzero(city.town == t), p.screenings_per_town_day,
                                   p.find_prob_per_screening, p.targeting_factor)
        ctx.disputes.add_discovery_source(DiscoverySource("joint_screening", hazard, p.on_spot_prob,
                                                       Resolver.MEDIATION, p.honour_prob))
        # Mediation may be switched on later than the linkage: the system applies the boost then.
        ctx.disputes.boost_mediation(_TOWN_LEVEL, self.towns, p.mediation_success_boost)

    def cost(self) -> Cost:
        n = len(getattr(self, "towns", []))
        p = self.params
        return Cost(n * p.setup_cost_yuan_per_town, n * p.running_cost_yuan_per_town_year,
                    n * p.staff_per_town * 8 / 24)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        started = self.started(year)
        return {"linked_towns": float(len(self.towns)) if started else 0.0}
