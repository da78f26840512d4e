"""The dispute system (sim.disputes.system): what interventions register, and where found disputes go.

The system runs on its own SimPy clock over the scale-0.2 Suizhou-like city, with a
recorder of one counted year; every day is counted (no warm-up).
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.disputes import (
    DiscoverySource,
    DisputeParams,
    DisputeSystem,
    GovernanceParams,
    MediationAtScene,
    MediationParams,
    Resolver,
    Stage,
)
from sim.mechanisms.calls import Call
from sim.metrics import MetricsRecorder


def _system(city_and_residents, seed: int = 3) -> DisputeSystem:
    city, residents = city_and_residents
    return DisputeSystem(DisputeParams(), city, residents, simpy.Environment(), MetricsRecorder(1),
                         seed, 0.2, assault_report_prob=0.6, year_index=lambda hour: 0, warmup_hours=0)


def _days(system: DisputeSystem, days: int) -> None:
    for day in range(days):
        system.env.run(until=day * 1440 + 1)
        system.day(day * 24, 0)


def _counts(system: DisputeSystem) -> dict[str, float]:
    return {k: v[0] for k, v in system.recorder.counts.items()}


def test_without_anything_registered_disputes_arise_and_nobody_finds_them(city_and_residents):
    s = _system(city_and_residents)
    _days(s, 20)
    counts = _counts(s)
    assert counts["disputes_new"] > 0
    assert counts.get("disputes_found", 0.0) == 0 and not s.book.found[: s.book.n].any()


def test_a_registered_discovery_source_finds_disputes_and_settles_minor_ones_on_the_spot(city_and_residents):
    s = _system(city_and_residents)
    hazard = np.full(s.city.n_cells, 0.5)
    s.add_discovery_source(DiscoverySource("grid_worker", hazard, on_spot_prob=1.0, resolver=Resolver.ON_THE_SPOT,
                                           honour_prob=1.0))
    _days(s, 20)
    counts = _counts(s)
    assert counts["disputes_found"] == counts["disputes_found_by_grid_worker"] > 0
    settled = s.book.resolver[: s.book.n] == Resolver.ON_THE_SPOT
    assert settled.sum() == counts["disputes_settled_on_spot"] > 0


def test_found_disputes_become_tickets_when_governance_centres_are_open(city_and_residents):
    s = _system(city_and_residents)
    s.open_governance_centres(GovernanceParams())
    s.add_discovery_source(DiscoverySource("grid_worker", np.full(s.city.n_cells, 0.5), on_spot_prob=0.0,
                                           resolver=Resolver.ON_THE_SPOT))
    _days(s, 5)
    tickets = s.governance.tickets
    assert len(tickets) == _counts(s)["disputes_found"] > 0
    assert all(t.kind == "dispute" and s.book.found[t.dispute_row] for t in tickets)


def test_tickets_are_ignored_where_there_are_no_centres(city_and_residents):
    s = _system(city_and_residents)
    s.report_ticket("hazard", 0, 1)
    assert s.governance is None


def test_without_centres_found_disputes_climb_the_mediation_ladder(city_and_residents):
    s = _system(city_and_residents)
    # No informal settling (the default settles most referrals before any session) and no parties who decline:
    # every referral is a case.
    s.open_mediation(MediationParams(mediators=[1000.0, 1000.0, 1000.0], informal_settle_prob=0.0, decline_prob=0.0))
    s.add_discovery_source(DiscoverySource("grid_worker", np.full(s.city.n_cells, 0.5), on_spot_prob=0.0,
                                           resolver=Resolver.ON_THE_SPOT))
    _days(s, 5)
    s.env.run(until=10 * 1440)
    counts = _counts(s)
    assert counts["disputes_found"] > 0 and counts["disputes_mediated"] > 0
    assert counts["mediation_cases_formal"] == counts["disputes_found"]
    assert counts["disputes_mediated"] > counts["mediation_cases_formal"]  # failed sessions went up a level
    assert (s.book.resolver[: s.book.n] == Resolver.MEDIATION).sum() == counts["mediation_successes"]


@pytest.mark.parametrize("mediation_first", [True, False])
def test_a_mediation_boost_applies_whether_registered_before_or_after_mediation_opens(city_and_residents,
                                                                                      mediation_first):
    s = _system(city_and_residents)
    towns = np.array([0, 2])
    if mediation_first:
        s.open_mediation(MediationParams())
    s.boost_mediation(1, towns, 0.05)
    if not mediation_first:
        s.open_mediation(MediationParams())
    expected = np.zeros_like(s.mediation.success_boost)
    expected[1, towns] = 0.05
    np.testing.assert_array_equal(s.mediation.success_boost, expected)


def test_fully_managed_households_have_no_new_disputes(city_and_residents):
    s = _system(city_and_residents)
    s.manage_households(np.arange(int(s.city.households.sum())), dispute_reduction=1.0)
    _days(s, 10)
    assert _counts(s).get("disputes_new", 0.0) == 0


def _dispute_call(system: DisputeSystem, row: int) -> Call:
    return Call(call_id=row, time=system.env.now, cell=int(system.book.cell[row]), county=0, priority=2,
                kind="dispute", dispute_row=row)


def test_police_at_a_dispute_call_find_it_and_settle_it_at_the_scene(city_and_residents):
    s = _system(city_and_residents)
    s.mediate_at_scene(MediationAtScene(success_by_stage=[1.0, 1.0, 1.0], honour_prob=1.0))
    _days(s, 5)
    row = int(s.book.active()[0])
    s.police_attend(_dispute_call(s, row), 0)
    assert s.book.found[row] and s.book.resolver[row] == Resolver.POLICE
    counts = _counts(s)
    assert counts["disputes_found_by_call"] == counts["disputes_resolved_by_police"] == 1


def test_police_without_mediation_at_the_scene_refer_the_dispute_on(city_and_residents):
    s = _system(city_and_residents)
    s.open_governance_centres(GovernanceParams())
    _days(s, 5)
    row = int(s.book.active()[0])
    assert s.book.stage[row] <= Stage.CALL
    s.police_attend(_dispute_call(s, row), 0)
    assert s.book.is_active(row) and s.book.handling[row]
    assert [t.dispute_row for t in s.governance.tickets] == [row]
