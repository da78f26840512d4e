"""The statistics of evaluation designs: Knox test, relative effect size, spot comparison, matching."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.experiments.designs import (
    knox_test,
    match_controls,
    pooled_effect,
    relative_effect_size,
    spot_comparison,
)

DAY = 24.0


def _offences(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 10, (n, 2)), rng.uniform(0, 365 * DAY, n)


def test_knox_counts_pairs_in_their_distance_and_time_bands():
    xy = np.array([[0, 0], [0, 0], [0.3, 0], [5, 5]])
    hours = np.array([0, 10, 30 * DAY, 0])
    k = knox_test(xy, hours, [0, 0.25, 1.0], [0, 7 * DAY, 60 * DAY], permutations=9, seed=1)
    obs = k.table.set_index(["distance_lo", "time_lo"])["observed"]
    assert obs[(0.0, 0.0)] == 1  # the first two: same place, 10 hours apart
    assert obs[(0.25, 7 * DAY)] == 2  # the third with each of them: 0.3 km, ~30 days
    assert obs.sum() == 3  # the fourth is beyond 1 km of all
    assert k.offences == 4 and k.permutations == 9


def test_knox_finds_no_clustering_when_places_and_times_are_independent():
    xy, hours = _offences(1500, 2)
    k = knox_test(xy, hours, [0, 0.2, 0.5], [0, 7 * DAY, 14 * DAY], permutations=49, seed=3)
    close = k.cell(0, 0)
    assert close["ratio"] == pytest.approx(1.0, abs=0.3)
    assert close["p_value"] > 0.05


def test_knox_finds_near_repeats_planted_close_in_space_and_time():
    xy, hours = _offences(800, 4)
    rng = np.random.default_rng(5)
    near_xy = xy[:200] + rng.normal(0, 0.05, (200, 2))
    near_t = hours[:200] + rng.uniform(DAY, 5 * DAY, 200)
    k = knox_test(np.vstack([xy, near_xy]), np.concatenate([hours, near_t]), [0, 0.2, 0.5], [0, 7 * DAY, 14 * DAY],
                  permutations=49, seed=6)
    assert k.cell(0, 0)["ratio"] > 3
    assert k.cell(0, 0)["p_value"] == pytest.approx(1 / 50)  # no permutation reaches the observed count
    assert k.cell(1, 1)["ratio"] == pytest.approx(1.0, abs=0.5)  # farther and later: chance


def test_knox_leaves_out_pairs_closer_in_time_than_min_time():
    xy = np.zeros((3, 2))
    hours = np.array([0.0, 0.0, 5 * DAY])
    with_same = knox_test(xy, hours, [0, 1], [0, 7 * DAY], permutations=1).table["observed"].iloc[0]
    without = knox_test(xy, hours, [0, 1], [0, 7 * DAY], permutations=1, min_time=1.0).table["observed"].iloc[0]
    assert (with_same, without) == (3, 2)


def test_knox_refuses_bad_bands():
    xy, hours = _offences(5, 1)
    with pytest.raises(ValueError, match="distance_edges"):
        knox_test(xy, hours, [0.5, 0.2], [0, 1])
    with pytest.raises(ValueError, match="one time per offence"):
        knox_test(xy, hours[:3], [0, 1], [0, 1])


def test_relative_effect_size_is_the_odds_ratio_of_before_and_after_counts():
    es = relative_effect_size(100, 80, 100, 100)  # treated −20 %, control unchanged
    assert es.res == pytest.approx(1.25)
    assert es.change_pct == pytest.approx(-20.0)
    assert es.log_variance == pytest.approx(1 / 100 + 1 / 80 + 1 / 100 + 1 / 100)
    half = 1.959964 * math.sqrt(es.log_variance)
    assert (es.lo, es.hi) == pytest.approx((1.25 * math.exp(-half), 1.25 * math.exp(half)))
    assert es.change_pct_lo < es.change_pct < es.change_pct_hi


def test_a_control_that_falls_as_much_as_the_treated_area_gives_no_effect():
    es = relative_effect_size(200, 150, 400, 300)
    assert es.res == pytest.approx(1.0) and es.lo < 1 < es.hi


def test_overdispersion_widens_the_interval_and_zero_counts_are_refused():
    plain, over = relative_effect_size(50, 40, 60, 60), relative_effect_size(50, 40, 60, 60, overdispersion=4)
    assert over.res == plain.res and over.hi - over.lo > plain.hi - plain.lo
    with pytest.raises(ValueError, match="positive"):
        relative_effect_size(0, 1, 1, 1)


def test_pooled_effect_weights_by_inverse_variance_and_adds_between_area_variance():
    same = pooled_effect([math.log(1.2)] * 3, [0.01, 0.02, 0.04])
    assert same.res == pytest.approx(1.2)  # no heterogeneity: random = fixed
    fixed = pooled_effect([0.0, 1.0], [0.01, 0.04], random_effects=False)
    assert fixed.log_res == pytest.approx((0 / 0.01 + 1 / 0.04) / (1 / 0.01 + 1 / 0.04))
    rand = pooled_effect([0.0, 1.0], [0.01, 0.04])
    assert rand.log_variance > fixed.log_variance  # heterogeneous areas: a wider interval
    assert fixed.log_res < rand.log_res < 1.0  # and more equal weights


def test_spot_comparison_recovers_a_planted_drop_at_treated_spots():
    rng = np.random.default_rng(7)
    before_t, before_c = rng.poisson(40, 55), rng.poisson(40, 55)
    after_t, after_c = rng.poisson(40 * 0.9, 55), rng.poisson(40, 55)
    s = spot_comparison(before_t, after_t, before_c, after_c)
    assert s.treated == s.controls == 55
    assert s.did_lo < s.did < s.did_hi
    assert s.did == pytest.approx((after_t - before_t).mean() - (after_c - before_c).mean())
    assert s.relative_pct == pytest.approx(100 * ((after_t.sum() / before_t.sum()) / (after_c.sum() / before_c.sum())
                                                 - 1))
    assert s.cohens_d < 0


def test_spot_comparison_finds_nothing_when_nothing_changed():
    rng = np.random.default_rng(8)
    s = spot_comparison(rng.poisson(30, 200), rng.poisson(30, 200), rng.poisson(30, 200), rng.poisson(30, 200))
    assert s.did_lo < 0 < s.did_hi and s.p_value > 0.05


def test_matching_pairs_each_treated_unit_with_its_nearest_free_candidate():
    features = np.array([[10.0], [50.0], [11.0], [49.0], [30.0], [12.0]])
    out = match_controls(features, [0, 1])
    assert out.tolist() == [2, 3]
    # Unit 2 excluded (e.g. next door to a treated unit): 0 takes the next closest, 5.
    eligible = np.ones(6, dtype=bool)
    eligible[2] = False
    assert match_controls(features, [0, 1], eligible).tolist() == [5, 3]


def test_matching_uses_each_control_once_and_reports_when_candidates_run_out():
    features = np.array([[1.0, 0], [1.1, 0], [5.0, 1], [1.05, 0]])
    out = match_controls(features, [0, 1, 3])
    assert out.tolist() == [-1, 2, -1]  # unit 1 is the closest to the only candidate


def test_matching_hundreds_of_treated_units_is_the_same_greedy_rule():
    rng = np.random.default_rng(5)
    features = rng.normal(size=(3000, 2))
    treated = rng.choice(3000, 300, replace=False)
    out = match_controls(features, treated)
    assert len(set(out.tolist())) == 300 and not set(out.tolist()) & set(treated.tolist())
    # The first pair made is the closest treated-candidate pair of all.
    pool = np.setdiff1d(np.arange(3000), treated)
    z = (features - features.mean(axis=0)) / features.std(axis=0)
    d = np.linalg.norm(z[treated][:, None, :] - z[pool][None, :, :], axis=2)
    k, c = np.unravel_index(np.argmin(d), d.shape)
    assert out[k] == pool[c]
