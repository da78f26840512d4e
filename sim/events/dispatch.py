"""Police dispatch (接警派警) as a discrete-event process.

The procedure: a call is received → the nearest free unit in the county is sent (or the
call waits in the county's queue by priority, then by arrival) → the unit travels → handles
the scene → is free again where it stands and is called back to its beat by the next patrol
move. Every attended call records its wait, travel and total response time.

SimPy time is in minutes since the start of the run. Each unit is one long-lived process
that sleeps until it is given a call; calls never start processes of their own.

The fleet is a handful of units at small scales, so per-call work is done on Python lists
and floats, or in one compiled loop (the choice of unit), rather than with numpy array calls
(whose per-call overhead dominated); every value is computed with the same float operations
in the same order as the array expressions.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np
import simpy
from numba import njit
from pydantic import Field

from sim.events.engine import URGENT, call_now
from sim.mechanisms.calls import Call
from sim.params import Params
from sim.rng import event_uniform, log_logistic_one

__all__ = ["DispatchParams", "Dispatcher", "travel_minutes", "urban_speed_cells", "destination_speed_kmh"]


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


def travel_minutes(lattice_steps, cell_size_km, turnout_min, detour_factor, speed_kmh):
    """Minutes from dispatch to the scene: turnout, then the road distance at the destination's speed.

    The road distance is the lattice (Manhattan) distance plus half a cell (to the middle of
    the scene's cell), times the detour factor. The one definition of travel time: plain
    floats (:meth:`Dispatcher._travel`), numpy arrays (:meth:`Dispatcher.travel_min`) and,
    compiled as :func:`_travel_minutes`, the choice of unit all evaluate it.

    Args:
        lattice_steps: Cells between origin and scene along the lattice (|Δx| + |Δy|).
        cell_size_km: Side of a cell [km].
        turnout_min: Minutes from dispatch to moving.
        detour_factor: Road distance / lattice distance.
        speed_kmh: Mean speed to the scene's cell [km/h].
    """
    km = lattice_steps * cell_size_km + 0.5 * cell_size_km
    return turnout_min + km * detour_factor / speed_kmh * 60.0


_travel_minutes = njit(cache=True)(travel_minutes)


def urban_speed_cells(city) -> np.ndarray:
    """Cells driven to at the urban speed: urban land uses and town centres (the rest at the rural speed)."""
    return city.land_use <= 4


def destination_speed_kmh(city, params: DispatchParams) -> np.ndarray:
    """Speed towards each cell [km/h], as the dispatcher's travel times use it (see :func:`urban_speed_cells`)."""
    return np.where(urban_speed_cells(city), params.speed_urban_kmh, params.speed_rural_kmh).astype(np.float64)


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
        self._urban = urban_speed_cells(city)
        # Per-cell lattice coordinates and speeds as Python lists, for one-unit travel times.
        self._ix = city.ix.tolist()
        self._iy = city.iy.tolist()
        self._speed = destination_speed_kmh(city, params).tolist()
        # The same as arrays, for the compiled choice of unit.
        self._ix_a, self._iy_a = city.ix.astype(np.int64), city.iy.astype(np.int64)
        self._speed_a = np.array(self._speed)
        self._seq = 0
        self.received: list[Call] = []
        self.attended: list[Call] = []
        #: Minutes each unit has spent from dispatch until free again (bookkeeping only; location models
        #: read each unit's busy share from it).
        self.busy_minutes: list[float] = []

    def start_units(self) -> None:
        """Start the process of every unit that has none yet (after units were added)."""
        for u in range(len(self._wake), self.fleet.n):
            self._wake.append(None)
            self.busy_minutes.append(0.0)
            self.env.process(self._unit(u))

    def submit(self, calls: list[Call]) -> None:
        """Schedule calls; each is received at its own ``time``.

        The feed is a chain of callbacks rather than a process (cheaper, same events): it
        starts with an urgent event now, where the process's initialisation event would be,
        and then waits for each call's time with a timeout created when the process would
        create it, so every other event keeps its place in SimPy's order.
        """
        if calls:
            calls = sorted(calls, key=lambda c: (c.time, c.call_id))
            calls.reverse()  # next call last, popped in time order
            call_now(self.env, lambda _: self._feed(calls, None), URGENT)

    def _feed(self, calls: list[Call], due: Call | None) -> None:
        """Receive ``due`` (whose timeout just ended) and every call already due; wait for the next."""
        if due is not None:
            self._receive(due)
        env = self.env
        while calls:
            call = calls.pop()
            if call.time > env.now:
                env.timeout(call.time - env.now).callbacks.append(lambda _, c=call: self._feed(calls, c))
                return
            self._receive(call)

    def _receive(self, call: Call) -> None:
        self.received.append(call)
        if call.priority == 0:
            return
        fleet, p, c = self.fleet, self.p, call.county
        unit = _nearest_free(fleet.county, fleet.retired, fleet.busy, fleet.cell, self._ix_a, self._iy_a,
                             self._speed_a, c, call.cell, p.turnout_min, p.detour_factor, self.city.cell_size_km)
        if unit < 0:
            self._seq += 1
            q = c if (fleet.county == c).any() else int(fleet.county[0])
            heapq.heappush(self.queues.setdefault(q, []), (call.priority, call.time, self._seq, call))
            return
        self._assign(unit, call)

    def travel_min(self, from_cells: np.ndarray | int, to_cell: int) -> np.ndarray:
        """Driving time from ``from_cells`` (an array, or one cell) to ``to_cell`` [minutes]."""
        p, city = self.p, self.city
        steps = np.abs(city.ix[from_cells] - city.ix[to_cell]) + np.abs(city.iy[from_cells] - city.iy[to_cell])
        speed = p.speed_urban_kmh if self._urban[to_cell] else p.speed_rural_kmh
        return travel_minutes(steps, city.cell_size_km, p.turnout_min, p.detour_factor, speed)

    def _travel(self, from_cell: int, to_cell: int) -> float:
        """:meth:`travel_min` for one unit, in plain Python floats (same operations, same value)."""
        p = self.p
        steps = abs(self._ix[to_cell] - self._ix[from_cell]) + abs(self._iy[to_cell] - self._iy[from_cell])
        return travel_minutes(steps, self.city.cell_size_km, p.turnout_min, p.detour_factor, self._speed[to_cell])

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
            started = env.now
            while call is not None:
                travel = self._travel(int(fleet.cell[u]), call.cell)
                yield env.timeout(travel)
                fleet.cell[u] = call.cell
                call.arrived_at = env.now
                self.attended.append(call)
                self.on_scene(call)
                median = p.scene_median_min.get(call.kind, 30.0)
                u_scene = event_uniform(self.seed, "dispatch.scene", call.call_id)
                yield env.timeout(log_logistic_one(u_scene, median, p.scene_shape))
                call = self._next_queued(u)
                if call is not None:
                    call.dispatched_at = env.now
                    call.unit = u
            fleet.busy[u] = False
            fleet.dwell_until[u] = 0  # back to the beat at the next patrol move
            self.busy_minutes[u] += env.now - started

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



@njit(cache=True)
def _nearest_free(county, retired, busy, cell, ix, iy, speed, c, to, turnout, detour, size):
    # The unit a call in county ``c`` at cell ``to`` gets: of the units in service in the county
    # (all units in service if the county has none), the first free one with the shortest travel
    # time (:func:`travel_minutes`); −1 if none is free.
    n = len(county)
    own = False
    for u in range(n):
        if county[u] == c and not retired[u]:
            own = True
            break
    best, best_min = -1, np.inf
    for u in range(n):
        if retired[u] or busy[u] or (own and county[u] != c):
            continue
        f = cell[u]
        minutes = _travel_minutes(abs(ix[to] - ix[f]) + abs(iy[to] - iy[f]), size, turnout, detour, speed[to])
        if minutes < best_min:
            best, best_min = u, minutes
    return best
