"""The ``optimise:`` block of a scenario file: the decision levers, their ranges and the study's settings.

A lever is ``<intervention>.<parameter>`` with a ``range`` (numbers, with an optional ``step``) or
``choices``, or ``<intervention>.siting`` with choices among ``scenario`` (the intervention's own
placement rule as the scenario sets it), its other placement rules, ``mclp`` (maximal covering)
and ``p_median`` (see :mod:`sim.optimise.location`; for dispatch bases, on the expected response of
the nearest free patrol unit: :mod:`sim.optimise.response`)::

    optimise:
      levers:
        street_police_stations.count: {range: [0, 16]}
        street_police_stations.siting: {choices: [scenario, mclp, p_median]}
        video.cameras: {range: [0, 108000], step: 2000}
        crackdown.enabled: {choices: [false, true]}
      objectives: [preventable_cases, calls_for_service, response_time_p90_min, cost]

Without ``levers`` the menu of :func:`sim.optimise.menu.default_levers` is used. This module only
holds the file format (it is imported by the scenario schema); checking the levers against a
scenario is :func:`sim.optimise.menu.check_levers`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.params import Params

__all__ = ["Lever", "OptimiseSpec", "OBJECTIVES", "SITING_RULES"]

#: What a study can optimise: each is scored against the baseline (every intervention off), paired
#: replicate by replicate. ``cost`` is the package's annual cost at full scale (not simulated).
OBJECTIVES: dict[str, str] = {
    "preventable_cases": "preventable cases prevented (baseline minus package), more is better",
    "calls_for_service": "calls for service avoided (baseline minus package), more is better",
    "response_time_median_min": "change of the median response time [min], lower is better",
    "response_time_p90_min": "change of the 90th-percentile response time [min], lower is better",
    "cost": "annual cost at full scale [yuan per year], lower is better",
}

#: Siting rules the location models provide, beside ``scenario`` and an intervention's own placements.
SITING_RULES = ("mclp", "p_median")

#: Most posterior draws or replicates per package, and most packages a study evaluates: bounds
#: against a typo that would run for weeks (100 packages × 8 draws is the benchmark's study).
MAX_DRAWS = 1_000
MAX_PACKAGES = 100_000


class Lever(Params):
    """One decision lever: a numeric ``range`` (``[low, high]``, optional ``step``) or ``choices``."""

    range: list[float] | None = Field(None, description="[low, high], inclusive.")
    step: float | None = Field(None, gt=0, description="Grid step of the range (default 1 for whole-number "
                               "parameters, continuous otherwise).")
    choices: list[str | bool | int | float] | None = Field(None, description="The values to choose from.")

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.range is None) == (self.choices is None):
            raise ValueError("give either range: [low, high] or choices: [...]")
        if self.range is not None:
            if len(self.range) != 2:
                raise ValueError(f"range: expected [low, high], got {self.range}")
            if self.range[1] < self.range[0]:
                raise ValueError(f"range: inverted, high {self.range[1]:g} below low {self.range[0]:g}")
        if self.choices is not None:
            if not self.choices:
                raise ValueError("choices: empty; expected at least one value")
            if len({repr(c) for c in self.choices}) != len(self.choices):
                raise ValueError(f"choices: a value appears twice in {self.choices}")
        if self.step is not None and self.range is None:
            raise ValueError("step: only with range")
        return self


class OptimiseSpec(Params):
    """The ``optimise:`` block: levers and the study's settings (the command line may override them)."""

    levers: dict[str, Lever] | None = Field(None, description="Lever key -> range or choices; default: the "
                                            "menu for the scenario (sim.optimise.menu.default_levers).")
    objectives: list[Literal["preventable_cases", "calls_for_service", "response_time_median_min",
                             "response_time_p90_min", "cost"]] = Field(
        default=["preventable_cases", "cost"], min_length=2, description="What the search trades off.")
    score: Literal["mean", "quantile"] = Field(
        "mean", description="What the search optimises for each simulated objective: its mean over draws and "
        "replicates, or its pessimistic quantile over posterior draws.")
    quantile: float = Field(0.1, gt=0, lt=0.5, description="Pessimistic quantile: the 10th percentile of a "
                            "benefit, the 90th of a harm.")
    posterior_draws: int = Field(8, ge=1, le=MAX_DRAWS, description="Posterior draws K per package.")
    replicates: int = Field(1, ge=1, le=MAX_DRAWS, description="Replicates R per draw (common random numbers).")
    packages: int = Field(100, ge=1, le=MAX_PACKAGES, description="Packages within budget to evaluate.")
    population: int = Field(20, ge=2, le=10_000, description="NSGA-II population size (packages per generation).")
    amortisation_years: float = Field(10.0, gt=0, le=100, description="Years over which set-up costs are spread "
                                      "in the annual cost (assumed: a decade for stations and cameras).")

    @model_validator(mode="after")
    def _objectives_distinct(self):
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError(f"objectives: a name appears twice in {self.objectives}")
        return self
