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
