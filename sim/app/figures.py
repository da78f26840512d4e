"""The explorer's figures: plain arrays and tables in, a Matplotlib ``Figure`` out.

They use ``matplotlib.figure.Figure`` directly (no pyplot state), so they can be drawn on the
explorer's background thread and handed to ``pn.pane.Matplotlib``, and they take plain numpy
arrays and DataFrames so that shared plotting functions can replace them one for one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

__all__ = ["difference_map", "time_series", "cost_effect", "county_edges", "SITE_STYLE"]

#: Marker, colour, size and label of each intervention's sites on the map; others get a default.
SITE_STYLE: dict[str, tuple[str, str, float, str]] = {
    "street_police_stations": ("^", "black", 60, "street police station"),
    "rapid_response_points": ("s", "tab:purple", 40, "rapid-response point"),
    "video": (".", "tab:green", 6, "cell with new cameras"),
    "smart_compounds": ("D", "tab:orange", 25, "smart compound"),
}
_OTHER_SITE = ("o", "tab:grey", 10, None)

#: Days averaged in the time series' moving mean.
SMOOTH_DAYS = 7


def _lattice(xy: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer lattice indices of cell centres (``(i + 0.5) × size`` km) and the cell size in km."""
    gaps = np.diff(np.unique(np.round(xy[:, 0], 6)))
    size = float(gaps.min()) if len(gaps) else 1.0
    return np.floor(xy / size + 1e-9).astype(np.int64), size


def county_edges(xy: np.ndarray, county: np.ndarray) -> np.ndarray:
    """Line segments (``n × 2 × 2``, km) of the borders between counties.

    Every lattice square of the city's bounding box belongs to the county of its nearest
    cell, so the borders stay whole lines even in a small-scale sample, whose cells are
    scattered.
    """
    from scipy.spatial import cKDTree

    ij, size = _lattice(xy)
    low, high = ij.min(axis=0), ij.max(axis=0)
    gi, gj = np.meshgrid(np.arange(low[0], high[0] + 1), np.arange(low[1], high[1] + 1), indexing="ij")
    _, nearest = cKDTree(ij).query(np.column_stack([gi.ravel(), gj.ravel()]))
    grid = np.asarray(county)[nearest].reshape(gi.shape)
    # Square (a, b) spans [a, a + 1] × [b, b + 1] in lattice units, counted from ``low``.
    a, b = np.nonzero(grid[:-1, :] != grid[1:, :])  # border x = a + 1, from y = b to b + 1
    vertical = np.stack([np.column_stack([a + 1, b]), np.column_stack([a + 1, b + 1])], axis=1)
    a, b = np.nonzero(grid[:, :-1] != grid[:, 1:])  # border y = b + 1, from x = a to a + 1
    horizontal = np.stack([np.column_stack([a, b + 1]), np.column_stack([a + 1, b + 1])], axis=1)
    segments = np.concatenate([vertical, horizontal]).astype(float)
    return (segments + low) * size


def difference_map(xy: np.ndarray, difference: np.ndarray, county: np.ndarray,
                   sites: Mapping[str, np.ndarray] | None = None, county_names: list[str] | None = None,
                   title: str = "", unit: str = "recorded offences") -> Figure:
    """Package minus baseline per cell, with county boundaries and the package's sites.

    Args:
        xy: Cell centres, cells × 2 [km].
        difference: Package minus baseline per cell (e.g. mean over replicates of the paired difference).
        county: County index of each cell.
        sites: ``{intervention key: cell indices}`` where each intervention was placed.
        county_names: Names of the counties, to label them at their centres.
        title: The figure's title.
        unit: What ``difference`` counts, for the colour bar.
    """
    ij, size = _lattice(xy)
    shift = ij.min(axis=0)
    ij = ij - shift
    grid = np.full(tuple(ij.max(axis=0) + 1), np.nan)
    grid[ij[:, 0], ij[:, 1]] = difference
    extent_min = shift * size
    extent = (extent_min[0], extent_min[0] + grid.shape[0] * size, extent_min[1], extent_min[1] + grid.shape[1] * size)
    limit = max(float(np.nanmax(np.abs(difference))) if len(difference) else 0.0, 1e-9)

    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("0.9")  # grey: no simulated cell (outside the city or the scaled sample)
    image = ax.imshow(grid.T, origin="lower", extent=extent, cmap="RdBu_r",
                      norm=TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit), interpolation="nearest")
    edges = county_edges(xy, county)
    ax.add_collection(LineCollection(edges, colors="0.25", linewidths=0.9))
    if county_names:
        for k, name in enumerate(county_names):
            members = county == k
            if members.any():
                cx, cy = xy[members].mean(axis=0)
                ax.annotate(name, (cx, cy), ha="center", va="center", fontsize=7, color="0.2", alpha=0.8)
    for key, cells in (sites or {}).items():
        cells = np.asarray(cells, dtype=np.int64)
        if len(cells) == 0:
            continue
        marker, colour, area, label = SITE_STYLE.get(key, _OTHER_SITE)
        ax.scatter(xy[cells, 0], xy[cells, 1], marker=marker, c=colour, s=area, edgecolors="white",
                   linewidths=0.4, label=f"{label or key.replace('_', ' ')} ({len(cells)})", zorder=3)
    if sites and any(len(c) for c in sites.values()):
        ax.legend(loc="upper left", fontsize=7, framealpha=0.85)
    fig.colorbar(image, ax=ax, shrink=0.8, label=f"package − baseline [{unit}]")
    ax.set_xlabel("east [km]  (grey: no simulated cell)")
    ax.set_ylabel("north [km]")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    return fig


