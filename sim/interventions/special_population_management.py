"""Management of special populations (重点人群服务管理).

Suizhou names the managed groups: released prisoners (刑满释放人员), community-corrections
subjects (社区矫正对象), people with severe mental illness (严重精神障碍患者) and drug users
(吸毒成瘾人员) (003_d0d6d615d3c4e2fc.txt). Regular contact by grid workers and community
police — help with work, treatment and benefits, and someone who notices trouble early —
is taken to lower both the offending of managed people who are motivated offenders and
the rate of disputes in their households. Who is managed is drawn once per resident, so
the same people are managed in every scenario with the same seed.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.interventions.base import Cost, Intervention, InterventionParams
from sim.metrics import Metric
from sim.rng import event_uniforms

__all__ = ["SpecialPopulationManagementParams", "SpecialPopulationManagement"]


class SpecialPopulationManagementParams(InterventionParams):
    contact_coverage: float = Field(
        0.9, ge=0, le=1, description="Share of special-population members under regular contact (assumed)."
    )
    offending_reduction: float = Field(
        0.3, ge=0, le=1, description="Relative fall in a managed offender's offending propensity (assumed; "
        "re-entry support studies report recidivism falls of this order)."
    )
    dispute_reduction: float = Field(
        0.3, ge=0, le=1, description="Relative fall in new disputes in a managed person's household (assumed)."
    )
    caseload_per_worker: float = Field(
        40.0, gt=0, description="Managed people per full-time case worker [people] (assumed)."
    )
    cost_yuan_per_person_year: float = Field(
        2_000.0, ge=0, description="Contact, support and records per managed person per year [yuan], on top "
        "of case workers' pay (assumed)."
    )
    cost_yuan_per_worker_year: float = Field(
        60_000.0, ge=0, description="Pay of a case worker per year [yuan] (assumed)."
    )


class SpecialPopulationManagement(Intervention):
    key = "special_population_management"
    Params = SpecialPopulationManagementParams
    declares = (
        Metric("special_population_managed", "people",
               "Special-population members under regular contact (0 before it starts).", kind="reported"),
        Metric("special_population_managed_offenders", "people",
               "Managed members who are motivated offenders (0 before it starts).", kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        res = ctx.residents
        special = np.flatnonzero(res.special > 0)
        u = event_uniforms(ctx.seed, "special_population.managed", special)
        self.managed = special[u < p.contact_coverage]
        is_managed = np.zeros(res.n, dtype=bool)
        is_managed[self.managed] = True
        managed_offender = is_managed[res.offenders]
        ctx.levers.offender_propensity[managed_offender] *= 1 - p.offending_reduction
        self.managed_offenders = int(managed_offender.sum())
        ctx.disputes.manage_households(np.unique(res.household[self.managed]), p.dispute_reduction)

    def cost(self) -> Cost:
        p = self.params
        n = len(getattr(self, "managed", []))
        workers = n / p.caseload_per_worker
        return Cost(0.0, n * p.cost_yuan_per_person_year + workers * p.cost_yuan_per_worker_year, workers * 8 / 24)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        started = self.started(year)
        return {"special_population_managed": float(len(self.managed)) if started else 0.0,
                "special_population_managed_offenders": float(self.managed_offenders) if started else 0.0}
