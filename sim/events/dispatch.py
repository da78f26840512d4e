"""Police dispatch (接警派警) as a discrete-event process.

The procedure: a call is received → the nearest free unit in the county is sent (or the
call waits in the county's queue by priority, then by arrival) → the unit travels → handles
the scene → is free again where it stands and is called back to its beat by the next patrol
move. Every attended call records its wait, travel and total response time.

SimPy time is in minutes since the start of the run. Each unit is one long-lived process
that sleeps until it is given a call; calls never start processes of their own.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np
import simpy
from pydantic import Field

from sim.mechanisms.calls import Call
from sim.mechanisms.crime import log_logistic
from sim.params import Params
from sim.rng import event_uniform

__all__ = ["DispatchParams", "Dispatcher"]


class DispatchParams(Params):
    """Travel and on-scene times."""


    turnout_min: float = Field(2.0, ge=0, description="Minutes from dispatch to moving (assumed).")
    speed_urban_kmh: float = Field(25.0, gt=0, description="Mean speed in urban cells [km/h].")
    speed_rural_kmh: float = Field(45.0, gt=0, description="Mean speed to rural cells [km/h].")
    detour_factor: float = Field(1.3, ge=1, description="Road distance / lattice distance.")
    scene_median_min: dict[str, float] = Field(
        default={"crime": 50.0, "public_order": 35.0, "assistance": 25.0, "traffic": 30.0,
                 "dispute": 40.0},
        description="Median time on scene by call kind [minutes] (assumed).",
    )
    scene_shape: float = Field(3.0, gt=0, description="Shape of the log-logistic scene time.")


class Dispatcher:
    """Assigns calls to units and runs the units' call handling.

    Args:
        env: The SimPy environment (minutes).
        fleet: The patrol fleet.
        city: The city.
        params: Dispatch parameters.
        seed: The run's seed.
        on_scene: Called as ``on_scene(call)`` when a unit reaches the scene.
    """

    def __init__(self, env: simpy.Environment, fleet, city, params: DispatchParams, seed: int,
                 on_scene: Callable[[Call], None]):
        self.env = env
        self.fleet = fleet
        self.city = city
        self.p = params
        self.seed = seed
        self.on_scene = on_scene
        self.queues: dict[int, list] = {}
        self._wake: list[simpy.Event | None] = []
        self._urban = city.land_use <= 4
        self._seq = 0
        self.received: list[Call] = []
        self.attended: list[Call] = []

    def start_units(self) -> None:
        """Start the process of every unit that has none yet (after units were added)."""
        for u in range(len(self._wake), self.fleet.n):
            self._wake.append(None)
            self.env.process(self._unit(u))

    def submit(self, calls: list[Call]) -> None:
        """Schedule calls; each is received at its own ``time``."""
        if calls:
            self.env.process(self._feed(sorted(calls, key=lambda c: (c.time, c.call_id))))

    def _feed(self, calls: list[Call]):
        env = self.env
        for call in calls:
            if call.time > env.now:
                yield env.timeout(call.time - env.now)
            self._receive(call)

    def _receive(self, call: Call) -> None:
        self.received.append(call)
        if call.priority == 0:
            return
        fleet = self.fleet
        own = (fleet.county == call.county) & ~fleet.retired
        if not own.any():  # no unit in this county at all: the nearest county helps
            own = ~fleet.retired
        free = np.flatnonzero(~fleet.busy & own)
        if len(free) == 0:
            self._seq += 1
            county = call.county if (fleet.county == call.county).any() else int(fleet.county[0])
            heapq.heappush(self.queues.setdefault(county, []),
                           (call.priority, call.time, self._seq, call))
            return
        travel = self.travel_min(fleet.cell[free], call.cell)
        self._assign(int(free[np.argmin(travel)]), call)

    def travel_min(self, from_cells: np.ndarray | int, to_cell: int) -> np.ndarray:
        """Driving time from ``from_cells`` (an array, or one cell) to ``to_cell`` [minutes]."""
        p = self.p
        km = (self.city.distance_km(to_cell, from_cells) + 0.5 * self.city.cell_size_km)
        speed = p.speed_urban_kmh if self._urban[to_cell] else p.speed_rural_kmh
        return p.turnout_min + km * p.detour_factor / speed * 60.0

    def _assign(self, unit: int, call: Call) -> None:
        self.fleet.busy[unit] = True
        call.dispatched_at = self.env.now
        call.unit = unit
        self._wake[unit].succeed(call)

    def _unit(self, u: int):
        env, fleet, p = self.env, self.fleet, self.p
        while True:
            self._wake[u] = env.event()
            call = yield self._wake[u]
            while call is not None:
                travel = float(self.travel_min(fleet.cell[u], call.cell))
                yield env.timeout(travel)
                fleet.cell[u] = call.cell
                call.arrived_at = env.now
                self.attended.append(call)
                self.on_scene(call)
                median = p.scene_median_min.get(call.kind, 30.0)
                u_scene = event_uniform(self.seed, "dispatch.scene", call.call_id)
                yield env.timeout(float(log_logistic(u_scene, median, p.scene_shape)))
                call = self._next_queued(u)
                if call is not None:
                    call.dispatched_at = env.now
                    call.unit = u
            fleet.busy[u] = False
            fleet.dwell_until[u] = 0  # back to the beat at the next patrol move

    def _next_queued(self, u: int) -> Call | None:
        if self.fleet.retired[u]:
            return None
        q = self.queues.get(int(self.fleet.county[u]))
        if q:
            return heapq.heappop(q)[3]
        return None

    def queued(self) -> int:
        """Calls waiting for a unit."""
        return sum(len(q) for q in self.queues.values())
