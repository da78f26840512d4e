"""What every intervention is: a switchable unit with parameters, effects and a cost.

An intervention module defines a :class:`InterventionParams` subclass (its scenario keys,
with units and sources) and an :class:`Intervention` subclass with a ``key`` — the name
under ``interventions:`` in a scenario file. Defining the class registers it; the scenario
schema, the model and the cost accounting pick it up from :data:`REGISTRY`. Nothing
outside the module branches on its name.

An intervention never sees the model: its hooks receive a narrow context
(:class:`sim.interventions.context.InterventionContext`) through which it moves the levers
(:class:`sim.levers.Levers`: posts, guardians, cameras and live monitoring, alarms, walk-in
desks, campaign deterrence, clearance odds, offenders' propensity), registers with the dispute
system (discovery sources, governance centres, mediation, mediation at the scene, managed
households, tickets), uses a small patrol-fleet API and counts what it does in declared
metrics. The metrics an intervention reports are declared in its ``declares`` (see
:mod:`sim.metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import Field, field_validator

from sim.interventions.siting import SitingProfile
from sim.metrics import METRICS, Metric
from sim.params import Params

if TYPE_CHECKING:
    from sim.interventions.context import InterventionContext
    from sim.levers import Levers

__all__ = ["InterventionParams", "Intervention", "Cost", "MapMarker", "REGISTRY", "scaled_count", "check_counties",
           "select_counties", "check_hours", "DutyRoster", "DutyRosterParams"]

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


@dataclass(frozen=True)
class MapMarker:
    """How an intervention's sites are drawn on maps (matplotlib's marker and colour names).

    Attributes:
        label: What a site is, for the legend (e.g. "street police station").
        marker: Marker symbol (``"^"``, ``"D"``, ``"s"``, ``"x"``, …).
        colour: Colour name (``"tab:blue"``, …).
        size: Marker area [points²].
    """

    label: str
    marker: str
    colour: str
    size: float = 20.0


def check_counties(counties: list[str] | None, city_params, key: str) -> None:
    """Raise if a named county is not one of the scenario city's (message names the key)."""
    names = [c.name for c in city_params.counties]
    unknown = sorted(set(counties or []) - set(names))
    if unknown:
        raise ValueError(f"interventions.{key}.counties: unknown county {unknown}; expected some of {names}")


def select_counties(city, counties: list[str] | None, key: str) -> np.ndarray:
    """Indices of the named counties (all when ``None``); an unknown name is an error naming ``key``."""
    if counties is None:
        return np.arange(len(city.county_names))
    check_counties(counties, city.params, key)
    return np.array([city.county_names.index(c) for c in counties], dtype=np.int64)


def check_hours(hours: list[int], key: str) -> list[int]:
    """Validate a list of duty hours: distinct hours of the day 0–23 (message names the key)."""
    if any(not 0 <= h <= 23 for h in hours) or len(set(hours)) != len(hours):
        raise ValueError(f"interventions.{key}.hours: expected distinct hours of the day 0–23, got {hours}")
    return hours


class DutyRosterParams(InterventionParams):
    """Keys of people on duty in some hours of the day in some counties (volunteers, auxiliary police).

    A subclass sets ``key`` (its intervention's, for messages) and declares ``hours`` (hours of the
    day on duty) and ``counties`` (None: all) with its own defaults; their checks are here.
    """

    key: ClassVar[str] = ""

    @field_validator("hours", check_fields=False)
    @classmethod
    def _hours_of_day(cls, v):
        return check_hours(v, cls.key)

    def check(self, city) -> None:
        check_counties(self.counties, city, self.key)


class DutyRoster:
    """People on guard in some cells during some hours of the day (volunteers, auxiliary police).

    While on duty they add ``guard_per_person`` × people to the cells' blocking hazard and are
    seen as guardians (sense of safety); off duty both are taken back.

    Args:
        people: People on duty per cell.
        guard_per_person: Blocking hazard one person on duty adds in their cell.
        hours: Hours of the day on duty.
    """

    def __init__(self, people: np.ndarray, guard_per_person: float, hours: list[int]):
        self.people = people
        self.guard_per_person = guard_per_person
        self.hours = frozenset(hours)
        self.on = False

    def update(self, levers: Levers, hour: int) -> bool:
        """Put people on or off duty for ``hour``; returns whether they are on duty."""
        on = hour % 24 in self.hours
        if on != self.on:
            sign = 1.0 if on else -1.0
            levers.extra_guardians += sign * self.guard_per_person * self.people
            levers.visible_guardians += sign * self.people
            self.on = on
        return on


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
    #: The metrics only this intervention records or reports (declared in sim.metrics.METRICS).
    declares: ClassVar[tuple[Metric, ...]] = ()
    #: How its sites (``treated_cells``) are drawn on maps; None: not drawn as sites of their own.
    map_marker: ClassVar[MapMarker | None] = None
    #: How a location model sites it, for point facilities that take ``placement: given``; None otherwise.
    siting: ClassVar[SitingProfile | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.key:
            REGISTRY[cls.key] = cls
        METRICS.declare(*cls.declares)

    def __init__(self, params: InterventionParams):
        self.params = params
        self.active = False
        self.first_year_index: int | None = None  # counted year it started in

    def started(self, year: int) -> bool:
        """Whether it was in place in counted year ``year`` (it starts at a year's first hour)."""
        return self.first_year_index is not None and year >= self.first_year_index

    def activate(self, ctx: InterventionContext) -> None:
        """Put the intervention in place at the start of its first year."""

    def on_hour(self, ctx: InterventionContext, hour: int, day_of_year: int) -> None:
        """Act each hour while active (optional)."""

    def cost(self) -> Cost:
        """Set-up and running cost, once activated.

        The model reads the running cost when the intervention starts and then once a day, at
        midnight: a cost that changes must change at midnight.
        """
        return Cost()

    def treated_cells(self) -> np.ndarray:
        """Cells where the intervention was placed (for displacement rings); default ``self.cells``."""
        return np.asarray(getattr(self, "cells", []), dtype=np.int64)

    def metrics(self, ctx: InterventionContext, year: int) -> dict[str, float]:
        """This intervention's reported metrics for a counted year (each declared in ``declares``)."""
        return {}
