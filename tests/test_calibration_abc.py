"""ABC-SMC: recovers known parameters, is reproducible, and stops within its budget."""

import numpy as np
import pandas as pd
import pytest

from sim.calibration.abc import abc_smc, weighted_quantile
from sim.calibration.state import discrepancies, hits, target_statistics

TRUE = np.array([0.3, 0.7, 0.55])


def toy(noise=0.03):
    """Observations = parameters + Gaussian noise; the third parameter only enters through a sum."""

    def simulate(u, first):
        rng = np.random.default_rng(first)  # each batch its own, reproducible noise
        y = np.column_stack([u[:, 0], u[:, 1], u[:, 0] + u[:, 2]]) + rng.normal(0, noise, (len(u), 3))
        obs = np.array([TRUE[0], TRUE[1], TRUE[0] + TRUE[2]])
        return np.sqrt(((y - obs) ** 2).sum(axis=1))

    return simulate


def test_abc_smc_recovers_known_parameters():
    res = abc_smc(toy(), 3, 200, 4000, seed=3)
    post = res.posterior
    mean = post.weights @ post.u
    sd = np.sqrt(post.weights @ (post.u - mean) ** 2)
    assert res.simulated <= 4000
    assert len(res.populations) >= 4
    assert np.all(np.abs(mean - TRUE) < 0.05), (mean, sd)
    # The posterior is much narrower than the prior (sd of a uniform on [0, 1] is 0.29) and covers the truth.
    assert np.all(sd < 0.15)
    assert np.all(np.abs(mean - TRUE) < 3 * sd)
    # Tolerances shrink generation after generation.
    eps = [p.epsilon for p in res.populations[1:]]
    assert all(b < a for a, b in zip(eps, eps[1:], strict=False))
    assert post.ess > 50


def test_abc_smc_is_reproducible_and_resumes_the_same_particles():
    calls = []

    def simulate(u, first):
        calls.append((first, u.copy()))
        return toy()(u, first)

    a = abc_smc(simulate, 3, 50, 600, seed=5)
    first_calls = list(calls)
    calls.clear()
    b = abc_smc(simulate, 3, 50, 600, seed=5)
    # Every batch proposes the same particles with the same simulation indices: a restarted
    # calibration asks for exactly the simulations its store already has.
    assert [f for f, _ in calls] == [f for f, _ in first_calls]
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(calls, first_calls, strict=True))
    assert np.array_equal(a.posterior.u, b.posterior.u)
    c = abc_smc(toy(), 3, 50, 600, seed=6)
    assert not np.array_equal(a.posterior.u, c.posterior.u)


def test_abc_smc_keeps_the_last_complete_generation_when_the_budget_ends():
    res = abc_smc(toy(), 3, 40, 130, seed=1)
    assert res.stopped == "budget"
    assert res.simulated <= 130
    assert all(len(p.u) == 40 for p in res.populations)
    assert np.isclose(res.posterior.weights.sum(), 1)


def test_abc_smc_refuses_a_budget_below_one_generation():
    with pytest.raises(ValueError, match="budget"):
        abc_smc(toy(), 3, 40, 20, seed=1)


def test_abc_smc_stops_at_the_tolerance_floor_with_a_posterior_as_wide_as_that_tolerance():
    floor = 0.15  # the data's own precision, in the distance's units
    free = abc_smc(toy(), 3, 200, 20000, seed=3, max_generations=12)
    held = abc_smc(toy(), 3, 200, 20000, seed=3, max_generations=12, min_epsilon=floor)
    assert held.stopped == "min_epsilon" and free.stopped != "min_epsilon"
    eps = [p.epsilon for p in held.populations[1:]]
    assert eps[-1] == floor and all(e > floor for e in eps[:-1])  # the last generation ran at the floor
    assert len(held.populations) < len(free.populations) and free.posterior.epsilon < floor
    # same seed: identical up to the floor's generation
    for a, b in zip(held.populations[:-1], free.populations, strict=False):
        assert np.array_equal(a.u, b.u)
    # every accepted particle is within the floor; the posterior is wider than one pushed below it
    assert np.all(held.posterior.distances <= floor)
    assert np.all(held.posterior.sd > free.posterior.sd)
    # and still covers the truth (a uniform error of 0.15 around it)
    assert np.all(np.abs(held.posterior.mean - TRUE) < 3 * held.posterior.sd)
    first = abc_smc(toy(), 3, 50, 600, seed=1, min_epsilon=100.0)  # reached by the first generation's quantile
    assert first.stopped == "min_epsilon" and len(first.populations) == 2 and first.posterior.epsilon == 100.0
    # reached in a generation that also accepted less than the acceptance floor: it reached what was asked
    low = abc_smc(toy(), 3, 50, 600, seed=1, min_epsilon=0.6, min_acceptance=0.9)
    assert low.stopped == "min_epsilon" and low.posterior.acceptance < 0.9
    for bad in (0.0, float("inf")):
        with pytest.raises(ValueError, match="min_epsilon"):
            abc_smc(toy(), 3, 50, 600, seed=1, min_epsilon=bad)


def test_weighted_quantile():
    x = np.array([3.0, 1.0, 2.0, 4.0])
    assert weighted_quantile(x, np.ones(4), 0.5) == 2.0
    assert weighted_quantile(x, np.array([0, 0, 0, 1.0]), 0.5) == 4.0


def _targets():
    return pd.DataFrame({
        "target_id": ["a_yoy", "b_level", "c_rate", "d_dir"],
        "metric": ["m", "n", "r", "m"], "kind": ["yoy_change", "level", "rate", "yoy_change"],
        "value": [-10.0, 1000.0, 0.9, 0.0], "tolerance": [5.0, 100.0, 0.02, 0.0],
        "bound": ["", "", "lower", "upper"], "years": [(2021,), (2021,), (2021,), (2021,)],
        "base_year": [2020, None, None, 2020],
    })


def test_target_statistics_changes_levels_and_rates():
    rows = [{"year": 2020, "m": 200.0, "n": 40.0, "r": 0.8}, {"year": 2021, "m": 180.0, "n": 50.0, "r": 0.95}]
    stats = target_statistics(rows, _targets(), scale=0.1)
    assert stats == pytest.approx([-10.0, 500.0, 0.95, -10.0])


def test_discrepancies_respect_bounds_and_direction_targets():
    t = _targets()
    e = discrepancies(np.array([[-20.0, 1100.0, 0.95, 5.0], [0.0, 1000.0, 0.86, -3.0]]), t)
    assert e[0] == pytest.approx([-2.0, 1.0, 0.0, 1.0])  # a direction target uses a 5-point spread
    assert e[1] == pytest.approx([2.0, 0.0, -2.0, 0.0])
    assert discrepancies(np.array([np.nan, 1e9, 0.9, 0.0]), t)[:2] == pytest.approx([10.0, 10.0])


def test_hits_need_the_interval_to_meet_the_acceptance_region():
    t = _targets()
    lo = np.array([-30.0, 1050.0, 0.80, 1.0])
    hi = np.array([-16.0, 1300.0, 0.87, 9.0])
    assert hits(lo, hi, t).tolist() == [False, True, False, False]
    assert hits(lo, np.array([-14.0, 1300.0, 0.89, 9.0]), t).tolist() == [True, True, True, False]
