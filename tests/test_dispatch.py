"""Police dispatch (sim.events.dispatch): nearest free unit, queues, and response times.

Unit tests drive a :class:`Dispatcher` with hand-placed units and calls; model tests read
the calls attended in whole runs at scale 0.05.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.agents.patrol import PatrolFleet, PolicingParams
from sim.events.dispatch import Dispatcher, DispatchParams
from sim.mechanisms.calls import Call


class Desk:
    """A dispatcher with units placed by hand, and the calls it saw on scene."""

    def __init__(self, city, unit_cells):
        self.city = city
        self.env = simpy.Environment()
        self.fleet = PatrolFleet(city, PolicingParams(), seed=0)
        cells = np.asarray(unit_cells)
        self.fleet.add_units(cells, city.town[cells], kind="police_station")
        self.on_scene: list[Call] = []
        self.dispatcher = Dispatcher(self.env, self.fleet, city, DispatchParams(), 0, self.on_scene.append)
        self.dispatcher.start_units()
        self._id = 0

    def call(self, cell, minute, priority=2, kind="assistance") -> Call:
        self._id += 1
        c = Call(call_id=self._id, time=float(minute), cell=int(cell), county=int(self.city.county[cell]),
                 priority=priority, kind=kind)
        self.dispatcher.submit([c])
        return c

    def run(self, minutes=24 * 60):
        self.env.run(until=minutes)


@pytest.fixture(scope="module")
def city(city_and_residents):
    return city_and_residents[0]


def _county_cells(city, county, n):
    """``n`` cells of one county, ordered by distance from its first cell."""
    cells = np.flatnonzero(city.county == county)
    return cells[np.argsort(city.distance_km(cells[0], cells), kind="stable")][:n]


def test_the_nearest_free_unit_is_sent(city):
    target, near, far = _county_cells(city, 0, 40)[[0, 3, 39]]
    desk = Desk(city, [far, near])
    call = desk.call(target, 10)
    desk.run()
    assert call.unit == 1
    assert call.dispatched_at == call.time  # a free unit was available: no wait
    travel = desk.dispatcher.travel_min(np.array([near]), target)[0]
    assert call.arrived_at - call.dispatched_at == pytest.approx(travel)
    assert desk.on_scene == [call]
    assert not desk.fleet.busy.any()  # free again after the scene
    assert desk.fleet.cell[1] == target


def test_each_unit_counts_its_minutes_from_dispatch_until_free_again(city):
    target, near, far = _county_cells(city, 0, 40)[[0, 3, 39]]
    desk = Desk(city, [far, near])
    call = desk.call(target, 10)
    free_at = []

    def watch():  # the minute the unit is free again
        yield desk.env.timeout(call.time)
        while not free_at:
            yield desk.env.timeout(0.01)
            if not desk.fleet.busy[1]:
                free_at.append(desk.env.now)

    desk.env.process(watch())
    desk.run()
    busy = desk.dispatcher.busy_minutes
    assert busy[0] == 0.0 and call.arrived_at - call.dispatched_at < busy[1]
    assert busy[1] == pytest.approx(free_at[0] - call.dispatched_at, abs=0.011)


def test_travel_takes_longer_the_farther_the_unit(city):
    cells = _county_cells(city, 0, 40)
    d = Desk(city, [cells[0]]).dispatcher
    times = d.travel_min(cells, cells[0])
    dist = city.distance_km(cells[0], cells)
    order = np.argsort(dist, kind="stable")
    assert (np.diff(times[order]) >= 0).all()
    assert times.min() >= DispatchParams().turnout_min


def test_calls_wait_by_priority_when_all_units_are_busy(city):
    cells = _county_cells(city, 0, 10)
    desk = Desk(city, [cells[0]])
    first = desk.call(cells[1], 0)
    normal = desk.call(cells[2], 1, priority=2)
    urgent = desk.call(cells[3], 2, priority=1)
    desk.run(1)
    assert desk.dispatcher.queued() == 0 and desk.fleet.busy.all()
    desk.run(5)
    assert desk.dispatcher.queued() == 2
    desk.run()
    assert [c.call_id for c in desk.on_scene] == [first.call_id, urgent.call_id, normal.call_id]
    # The urgent call waited for the first scene to end; the normal one for both.
    assert urgent.dispatched_at > first.arrived_at
    assert normal.dispatched_at > urgent.arrived_at
    for c in (first, normal, urgent):
        assert c.time <= c.dispatched_at < c.arrived_at
    assert desk.dispatcher.queued() == 0 and not desk.fleet.busy.any()


def test_calls_wait_for_their_own_county_rather_than_crossing_its_border(city):
    home, other = _county_cells(city, 0, 5), _county_cells(city, 1, 5)
    desk = Desk(city, [home[0], other[0]])
    busy = desk.call(home[1], 0)
    waiting = desk.call(home[2], 1)
    desk.run()
    assert busy.unit == 0 and waiting.unit == 0
    assert waiting.dispatched_at > busy.arrived_at


def test_invalid_calls_are_received_but_never_dispatched(city):
    cells = _county_cells(city, 0, 5)
    desk = Desk(city, [cells[0]])
    invalid = desk.call(cells[1], 5, priority=0, kind="invalid")
    desk.run()
    assert invalid in desk.dispatcher.received
    assert invalid.unit == -1 and invalid.arrived_at == -1 and desk.on_scene == []


def test_one_unit_travel_and_scene_times_equal_the_array_versions_exactly(city):
    """The plain-Python shortcuts (travel, scene and session times) give the same floats as the numpy code."""
    from sim.rng import log_logistic, log_logistic_one

    d = Desk(city, [0]).dispatcher
    cells = np.arange(city.n_cells)
    for to in cells[:: max(1, len(cells) // 25)]:
        assert d.travel_min(cells, int(to)).tolist() == [d._travel(int(c), int(to)) for c in cells]
    # Against numpy on one value at a time, as the scene time used to be drawn: numpy's array
    # power (SIMD) can differ from the scalar C pow in the last bit, the scalar one cannot.
    u = [0.0, 1e-13, 0.5, 1 - 1e-13, *np.random.default_rng(0).random(5000).tolist()]
    for median in (25.0, 50.0):
        assert [float(log_logistic(x, median, 3.0)) for x in u] == [log_logistic_one(x, median, 3.0) for x in u]


def test_calls_are_received_in_time_order_at_their_times(city):
    cells = _county_cells(city, 0, 5)
    desk = Desk(city, [cells[0]])
    seen = []
    receive = desk.dispatcher._receive
    desk.dispatcher._receive = lambda c: (seen.append((desk.env.now, c.call_id)), receive(c))
    calls = [Call(call_id=i, time=t, cell=int(cells[1]), county=0, priority=0, kind="invalid")
             for i, t in enumerate([30.5, 0.0, 12.25, 12.25, 90.0])]
    desk.dispatcher.submit(calls[:3])
    desk.dispatcher.submit(calls[3:])
    desk.run(60)
    assert seen == [(0.0, 1), (12.25, 2), (12.25, 3), (30.5, 0)]
    desk.run()
    assert seen[-1] == (90.0, 4)


# ----------------------------------------------------------------- whole runs
def test_every_attended_call_records_wait_travel_and_response(two_years):
    for scenario in ("suizhou_baseline", "suizhou_2022"):
        m = two_years(scenario)
        for y, row in enumerate(m.year_rows()):
            calls = m.recorder.attended_in_year(y)
            assert len(calls) == row["calls_attended"] > 1000
            time = np.array([c.time for c in calls])
            dispatched = np.array([c.dispatched_at for c in calls])
            arrived = np.array([c.arrived_at for c in calls])
            assert (dispatched >= time).all()
            assert (arrived > dispatched).all()
            assert all(c.unit >= 0 and c.priority > 0 for c in calls)
            # Travel includes the turnout time.
            assert (arrived - dispatched >= m.scenario.dispatch.turnout_min - 1e-9).all()
            assert row["response_time_median_min"] == pytest.approx(np.median(arrived - time))
            assert row["wait_time_median_min"] == pytest.approx(np.median(dispatched - time))
            assert row["response_time_p90_min"] >= row["response_time_median_min"] > 0
            # Calls are counted in the year they arrived.
            start = (m.warmup_hours + y * 8760) * 60
            assert ((time >= start) & (time < start + 8760 * 60)).all()


def test_a_street_police_station_shortens_response_times_near_it(two_years):
    base = two_years("suizhou_baseline")
    with_station = two_years("suizhou_baseline", "interventions.street_police_stations.enabled=true")
    station = next(iv for iv in with_station.interventions if iv.key == "street_police_stations")
    assert len(station.cells) >= 1

    def response_near(m, year):
        calls = m.recorder.attended_in_year(year)
        near = np.array([m.city.distance_km(c.cell, station.cells).min() <= 1.0 for c in calls])
        response = np.array([c.arrived_at - c.time for c in calls])
        return response[near]

    before, after = response_near(base, 1), response_near(with_station, 1)
    assert len(before) > 300 and len(after) > 300
    assert np.median(after) < 0.9 * np.median(before)
    assert after.mean() < 0.9 * before.mean()
    # The station opens in the second year: the first year is untouched.
    np.testing.assert_array_equal(response_near(base, 0), response_near(with_station, 0))


@pytest.fixture(scope="module")
def by_units(simulate):
    """The same seed with scarce (the minimum), default and plentiful patrol units."""
    return {u: simulate(f"policing.units_per_100k_residents={u}", seed=1) for u in (1.0, 4.0, 12.0)}


def _waits(run):
    calls = run.model.recorder.attended_in_year(0)
    return (np.array([c.dispatched_at - c.time for c in calls]),
            np.array([c.arrived_at - c.time for c in calls]))


def test_calls_queue_and_wait_when_units_are_scarce(by_units):
    scarce, plenty = by_units[1.0], by_units[12.0]
    assert scarce.model.fleet.n < plenty.model.fleet.n
    wait_scarce, _ = _waits(scarce)
    wait_plenty, _ = _waits(plenty)
    assert (wait_scarce > 0).mean() > 0.1
    assert (wait_scarce > 0).mean() > 5 * (wait_plenty > 0).mean()
    assert wait_scarce.mean() > 5 * max(wait_plenty.mean(), 0.1)
    queued = scarce.model.datacollector.get_model_vars_dataframe()["calls_queued"]
    assert queued.max() > 0


def test_response_time_grows_when_units_are_fewer(by_units):
    means = {u: _waits(run)[1].mean() for u, run in by_units.items()}
    assert means[1.0] > means[4.0] > means[12.0]
    assert means[4.0] > 1.3 * means[12.0]


def test_the_compiled_unit_choice_equals_the_plain_python_rule(city):
    """``_nearest_free`` picks what the per-call list code picked: own county first (all units if
    it has none in service), free units only, shortest travel time, first unit on ties."""
    from sim.events.dispatch import _nearest_free

    d = Desk(city, [0]).dispatcher
    p, size = d.p, city.cell_size_km
    rng = np.random.default_rng(7)
    n_counties = int(city.county.max()) + 1
    for trial in range(400):
        n = int(rng.integers(1, 12))
        county = rng.integers(0, n_counties, n)
        retired = rng.random(n) < 0.2
        busy = rng.random(n) < 0.5
        cell = rng.integers(0, city.n_cells, n) if trial % 2 else np.full(n, int(rng.integers(city.n_cells)))
        to = int(rng.integers(city.n_cells))
        c = int(city.county[to])
        own = [u for u in range(n) if county[u] == c and not retired[u]] or [u for u in range(n) if not retired[u]]
        free = [u for u in own if not busy[u]]
        expected = min(free, key=lambda u: d._travel(int(cell[u]), to)) if free else -1
        got = _nearest_free(county, retired, busy, cell, d._ix_a, d._iy_a, d._speed_a, c, to,
                            p.turnout_min, p.detour_factor, size)
        assert got == expected
