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

import numpy as np
import simpy
from pydantic import Field

from sim.disputes.book import DisputeBook, Resolver
from sim.events.engine import Staff
from sim.mechanisms.crime import log_logistic_one
from sim.params import Params
from sim.rng import event_uniform

__all__ = ["MEDIATION_LEVELS", "MediationParams", "MediationService", "MediationAtScene"]

MEDIATION_LEVELS: tuple[str, ...] = ("village", "town", "county")


class MediationParams(Params):
    """Mediation capacity and success (assumed unless noted; calibrated in issue 5)."""

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
        default=[0.95, 0.85, 0.65], min_length=3, max_length=3,
        description="Chance a session settles a dispute at the minor, conflict and call stage "
        "(Jincheng reports ≥ 98 % success, Daqing 90.1 %).",
    )
    level_success_factor: list[float] = Field(
        default=[1.0, 1.0, 0.95], min_length=3, max_length=3,
        description="Success multiplier by level (harder cases reach higher levels).",
    )
    honour_prob: float = Field(
        0.97, ge=0, le=1, description="Chance an agreement is honoured (Jincheng ≥ 99 %)."
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
    """

    def __init__(self, env: simpy.Environment, city, params: MediationParams, scale: float, seed: int,
                 book: DisputeBook, on_result):
        self.env = env
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
