"""Mediation (sim.disputes.mediation, sim.interventions.mediation) and police-accompanied
mediation (sim.interventions.police_mediation).

Service tests run a :class:`MediationService` on its own SimPy clock against a real
:class:`DisputeBook` on the scale-0.2 Suizhou-like city; books built with the same seed hold
the same disputes, and a dispute's session draws depend only on the dispute, so two services
that differ in one parameter see the same sessions. Model tests compare runs at scale 0.05
under common random numbers over several seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from governance_fixtures import (
    ALL_FOUR,
    GOVERNANCE,
    GRID_WORKERS,
    MEDIATION,
    POLICE_MEDIATION,
    SEEDS,
    YEAR,
    filled_book,
)

from sim.disputes import MEDIATION_LEVELS, MediationParams, MediationService, Outcome, Resolver, Stage

PLENTY = [1000.0, 1000.0, 1000.0]  # mediators: nobody waits


class Sessions:
    """A mediation service over a dispute book, and every session result it reported.

    Formal sessions only: informal settling and declining are off (``informal_settle_prob=0``,
    ``decline_prob=0``) unless a test sets them, so every referred dispute reaches a session
    whatever the defaults.
    """

    def __init__(self, city, book, **params):
        self.env = simpy.Environment()
        self.book = book
        self.results: list[tuple[int, int, bool, bool, float]] = []  # row, level, success, honoured, minute
        self.informal: list[tuple[int, bool, float]] = []  # row, honoured, minute
        params = MediationParams(**{"mediators": PLENTY, "informal_settle_prob": 0.0, "decline_prob": 0.0, **params})
        self.service = MediationService(self.env, city, params, scale=0.2, seed=7, book=book,
                                        on_result=self._record, on_informal=self._record_informal)

    def _record(self, row, level, success, honoured):
        self.results.append((row, level, success, honoured, self.env.now))

    def _record_informal(self, row, honoured):
        self.informal.append((row, honoured, self.env.now))

    def mediate(self, rows, level: int = 0) -> Sessions:
        for r in rows:
            self.env.process(self.service.mediate(int(r), level))
        self.env.run()
        return self

    def ladder(self, rows) -> Sessions:
        for r in rows:
            self.env.process(self.service.ladder(int(r)))
        self.env.run()
        return self


@pytest.fixture(scope="module")
def city(city_and_residents):
    return city_and_residents[0]


@pytest.fixture
def book(city_and_residents):
    """Four months of disputes (about 3 400), none of them handled yet."""
    return filled_book(*city_and_residents, 120)


# ---------------------------------------------------------- one session
def test_success_falls_with_the_disputes_stage(city_and_residents, city):
    settled = []
    for stage in (Stage.MINOR, Stage.CONFLICT, Stage.CALL):
        book = filled_book(*city_and_residents, 120)
        rows = np.arange(book.n)
        book.stage[rows] = stage
        Sessions(city, book).mediate(rows)
        settled.append(book.outcome[rows] == Outcome.SETTLED)
    rates = [s.mean() for s in settled]
    for rate, expected in zip(rates, MediationParams().success_by_stage, strict=True):
        assert rate == pytest.approx(expected, abs=0.03)
    # The same draw for each dispute, lower odds: a dispute settled at a later stage is settled earlier too.
    assert (settled[2] <= settled[1]).all() and (settled[1] <= settled[0]).all()


def test_a_settled_dispute_ends_with_mediation_as_its_resolver(book, city):
    rows = np.arange(200)
    s = Sessions(city, book).mediate(rows)
    ok = np.array([r[2] for r in s.results])
    done = np.array([r[0] for r in s.results])
    assert len(done) == 200 and ok.any()
    assert (book.outcome[done[ok]] == Outcome.SETTLED).all()
    assert (book.resolver[done[ok]] == Resolver.MEDIATION).all()
    assert (book.end_day[done[ok]] == [int(r[4] // 1440) for r in s.results if r[2]]).all()


def test_a_failed_mediation_leaves_the_dispute_active_and_no_longer_handled(book, city):
    rows = np.arange(50)
    s = Sessions(city, book, success_by_stage=[0.0, 0.0, 0.0], mediators=[1.0, 1.0, 1.0])
    for r in rows:
        s.env.process(s.service.mediate(int(r), 0))
    s.env.run(until=1)
    assert book.handling[rows].all()  # handled while waiting for, and in, a session
    s.env.run()
    assert len(s.results) == 50 and not any(r[2] for r in s.results)
    assert (book.outcome[rows] == Outcome.ACTIVE).all()
    assert not book.handling[rows].any()


def test_there_is_nothing_to_mediate_for_an_ended_dispute_or_above_the_county(book, city):
    book.end(np.array([0]), Outcome.LAPSED, 10)
    s = Sessions(city, book)
    for row, level, expected in ((0, 0, None), (1, len(MEDIATION_LEVELS), False)):
        with pytest.raises(StopIteration) as stop:
            next(s.service.mediate(row, level))
        assert stop.value.value is expected
    assert s.results == [] and not book.handling[1]


def test_agreements_are_honoured_at_about_honour_prob_and_broken_ones_re_enter(book, city):
    rows = np.arange(book.n)
    s = Sessions(city, book, honour_prob=0.8, success_by_stage=[1.0, 1.0, 1.0]).mediate(rows)
    settled = [r for r in s.results if r[2]]
    honoured = np.array([r[3] for r in settled])
    assert len(settled) > 3000
    assert honoured.mean() == pytest.approx(0.8, abs=4 * np.sqrt(0.8 * 0.2 / len(settled)))
    # Every broken agreement flares up again, in the same household.
    broken = np.array([r[0] for r in settled if not r[3]])
    later = book.arise(5000)
    again = later[book.reentries[later] > 0]
    assert sorted(book.household[again]) == sorted(book.household[broken])


def test_informal_settling_ends_a_referral_at_once_without_a_session(book, city):
    rows = np.arange(400)
    s = Sessions(city, book, informal_settle_prob=0.7, informal_honour_prob=0.5, success_by_stage=[0.0, 0.0, 0.0])
    s.mediate(rows)
    informal = np.array([r[0] for r in s.informal])
    assert 0.6 < len(informal) / len(rows) < 0.8
    assert all(r[2] == 0 for r in s.informal)  # at the referral, nobody's time taken
    assert (book.outcome[informal] == Outcome.SETTLED).all() and (book.resolver[informal] == Resolver.MEDIATION).all()
    assert np.mean([r[1] for r in s.informal]) == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / len(informal)))
    # The rest had a formal session (which failed).
    assert sorted(r[0] for r in s.results) == list(np.setdiff1d(rows, informal))


def test_parties_who_decline_have_no_session_at_any_level_and_stay_open(book, city):
    rows = np.arange(400)
    s = Sessions(city, book, decline_prob=0.3, informal_settle_prob=0.5, success_by_stage=[1.0, 1.0, 1.0]).ladder(rows)
    talked = {r[0] for r in s.results} | {r[0] for r in s.informal}
    declined = np.setdiff1d(rows, sorted(talked))
    assert 0.24 < len(declined) / len(rows) < 0.36
    # Declined before any talk: neither informal settling nor a session, at any level; not being handled.
    assert (book.outcome[declined] == Outcome.ACTIVE).all() and not book.handling[declined].any()
    assert (book.outcome[sorted(talked)] == Outcome.SETTLED).all()
    # The same parties decline at every level and in every service with the same seed.
    again = Sessions(city, book, decline_prob=0.3).mediate(declined, level=2)
    assert again.results == [] and again.informal == []


def test_the_ladder_climbs_village_town_county_until_a_level_settles(book, city):
    rows = np.arange(30)
    # Villages never settle, towns always do.
    s = Sessions(city, book, success_by_stage=[1.0, 1.0, 1.0], level_success_factor=[0.0, 1.0, 1.0]).ladder(rows)
    for r in rows:
        mine = [x for x in s.results if x[0] == r]
        assert [x[1] for x in mine] == [0, 1] and [x[2] for x in mine] == [False, True]
        assert mine[0][4] < mine[1][4]
    assert (book.outcome[rows] == Outcome.SETTLED).all()


def test_the_ladder_ends_at_the_county_when_no_level_settles(book, city):
    rows = np.arange(30)
    s = Sessions(city, book, success_by_stage=[0.0, 0.0, 0.0]).ladder(rows)
    for r in rows:
        mine = [x for x in s.results if x[0] == r]
        assert [x[1] for x in mine] == [0, 1, 2]
        assert np.all(np.diff([x[4] for x in mine]) > 0)
    assert (book.outcome[rows] == Outcome.ACTIVE).all() and not book.handling[rows].any()


def test_more_mediators_shorten_the_wait(city_and_residents, city):
    def finish_times(mediators: float) -> np.ndarray:
        book = filled_book(*city_and_residents, 120)
        community = city.community[book.cell[: book.n]]
        busiest = np.bincount(community).argmax()
        rows = np.flatnonzero(community == busiest)[:8]
        s = Sessions(city, book, mediators=[mediators, 1.0, 1.0]).mediate(rows)
        at = {r[0]: r[4] for r in s.results}
        return np.array([at[r] for r in rows])

    alone, three, eight = finish_times(1.0), finish_times(3.0), finish_times(8.0)
    # Eight mediators: each of the eight sessions starts at once. One: each waits for all before it.
    np.testing.assert_allclose(alone, np.cumsum(eight))
    assert three.mean() < 0.6 * alone.mean()
    assert three.max() < alone.max()


# -------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def all_four(simulate):
    return simulate(*ALL_FOUR, days=YEAR).model


def test_mediation_rates_are_shares_of_sessions(all_four):
    row = all_four.year_rows()[0]
    assert row["disputes_mediated"] > 100
    assert 0.5 < row["mediation_success_rate"] <= 1
    assert 0.5 < row["agreements_honoured_rate"] <= 1
    # Mediation settles a dispute in a successful session or, by default, informally at the
    # committee before any session; each settlement is one or the other.
    settled = (all_four.disputes.book.resolver[: all_four.disputes.book.n] == Resolver.MEDIATION).sum()
    assert row["disputes_settled_informally"] > 0
    sessions_ok = row["mediation_success_rate"] * row["disputes_mediated"]
    assert sessions_ok + row["disputes_settled_informally"] == pytest.approx(settled)


@pytest.fixture(scope="module")
def mediator_pairs(simulate):
    """(one, eight) mediators per committee with 300-hour sessions, grid workers finding disputes; per seed.

    No informal settling, so every found dispute needs a mediator's session.
    """
    slow = "interventions.mediation.service.session_median_h=[300, 300, 300]"
    staff = "interventions.mediation.service.mediators=[{0}, {0}, {0}]"
    formal = "interventions.mediation.service.informal_settle_prob=0"
    return [tuple(simulate(GRID_WORKERS, MEDIATION, slow, formal, staff.format(n), seed=s, days=182).model
                  for n in (1, 8)) for s in SEEDS]


def test_more_mediators_settle_more_disputes_before_they_reach_a_call(mediator_pairs):
    for few, many in mediator_pairs:
        a, b = few.year_rows()[0], many.year_rows()[0]
        assert a["disputes_found"] > 500
        assert b["disputes_mediated"] > 1.3 * a["disputes_mediated"]
        assert b["disputes_to_call"] <= a["disputes_to_call"]
        waiting = [sum(len(r.queue) for level in m.disputes.mediation.committees for r in level) for m in (few, many)]
        assert waiting[1] < 0.5 * waiting[0]
    assert sum(m.year_rows()[0]["disputes_to_call"] for _, m in mediator_pairs) < \
        0.97 * sum(m.year_rows()[0]["disputes_to_call"] for m, _ in mediator_pairs)


# ------------------------------------------------ police-accompanied mediation
@pytest.fixture(scope="module")
def police_pairs(simulate):
    """(without, with) police-accompanied mediation, a year each, for each seed."""
    return [(simulate(seed=s, days=YEAR).model, simulate(POLICE_MEDIATION, seed=s, days=YEAR).model) for s in SEEDS]


def test_police_mediation_settles_disputes_at_calls_and_cuts_their_violence(police_pairs):
    violent = np.zeros(2)
    for without, with_ in police_pairs:
        a, b = without.year_rows()[0], with_.year_rows()[0]
        assert b["disputes_resolved_by_police"] > 0.3 * b["disputes_found"]
        book = with_.disputes.book
        assert b["disputes_resolved_by_police"] == (book.resolver[: book.n] == Resolver.POLICE).sum()
        assert b["disputes_violent"] < a["disputes_violent"]
        assert b["recorded_assault"] <= a["recorded_assault"]
        violent += a["disputes_violent"], b["disputes_violent"]
    assert violent[1] < 0.75 * violent[0]


@pytest.mark.parametrize("switches, days", [((), YEAR), ((GRID_WORKERS, GOVERNANCE, MEDIATION), 182)],
                         ids=["nothing", "package"])
def test_without_police_mediation_or_home_visits_police_settle_no_disputes(simulate, switches, days):
    m = simulate(*switches, days=days).model
    assert {iv.key for iv in m.interventions}.isdisjoint({"police_mediation", "home_visits"})
    assert m.year_rows()[0]["disputes_resolved_by_police"] == 0
    assert not (m.disputes.book.resolver == Resolver.POLICE).any()
