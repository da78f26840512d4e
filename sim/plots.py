"""Figures of runs and comparisons: maps, time series and the cost-effect Pareto plot.

Every function returns a :class:`matplotlib.figure.Figure` (a notebook shows it, a Panel app
wraps it in ``pn.pane.Matplotlib``, the command line saves it). Figures are built without
pyplot, so importing this module never switches the matplotlib backend and the functions are
safe to call from a web server's threads.

General functions take plain arrays and frames:

* :func:`difference_map` — alternative minus baseline per cell, county boundaries, sites;
* :func:`timeseries` — daily series (replicates × days) with dates and the intervention start;
* :func:`pareto` — extra cost against cases prevented, with intervals and the Pareto frontier;
* :func:`optimiser_front` — an optimiser study's packages by annual cost against an objective: the
  front with intervals and pessimistic quantiles, the city's actual package and the budget;
* :func:`site_map` and :func:`site_maps` — where a package's sites are, on the city's cells.

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
from matplotlib import colors, patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.presentation import Sample, figure, objective_label

__all__ = ["CellMap", "SITE_STYLES", "DAILY_SERIES", "difference_map", "timeseries", "pareto", "incident_map",
           "time_series", "difference_map_of", "county_boundaries", "raster", "mean_cells", "save",
           "optimiser_front", "site_map", "site_maps"]

#: How each intervention's sites are drawn on maps: (label, marker, colour, size in points²).
SITE_STYLES: dict[str, tuple[str, str, str, float]] = {
    "street_police_stations": ("street police station", "^", "tab:blue", 40.0),
    "rapid_response_points": ("rapid-response point", "D", "tab:green", 30.0),
    "video": ("cells with cameras", "x", "tab:purple", 10.0),
    "smart_compounds": ("smart compound", "s", "tab:orange", 20.0),
    "hot_spot_patrol": ("hot-spot patrol spot", "o", "tab:red", 20.0),
}
#: Columns of ``RunResult.daily``, with their labels (see ``MetricsRecorder.DAILY``).
DAILY_SERIES = ("preventable cases, recorded [per day]", "calls for service [per day]",
                "effective incidents, recorded [per day]")
DPI = 110
#: Map background: lattice squares with no simulated cell (outside the city, or left out of a scaled sample).
#: Blank, so that a sparse sample does not turn the map grey; the simulated cells are outlined in CELL_EDGE.
NO_CELL = "white"
CELL_EDGE = "0.72"
#: Each side of a difference map's colour scale ends at this percentile of its cells' magnitudes.
COLOUR_PERCENTILE = 95.0
#: Each side of a difference map's scale reaches at least this share of the other side: the scale
#: is not spent on changes that did not happen, yet a small rise is not coloured like a large fall.
MIN_SIDE_SHARE = 0.25
#: County labels keep this many cell sides away from any site marker.
LABEL_CLEARANCE_CELLS = 1.5


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


def _county_labels(ax: Axes, cells: CellMap, sites: Mapping[str, np.ndarray] | None = None) -> None:
    """Each county's name near its middle, on a cell at least a cell and a half from any site.

    Labels sit under the site markers (lower zorder) with a white halo, so neither hides the other.
    """
    if not len(cells.county_names):
        return
    where = [np.asarray(w, dtype=np.int64) for w in (sites or {}).values() if len(w)]
    taken = np.concatenate(where) if where else np.zeros(0, dtype=np.int64)
    sx, sy = cells.x_km[taken], cells.y_km[taken]
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for k, name in enumerate(cells.county_names):
        m = np.flatnonzero(cells.county == k)
        if not len(m):
            continue
        cx, cy = float(np.median(cells.x_km[m])), float(np.median(cells.y_km[m]))
        order = m[np.argsort(np.hypot(cells.x_km[m] - cx, cells.y_km[m] - cy), kind="stable")]
        x, y = cells.x_km[order[0]], cells.y_km[order[0]]
        if len(taken):
            gap = np.min(np.hypot(cells.x_km[order, None] - sx[None, :], cells.y_km[order, None] - sy[None, :]), axis=1)
            free = np.flatnonzero(gap >= LABEL_CLEARANCE_CELLS * cells.cell_size_km)
            if len(free):
                x, y = cells.x_km[order[free[0]]], cells.y_km[order[free[0]]]
        ax.annotate(name, (float(x), float(y)), fontsize=7, ha="center", va="center", color="black", zorder=3.5,
                    path_effects=halo)


def _sites(ax: Axes, cells: CellMap, sites: Mapping[str, np.ndarray] | None) -> None:
    for key, where in (sites or {}).items():
        where = np.asarray(where, dtype=np.int64)
        if not len(where):
            continue
        label, marker, colour, size = SITE_STYLES.get(key, (key.replace("_", " "), "o", "black", 12.0))
        edge = {} if marker in ("x", "+", ".", "1", "2", "3", "4") else {"edgecolors": "white", "linewidths": 0.4}
        ax.scatter(cells.x_km[where], cells.y_km[where], marker=marker, s=size, c=colour,
                   label=f"{label} ({len(where)})", zorder=4, **edge)


def _cell_outlines(cells: CellMap) -> np.ndarray:
    """The edges of the simulated cells (n × 2 × 2, km), each once: where a sample is sparse, its cells stay visible."""
    i, j, i0, j0 = _lattice(cells)
    edges = set()
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        edges.update({((a, b), (a + 1, b)), ((a, b + 1), (a + 1, b + 1)), ((a, b), (a, b + 1)),
                      ((a + 1, b), (a + 1, b + 1))})
    segs = np.array(sorted(edges), dtype=float).reshape(-1, 2, 2)
    segs[..., 0] += i0
    segs[..., 1] += j0
    return segs * cells.cell_size_km


def _map_frame(ax: Axes, cells: CellMap, sites: Mapping[str, np.ndarray] | None = None) -> None:
    ax.add_collection(LineCollection(_cell_outlines(cells), colors=CELL_EDGE, linewidths=0.3, zorder=2.5,
                                     gid="cell outlines"))
    segs = county_boundaries(cells)
    if len(segs):
        ax.add_collection(LineCollection(segs, colors="black", linewidths=0.8, zorder=3, gid="county boundaries"))
    _county_labels(ax, cells, sites)
    ax.set_xlabel("east [km]")
    ax.set_ylabel("north [km]")
    ax.set_aspect("equal")


def _colour_limits(diff: np.ndarray) -> tuple[float, float, str]:
    """Each side of a diverging scale from its own cells (robust: a few extreme cells do not wash the rest out),
    and at least :data:`MIN_SIDE_SHARE` of the other side.

    Returns:
        ``(low, high, extend)``: the most negative and most positive colours (``low < 0 < high``)
        and the colour bar's ``extend`` for cells beyond them.
    """
    d = diff[np.isfinite(diff)]
    neg, pos = -d[d < 0], d[d > 0]
    low = float(np.percentile(neg, COLOUR_PERCENTILE)) if len(neg) else 0.0
    high = float(np.percentile(pos, COLOUR_PERCENTILE)) if len(pos) else 0.0
    top = max(low, high, 1e-9)
    low, high = max(low, MIN_SIDE_SHARE * top), max(high, MIN_SIDE_SHARE * top)
    below, above = bool(len(neg) and neg.max() > low), bool(len(pos) and pos.max() > high)
    extend = "both" if below and above else "min" if below else "max" if above else "neither"
    return -low, high, extend


def difference_map(city, base_counts: np.ndarray, alt_counts: np.ndarray,
                   sites: Mapping[str, np.ndarray] | None = None, ax: Axes | None = None, *,
                   what: str = "recorded offences", title: str | None = None, sample: Sample | None = None) -> Figure:
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
        sample: The simulated sample the counts describe (:class:`sim.presentation.Sample`), for the colour bar.

    Returns:
        The figure. Each side of the diverging scale runs to its own 95th percentile of cells
        (cells beyond take the end colour); simulated cells are outlined and squares of the lattice
        with no simulated cell are left blank (:data:`NO_CELL`); the legend sits under the map.

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
    low, high, extend = _colour_limits(diff)
    norm = colors.TwoSlopeNorm(vcenter=0.0, vmin=low, vmax=high)
    grid, extent = raster(cells, diff)
    sc = ax.imshow(grid, origin="lower", extent=extent, cmap="RdBu_r", norm=norm, interpolation="nearest",
                   zorder=2)
    ax.set_facecolor(NO_CELL)
    _map_frame(ax, cells, sites)
    _sites(ax, cells, sites)
    # The colour bar spans the map's own height (an inset of the map's axes, not a share of the figure).
    unit = f"per cell and year, {sample.short}" if sample is not None else "per cell and year"
    bar = fig.colorbar(sc, cax=ax.inset_axes([1.03, 0.0, 0.04, 1.0]), extend=extend,
                       label=f"{what}: alternative − baseline [{unit}]")
    # Each half of the bar has its own range: ticks at its ends and middles, whatever their lengths.
    ticks = [low, low / 2, 0.0, high / 2, high]
    bar.set_ticks(ticks, labels=[figure(t, signed=True) for t in ticks])
    handles, _ = ax.get_legend_handles_labels()
    if np.isnan(grid).any():  # say what the blank squares are: at small scale most squares are not simulated
        handles.append(Patch(facecolor=NO_CELL, edgecolor="0.6", linewidth=0.4, label="no simulated cell"))
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.09), ncol=2,
                  frameon=False)
    where = f"{cells.city_name}: " if cells.city_name else ""
    ax.set_title(title or f"{where}{what}, alternative − baseline (blue: fewer, red: more)", fontsize=10)
    return fig


def _marks(start) -> list[tuple[np.datetime64, str]]:
    if start is None:
        return []
    if isinstance(start, (int, np.integer, dt.date)):
        start = [(start, "interventions start")]
    out = []
    for when, label in start:
        day = np.datetime64(f"{int(when)}-01-01") if isinstance(when, (int, np.integer)) else np.datetime64(when)
        out.append((day, label))
    return out


def _shared_days(smoothed: list[np.ndarray]) -> int:
    """How many leading points every series has the same, replicate by replicate (0 if they differ in shape)."""
    first = smoothed[0]
    if len(smoothed) < 2 or any(v.shape != first.shape for v in smoothed[1:]):
        return 0
    same = np.all([np.all(v == first, axis=0) for v in smoothed[1:]], axis=0)
    return int(np.argmin(same)) if not same.all() else len(same)


def timeseries(series: Mapping[str, np.ndarray], first_year: int, *, ylabel: str,
               start: int | dt.date | Sequence[tuple[int | dt.date, str]] | None = None, window: int = 7,
               ax: Axes | None = None, title: str | None = None) -> Figure:
    """Daily series of several scenarios against calendar dates, smoothed, with the replicate range.

    While every scenario has the same values (the year before a package starts, under common
    random numbers) they are drawn once, as one grey line, instead of on top of each other.

    Args:
        series: Scenario name → values, ``replicates × days`` (or ``days``), day 0 = 1 January of
            ``first_year``; the model's years have 365 days.
        first_year: Calendar year of day 0.
        ylabel: Axis label with units.
        start: What to mark: a year (1 January) or a date, labelled "interventions start", or
            ``(year or date, label)`` pairs (:func:`sim.presentation.intervention_starts`); the
            first is dashed, the others dotted.
        window: Days in the centred moving mean.
        ax: Axes to draw on (a new figure when None).
        title: Figure title.

    Returns:
        The figure.
    """
    fig, ax = _axes(ax, (10, 4))
    kernel = np.ones(window) / window
    smoothed = {}
    for name, values in series.items():
        v = np.atleast_2d(np.asarray(values, dtype=float))
        if v.shape[1] < window:
            raise ValueError(f"timeseries: series {name!r} has {v.shape[1]} days, fewer than the window {window}")
        smoothed[name] = np.array([np.convolve(row, kernel, mode="valid") for row in v])
    if not smoothed:
        return fig
    n = max(v.shape[1] for v in smoothed.values())
    days = np.arange(n) + window // 2
    # 365-day model years: day d of year y is the d-th day of that calendar year.
    dates = np.array([np.datetime64(f"{first_year + d // 365}-01-01") + np.timedelta64(d % 365, "D")
                      for d in days.tolist()])
    shared = _shared_days(list(smoothed.values()))

    def draw(values: np.ndarray, cut: slice, label: str | None, **style):
        x = dates[: values.shape[1]][cut]
        line, = ax.plot(x, values.mean(axis=0)[cut], label=label, lw=1.2, **style)
        if len(values) > 1:
            ax.fill_between(x, values.min(axis=0)[cut], values.max(axis=0)[cut], alpha=0.2, color=line.get_color(),
                            lw=0)

    if shared:
        draw(next(iter(smoothed.values())), slice(0, shared), "all scenarios alike (common random numbers)",
             color="0.4")
    for name, v in smoothed.items():
        if shared < v.shape[1]:
            draw(v, slice(max(shared - 1, 0), None), name)
    for k, (when, label) in enumerate(_marks(start)):
        ax.axvline(when, color="black" if k == 0 else "0.35", ls="--" if k == 0 else ":", lw=1,
                   label=f"{label} ({str(when)[:10]})")
    ax.set_ylabel(ylabel)
    ax.set_xlabel("date")
    ax.legend(fontsize=8)
    ax.set_title(f"{window}-day mean; band = range over replicates" if title is None else title, fontsize=10)
    return fig


def pareto(table: pd.DataFrame, ax: Axes | None = None, *, metric: str = "preventable_cases",
           title: str | None = None, sample: Sample | None = None) -> Figure:
    """Extra cost against cases prevented (mean, 95 % intervals), the Pareto frontier joined.

    Args:
        table: :func:`sim.experiments.packages.package_table` output (columns ``package``,
            ``extra_cost_yuan`` with ``extra_cost_lo``/``_hi``, ``prevented`` with ``_lo``/``_hi``,
            ``pareto``); an empty table gives empty axes that say so.
        ax: Axes to draw on (a new figure when None).
        metric: The outcome counted as prevented, for the axis label.
        title: Figure title.
        sample: The simulated sample the counts and costs describe, for the axis labels.

    Returns:
        The figure; the legend sits under the axes, clear of the packages' error bars.
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
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=2, frameon=False)
    else:
        ax.text(0.5, 0.5, "no packages yet", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.5)
    tag = f", {sample.short}" if sample is not None else ""
    ax.set_xlabel(f"extra cost against the baseline [million yuan per year{tag}]")
    ax.set_ylabel(f"{metric.replace('_', ' ')} prevented [per year{tag}]")
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
                start: int | dt.date | Sequence[tuple[int | dt.date, str]] | None = None, window: int = 7,
                figsize: tuple[float, float] = (11, 7), sample: Sample | None = None) -> Figure:
    """Daily recorded preventable cases and calls for service (``window``-day mean), replicate range.

    ``start`` is marked as in :func:`timeseries`; ``sample`` names the simulated sample in the title.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    for ax, j in zip(axes, (0, 1), strict=True):
        timeseries({name: np.stack([r.daily[:, j] for r in rs]) for name, rs in results_by_scenario.items()},
                   first_year, ylabel=DAILY_SERIES[j], start=start, window=window, ax=ax, title="")
    axes[0].set_xlabel("")
    of = f" ({sample.short})" if sample is not None else ""
    fig.suptitle(f"{window}-day mean{of}; band = range over replicates")
    return save(fig, path)


def mean_cells(results: Sequence, year: int = -1, true: bool = False) -> np.ndarray:
    """Per-cell offences of counted year ``year`` (index), mean over the runs."""
    return np.mean([(r.cell_offences_true if true else r.cell_incidents)[year] for r in results], axis=0)


def difference_map_of(base: Sequence, alt: Sequence, path: str | Path | None = None, year: int = -1,
                      city_name: str = "", title: str | None = None, sample: Sample | None = None) -> Figure:
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
                         title=title, sample=sample)
    return save(fig, path)


# -- an optimiser study ----------------------------------------------------------------------


def _errors(table: pd.DataFrame, column: str) -> np.ndarray:
    """Lengths of a column's error bars below and above its mean (none where the interval is missing)."""
    mean, lo, hi = (table[c].to_numpy(float) for c in (column, f"{column}_lo", f"{column}_hi"))
    return np.clip(np.nan_to_num(np.vstack([mean - lo, hi - mean])), 0, None)


