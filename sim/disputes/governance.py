"""Governance centres (综治中心) handling tickets in a closed loop, as a SimPy pipeline.

The procedure, as Xing'an League describes it (004_d1fb0e0d9599ba9c.txt): discover and
report → unified acceptance → command and dispatch → disposal and feedback → verification
→ evaluation and archive. Each stage takes a service time and a member of the centre's
staff (finite capacity, so tickets queue). Four levels — village/community, town/street,
county, city — follow Suizhou's principle "small matters stay in the village, big matters
stay in the town, disputes are settled within the county, major risks are controlled at
city level" (003_d0d6d615d3c4e2fc.txt): a ticket goes up one level when its disposal there
fails, or when its queue at that level is so long that disposal cannot start before the
level's deadline. Every ticket ends archived exactly once, as
completed (resolved), moot (its dispute ended by itself meanwhile) or unresolved.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import simpy
from pydantic import Field

from sim.events.engine import Staff
from sim.params import Params
from sim.rng import event_uniform, log_logistic_one

__all__ = ["LEVELS", "STAGES", "GovernanceParams", "Ticket", "Staff", "GovernancePipeline"]

LEVELS: tuple[str, ...] = ("village", "town", "county", "city")
STAGES: tuple[str, ...] = ("report", "accept", "dispatch", "dispose", "verify", "archive")


class GovernanceParams(Params):
    """Capacity and timing of the centres (all assumed unless noted)."""

    staff_per_centre: list[float] = Field(
        default=[1.0, 3.0, 8.0, 26.0], min_length=4, max_length=4,
        description="Staff handling tickets at a village/community, town, county and city centre "
        "(city: 26 at Xing'an League's centre, 004_d1fb0e0d9599ba9c.txt). County and city staff "
        "scale with the city.",
    )
    service_min: dict[str, float] = Field(
        default={"report": 10.0, "accept": 15.0, "dispatch": 20.0, "dispose": 90.0, "verify": 30.0,
                 "archive": 10.0},
        description="Staff minutes per stage.",
    )
    deadline_h: list[float] = Field(
        default=[72.0, 168.0, 336.0, 720.0], min_length=4, max_length=4,
        description="Hours a level has to resolve a ticket before it goes up.",
    )
    own_settlement_honour_prob: float = Field(
        0.95, ge=0, le=1, description="Chance a dispute settled by a centre's own disposal (no mediation "
        "service) stays settled."
    )
    resolve_prob: list[float] = Field(
        default=[0.75, 0.7, 0.7, 0.8], min_length=4, max_length=4,
        description="Chance a level resolves a non-dispute ticket (hazard, special-population "
        "problem) at disposal.",
    )
    field_work_median_h: float = Field(
        0.0, ge=0, description="Median hours the department a non-dispute ticket is dispatched to takes "
        "to carry out the disposal in the field (repair a hazard, visit a special-population member), "
        "after the centre's own disposal step and without holding its staff; log-logistic, shape "
        "``field_work_shape``. Default 0: done at once (the pre-evidence model). Set per city in the "
        "scenario files (Daqing 72 h, Jincheng 24 h) — assumed, fit to their reported completion (Daqing "
        "81 %, 002_5234f462d53c6514.txt); grid-management rules give departments days, not hours, per item.",
    )
    field_work_shape: float = Field(
        2.0, gt=0, description="Shape of the log-logistic field-work time (assumed; a long right tail: a "
        "few items wait weeks for a department)."
    )
    completion_deadline_h: float | None = Field(
        None, gt=0, description="Time limit from report [hours] (办理时限): a ticket disposed of or "
        "completed after it counts as not disposed of / not completed in ``tickets_disposed_rate`` and "
        "``tickets_completed_rate`` (按期办结, on-time completion, as platforms report 办结率). "
        "Default None: no limit, every ticket completed by the end of the run counts (the pre-evidence "
        "model). Set in the Daqing and Jincheng scenario files: 168 h (7 days; assumed: a common time "
        "limit for ordinary grid items).",
    )


@dataclass(slots=True)
class Ticket:
    """One governance ticket (网格事项)."""

    uid: int
    kind: str  # "dispute", "hazard" or "special_population"
    cell: int
    created: float  # minutes
    dispute_row: int = -1
    level: int = 0
    escalations: int = 0
    disposed: bool = False
    state: str = "open"  # open → completed | moot | unresolved
    archived_at: float = -1.0
    disposed_at: float = -1.0  # minutes: first disposal done (field work included)


class GovernancePipeline:
    """The four levels of centres and the ticket process.

    Args:
        env: SimPy environment (minutes).
        city: The city (centres per community, town, county and one for the city).
        params: Governance parameters.
        scale: City scale (county and city staff scale with it).
        seed: The run's seed.
        dispose: ``dispose(ticket, level)`` → generator returning True if resolved; for
            disputes this runs mediation. Defaults to a draw with ``resolve_prob``.
        on_archive: Called with each archived ticket.
    """

    def __init__(self, env: simpy.Environment, city, params: GovernanceParams, scale: float, seed: int,
                 dispose: Callable[[Ticket, int], Generator] | None = None,
                 on_archive: Callable[[Ticket], None] | None = None):
        self.env = env
        self.city = city
        self.p = params
        self.seed = seed
        self.dispose = dispose
        self.on_archive = on_archive
        staff = params.staff_per_centre

        def centres(n: int, s: float) -> list[Staff]:
            return [Staff(env, capacity=max(1, round(s))) for _ in range(n)]

        self.centres = [
            centres(len(city.community_town), staff[0]),
            centres(len(city.town_county), staff[1]),
            centres(len(city.county_names), staff[2] * scale),
            centres(1, staff[3] * scale),
        ]
        self.tickets: list[Ticket] = []
        # Staff minutes of each run of stages one member of staff works in a row.
        work = params.service_min
        self._minutes = {stages: sum(work[s] for s in stages) for stages in (
            ("report", "accept", "dispatch"), ("accept", "dispatch"), ("dispose",), ("verify", "archive"),
            ("archive",))}
        # Each cell's centre at each level, as Python lists (cheap to index per ticket).
        self._centre_by_cell = [[level[int(i)] for i in index] for level, index in zip(
            self.centres, (city.community, city.town, city.county, [0] * len(city.community)), strict=True)]

    def centre_of(self, level: int, cell: int) -> Staff:
        return self._centre_by_cell[level][cell]

    def submit(self, ticket: Ticket) -> None:
        """Report a ticket; it is processed from the village level up."""
        self.tickets.append(ticket)
        self.env.process(self._handle(ticket))

    def _stage(self, centre: Staff, minutes: float, deadline: float | None = None):
        """One member of staff works ``minutes`` (a run of stages in a row, e.g. intake: accept, dispatch).

        Returns False, without doing the work, if staff only became free after ``deadline``.
        """
        with centre.request() as req:
            yield req
            if deadline is not None and self.env.now > deadline:
                return False
            yield self.env.timeout(minutes)
        return True

    def _handle(self, t: Ticket):
        env, p, minutes = self.env, self.p, self._minutes
        for level in range(len(LEVELS)):
            t.level = level
            centre = self._centre_by_cell[level][t.cell]
            deadline = env.now + p.deadline_h[level] * 60.0
            intake = ("report", "accept", "dispatch") if level == 0 else ("accept", "dispatch")
            yield from self._stage(centre, minutes[intake])
            last = level == len(LEVELS) - 1
            in_time = yield from self._stage(centre, minutes[("dispose",)], deadline=None if last else deadline)
            if not in_time:
                t.escalations += 1  # could not be disposed of in time here: up one level
                continue
            t.disposed = True
            if self.dispose is not None:
                result = yield from self.dispose(t, level)
            else:
                result = event_uniform(self.seed, "governance.resolve", t.uid, level) < p.resolve_prob[level]
            if t.kind != "dispute" and p.field_work_median_h > 0:
                # The department's field work: the ticket waits, the centre's staff do not.
                u = event_uniform(self.seed, "governance.field_work", t.uid, level)
                yield env.timeout(log_logistic_one(u, p.field_work_median_h * 60.0, p.field_work_shape))
            if t.disposed_at < 0:
                t.disposed_at = env.now
            if result is None:  # nothing left to resolve (the dispute ended by itself)
                yield from self._stage(centre, minutes[("archive",)])
                return self._archive(t, "moot")
            if result:
                yield from self._stage(centre, minutes[("verify", "archive")])
                return self._archive(t, "completed")
            if level < len(LEVELS) - 1:
                t.escalations += 1
        yield from self._stage(centre, minutes[("archive",)])
        return self._archive(t, "unresolved")

    def _archive(self, t: Ticket, state: str) -> None:
        if t.state != "open":
            raise RuntimeError(f"ticket {t.uid} archived twice")
        t.state = state
        t.archived_at = self.env.now
        if self.on_archive is not None:
            self.on_archive(t)
