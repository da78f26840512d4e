"""Scores of predictive samples against reported figures: PIT, intervals, interval score, CRPS."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.calibration import load_targets
from sim.calibration.scores import (
    central_interval,
    crps_sample,
    interval_score,
    mid_pit,
    right_side_share,
    score_summary,
    score_table,
    target_groups,
)
from sim.calibration.state import target_spread


def normal_crps(mu: float, sigma: float, y: float) -> float:
    """Closed-form CRPS of N(mu, sigma²) at y (Gneiting & Raftery 2007, eq. 21)."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


def test_crps_of_two_draws_is_the_area_between_their_step_function_and_the_observation():
    # F jumps to 0.5 at 0 and to 1 at 1; against y = 0 the squared gap is 0.25 on [0, 1).
    assert crps_sample([0.0, 1.0], 0.0) == pytest.approx(0.25)
    # y = 0.5 between them: 0.25 on [0, 0.5) and 0.25 on [0.5, 1): 0.25.
    assert crps_sample([0.0, 1.0], 0.5) == pytest.approx(0.25)
    # Far above both: mean distance 2.5 − half the mean pair distance 0.25.
    assert crps_sample([0.0, 1.0], 3.0) == pytest.approx(2.25)


def test_crps_of_a_single_draw_is_the_absolute_error():
    assert crps_sample([2.0], 5.0) == pytest.approx(3.0)


def test_crps_of_a_large_normal_sample_matches_the_closed_form():
    x = np.random.default_rng(5).normal(1.0, 2.0, 200_000)
    for y in (-3.0, 1.0, 4.5):
        assert crps_sample(x, y) == pytest.approx(normal_crps(1.0, 2.0, y), rel=0.01)


def test_crps_pair_sum_from_sorted_draws_equals_the_direct_double_sum():
    x = np.random.default_rng(2).gamma(2.0, 3.0, 57)
    y = 4.0
    direct = np.mean(np.abs(x - y)) - np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2)
    assert crps_sample(x, y) == pytest.approx(direct)
    fair = np.mean(np.abs(x - y)) - np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * (len(x) - 1))
    assert crps_sample(x, y, fair=True) == pytest.approx(fair)


def test_crps_rewards_a_sharp_forecast_centred_on_the_observation():
    rng = np.random.default_rng(1)
    sharp, wide, off = rng.normal(0, 1, 5000), rng.normal(0, 5, 5000), rng.normal(3, 1, 5000)
    assert crps_sample(sharp, 0.0) < crps_sample(wide, 0.0)
    assert crps_sample(sharp, 0.0) < crps_sample(off, 0.0)


def test_nan_draws_are_left_out():
    assert crps_sample([0.0, np.nan, 1.0], 0.0) == pytest.approx(0.25)
    assert math.isnan(crps_sample([np.nan], 0.0))
    assert mid_pit([1.0, np.nan, 3.0], 2.0) == pytest.approx(0.5)


def test_mid_pit_counts_ties_half():
    assert mid_pit([1, 2, 3, 4], 2.5) == pytest.approx(0.5)
    assert mid_pit([1, 2, 2, 4], 2.0) == pytest.approx(0.5)  # one below, two ties: (1 + 1) / 4
    assert mid_pit([1, 2, 3], 0.0) == 0.0 and mid_pit([1, 2, 3], 9.0) == 1.0


def test_pits_of_draws_from_the_true_distribution_are_uniform():
    rng = np.random.default_rng(11)
    pits = [mid_pit(rng.normal(0, 1, 400), rng.normal(0, 1)) for _ in range(2000)]
    assert stats.kstest(pits, "uniform").pvalue > 0.01
    assert np.mean((np.array(pits) > 0.05) & (np.array(pits) < 0.95)) == pytest.approx(0.9, abs=0.02)


def test_central_interval_uses_the_sample_quantiles():
    x = np.arange(101.0)
    assert central_interval(x, 0.9) == pytest.approx((5.0, 95.0))
    assert central_interval(x, 0.5) == pytest.approx((25.0, 75.0))
    with pytest.raises(ValueError, match="level"):
        central_interval(x, 1.0)


def test_interval_score_is_the_width_inside_and_adds_the_miss_times_two_over_alpha_outside():
    assert interval_score(2.0, 6.0, 3.0, 0.9) == pytest.approx(4.0)
    assert interval_score(2.0, 6.0, 7.0, 0.9) == pytest.approx(4.0 + 20.0 * 1.0)
    assert interval_score(2.0, 6.0, 1.5, 0.5) == pytest.approx(4.0 + 4.0 * 0.5)


