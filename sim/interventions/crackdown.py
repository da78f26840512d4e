"""Crackdown campaigns (专项行动, 严打整治).

Suizhou ran 13 special campaigns in 2022 — against fraud on the elderly, "Thunder 2022"
public-order problems, theft/robbery/fraud (盗抢骗), telecom fraud, trafficking, the summer
"100 days" action, … (003_d0d6d615d3c4e2fc.txt). A campaign is a period in which the odds
of clearing its crime types rise and offenders, hearing of it, perceive more risk.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from sim.interventions.base import Cost, Intervention, InterventionParams
from sim.mechanisms.crime_types import CRIME_TYPES
from sim.params import Params

__all__ = ["Campaign", "CrackdownParams", "Crackdown"]


class Campaign(Params):
    """One campaign."""


    name: str
    crime_types: list[str] = Field(min_length=1)
    start_day: int = Field(ge=0, le=364, description="Day of the year it starts (0 = 1 January).")
    days: int = Field(ge=1, le=365)
    clearance_odds_multiplier: float = Field(1.5, ge=0, description="(assumed)")
    deterrence: float = Field(0.2, ge=0, description="Perceived risk added for its types (assumed).")
    extra_officers_on_duty: float = Field(
        0.0, ge=0, description="Officers added city-wide at full scale while it runs (assumed)."
    )

    @field_validator("crime_types")
    @classmethod
    def _known(cls, v):
        bad = [t for t in v if t not in CRIME_TYPES]
        if bad:
            raise ValueError(f"unknown crime type(s) {bad}; expected some of {list(CRIME_TYPES)}")
        return v


def _suizhou_2022() -> list[Campaign]:
    # Illustrative calendar; dates assumed. The report counts 13 campaigns and names six: five are here
    # (trafficking of women and children is not one of the model's crime types), plus a vehicle-crime
    # campaign (assumed) standing for the unnamed others.
    c = Campaign
    return [
        c(name="elderly fraud", crime_types=["fraud"], start_day=105, days=260),
        c(name="thunder 2022", crime_types=["theft", "robbery", "assault"], start_day=60, days=120),
        c(name="theft robbery fraud", crime_types=["burglary", "theft", "robbery", "fraud"],
          start_day=0, days=365, clearance_odds_multiplier=1.2, deterrence=0.1),
        c(name="telecom fraud", crime_types=["fraud"], start_day=0, days=365,
          clearance_odds_multiplier=1.3, deterrence=0.1),
        c(name="summer 100 days", crime_types=["theft", "robbery", "assault", "burglary"],
          start_day=160, days=100, clearance_odds_multiplier=1.6, deterrence=0.3,
          extra_officers_on_duty=40.0),
        c(name="vehicle crime", crime_types=["vehicle_crime"], start_day=200, days=90),
    ]


class CrackdownParams(InterventionParams):
    campaigns: list[Campaign] = Field(default_factory=_suizhou_2022)
    cost_yuan_per_officer_hour: float = Field(80.0, ge=0, description="(assumed)")


class Crackdown(Intervention):
    key = "crackdown"
    Params = CrackdownParams

    def activate(self, ctx) -> None:
        self._types = [[CRIME_TYPES.index(t) for t in c.crime_types] for c in self.params.campaigns]
        self._scale = ctx.scale
        self._running: tuple[int, ...] = ()
        self._posts = np.zeros(ctx.city.n_cells)
        self._day: int | None = None

    def on_hour(self, ctx, hour: int, day_of_year: int) -> None:
        if day_of_year == self._day:  # campaigns start and end at midnight
            return
        self._day = day_of_year
        levers = ctx.levers
        levers.clearance_odds[:] = 1.0
        levers.type_deterrence[:] = 0.0
        running = []
        for i, (camp, types) in enumerate(zip(self.params.campaigns, self._types, strict=True)):
            if camp.start_day <= day_of_year < camp.start_day + camp.days:
                levers.clearance_odds[types] *= camp.clearance_odds_multiplier
                levers.type_deterrence[types] += camp.deterrence
                running.append(i)
        if tuple(running) != self._running:
            self._deploy(ctx, running)

    def _deploy(self, ctx, running: list[int]) -> None:
        """Put the running campaigns' extra officers on posts at the current hot spots."""
        ctx.levers.posts -= self._posts
        self._posts[:] = 0.0
        officers = sum(self.params.campaigns[i].extra_officers_on_duty for i in running) * ctx.scale
        if officers > 0:
            k = max(1, int(np.ceil(officers)))
            cells = np.argsort(-ctx.incidents.site_score(np.arange(ctx.city.n_cells)), kind="stable")[:k]
            self._posts[cells] = officers / k
        ctx.levers.posts += self._posts
        self._running = tuple(running)

    def cost(self) -> Cost:
        scale = getattr(self, "_scale", 1.0)
        yearly = scale * sum(c.extra_officers_on_duty * c.days * 24 for c in self.params.campaigns)
        return Cost(0.0, yearly * self.params.cost_yuan_per_officer_hour, yearly / 8760.0)
