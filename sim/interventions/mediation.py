"""Mediation (调解): people's mediators, judicial-office mediators, court pre-litigation.

Jincheng links people's, administrative and judicial mediation (三调联动) and mediates about
5 000 disputes a year with ≥ 98 % success and ≥ 99 % of agreements honoured
(001_b31210ca73dc4a0f.txt); Daqing's pre-litigation mediation guidance is effective in
≥ 80 % of cases (002_5234f462d53c6514.txt). Switching this on gives every village and
community a committee, every town a judicial office and every county a court mediation
desk (:mod:`sim.disputes.mediation`); found disputes climb them when governance centres
are not in place, and governance centres use them to dispose of disputes when they are.
"""

from __future__ import annotations

from pydantic import Field

from sim.disputes.mediation import MediationParams
from sim.interventions.base import Cost, Intervention, InterventionParams

__all__ = ["MediationInterventionParams", "Mediation"]


class MediationInterventionParams(InterventionParams):
    service: MediationParams = Field(default_factory=MediationParams)
    cost_yuan_per_mediator_year: list[float] = Field(
        default=[12_000.0, 90_000.0, 150_000.0], min_length=3, max_length=3,
        description="Subsidy or pay per mediator per year: village (part-time), judicial office, court (assumed).",
    )


class Mediation(Intervention):
    key = "mediation"
    Params = MediationInterventionParams

    def activate(self, ctx) -> None:
        service = ctx.disputes.open_mediation(self.params.service)
        self._mediators = [sum(r.capacity for r in level) for level in service.committees]

    def cost(self) -> Cost:
        m = getattr(self, "_mediators", [0, 0, 0])
        yearly = sum(n * c for n, c in zip(m, self.params.cost_yuan_per_mediator_year, strict=True))
        return Cost(0.0, yearly, sum(m) * 8 / 24)
