"""Scores of predictive distributions against the reported figures: PIT, interval coverage, CRPS.

A calibration's "hit" (the 90 % simulated interval meets the reported value ± its tolerance,
:func:`sim.calibration.calibrate.hits`) is a loose statistic: a wide enough predictive hits
everything, so a prior can score as well as a posterior. This module scores each target's
predictive sample — simulated values, one per draw and seed — the way forecasts are scored
(Gneiting & Raftery 2007, "Strictly proper scoring rules, prediction, and estimation", JASA
102:359-378):

- **PIT**: the reported value's position in the predictive distribution, the share of draws
  below it (ties count half: the mid-PIT). Near 0 or 1, the reported value lies in a tail;
  over many targets a calibrated model's PITs are roughly uniform.
- **inside 50 % / 90 %**: the reported value inside the central 50 % / 90 % interval of the
  draws — the *strict* statistic, reported first; the old touching rule (``touches``: the 90 %
  interval meets value ± tolerance) beside it.
- **interval score** of the central interval at level 1 − α: its width plus ``2/α`` times the
  distance by which the reported value falls outside it (proper for the interval's quantiles).
- **CRPS** (continuous ranked probability score), from the sample:
  ``mean|X − y| − mean|X − X'| / 2`` — the integral of the squared difference between the
  sample's distribution function and the step at the reported value ``y``; lower is better,
  in the target's unit; it rewards sharp distributions centred on ``y`` and is proper.

Scores are divided by each target's spread (its tolerance, or
:data:`sim.calibration.calibrate.DIRECTION_SPREAD` for a direction-only target) so that
they add up across targets. Targets reported as a bound ("98 % 以上") or only as a direction
("同比下降") have no point to score against: for them the table gives the share of draws on
the right side of the bound (strictly, and within the tolerance) and they are listed apart
(``group`` ``bound`` or ``direction``), out of the headline counts (:func:`score_summary`).

:func:`score_table` scores one predictive sample (draws × targets) — default parameters, the
prior predictive, the posterior predictive, a leave-one-out predictive — and
:func:`score_summary` puts sources side by side.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["GROUPS", "LEVELS", "mid_pit", "central_interval", "interval_score", "crps_sample",
           "right_side_share", "target_groups", "score_table", "score_summary"]

#: Central interval levels scored.
LEVELS = (0.5, 0.9)
#: Target groups: a reported point (value ± tolerance), a bound with a tolerance, a direction only.
GROUPS = ("point", "bound", "direction")


def _clean(samples) -> np.ndarray:
    x = np.asarray(samples, dtype=float).ravel()
    return x[np.isfinite(x)]


def mid_pit(samples, value: float) -> float:
    """Share of the draws below ``value``, ties counted half (NaN without draws)."""
    x = _clean(samples)
    if len(x) == 0 or not np.isfinite(value):
        return np.nan
    return float((np.sum(x < value) + 0.5 * np.sum(x == value)) / len(x))


def central_interval(samples, level: float) -> tuple[float, float]:
    """The central ``level`` interval of the draws: their (1 − level)/2 and (1 + level)/2 quantiles.

    Quantiles as :func:`numpy.quantile` computes them by default (linear interpolation), as the
    predictive table's 5-95 % range does.
    """
    x = _clean(samples)
    if not 0 < level < 1:
        raise ValueError(f"level: expected a share strictly between 0 and 1, got {level}")
    if len(x) == 0:
        return np.nan, np.nan
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def interval_score(lo: float, hi: float, value: float, level: float) -> float:
    """Interval score of the central interval [lo, hi] at ``level`` (lower is better).

    ``(hi − lo) + (2/α)(lo − y)·[y < lo] + (2/α)(y − hi)·[y > hi]`` with ``α = 1 − level``
    (Gneiting & Raftery 2007, eq. 43).
    """
    alpha = 1.0 - level
    return float((hi - lo) + 2.0 / alpha * max(lo - value, 0.0) + 2.0 / alpha * max(value - hi, 0.0))


def crps_sample(samples, value: float, fair: bool = False) -> float:
    """CRPS of the draws' empirical distribution at ``value`` (lower is better; NaN without draws).

    ``mean|x_i − y| − Σ_ij |x_i − x_j| / (2 n²)``, the exact CRPS of the empirical distribution;
    ``fair=True`` divides the second term by ``2 n (n − 1)`` instead, the unbiased estimate of the
    CRPS of the distribution the draws come from (Ferro 2014). The pair sum is computed from the
    sorted draws: ``Σ_ij |x_i − x_j| = 2 Σ_i (2i − n + 1) x_(i)``.
    """
    x = np.sort(_clean(samples))
    n = len(x)
    if n == 0 or not np.isfinite(value):
        return np.nan
    first = float(np.mean(np.abs(x - value)))
    pairs = 2.0 * float(np.sum((2.0 * np.arange(n) - n + 1.0) * x))
    if fair:
        return first - (pairs / (2.0 * n * (n - 1)) if n > 1 else 0.0)
    return first - pairs / (2.0 * n * n)


def right_side_share(samples, value: float, bound: str, slack: float = 0.0) -> float:
    """Share of the draws on the right side of a bound: ``≥ value − slack`` (lower), ``≤ value + slack`` (upper)."""
    x = _clean(samples)
    if len(x) == 0:
        return np.nan
    if bound == "lower":
        return float(np.mean(x >= value - slack))
    if bound == "upper":
        return float(np.mean(x <= value + slack))
    raise ValueError(f"bound: expected 'lower' or 'upper', got {bound!r}")


def target_groups(targets: pd.DataFrame) -> pd.Series:
    """Each target's group (:data:`GROUPS`): ``point``, ``bound`` (with a tolerance) or ``direction`` (tolerance 0)."""
    bound = targets["bound"].fillna("").astype(str).to_numpy()
    tol = targets["tolerance"].to_numpy(dtype=float)
    group = np.where(bound == "", "point", np.where(tol > 0, "bound", "direction"))
    return pd.Series(group, index=targets.index, name="group")


