"""The validated scenario: every parameter group of the model, under one root.

Each group's model lives with the mechanism it parameterises; this module only composes
them. The ``interventions`` section is built from the intervention registry, so a new
intervention module adds its key here without editing this file.
"""

from __future__ import annotations

from pydantic import Field, create_model, model_validator

from sim.agents.patrol import PolicingParams
from sim.agents.residents import ResidentParams
from sim.disputes.book import DisputeParams
from sim.events.dispatch import DispatchParams
from sim.interventions import REGISTRY
from sim.mechanisms.calls import CallParams
from sim.mechanisms.clearance import ClearanceParams
from sim.mechanisms.crime import CrimeParams
from sim.mechanisms.safety import SafetyParams
from sim.params import Params
from sim.space.city import CityParams

__all__ = ["RunParams", "Interventions", "Scenario"]



class RunParams(Params):
    """Simulated period: counted years after an uncounted warm-up."""

    first_year: int = Field(2021, description="Calendar year of the first counted year.")
    years: int = Field(2, ge=1, le=20, description="Counted years.")
    warmup_days: int = Field(28, ge=0, description="Days simulated first and not counted.")
    intervention_year: int | None = Field(
        None, description="Year interventions start by default; default: the second year."
    )
    collect_every_hours: int = Field(24, ge=1, description="DataCollector interval [hours].")

    @model_validator(mode="after")
    def _intervention_year_in_run(self):
        if self.intervention_year is not None and self.intervention_year not in self.year_labels:
            raise ValueError(f"run.intervention_year={self.intervention_year} is outside the run "
                             f"{self.year_labels[0]}–{self.year_labels[-1]}")
        return self

    @property
    def start_year_of_interventions(self) -> int:
        if self.intervention_year is not None:
            return self.intervention_year
        return self.first_year + (1 if self.years > 1 else 0)

    @property
    def year_labels(self) -> list[int]:
        return list(range(self.first_year, self.first_year + self.years))


Interventions = create_model(
    "Interventions",
    __base__=Params,
    **{key: (cls.Params, Field(default_factory=cls.Params)) for key, cls in sorted(REGISTRY.items())},
)


class Scenario(Params):
    """A complete, validated scenario."""

    name: str = "scenario"
    description: str = ""
    city: CityParams = Field(default_factory=lambda: CityParams.model_validate({"preset": "suizhou"}))
    run: RunParams = Field(default_factory=RunParams)
    residents: ResidentParams = Field(default_factory=ResidentParams)
    crime: CrimeParams = Field(default_factory=CrimeParams)
    calls: CallParams = Field(default_factory=CallParams)
    clearance: ClearanceParams = Field(default_factory=ClearanceParams)
    policing: PolicingParams = Field(default_factory=PolicingParams)
    dispatch: DispatchParams = Field(default_factory=DispatchParams)
    disputes: DisputeParams = Field(default_factory=DisputeParams)
    safety: SafetyParams = Field(default_factory=SafetyParams)
    interventions: Interventions = Field(default_factory=Interventions)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _years_consistent(self):
        labels = self.run.year_labels
        for key in REGISTRY:
            iv = getattr(self.interventions, key)
            if iv.enabled and iv.start_year is not None and iv.start_year not in labels:
                raise ValueError(
                    f"interventions.{key}.start_year={iv.start_year} is outside the run "
                    f"{labels[0]}–{labels[-1]}"
                )
            iv.check(self.city)
        return self

    def enabled_interventions(self) -> dict[str, object]:
        """The enabled interventions' parameters, by key."""
        return {k: getattr(self.interventions, k) for k in sorted(REGISTRY)
                if getattr(self.interventions, k).enabled}
