"""Plots of a calibration: marginal posteriors, predicted against reported, the tolerance schedule.

Each function takes plain data (a posterior, priors, the predictive table, populations) and
returns a :class:`matplotlib.figure.Figure`, built without pyplot; :func:`plot_all` writes the
three PNG files of a calibration folder. Nothing here imports the calibration pipeline
(:mod:`sim.calibration.calibrate` calls this module, not the other way round).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from sim.experiments.summary import metric_label

__all__ = ["plot_posterior", "plot_predictive", "plot_schedule", "plot_all", "target_label", "parameter_label"]

DPI = 110
_KIND = {"yoy_change": "change on the year [%]"}


def target_label(target: Mapping) -> str:
    """A target in words: city, period, metric, kind (``Suizhou 2022: calls for service, change on the year [%]``)."""
    city = str(target.get("city", "") or "").replace("_", " ").title()
    period = target.get("period", "")
    period = "" if period is None or (isinstance(period, float) and math.isnan(period)) else str(period).strip()
    period = f" {period}" if period else ""
    kind = target.get("kind", "")
    name = metric_label(str(target["metric"]))
    if kind in _KIND:
        name = f"{name.split(' [')[0]}, {_KIND[kind]}"
    return f"{city}{period}: {name}" if city else name


def parameter_label(key: str) -> str:
    """A parameter key in words (``interventions.mediation.honour_prob`` → ``mediation › honour prob``)."""
    parts = key.split(".")
    parts = parts[1:] if parts[0] == "interventions" and len(parts) > 2 else parts
    return " › ".join(p.replace("_", " ") for p in parts)


def plot_posterior(posterior, priors: Sequence) -> Figure:
    """One panel per estimated parameter: the weighted posterior histogram over its prior range.

    Args:
        posterior: A :class:`sim.calibration.posterior.Posterior` (keys, values, weights).
        priors: The :class:`sim.calibration.Prior` of each key (matched by ``key``).
    """
    by_key = {p.key: p for p in priors}
    k = len(posterior.keys)
    cols = min(3, k)
    rows = math.ceil(k / cols)
    fig = Figure(figsize=(4.2 * cols, 2.9 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, key, j in zip(axes, posterior.keys, range(k), strict=False):
        prior = by_key[key]
        lo, hi = prior.low, prior.high
        if prior.scale == "log":
            bins = np.geomspace(lo, hi, 16)
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        else:
            bins = np.linspace(lo, hi, 16)
        ax.hist(posterior.values[:, j], bins=bins, weights=posterior.weights, color="tab:blue", alpha=0.75,
                label="posterior")
        ax.axhline(1 / 15, color="grey", lw=1, ls="--", label="prior")
        ax.axvline(prior.default, color="black", lw=1, label="default")
        ax.set_xlim(lo, hi)
        ax.set_title(parameter_label(key), fontsize=8)
        ax.set_ylabel("weight per bin", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes[k:]:
        ax.axis("off")
    axes[0].legend(fontsize=7)
    fig.suptitle("Marginal posteriors (prior: uniform over the range, dashed; default: black)", fontsize=10)
    return fig


def plot_predictive(predictive: pd.DataFrame, spread: np.ndarray) -> Figure:
    """Each target's simulated 90 % interval and median against the reported value, in tolerances.

    Args:
        predictive: The predictive table (``predictive.csv``: target_id, city, metric, kind,
            reported, sim_lo, sim_median, sim_hi, hit, held_out, compared, bound; a ``period``
            column, from the targets, goes into the labels when present).
        spread: Each target's tolerance (its spread in the distance), same order.
    """
    df = predictive.reset_index(drop=True)
    y = np.arange(len(df))[::-1]

    def rel(col: str) -> np.ndarray:
        return (df[col].to_numpy(dtype=float) - df["reported"].to_numpy(dtype=float)) / np.asarray(spread, float)

    fig = Figure(figsize=(9, 0.32 * len(df) + 1.8), layout="constrained")
    ax = fig.subplots()
    ax.axvspan(-1, 1, color="tab:green", alpha=0.15, label="reported ± tolerance")
    hit = df["hit"].astype("boolean").fillna(False).astype(bool).to_numpy()
    compared = df["compared"].astype(bool).to_numpy()
    held = df["held_out"].astype(bool).to_numpy()
    colours = np.where(~compared, "tab:grey", np.where(held, "tab:purple", np.where(hit, "tab:blue", "tab:red")))
    lo, med, hi = (np.clip(rel(c), -12, 12) for c in ("sim_lo", "sim_median", "sim_hi"))
    ax.hlines(y, lo, hi, colors=colours, lw=3)
    ax.scatter(med, y, c=colours, zorder=3, s=18)
    for yi, b in zip(y, df["bound"], strict=True):
        if isinstance(b, str) and b:
            ax.annotate("≥" if b == "lower" else "≤", (1.3, yi), fontsize=8, va="center")
    ax.axvline(0, color="black", lw=0.8)
    records = df.to_dict("records")
    words = [target_label(r) for r in records]
    # Two targets can read the same (one figure from two sources): their ids tell them apart.
    labels = [w + (f" [{r['target_id']}]" if words.count(w) > 1 else "") + ("" if c else " (not compared)")
              for w, r, c in zip(words, records, compared, strict=True)]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("(simulated − reported) / tolerance, clipped at ±12\n"
                  "blue: hit, red: missed, purple: held out, grey: not compared at this scale")
    ax.set_title("Posterior predictive: median and 90 % interval of the simulations", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def plot_schedule(populations: Sequence) -> Figure:
    """Tolerance, acceptance rate and effective sample size per ABC-SMC generation."""
    pops = list(populations)
    gens = [p.generation for p in pops]
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2)
    a.plot(gens[1:], [p.epsilon for p in pops[1:]], "o-", label="tolerance ε")
    a.plot(gens, [np.median(p.distances) for p in pops], "s--", label="median distance")
    a.set_xlabel("generation")
    a.set_ylabel("distance [RMS of tolerances]")
    a.legend(fontsize=8)
    b.plot(gens, [p.acceptance for p in pops], "o-", label="acceptance rate")
    b.plot(gens, [p.ess / len(p.u) for p in pops], "s--", label="effective sample size / particles")
    b.set_xlabel("generation")
    b.set_ylabel("share")
    b.set_ylim(0, 1.05)
    b.legend(fontsize=8)
    return fig


def plot_all(out: str | Path, posterior, priors: Sequence, predictive: pd.DataFrame, spread: np.ndarray,
             populations: Sequence) -> None:
    """Write ``posterior.png``, ``predictive.png`` and ``schedule.png`` into ``out``."""
    out = Path(out)
    plot_posterior(posterior, priors).savefig(out / "posterior.png", dpi=DPI)
    plot_predictive(predictive, spread).savefig(out / "predictive.png", dpi=DPI)
    plot_schedule(populations).savefig(out / "schedule.png", dpi=DPI)