def score_table(samples: np.ndarray, targets: pd.DataFrame, source: str,
                spread: np.ndarray | None = None) -> pd.DataFrame:
    """Score a predictive sample against every target.

    Args:
        samples: Simulated target values, draws × targets (columns in the order of ``targets``);
            NaN where a draw has no value (e.g. a change from a zero count), left out.
        targets: The targets table (:func:`sim.calibration.targets.load_targets`) or any frame with
            ``target_id, value, tolerance, bound, kind``; a ``compared`` column, if there, is kept.
        source: What the sample is ("defaults", "prior", "posterior", "leave-one-out", ...).
        spread: Each target's scale for the scores in tolerances; default
            :func:`sim.calibration.calibrate.target_spread`.

    Returns:
        One row per target: ``source, target_id, group, reported, tolerance, bound, draws,
        median, lo_90, hi_90, pit, inside_50, inside_90, touches`` (the old hit rule),
        ``interval_score_50, interval_score_90, crps`` (each in tolerances; point targets only),
        ``right_side`` and ``right_side_within_tolerance`` (bound and direction targets only).
    """
    from sim.calibration.state import hits, target_spread

    samples = np.atleast_2d(np.asarray(samples, dtype=float))
    if samples.shape[1] != len(targets):
        raise ValueError(f"samples: expected {len(targets)} columns (one per target), got {samples.shape[1]}")
    spread = target_spread(targets) if spread is None else np.asarray(spread, dtype=float)
    groups = target_groups(targets).to_numpy()
    rows = []
    for j, t in enumerate(targets.itertuples(index=False)):
        x = _clean(samples[:, j])
        value, tol, bound = float(t.value), float(t.tolerance), str(t.bound or "")
        lo90, hi90 = central_interval(x, 0.9)
        row = {"source": source, "target_id": t.target_id, "group": groups[j], "reported": value,
               "tolerance": tol, "bound": bound, "draws": len(x),
               "median": float(np.median(x)) if len(x) else np.nan, "lo_90": lo90, "hi_90": hi90,
               "pit": mid_pit(x, value)}
        for level in LEVELS:
            lo, hi = central_interval(x, level)
            row[f"inside_{round(level * 100)}"] = bool(lo <= value <= hi) if len(x) else pd.NA
        one = targets.iloc[[j]]
        row["touches"] = bool(hits(np.array([lo90]), np.array([hi90]), one)[0]) if len(x) else pd.NA
        if groups[j] == "point":
            for level in LEVELS:
                lo, hi = central_interval(x, level)
                row[f"interval_score_{round(level * 100)}"] = interval_score(lo, hi, value, level) / spread[j]
            row["crps"] = crps_sample(x, value) / spread[j]
            row["right_side"] = row["right_side_within_tolerance"] = np.nan
        else:
            for level in LEVELS:
                row[f"interval_score_{round(level * 100)}"] = np.nan
            row["crps"] = np.nan
            row["right_side"] = right_side_share(x, value, bound)
            row["right_side_within_tolerance"] = right_side_share(x, value, bound, tol)
        if "compared" in targets:
            row["compared"] = bool(t.compared)
        rows.append(row)
    table = pd.DataFrame(rows)
    for c in ("inside_50", "inside_90", "touches"):
        table[c] = table[c].astype("boolean")
    return table


def score_summary(tables: pd.DataFrame | Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per source: the headline counts over point targets, then bound and direction targets apart.

    Args:
        tables: :func:`score_table` outputs, concatenated or by source. Rows with
            ``compared`` False (if the column is there) are left out.

    Returns:
        Per source: ``point_targets``, ``inside_90`` and ``inside_50`` (strict: the reported value
        inside the interval), ``touches_90`` (the old rule, beside it), ``mean_crps`` and
        ``mean_interval_score_90`` (in tolerances), ``pit_in_tails`` (PIT below 0.05 or above
        0.95); ``bound_targets`` and ``direction_targets`` with ``mean_right_side`` over them, and
        ``touches_all`` (the old rule over every target, the old headline count).
    """
    df = pd.concat(list(tables.values()), ignore_index=True) if isinstance(tables, Mapping) else tables
    if "compared" in df:
        df = df[df["compared"].astype(bool)]
    rows = []
    for source, g in df.groupby("source", sort=False):
        point = g[g["group"] == "point"]
        other = g[g["group"] != "point"]
        rows.append({
            "source": source,
            "point_targets": len(point),
            "inside_90": int(point["inside_90"].fillna(False).sum()),
            "inside_50": int(point["inside_50"].fillna(False).sum()),
            "touches_90": int(point["touches"].fillna(False).sum()),
            "mean_crps": float(point["crps"].mean()),
            "mean_interval_score_90": float(point["interval_score_90"].mean()),
            "pit_in_tails": int(((point["pit"] < 0.05) | (point["pit"] > 0.95)).sum()),
            "bound_targets": int((g["group"] == "bound").sum()),
            "direction_targets": int((g["group"] == "direction").sum()),
            "mean_right_side": float(other["right_side"].mean()) if len(other) else np.nan,
            "touches_all": int(g["touches"].fillna(False).sum()),
            "targets": len(g),
        })
    return pd.DataFrame(rows)
