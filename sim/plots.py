"""Figures of runs and comparisons: maps, time series and the cost-effect Pareto plot.

Every function returns a :class:`matplotlib.figure.Figure` (a notebook shows it, a Panel app
wraps it in ``pn.pane.Matplotlib``, the command line saves it). Figures are built without
pyplot, so importing this module never switches the matplotlib backend and the functions are
safe to call from a web server's threads.

General functions take plain arrays and frames:

* :func:`difference_map` — alternative minus baseline per cell, county boundaries, sites;
* :func:`timeseries` — daily series (replicates × days) with dates and the intervention start;
* :func:`pareto` — extra cost against cases prevented, with intervals and the Pareto frontier.

:func:`incident_map`, :func:`time_series` and :func:`difference_map_of` build them from
:class:`sim.experiments.runner.RunResult` lists and save a PNG when given a path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colors
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = ["CellMap", "SITE_STYLES", "DAILY_SERIES", "difference_map", "timeseries", "pareto", "incident_map",
           "time_series", "difference_map_of", "county_boundaries", "raster", "mean_cells", "save"]

#: How each intervention's sites are drawn on maps: (label, marker, colour, size in points²).
SITE_STYLES: dict[str, tuple[str, str, str, float]] = {
    "street_police_stations": ("street police station", "^", "tab:blue", 40.0),
    "rapid_response_points": ("rapid-response point", "D", "tab:green", 30.0),
    "video": ("cells with cameras", "x", "tab:purple", 10.0),
    "smart_compounds": ("smart compound", "s", "tab:orange", 20.0),
}
#: Columns of ``RunResult.daily``, with their labels (see ``MetricsRecorder.DAILY``).
DAILY_SERIES = ("preventable cases, recorded [per day]", "calls for service [per day]",
                "effective incidents, recorded [per day]")
DPI = 110
#: Map background: lattice squares with no simulated cell (outside the city, or left out of a scaled sample).
NO_CELL = "#e0e0e0"


@dataclass(frozen=True)
class CellMap:
    """The cells of a city as a map needs them.

    Attributes:
        x_km, y_km: Cell centres [km].
        county: County index of each cell.
        cell_size_km: Side of a cell [km].
        county_names: Names of the counties, by index.
        city_name: The city's name, for titles.
    """

    x_km: np.ndarray
    y_km: np.ndarray
    county: np.ndarray
    cell_size_km: float
    county_names: Sequence[str] = ()
    city_name: str = ""

    @classmethod
    def of(cls, city, city_name: str = "") -> CellMap:
        """From a :class:`sim.space.city.City`, a :class:`RunResult` or a CellMap."""
        if isinstance(city, CellMap):
            return city
        if hasattr(city, "cell_xy"):  # a RunResult
            xy = np.asarray(city.cell_xy, dtype=float)
            gaps = np.diff(np.unique(np.round(xy[:, 0], 6)))
            size = float(gaps.min()) if len(gaps) else 1.0
            county = city.cell_county if city.cell_county is not None else np.zeros(len(xy), dtype=np.int64)
            return cls(xy[:, 0], xy[:, 1], np.asarray(county), size, city.county_names or (), city_name)
        name = city_name or getattr(getattr(city, "params", None), "preset", None) or ""
        return cls(np.asarray(city.x_km), np.asarray(city.y_km), np.asarray(city.county), float(city.cell_size_km),
                   list(getattr(city, "county_names", ())), str(name))


def save(fig: Figure, path: str | Path | None) -> Figure:
    """Write ``fig`` as a PNG to ``path`` (when given) and return it."""
    if path is not None:
        fig.savefig(path, dpi=DPI)
    return fig


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def _lattice(cells: CellMap) -> tuple[np.ndarray, np.ndarray, int, int]:
    size = cells.cell_size_km
    ix = np.floor(cells.x_km / size + 1e-9).astype(np.int64)
    iy = np.floor(cells.y_km / size + 1e-9).astype(np.int64)
    return ix - ix.min(), iy - iy.min(), int(ix.min()), int(iy.min())


def raster(cells: CellMap, values: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Per-cell ``values`` on the lattice (NaN where nobody lives) and its extent [km] for ``imshow``."""
    i, j, i0, j0 = _lattice(cells)
    grid = np.full((j.max() + 1, i.max() + 1), np.nan)
    grid[j, i] = values
    size = cells.cell_size_km
    return grid, (i0 * size, (i0 + i.max() + 1) * size, j0 * size, (j0 + j.max() + 1) * size)