def optimiser_front(packages: pd.DataFrame, front: pd.DataFrame, objective: str, ax: Axes | None = None, *,
                    actual: pd.DataFrame | None = None, budget: float | None = None, quantile: float | None = None,
                    sample: Sample | None = None, title: str | None = None) -> Figure:
    """An optimiser study's packages: annual cost on the whole city against ``objective``'s effect.

    Args:
        packages: Every scored package (:meth:`sim.optimise.summary.StudyResult.table`,
            ``packages.csv``): ``cost_yuan_per_year`` and the objective's mean; drawn in grey.
        front: The Pareto front, same columns with ``_lo``/``_hi``/``_pessimistic``: its means
            with 95 % intervals, joined, each labelled with its package number, and its
            pessimistic quantiles over posterior draws.
        objective: The objective on the vertical axis.
        ax: Axes to draw on (a new figure when None).
        actual: The city's actual package (one row), drawn as a star with its interval.
        budget: The study's budget [yuan per year], a dashed line.
        quantile: The pessimistic quantile, for the legend.
        sample: The simulated sample the counts describe, for the axis label.
        title: Figure title.

    Returns:
        The figure; the legend sits under the axes.
    """
    from sim.optimise.evaluate import HIGHER_IS_BETTER

    fig, ax = _axes(ax, (8, 5.5))
    if len(packages):
        ax.scatter(packages["cost_yuan_per_year"] / 1e6, packages[objective], s=12, c="0.72", label="packages scored")
    if len(front):
        f = front.sort_values("cost_yuan_per_year", kind="stable")
        x = f["cost_yuan_per_year"].to_numpy(float) / 1e6
        ax.errorbar(x, f[objective], yerr=_errors(f, objective), fmt="o-", color="tab:red", capsize=3,
                    label="front (mean, 95 % interval)")
        which = f"{quantile:g} quantile" if quantile is not None else "quantile"
        ax.scatter(x, f[f"{objective}_pessimistic"], marker="v", c="darkred", s=18, zorder=3,
                   label=f"front, pessimistic ({which} over posterior draws)")
        for xi, yi, number in zip(x, f[objective], f["package"], strict=True):
            ax.annotate(str(int(number)), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if actual is not None and len(actual):
        ax.errorbar(actual["cost_yuan_per_year"] / 1e6, actual[objective], yerr=_errors(actual, objective), fmt="*",
                    ms=14, color="tab:blue", capsize=3, label="the city's actual package")
    if budget is not None:
        ax.axvline(budget / 1e6, ls="--", c="0.35", lw=1, label="budget")
    if not len(packages) and not len(front):
        ax.text(0.5, 0.5, "no package scored within budget", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.5)
    better = "more is better" if HIGHER_IS_BETTER.get(objective, True) else "less is better"
    ax.set_xlabel(objective_label("cost"))
    ax.set_ylabel(f"{objective_label(objective, sample)}\n({better})")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    ax.set_title("Packages by annual cost: the front against the baseline" if title is None else title, fontsize=10)
    return fig


def site_map(city, sites: Mapping[str, np.ndarray], ax: Axes | None = None, *, residents: np.ndarray | None = None,
             title: str | None = None, legend: bool = True) -> Figure:
    """Where a package's sites are: the city's cells (shaded by residents), county boundaries and each facility's sites.

    Args:
        city: A :class:`sim.space.city.City`, a :class:`RunResult` or a :class:`CellMap`.
        sites: Intervention key → cell indices of its sites; drawn with :data:`SITE_STYLES`.
        ax: Axes to draw on (a new figure when None).
        residents: Residents per cell, for the shading (default: the city's, when it has them).
        title: Axes title.
        legend: Draw the legend (under the map).
    """
    cells = CellMap.of(city)
    fig, ax = _axes(ax, (6.5, 6.2))
    if residents is None:
        residents = getattr(city, "residents", None)
    if residents is not None:
        grid, extent = raster(cells, np.log1p(np.asarray(residents, dtype=float)))
        # Light greys: the shading places the sites among people without competing with their markers.
        ax.imshow(grid, origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=2.5 * max(np.nanmax(grid), 1.0),
                  interpolation="nearest", zorder=2)
    ax.set_facecolor(NO_CELL)
    _map_frame(ax, cells, sites)
    _sites(ax, cells, sites)
    if not any(len(w) for w in sites.values()):
        ax.text(0.5, 0.5, "no sites placed", ha="center", va="center", transform=ax.transAxes, fontsize=9)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.09), ncol=2, frameon=False)
    if title is not None:
        ax.set_title(title, fontsize=9)
    return fig


def site_maps(city, panels: Sequence[tuple[str, Mapping[str, np.ndarray]]], *, columns: int = 3,
              residents: np.ndarray | None = None) -> Figure:
    """:func:`site_map` of several packages side by side: ``panels`` are ``(title, sites)`` pairs."""
    cols = max(1, min(columns, len(panels)))
    rows = max(1, int(np.ceil(len(panels) / cols)))
    fig = Figure(figsize=(4.2 * cols, 4.6 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (title, sites) in zip(axes, panels, strict=False):
        site_map(city, sites, ax, residents=residents, title=title)
        ax.set_xlabel("")
        ax.set_ylabel("")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return fig
