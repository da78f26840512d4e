"""What an intervention sees of a run: the narrow context its hooks receive.

An intervention's hooks (``activate``, ``on_hour``, ``metrics``) are given an
:class:`InterventionContext`, never the model. Through it an intervention may read the city,
its residents, the run's seed and scale, the hour and counted year and where incidents
happened, and act in four ways only:

- move the **levers** (:class:`sim.levers.Levers`): posts, guardians, cameras and who watches
  them live, alarms, walk-in desks, campaign deterrence, clearance odds, offenders' propensity;
- **register with the dispute system** (:class:`DisputeRegistration`): discovery sources,
  governance centres, mediation, mediation at the scene, managed households, tickets;
- use the **patrol fleet** through a small API (:class:`Fleet`): add beats and units, take
  units off patrol, pin units to a rota and place them;
- **count** what it does in metrics declared in the registry (:meth:`InterventionContext.count`).

The model builds one context per run and moves its hour on each step; the context holds the
model's parts privately, so nothing an intervention does reaches past these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.agents.patrol import PatrolFleet
    from sim.agents.residents import Residents
    from sim.disputes import (
        DiscoverySource,
        GovernanceParams,
        GovernancePipeline,
        MediationAtScene,
        MediationParams,
        MediationService,
    )
    from sim.levers import Levers
    from sim.mechanisms.calls import Call
    from sim.mechanisms.incident_map import IncidentMap
    from sim.metrics import MetricsRecorder
    from sim.space.city import City

__all__ = ["InterventionContext", "DisputeRegistration", "Fleet"]

#: Kind of the units the police stations' own patrols (派出所) are (``PatrolFleet.add_station_units``).
STATION_UNITS = "police_station"


@dataclass(frozen=True)
class DisputeRegistration:
    """How interventions switch on parts of the dispute system (:class:`sim.disputes.DisputeSystem`).

    Each attribute is the system's method of the same name.

    Attributes:
        add_discovery_source: Let a source find disputes every day from now on.
        manage_households: Fewer new disputes in some households.
        open_governance_centres: Governance centres at every level; returns the pipeline.
        open_mediation: Mediation committees at village, town and county level; returns the service.
        boost_mediation: Raise the chance mediation succeeds at a level in some towns.
        mediate_at_scene: Police who attend a dispute call try to settle it there.
        report_ticket: Report an item (hazard, special-population problem) to the governance centres.
    """

    add_discovery_source: Callable[[DiscoverySource], None]
    manage_households: Callable[[np.ndarray, float], None]
    open_governance_centres: Callable[[GovernanceParams], GovernancePipeline]
    open_mediation: Callable[[MediationParams], MediationService]
    boost_mediation: Callable[[int, np.ndarray, float], None]
    mediate_at_scene: Callable[[MediationAtScene], None]
    report_ticket: Callable[[str, int, int], None]


class Fleet:
    """The patrol fleet as interventions may use it.

    Units are indices into the fleet's arrays (:class:`sim.agents.patrol.PatrolFleet`); beats are
    sets of cells a unit patrols. Reading the arrays is free; changing the fleet goes through the
    methods, except where a pinned unit is (:attr:`cell`) and its visits (:attr:`visiting`), which
    the intervention that pinned it keeps up to date. The arrays are replaced when units are added:
    read them again after :meth:`add_units`.

    Args:
        fleet: The run's patrol fleet.
        travel_min: The dispatcher's driving time from cells to a cell [minutes].
    """

    def __init__(self, fleet: PatrolFleet, travel_min: Callable[[np.ndarray | int, int], np.ndarray]):
        self._fleet = fleet
        self.travel_min = travel_min

    # -- reading -------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Units in the fleet."""
        return self._fleet.n

    @property
    def county(self) -> np.ndarray:
        """County of each unit's base."""
        return self._fleet.county

    @property
    def beat(self) -> np.ndarray:
        """Beat of each unit."""
        return self._fleet.beat

    @property
    def base_cell(self) -> np.ndarray:
        """Cell each unit is based at."""
        return self._fleet.base_cell

    @property
    def cell(self) -> np.ndarray:
        """Cell each unit is in now; the intervention that pinned a unit writes its cell (where a dispatcher
        finds it)."""
        return self._fleet.cell

    @property
    def uid(self) -> np.ndarray:
        """Each unit's identity, stable across scenarios (for counter-based draws)."""
        return self._fleet.uid

    @property
    def busy(self) -> np.ndarray:
        """Whether each unit is on a call."""
        return self._fleet.busy

    @property
    def retired(self) -> np.ndarray:
        """Whether each unit is off patrol and dispatch."""
        return self._fleet.retired

    @property
    def visiting(self) -> np.ndarray:
        """Unit-hours pinned units spend at each cell this hour; written by the intervention that pinned them."""
        return self._fleet.visiting

    def beat_cells(self, beat: int) -> np.ndarray:
        """Cells of a beat (a station's jurisdiction, several merged at small scales, or a post's area)."""
        return self._fleet.beat_cells(beat)

    def station_units(self, include_pinned: bool = True) -> np.ndarray:
        """The police stations' own units still on patrol (not retired), optionally without pinned ones."""
        f = self._fleet
        on = (np.array(f.kind) == STATION_UNITS) & ~f.retired
        if not include_pinned:
            on &= ~f.pinned
        return np.flatnonzero(on)

    # -- changing ------------------------------------------------------------------------------
    def add_beat(self, cells: np.ndarray) -> int:
        """Register a set of cells as a beat; returns its id."""
        return self._fleet.add_beat(cells)

    def add_units(self, base_cells: np.ndarray, beats: np.ndarray, kind: str) -> np.ndarray:
        """Add units based at ``base_cells`` patrolling ``beats`` (their draws keyed by ``kind``); their indices."""
        return self._fleet.add_units(base_cells, beats, kind=kind)

    def retire(self, units: np.ndarray) -> None:
        """Take units off patrol and dispatch (they finish a call in hand first)."""
        self._fleet.retire(units)

    def pin(self, units: np.ndarray) -> None:
        """Place ``units`` from now on (they stay on dispatch): :attr:`cell` and :attr:`visiting` each hour."""
        self._fleet.pin(units)


