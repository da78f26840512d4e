"""The statistics of published evaluation designs, as pure functions of counts and records.

The evidence table compares the model with field studies; to compare like with like, the
model must be measured the way each study measured the world. This module holds those
measurements, independent of how the simulated records are gathered:

- **Knox test** (:func:`knox_test`; Knox 1964, Johnson et al. 2007 "Space-time patterns of
  risk", J Quant Criminol 23:201-219): pairs of offences close in space *and* time, counted
  in distance × time bands and compared with the counts when the offences' times are
  shuffled among them (Monte-Carlo permutation, which keeps where and when offences happen
  but breaks any link between the two). Ratio > 1 with a small p-value: near repeats.
- **Area before/after with a control area** (:func:`relative_effect_size`; Welsh & Farrington
  2009, "Public area CCTV and crime prevention", Justice Quarterly 26:716-745): the odds ratio
  ``RES = (a·d)/(b·c)`` of crimes before (``a``) and after (``b``) in the treated area and before
  (``c``) and after (``d``) in the control area; RES > 1 means crime fell relative to the control.
  Its log has variance ``1/a + 1/b + 1/c + 1/d`` under Poisson counts, times an overdispersion
  factor ``D`` (Farrington, Gill et al. 2007). :func:`pooled_effect` combines several areas the
  way the meta-analysis did (inverse-variance weights, DerSimonian-Laird random effects).
- **Treated against control spots** (:func:`spot_comparison`; Sherman & Weisburd 1995, "General
  deterrent effects of police patrol in crime hot spots", Justice Quarterly 12:625-648; Braga et
  al. 2019 for the effect size): crime calls per spot before and after in treated and control
  spots; the difference in mean change (difference in differences) with Welch's t-test, the
  relative change of treated against control spots, and the standardised mean difference
  (Cohen's d) of the changes.
- **Matched controls** (:func:`match_controls`): each treated area or spot paired with the
  untreated candidate nearest on standardised pre-period features (e.g. the year's crime count
  and land use), greedily and without replacement, optionally excluding a buffer around the
  treated units (so displacement or diffusion next door does not contaminate the control).

Every function takes plain arrays (counts, coordinates, hours) and returns plain numbers or
frames; none runs the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree

from sim.rng import stream

__all__ = ["KnoxResult", "knox_test", "EffectSize", "relative_effect_size", "pooled_effect", "SpotComparison",
           "spot_comparison", "match_controls"]


# --------------------------------------------------------------------------- Knox test
@dataclass(frozen=True)
class KnoxResult:
    """A Knox table: one row per distance band × time band.

    ``table`` columns: ``distance_lo, distance_hi`` (same unit as the coordinates), ``time_lo,
    time_hi`` (same unit as the times), ``observed`` pairs, ``expected`` (mean over permutations),
    ``ratio`` (observed / expected), ``p_value`` (one-sided, ``(1 + #{permuted ≥ observed}) /
    (1 + permutations)``).
    """

    table: pd.DataFrame
    permutations: int
    offences: int

    def cell(self, distance_band: int = 0, time_band: int = 0) -> pd.Series:
        """The row of one band pair (0, 0: closest in space and time)."""
        n_time = self.table["time_lo"].nunique()
        return self.table.iloc[distance_band * n_time + time_band]


def knox_test(xy: np.ndarray, times: np.ndarray, distance_edges, time_edges, permutations: int = 99,
              seed: int = 0, min_time: float = 0.0) -> KnoxResult:
    """Knox test of space-time clustering in offence records.

    A pair of offences is in distance band k when ``edges[k] ≤ d ≤ edges[k+1]`` for k = 0 and
    ``edges[k] < d ≤ edges[k+1]`` after (the first band includes distance 0, the same place),
    and likewise in time. Pairs less than ``min_time`` apart in time are not counted (e.g.
    offences decided in the same simulated hour cannot repeat each other).

    Args:
        xy: Offence coordinates, n × 2 (e.g. cell centres in km).
        times: Offence times, n (e.g. hours).
        distance_edges: Increasing band edges, starting at 0.
        time_edges: Increasing band edges, starting at 0 (or at ``min_time``).
        permutations: Monte-Carlo permutations of the times.
        seed: Seed of the permutations' stream.
        min_time: Pairs closer in time than this are left out (in observed and permuted counts).

    Returns:
        The table of observed and expected pairs (:class:`KnoxResult`).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    times = np.asarray(times, dtype=float)
    d_edges, t_edges = np.asarray(distance_edges, dtype=float), np.asarray(time_edges, dtype=float)
    if len(xy) != len(times):
        raise ValueError(f"xy and times: expected one time per offence, got {len(xy)} and {len(times)}")
    for name, e in (("distance_edges", d_edges), ("time_edges", t_edges)):
        if len(e) < 2 or e[0] < 0 or np.any(np.diff(e) <= 0):
            raise ValueError(f"{name}: expected at least two increasing edges from 0 or more, got {e.tolist()}")
    if permutations < 1:
        raise ValueError(f"permutations: expected at least 1, got {permutations}")
    n_d, n_t = len(d_edges) - 1, len(t_edges) - 1
    if len(xy) >= 2:
        pairs = cKDTree(xy).query_pairs(r=float(d_edges[-1]), output_type="ndarray")
    else:
        pairs = np.zeros((0, 2), dtype=np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    dist = np.hypot(*(xy[i] - xy[j]).T)
    d_band = np.maximum(np.searchsorted(d_edges, dist, side="left") - 1, 0)
    keep = (dist >= d_edges[0]) & (dist <= d_edges[-1])
    i, j, d_band = i[keep], j[keep], d_band[keep]

    def counts(t: np.ndarray) -> np.ndarray:
        dt = np.abs(t[i] - t[j])
        t_band = np.maximum(np.searchsorted(t_edges, dt, side="left") - 1, 0)
        ok = (dt >= max(t_edges[0], min_time)) & (dt <= t_edges[-1])
        return np.bincount(d_band[ok] * n_t + t_band[ok], minlength=n_d * n_t).astype(float)

    observed = counts(times)
    rng = stream(seed, "designs.knox")
    permuted = np.array([counts(rng.permutation(times)) for _ in range(permutations)])
    expected = permuted.mean(axis=0)
    p = (1.0 + (permuted >= observed[None, :]).sum(axis=0)) / (1.0 + permutations)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    dd, tt = np.divmod(np.arange(n_d * n_t), n_t)
    table = pd.DataFrame({"distance_lo": d_edges[dd], "distance_hi": d_edges[dd + 1], "time_lo": t_edges[tt],
                          "time_hi": t_edges[tt + 1], "observed": observed, "expected": expected, "ratio": ratio,
                          "p_value": p})
    return KnoxResult(table, permutations, len(times))


# --------------------------------------------------------------------------- areas, before and after
@dataclass(frozen=True)
class EffectSize:
    """An odds-ratio effect size with its interval.

    ``res`` > 1: crime fell in the treated area relative to the control. ``change_pct`` is the
    treated area's change relative to the control, ``100 × (1/RES − 1)`` (Welsh & Farrington's
    "16 % fewer crimes" is RES ≈ 1.19), with ``change_pct_lo/_hi`` from the RES interval.
    """

    res: float
    lo: float
    hi: float
    log_res: float
    log_variance: float

    @property
    def change_pct(self) -> float:
        return 100.0 * (1.0 / self.res - 1.0)

    @property
    def change_pct_lo(self) -> float:
        return 100.0 * (1.0 / self.hi - 1.0)

    @property
    def change_pct_hi(self) -> float:
        return 100.0 * (1.0 / self.lo - 1.0)


def relative_effect_size(before_treated: float, after_treated: float, before_control: float, after_control: float,
                         overdispersion: float = 1.0, level: float = 0.95) -> EffectSize:
    """Welsh & Farrington's relative effect size ``RES = (a·d)/(b·c)`` with its interval.

    Args:
        before_treated, after_treated: Crimes in the treated area before (``a``) and after (``b``).
        before_control, after_control: Crimes in the control area before (``c``) and after (``d``).
        overdispersion: ``D`` ≥ 1, multiplying the Poisson variance of log RES (Farrington et al.
            2007 estimated it from monthly counts; 1 is the Poisson case).
        level: Level of the interval.

    Raises:
        ValueError: If a count is not positive (log RES is undefined) or ``D`` < 1.
    """
    a, b, c, d = (float(x) for x in (before_treated, after_treated, before_control, after_control))
    if min(a, b, c, d) <= 0:
        raise ValueError(f"counts: expected four positive counts (a, b, c, d), got {a}, {b}, {c}, {d}")
    if overdispersion < 1:
        raise ValueError(f"overdispersion: expected at least 1, got {overdispersion}")
    log_res = math.log(a * d / (b * c))
    var = overdispersion * (1 / a + 1 / b + 1 / c + 1 / d)
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * math.sqrt(var)
    return EffectSize(math.exp(log_res), math.exp(log_res - half), math.exp(log_res + half), log_res, var)


def pooled_effect(log_effects, variances, level: float = 0.95, random_effects: bool = True) -> EffectSize:
    """Inverse-variance pooled log effect (DerSimonian-Laird random effects, or fixed effect).

    Args:
        log_effects: Log effect sizes (e.g. :attr:`EffectSize.log_res` of several areas).
        variances: Their variances.
        level: Level of the interval.
        random_effects: Add the between-area variance τ² (DerSimonian & Laird 1986) to each
            variance before weighting; False gives the fixed-effect estimate.
    """
    y, v = np.asarray(log_effects, dtype=float), np.asarray(variances, dtype=float)
    if len(y) == 0 or len(y) != len(v) or np.any(v <= 0):
        raise ValueError("log_effects and variances: expected as many positive variances as effects, at least one")
    w = 1.0 / v
    fixed = float(np.sum(w * y) / np.sum(w))
    tau2 = 0.0
    if random_effects and len(y) > 1:
        q = float(np.sum(w * (y - fixed) ** 2))
        tau2 = max(0.0, (q - (len(y) - 1)) / (np.sum(w) - np.sum(w ** 2) / np.sum(w)))
    w = 1.0 / (v + tau2)
    mean = float(np.sum(w * y) / np.sum(w))
    var = float(1.0 / np.sum(w))
    half = stats.norm.ppf(0.5 + level / 2) * math.sqrt(var)
    return EffectSize(math.exp(mean), math.exp(mean - half), math.exp(mean + half), mean, var)


# --------------------------------------------------------------------------- spots, treated and control
@dataclass(frozen=True)
class SpotComparison:
    """Treated against control spots, before and after.

    ``did``: mean change per treated spot minus mean change per control spot (counts), with its
    Welch interval ``did_lo/_hi`` and two-sided ``p_value``; ``relative_pct``: the treated spots'
    after/before ratio over the control spots', minus 1, in percent (the RES of the pooled
    counts, as :func:`relative_effect_size` gives it, read as a change); ``cohens_d``: the
    difference in mean change over the pooled standard deviation of the changes (negative: crime
    fell more at treated spots).
    """

    did: float
    did_lo: float
    did_hi: float
    p_value: float
    relative_pct: float
    cohens_d: float
    treated: int
    controls: int


def spot_comparison(treated_before, treated_after, control_before, control_after,
                    level: float = 0.95) -> SpotComparison:
    """Compare crime at treated spots with control spots, before and after (Sherman & Weisburd's design).

    Args:
        treated_before, treated_after: Counts per treated spot (e.g. crime calls) before and after.
        control_before, control_after: The same for the control spots.
        level: Level of the difference-in-differences interval.
    """
    tb, ta = np.asarray(treated_before, dtype=float), np.asarray(treated_after, dtype=float)
    cb, ca = np.asarray(control_before, dtype=float), np.asarray(control_after, dtype=float)
    if len(tb) != len(ta) or len(cb) != len(ca) or len(tb) < 2 or len(cb) < 2:
        raise ValueError("spots: expected before and after counts for at least two treated and two control spots")
    dt, dc = ta - tb, ca - cb
    did = float(dt.mean() - dc.mean())
    vt, vc = dt.var(ddof=1) / len(dt), dc.var(ddof=1) / len(dc)
    se = math.sqrt(vt + vc)
    if se > 0:
        df = (vt + vc) ** 2 / (vt ** 2 / (len(dt) - 1) + vc ** 2 / (len(dc) - 1)) if vt + vc > 0 else np.inf
        half = stats.t.ppf(0.5 + level / 2, df) * se
        p = float(2 * stats.t.sf(abs(did) / se, df))
    else:
        half, p = 0.0, (1.0 if did == 0 else 0.0)
    pooled_sd = math.sqrt(((len(dt) - 1) * dt.var(ddof=1) + (len(dc) - 1) * dc.var(ddof=1))
                          / (len(dt) + len(dc) - 2))
    d = did / pooled_sd if pooled_sd > 0 else np.nan
    sums = (tb.sum(), ta.sum(), cb.sum(), ca.sum())
    rel = 100.0 * ((sums[1] / sums[0]) / (sums[3] / sums[2]) - 1.0) if min(sums) > 0 else np.nan
    return SpotComparison(did, did - half, did + half, p, float(rel), float(d), len(dt), len(dc))


# --------------------------------------------------------------------------- matching
def match_controls(features: np.ndarray, treated, eligible=None) -> np.ndarray:
    """The nearest untreated candidate for each treated unit, greedily and without replacement.

    Features are standardised (each column to unit standard deviation over the eligible and
    treated units; a constant column is ignored) and distances are Euclidean. Treated units
    are matched in order of how close their nearest candidate is, so the best pairs are made
    first (greedy nearest-neighbour matching); a candidate is used once.

    Args:
        features: Units × features (e.g. pre-period crime count, residents, land use as 0/1 columns).
        treated: Indices of the treated units.
        eligible: Boolean mask of units that may serve as controls (default: every untreated
            unit); e.g. untreated and not adjacent to a treated unit.

    Returns:
        For each treated unit in the order given, the index of its control (−1 if candidates
        ran out).
    """
    x = np.asarray(features, dtype=float)
    x = x.reshape(len(x), -1)
    treated = np.asarray(treated, dtype=np.int64)
    ok = np.ones(len(x), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool).copy()
    ok[treated] = False
    pool = np.flatnonzero(ok)
    used = np.concatenate([treated, pool])
    sd = x[used].std(axis=0)
    z = np.where(sd > 0, (x - x[used].mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    dist = np.linalg.norm(z[treated][:, None, :] - z[pool][None, :, :], axis=2) if len(pool) else \
        np.zeros((len(treated), 0))
    out = np.full(len(treated), -1, dtype=np.int64)
    # Repeatedly taking the closest remaining pair is taking the pairs in order of distance, skipping
    # those whose treated unit or candidate is already matched: one sort instead of a loop per match.
    order = np.argsort(dist, axis=None, kind="stable")
    done = np.zeros(len(treated), dtype=bool)
    free = np.ones(len(pool), dtype=bool)
    left = min(len(treated), len(pool))
    for k, c in zip(*np.unravel_index(order, dist.shape), strict=True):
        if left == 0:
            break
        if done[k] or not free[c]:
            continue
        out[k], done[k], free[c] = pool[c], True, False
        left -= 1
    return out
