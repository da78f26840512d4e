"""Robust scores: a package against the baseline over K posterior draws × R replicates.

Run (draw k, replicate r) of every package and of the baseline shares the parameter set of
posterior draw k and the seed of replicate r (common random numbers), so each package's effect is
a paired difference, run by run, in the last counted year. Each simulated objective is scored by

* its **mean** over the K × R paired differences, with a 95 % t-interval;
* its **pessimistic quantile** over the K draws (each draw's mean over its R replicates): the
  ``q``-quantile of a benefit (prevented cases, calls avoided) and the ``1 − q``-quantile of a
  harm (a longer response time), i.e. what the package still achieves when the calibrated
  uncertainty goes against it.

Benefits are signed so that more is better (baseline minus package); response times are package
minus baseline (less is better).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.experiments.summary import mean_interval

__all__ = ["SIMULATED", "HIGHER_IS_BETTER", "EFFECT_NAMES", "Score", "paired_effects", "score"]

#: Objectives measured by simulation, and the metric each is read from.
SIMULATED = ("preventable_cases", "calls_for_service", "response_time_median_min", "response_time_p90_min")
#: Whether more is better for each objective (as scored here).
HIGHER_IS_BETTER = {"preventable_cases": True, "calls_for_service": True, "response_time_median_min": False,
                    "response_time_p90_min": False, "cost": False}
#: Each objective's effect in words, as tables and figures name it (:func:`sim.presentation.objective_label`
#: adds the units and the sample).
EFFECT_NAMES = {"preventable_cases": "preventable cases prevented", "calls_for_service": "calls for service avoided",
                "response_time_median_min": "change of the median response time",
                "response_time_p90_min": "change of the 90th-percentile response time", "cost": "annual cost"}


@dataclass(frozen=True)
class Score:
    """One objective of one package.

    Attributes:
        mean, lo, hi: Mean paired effect over draws × replicates and its 95 % t-interval.
        pessimistic: The pessimistic quantile over draws (see the module docstring).
        by_draw: Each draw's mean effect over its replicates.
    """

    mean: float
    lo: float
    hi: float
    pessimistic: float
    by_draw: np.ndarray

    def value(self, kind: str) -> float:
        """The figure the search optimises: ``"mean"`` or ``"quantile"`` (the pessimistic one)."""
        return self.mean if kind == "mean" else self.pessimistic


def paired_effects(package: np.ndarray, baseline: np.ndarray, objective: str) -> np.ndarray:
    """Effects (draws × replicates), signed so that a benefit is positive for benefits."""
    package, baseline = np.asarray(package, float), np.asarray(baseline, float)
    return baseline - package if HIGHER_IS_BETTER[objective] else package - baseline


def score(effects: np.ndarray, objective: str, quantile: float) -> Score:
    """Score one objective from its paired effects (draws × replicates)."""
    effects = np.atleast_2d(np.asarray(effects, float))
    by_draw = effects.mean(axis=1)
    m, lo, hi = mean_interval(effects.ravel())
    q = quantile if HIGHER_IS_BETTER[objective] else 1.0 - quantile
    return Score(float(m), float(lo), float(hi), float(np.quantile(by_draw, q)), by_draw)
