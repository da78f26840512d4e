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
