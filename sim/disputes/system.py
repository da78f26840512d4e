"""The dispute system: a day of disputes, and where a found dispute goes next.

Each midnight disputes arise, escalate — to calls for service and to violence — and are
found by the discovery sources interventions registered. A found minor dispute may be
settled on the spot; the rest are referred on: to the governance centres as a ticket
(report → accept → dispatch → dispose → verify → archive, :mod:`sim.disputes.governance`),
whose disposal of a dispute is a mediation session when mediation is in place, or else
straight to the mediation ladder (:mod:`sim.disputes.mediation`). Police who attend a
dispute call find it, and, with police-accompanied mediation, may settle it at the scene.

Interventions switch the parts on by registering with the system — a discovery source,
governance centres, mediation services, mediation at the scene, fewer disputes in managed
households — and the model calls it once a day (:meth:`DisputeSystem.day`) and for each
dispute call police attend (:meth:`DisputeSystem.police_attend`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.disputes.book import DisputeBook, DisputeParams, Outcome, Resolver, Stage
from sim.disputes.discovery import DiscoverySource
from sim.disputes.governance import GovernanceParams, GovernancePipeline, Ticket
from sim.disputes.mediation import MediationAtScene, MediationParams, MediationService
from sim.mechanisms.calls import Call
from sim.mechanisms.crime_types import ASSAULT
from sim.metrics import HOURS_PER_YEAR, METRICS, Metric, MetricsRecorder
from sim.observers import Observer
from sim.rng import event_uniform, event_uniforms

__all__ = ["DisputeSystem", "DISPUTE_CALL_ID_BASE"]

DISPUTE_CALL_ID_BASE = 1 << 60  # dispute calls' ids: apart from crime and non-crime calls
_VIOLENCE_CALL_OFFSET = 1 << 50  # violence calls' ids: apart from the dispute calls'

METRICS.declare(Metric(
    "disputes_found_by_", "disputes", "Disputes found by one discovery source, one column per source that "
    "found any: ``disputes_found_by_call`` (police at a dispute call), ``…_grid_worker``, ``…_home_visit``, "
    "``…_auxiliary_police``, ``…_joint_screening``.", kind="family"))


class DisputeSystem:
    """The dispute book and everything that finds, refers and settles its disputes.

    Args:
        params: Dispute parameters.
        city: The city.
        residents: The residents (households, special populations).
        env: The run's SimPy environment (minutes).
        recorder: The run's metrics recorder.
        seed: The run's seed.
        scale: City scale (county and city staff scale with it).
        assault_report_prob: Chance dispute violence is reported (as any assault).
        year_index: Counted year of an absolute hour (−1 during warm-up).
        warmup_hours: Hours of warm-up before the first counted year.
        record_offences: Counts offences (dispute violence):
            ``record_offences(hour, year, crime_type, cells, recorded)`` — the model's, which also
            maps them and tells observers; default: the recorder's counts by crime type only.
        observers: The run's observers (:class:`sim.observers.Observer`), told of each mediation
            session and archived ticket; the model's list, so ones added later are told too.
    """

    def __init__(self, params: DisputeParams, city, residents, env, recorder: MetricsRecorder, seed: int,
                 scale: float, assault_report_prob: float, year_index: Callable[[float], int],
                 warmup_hours: int, record_offences: Callable[..., None] | None = None,
                 observers: list[Observer] | None = None):
        self.book = DisputeBook(params, city, residents, seed)
        self.p = params
        self.city = city
        self.env = env
        self.recorder = recorder
        self.seed = seed
        self.scale = scale
        self.assault_report_prob = assault_report_prob
        self.year_index = year_index
        self.warmup_hours = warmup_hours
        self.observers = [] if observers is None else observers
        self.record_offences = record_offences or (
            lambda hour, year, crime_type, cells, recorded: recorder.offences(year, hour - warmup_hours, crime_type,
                                                                              cells, recorded))
        # What interventions register (nothing, in a baseline run).
        self.discovery_sources: list[DiscoverySource] = []
        self.household_factor: np.ndarray | None = None  # chance a new dispute of a household arises at all
        self.governance: GovernancePipeline | None = None
        self.mediation: MediationService | None = None
        self.at_scene: MediationAtScene | None = None
        self._pending_boosts: list[tuple[int, np.ndarray, float]] = []
        self._formal_cases: set[int] = set()  # rows of disputes that had a formal mediation session

    # ------------------------------------------------------------ registering
    def add_discovery_source(self, source: DiscoverySource) -> None:
        """Let ``source`` find disputes every day from now on (after those registered earlier)."""
        self.discovery_sources.append(source)

    def manage_households(self, households: np.ndarray, dispute_reduction: float) -> None:
        """Fewer new disputes in ``households`` (special-population contact): thinned by ``1 − dispute_reduction``."""
        if self.household_factor is None:
            n = max(int(self.city.households.sum()), len(self.book.special_household))
            self.household_factor = np.ones(n)
        self.household_factor[households] *= 1 - dispute_reduction

    def open_governance_centres(self, params: GovernanceParams) -> GovernancePipeline:
        """Governance centres at every level: from now on found disputes and reported items become tickets."""
        self.governance = GovernancePipeline(self.env, self.city, params, self.scale, self.seed,
                                             dispose=self._dispose, on_archive=self._archived)
        return self.governance

    def open_mediation(self, params: MediationParams) -> MediationService:
        """Mediation committees at village, town and county level."""
        self.mediation = MediationService(self.env, self.city, params, self.scale, self.seed, self.book,
                                          on_result=self._mediated, on_informal=self._settled_informally)
        for level, towns, boost in self._pending_boosts:
            self.mediation.success_boost[level, towns] += boost
        self._pending_boosts.clear()
        return self.mediation

    def boost_mediation(self, level: int, towns: np.ndarray, boost: float) -> None:
        """Add ``boost`` to the chance mediation at ``level`` succeeds in ``towns`` (now, or once mediation opens)."""
        if self.mediation is None:
            self._pending_boosts.append((level, towns, boost))
        else:
            self.mediation.success_boost[level, towns] += boost

    def mediate_at_scene(self, at_scene: MediationAtScene) -> None:
        """Police who attend a dispute call try to settle it there (police-accompanied mediation)."""
        self.at_scene = at_scene

    # -------------------------------------------------------------- each day
    def day(self, hour: int, year: int) -> list[Call]:
        """Midnight of the day starting at ``hour``: disputes arise, escalate and are found.

        Returns:
            The day's calls: disputes that reached the call stage, and reported dispute violence.
        """
        rec, book, seed = self.recorder, self.book, self.seed
        day = hour // 24
        new = book.arise(day, self.household_factor)
        rec.add("disputes_new", year, len(new))
        to_call, to_violence = book.escalate(day)
        u = event_uniforms(seed, "disputes.call_time", book.uid[to_call], day)
        county = self.city.county
        calls = [Call(call_id=DISPUTE_CALL_ID_BASE + int(book.uid[r]), time=hour * 60.0 + float(x) * 1440.0,
                      cell=int(book.cell[r]), county=int(county[book.cell[r]]), priority=2,
                      kind="dispute", dispute_row=int(r)) for r, x in zip(to_call, u, strict=True)]
        rec.add("disputes_to_call", year, len(to_call))
        calls += self._violence(to_violence, hour, year)
        for src in self.discovery_sources:
            found = book.discover(day, src.hazard, src.name)
            rec.add("disputes_found", year, len(found))
            rec.add(f"disputes_found_by_{src.name}", year, len(found))
            self._route(found, src, day, year)
        return calls

    def _violence(self, rows: np.ndarray, hour: int, year: int) -> list[Call]:
        """Disputes that turned violent: assaults (recorded when reported) and their calls."""
        if len(rows) == 0:
            return []
        book, seed, p, rec = self.book, self.seed, self.p, self.recorder
        uid = book.uid[rows]
        u_sev = event_uniforms(seed, "disputes.severity", uid)
        homicide = u_sev < p.violence_homicide_share
        serious = u_sev < p.violence_serious_share
        reported = homicide | (event_uniforms(seed, "disputes.reported", uid) < self.assault_report_prob)
        cells = book.cell[rows]
        self.record_offences(hour, year, np.full(len(rows), ASSAULT), cells, reported)
        rec.add("disputes_violent", year, len(rows))
        rec.add("homicides", year, float(homicide.sum()))
        rec.add("serious_assaults", year, float((serious & reported).sum()))
        minute = event_uniforms(seed, "disputes.violence_time", uid)
        county = self.city.county
        return [Call(call_id=DISPUTE_CALL_ID_BASE + _VIOLENCE_CALL_OFFSET + int(book.uid[r]),
                     time=hour * 60.0 + float(m) * 1440.0, cell=int(book.cell[r]), county=int(county[book.cell[r]]),
                     priority=1, kind="crime", crime_type=ASSAULT, recorded=True, report_delay_h=0.1)
                for r, m, rep in zip(rows, minute, reported, strict=True) if rep]

    # ---------------------------------------------------------------- routing
    def _route(self, rows: np.ndarray, src: DiscoverySource, day: int, year: int) -> None:
        """Found disputes: settle minor ones on the spot, refer the rest."""
        if len(rows) == 0:
            return
        book = self.book
        uid = book.uid[rows]
        spot = (book.stage[rows] == Stage.MINOR) & (
            event_uniforms(self.seed, f"disputes.on_spot.{src.name}", uid, day) < src.on_spot_prob)
        holds = event_uniforms(self.seed, "disputes.on_spot_holds", uid, day) < src.honour_prob
        for r, ok in zip(rows[spot], holds[spot], strict=True):
            book.settle(int(r), day, src.resolver, bool(ok))
            self.recorder.add("disputes_settled_on_spot", year)
            if src.resolver == Resolver.POLICE:
                self.recorder.add("disputes_resolved_by_police", year)
        referred = rows[~spot]
        if src.logged_metric:
            self.recorder.add(src.logged_metric, year, len(referred))
        if src.ticket_share < 1 and self.governance is not None and self.mediation is not None:
            # Only some of what the source logs reaches the platform; the rest stays with the committee.
            up = event_uniforms(self.seed, f"disputes.to_platform.{src.name}", book.uid[referred]) < src.ticket_share
            for r, to_platform in zip(referred, up, strict=True):
                if to_platform:
                    self.refer(int(r))
                else:
                    book.handling[int(r)] = True
                    self.env.process(self.mediation.ladder(int(r)))
            return
        for r in referred:
            self.refer(int(r))

    def refer(self, row: int) -> None:
        """Send a found dispute on: a governance ticket if centres exist, else mediation (else nowhere)."""
        if self.governance is not None:
            self.report_ticket("dispute", int(self.book.cell[row]), int(self.book.uid[row]), row)
        elif self.mediation is not None:
            self.env.process(self.mediation.ladder(row))

    def police_attend(self, call: Call, year: int) -> None:
        """Police at a dispute call: the dispute is found; mediation at the scene, else it is referred on."""
        book, row = self.book, call.dispute_row
        if not book.is_active(row):
            return
        if not book.found[row]:
            book.found[row] = True
            self.recorder.add("disputes_found", year)
            self.recorder.add("disputes_found_by_call", year)
        if self.at_scene is not None and self.at_scene.settle(book, row, self.seed, int(self.env.now // 1440)):
            self.recorder.add("disputes_resolved_by_police", year)
            return
        if not book.handling[row]:
            self.refer(row)

    # ---------------------------------------------------------------- tickets
    def report_ticket(self, kind: str, cell: int, uid: int, dispute_row: int = -1) -> None:
        """Report a ticket to the governance centres (ignored where there are none).

        Args:
            kind: ``"dispute"``, ``"hazard"`` or ``"special_population"``.
            cell: Where it is.
            uid: Stable id (the time coordinate of its draws).
            dispute_row: The dispute's row in the book, for a dispute.
        """
        if self.governance is None:
            return
        if dispute_row >= 0:
            self.book.handling[dispute_row] = True
        self.governance.submit(Ticket(uid=uid, kind=kind, cell=cell, created=self.env.now, dispute_row=dispute_row))

    def _dispose(self, t: Ticket, level: int):
        """Disposal of a ticket at ``level``: mediation for disputes, else the centre's own work."""
        book = self.book
        if t.kind == "dispute":
            if not book.is_active(t.dispute_row):
                return None
            if self.mediation is not None and level < len(self.mediation.committees):
                return (yield from self.mediation.mediate(t.dispute_row, level))
        p = self.governance.p
        ok = event_uniform(self.seed, "governance.resolve", t.uid, level) < p.resolve_prob[level]
        if t.kind == "dispute" and ok:
            holds = event_uniform(self.seed, "governance.holds", t.uid, level) < p.own_settlement_honour_prob
            book.settle(t.dispute_row, int(self.env.now // 1440), Resolver.GOVERNANCE, holds)
        return ok

    def _archived(self, t: Ticket) -> None:
        """A ticket left the pipeline: a dispute it did not settle is no longer being handled."""
        if t.dispute_row >= 0 and self.book.is_active(t.dispute_row):
            self.book.handling[t.dispute_row] = False
        for o in self.observers:
            o.ticket(t)

    def _mediated(self, row: int, level: int, success: bool, honoured: bool) -> None:
        """Count a mediation session (called by the mediation service).

        Formal cases are counted once per dispute, in the year of its first session
        (``mediation_cases_formal``); ``disputes_mediated`` counts sessions or cases as the
        mediation parameters' ``counting`` says.
        """
        year = self.year_index(self.env.now / 60.0)
        rec = self.recorder
        new_case = row not in self._formal_cases
        if new_case:
            self._formal_cases.add(row)
            rec.add("mediation_cases_formal", year)
        if success:
            rec.add("mediation_cases_formal_settled", year)
        if self.mediation.p.counting == "session" or new_case:
            rec.add("disputes_mediated", year)
        if success:
            rec.add("mediation_successes", year)
            rec.add("agreements_honoured", year, float(honoured))
        for o in self.observers:
            o.mediation_session(self.env.now, row, level, success, honoured)

    def _settled_informally(self, row: int, honoured: bool) -> None:
        """Count a dispute a committee settled informally, without a formal case."""
        self.recorder.add("disputes_settled_informally", self.year_index(self.env.now / 60.0))

    # ---------------------------------------------------------------- metrics
    def year_metrics(self, year: int) -> dict[str, float]:
        """The ticket metrics of the tickets reported in counted year ``year``."""
        tickets = [] if self.governance is None else [
            t for t in self.governance.tickets if self.year_index(t.created / 60.0) == year]
        n = len(tickets)
        done = [t for t in tickets if t.state != "open"]
        latency = [(t.archived_at - t.created) / 60.0 for t in done]
        nan = float("nan")
        limit = None if self.governance is None else self.governance.p.completion_deadline_h
        if limit is None:
            disposed = sum(t.disposed for t in tickets)
            completed = sum(t.state == "completed" for t in tickets)
        else:  # on time only (按期): within the time limit from report
            limit_min = limit * 60.0
            disposed = sum(t.disposed and 0 <= t.disposed_at - t.created <= limit_min for t in tickets)
            completed = sum(t.state == "completed" and t.archived_at - t.created <= limit_min for t in tickets)
        return {
            "tickets_received": float(n),
            "tickets_disposed_rate": disposed / n if n else nan,
            "tickets_completed_rate": completed / n if n else nan,
            "tickets_escalated": float(sum(t.escalations > 0 for t in tickets)),
            "ticket_latency_median_h": float(np.median(latency)) if latency else nan,
            **self._resolved(year),
        }

    def _resolved(self, year: int) -> dict[str, float]:
        """Disputes settled in counted year ``year`` by anyone, and their share of the year's finds.

        The share is a flow ratio, as administrative statistics count it (化解成功率: disputes
        resolved in the year over disputes screened in the year), so it may exceed 1 in principle.
        """
        book = self.book
        settled = book.outcome[: book.n] == Outcome.SETTLED
        hours = book.end_day[: book.n][settled].astype(np.int64) * 24 - self.warmup_hours
        resolved = float(((hours >= 0) & (hours // HOURS_PER_YEAR == year)).sum())
        found = self.recorder.counts.get("disputes_found")
        n_found = 0.0 if found is None else float(found[year])
        return {"disputes_resolved": resolved,
                "disputes_resolved_rate": resolved / n_found if n_found else float("nan")}