class InterventionContext:
    """What interventions see of a run and how they act on it (see the module docstring).

    Args:
        city: The city.
        residents: Its residents (read only).
        seed: The run's seed (for :mod:`sim.rng` streams and counter-based draws).
        scale: Fraction of the full city.
        levers: The levers.
        disputes: Registration with the dispute system.
        fleet: The patrol fleet's API.
        incidents: Where recorded incidents happened (read only).
        recorder: The run's metrics recorder (written only through :meth:`count`).
        year_of: Counted year of an absolute hour (−1 during warm-up).

    Attributes:
        hour: The hour being simulated (set by the model before interventions act).
    """

    def __init__(self, city: City, residents: Residents, seed: int, scale: float, levers: Levers,
                 disputes: DisputeRegistration, fleet: Fleet, incidents: IncidentMap, recorder: MetricsRecorder,
                 year_of: Callable[[float], int]):
        self.city = city
        self.residents = residents
        self.seed = seed
        self.scale = scale
        self.levers = levers
        self.disputes = disputes
        self.fleet = fleet
        self.incidents = incidents
        self.year_of = year_of
        self.hour = 0
        self._recorder = recorder

    @property
    def year(self) -> int:
        """Counted year of the current hour (−1 during warm-up)."""
        return self.year_of(self.hour)

    @property
    def n_years(self) -> int:
        """Counted years of the run."""
        return self._recorder.n_years

    def count(self, name: str, value: float = 1.0) -> None:
        """Add ``value`` to the declared metric ``name`` in the current hour's counted year (none in warm-up).

        Raises:
            sim.metrics.UnknownMetricError: If ``name`` was never declared.
        """
        self._recorder.add(name, self.year_of(self.hour), value)

    def total(self, name: str, year: int) -> float | None:
        """What was counted under ``name`` in counted year ``year`` (None if nothing ever was)."""
        counts = self._recorder.counts.get(name)
        return None if counts is None else float(counts[year])

    def attended_calls(self, year: int) -> list[Call]:
        """Calls a unit arrived at, by the counted year they came in."""
        return self._recorder.attended_in_year(year)
