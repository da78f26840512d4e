"""The Pingan model: one Mesa ``Model`` whose step is one simulated hour.

Data flows one way each hour: interventions set the shared levers (:class:`sim.levers.Levers`)
→ patrols move → offenders act against the guardianship in place → offences are reported
(or seen on video) → calls join non-crime calls in the SimPy dispatcher, which runs to the
end of the hour → attended calls are cleared or not, arrests feed deterrence → metrics are
recorded. Once a day, at midnight, the dispute system (:mod:`sim.disputes`) lets disputes
arise, escalate and be found, and routes found disputes to governance tickets and
mediation, SimPy processes on the same clock. At the end of each counted year a simulated
survey measures the sense of safety.

Researchers can drive it step by step::

    model = PinganModel(load_scenario("suizhou_2022"), seed=1, scale=0.05)
    for _ in range(24 * 7):
        model.step()
    model.datacollector.get_model_vars_dataframe()

and watch its single events — offences, calls, dispatches, mediation sessions, tickets — through
observers (:meth:`PinganModel.observe`, :class:`sim.observers.Observer`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator

import mesa
import numpy as np
from numba import njit

from sim.agents.patrol import PatrolFleet, station_unit_count
from sim.agents.residents import Residents, build_residents
from sim.disputes import DisputeSystem
from sim.events.dispatch import Dispatcher
from sim.events.engine import Environment
from sim.interventions import REGISTRY, Intervention
from sim.interventions.context import DisputeRegistration, Fleet, InterventionContext
from sim.interventions.siting import camera_weights
from sim.levers import Levers
from sim.mechanisms.calls import Call, Calls
from sim.mechanisms.clearance import clearance_probability
from sim.mechanisms.crime_types import ASSAULT, CRIME_TYPES
from sim.mechanisms.incapacitation import HeldAtStart
from sim.mechanisms.incident_map import IncidentMap
from sim.mechanisms.offending import Offending
from sim.mechanisms.safety import survey
from sim.metrics import HOURS_PER_YEAR, MetricsRecorder
from sim.observers import Observer
from sim.rng import event_uniform, event_uniforms
from sim.scenario.schema import Scenario
from sim.space.city import City, apportion, build_city

__all__ = ["PinganModel"]


@contextlib.contextmanager
def _fewer_collector_passes() -> Iterator[None]:
    """Let Python's cyclic garbage collector run less often (its settings are restored after).

    An hour allocates thousands of short-lived objects (events, calls, tuples) while a run keeps
    tens of thousands alive (attended calls, tickets): at the default threshold of 700
    allocations the collector's passes over them took 5–13 % of a calibration run. Cycles are
    still collected, after 50 000 allocations instead of 700. Results do not change: the
    collector frees memory and nothing else.
    """
    old = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*old)


class PinganModel(mesa.Model):
    """A city, its residents, police and interventions, stepped hour by hour.

    Args:
        scenario: A validated scenario.
        seed: The run's seed; every random stream derives from it.
        scale: Fraction of the full city (0 < scale ≤ 1).
        city: A prebuilt city for this scenario and scale (to share across replicates).
        residents: Prebuilt residents of ``city`` (not modified).
    """

    def __init__(self, scenario: Scenario, seed: int = 0, scale: float = 1.0,
                 city: City | None = None, residents: Residents | None = None):
        super().__init__(seed=seed)
        self.scenario = scenario
        self.run_seed = int(seed)
        self.scale = float(scale)
        self.city = city if city is not None else build_city(scenario.city, scale)
        base = residents if residents is not None else build_residents(self.city, scenario.residents)
        # Prebuilt residents are shared by replicates: give this run fresh copies of what it changes.
        self.residents = dataclasses.replace(base, victimisations=np.zeros_like(base.victimisations),
                                             last_victimised=np.full_like(base.last_victimised, -1))
        n = self.city.n_cells
        s = scenario

        self.years = s.run.year_labels
        self.warmup_hours = s.run.warmup_days * 24
        self.total_hours = self.warmup_hours + len(self.years) * HOURS_PER_YEAR
        self.hour = 0
        self.recorder = MetricsRecorder(len(self.years), cell_county=self.city.county)
        self.observers: list[Observer] = []  # see observe(); shared with the dispute system
        self.incidents = IncidentMap(len(self.years), self.city.attraction, s.policing.heat_half_life_days)
        # What interventions act through: the levers, the dispute system and the patrol fleet.
        self.levers = Levers.at_rest(n, len(CRIME_TYPES),
                                     s.policing.camera_density_for_63pct * self.city.cell_size_km ** 2,
                                     len(self.residents.offenders))
        self._guardian_hours = np.zeros(n)
        self.env = Environment()
        self.disputes = DisputeSystem(s.disputes, self.city, self.residents, self.env, self.recorder,
                                      self.run_seed, self.scale, s.calls.report_prob.get("assault", 0.6),
                                      self.year_index, self.warmup_hours, record_offences=self._record_offences,
                                      observers=self.observers)
        self.fleet = PatrolFleet(self.city, s.policing, self.run_seed)
        self.fleet.add_station_units(station_unit_count(self.city, s.policing))
        self.offending = Offending(s.crime, self.city, self.residents, self.run_seed,
                                   propensity=self.levers.offender_propensity)
        # Slow stocks start settled: disputes already live, and offenders held when the counted years begin.
        self._held_at_start: HeldAtStart | None = None
        if s.run.stationary_start:
            self.disputes.book.add_standing(0)
            self._held_at_start = HeldAtStart(self.offending.free_at, s.crime.incapacitation_days, self.warmup_hours,
                                              self.run_seed)
        self.calls = Calls(s.calls, self.city, self.residents, self.run_seed, levers=self.levers)
        self.dispatcher = Dispatcher(self.env, self.fleet, self.city, s.dispatch, self.run_seed,
                                     on_scene=self._on_scene)
        self.dispatcher.start_units()
        existing = round(s.policing.existing_cameras_per_1000 * self.city.population / 1000)
        self.levers.add_cameras(apportion(existing, camera_weights(self.city, "main_roads")))
        self.context = self._intervention_context()

        self.interventions: list[Intervention] = []
        self._acting: list[Intervention] = []  # active, with an hourly hook
        self._hourly_costs: list[tuple[float, float]] = []  # active: (yuan, staff on duty) per hour
        self._starts: list[int] = []
        # An intervention whose own start year is the first counted year predates the counted years
        # (Daqing's people's mediation): with a stationary start it runs from the warm-up on.
        self._running_before: list[bool] = []
        for key, params in s.enabled_interventions().items():
            self.interventions.append(REGISTRY[key](params))
            self._starts.append(params.start_year or s.run.start_year_of_interventions)
            self._running_before.append(s.run.stationary_start and params.start_year is not None
                                        and params.start_year <= s.run.first_year)
        self._collect_every = s.run.collect_every_hours
        self._cum = {"recorded_preventable": 0, "calls_for_service": 0}
        self.datacollector = mesa.DataCollector(model_reporters={
            "hour": lambda m: m.hour,
            "recorded_preventable": lambda m: m._cum["recorded_preventable"],
            "calls_for_service": lambda m: m._cum["calls_for_service"],
            "units_busy": lambda m: int(m.fleet.busy.sum()),
            "calls_queued": lambda m: m.dispatcher.queued(),
            "offenders_held": lambda m: int((m.offending.free_at > m.hour).sum()),
        })

    def observe(self, observer: Observer) -> Observer:
        """Call ``observer``'s hooks as this run's events happen, from now on; returns it."""
        self.observers.append(observer)
        return observer

    def _intervention_context(self) -> InterventionContext:
        """What interventions see of this run: its levers, dispute registration and fleet, no more."""
        d = self.disputes
        registration = DisputeRegistration(d.add_discovery_source, d.manage_households, d.open_governance_centres,
                                           d.open_mediation, d.boost_mediation, d.mediate_at_scene, d.report_ticket)
        return InterventionContext(self.city, self.residents, self.run_seed, self.scale, self.levers, registration,
                                   Fleet(self.fleet, self.dispatcher.travel_min), self.incidents, self.recorder,
                                   self.year_index)

    # ------------------------------------------------------------------ time
    def year_index(self, hour: float) -> int:
        """Counted year of an absolute hour (−1 during warm-up)."""
        counted = hour - self.warmup_hours
        return -1 if counted < 0 else int(counted // HOURS_PER_YEAR)

    @property
    def finished(self) -> bool:
        return self.hour >= self.total_hours

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one hour."""
        h = self.hour
        year = self.year_index(h)
        hour_in_year = (h - self.warmup_hours) % HOURS_PER_YEAR
        how = h % 168
        if self._held_at_start is not None:
            if year < 0:
                self._held_at_start.count_hour(h)
            elif h == self.warmup_hours:
                self._held_at_start.hold(h)
        self._interventions_act(h, year, hour_in_year)
        units = self._patrol()
        calls = self._offend(h, how, year) + self._non_crime_calls(h, how, year)
        if h % 24 == 0:
            calls += self.disputes.day(h, year)
        self.dispatcher.submit(calls)
        self.env.advance((h + 1) * 60.0)  # dispatch, tickets and mediation run to the end of the hour
        self._count_received(h)
        if year >= 0:
            _add_guardian_hours(self._guardian_hours, units, self.levers.posts, self.levers.visible_guardians)
            if hour_in_year == HOURS_PER_YEAR - 1:
                self._survey(year, h)

        self.hour += 1
        self.running = not self.finished
        if h % self._collect_every == 0:
            self.datacollector.collect(self)

    def _interventions_act(self, h: int, year: int, hour_in_year: int) -> None:
        """Interventions start at their year's first hour, act each hour, and run up costs."""
        rec = self.recorder
        ctx = self.context
        ctx.hour = h
        if year >= 0 and hour_in_year == 0:
            self._start_interventions(self.years[year], year)
        elif h == 0 and any(self._running_before):
            # They start with the warm-up, so their queues and cases have settled when counting starts.
            self._start_interventions(self.years[0], 0, self._running_before)
        if h % 24 == 0:
            self._read_running_costs()
        day_of_year = hour_in_year // 24
        for iv in self._acting:
            iv.on_hour(ctx, h, day_of_year)
        if self._hourly_costs and 0 <= year < rec.n_years:
            yuan, staff = rec.row("cost_yuan"), rec.row("staff_hours")
            for running, on_duty in self._hourly_costs:
                yuan[year] += running
                staff[year] += on_duty

    def _patrol(self) -> np.ndarray:
        """Patrols move; guardianship and remembered presence follow them. Returns units per cell."""
        levers = self.levers
        self.fleet.reposition(self.hour, self.incidents.recent)
        units, levers.patrol_presence = self.fleet.guarding(self.scenario.crime.patrol_spill)
        self.offending.decay(units, levers.posts)
        self.incidents.decay()
        return units

    def _offend(self, h: int, how: int, year: int) -> list[Call]:
        """Offences, their reporting (or detection) and recording. Returns the crime calls."""
        rec, levers = self.recorder, self.levers
        off = self.offending.step(h, how, levers)
        if off.attempts_blocked or off.attempts_displaced:
            rec.add("attempts_blocked", year, off.attempts_blocked)
            rec.add("attempts_displaced", year, off.attempts_displaced)
        calls, detected = self.calls.report(off, h, levers.cameras, levers.alarms)
        if len(off):
            recorded = np.zeros(len(off), dtype=bool)
            recorded[detected] = True
            rec_calls = {c.offender_slot for c in calls if c.recorded}
            if rec_calls:  # a handful of offences an hour: a set lookup beats np.isin's set-up
                recorded |= np.array([slot in rec_calls for slot in off.offender_slot.tolist()])
            self._record_offences(h, year, off.crime_type, off.cell, recorded)
            rec.add("offences_displaced", year, float(off.displaced.sum()))
            rec.add("detected_by_video", year, float(len(detected)))
            rec.add("homicides", year, float(off.homicide.sum()))
            # Repeat victimisation: the victim was already victimised earlier in this counted year.
            year_start = self.warmup_hours + year * HOURS_PER_YEAR
            rec.add("repeat_victimisations", year, float((off.victim_last_victimised >= year_start).sum()))
            serious = off.serious & recorded & (off.crime_type == ASSAULT)
            rec.add("serious_assaults", year, float(serious.sum()))
            self.incidents.note(off.cell[recorded])
            if len(detected):
                self._clear(off.crime_type[detected], off.offender_slot[detected],
                            off.cell[detected], np.full(len(detected), self.scenario.clearance.video_only_delay_h),
                            np.zeros(len(detected)), h, year,
                            event_uniforms(self.run_seed, "clearance.video", off.offender_slot[detected], h))
        return calls

    def _record_offences(self, hour: int, year: int, crime_type: np.ndarray, cells: np.ndarray,
                         recorded: np.ndarray) -> None:
        """Count offences of the hour starting at ``hour`` (street offences and dispute violence)."""
        self.recorder.offences(year, hour - self.warmup_hours, crime_type, cells, recorded)
        self.incidents.count(year, cells, recorded)
        for o in self.observers:
            o.offences(hour, year, crime_type, cells, recorded)

    def _non_crime_calls(self, h: int, how: int, year: int) -> list[Call]:
        """Non-crime calls; some non-urgent requests (priority 3) are served at walk-in desks instead."""
        other = self.calls.non_crime(h, how)
        desks = self.levers.walk_in_share
        if other and any(c.priority == 3 for c in other) and desks.any():
            ids = np.array([c.call_id for c in other])
            u = event_uniforms(self.run_seed, "calls.walk_in", ids)
            keep = []
            for c, x in zip(other, u, strict=True):
                if c.priority == 3 and x < desks[c.cell]:
                    self.recorder.add("walk_in_services", year)
                else:
                    keep.append(c)
            other = keep
        return other

    def _survey(self, year: int, h: int) -> None:
        pct, _ = survey(self.scenario.safety, self.run_seed, year, self.residents, self.city,
                        self.incidents.recorded[year], self._guardian_hours / 365.0, h)
        self.recorder.add("sense_of_safety_pct", year, pct)
        self._guardian_hours[:] = 0.0

    def _start_interventions(self, year_label: int, year: int, which: list[bool] | None = None) -> None:
        started = False
        for k, (iv, start) in enumerate(zip(self.interventions, self._starts, strict=True)):
            if not iv.active and start <= year_label and (which is None or which[k]):
                iv.activate(self.context)
                iv.active = True
                iv.first_year_index = year
                started = True
                self.recorder.add("cost_yuan", year, iv.cost().setup_yuan)
        if started:
            self.dispatcher.start_units()
            self._read_running_costs()

    def _read_running_costs(self) -> None:
        # Active interventions' running costs, read at midnight (see Intervention.cost) and
        # added hour by hour; only interventions with an hourly hook are called each hour.
        active = [iv for iv in self.interventions if iv.active]
        self._acting = [iv for iv in active if type(iv).on_hour is not Intervention.on_hour]
        self._hourly_costs = [(c.running_yuan_per_year / HOURS_PER_YEAR, c.staff_on_duty)
                              for c in (iv.cost() for iv in active)]

    def _count_received(self, h: int) -> None:
        rec = self.recorder
        for o in self.observers:
            o.calls(h, self.dispatcher.received)
        for c in self.dispatcher.received:
            y = self.year_index(c.time / 60.0)
            rec.add("calls_for_service", y)
            if y >= 0:
                self._cum["calls_for_service"] += 1
                rec.day("calls_for_service", int(c.time / 60.0) - self.warmup_hours)
            if c.kind == "public_order":
                rec.add("public_order_incidents", y)
                rec.day("effective_incidents", int(c.time / 60.0) - self.warmup_hours)
                self.incidents.note(c.cell)
        self.dispatcher.received.clear()

    def _on_scene(self, call: Call) -> None:
        year = self.year_index(call.time / 60.0)
        self.recorder.attended(call, year)
        for o in self.observers:
            o.dispatch(call)
        if call.dispute_row >= 0:
            self.disputes.police_attend(call, year)
        if call.kind == "crime" and call.recorded:
            response_h = (call.arrived_at - call.time) / 60.0
            u = event_uniform(self.run_seed, "clearance.scene", call.call_id)
            self._clear(np.array([call.crime_type]), np.array([call.offender_slot]),
                        np.array([call.cell]), np.array([call.report_delay_h]),
                        np.array([response_h]), int(call.arrived_at // 60), year, np.array([u]))

    def _clear(self, ctype, slots, cells, delay_h, response_h, hour, year, u) -> None:
        levers = self.levers
        p = clearance_probability(self.scenario.clearance, ctype, delay_h, response_h,
                                  levers.cameras[cells], levers.clearance_odds[ctype])
        cleared = u < p
        n = float(cleared.sum())
        if n:
            self.recorder.add("cases_cleared", year, n)
            self.recorder.add("arrests", year, n)
            self.offending.arrest(slots[cleared], cells[cleared], hour)
            if self._held_at_start is not None and hour < self.warmup_hours:
                self._held_at_start.count_arrests(slots[cleared], hour)

    # --------------------------------------------------------------- running
    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Run to the end of the last counted year; ``progress(days)`` is called daily."""
        # The class's own step, counted as Mesa's wrapper of ``self.step`` counts it (which also
        # formats a log message every step, whether or not anyone logs: 1-2 % of a run).
        step = type(self).step.__get__(self)
        with _fewer_collector_passes():
            while not self.finished:
                self.steps += 1
                step()
                if progress is not None and self.hour % 24 == 0:
                    progress(1)

    def year_rows(self) -> list[dict]:
        """One row of metrics per counted year, derived from the declared metrics (:mod:`sim.metrics`)."""
        rows = []
        for y, label in enumerate(self.years):
            reports = self.disputes.year_metrics(y)
            for iv in self.interventions:
                reports.update(iv.metrics(self.context, y))
            rows.append({"year": label, **self.recorder.year_row(y, self.city.population, reports)})
        return rows


@njit(cache=True)
def _add_guardian_hours(total, units, posts, visible):
    # total += units + posts + visible, element by element (the same float operations, without
    # the array expression's two temporaries: it runs every hour of every run).
    for i in range(len(total)):
        total[i] += units[i] + posts[i] + visible[i]
