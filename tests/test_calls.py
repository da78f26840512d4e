"""Calls for service (sim.mechanisms.calls): non-crime calls drawn hour by hour."""

from __future__ import annotations

import numpy as np

from sim.mechanisms.calls import NON_CRIME_KINDS, CallParams, Calls
from sim.rng import stream


def test_non_crime_calls_are_the_streams_poisson_draws_of_each_hours_expected_counts(city_and_residents):
    """The counts are numpy's Poisson draws of the hour-of-week's expected counts, kind by kind,
    from the calls' own stream, then two uniforms per call place it by presence and in the
    hour: the same numbers, in the same order, in every scenario."""
    city, residents = city_and_residents
    params = CallParams(non_crime_per_1000_year={k: 200.0 * (i + 1) for i, k in enumerate(NON_CRIME_KINDS)})
    calls = Calls(params, city, residents, seed=4)
    reference = stream(4, "calls.non_crime")
    seen = 0
    for hour in range(24 * 14):
        how = hour % 168
        drawn = calls.non_crime(hour, how)
        counts = reference.poisson(calls._expected[how])
        assert [sum(c.kind == k for c in drawn) for k in NON_CRIME_KINDS] == counts.tolist()
        if counts.sum():
            # Each call's cell (by presence) and minute, as array expressions over the hour's calls.
            u = reference.random((int(counts.sum()), 2))
            cum = calls._cum_presence[how]
            cells = np.minimum(cum.searchsorted(u[:, 0] * cum[-1], side="right"), len(cum) - 1)
            assert [c.cell for c in drawn] == cells.tolist()
            assert [c.time for c in drawn] == (hour * 60.0 + u[:, 1] * 60.0).tolist()
        assert all(hour * 60.0 <= c.time < (hour + 1) * 60.0 for c in drawn)
        seen += len(drawn)
    assert seen > 100


def test_cameras_detect_no_fraud_when_its_detection_weight_is_zero(city_and_residents):
    from sim.mechanisms.crime_types import CRIME_TYPES
    from sim.mechanisms.offending import Offences

    city, residents = city_and_residents
    n = 4000
    types = np.arange(n) % len(CRIME_TYPES)
    z = np.zeros(n, dtype=bool)
    off = Offences(np.arange(n), np.arange(n), np.zeros(n, dtype=np.int64), types, z, z, z, np.zeros(n, dtype=np.int64))
    cameras = np.ones(city.n_cells)
    fraud = CRIME_TYPES.index("fraud")
    every = dict.fromkeys(CRIME_TYPES, 1.0)  # cameras see every type alike ...
    _, seen = Calls(CallParams(camera_detect_prob=1.0, camera_detect_by_type=every), city, residents,
                    1).report(off, 5, cameras)
    _, seen_w = Calls(CallParams(camera_detect_prob=1.0, camera_detect_by_type={**every, "fraud": 0.0}), city,
                      residents, 1).report(off, 5, cameras)  # ... but fraud
    assert (types[seen] == fraud).sum() > 100
    assert (types[seen_w] == fraud).sum() == 0
    # The other types are detected exactly as before (the same draws).
    assert seen[types[seen] != fraud].tolist() == seen_w.tolist()


def test_offences_seen_on_live_monitored_cameras_become_calls(city_and_residents):
    from sim.mechanisms.crime_types import CRIME_TYPES
    from sim.mechanisms.offending import Offences

    city, residents = city_and_residents
    n = 4000
    types = np.arange(n) % len(CRIME_TYPES)
    z = np.zeros(n, dtype=bool)
    off = Offences(np.arange(n), np.arange(n), np.zeros(n, dtype=np.int64), types, z, z, z, np.zeros(n, dtype=np.int64))
    from sim.levers import Levers

    cameras = np.ones(city.n_cells)
    passive = Calls(CallParams(camera_detect_prob=0.5), city, residents, 1, levers=Levers.at_rest(city.n_cells, 1, 1.0))
    watched = Levers.at_rest(city.n_cells, 1, 1.0)
    watched.watch_live(np.array([0]), 2.0)  # the video intervention's active monitoring
    active = Calls(CallParams(camera_detect_prob=0.5), city, residents, 1, levers=watched)
    calls_p, seen_p = passive.report(off, 5, cameras)
    calls_a, seen_a = active.report(off, 5, cameras)
    assert len(seen_p) > 100 and len(seen_a) == 0
    live = {c.offender_slot: c for c in calls_a}.keys() - {c.offender_slot for c in calls_p}
    assert sorted(live) == seen_p.tolist()  # every offence the cameras caught is now called in
    assert all(c.recorded and c.report_delay_h == 2.0 / 60 for c in calls_a if c.offender_slot in live)


# --------------------------------------------------- prevention of public-order incidents
def _public_order_calls(city_and_residents, levers, **params) -> dict[str, np.ndarray]:
    """Calls per cell by kind over four weeks (all kinds at a high rate, so counts mean something)."""
    city, residents = city_and_residents
    rates = {k: 400.0 for k in NON_CRIME_KINDS}
    calls = Calls(CallParams(non_crime_per_1000_year=rates, **params), city, residents, seed=5, levers=levers)
    out = {k: np.zeros(city.n_cells) for k in NON_CRIME_KINDS}
    for hour in range(24 * 28):
        for c in calls.non_crime(hour, hour % 168):
            out[c.kind][c.cell] += 1
    return out


def test_officers_on_post_prevent_public_order_calls_near_them_only(city_and_residents):
    from sim.levers import Levers

    city, _ = city_and_residents
    busiest = int(np.argmax(city_and_residents[1].presence.sum(axis=0)))
    posted = Levers.at_rest(city.n_cells, 1, 1.0)
    posted.posts[busiest] = 2.0
    params = {"disorder_reduction_per_post_officer": 0.15, "disorder_reach_km": 1.0}
    base = _public_order_calls(city_and_residents, Levers.at_rest(city.n_cells, 1, 1.0), **params)
    with_post = _public_order_calls(city_and_residents, posted, **params)
    near = city.distance_km(busiest, np.arange(city.n_cells)) <= 1.0
    for kind in ("public_order", "dispute"):
        ratio = with_post[kind][near].sum() / base[kind][near].sum()
        assert abs(ratio - np.exp(-0.3)) < 0.06, (kind, ratio)  # two officers: exp(-0.15 × 2)
        assert (with_post[kind][~near] == base[kind][~near]).all()
    for kind in ("assistance", "traffic", "invalid"):
        assert (with_post[kind] == base[kind]).all()


def test_without_an_elasticity_posts_prevent_nothing(city_and_residents):
    from sim.levers import Levers

    city, _ = city_and_residents
    posted = Levers.at_rest(city.n_cells, 1, 1.0)
    posted.posts[:] = 3.0
    base = _public_order_calls(city_and_residents, None, disorder_reduction_per_post_officer=0.0)
    same = _public_order_calls(city_and_residents, posted, disorder_reduction_per_post_officer=0.0)
    assert all((base[k] == same[k]).all() for k in NON_CRIME_KINDS)