def time_series(daily: Mapping[str, np.ndarray], first_year: int, start_year: int | None,
                series: Mapping[int, str], title: str = "") -> Figure:
    """Daily counts of each scenario: 7-day mean over replicates, band = range over replicates.

    Args:
        daily: ``{scenario: replicates × days × series}``, days counted from 1 January of ``first_year``.
        first_year: Calendar year of the first day.
        start_year: Year the interventions start (marked with a line), or None.
        series: ``{column of the series axis: axis label}``, one panel each.
        title: The figure's title.
    """
    fig = Figure(figsize=(9, 2.6 * len(series) + 0.6), layout="constrained")
    axes = fig.subplots(len(series), 1, sharex=True, squeeze=False)[:, 0]
    kernel = np.ones(SMOOTH_DAYS) / SMOOTH_DAYS
    start = np.datetime64(f"{first_year}-01-01")
    for name, values in daily.items():
        values = np.asarray(values, dtype=float)
        days = start + np.arange(values.shape[1] - SMOOTH_DAYS + 1) + SMOOTH_DAYS // 2
        for ax, (column, label) in zip(axes, series.items(), strict=True):
            smooth = np.array([np.convolve(v[:, column], kernel, mode="valid") for v in values])
            line, = ax.plot(days, smooth.mean(axis=0), lw=1.2, label=name)
            ax.fill_between(days, smooth.min(axis=0), smooth.max(axis=0), alpha=0.2, color=line.get_color())
            ax.set_ylabel(label)
    if start_year is not None:
        for ax in axes:
            ax.axvline(np.datetime64(f"{start_year}-01-01"), color="tab:red", ls="--", lw=1)
        axes[0].annotate("interventions start", (np.datetime64(f"{start_year}-01-01"), 1.0),
                         xycoords=("data", "axes fraction"), xytext=(4, -12), textcoords="offset points",
                         color="tab:red", fontsize=8)
    axes[0].legend(fontsize=8, loc="lower left")
    axes[-1].set_xlabel("date")
    fig.suptitle(title or f"{SMOOTH_DAYS}-day mean; band = range over replicates", fontsize=10)
    return fig


def cost_effect(table: pd.DataFrame, metric_label: str = "preventable cases",
                title: str = "Packages: cost against effect") -> Figure:
    """Extra cost against cases prevented per package, 95 % intervals, the Pareto frontier joined.

    Args:
        table: :func:`sim.experiments.packages.package_table` output (``package``, ``prevented``,
            ``prevented_lo``/``_hi``, ``extra_cost_yuan``, ``extra_cost_lo``/``_hi``, ``pareto``).
        metric_label: What "prevented" counts.
        title: The figure's title.
    """
    fig = Figure(figsize=(7.5, 5), layout="constrained")
    ax = fig.add_subplot()
    if table.empty:
        ax.text(0.5, 0.5, "no packages yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    cost = table["extra_cost_yuan"].to_numpy(float) / 1e6
    effect = table["prevented"].to_numpy(float)
    xerr = np.abs(np.vstack([cost - table["extra_cost_lo"].to_numpy(float) / 1e6,
                             table["extra_cost_hi"].to_numpy(float) / 1e6 - cost]))
    yerr = np.abs(np.vstack([effect - table["prevented_lo"].to_numpy(float),
                             table["prevented_hi"].to_numpy(float) - effect]))
    ax.errorbar(cost, effect, xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), fmt="o", capsize=3,
                color="tab:blue", label="package (mean, 95 % interval)")
    for name, x, y in zip(table["package"], cost, effect, strict=True):
        ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    front = table[table["pareto"].astype(bool)].sort_values("extra_cost_yuan")
    ax.plot(front["extra_cost_yuan"] / 1e6, front["prevented"], "--", color="tab:red", label="Pareto frontier")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("extra cost [million yuan per year]")
    ax.set_ylabel(f"{metric_label} prevented per year")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return fig