def county_boundaries(cells: CellMap) -> np.ndarray:
    """County boundaries as segments (n × 2 × 2, km) on the cell lattice.

    Empty lattice squares (nobody lives there) belong to the county of the nearest inhabited
    cell, so the boundaries run between the counties' territories, not only between touching
    inhabited cells; a boundary is drawn wherever two neighbouring squares differ.
    """
    from scipy.spatial import cKDTree

    i, j, i0, j0 = _lattice(cells)
    nx, ny = i.max() + 1, j.max() + 1
    gi, gj = np.meshgrid(np.arange(nx), np.arange(ny))
    _, nearest = cKDTree(np.column_stack([i, j])).query(np.column_stack([gi.ravel(), gj.ravel()]))
    owner = np.asarray(cells.county)[nearest].reshape(ny, nx)
    vj, vi = np.nonzero(owner[:, 1:] != owner[:, :-1])  # vertical edges between columns vi and vi + 1
    hj, hi = np.nonzero(owner[1:, :] != owner[:-1, :])  # horizontal edges between rows hj and hj + 1
    segs = [np.stack([np.column_stack([vi + 1, vj]), np.column_stack([vi + 1, vj + 1])], axis=1),
            np.stack([np.column_stack([hi, hj + 1]), np.column_stack([hi + 1, hj + 1])], axis=1)]
    out = np.concatenate(segs).astype(float)
    out[..., 0] += i0
    out[..., 1] += j0
    return out * cells.cell_size_km


def _county_labels(ax: Axes, cells: CellMap) -> None:
    if not len(cells.county_names):
        return
    for k, name in enumerate(cells.county_names):
        m = cells.county == k
        if m.any():
            ax.annotate(name, (float(np.median(cells.x_km[m])), float(np.median(cells.y_km[m]))), fontsize=7,
                        ha="center", va="center", color="black", alpha=0.7)


def _sites(ax: Axes, cells: CellMap, sites: Mapping[str, np.ndarray] | None) -> None:
    for key, where in (sites or {}).items():
        where = np.asarray(where, dtype=np.int64)
        if not len(where):
            continue
        label, marker, colour, size = SITE_STYLES.get(key, (key.replace("_", " "), "o", "black", 12.0))
        edge = {} if marker in ("x", "+", ".", "1", "2", "3", "4") else {"edgecolors": "white", "linewidths": 0.4}
        ax.scatter(cells.x_km[where], cells.y_km[where], marker=marker, s=size, c=colour,
                   label=f"{label} ({len(where)})", zorder=4, **edge)


def _map_frame(ax: Axes, cells: CellMap) -> None:
    segs = county_boundaries(cells)
    if len(segs):
        ax.add_collection(LineCollection(segs, colors="black", linewidths=0.8, zorder=3))
    _county_labels(ax, cells)
    ax.set_xlabel("east [km]")
    ax.set_ylabel("north [km]")
    ax.set_aspect("equal")


def difference_map(city, base_counts: np.ndarray, alt_counts: np.ndarray,
                   sites: Mapping[str, np.ndarray] | None = None, ax: Axes | None = None, *,
                   what: str = "recorded offences", title: str | None = None) -> Figure:
    """Alternative minus baseline per cell on a diverging scale, with county boundaries and sites.

    Args:
        city: A :class:`sim.space.city.City`, a :class:`RunResult` or a :class:`CellMap`.
        base_counts: Baseline count per cell (e.g. mean over replicates of a counted year).
        alt_counts: The alternative's count per cell, same cells.
        sites: Intervention key → cell indices of its sites (``RunResult.sites``); drawn with
            :data:`SITE_STYLES`.
        ax: Axes to draw on (a new figure when None).
        what: What is counted, for the colour bar.
        title: Figure title (default: names the city when known).

    Returns:
        The figure. Squares of the lattice with no simulated cell are grey (:data:`NO_CELL`).

    Raises:
        ValueError: ``base_counts`` or ``alt_counts`` do not have one value per cell.
    """
    cells = CellMap.of(city)
    base, alt = np.asarray(base_counts, dtype=float), np.asarray(alt_counts, dtype=float)
    if base.shape != (len(cells.x_km),) or alt.shape != base.shape:
        raise ValueError(f"difference_map: expected one count per cell ({len(cells.x_km)}), got "
                         f"{base.shape} and {alt.shape}")
    fig, ax = _axes(ax, (7.5, 6.5))
    diff = alt - base
    lim = max(float(np.nanmax(np.abs(diff))) if len(diff) else 0.0, 1e-9)
    norm = colors.TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    grid, extent = raster(cells, diff)
    sc = ax.imshow(grid, origin="lower", extent=extent, cmap="RdBu_r", norm=norm, interpolation="nearest",
                   zorder=2)
    ax.set_facecolor(NO_CELL)
    _map_frame(ax, cells)
    _sites(ax, cells, sites)
    fig.colorbar(sc, ax=ax, shrink=0.8, label=f"{what}: alternative − baseline [per cell and year]")
    handles, _ = ax.get_legend_handles_labels()
    if np.isnan(grid).any():  # say what grey is: at small scale most squares are not simulated
        handles.append(Patch(facecolor=NO_CELL, edgecolor="0.6", linewidth=0.4, label="no simulated cell"))
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.8)
    where = f"{cells.city_name}: " if cells.city_name else ""
    ax.set_title(title or f"{where}{what}, alternative − baseline (blue: fewer, red: more)", fontsize=10)
    return fig


