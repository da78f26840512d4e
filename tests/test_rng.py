"""Random streams (sim.rng) and the reproducibility of whole runs they make possible."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import sim.rng
from sim import PinganModel, load_scenario
from sim.rng import (
    event_keys,
    event_uniform,
    event_uniforms,
    hour_term,
    keyed_uniform,
    keyed_uniforms,
    keyed_uniforms_hours,
    stream,
    stream_key,
    term_of,
)

N = 200_000


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


# ------------------------------------------------------------------ event_uniforms
def test_event_uniforms_are_a_pure_function_of_their_coordinates():
    a = np.arange(1000)
    first = event_uniforms(7, "offending.place", a, 42, slot=1)
    again = event_uniforms(7, "offending.place", a, 42, slot=1)
    np.testing.assert_array_equal(first, again)
    # An event's number does not depend on which other events are drawn with it.
    subset = event_uniforms(7, "offending.place", a[[5, 900, 17]], 42, slot=1)
    np.testing.assert_array_equal(subset, first[[5, 900, 17]])
    one = event_uniforms(7, "offending.place", 900, 42, slot=1)
    assert float(one) == first[900]


def test_event_uniforms_broadcast_entity_and_hour_coordinates():
    u = event_uniforms(1, "patrol.cell", np.arange(5)[:, None], np.arange(7)[None, :])
    assert u.shape == (5, 7)
    assert u[3, 4] == float(event_uniforms(1, "patrol.cell", 3, 4))


def test_event_uniforms_lie_in_the_unit_interval():
    u = event_uniforms(123, "calls.report", np.arange(N), np.arange(N) % 977)
    assert u.dtype == np.float64
    assert u.min() >= 0.0
    assert u.max() < 1.0


@pytest.mark.parametrize("seed, name", [(0, "offending.attempts"), (2022, "calls.delay"), (2**40, "x")])
def test_event_uniforms_are_uniform(seed, name):
    u = event_uniforms(seed, name, np.arange(N), 5)
    # Chi-square over 20 equal bins; 43.8 is the 0.1 % critical value for 19 degrees of freedom.
    counts = np.bincount((u * 20).astype(int), minlength=20)
    expected = N / 20
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 43.8
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / N)
    assert abs(u.var() - 1 / 12) < 0.002


@pytest.mark.parametrize(
    "other",
    [
        dict(seed=1, name="s", a_shift=1, b=0, slot=0),  # the next entity
        dict(seed=1, name="s", a_shift=0, b=1, slot=0),  # the next hour
        dict(seed=1, name="s", a_shift=0, b=0, slot=1),  # a second draw for the same event
        dict(seed=1, name="t", a_shift=0, b=0, slot=0),  # another stream
        dict(seed=2, name="s", a_shift=0, b=0, slot=0),  # another run
    ],
    ids=["entity", "hour", "slot", "stream", "seed"],
)
def test_event_uniforms_are_independent_across_coordinates(other):
    a = np.arange(N)
    base = event_uniforms(1, "s", a, 0, slot=0)
    u = event_uniforms(other["seed"], other["name"], a + other["a_shift"], other["b"], slot=other["slot"])
    assert not np.array_equal(u, base)
    # Uncorrelated (4 standard errors of a correlation of N pairs), also in their squared deviations.
    assert abs(_corr(base, u)) < 4 / np.sqrt(N)
    assert abs(_corr((base - 0.5) ** 2, (u - 0.5) ** 2)) < 4 / np.sqrt(N)
    # And no shared structure: the joint histogram of (base, u) is flat.
    joint = np.bincount((base * 5).astype(int) * 5 + (u * 5).astype(int), minlength=25)
    chi2 = float(((joint - N / 25) ** 2 / (N / 25)).sum())
    assert chi2 < 51.2  # 0.1 % critical value, 24 degrees of freedom


def test_event_uniforms_of_swapped_coordinates_differ():
    a = np.arange(1, 1000)
    assert not np.array_equal(event_uniforms(1, "s", a, 0), event_uniforms(1, "s", 0, a))


def test_single_event_uniform_matches_the_vectorised_draw():
    rng = np.random.default_rng(0)
    for seed, name in [(0, "dispatch.scene"), (2022, "calls.walk_in"), (2**40 + 3, "x")]:
        a = rng.integers(0, 2**62, 50)
        b = rng.integers(0, 200_000, 50)
        for slot in (0, 1, 7):
            vector = event_uniforms(seed, name, a, b, slot=slot)
            scalar = [event_uniform(seed, name, int(x), int(y), slot=slot) for x, y in zip(a, b, strict=True)]
            assert scalar == vector.tolist()


def test_every_path_of_event_uniforms_gives_the_same_numbers():
    """Few events (Python integers), many at one hour (compiled loop), many hours (arrays): one value."""
    rng = np.random.default_rng(2)
    for n, dtype in [(5, np.int64), (33, np.int64), (2000, np.uint64), (300, np.int32)]:
        low = 0 if dtype == np.uint64 else -(2**31)
        a = rng.integers(low, 2**31, n).astype(dtype)
        for hour, slot in [(0, 0), (4321, 2)]:
            one_hour = event_uniforms(9, "disputes.escalate", a, hour, slot=slot)
            as_array = event_uniforms(9, "disputes.escalate", a, np.full(n, hour), slot=slot)
            assert one_hour.tolist() == as_array.tolist()
            assert one_hour[-1] == event_uniform(9, "disputes.escalate", int(a[-1]), hour, slot=slot)


def test_keyed_draws_of_fixed_entities_match_event_uniforms():
    """Patrol units and offenders hash their ids once; their hourly draws must not change."""
    rng = np.random.default_rng(1)
    for n in (1, 5, 32, 33, 500):  # both sides of event_uniforms' small-batch path
        ids = rng.integers(0, 2**62, n, dtype=np.uint64)
        keys = event_keys(2022, "patrol.cell", ids)
        for hour, slot in [(0, 0), (17, 0), (123_456, 1)]:
            pick = rng.permutation(n)[: max(1, n // 2)]
            expected = event_uniforms(2022, "patrol.cell", ids[pick], hour, slot=slot)
            assert keyed_uniforms(keys[pick], hour, slot).tolist() == expected.tolist()
    block = keyed_uniforms_hours(keys, 1000, 50, slot=1)
    for k in (0, 17, 49):
        assert block[k].tolist() == event_uniforms(2022, "patrol.cell", ids, 1000 + k, slot=1).tolist()
    for hour, slot in [(0, 0), (1000, 1), (2**40, 3)]:  # the compiled draw inside kernels (offending)
        compiled = [keyed_uniform(key, hour_term(hour, slot)) for key in keys]
        assert compiled == event_uniforms(2022, "patrol.cell", ids, hour, slot=slot).tolist()


# ------------------------------------------------------------------------- stream
def test_stream_is_reproducible_for_a_seed_and_name():
    np.testing.assert_array_equal(stream(5, "city").random(100), stream(5, "city").random(100))


def test_stream_differs_by_name_and_by_seed():
    x = stream(5, "city").random(1000)
    by_name = stream(5, "residents").random(1000)
    by_seed = stream(6, "city").random(1000)
    assert not np.array_equal(x, by_name)
    assert not np.array_equal(x, by_seed)
    assert abs(_corr(x, by_name)) < 0.15
    assert abs(_corr(x, by_seed)) < 0.15


def test_stream_keys_do_not_depend_on_the_python_hash_seed():
    code = ("import json; from sim.rng import stream, stream_key, event_uniforms; "
            "print(json.dumps([stream_key('offending.attempts'), stream(3, 'city').random(3).tolist(), "
            "event_uniforms(3, 'calls.report', [1, 2, 3], 4).tolist()]))")
    got = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        got.append(json.loads(out.stdout))
    assert got[0] == got[1]
    assert got[0][0] == stream_key("offending.attempts")
    assert got[0][1] == stream(3, "city").random(3).tolist()


# ------------------------------------------------------------ reproducible runs
def _short_run(seed: int, days: int = 45) -> PinganModel:
    s = load_scenario("suizhou_2022", ["run.warmup_days=3", "run.years=1", "run.intervention_year=2021"])
    m = PinganModel(s, seed=seed, scale=0.05)
    for _ in range((3 + days) * 24):
        m.step()
    return m


@pytest.fixture(scope="module")
def repeated_runs():
    return _short_run(11), _short_run(11), _short_run(12)


def test_same_scenario_and_seed_give_identical_runs(repeated_runs, differing_keys):
    a, b, _ = repeated_runs
    assert a.year_rows()[0]["offences_true"] > 0
    assert differing_keys(a.year_rows()[0], b.year_rows()[0]) == []
    np.testing.assert_array_equal(a.incidents.recorded, b.incidents.recorded)
    np.testing.assert_array_equal(a.offending.free_at, b.offending.free_at)
    np.testing.assert_array_equal(a.fleet.cell, b.fleet.cell)
    da, db = a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe()
    assert da.equals(db)
    calls_a = [(c.call_id, c.time, c.dispatched_at, c.arrived_at, c.unit) for c in a.recorder.attended_in_year(0)]
    calls_b = [(c.call_id, c.time, c.dispatched_at, c.arrived_at, c.unit) for c in b.recorder.attended_in_year(0)]
    assert calls_a == calls_b


def test_different_seeds_give_different_runs(repeated_runs, differing_keys):
    a, _, c = repeated_runs
    assert differing_keys(a.year_rows()[0], c.year_rows()[0], ["offences_true", "calls_for_service"]) != []


def test_same_seed_gives_identical_run_in_a_fresh_process(repeated_runs):
    code = ("import json, sys; sys.path.insert(0, 'tests'); from test_rng import _short_run; "
            "r = _short_run(11).year_rows()[0]; "
            "print(json.dumps({k: r[k] for k in ('offences_true', 'calls_for_service', 'cases_cleared', "
            "'response_time_median_min', 'cost_yuan')}))")
    env = {**os.environ, "PYTHONHASHSEED": "99"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True,
                         check=True)
    fresh = json.loads(out.stdout.strip().splitlines()[-1])
    mine = repeated_runs[0].year_rows()[0]
    assert fresh == {k: mine[k] for k in fresh}


# ------------------------------------------------------------------ the hash, written once
def _splitmix_reference(x: int) -> int:
    """SplitMix64's finaliser in Python integers (Steele, Lea & Flood 2014), masked to 64 bits."""
    m = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


def test_the_compiled_hash_the_array_hash_and_the_integer_reference_agree():
    xs = np.random.default_rng(3).integers(0, 2**64, 2000, dtype=np.uint64, endpoint=False)
    xs = np.concatenate([xs, np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)])
    expected = [_splitmix_reference(int(x)) for x in xs]
    assert sim.rng.splitmix64(xs).tolist() == expected
    assert [int(sim.rng._mix(x)) for x in xs] == expected


@pytest.mark.parametrize("b", [0, 1, 8759, 10**6, -1, -(2**63), 2**63 - 1])
@pytest.mark.parametrize("slot", [0, 1, 6])
def test_the_hour_term_is_b_times_m1_plus_slot_wrapped_to_64_bits(b, slot):
    expected = (b * 0xBF58476D1CE4E5B9 + slot) % 2**64
    assert int(term_of(b, slot)) == expected
    assert int(hour_term(b, slot)) == expected
    assert int(hour_term(b + 2**64, slot)) == expected  # any integer: its low 64 bits
