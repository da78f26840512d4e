"""Experiments: running replicates with common random numbers, and summarising them."""

from sim.experiments.runner import RunResult, replicate_seed, run_batch, run_one, write_metrics
from sim.experiments.summary import compare, mean_interval, summarise

__all__ = [
    "RunResult",
    "replicate_seed",
    "run_batch",
    "run_one",
    "write_metrics",
    "compare",
    "mean_interval",
    "summarise",
]
