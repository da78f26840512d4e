"""The Pingan model: one Mesa ``Model`` whose step is one simulated hour.

Data flows one way each hour: interventions set the shared levers → patrols move →
offenders act against the guardianship in place → offences are reported (or seen on
video) → calls join non-crime calls in the SimPy dispatcher, which runs to the end of the
hour → attended calls are cleared or not, arrests feed deterrence → metrics are recorded.
Once a day, at midnight, disputes arise, escalate (to calls for service and violence) and
are found by whoever does rounds; found disputes become governance tickets or go to
mediation, both SimPy processes on the same clock. At the end of each counted year a
simulated survey measures the sense of safety.

Researchers can drive it step by step::

    model = PinganModel(load_scenario("suizhou_2022"), seed=1, scale=0.05)
    for _ in range(24 * 7):
        model.step()
    model.datacollector.get_model_vars_dataframe()
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator

import mesa
import numpy as np
from numba import njit

from sim.agents.patrol import PatrolFleet
from sim.agents.residents import Residents, build_residents
from sim.events.dispatch import Dispatcher
from sim.events.engine import Environment
from sim.events.governance import GovernancePipeline, Ticket
from sim.events.mediation import MediationService
from sim.interventions import REGISTRY, Intervention
from sim.interventions.video import camera_weights
from sim.mechanisms.calls import Call, Calls
from sim.mechanisms.clearance import clearance_probability
from sim.mechanisms.crime import ASSAULT, CRIME_TYPES, Offending
from sim.mechanisms.disputes import DiscoverySource, DisputeBook, Resolver, Stage
from sim.mechanisms.safety import survey
from sim.metrics import HOURS_PER_YEAR, MetricsRecorder
from sim.rng import event_uniform, event_uniforms
from sim.scenario.schema import Scenario
from sim.space.city import City, apportion, build_city

__all__ = ["PinganModel"]

_DISPUTE_ID_BASE = 1 << 60  # dispute calls' ids: apart from crime and non-crime calls


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

        # The shared levers interventions act through (see sim.interventions.base).
        self.posts = np.zeros(n)
        self.extra_guardians = np.zeros(n)
        self.camera_count = np.zeros(n)
        self.cameras = np.zeros(n)
        self.walk_in_share = np.zeros(n)
        self.type_deterrence = np.zeros(len(CRIME_TYPES))
        self.clearance_odds = np.ones(len(CRIME_TYPES))
        self.patrol_presence = np.zeros(n)
        self.heat = np.zeros(n)
        self.type_guardians = np.zeros((len(CRIME_TYPES), n))  # blocking hazard by crime type
        self.alarms = np.zeros(n)  # chance an unreported offence is detected by alarms
        self.visible_guardians = np.zeros(n)  # non-police guardians seen now (volunteers, …)
        self.discovery_sources: list[DiscoverySource] = []
        self.household_dispute_factor: np.ndarray | None = None  # thinning of new disputes
        self.police_mediation = None  # params with success_by_stage, honour_prob (随警调解)
        self.governance: GovernancePipeline | None = None
        self.mediation: MediationService | None = None
        self._guardian_hours = np.zeros(n)

        s = scenario
        self.env = Environment()
        self.fleet = PatrolFleet(self.city, s.policing, self.run_seed)
        total_units = round(s.policing.units_per_100k_residents * self.city.population / 1e5)
        self.fleet.add_station_units(total_units)
        self.offending = Offending(s.crime, self.city, self.residents, self.run_seed)
        self.calls = Calls(s.calls, self.city, self.residents, self.run_seed)
        self.disputes = DisputeBook(s.disputes, self.city, self.residents, self.run_seed)
        self.dispatcher = Dispatcher(self.env, self.fleet, self.city, s.dispatch, self.run_seed,
                                     on_scene=self._on_scene)
        self.dispatcher.start_units()
        existing = round(s.policing.existing_cameras_per_1000 * self.city.population / 1000)
        self.add_cameras(apportion(existing, camera_weights(self, "main_roads")))

        self.years = s.run.year_labels
        self.warmup_hours = s.run.warmup_days * 24
        self.total_hours = self.warmup_hours + len(self.years) * HOURS_PER_YEAR
        self.hour = 0
        self.interventions: list[Intervention] = []
        self._acting: list[Intervention] = []  # active, with an hourly hook
        self._hourly_costs: list[tuple[float, float]] = []  # active: (yuan, staff on duty) per hour
        self._starts: list[int] = []
        for key, params in s.enabled_interventions().items():
            self.interventions.append(REGISTRY[key](params))
            self._starts.append(params.start_year or s.run.start_year_of_interventions)
        self.recorder = MetricsRecorder(len(self.years), n)
        self._decay_heat = 0.5 ** (1 / (24 * s.policing.heat_half_life_days))
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

    # ----------------------------------------------------------------- levers
    def add_cameras(self, counts: np.ndarray) -> None:
        """Install cameras (counts per cell) and update coverage."""
        self.camera_count += counts
        area = self.city.cell_size_km ** 2
        self.cameras = 1 - np.exp(-self.camera_count / (self.scenario.policing.camera_density_for_63pct * area))

    def site_score(self, cells: np.ndarray) -> np.ndarray:
        """How much a cell needs presence: recent recorded incidents, then footfall."""
        attraction = self.city.attraction[cells]
        return self.heat[cells] + 1e-6 * attraction / max(attraction.max(), 1.0)

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
        rec = self.recorder
        year = self.year_index(h)
        hour_in_year = (h - self.warmup_hours) % HOURS_PER_YEAR
        if year >= 0 and hour_in_year == 0:
            self._start_interventions(self.years[year], year)
        day_of_year = hour_in_year // 24
        if h % 24 == 0:
            self._read_running_costs()
        for iv in self._acting:
            iv.on_hour(self, h, day_of_year)
        if self._hourly_costs and 0 <= year < rec.n_years:
            yuan, staff = rec.row("cost_yuan"), rec.row("staff_hours")
            for running, on_duty in self._hourly_costs:
                yuan[year] += running
                staff[year] += on_duty
        how = h % 168

        # Patrols move; guardianship and remembered presence follow them.
        self.fleet.reposition(h, self.heat)
        units, self.patrol_presence = self.fleet.guarding(self.scenario.crime.patrol_spill)
        self.offending.decay(units, self.posts)
        _decay(self.heat, self._decay_heat)

        # Offences, reporting, recording.
        off = self.offending.step(h, how, self)
        if off.attempts_blocked or off.attempts_displaced:
            rec.add("attempts_blocked", year, off.attempts_blocked)
            rec.add("attempts_displaced", year, off.attempts_displaced)
        calls, detected = self.calls.report(off, h, self.cameras, self.alarms)
        if len(off):
            recorded = np.zeros(len(off), dtype=bool)
            recorded[detected] = True
            rec_calls = {c.offender_slot for c in calls if c.recorded}
            if rec_calls:  # a handful of offences an hour: a set lookup beats np.isin's set-up
                recorded |= np.array([slot in rec_calls for slot in off.offender_slot.tolist()])
            rec.offences(year, h - self.warmup_hours, off.crime_type, off.cell, recorded)
            rec.add("offences_displaced", year, float(off.displaced.sum()))
            rec.add("detected_by_video", year, float(len(detected)))
            rec.add("homicides", year, float(off.homicide.sum()))
            serious = off.serious & recorded & (off.crime_type == ASSAULT)
            rec.add("serious_assaults", year, float(serious.sum()))
            np.add.at(self.heat, off.cell[recorded], 1.0)
            if len(detected):
                self._clear(off.crime_type[detected], off.offender_slot[detected],
                            off.cell[detected], np.full(len(detected), self.scenario.clearance.video_only_delay_h),
                            np.zeros(len(detected)), h, year,
                            event_uniforms(self.run_seed, "clearance.video", off.offender_slot[detected], h))

        # Non-crime calls; some non-urgent requests (priority 3) are served at walk-in desks instead.
        other = self.calls.non_crime(h, how)
        if other and any(c.priority == 3 for c in other) and self.walk_in_share.any():
            ids = np.array([c.call_id for c in other])
            u = event_uniforms(self.run_seed, "calls.walk_in", ids)
            keep = []
            for c, x in zip(other, u, strict=True):
                if c.priority == 3 and x < self.walk_in_share[c.cell]:
                    rec.add("walk_in_services", year)
                else:
                    keep.append(c)
            other = keep
        if h % 24 == 0:
            other += self._dispute_day(h, year)
        self.dispatcher.submit(calls + other)
        self.env.advance((h + 1) * 60.0)
        self._count_received()
        if year >= 0:
            _add_guardian_hours(self._guardian_hours, units, self.posts, self.visible_guardians)
        if year >= 0 and hour_in_year == HOURS_PER_YEAR - 1:
            self._survey(year, h)

        self.hour += 1
        self.running = not self.finished
        if h % self._collect_every == 0:
            self.datacollector.collect(self)

    # -------------------------------------------------------------- disputes
    def _dispute_day(self, h: int, year: int) -> list[Call]:
        """Midnight: disputes arise, escalate and are found. Returns today's dispute calls."""
        rec, book, seed = self.recorder, self.disputes, self.run_seed
        day = h // 24
        new = book.arise(day, self.household_dispute_factor)
        rec.add("disputes_new", year, len(new))
        to_call, to_violence = book.escalate(day)
        u = event_uniforms(seed, "disputes.call_time", book.uid[to_call], day)
        calls = [Call(call_id=_DISPUTE_ID_BASE + int(book.uid[r]), time=h * 60.0 + float(x) * 1440.0,
                      cell=int(book.cell[r]), county=int(self.city.county[book.cell[r]]), priority=2,
                      kind="dispute", dispute_row=int(r)) for r, x in zip(to_call, u, strict=True)]
        rec.add("disputes_to_call", year, len(to_call))
        calls += self._dispute_violence(to_violence, h, year)
        for src in self.discovery_sources:
            found = book.discover(day, src.hazard, src.name)
            rec.add("disputes_found", year, len(found))
            rec.add(f"disputes_found_by_{src.name}", year, len(found))
            self._route(found, src, day, year)
        return calls

    def _dispute_violence(self, rows: np.ndarray, h: int, year: int) -> list[Call]:
        """Disputes that turned violent: assaults (recorded when reported) and their calls."""
        if len(rows) == 0:
            return []
        book, seed, p = self.disputes, self.run_seed, self.scenario.disputes
        uid = book.uid[rows]
        u_sev = event_uniforms(seed, "disputes.severity", uid)
        homicide = u_sev < p.violence_homicide_share
        serious = u_sev < p.violence_serious_share
        reported = homicide | (event_uniforms(seed, "disputes.reported", uid) < self.scenario.calls.report_prob.get(
            "assault", 0.6))
        cells = book.cell[rows]
        self.recorder.offences(year, h - self.warmup_hours, np.full(len(rows), ASSAULT), cells, reported)
        self.recorder.add("disputes_violent", year, len(rows))
        self.recorder.add("homicides", year, float(homicide.sum()))
        self.recorder.add("serious_assaults", year, float((serious & reported).sum()))
        minute = event_uniforms(seed, "disputes.violence_time", uid)
        return [Call(call_id=_DISPUTE_ID_BASE + (1 << 50) + int(book.uid[r]), time=h * 60.0 + float(m) * 1440.0,
                     cell=int(book.cell[r]), county=int(self.city.county[book.cell[r]]), priority=1, kind="crime",
                     crime_type=ASSAULT, recorded=True, report_delay_h=0.1)
                for r, m, rep in zip(rows, minute, reported, strict=True) if rep]

    def _route(self, rows: np.ndarray, src: DiscoverySource, day: int, year: int) -> None:
        """Found disputes: settle minor ones on the spot, refer the rest."""
        if len(rows) == 0:
            return
        book = self.disputes
        uid = book.uid[rows]
        spot = (book.stage[rows] == Stage.MINOR) & (
            event_uniforms(self.run_seed, f"disputes.on_spot.{src.name}", uid, day) < src.on_spot_prob)
        holds = event_uniforms(self.run_seed, "disputes.on_spot_holds", uid, day) < src.honour_prob
        for r, ok in zip(rows[spot], holds[spot], strict=True):
            book.settle(int(r), day, src.resolver, bool(ok))
            self.recorder.add("disputes_settled_on_spot", year)
            if src.resolver == Resolver.POLICE:
                self.recorder.add("disputes_resolved_by_police", year)
        for r in rows[~spot]:
            self.refer_dispute(int(r))

    def refer_dispute(self, row: int) -> None:
        """Send a found dispute on: a governance ticket if centres exist, else mediation."""
        if self.governance is not None:
            self.report_ticket("dispute", int(self.disputes.cell[row]), int(self.disputes.uid[row]), row)
        elif self.mediation is not None:
            self.env.process(self.mediation.ladder(row))

    def report_ticket(self, kind: str, cell: int, uid: int, dispute_row: int = -1) -> None:
        """Report a ticket to the governance centres (ignored where there are none)."""
        if self.governance is None:
            return
        if dispute_row >= 0:
            self.disputes.handling[dispute_row] = True
        self.governance.submit(Ticket(uid=uid, kind=kind, cell=cell, created=self.env.now, dispute_row=dispute_row))

    def dispose_ticket(self, t: Ticket, level: int):
        """Disposal of a ticket at ``level``: mediation for disputes, else the centre's own work."""
        book = self.disputes
        if t.kind == "dispute":
            if not book.is_active(t.dispute_row):
                return None
            if self.mediation is not None and level < len(self.mediation.committees):
                return (yield from self.mediation.mediate(t.dispute_row, level))
        ok = (event_uniform(self.run_seed, "governance.resolve", t.uid, level) <
                  self.governance.p.resolve_prob[level])
        if t.kind == "dispute" and ok:
            holds = event_uniform(self.run_seed, "governance.holds", t.uid, level) < \
                self.governance.p.own_settlement_honour_prob
            book.settle(t.dispute_row, int(self.env.now // 1440), Resolver.GOVERNANCE, holds)
        return ok

    def ticket_archived(self, t: Ticket) -> None:
        """A ticket left the pipeline: a dispute it did not settle is no longer being handled."""
        if t.dispute_row >= 0 and self.disputes.is_active(t.dispute_row):
            self.disputes.handling[t.dispute_row] = False

    def mediation_result(self, row: int, level: int, success: bool, honoured: bool) -> None:
        """Count a mediation session (called by the mediation service)."""
        year = self.year_index(self.env.now / 60.0)
        self.recorder.add("disputes_mediated", year)
        if success:
            self.recorder.add("mediation_successes", year)
            self.recorder.add("agreements_honoured", year, float(honoured))

    def _survey(self, year: int, h: int) -> None:
        pct, _ = survey(self.scenario.safety, self.run_seed, year, self.residents, self.city,
                        self.recorder.cell_incidents[year], self._guardian_hours / 365.0, h)
        self.recorder.add("sense_of_safety_pct", year, pct)
        self._guardian_hours[:] = 0.0

    def _start_interventions(self, year_label: int, year: int) -> None:
        started = False
        for iv, start in zip(self.interventions, self._starts, strict=True):
            if not iv.active and start <= year_label:
                iv.activate(self)
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

    def _count_received(self) -> None:
        rec = self.recorder
        for c in self.dispatcher.received:
            y = self.year_index(c.time / 60.0)
            rec.add("calls_for_service", y)
            if y >= 0:
                self._cum["calls_for_service"] += 1
                rec.day("calls_for_service", int(c.time / 60.0) - self.warmup_hours)
            if c.kind == "public_order":
                rec.add("public_order_incidents", y)
                rec.day("effective_incidents", int(c.time / 60.0) - self.warmup_hours)
                self.heat[c.cell] += 1.0
        self.dispatcher.received.clear()

    def _on_scene(self, call: Call) -> None:
        year = self.year_index(call.time / 60.0)
        self.recorder.attended(call, year)
        if call.dispute_row >= 0:
            self._dispute_call(call, year)
        if call.kind == "crime" and call.recorded:
            response_h = (call.arrived_at - call.time) / 60.0
            u = event_uniform(self.run_seed, "clearance.scene", call.call_id)
            self._clear(np.array([call.crime_type]), np.array([call.offender_slot]),
                        np.array([call.cell]), np.array([call.report_delay_h]),
                        np.array([response_h]), int(call.arrived_at // 60), year, np.array([u]))

    def _dispute_call(self, call: Call, year: int) -> None:
        """Police at a dispute: police-accompanied mediation if in place; the dispute is found."""
        book, row = self.disputes, call.dispute_row
        if not book.is_active(row):
            return
        if not book.found[row]:
            book.found[row] = True
            self.recorder.add("disputes_found", year)
            self.recorder.add("disputes_found_by_call", year)
        pm = self.police_mediation
        if pm is not None:
            stage = min(int(book.stage[row]), 2)
            uid = int(book.uid[row])
            if event_uniform(self.run_seed, "police_mediation.success", uid) < pm.success_by_stage[stage]:
                holds = event_uniform(self.run_seed, "police_mediation.holds", uid) < pm.honour_prob
                book.settle(row, int(self.env.now // 1440), Resolver.POLICE, holds)
                self.recorder.add("disputes_resolved_by_police", year)
                return
        if not book.handling[row]:
            self.refer_dispute(row)

    def _clear(self, ctype, slots, cells, delay_h, response_h, hour, year, u) -> None:
        p = clearance_probability(self.scenario.clearance, ctype, delay_h, response_h,
                                  self.cameras[cells], self.clearance_odds[ctype])
        cleared = u < p
        n = float(cleared.sum())
        if n:
            self.recorder.add("cases_cleared", year, n)
            self.recorder.add("arrests", year, n)
            self.offending.arrest(slots[cleared], cells[cleared], hour)

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

    def _ticket_metrics(self, year: int) -> dict[str, float]:
        tickets = [] if self.governance is None else [
            t for t in self.governance.tickets if self.year_index(t.created / 60.0) == year]
        n = len(tickets)
        done = [t for t in tickets if t.state != "open"]
        latency = [(t.archived_at - t.created) / 60.0 for t in done]
        nan = float("nan")
        return {
            "tickets_received": float(n),
            "tickets_disposed_rate": sum(t.disposed for t in tickets) / n if n else nan,
            "tickets_completed_rate": sum(t.state == "completed" for t in tickets) / n if n else nan,
            "tickets_escalated": float(sum(t.escalations > 0 for t in tickets)),
            "ticket_latency_median_h": float(np.median(latency)) if latency else nan,
        }

    def year_rows(self) -> list[dict]:
        """One row of metrics per counted year."""
        rows = []
        for y, label in enumerate(self.years):
            row = {"year": label, **self.recorder.year_row(y, self.city.population)}
            row.update(self._ticket_metrics(y))
            for iv in self.interventions:
                row.update(iv.metrics(self, y))
            rows.append(row)
        return rows


@njit(cache=True)
def _decay(memory, factor):
    # memory *= factor, element by element (a compiled call costs a third of numpy's in-place
    # multiply on a few hundred cells, every hour of every run).
    for i in range(len(memory)):
        memory[i] *= factor


@njit(cache=True)
def _add_guardian_hours(total, units, posts, visible):
    # total += units + posts + visible, element by element (the same float operations, without
    # the array expression's two temporaries: it runs every hour of every run).
    for i in range(len(total)):
        total[i] += units[i] + posts[i] + visible[i]