def timeseries(series: Mapping[str, np.ndarray], first_year: int, *, ylabel: str,
               start: dt.date | int | None = None, window: int = 7, ax: Axes | None = None,
               title: str | None = None) -> Figure:
    """Daily series of several scenarios against calendar dates, smoothed, with the replicate range.

    Args:
        series: Scenario name → values, ``replicates × days`` (or ``days``), day 0 = 1 January of
            ``first_year``; the model's years have 365 days.
        first_year: Calendar year of day 0.
        ylabel: Axis label with units.
        start: When the interventions start: a date, or a calendar year (1 January); marked.
        window: Days in the centred moving mean.
        ax: Axes to draw on (a new figure when None).
        title: Figure title.

    Returns:
        The figure.
    """
    fig, ax = _axes(ax, (10, 4))
    kernel = np.ones(window) / window
    t0 = np.datetime64(f"{first_year}-01-01")
    for name, values in series.items():
        v = np.atleast_2d(np.asarray(values, dtype=float))
        if v.shape[1] < window:
            raise ValueError(f"timeseries: series {name!r} has {v.shape[1]} days, fewer than the window {window}")
        smooth = np.array([np.convolve(row, kernel, mode="valid") for row in v])
        days = np.arange(smooth.shape[1]) + window // 2
        # 365-day model years: day d of year y is the d-th day of that calendar year.
        dates = np.array([np.datetime64(f"{first_year + d // 365}-01-01") + np.timedelta64(d % 365, "D")
                          for d in days.tolist()]) if len(days) else t0 + days.astype("timedelta64[D]")
        line, = ax.plot(dates, smooth.mean(axis=0), label=name, lw=1.2)
        if len(smooth) > 1:
            ax.fill_between(dates, smooth.min(axis=0), smooth.max(axis=0), alpha=0.2, color=line.get_color(), lw=0)
    if start is not None:
        when = np.datetime64(f"{start}-01-01") if isinstance(start, int) else np.datetime64(start)
        ax.axvline(when, color="black", ls="--", lw=1, label=f"interventions start ({str(when)[:10]})")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("date")
    ax.legend(fontsize=8)
    ax.set_title(f"{window}-day mean; band = range over replicates" if title is None else title, fontsize=10)
    return fig


