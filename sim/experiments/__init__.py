"""Experiments: one runner and one results store for runs, comparisons, sweeps, sensitivity
analysis and calibration."""

from sim.experiments.packages import area_breakdown, package_table, pareto_front, pareto_plot, ring_effects
from sim.experiments.runner import (
    Recompute,
    RunResult,
    Task,
    metrics_frame,
    replicate_seed,
    run_batch,
    run_one,
    run_tasks,
    scenario_tasks,
    write_metrics,
)
from sim.experiments.sensitivity import analyse, plot
from sim.experiments.store import ResultsStore, RunRecord, run_id
from sim.experiments.summary import compare, mean_interval, summarise
from sim.experiments.sweep import SweepError, SweepSpec, design_points, load_sweep, sweep_tasks

__all__ = [
    "Recompute",
    "ResultsStore",
    "RunRecord",
    "RunResult",
    "SweepError",
    "SweepSpec",
    "Task",
    "analyse",
    "area_breakdown",
    "compare",
    "design_points",
    "load_sweep",
    "mean_interval",
    "metrics_frame",
    "package_table",
    "pareto_front",
    "pareto_plot",
    "plot",
    "replicate_seed",
    "ring_effects",
    "run_batch",
    "run_id",
    "run_one",
    "run_tasks",
    "scenario_tasks",
    "summarise",
    "sweep_tasks",
    "write_metrics",
]
