"""Plots written by the command line: a map of recorded incidents and a time series."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.experiments.runner import RunResult  # noqa: E402

__all__ = ["incident_map", "time_series"]


def incident_map(results: list[RunResult], year_labels: list[int], path: Path) -> None:
    """Recorded incidents per cell in each counted year, mean over replicates, one panel a year."""
    xy = results[0].cell_xy
    maps = np.mean([r.cell_incidents for r in results], axis=0)
    n = len(year_labels)
    fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 5), squeeze=False)
    vmax = max(float(maps.max()), 1.0)
    for i, (ax, label) in enumerate(zip(axes[0], year_labels, strict=True)):
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=maps[i], s=6, marker="s", cmap="inferno_r",
                        norm=matplotlib.colors.LogNorm(vmin=0.1, vmax=vmax))
        ax.set_title(str(label))
        ax.set_xlabel("km")
        ax.set_ylabel("km")
        ax.set_aspect("equal")
    fig.suptitle(f"{results[0].scenario}: recorded offences per cell (mean over replicates)")
    fig.colorbar(sc, ax=axes[0].tolist(), shrink=0.8, label="recorded offences")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def time_series(results_by_scenario: dict[str, list[RunResult]], first_year: int, path: Path) -> None:
    """Daily recorded preventable cases and calls for service (7-day mean), replicate range."""
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for name, results in results_by_scenario.items():
        daily = np.stack([r.daily for r in results])  # replicates × days × series
        kernel = np.ones(7) / 7
        days = (np.arange(daily.shape[1] - 6) + 3) / 365.0 + first_year
        for ax, j, title in ((axes[0], 0, "recorded preventable cases per day"),
                             (axes[1], 1, "calls for service per day")):
            smooth = np.array([np.convolve(d[:, j], kernel, mode="valid") for d in daily])
            line, = ax.plot(days, smooth.mean(axis=0), label=name, lw=1.2)
            ax.fill_between(days, smooth.min(axis=0), smooth.max(axis=0), alpha=0.2, color=line.get_color())
            ax.set_ylabel(title)
    axes[1].set_xlabel("year")
    axes[0].legend()
    fig.suptitle("7-day mean; band = range over replicates")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