def pareto(table: pd.DataFrame, ax: Axes | None = None, *, metric: str = "preventable_cases",
           title: str | None = None) -> Figure:
    """Extra cost against cases prevented (mean, 95 % intervals), the Pareto frontier joined.

    Args:
        table: :func:`sim.experiments.packages.package_table` output (columns ``package``,
            ``extra_cost_yuan`` with ``extra_cost_lo``/``_hi``, ``prevented`` with ``_lo``/``_hi``,
            ``pareto``); an empty table gives empty axes that say so.
        ax: Axes to draw on (a new figure when None).
        metric: The outcome counted as prevented, for the axis label.
        title: Figure title.

    Returns:
        The figure.
    """
    fig, ax = _axes(ax, (8, 6))
    t = table
    if len(t):
        def err(column: str, ends: str) -> np.ndarray:
            mean, lo, hi = (t[c].to_numpy(float) for c in (column, f"{ends}_lo", f"{ends}_hi"))
            # NaN (one replicate) draws no bar; clipping keeps rounding from giving a negative
            # length, which matplotlib refuses.
            return np.clip(np.nan_to_num(np.vstack([mean - lo, hi - mean])), 0, None)

        ax.errorbar(t["extra_cost_yuan"] / 1e6, t["prevented"], xerr=err("extra_cost_yuan", "extra_cost") / 1e6,
                    yerr=err("prevented", "prevented"), fmt="o", capsize=3, color="tab:blue",
                    label="package (mean, 95 % interval)")
        for _, r in t.iterrows():
            ax.annotate(r["package"], (r["extra_cost_yuan"] / 1e6, r["prevented"]), textcoords="offset points",
                        xytext=(5, 5), fontsize=8)
        f = t[t["pareto"].astype(bool)].sort_values("extra_cost_yuan")
        ax.plot(f["extra_cost_yuan"] / 1e6, f["prevented"], "--", color="tab:red", label="Pareto frontier")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no packages yet", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("extra cost against the baseline [million yuan per year]")
    ax.set_ylabel(f"{metric.replace('_', ' ')} prevented against the baseline [per year]")
    default = "Packages: cost against effect (mean, 95 % interval over replicates)"
    ax.set_title(default if title is None else title, fontsize=10)
    return fig


# -- from run results -----------------------------------------------------------------------


def incident_map(results: Sequence, year_labels: Sequence[int], path: str | Path | None = None,
                 city_name: str = "") -> Figure:
    """Recorded offences per cell in each counted year, mean over replicates, one panel a year."""
    cells = CellMap.of(results[0], city_name)
    maps = np.mean([r.cell_incidents for r in results], axis=0)
    n = len(year_labels)
    fig = Figure(figsize=(5.5 * n + 1, 5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    vmax = max(float(maps.max()), 1.0)
    sc = None
    for i, (ax, label) in enumerate(zip(axes, year_labels, strict=True)):
        grid, extent = raster(cells, np.maximum(maps[i], 0.1))
        sc = ax.imshow(grid, origin="lower", extent=extent, cmap="inferno_r", interpolation="nearest",
                       norm=colors.LogNorm(vmin=0.1, vmax=vmax), zorder=2)
        ax.set_facecolor(NO_CELL)
        _map_frame(ax, cells)
        ax.set_title(str(label))
    fig.suptitle(f"{results[0].scenario}: recorded offences per cell and year (mean over {len(results)} replicates)")
    fig.colorbar(sc, ax=list(axes), shrink=0.8, label="recorded offences [per cell and year]")
    return save(fig, path)


def time_series(results_by_scenario: Mapping[str, Sequence], first_year: int, path: str | Path | None = None,
                start: dt.date | int | None = None, window: int = 7, figsize: tuple[float, float] = (11, 7)) -> Figure:
    """Daily recorded preventable cases and calls for service (``window``-day mean), replicate range."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    for ax, j in zip(axes, (0, 1), strict=True):
        timeseries({name: np.stack([r.daily[:, j] for r in rs]) for name, rs in results_by_scenario.items()},
                   first_year, ylabel=DAILY_SERIES[j], start=start, window=window, ax=ax, title="")
    axes[0].set_xlabel("")
    fig.suptitle(f"{window}-day mean; band = range over replicates")
    return save(fig, path)


def mean_cells(results: Sequence, year: int = -1, true: bool = False) -> np.ndarray:
    """Per-cell offences of counted year ``year`` (index), mean over the runs."""
    return np.mean([(r.cell_offences_true if true else r.cell_incidents)[year] for r in results], axis=0)


def difference_map_of(base: Sequence, alt: Sequence, path: str | Path | None = None, year: int = -1,
                      city_name: str = "", title: str | None = None) -> Figure:
    """:func:`difference_map` of two scenarios' runs: recorded offences in a counted year, mean over replicates.

    Sites are those of the alternative's first replicate (where siting follows simulated crime
    they can differ a little between replicates); a run without per-intervention sites shows
    its treated cells. Given the same replicates of both, the map is the mean paired difference.
    """
    sites = getattr(alt[0], "sites", None)
    if sites is None and getattr(alt[0], "treated_cells", None) is not None:
        sites = {"treated cells": alt[0].treated_cells}
    if title is None:
        title = (f"{alt[0].scenario} − {base[0].scenario}: recorded offences per cell "
                 f"(mean over {len(alt)} replicates)")
    fig = difference_map(CellMap.of(alt[0], city_name), mean_cells(base, year), mean_cells(alt, year), sites,
                         title=title)
    return save(fig, path)
