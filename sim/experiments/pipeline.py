"""The run-and-compare pipeline behind ``pingan run`` and ``pingan compare``, callable from Python.

:func:`run_scenarios` runs every scenario × replicate under common random numbers into a results
folder — each finished run committed to ``store.sqlite`` the moment it finishes — and writes
what the commands write: ``metrics.csv`` (one row per scenario × replicate × year),
``parameters.csv`` (with a posterior: each replicate's parameter set), ``summary.csv``
(year-on-year change with intervals) and, comparing against a baseline, ``compare.csv``,
``packages.csv``, ``areas_county.csv``, ``areas_town.csv``, ``rings.csv``, the Pareto plot and
the HTML report; then the maps and the time series. It returns the tables, for the terminal (the
CLI prints them) or a notebook::

    scenarios = [load_scenario("suizhou_baseline"), load_scenario("suizhou_2022")]
    out = run_scenarios(scenarios, replicates=2, seed=1, scale=0.1, out=Path("results/mine"),
                        baseline="suizhou_baseline")
    out.packages

A posterior file gives each replicate its own parameter set (:func:`posterior_draws`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.csv_output import write_csv
from sim.experiments.runner import RunResult, run_batch, write_metrics
from sim.experiments.store import ResultsStore
from sim.experiments.summary import compare, summarise
from sim.presentation import Sample
from sim.scenario.schema import Scenario

__all__ = ["PipelineResult", "PosteriorDraws", "posterior_draws", "run_scenarios"]

log = logging.getLogger("pingan")


class PosteriorDraws:
    """Replicate r of every scenario runs with the r-th parameter set drawn from a posterior file."""

    def __init__(self, posterior, seed: int):
        self.posterior, self.seed = posterior, seed

    def draw(self, replicate: int) -> dict:
        return self.posterior.draw(self.seed, replicate)

    def __call__(self, scenario, replicate: int):
        from sim.calibration.posterior import with_parameters

        values = self.draw(replicate)
        return with_parameters(scenario, values), values


def posterior_draws(posterior: Path | None, scenarios: Sequence[Scenario], seed: int) -> PosteriorDraws | None:
    """Per-replicate parameter sets from a posterior file (None without one), checked against every scenario.

    Raises:
        sim.calibration.targets.CalibrationFileError: The file cannot be read, or names a parameter a
            scenario does not have.
    """
    if posterior is None:
        return None
    from sim.calibration.posterior import load_posterior

    post = load_posterior(posterior)
    for s in scenarios:
        post.check(s)
    return PosteriorDraws(post, seed)


@dataclass
class PipelineResult:
    """What :func:`run_scenarios` wrote, as tables.

    Attributes:
        results: Every run's result, in task order (scenario, then replicate).
        metrics: ``metrics.csv``.
        summary: ``summary.csv``.
        compare: ``compare.csv`` (against the baseline; None without one).
        packages: ``packages.csv`` (None without a baseline).
        rings: ``rings.csv`` (None without a baseline).
        sample: What the counts and costs describe (the first scenario's sample of the city).
        contents: Each scenario's package contents as the tables name them (None without a baseline).
    """

    results: list[RunResult]
    metrics: pd.DataFrame
    summary: pd.DataFrame
    compare: pd.DataFrame | None = None
    packages: pd.DataFrame | None = None
    rings: pd.DataFrame | None = None
    sample: Sample | None = None
    contents: dict[str, str] | None = None


def run_scenarios(scenarios: Sequence[Scenario], replicates: int, seed: int, scale: float, out: Path,
                  jobs: int = -1, backend: str = "loky", scheduler: str | None = None,
                  vary: PosteriorDraws | None = None, baseline: str | None = None, report: Path | None = None,
                  plots: bool = True, progress: bool = True, store: ResultsStore | None = None) -> PipelineResult:
    """Run the scenarios and write the results folder (see the module docstring).

    Args:
        scenarios: Validated scenarios with different names (the baseline first when comparing).
        replicates: Replicates per scenario (replicate r has the same seed in every scenario).
        seed: Base seed.
        scale: Fraction of the full city.
        out: The results folder (it must exist).
        jobs, backend, scheduler: As for :func:`sim.experiments.runner.run_tasks`.
        vary: Per-replicate parameter sets (:func:`posterior_draws`).
        baseline: Compare every scenario with this one (``pingan compare``); None: no comparison.
        report: With a baseline, also write the self-contained HTML report here.
        plots: Draw the PNG maps, time series and Pareto plot.
        progress: Progress bars.
        store: The results store to commit runs to (it is closed when the runs end); None: open
            ``out/store.sqlite``.

    Raises:
        KeyboardInterrupt: Interrupted; every run finished by then is in ``out/store.sqlite``.
    """
    if store is None:
        store = ResultsStore(out / "store.sqlite")
    log.debug(f"scenarios {[s.name for s in scenarios]}; results store {out / 'store.sqlite'}")
    try:
        results = run_batch(scenarios, replicates, seed, scale, jobs, store, progress=progress, backend=backend,
                            scheduler=scheduler, vary=vary)
    finally:
        store.close()
    df = write_metrics(results, out / "metrics.csv")
    if vary is not None:
        draws = pd.DataFrame([{"replicate": r, **vary.draw(r)} for r in range(replicates)])
        write_csv(draws, out / "parameters.csv", float_format="%.10g")
        log.info(f"parameters drawn from {vary.posterior.source} per replicate: {out / 'parameters.csv'}")
    summary = summarise(df)
    write_csv(summary, out / "summary.csv", float_format="%.10g")
    sample = Sample.of(df[df["scenario"] == scenarios[0].name], scale)  # what the counts and costs describe
    done = PipelineResult(results, df, summary, sample=sample)
    if baseline is not None:
        from sim.presentation import intervention_starts, package_contents

        diff = compare(df, baseline)
        write_csv(diff, out / "compare.csv", float_format="%.10g")
        done.compare = diff
        contents = {s.name: package_contents(s, scenarios[0] if s is not scenarios[0] else None) for s in scenarios}
        done.contents = contents
        done.packages, done.rings = _packages(df, results, baseline, out, plots=plots, sample=sample,
                                              contents=contents)
        if report is not None:
            from sim.plots import real_map
            from sim.report import comparison_report

            comparison_report(report, df, results, baseline, first_year=scenarios[0].run.first_year,
                              starts=intervention_starts(scenarios[1:], scenarios[0]), diff=diff,
                              meta={"baseline": baseline, "alternatives": ", ".join(s.name for s in scenarios[1:]),
                                    "replicates": replicates, "seed": seed, "scale": scale,
                                    "years": ", ".join(map(str, scenarios[0].run.year_labels))},
                              scale=scale, contents=contents, maps={s.name: real_map(s, scale) for s in scenarios})
            log.info(f"wrote the report {report}")
    if plots:
        _plots(results, scenarios, out, scale, sample)
    return done


def _packages(df, results, base: str, out: Path, plots: bool, sample: Sample | None,
              contents: dict[str, str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sim.experiments.packages import area_breakdown, package_table, pareto_plot, ring_effects

    table = package_table(df, base, contents=contents)
    write_csv(table, out / "packages.csv", float_format="%.10g")
    for level in ("county", "town"):
        write_csv(area_breakdown(results, base, level), out / f"areas_{level}.csv", float_format="%.10g")
    rings = ring_effects(results, base)
    write_csv(rings, out / "rings.csv", float_format="%.10g")
    if len(table) and plots:
        pareto_plot(table, out / "pareto.png", sample=sample)
    return table, rings


def _plots(results: list[RunResult], scenarios, out: Path, scale: float, sample: Sample | None) -> None:
    from sim.plots import incident_map, real_map, time_series
    from sim.presentation import intervention_starts

    by_name: dict[str, list[RunResult]] = {}
    for r in results:
        by_name.setdefault(r.scenario, []).append(r)
    for s in scenarios:  # a city on a real map is drawn on it
        incident_map(by_name[s.name], s.run.year_labels, out / f"map_{s.name}.png", layers=real_map(s, scale))
    starts = intervention_starts(scenarios[1:], scenarios[0]) if len(scenarios) > 1 else None
    time_series(by_name, scenarios[0].run.first_year, out / "timeseries.png", start=starts, sample=sample)
