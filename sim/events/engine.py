"""The event engine: SimPy's environment with a cheaper way to run to the end of an hour.

The model runs SimPy one hour at a time. ``simpy.Environment.run(until=t)`` does that by
scheduling a stop event at ``t`` (urgent, so it comes before ordinary events at ``t``) and
then stepping until a callback raises ``StopSimulation``: one extra event, an exception and
a method call per processed event, every hour. :meth:`Environment.advance` processes the same
events in the same order in one loop and stops where that stop event would have been
processed, so every process sees the same times and every tie is broken the same way.
"""

from __future__ import annotations

from heapq import heappop

import simpy
from simpy.events import URGENT

__all__ = ["Environment"]


class Environment(simpy.Environment):
    """A ``simpy.Environment`` with :meth:`advance` (everything else is SimPy's own)."""

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
