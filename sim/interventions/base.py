"""What every intervention is: a switchable unit with parameters, effects and a cost.

An intervention module defines a :class:`InterventionParams` subclass (its scenario keys,
with units and sources) and an :class:`Intervention` subclass with a ``key`` — the name
under ``interventions:`` in a scenario file. Defining the class registers it; the scenario
schema, the model and the cost accounting pick it up from :data:`REGISTRY`. Nothing
outside the module branches on its name.

Interventions act only through the model's shared levers: ``posts`` (officers on fixed
posts per cell), ``extra_guardians`` (blocking hazard per cell), ``camera_count`` (via
``model.add_cameras``), ``walk_in_share`` (non-urgent calls absorbed per cell),
``type_deterrence`` and ``clearance_odds`` (per crime type), and the patrol fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import Field

from sim.params import Params

if TYPE_CHECKING:
    from sim.model import PinganModel

__all__ = ["InterventionParams", "Intervention", "Cost", "REGISTRY", "scaled_count"]

REGISTRY: dict[str, type[Intervention]] = {}


class InterventionParams(Params):
    """Keys every intervention has."""


    enabled: bool = Field(False, description="Switch the intervention on.")
    start_year: int | None = Field(
        None, description="Calendar year it starts; default: the scenario's run.intervention_year."
    )

    def check(self, city) -> None:
        """Checks that need the scenario's city parameters; raise ValueError naming the key."""


@dataclass(frozen=True)
class Cost:
    """What an intervention costs once built (already scaled)."""

    setup_yuan: float = 0.0
    running_yuan_per_year: float = 0.0
    staff_on_duty: float = 0.0  # people on duty at any hour, for staff hours


def scaled_count(count: int, scale: float) -> int:
    """A count of sites at ``scale``: proportional, at least one where the full count is."""
    return 0 if count <= 0 else max(1, round(count * scale))


class Intervention:
    """Base class. Subclasses set ``key`` and ``Params`` and override the hooks they need.

    Args:
        params: The intervention's validated parameters.
    """

    key: ClassVar[str] = ""
    Params: ClassVar[type[InterventionParams]] = InterventionParams

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.key:
            REGISTRY[cls.key] = cls

    def __init__(self, params: InterventionParams):
        self.params = params
        self.active = False
        self.first_year_index: int | None = None  # counted year it started in

    def activate(self, model: PinganModel) -> None:
        """Put the intervention in place at the start of its first year."""

    def on_hour(self, model: PinganModel, hour: int, day_of_year: int) -> None:
        """Act each hour while active (optional)."""

    def cost(self) -> Cost:
        """Set-up and running cost, once activated."""
        return Cost()

    def treated_cells(self, model: PinganModel) -> np.ndarray:
        """Cells where the intervention was placed (for displacement rings); default ``self.cells``."""
        return np.asarray(getattr(self, "cells", []), dtype=np.int64)

    def metrics(self, model: PinganModel, year: int) -> dict[str, float]:
        """Extra metrics of this intervention for a counted year (optional)."""
        return {}
