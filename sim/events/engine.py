"""The event engine: SimPy's environment with a cheaper way to run to the end of an hour.

The model runs SimPy one hour at a time. ``simpy.Environment.run(until=t)`` does that by
scheduling a stop event at ``t`` (urgent, so it comes before ordinary events at ``t``) and
then stepping until a callback raises ``StopSimulation``: one extra event, an exception and
a method call per processed event, every hour. :meth:`Environment.advance` processes the same
events in the same order in one loop and stops where that stop event would have been
processed, so every process sees the same times and every tie is broken the same way.

This is the only module that reaches into SimPy's internals (the event queue, insertion
ids, an event's ``_ok``/``_value``, a resource's environment); everything else calls
:func:`schedule_now`, :func:`call_now` and :func:`resource_env`. They follow SimPy 4.1
(``pyproject.toml`` pins ``simpy<5`` for that reason); ``tests/test_engine.py`` checks them
against SimPy's own ``schedule``, ``Event.succeed`` and ``Resource``.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL, URGENT, Event, Timeout

__all__ = ["Environment", "NORMAL", "URGENT", "schedule_now", "call_now", "resource_env"]


def schedule_now(event: Event, priority: int = NORMAL) -> None:
    """Trigger ``event`` as a success without a value and queue it at the current time.

    What ``event.succeed()`` does (it is ``env.schedule(event)``, inlined: one Python call
    less for every grant of a member of staff); ``priority`` is SimPy's ``NORMAL`` or ``URGENT``.
    """
    event._ok, event._value = True, None
    env = event.env
    heappush(env._queue, (env._now, priority, next(env._eid), event))


def call_now(env: simpy.Environment, callback: Callable[[Event], None], priority: int = NORMAL) -> Event:
    """An event triggered now whose one callback is ``callback``; returns the event.

    The same as ``e = Event(env); e.callbacks.append(callback); e.succeed()`` (or, with
    ``URGENT``, ``env.schedule(e, URGENT)`` after triggering it, as SimPy starts a process):
    the event takes the same place in the queue, with fewer Python calls.
    """
    event = Event.__new__(Event)
    event.env, event.callbacks = env, [callback]
    schedule_now(event, priority)
    return event


def resource_env(resource: simpy.resources.base.BaseResource) -> simpy.Environment:
    """The environment a SimPy resource belongs to (SimPy keeps it private)."""
    return resource._env


class Environment(simpy.Environment):
    """A ``simpy.Environment`` with :meth:`advance` and a leaner :meth:`timeout` (everything else
    is SimPy's own)."""

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        # SimPy binds its event constructors (process, event, …) to each environment, but only
        # those its own class defines: bind them for this subclass too.
        for name, obj in simpy.Environment.__dict__.items():
            if type(obj) is BoundClass and name != "timeout":
                setattr(self, name, getattr(self, name))

    def timeout(self, delay: float = 0, value: Any = None) -> Timeout:
        """SimPy's ``Timeout(self, delay, value)``: the same event, scheduled the same way, with
        fewer Python calls (one is made for every service, travel and scene time)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        t = Timeout.__new__(Timeout)
        t.env, t.callbacks, t._value, t._delay, t._ok = self, [], value, delay, True
        heappush(self._queue, (self._now + delay, NORMAL, next(self._eid), t))
        return t

    def advance(self, until: float) -> None:
        """Process every event due before ``until`` and set the clock to ``until``.

        The same as ``run(until=until)``: events are taken in SimPy's order (time, priority,
        insertion id) up to the place the stop event would take: at ``until``, ahead of
        everything but urgent events scheduled before it.

        Raises:
            ValueError: ``until`` is not after the current time.
            Exception: A copy of the failure of an event nobody handled (as ``step`` does).
        """
        now = self._now
        at = float(until)
        if at <= now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = (now + (at - now), URGENT, next(self._eid))  # the stop event's place in the queue
        queue = self._queue
        while queue and queue[0] < stop:  # insertion ids differ, so no event object is compared
            self._now, _, _, event = heappop(queue)
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        self._now = stop[0]
