"""The validated scenario: every parameter group of the model, under one root.

Each group's model lives with the mechanism it parameterises; this module only composes
them. The ``interventions`` section is built from the intervention registry, so a new
intervention module adds its key here without editing this file.
"""

from __future__ import annotations

import re

from pydantic import Field, create_model, field_validator, model_validator

from sim.agents.patrol import PolicingParams
from sim.agents.residents import ResidentParams
from sim.disputes.book import DisputeParams
from sim.events.dispatch import DispatchParams
from sim.interventions import REGISTRY
from sim.mechanisms.calls import CallParams
from sim.mechanisms.clearance import ClearanceParams
from sim.mechanisms.offending import CrimeParams
from sim.mechanisms.safety import SafetyParams
from sim.optimise.spec import OptimiseSpec
from sim.params import Params, excerpt
from sim.space.city import CityParams

__all__ = ["RunParams", "Interventions", "Scenario", "check_plain_name", "MAX_WARMUP_DAYS", "MAX_NAME_LENGTH"]

#: Longest warm-up [days]: ten years. A warm-up only lets the model forget its initial state,
#: which takes weeks; a value in the millions is a typo that would run for days.
MAX_WARMUP_DAYS = 3_650
#: Longest scenario or sweep name [characters] (names become folder and file names).
MAX_NAME_LENGTH = 100
# A name is one plain word: letters (any script), digits, "_", "-" and "." — never a path.
_PLAIN_NAME = re.compile(r"^\w[\w.-]*$")


def check_plain_name(value: str) -> str:
    """Check a scenario or sweep name is a plain, file-name-safe word, not a path.

    Names become output folders (``results/NAME``); ``../x`` or ``/tmp/x`` would write outside
    ``results/``.

    Raises:
        ValueError: Naming the value and what is expected.
    """
    if not _PLAIN_NAME.match(value) or ".." in value or len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"expected a plain name of at most {MAX_NAME_LENGTH} letters, digits, '_', '-' or '.' "
                         f"(not starting with '.' or '-', no '..'), not a path: it names the output folder "
                         f"results/NAME; got {excerpt(value)}")
    return value



class RunParams(Params):
    """Simulated period: counted years after an uncounted warm-up."""

    first_year: int = Field(2021, ge=1900, le=2200, description="Calendar year of the first counted year "
                            "(bounded so dates stay ordinary calendar dates).")
    years: int = Field(2, ge=1, le=20, description="Counted years.")
    warmup_days: int = Field(63, ge=0, le=MAX_WARMUP_DAYS, description="Days simulated first and not counted "
                             f"(≤ {MAX_WARMUP_DAYS}: ten years). The slowest stocks start settled "
                             "(``stationary_start``); the warm-up lets the others settle: arrest deterrence (half-life "
                             "30 days) starts at zero and reaches its level after about 8 weeks, hot-spot heat (14) "
                             "and near repeats (7) sooner. 63 days (9 weeks, so counted years start on the same "
                             "weekday hour as before; 28 before the stationary-baseline work).")
    stationary_start: bool = Field(
        True, description="Start the slow stocks at their steady state: the disputes live at the run's start "
        "(DisputeBook.add_standing), the offenders held after an arrest when the counted years begin "
        "(sim.mechanisms.incapacitation), and interventions whose own ``start_year`` is the first counted "
        "year started with the warm-up (they predate the counted years, as Daqing's mediation does). Off, "
        "every run starts with no disputes, every offender free and every intervention off until its year, "
        "and those stocks fill over the first counted year (the model before the stationary-baseline work).")
    intervention_year: int | None = Field(
        None, description="Year interventions start by default; default: the second year."
    )
    collect_every_hours: int = Field(24, ge=1, le=8760, description="DataCollector interval [hours]; "
                                     "at most a year.")

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

    name: str = Field("scenario", description="Plain name (letters, digits, _ - .): it names the output "
                      "folder results/NAME and the results' 'scenario' column.")
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
    # Read by `pingan optimise` only; left out of the scenario's content (and so of run ids).
    optimise: OptimiseSpec | None = Field(None, exclude=True, description="The optimiser's levers and settings.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return check_plain_name(v)

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