def test_right_side_share_counts_draws_beyond_the_bound_with_or_without_slack():
    x = [0.94, 0.96, 0.975, 0.985]
    assert right_side_share(x, 0.98, "lower") == pytest.approx(0.25)
    assert right_side_share(x, 0.98, "lower", 0.01) == pytest.approx(0.5)
    assert right_side_share([-3, 1, -1], 0.0, "upper") == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="bound"):
        right_side_share(x, 0.0, "")


@pytest.fixture(scope="module")
def targets() -> pd.DataFrame:
    return load_targets("calibration/targets.csv")


def test_targets_are_grouped_into_points_bounds_and_directions(targets):
    g = target_groups(targets).set_axis(targets["target_id"])
    assert g["sz_preventable_cases_yoy"] == "point"
    assert g["jc_mediation_success"] == "bound"  # ≥ 98 % with a tolerance
    assert g["dq_fraud_yoy"] == "direction"  # "fell", tolerance 0
    assert set(g) == {"point", "bound", "direction"}


def _sample(targets, centre, sd, n=400, seed=0):
    rng = np.random.default_rng(seed)
    return centre[None, :] + sd[None, :] * rng.standard_normal((n, len(targets)))


def test_a_predictive_centred_on_the_reports_beats_a_wide_one_and_a_shifted_one(targets):
    value = targets["value"].to_numpy(float)
    spread = target_spread(targets)
    good = score_table(_sample(targets, value, spread), targets, "good")
    wide = score_table(_sample(targets, value, 20 * spread), targets, "wide")
    shifted = score_table(_sample(targets, value + 3 * spread, spread), targets, "shifted")
    summary = score_summary({"good": good, "wide": wide, "shifted": shifted}).set_index("source")
    assert summary.loc["good", "mean_crps"] < summary.loc["wide", "mean_crps"]
    assert summary.loc["good", "mean_crps"] < summary.loc["shifted", "mean_crps"]
    # Neither the old touching rule nor coverage tells the wide predictive from the good one; the proper scores do.
    n = summary.loc["good", "point_targets"]
    assert summary.loc["wide", "touches_90"] == summary.loc["good", "touches_90"] == n
    assert summary.loc["wide", "mean_interval_score_90"] > 5 * summary.loc["good", "mean_interval_score_90"]
    assert summary.loc["shifted", "inside_90"] < summary.loc["good", "inside_90"]
    points = good["group"] == "point"
    assert good.loc[points, "right_side"].isna().all() and good.loc[~points, "crps"].isna().all()


def test_scores_are_per_target_in_tolerances(targets):
    one = targets[targets["target_id"] == "sz_preventable_cases_yoy"].reset_index(drop=True)
    row = score_table(np.array([[-60.0], [-50.0]]), one, "x").iloc[0]
    # CRPS of {−60, −50} at −58: mean |x − y| 5 − 10/4 = 2.5, in tolerances of 5: 0.5.
    assert row["crps"] == pytest.approx(0.5)
    assert row["pit"] == pytest.approx(0.5)
    assert row["draws"] == 2 and bool(row["inside_90"])


def test_bound_and_direction_targets_stay_out_of_the_headline_count(targets):
    value = targets["value"].to_numpy(float)
    table = score_table(np.tile(value, (10, 1)), targets, "exact")
    s = score_summary(table).iloc[0]
    assert s["point_targets"] == int((target_groups(targets) == "point").sum())
    assert s["bound_targets"] + s["direction_targets"] + s["point_targets"] == len(targets)
    assert s["mean_right_side"] == pytest.approx(1.0)  # every draw exactly on the bound is on its right side


def test_uncompared_targets_are_left_out_of_the_summary(targets):
    t = targets.assign(compared=targets["min_scale"] <= 0.1)
    table = score_table(np.tile(t["value"].to_numpy(float), (5, 1)), t, "x")
    assert score_summary(table).iloc[0]["targets"] == int(t["compared"].sum())


def test_a_sample_with_the_wrong_number_of_columns_is_refused(targets):
    with pytest.raises(ValueError, match="columns"):
        score_table(np.zeros((3, 2)), targets, "x")
