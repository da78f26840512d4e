"""Plots of a calibration: marginal posteriors, predicted against reported, the tolerance schedule."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.calibration.calibrate import _spread  # noqa: E402

__all__ = ["plot_posterior", "plot_predictive", "plot_schedule", "plot_all"]


def plot_posterior(cal, path) -> None:
    """One panel per estimated parameter: the weighted posterior histogram over its prior range."""
    post = cal.posterior()
    k = len(post.keys)
    cols = min(3, k)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, prior, j in zip(axes.flat, cal.params, range(k), strict=False):
        lo, hi = prior.low, prior.high
        if prior.scale == "log":
            bins = np.geomspace(lo, hi, 16)
            ax.set_xscale("log")
        else:
            bins = np.linspace(lo, hi, 16)
        ax.hist(post.values[:, j], bins=bins, weights=post.weights, color="tab:blue", alpha=0.75,
                label="posterior")
        ax.axhline(1 / 15, color="grey", lw=1, ls="--", label="prior")
        ax.axvline(prior.default, color="black", lw=1, label="default")
        ax.set_xlim(lo, hi)
        ax.set_title(prior.key, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[k:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Marginal posteriors (prior: uniform, dashed; default: black)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_predictive(cal, path) -> None:
    """Each target's simulated 90 % interval and median against the reported value, in tolerances."""
    df = cal.predictive
    spread = _spread(cal.targets)
    y = np.arange(len(df))[::-1]
    rel = lambda col: (df[col].to_numpy(dtype=float) - df["reported"].to_numpy(dtype=float)) / spread  # noqa: E731
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(df) + 1.5))
    ax.axvspan(-1, 1, color="tab:green", alpha=0.15, label="reported ± tolerance")
    hit = df["hit"].fillna(False).astype(bool)
    colours = np.where(~df["compared"], "tab:grey",
                       np.where(df["held_out"], "tab:purple", np.where(hit, "tab:blue", "tab:red")))
    lo, med, hi = (np.clip(rel(c), -12, 12) for c in ("sim_lo", "sim_median", "sim_hi"))
    ax.hlines(y, lo, hi, colors=colours, lw=3)
    ax.scatter(med, y, c=colours, zorder=3, s=18)
    for yi, b in zip(y, df["bound"], strict=True):
        if b:
            ax.annotate("≥" if b == "lower" else "≤", (1.3, yi), fontsize=8, va="center")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, df["target_id"] + np.where(df["compared"], "", " (not compared)"), fontsize=7)
    ax.set_xlabel("(simulated − reported) / tolerance, clipped at ±12\n"
                  "blue: hit, red: missed, purple: held out, grey: not compared at this scale")
    ax.set_title("Posterior predictive: median and 90 % interval")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_schedule(cal, path) -> None:
    """Tolerance, acceptance rate and effective sample size per generation."""
    pops = cal.result.populations
    gens = [p.generation for p in pops]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(gens[1:], [p.epsilon for p in pops[1:]], "o-", label="epsilon")
    a.plot(gens, [np.median(p.distances) for p in pops], "s--", label="median distance")
    a.set_xlabel("generation")
    a.set_ylabel("distance (RMS tolerances)")
    a.legend(fontsize=8)
    b.plot(gens, [p.acceptance for p in pops], "o-", label="acceptance")
    b.plot(gens, [p.ess / len(p.u) for p in pops], "s--", label="ESS / particles")
    b.set_xlabel("generation")
    b.set_ylim(0, 1.05)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_all(cal) -> None:
    plot_posterior(cal, cal.out / "posterior.png")
    plot_predictive(cal, cal.out / "predictive.png")
    plot_schedule(cal, cal.out / "schedule.png")
