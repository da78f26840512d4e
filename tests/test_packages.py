"""Package comparison (sim.experiments.packages): effects, cost, Pareto, areas, rings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.experiments.packages import area_breakdown, package_table, pareto_front, ring_distance, ring_effects
from sim.experiments.runner import metrics_frame, run_batch


def _frame(effects: dict[str, tuple[float, float]], reps: int = 5) -> pd.DataFrame:
    """A metrics frame: baseline 100 cases; each package cuts (mean) and costs (yuan)."""
    rng = np.random.default_rng(0)
    rows = []
    for r in range(reps):
        noise = rng.normal(0, 3)
        rows.append({"scenario": "base", "replicate": r, "year": 2022, "preventable_cases": 100 + noise,
                     "cost_yuan": 0.0})
        for name, (cut, cost) in effects.items():
            rows.append({"scenario": name, "replicate": r, "year": 2022,
                         "preventable_cases": 100 + noise - cut + rng.normal(0, 0.5), "cost_yuan": cost})
    return pd.DataFrame(rows)


def test_packages_are_ranked_by_cases_prevented_with_paired_intervals():
    t = package_table(_frame({"small": (5, 1e6), "big": (30, 9e6), "none": (0, 2e6)}), "base")
    assert list(t["package"]) == ["big", "small", "none"]
    big = t.iloc[0]
    assert big.prevented_lo < 30 < big.prevented_hi
    assert big.prevented_hi - big.prevented_lo < 3  # pairing removes the shared noise (sd 3)
    assert big.cost_per_prevented_yuan == pytest.approx(9e6 / big.prevented)


def test_cost_per_prevented_case_has_no_interval_when_nothing_is_prevented():
    t = package_table(_frame({"none": (0, 2e6)}), "base")
    assert np.isnan(t.iloc[0].cost_per_prevented_lo)


def test_pareto_front_keeps_only_packages_no_other_beats_on_cost_and_effect():
    cost = np.array([1.0, 2.0, 3.0, 2.5])
    effect = np.array([5.0, 10.0, 12.0, 9.0])  # the fourth costs more than the second and does less
    assert pareto_front(cost, effect).tolist() == [True, True, True, False]


def test_ring_distance_counts_lattice_steps_to_the_nearest_treated_cell():
    xy = np.array([[0.25, 0.25], [0.75, 0.25], [1.25, 0.75], [2.25, 2.25]])
    d = ring_distance(xy, np.array([0]), 0.5)
    assert d.tolist() == [0, 1, 2, 4]


@pytest.fixture(scope="module")
def station_runs():
    base = load_scenario("suizhou_baseline", ["run.warmup_days=7"])
    alt = load_scenario("suizhou_baseline", ["run.warmup_days=7", "name=stations",
                                             "interventions.street_police_stations.enabled=true",
                                             "interventions.street_police_stations.count=40"])
    return run_batch([base, alt], replicates=3, base_seed=5, scale=0.1, jobs=2, progress=False)


def test_areas_and_rings_cover_the_whole_city(station_runs):
    areas = area_breakdown(station_runs, "suizhou_baseline", "county")
    rec = areas[(areas["offences"] == "true") & (areas["package"] == "stations")]
    assert set(rec["area"]) == {"Zengdu", "Sui County", "Guangshui"}
    rings = ring_effects(station_runs, "suizhou_baseline")
    assert list(rings["ring"]) == ["treated", "1", "2", "3", "outside"]
    base_total = sum(r.cell_offences_true[-1].sum() for r in station_runs if r.scenario == "suizhou_baseline") / 3
    assert rings["base_mean"].sum() == pytest.approx(base_total)


def test_street_police_stations_prevent_offences_in_the_cells_they_treat(station_runs):
    rings = ring_effects(station_runs, "suizhou_baseline").set_index("ring")
    assert rings.loc["treated", "difference"] < 0
    df = metrics_frame(station_runs)
    t = package_table(df, "suizhou_baseline")
    assert t.iloc[0].extra_cost_yuan > 0


def test_cost_per_prevented_case_is_not_estimable_when_the_prevented_interval_includes_zero():
    t = package_table(_frame({"none": (0, 2e6)}), "base")
    row = t.iloc[0]
    assert row.prevented_lo < 0 < row.prevented_hi
    assert np.isnan(row.cost_per_prevented_yuan)
    assert row.cost_per_prevented_note == "not estimable: the prevented-cases interval includes zero"


def test_cost_per_prevented_case_has_a_reproducible_bootstrap_interval_around_the_ratio_of_means():
    t1 = package_table(_frame({"big": (30, 9e6)}), "base")
    t2 = package_table(_frame({"big": (30, 9e6)}), "base")
    row = t1.iloc[0]
    assert row.cost_per_prevented_lo < row.cost_per_prevented_yuan < row.cost_per_prevented_hi
    assert row.cost_per_prevented_hi - row.cost_per_prevented_lo > 0
    assert row.cost_per_prevented_note == ""
    pd.testing.assert_frame_equal(t1, t2)


def test_cost_per_prevented_bootstrap_resamples_pairs_of_cost_and_cases():
    from scipy import stats

    from sim.experiments.packages import cost_per_prevented

    cost, cases = np.array([1e6, 2e6, 3e6, 2e6]), np.array([10.0, 25.0, 28.0, 20.0])
    point, lo, hi, note = cost_per_prevented(cost, cases, seed=3)
    assert point == pytest.approx(cost.mean() / cases.mean()) and note == ""
    # The same as scipy's paired percentile bootstrap of the ratio of means with the same generator.
    kw = {"rng" if "rng" in __import__("inspect").signature(stats.bootstrap).parameters else "random_state":
          np.random.default_rng(3)}
    ref = stats.bootstrap((cost, cases), lambda c, p, axis=-1: c.mean(axis) / p.mean(axis), paired=True,
                          vectorized=True, method="percentile", n_resamples=2000, **kw).confidence_interval
    assert (lo, hi) == pytest.approx((ref.low, ref.high))


def test_package_table_keeps_its_old_columns_first_and_shows_a_zero_cost_baseline_as_an_absolute_cost():
    from sim.experiments.packages import PACKAGE_COLUMNS

    t = package_table(_frame({"small": (5, 1e6), "big": (30, 9e6)}), "base")
    old = ["rank", "package", "year", "preventable_cases_base", "prevented", "prevented_lo", "prevented_hi",
           "prevented_pct", "extra_cost_yuan", "extra_cost_lo", "extra_cost_hi", "cost_per_prevented_yuan",
           "cost_per_prevented_lo", "cost_per_prevented_hi", "replicates", "pareto"]
    assert list(t.columns[:len(old)]) == old
    documented = {c.replace("{metric}", "preventable_cases") for c in PACKAGE_COLUMNS}
    assert set(t.columns) <= documented
    assert (t["cost_yuan_base"] == 0).all() and t.set_index("package").loc["big", "cost_yuan"] == 9e6
    assert (t["prevented_pct_hi"] <= 100).all() and not t[["prevented_pct", "prevented_pct_lo"]].isna().any().any()
