"""Mediation (调解) as a discrete-event service: committees with finite mediators and queues.

Three levels linked as in Jincheng's "三调联动" (001_b31210ca73dc4a0f.txt): people's
mediation committees (人民调解委员会) in every village and community, judicial-office
mediators (司法所) in every town, and court pre-litigation mediation (诉前调解) in every
county. A mediation session takes a mediator for a while; success falls with the dispute's
stage; an agreement is honoured or broken, and a broken one re-enters as a new dispute.

Police-accompanied mediation (随警调解, :class:`MediationAtScene`) is mediation too: police
who attend a dispute call, with a people's mediator, try to settle it there and then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import simpy
from pydantic import Field

from sim.disputes.book import DisputeBook, Resolver
from sim.events.engine import Staff
from sim.params import Params
from sim.rng import event_uniform, log_logistic_one

__all__ = ["MEDIATION_LEVELS", "MediationParams", "MediationService", "MediationAtScene"]

MEDIATION_LEVELS: tuple[str, ...] = ("village", "town", "county")


class MediationParams(Params):
    """Mediation capacity and success (assumed unless noted; the sensitive ones calibrated, :mod:`sim.calibration`)."""

    mediators: list[float] = Field(
        default=[1.0, 2.0, 4.0], min_length=3, max_length=3,
        description="Mediators available at once per village/community committee, town judicial "
        "office and county court (county scales with the city).",
    )
    session_median_h: list[float] = Field(
        default=[3.0, 6.0, 12.0], min_length=3, max_length=3,
        description="Median mediator hours per case by level.",
    )
    success_by_stage: list[float] = Field(
        default=[0.85, 0.75, 0.55], min_length=3, max_length=3,
        description="Chance a session settles a dispute at the minor, conflict and call stage. Default "
        "from field studies, where ~70–85 % of mediated disputes settle (McGillis 1997, community "
        "mediation); with it about 78 % of Daqing's sessions settle. Administrative figures are higher "
        "(Jincheng ≥ 98 %, Daqing 90.1 %) because they count per dispute at any level, after informal "
        "settling and declines (``counting``, ``informal_settle_prob``, ``decline_prob``). "
        "[0.95, 0.85, 0.65] in the pre-evidence model.",
    )
    level_success_factor: list[float] = Field(
        default=[1.0, 1.0, 0.95], min_length=3, max_length=3,
        description="Success multiplier by level (harder cases reach higher levels).",
    )
    honour_prob: float = Field(
        0.97, ge=0, le=1, description="Chance an agreement is honoured (Jincheng ≥ 99 %)."
    )
    informal_settle_prob: float = Field(
        0.77, ge=0, le=1, description="Chance a dispute referred to a village/community committee is "
        "settled informally by the committee (a talk, no formal case opened) before any formal session; "
        "it is counted in ``disputes_settled_informally``, not as a mediated case. 0 (the pre-evidence model): "
        "every referred dispute becomes a formal case. Default 0.77 — assumed, set so that Jincheng's "
        "formal cases come near its ~5 000 a year (001_b31210ca73dc4a0f.txt: >15 000 person-visits of "
        "screening, ~5 000 disputes mediated); Chinese people's-mediation statistics count only cases with a "
        "file (卷宗).",
    )
    decline_prob: float = Field(
        0.25, ge=0, le=1, description="Chance the parties to a referred dispute decline mediation, "
        "informal talk and formal case alike (people's mediation is voluntary: 人民调解法 2010, art. 3, "
        "自愿). The dispute stays open: it may lapse, escalate to a call or violence, or be settled by "
        "police; a governance ticket for it ends unresolved. Declined disputes never become formal cases, "
        "one reason committees report higher success (Jincheng ≥ 98 %) than field studies (70–85 %). "
        "0 in the pre-evidence model. Default 0.25 — assumed, set so that Daqing's resolved share of found "
        "disputes (``disputes_resolved_rate``) comes near its reported 90.1 % (002_5234f462d53c6514.txt, "
        "化解成功率): at scale 0.1 it is 95.8 % with 0.1, 92.3 % with 0.2.",
    )
    informal_honour_prob: float = Field(
        0.95, ge=0, le=1, description="Chance an informal settlement holds (assumed, like an "
        "on-the-spot settlement)."
    )
    counting: Literal["session", "dispute"] = Field(
        "session", description="What ``disputes_mediated`` and ``mediation_success_rate`` count: "
        "'session' — every formal session at every level (a dispute that fails at village level and "
        "settles at town level is two sessions, one failed; the pre-evidence model), or 'dispute' — "
        "each formal case once, successful if mediation settled it at any level (how committees "
        "report 调解成功率). ``mediation_cases_formal`` and ``mediation_success_rate_formal`` always "
        "count by dispute.",
    )


class MediationService:
    """Mediation committees at three levels.

    Args:
        env: SimPy environment (minutes).
        city: The city.
        params: Mediation parameters.
        scale: City scale (county courts' mediators scale with it).
        seed: The run's seed.
        book: The dispute book.
        on_result: Called as ``on_result(row, level, success, honoured)`` after each session.
        on_informal: Called as ``on_informal(row, honoured)`` after each informal settlement.
    """

    def __init__(self, env: simpy.Environment, city, params: MediationParams, scale: float, seed: int,
                 book: DisputeBook, on_result, on_informal=None):
        self.env = env
        self.on_informal = on_informal
        self._informal_tried: set[int] = set()  # rows tried informally (a dispute gets one try)
        self.city = city
        self.p = params
        self.seed = seed
        self.book = book
        self.on_result = on_result
        m = params.mediators
        self.committees = [
            [Staff(env, capacity=max(1, round(m[0]))) for _ in city.community_town],
            [Staff(env, capacity=max(1, round(m[1]))) for _ in city.town_county],
            [Staff(env, capacity=max(1, round(m[2] * scale))) for _ in city.county_names],
        ]
        self.success_boost = np.zeros((len(MEDIATION_LEVELS), len(city.town_county)))
        # Each cell's committee at each level and its town, as Python lists (cheap to index per session).
        self._committee_by_cell = [[level[int(i)] for i in index] for level, index in zip(
            self.committees, (city.community, city.town, city.county), strict=True)]
        self._town_of_cell = city.town.tolist()

    def committee(self, level: int, cell: int) -> Staff:
        return self._committee_by_cell[level][cell]

    def mediate(self, row: int, level: int):
        """One session at ``level``. Returns True (settled), False (failed) or None (nothing to do)."""
        book, env, p = self.book, self.env, self.p
        if level >= len(MEDIATION_LEVELS):
            return False
        if not book.is_active(row):
            return None
        if p.decline_prob > 0 and event_uniform(self.seed, "mediation.decline", int(book.uid[row])) < p.decline_prob:
            book.handling[row] = False  # the parties will not mediate, informally or formally, at any level
            return False
        if level == 0 and p.informal_settle_prob > 0 and self.informally(row):
            return True
        book.handling[row] = True
        cell = int(book.cell[row])
        with self._committee_by_cell[level][cell].request() as req:
            yield req
            if not book.is_active(row):
                return None
            uid = int(book.uid[row])
            u = event_uniform(self.seed, "mediation.session", uid, level, slot=0)
            yield env.timeout(log_logistic_one(u, p.session_median_h[level] * 60.0, 3.0))
        if not book.is_active(row):
            return None
        stage = min(int(book.stage[row]), 2)
        town = self._town_of_cell[cell]
        prob = min(1.0, p.success_by_stage[stage] * p.level_success_factor[level] + self.success_boost[level, town])
        ok = event_uniform(self.seed, "mediation.success", uid, level, slot=1) < prob
        honoured = event_uniform(self.seed, "mediation.honour", uid, level, slot=2) < p.honour_prob
        day = int(env.now // 1440)
        if ok:
            book.settle(row, day, Resolver.MEDIATION, honoured)
        else:
            book.handling[row] = False
        self.on_result(row, level, ok, honoured)
        return ok

    def informally(self, row: int) -> bool:
        """Try to settle a referred dispute informally, without a formal case (once per dispute).

        Returns:
            Whether it was settled; counted with ``on_informal(row, honoured)``.
        """
        book, p = self.book, self.p
        if row in self._informal_tried:
            return False
        self._informal_tried.add(row)
        uid = int(book.uid[row])
        if event_uniform(self.seed, "mediation.informal", uid) >= p.informal_settle_prob:
            return False
        honoured = event_uniform(self.seed, "mediation.informal_holds", uid) < p.informal_honour_prob
        book.settle(row, int(self.env.now // 1440), Resolver.MEDIATION, honoured)
        if self.on_informal is not None:
            self.on_informal(row, honoured)
        return True

    def ladder(self, row: int):
        """Mediation from the village up until a level settles it (without governance centres)."""
        for level in range(len(MEDIATION_LEVELS)):
            result = yield from self.mediate(row, level)
            if result is None or result:
                return


@dataclass(frozen=True)
class MediationAtScene:
    """Police-accompanied mediation (随警调解): police at a dispute call settle it at the scene.

    Attributes:
        success_by_stage: Chance police and an accompanying mediator settle it at the minor,
            conflict and call stage.
        honour_prob: Chance the settlement holds.
    """

    success_by_stage: Sequence[float]
    honour_prob: float

    def settle(self, book: DisputeBook, row: int, seed: int, day: int) -> bool:
        """Try to settle dispute ``row`` at the scene on ``day``; returns whether it was settled."""
        stage = min(int(book.stage[row]), 2)
        uid = int(book.uid[row])
        if event_uniform(seed, "police_mediation.success", uid) >= self.success_by_stage[stage]:
            return False
        holds = event_uniform(seed, "police_mediation.holds", uid) < self.honour_prob
        book.settle(row, day, Resolver.POLICE, holds)
        return True
