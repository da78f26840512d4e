"""Police-accompanied mediation (随警调解).

Daqing's police brought people's mediators along on calls ("人民调解员随警调解") and,
with home visits, resolved 8 215 disputes in 2021 (002_5234f462d53c6514.txt). With this on,
police who attend a dispute call try to settle it at the scene; success falls with the
dispute's stage. Settlements count as ``disputes_resolved_by_police``.
"""

from __future__ import annotations

from pydantic import Field

from sim.disputes.mediation import MediationAtScene
from sim.interventions.base import Cost, Intervention, InterventionParams

__all__ = ["PoliceMediationParams", "PoliceMediation"]


class PoliceMediationParams(InterventionParams):
    success_by_stage: list[float] = Field(
        default=[0.8, 0.7, 0.55], min_length=3, max_length=3,
        description="Chance police and an accompanying mediator settle it at minor, conflict, call stage (assumed).",
    )
    honour_prob: float = Field(0.9, ge=0, le=1, description="Chance the settlement holds (assumed).")
    mediators_on_call: float = Field(
        0.5, ge=0, description="People's mediators on call with police per 100 000 residents (assumed)."
    )
    cost_yuan_per_mediator_year: float = Field(40_000.0, ge=0, description="(assumed)")


class PoliceMediation(Intervention):
    key = "police_mediation"
    Params = PoliceMediationParams

    def activate(self, ctx) -> None:
        ctx.disputes.mediate_at_scene(MediationAtScene(self.params.success_by_stage, self.params.honour_prob))
        self._mediators = self.params.mediators_on_call * ctx.city.population / 1e5

    def cost(self) -> Cost:
        n = getattr(self, "_mediators", 0.0)
        return Cost(0.0, n * self.params.cost_yuan_per_mediator_year, n)
