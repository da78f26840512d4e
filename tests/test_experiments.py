"""The experiment engine: identical results on every backend, and sweeps that survive a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import ResultsStore, load_sweep, run_tasks, sweep_tasks

ROOT = Path(__file__).resolve().parents[1]


def _spec(tmp_path: Path, n_values: int = 2, replicates: int = 2) -> Path:
    values = [0, 54000, 20000, 5000][:n_values]
    path = tmp_path / "quick.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: quick
        scenarios: [{ROOT / 'scenarios' / 'suizhou_2022.yaml'}]
        replicates: {replicates}
        seed: 3
        scale: 0.05
        overrides: ["run.years=2", "run.warmup_days=3"]
        design: {{kind: factorial}}
        factors:
          interventions.video.cameras: {{values: {values}}}
        """))
    return path


def _frame(store_path: Path) -> pd.DataFrame:
    with ResultsStore(store_path) as store:
        f = store.frame()
    return f.drop(columns=["sweep"]).sort_values(["point_id", "replicate", "year"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster.scheduler_address
    cluster.close()


@pytest.mark.slow
def test_results_are_identical_with_one_or_two_workers_and_on_dask(tmp_path, local_cluster):
    spec = load_sweep(_spec(tmp_path))
    tasks = sweep_tasks(spec)
    frames = {}
    for label, kw in (("jobs1", {"jobs": 1}), ("jobs2", {"jobs": 2}),
                      ("dask", {"jobs": -1, "backend": "dask", "scheduler": local_cluster})):
        path = tmp_path / f"{label}.sqlite"
        with ResultsStore(path) as store:
            results = run_tasks(tasks, store=store, sweep=spec.name, progress=False, **kw)
        assert all(r is not None for r in results)
        frames[label] = _frame(path)
    assert len(frames["jobs1"]) == len(tasks) * 2
    pd.testing.assert_frame_equal(frames["jobs1"], frames["jobs2"])
    pd.testing.assert_frame_equal(frames["jobs1"], frames["dask"])


def test_common_random_numbers_give_each_replicate_the_same_seed_at_every_point(tmp_path):
    tasks = sweep_tasks(load_sweep(_spec(tmp_path)))
    seeds = {(t.point_id, t.replicate): t.seed for t in tasks}
    assert seeds[(0, 0)] == seeds[(1, 0)] != seeds[(0, 1)] == seeds[(1, 1)]


@pytest.mark.slow
def test_a_killed_sweep_resumes_and_ends_with_every_run_exactly_once(tmp_path, paused_pingan):
    spec_path = _spec(tmp_path, n_values=4, replicates=2)
    store_path = tmp_path / "kill.sqlite"
    args = ["sweep", str(spec_path), "--jobs", "1", "--store", str(store_path), "--out", str(tmp_path / "out"), "-q"]
    proc = paused_pingan(args, after=2)  # two runs committed, the sweep held before its third
    with ResultsStore(store_path) as store:  # read while the sweep holds the store open
        done_before = store.count()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert done_before == 2

    cmd = [sys.executable, "-m", "sim.cli", *args]
    loud = [c for c in cmd if c != "-q"]  # -q hides progress messages, and the resume count is one
    again = subprocess.run(loud, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    with ResultsStore(store_path) as store:
        frame = store.frame()
        assert store.count() == 8
    assert frame.groupby("run_id")["year"].count().eq(2).all()  # each run once, complete
    tasks = sweep_tasks(load_sweep(spec_path))
    assert set(frame["run_id"]) == {t.run_id for t in tasks}
    already = [line for line in again.stderr.splitlines() if "already in" in line]
    assert already and int(already[0].split("(")[1].split()[0]) == done_before


def test_a_bad_sweep_file_fails_before_any_run(tmp_path, capsys):
    from sim.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text(_spec(tmp_path).read_text().replace("interventions.video.cameras", "interventions.video.camras"))
    assert main(["sweep", str(bad), "--store", str(tmp_path / "s.sqlite"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "camras" in err
    assert not (tmp_path / "s.sqlite").exists()


# -- summaries (sim.experiments.summary) -----------------------------------------------------


def _two_scenarios(base: list[float], alt: list[float], metric: str = "homicides") -> pd.DataFrame:
    rows = [{"scenario": s, "replicate": r, "year": 2022, metric: v}
            for s, values in (("base", base), ("alt", alt)) for r, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_relative_change_is_the_geometric_mean_ratio_of_paired_replicates():
    from sim.experiments.summary import relative_change

    point, lo, hi = relative_change([2.0, 8.0], [1.0, 2.0])  # ratios 2 and 4: geometric mean √8
    assert point == pytest.approx(100 * (8 ** 0.5 - 1))
    assert lo < point < hi


def test_percent_change_of_a_rare_count_never_goes_below_minus_100_and_is_flagged():
    from sim.experiments.summary import compare

    # Three replicates of a rare count falling sharply: on the old linear scale the lower end was far below -100 %.
    row = compare(_two_scenarios([9.0, 2.0, 12.0], [1.0, 1.0, 2.0]), "base").iloc[0]
    assert row.difference_lo / row.base_mean * 100 < -100  # what a linear-scale interval would have said
    assert -100 < row.relative_pct_lo < row.relative_pct < row.relative_pct_hi
    assert "rare" in row.flag
    assert row.difference == pytest.approx((1 + 1 + 2 - 9 - 2 - 12) / 3)


def test_tables_give_a_rare_count_as_a_difference_in_counts_not_a_wide_percent_interval():
    from sim.experiments.summary import compare
    from sim.presentation import format_compare

    diff = compare(_two_scenarios([9.0, 2.0, 12.0], [1.0, 1.0, 2.0]), "base")
    row = diff.iloc[0]
    from sim.presentation import interval

    text = format_compare(diff, (row.metric,))
    line = next(x for x in text.splitlines() if x.strip().startswith("homicides"))
    assert interval(row.difference, row.difference_lo, row.difference_hi, signed=True) in line and "rare" in line
    # The percent interval of a few events is not printed, only the point.
    assert line.count("[") == 2 and f"{row.relative_pct:+.0f} % (rare: read the difference)" in line


def test_a_zero_level_leaves_the_relative_change_empty_and_says_to_read_counts():
    from sim.experiments.summary import FLAGS, compare
    from sim.presentation import format_compare

    diff = compare(_two_scenarios([1.0, 2.0, 1.0], [0.0, 1.0, 0.0]), "base")
    row = diff.iloc[0]
    assert np.isnan(row.relative_pct) and np.isnan(row.relative_pct_lo)
    assert "zero level" in row.flag and "counts" in FLAGS["zero level"]
    assert "not estimable" in format_compare(diff, ("homicides",)) and "nan" not in format_compare(diff, ("homicides",))


def test_identical_replicates_are_flagged_as_a_zero_width_interval_without_variation():
    from sim.experiments.summary import compare

    row = compare(_two_scenarios([12.8, 12.8, 12.8], [10.2, 10.2, 10.2], "response_time_median_min"), "base").iloc[0]
    assert row.difference_lo == row.difference_hi
    assert "no variation" in row.flag and "rare" not in row.flag


def test_a_zero_cost_baseline_prints_its_change_as_an_absolute_figure():
    from sim.experiments.summary import summarise
    from sim.presentation import format_summary

    df = pd.DataFrame([{"scenario": "pkg", "replicate": r, "year": y, "cost_yuan": 0.0 if y == 2021 else 5e6}
                       for r in range(3) for y in (2021, 2022)])
    s = summarise(df)
    assert np.isnan(s.iloc[0].change_pct) and s.iloc[0].change == 5e6
    text = format_summary(s, ("cost_yuan",))
    line = next(x for x in text.splitlines() if x.strip().startswith("cost"))
    assert "cost [million yuan per year]" in line and " +5 " in line and "not estimable: read the difference" in line
    assert "nan" not in text and "e+0" not in text


def test_a_year_before_the_interventions_is_flagged_identical_not_certain():
    from sim.experiments.summary import compare

    row = compare(_two_scenarios([3.0, 5.0, 4.0], [3.0, 5.0, 4.0], "preventable_cases"), "base").iloc[0]
    assert row.difference == 0 and row.relative_pct == 0
    assert "identical" in row.flag.split("; ")


def test_a_run_of_a_seed_scenario_is_shown_next_to_what_the_city_reported():
    from sim.calibration.targets import default_input, load_targets
    from sim.experiments.summary import summarise
    from sim.presentation import format_reported

    df = pd.DataFrame([{"scenario": "suizhou_2022", "replicate": r, "year": y,
                        "preventable_cases": (200.0 if y == 2021 else 90.0) + r, "calls_for_service": 1000.0 - r}
                       for r in range(3) for y in (2021, 2022)])
    targets = load_targets(default_input("targets.csv"))
    text = format_reported(summarise(df), targets, scale=0.1, posterior=False)
    line = next(x for x in text.splitlines() if "preventable_cases" in x)
    # 200 -> 90, 201 -> 91, 202 -> 92: geometric mean of the ratios 0.4527, i.e. -54.7 %
    assert "-58 %" in line and "003_d0d6d615d3c4e2fc.txt" in line and "simulated -54.7 %" in line
    assert "--posterior" in text
    assert "compare at scale" in format_reported(summarise(df), targets, scale=0.05, posterior=True)
    assert "--posterior" not in format_reported(summarise(df), targets, scale=0.1, posterior=True)
    # A scenario nobody reported on gets no table.
    assert format_reported(summarise(df.assign(scenario="my_package")), targets, 0.1, False) == ""
