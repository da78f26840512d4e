"""The run-and-compare pipeline (sim.experiments.pipeline), called from Python as the CLI calls it."""

from __future__ import annotations

from sim.experiments.pipeline import run_scenarios
from sim.scenario import load_scenario

SHORT = ["run.warmup_days=7"]


def test_run_scenarios_writes_the_results_folder_and_returns_its_tables(tmp_path):
    scenarios = [load_scenario("suizhou_baseline", SHORT), load_scenario("suizhou_2022", SHORT)]
    done = run_scenarios(scenarios, replicates=1, seed=1, scale=0.05, out=tmp_path, jobs=1,
                         baseline="suizhou_baseline", plots=False, progress=False)
    for name in ("metrics", "summary", "compare", "packages", "rings", "areas_county", "areas_town"):
        assert (tmp_path / f"{name}.csv").is_file(), name
    assert not list(tmp_path.glob("*.png"))  # plots=False
    assert len(done.results) == 2 and len(done.metrics) == 2 * 2  # 2 scenarios × 1 replicate × 2 years
    for name, table in (("metrics", done.metrics), ("summary", done.summary), ("compare", done.compare),
                        ("packages", done.packages), ("rings", done.rings)):
        assert table.to_csv(index=False, float_format="%.10g") == (tmp_path / f"{name}.csv").read_text(), name
    assert set(done.compare["scenario"]) == {"suizhou_2022"} and done.packages["package"].tolist() == ["suizhou_2022"]
