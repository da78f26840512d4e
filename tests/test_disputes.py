"""Disputes (sim.disputes.book, sim.disputes.system) and the grid workers who find them (grid_workers).

Mechanism tests step a :class:`DisputeBook` day by day on the scale-0.2 Suizhou-like city.
Model tests read full-year runs at scale 0.05 with interventions on from the first hour;
runs that differ only in an intervention share their random numbers (the same disputes
arise, and each dispute draws the same numbers), so paired differences are its effect.
"""

from __future__ import annotations

import numpy as np
import pytest
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

from sim.disputes import DISPUTE_TYPES, DisputeBook, DisputeParams, Outcome, Resolver, Stage
from sim.space.city import LandUse


@pytest.fixture(scope="module")
def all_four(simulate):
    """A year with grid workers, governance centres, mediation and police mediation (seed 1)."""
    return simulate(*ALL_FOUR, days=YEAR).model


@pytest.fixture(scope="module")
def year_of_disputes(city_and_residents):
    """A year of disputes arising on the scale-0.2 city (about 10 000), and nothing else."""
    city, residents = city_and_residents
    return filled_book(city, residents, YEAR)


# ------------------------------------------------------------ ending once
def test_every_dispute_is_live_or_has_ended_once_after_a_run(all_four):
    b, n = all_four.disputes.book, all_four.disputes.book.n
    outcome, resolver = b.outcome[:n], b.resolver[:n]
    assert set(np.unique(outcome)) <= {int(o) for o in Outcome}
    counts = b.counts()
    assert sum(counts.values()) == n
    assert min(counts["active"], counts["settled"], counts["lapsed"]) > 0
    ended = outcome != Outcome.ACTIVE
    assert (b.end_day[:n][ended] >= b.start_day[:n][ended]).all()
    assert (b.end_day[:n][~ended] == -1).all()
    assert (b.end_day[:n] < all_four.hour // 24).all()
    # Only a settled dispute has someone who settled it, and an ended one is no longer handled.
    settled = outcome == Outcome.SETTLED
    assert (resolver[settled] != Resolver.NONE).all() and (resolver[~settled] == Resolver.NONE).all()
    assert not b.handling[:n][ended].any()


def test_each_way_a_dispute_ends_is_counted_once(all_four):
    b, n, row = all_four.disputes.book, all_four.disputes.book.n, all_four.year_rows()[0]
    warmup_days = all_four.scenario.run.warmup_days
    resolver = b.resolver[:n]
    in_year = b.end_day[:n] >= warmup_days
    violent = (b.outcome[:n] == Outcome.VIOLENCE) & in_year
    assert row["disputes_violent"] == violent.sum()
    assert row["disputes_settled_on_spot"] == (resolver == Resolver.ON_THE_SPOT).sum() > 0
    assert row["disputes_resolved_by_police"] == (resolver == Resolver.POLICE).sum() > 0
    # Mediation ends a dispute in a successful session or, by default, informally at the
    # committee before any session: each such ending is counted by exactly one of the two.
    mediated_ok = row["mediation_success_rate"] * row["disputes_mediated"]
    assert row["disputes_settled_informally"] > 0
    assert mediated_ok + row["disputes_settled_informally"] == pytest.approx((resolver == Resolver.MEDIATION).sum())


def test_ending_a_dispute_twice_is_refused(city_and_residents):
    city, residents = city_and_residents
    book = filled_book(city, residents, 3)
    book.end(np.array([0, 1]), Outcome.LAPSED, 3)
    with pytest.raises(RuntimeError, match="ended twice"):
        book.end(np.array([1]), Outcome.VIOLENCE, 4)
    with pytest.raises(RuntimeError, match="ended twice"):
        book.settle(0, 4, Resolver.MEDIATION, honoured=True)
    with pytest.raises(RuntimeError, match="ended twice"):
        book.end(np.array([2, 2]), Outcome.LAPSED, 4)
    with pytest.raises(RuntimeError, match="ended twice"):
        book.end(np.array([4, 3, 4]), Outcome.LAPSED, 4)  # a repeat out of order
    assert book.outcome[1] == Outcome.LAPSED and book.end_day[1] == 3
    assert book.is_active(2)
    book.end(np.array([6, 5]), Outcome.LAPSED, 5)  # distinct rows in any order
    assert book.outcome[6] == book.outcome[5] == Outcome.LAPSED


# ---------------------------------------------------------- no dispute lost
def test_day_by_day_every_dispute_that_arises_is_live_or_ended(city_and_residents):
    city, residents = city_and_residents
    book = DisputeBook(DisputeParams(), city, residents, seed=3)
    hazard = np.full(city.n_cells, 0.05)
    arisen = 0
    for day in range(240):
        new = book.arise(day)
        arisen += len(new)
        assert (book.start_day[new] == day).all() and (book.outcome[new] == Outcome.ACTIVE).all()
        before = book.counts()
        to_call, to_violence = book.escalate(day)
        assert (book.stage[to_call] == Stage.CALL).all() and (book.outcome[to_call] == Outcome.ACTIVE).all()
        assert (book.outcome[to_violence] == Outcome.VIOLENCE).all() and (book.end_day[to_violence] == day).all()
        found = book.discover(day, hazard, "test")
        assert book.found[found].all() and (book.outcome[found] == Outcome.ACTIVE).all()
        for r in found[::3]:  # a third are settled, and every such agreement breaks
            book.settle(int(r), day, Resolver.ON_THE_SPOT, honoured=False)
        after = book.counts()
        assert sum(after.values()) == book.n == arisen
        assert after["violence"] - before["violence"] == len(to_violence)
        assert after["settled"] - before["settled"] == len(found[::3])
    assert (book.reentries[: book.n] > 0).sum() > 100


def test_disputes_new_counts_every_dispute_of_the_counted_year_including_reentries(all_four):
    b, n = all_four.disputes.book, all_four.disputes.book.n
    counted = b.start_day[:n] >= all_four.scenario.run.warmup_days
    warm_up = (b.start_day[:n] >= 0) & ~counted
    assert 0 < warm_up.sum() < 0.05 * n  # a week's warm-up
    assert (b.start_day[:n][~counted & ~warm_up] == -1).all()  # the rest stood when the run started
    assert all_four.year_rows()[0]["disputes_new"] == counted.sum()
    assert (b.reentries[:n][counted] > 0).sum() > 10


# -------------------------------------------------------------- generation
def _per_1000_households(book, city, kind: str) -> np.ndarray:
    """Disputes of ``kind`` per 1 000 households, by land use."""
    n = book.n
    of_kind = book.kind[:n] == DISPUTE_TYPES.index(kind)
    counts = np.bincount(city.land_use[book.cell[:n][of_kind]], minlength=len(LandUse))
    households = np.bincount(city.land_use, weights=city.households, minlength=len(LandUse))
    assert (households > 0).all()
    return counts / households * 1000


def test_land_disputes_concentrate_in_villages(year_of_disputes, city_and_residents):
    rate = _per_1000_households(year_of_disputes, city_and_residents[0], "land")
    others = np.delete(rate, LandUse.VILLAGE)
    assert rate[LandUse.VILLAGE] > 3 * others.max()


def test_wage_arrears_concentrate_in_industrial_cells(year_of_disputes, city_and_residents):
    rate = _per_1000_households(year_of_disputes, city_and_residents[0], "wage_arrears")
    others = np.delete(rate, LandUse.INDUSTRIAL)
    assert rate[LandUse.INDUSTRIAL] > 2 * others.max()


def test_special_population_households_raise_their_cells_dispute_rate(year_of_disputes, city_and_residents):
    city, residents = city_and_residents
    plain = filled_book(city, residents, YEAR, special_population_multiplier=1.0)
    heavy = filled_book(city, residents, YEAR, special_population_multiplier=11.0)
    share = plain.special_household.mean()
    assert 0.005 < share < 0.1
    # Ten extra disputes' worth per special household: about 10 × share more in all.
    assert plain.n < year_of_disputes.n < heavy.n
    assert heavy.n / plain.n == pytest.approx(1 + 10 * share, rel=0.05)


def test_households_with_special_population_members_have_more_disputes(year_of_disputes, city_and_residents):
    city, _ = city_and_residents
    book = year_of_disputes
    n_households = int(city.households.sum())
    per_household = np.bincount(book.household[: book.n], minlength=n_households)
    special = book.special_household[:n_households]
    # Compare with other households of the same cells, so land use does not confound.
    cell_of = np.repeat(np.arange(city.n_cells), city.households)
    same_cells = np.isin(cell_of, np.unique(cell_of[special]))
    assert per_household[special].sum() > 150
    ratio = per_household[special].mean() / per_household[same_cells & ~special].mean()
    assert ratio == pytest.approx(DisputeParams().special_population_multiplier, rel=0.15)


# -------------------------------------------------------------- escalation
def test_escalating_disputes_call_the_police_and_their_violence_is_violent_crime(simulate):
    deadly = ("disputes.escalation_per_day=[0.012, 0.01, 0.05]", "disputes.violence_homicide_share=1.0",
              "disputes.violence_serious_share=1.0")
    m = simulate(*deadly, days=90).model
    row = m.year_rows()[0]
    assert row["disputes_to_call"] > 30
    assert row["disputes_violent"] > 10
    # Every violent dispute here is a reported, serious homicide: it is counted as such.
    assert row["homicides"] >= row["disputes_violent"]
    assert row["serious_violent"] >= row["disputes_violent"]
    assert row["recorded_assault"] >= row["disputes_violent"]
    calm = simulate("disputes.escalation_per_day=[0.012, 0.01, 0.0]", *deadly[1:], days=90).row
    assert calm["disputes_violent"] == 0
    assert calm["disputes_to_call"] == row["disputes_to_call"]  # the same disputes reach a call
    assert calm["homicides"] < row["homicides"] and calm["serious_violent"] < row["serious_violent"]


def test_a_broken_agreement_re_enters_later_as_a_conflict_in_the_same_household(city_and_residents):
    city, residents = city_and_residents
    book = filled_book(city, residents, 1)
    parent = 0
    book.settle(parent, 0, Resolver.MEDIATION, honoured=False)
    again = np.concatenate([book.arise(day) for day in range(1, 400)])
    again = again[book.reentries[again] > 0]
    assert len(again) == 1
    child = int(again[0])
    assert book.start_day[child] > 0
    for name in ("household", "cell", "kind"):
        assert getattr(book, name)[child] == getattr(book, name)[parent], name
    assert book.reentries[child] == 1
    assert book.stage[child] == Stage.CONFLICT and book.is_active(child) and not book.found[child]
    assert book.uid[child] != book.uid[parent]
    # Broken again, it comes back once more with a larger count.
    book.settle(child, int(book.start_day[child]), Resolver.POLICE, honoured=False)
    more = np.concatenate([book.arise(day) for day in range(400, 800)])
    grandchild = more[book.reentries[more] > 0]
    assert len(grandchild) == 1 and book.reentries[grandchild[0]] == 2
    assert book.household[grandchild[0]] == book.household[parent]


def test_an_honoured_agreement_does_not_re_enter(city_and_residents):
    city, residents = city_and_residents
    book = filled_book(city, residents, 1)
    book.settle(0, 0, Resolver.MEDIATION, honoured=True)
    later = np.concatenate([book.arise(day) for day in range(1, 400)])
    assert (book.reentries[later] == 0).all()


def test_reentries_in_a_run_follow_broken_settlements_in_the_same_household(all_four):
    b, n = all_four.disputes.book, all_four.disputes.book.n
    settled = np.flatnonzero(b.outcome[:n] == Outcome.SETTLED)
    reentered = np.flatnonzero(b.reentries[:n] > 0)
    assert 0 < len(reentered) < 0.2 * len(settled)
    for r in reentered:
        earlier = settled[(b.household[settled] == b.household[r]) & (b.kind[settled] == b.kind[r])
                          & (b.end_day[settled] < b.start_day[r])]
        assert len(earlier) >= 1, r


# ---------------------------------------------------------------- discovery
def test_discovery_finds_live_unfound_disputes_only_where_there_is_a_hazard(city_and_residents):
    city, residents = city_and_residents
    book = filled_book(city, residents, 30)
    assert len(book.discover(30, np.zeros(city.n_cells), "nobody")) == 0
    covered = city.land_use == LandUse.VILLAGE
    found = book.discover(30, np.where(covered, 50.0, 0.0), "everyone")
    live_in_covered = book.active()[covered[book.cell[book.active()]]]
    np.testing.assert_array_equal(np.sort(found), live_in_covered)
    assert len(book.discover(31, np.where(covered, 50.0, 0.0), "everyone")) == 0  # found already


@pytest.mark.parametrize("switches, days", [((), YEAR), ((POLICE_MEDIATION,), YEAR), ((GOVERNANCE, MEDIATION), 182)],
                         ids=["nothing", "police_mediation", "centres_and_mediation"])
def test_without_grid_workers_disputes_are_found_only_by_police_attending_calls(simulate, switches, days):
    m = simulate(*switches, days=days).model
    row = m.year_rows()[0]
    assert m.disputes.discovery_sources == []
    assert row["disputes_found"] > 50
    assert row["disputes_found"] == m.recorder.counts["disputes_found_by_call"][0]
    b = m.disputes.book
    found = np.flatnonzero(b.found[: b.n])
    assert (b.stage[found] >= Stage.CALL).all()
    assert row["disputes_settled_on_spot"] == 0


# ------------------------------------------------------------- grid workers
@pytest.fixture(scope="module")
def grid_worker_pairs(simulate):
    """(without, with) grid workers, a year each, for each seed."""
    return [(simulate(seed=s, days=YEAR).model, simulate(GRID_WORKERS, seed=s, days=YEAR).model) for s in SEEDS]


def test_grid_workers_find_disputes_and_settle_minor_ones_on_the_spot(grid_worker_pairs):
    for without, with_ in grid_worker_pairs:
        a, b = without.year_rows()[0], with_.year_rows()[0]
        # The same disputes arise in both runs; only what happens to them differs.
        assert (without.disputes.book.reentries[: without.disputes.book.n] == 0).sum() == \
            (with_.disputes.book.reentries[: with_.disputes.book.n] == 0).sum()
        assert b["disputes_found"] > 2 * a["disputes_found"]
        assert b["disputes_found"] > with_.recorder.counts["disputes_found_by_call"][0]
        assert a["disputes_settled_on_spot"] == 0 < b["disputes_settled_on_spot"]


def test_grid_workers_cut_disputes_reaching_calls_and_violence(grid_worker_pairs):
    violent = np.zeros(2)
    for without, with_ in grid_worker_pairs:
        a, b = without.year_rows()[0], with_.year_rows()[0]
        assert b["disputes_to_call"] < 0.95 * a["disputes_to_call"]
        assert b["disputes_violent"] <= a["disputes_violent"]
        violent += a["disputes_violent"], b["disputes_violent"]
    assert violent[0] > 60
    assert violent[1] < 0.9 * violent[0]


def test_grid_worker_visits_are_workers_times_visits_times_days(grid_worker_pairs):
    for without, with_ in grid_worker_pairs:
        workers = next(iv for iv in with_.interventions if iv.key == "grid_workers")
        expected = workers.params.workers_per_grid * with_.residents.n_grids * workers.params.visits_per_worker_day
        assert with_.year_rows()[0]["grid_worker_visits"] == pytest.approx(expected * YEAR, rel=1e-12)
        assert without.year_rows()[0]["grid_worker_visits"] == 0


def test_grid_workers_without_staff_find_nothing(simulate, differing_keys):
    none = simulate(days=60).row
    unstaffed = simulate(GRID_WORKERS, "interventions.grid_workers.workers_per_grid=0", days=60).row
    assert unstaffed["grid_worker_visits"] == 0 and unstaffed["disputes_settled_on_spot"] == 0
    assert unstaffed.get("disputes_found_by_grid_worker", 0.0) == 0
    assert differing_keys(none, unstaffed, sorted(none)) == []


# ------------------------------------------------------- the stock at the start
def _stage_counts(book: DisputeBook) -> np.ndarray:
    live = book.outcome[: book.n] == Outcome.ACTIVE
    return np.bincount(book.stage[: book.n][live], minlength=3)[:3]


def test_the_stationary_stock_is_what_a_book_left_alone_settles_at(city_and_residents):
    city, residents = city_and_residents
    book = DisputeBook(DisputeParams(), city, residents, seed=5)
    expected = book.stationary_stage_means().sum(axis=(0, 1))
    seen = []
    for day in range(600):  # from empty: the stock fills over the first months, then stays
        book.arise(day)
        book.escalate(day)
        if day >= 300:
            seen.append(_stage_counts(book))
    assert np.mean(seen, axis=0) == pytest.approx(expected, rel=0.05)
    assert expected[0] > expected[1] > expected[2] > 0


def test_a_book_that_starts_with_standing_disputes_starts_settled(city_and_residents):
    city, residents = city_and_residents
    book = DisputeBook(DisputeParams(), city, residents, seed=5)
    expected = book.stationary_stage_means().sum(axis=(0, 1))
    rows = book.add_standing(0)
    poisson_sd = np.sqrt(expected)  # each stage's count is Poisson
    assert (np.abs(_stage_counts(book) - expected) < 4 * poisson_sd).all()
    # Already found by police where they reached the call stage; arisen before the run; own uids.
    assert book.found[rows].tolist() == (book.stage[rows] == Stage.CALL).tolist()
    assert (book.start_day[rows] == -1).all() and len(np.unique(book.uid[rows])) == len(rows)
    first_month = []
    for day in range(60):
        new = book.arise(day)
        assert not np.isin(book.uid[new], book.uid[rows]).any()
        book.escalate(day)
        first_month.append(_stage_counts(book))
    assert (np.abs(np.mean(first_month, axis=0) - expected) < 4 * poisson_sd).all()  # no filling up
    # (a book that starts empty holds about a tenth of its call-stage stock, on average, over its first 60 days)
    assert np.mean(first_month, axis=0)[2] > 0.8 * expected[2]


def test_standing_disputes_leave_the_disputes_that_arise_later_unchanged(city_and_residents):
    city, residents = city_and_residents
    plain, standing = (DisputeBook(DisputeParams(), city, residents, seed=9) for _ in range(2))
    rows = standing.add_standing(0)
    new_plain, new_standing = plain.arise(0), standing.arise(0)
    assert plain.uid[new_plain].tolist() == standing.uid[new_standing].tolist()
    assert plain.household[new_plain].tolist() == standing.household[new_standing].tolist()
    assert len(rows) > 0
