"""The no-intervention baseline stays the same from year to year (sim.experiments.stationarity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.stationarity import CITIES, holm, run_baselines, year_drift


def test_holm_multiplies_the_ith_smallest_p_value_by_the_tests_left_and_keeps_the_order():
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.06 for the last.
    assert adjusted.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(holm([0.2, np.nan])[1]) and holm([0.2, np.nan])[0] == pytest.approx(0.2)
    assert holm([0.9, 0.8]).max() <= 1.0


def _frame(drift: float, replicates: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(replicates):
        level = rng.normal(300, 20)  # a replicate's own level, shared by its years
        for k, year in enumerate((2021, 2022, 2023)):
            rows.append({"scenario": "x", "replicate": r, "year": year,
                         "preventable_cases": rng.poisson(level * (1 + drift) ** k)})
    return pd.DataFrame(rows)


def test_a_planted_drift_between_years_is_found_and_noise_is_not():
    steady = year_drift(_frame(0.0), ["preventable_cases"])
    drifting = year_drift(_frame(-0.06), ["preventable_cases"])
    assert len(steady) == 2 and steady[["year_from", "year_to"]].values.tolist() == [[2021, 2022], [2022, 2023]]
    assert not steady["drift"].any()
    assert drifting["drift"].all()
    assert drifting["change_pct"].to_numpy() == pytest.approx([-6.0, -6.0], abs=1.5)
    row = drifting.iloc[0]
    assert row["change_pct_lo"] < row["change_pct"] < row["change_pct_hi"] < 0
    assert row["replicates"] == 40 and row["p_holm"] >= row["p_value"]


@pytest.mark.slow
def test_each_city_baseline_stays_within_noise_from_its_first_counted_year_to_the_next():
    """16 replicates of every city's baseline, two counted years, scale 0.1; and the old, empty start.

    Paired over replicates (common random numbers), no headline metric moves from the first counted
    year to the second beyond noise (Holm-adjusted paired t-tests at 5 % over the whole table). The
    same test catches the drift of a run that starts with no disputes and every offender free after
    a 28-day warm-up (the model before the stationary start): in Suizhou its disputes found rise by
    ~15 %, its dispute violence by ~36 % and its calls for service by ~1 %.
    """
    frame = run_baselines(CITIES, replicates=16, years=2, scale=0.1, jobs=2, progress=False)
    table = year_drift(frame)
    assert len(table) == len(CITIES) * 9
    assert not table["drift"].any(), table.loc[table["drift"], ["scenario", "metric", "change_pct", "p_holm"]]
    old = run_baselines(("suizhou",), replicates=16, years=2, scale=0.1, jobs=2, progress=False,
                        overrides=("run.stationary_start=false", "run.warmup_days=28"))
    drift = year_drift(old).set_index("metric")
    assert drift.loc[["disputes_found", "disputes_violent", "calls_for_service"], "drift"].all()
    assert drift.loc["disputes_found", "change_pct"] > 5 and drift.loc["disputes_violent", "change_pct"] > 20
