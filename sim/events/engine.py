"""The event engine: SimPy's environment with a cheaper way to run to the end of an hour.

The model runs SimPy one hour at a time. ``simpy.Environment.run(until=t)`` does that by
scheduling a stop event at ``t`` (urgent, so it comes before ordinary events at ``t``) and
then stepping until a callback raises ``StopSimulation``: one extra event, an exception and
a method call per processed event, every hour. :meth:`Environment.advance` processes the same
events in the same order in one loop and stops where that stop event would have been
processed, so every process sees the same times and every tie is broken the same way.

It also holds :class:`Staff`, a leaner ``simpy.Resource`` for the governance centres' staff
and the mediation committees' mediators.

This is the only module that reaches into SimPy's internals (the event queue, insertion
ids, an event's ``_ok``/``_value``, a resource's environment and capacity); everything else
uses :class:`Environment`, :class:`Staff`, :func:`schedule_now` and :func:`call_now`. They
follow SimPy 4.1 (``pyproject.toml`` pins ``simpy<5`` for that reason); the tests check them
against SimPy's own ``run``, ``schedule``, ``Event.succeed`` and ``Resource``
(``tests/test_engine.py``, ``tests/test_governance.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import BoundClass
from simpy.events import NORMAL, PENDING, URGENT, Event, Timeout

__all__ = ["Environment", "Staff", "NORMAL", "URGENT", "schedule_now", "call_now"]


def schedule_now(event: Event, priority: int = NORMAL) -> None:
    """Trigger ``event`` as a success without a value and queue it at the current time.

    What ``event.succeed()`` does (``env.schedule(event)``, inlined); ``priority`` is SimPy's
    ``NORMAL`` or ``URGENT``.
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


class _StaffRequest(Event):
    """A request for one member of staff; triggered when granted, released on leaving ``with``."""

    def __init__(self, staff: Staff):
        self.env = staff._env
        self.callbacks = []
        self.resource = staff

    def __enter__(self) -> _StaffRequest:
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if self._value is PENDING:  # never granted
            self.resource.put_queue.remove(self)
        if exc_type is not GeneratorExit:  # as simpy: no release when a generator is cleaned up
            self.resource.release(self)


class Staff(simpy.Resource):
    """Members of staff (a centre's, or a committee's mediators): a ``simpy.Resource`` with less
    Python work per request and release.

    It schedules exactly the events ``simpy.Resource`` schedules, in the same order (so the
    same insertion ids break ties): a request is granted at once, if a member of staff is
    free, by an event scheduled now, and otherwise waits in ``queue``; a release schedules
    an event now, and when that event is processed the first waiting request is granted if
    a member of staff is free. As in simpy, only the first waiting request is looked at each
    time. (``simpy.Resource`` also calls its get-queue trigger when a request is processed;
    with releases granted as they are made that queue is always empty, so it does nothing.)
    """

    def request(self) -> _StaffRequest:
        req = _StaffRequest(self)
        self.put_queue.append(req)
        self._grant(None)
        return req

    def release(self, request: _StaffRequest) -> Event:
        try:
            self.users.remove(request)
        except ValueError:  # a request that was never granted
            pass
        env = self._env
        released = Event.__new__(Event)  # an Event(env), triggered and scheduled now (as env.schedule does)
        released.env, released.callbacks, released._ok, released._value = env, [self._grant], True, None
        heappush(env._queue, (env._now, NORMAL, next(env._eid), released))
        return released

    def _grant(self, _event: Event | None) -> None:
        """The first waiting request gets a member of staff, if one is free."""
        queue = self.put_queue
        if queue and len(self.users) < self._capacity:
            req = queue.pop(0)
            self.users.append(req)
            req._ok, req._value = True, None
            env = self._env
            heappush(env._queue, (env._now, NORMAL, next(env._eid), req))  # env.schedule(req)
