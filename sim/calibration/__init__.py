"""Calibration against the seeds' reported outcomes: the targets table and the priors.

``load_targets`` reads ``calibration/targets.csv`` (one row per reported outcome the model can
produce, with its source file and the figure as printed there); ``load_priors`` reads
``calibration/priors.yaml`` (the behavioural parameters to estimate, with ranges and
justifications). The inference itself (ABC-SMC on the model or on Gaussian-process emulators of
it, posterior, predictive checks, tension report, leave-one-city-out) builds on these.
"""

from sim.calibration.targets import (
    COLUMNS,
    KINDS,
    MIN_SCALE,
    RESCALABLE_LEVELS,
    SCENARIO_MIN_SCALE,
    CalibrationFileError,
    Prior,
    check_sources,
    compared_years,
    load_priors,
    load_targets,
    min_scale,
    model_metrics,
    parameter_value,
    prior_overrides,
)

__all__ = [
    "COLUMNS",
    "KINDS",
    "MIN_SCALE",
    "RESCALABLE_LEVELS",
    "SCENARIO_MIN_SCALE",
    "CalibrationFileError",
    "Prior",
    "check_sources",
    "compared_years",
    "load_priors",
    "load_targets",
    "min_scale",
    "model_metrics",
    "parameter_value",
    "prior_overrides",
]
