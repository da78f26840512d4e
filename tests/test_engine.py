"""The event engine (sim.events.engine): ``advance`` is SimPy's ``run(until=…)``, event for event."""

from __future__ import annotations

import pytest
import simpy
from simpy.events import URGENT

from sim.events.engine import Environment, call_now, schedule_now


def _workload(env, log):
    """Processes whose events tie at hour boundaries and at equal times, with urgent events among them."""

    def worker(name, waits):
        for w in waits:
            yield env.timeout(w)
            log.append((env.now, name))
            if name == "a" and env.now == 60.0:  # starts a process at an hour boundary
                env.process(worker("late", [0, 60, 0.5]))

    def urgent_marker(delay, name):
        ev = simpy.Event(env)
        ev._ok, ev._value = True, None
        ev.callbacks.append(lambda _: log.append((env.now, name)))
        env.schedule(ev, URGENT, delay)

    env.process(worker("a", [30, 30, 60, 0, 45.5]))
    env.process(worker("b", [60, 0, 60, 15]))
    env.process(worker("c", [120, 60]))
    urgent_marker(0, "u0")
    urgent_marker(60, "u60")


@pytest.mark.parametrize("hours", [1, 3, 5])
def test_advancing_hour_by_hour_processes_simpys_events_in_simpys_order(hours):
    logs = []
    for make, go in ((simpy.Environment, lambda e, t: e.run(until=t)), (Environment, lambda e, t: e.advance(t))):
        env, log = make(), []
        _workload(env, log)
        for h in range(1, hours + 1):
            go(env, h * 60.0)
            log.append((env.now, "hour"))
            if h == 2:  # work submitted between hours, as the model submits calls
                env.process((lambda: (yield env.timeout(0)))())
                env.timeout(60).callbacks.append(lambda _, log=log, env=env: log.append((env.now, "t")))
        logs.append(log)
    assert logs[0] == logs[1]
    # An urgent event due at the hour's end comes before the stop; ordinary ones wait for the next hour.
    log = logs[0]
    assert log.index((60, "u60")) < log.index((60.0, "hour"))
    assert (60, "a") not in log if hours == 1 else log.index((60, "a")) > log.index((60.0, "hour"))


def test_advance_refuses_to_go_back_in_time():
    env = Environment()
    env.advance(60.0)
    assert env.now == 60.0
    with pytest.raises(ValueError, match="until"):
        env.advance(60.0)
    with pytest.raises(ValueError, match="Negative delay"):
        env.timeout(-1.0)


def test_a_timeout_is_simpys_timeout_with_its_value():
    env = Environment()
    got = []

    def wait():
        got.append((yield env.timeout(7.5, value="done")))

    env.process(wait())
    env.advance(10.0)
    assert got == ["done"]
    assert isinstance(env.timeout(1.0), simpy.Timeout)


def test_a_failure_nobody_handles_stops_the_run_as_in_simpy():
    env = Environment()

    def fails():
        yield env.timeout(5)
        raise KeyError("no such cell")

    env.process(fails())
    with pytest.raises(KeyError, match="no such cell"):
        env.advance(60.0)


def _helper_trace(use_engine: bool) -> list:
    """Events triggered now, at both priorities and among timeouts, made with SimPy's own calls or the engine's."""
    env, log = simpy.Environment(), []

    def note(name):
        return lambda _: log.append((env.now, name))

    def proc():
        for t in (0, 5, 5, 12):
            yield env.timeout(t)
            env.timeout(0).callbacks.append(note(f"timeout {t}"))
            for name, priority in (("normal", simpy.events.NORMAL), ("urgent", URGENT)):
                if use_engine:
                    call_now(env, note(f"{name} {t}"), priority)
                else:
                    ev = simpy.Event(env)
                    ev.callbacks.append(note(f"{name} {t}"))
                    ev._ok, ev._value = True, None  # triggered, as SimPy starts a process
                    env.schedule(ev, priority)
            ev = simpy.Event(env)
            ev.callbacks.append(note(f"succeeded {t}"))
            schedule_now(ev) if use_engine else ev.succeed()

    env.process(proc())
    env.run()
    return log


def test_the_engines_event_helpers_take_the_places_simpys_own_calls_take():
    trace = _helper_trace(use_engine=True)
    assert trace == _helper_trace(use_engine=False)
    assert trace.index((0, "urgent 0")) < trace.index((0, "timeout 0"))  # not trivially in call order

