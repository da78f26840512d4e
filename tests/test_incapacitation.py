"""Offenders held after arrest when the counted years begin (sim.mechanisms.incapacitation)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.incapacitation import ESTIMATE_FROM, HeldAtStart, stationary_held_share
from sim.model import PinganModel
from sim.scenario.loader import load_scenario

DAY = 24


def test_the_stationary_held_share_balances_arrests_and_releases():
    # Free for 1/a hours on average, then held for D: held a share aD / (1 + aD) of the time.
    a, d = 1 / (900 * DAY), 150 * DAY
    share = stationary_held_share(a, d)
    assert share == pytest.approx(150 / 1050)
    assert a * (1 - share) == pytest.approx(share / d)  # arrests per hour = releases per hour


def _tally(n: int = 20_000, arrests: int = 40, warmup_days: int = 28, seed: int = 3) -> HeldAtStart:
    held = HeldAtStart(np.zeros(n, dtype=np.int64), 150.0, warmup_days * DAY, seed)
    for h in range(warmup_days * DAY):
        held.count_hour(h)
    late = int(warmup_days * DAY * ESTIMATE_FROM)
    held.count_arrests(np.arange(arrests), late)  # counted: in the second half of the warm-up
    held.count_arrests(np.arange(arrests), late - 1)  # not counted: deterrence was still building
    held.count_arrests(np.array([-1, -1]), late)  # not offenders (dispute violence)
    return held


def test_arrests_are_counted_per_free_offender_hour_late_in_the_warm_up():
    held = _tally()
    assert held.arrests == 40
    assert held.free_hours == 20_000 * 14 * DAY
    assert held.arrests_per_free_hour() == pytest.approx(40 / (20_000 * 14 * DAY))


def test_free_offenders_are_held_until_the_stationary_share_for_exponential_times():
    held = _tally(arrests=400)
    start = 28 * DAY
    target = stationary_held_share(held.arrests_per_free_hour(), 150 * DAY)
    slots = held.hold(start)
    assert len(slots) / 20_000 == pytest.approx(target, abs=4 * np.sqrt(target / 20_000))
    left = held.free_at[slots] - start
    assert left.mean() == pytest.approx(150 * DAY, rel=0.05)
    assert np.std(left) == pytest.approx(150 * DAY, rel=0.05)  # exponential: sd = mean
    assert (held.free_at[np.setdiff1d(np.arange(20_000), slots)] == 0).all()


def test_offenders_already_held_count_towards_the_share():
    held = _tally(arrests=400)
    start = 28 * DAY
    target = stationary_held_share(held.arrests_per_free_hour(), 150 * DAY)
    held.free_at[: int(0.5 * target * 20_000)] = start + 1000  # half the share arrested in the warm-up
    slots = held.hold(start)
    assert not np.isin(slots, np.arange(int(0.5 * target * 20_000))).any()
    total = np.count_nonzero(held.free_at > start)
    assert total / 20_000 == pytest.approx(target, abs=4 * np.sqrt(target / 20_000))


def test_nobody_is_held_without_a_warm_up_or_an_arrest():
    none = HeldAtStart(np.zeros(100, dtype=np.int64), 150.0, 0, 1)
    assert len(none.hold(0)) == 0
    quiet = HeldAtStart(np.zeros(100, dtype=np.int64), 150.0, 28 * DAY, 1)
    for h in range(28 * DAY):
        quiet.count_hour(h)
    assert len(quiet.hold(28 * DAY)) == 0


def test_the_draws_depend_on_the_offender_not_on_the_order_of_events():
    a, b = _tally(arrests=400, seed=8), _tally(arrests=400, seed=8)
    assert a.hold(28 * DAY).tolist() == b.hold(28 * DAY).tolist()
    assert a.free_at.tolist() == b.free_at.tolist()


def _at_counted_start(name: str) -> PinganModel:
    model = PinganModel(load_scenario(name, ["run.warmup_days=14"]), seed=4, scale=0.05)
    for _ in range(model.warmup_hours + 1):
        model.step()
    return model


def test_a_package_and_its_baseline_start_the_counted_years_with_the_same_offenders_held():
    base, package = _at_counted_start("suizhou_baseline"), _at_counted_start("suizhou_2022")
    assert (base.offending.free_at > base.hour).sum() > 0
    assert base.offending.free_at.tolist() == package.offending.free_at.tolist()
    b, p = base.disputes.book, package.disputes.book
    assert b.n == p.n and b.stage[: b.n].tolist() == p.stage[: p.n].tolist()


def test_without_a_stationary_start_the_run_starts_empty_and_holds_only_the_warm_ups_arrests():
    def held_share(*overrides: str) -> tuple[float, int]:
        model = PinganModel(load_scenario("suizhou_baseline", ["run.warmup_days=28", *overrides]), seed=4, scale=0.05)
        standing = model.disputes.book.n
        for _ in range(model.warmup_hours + 1):
            model.step()
        return float(np.mean(model.offending.free_at > model.hour)), standing

    empty, none_standing = held_share("run.stationary_start=false")
    settled, standing = held_share()
    assert none_standing == 0 and standing > 0
    assert empty < 0.06 < settled  # four weeks of arrests hold ~3 %; the steady state ~14 %
