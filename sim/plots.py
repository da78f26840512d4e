"""Figures of runs and comparisons: maps, time series and the cost-effect Pareto plot.

Every function returns a :class:`matplotlib.figure.Figure` (a notebook shows it, a Panel app
wraps it in ``pn.pane.Matplotlib``, the command line saves it). Figures are built without
pyplot, so importing this module never switches the matplotlib backend and the functions are
safe to call from a web server's threads.

General functions take plain arrays and frames:

* :func:`difference_map` — alternative minus baseline per cell, county boundaries, sites;
* :func:`cell_map` — any per-cell quantity (residents, offences...) on the city's map;
* :func:`timeseries` — daily series (replicates × days) with dates and the intervention start;
* :func:`pareto` — extra cost against cases prevented, with intervals and the Pareto frontier;
* :func:`optimiser_front` — an optimiser study's packages by annual cost against an objective: the
  front with intervals and pessimistic quantiles, the city's actual package and the budget;
* :func:`site_map` and :func:`site_maps` — where a package's sites are, on the city's cells.

:func:`incident_map`, :func:`time_series` and :func:`difference_map_of` build them from
:class:`sim.experiments.runner.RunResult` lists and save a PNG when given a path.

Maps come in two kinds. A synthetic city's map shows the simulated cells and the county borders
between their territories. A city laid out on a real map (``city.geography``) is drawn on that
map (:class:`sim.space.geography.MapLayers`, from :func:`real_map`): the whole city with its district
outlines and names, the land of the simulated sample (the towns and streets laid out) in white and
the land outside it pale, with a legend entry for each, and the simulated cells on top.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
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
from matplotlib.transforms import offset_copy

from sim.interventions import MapMarker, map_markers
from sim.presentation import Sample, figure, objective_label
from sim.space.geography import MapLayers

__all__ = ["CellMap", "site_marker", "DAILY_SERIES", "difference_map", "timeseries", "pareto", "incident_map",
           "time_series", "difference_map_of", "county_boundaries", "raster", "mean_cells", "save", "real_map",
           "district_label_points", "map_caption", "cell_map", "optimiser_front", "site_map", "site_maps"]

#: How sites of an intervention that declares no map marker are drawn.
DEFAULT_MARKER = MapMarker("", "o", "black", 12.0)
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
#: Real maps: land of the simulated sample, land outside it (pale, so that it reads as "not simulated"
#: rather than as missing data, and does not dominate the picture), and the district outlines.
SAMPLE_LAND, OUTSIDE_SAMPLE_LAND, SAMPLE_EDGE, DISTRICT_EDGE = "white", "#f0eee9", "0.55", "#222222"
#: Real maps: a simulated cell is drawn at least this wide [points], so that a whole city's 0.5 km cells
#: stay visible at page size (at full size they are drawn to scale).
MIN_CELL_POINTS = 3.5
#: A map's legend starts this far below the axes [points]: under the tick labels and the axis label.
LEGEND_DROP_POINTS = 30.0
#: Real maps: margin around the city's land [share of its larger side].
MAP_MARGIN = 0.03


@dataclass(frozen=True)
class CellMap:
    """The cells of a city as a map needs them.

    Attributes:
        x_km, y_km: Cell centres [km].
        county: County index of each cell.
        cell_size_km: Side of a cell [km].
        county_names: Names of the counties, by index.
        city_name: The city's name, for titles.
        layers: The real map the city is laid out on (:class:`sim.space.geography.MapLayers`), or None
            for a synthetic city.
    """

    x_km: np.ndarray
    y_km: np.ndarray
    county: np.ndarray
    cell_size_km: float
    county_names: Sequence[str] = ()
    city_name: str = ""
    layers: MapLayers | None = None

    @classmethod
    def of(cls, city, city_name: str = "", layers: MapLayers | None = None) -> CellMap:
        """From a :class:`sim.space.city.City`, a :class:`RunResult` or a CellMap.

        A City brings its own real map (``city.map_layers``); a run does not keep one, so ``layers``
        (:func:`real_map` of its scenario) draws it on its real map.
        """
        if isinstance(city, CellMap):
            return city if layers is None else dataclasses.replace(city, layers=layers)
        if hasattr(city, "cell_xy"):  # a RunResult
            xy = np.asarray(city.cell_xy, dtype=float)
            gaps = np.diff(np.unique(np.round(xy[:, 0], 6)))
            size = float(gaps.min()) if len(gaps) else 1.0
            county = city.cell_county if city.cell_county is not None else np.zeros(len(xy), dtype=np.int64)
            if layers is not None:
                size = float(layers.cell_size_km)
            return cls(xy[:, 0], xy[:, 1], np.asarray(county), size, city.county_names or (), city_name, layers)
        name = city_name or getattr(getattr(city, "params", None), "preset", None) or ""
        return cls(np.asarray(city.x_km), np.asarray(city.y_km), np.asarray(city.county), float(city.cell_size_km),
                   list(getattr(city, "county_names", ())), str(name), layers or getattr(city, "map_layers", None))


def site_marker(key: str) -> MapMarker:
    """How the sites of intervention ``key`` are drawn: its declared map marker
    (:attr:`sim.interventions.Intervention.map_marker`), else a small black dot labelled with its key."""
    return map_markers().get(key) or dataclasses.replace(DEFAULT_MARKER, label=key.replace("_", " "))


def real_map(scenario, scale: float) -> MapLayers | None:
    """The real map a scenario's city is laid out on at ``scale``, or None for a synthetic city.

    Runs keep their cells, not their map: this lays the city out again (the city depends on its own
    seed and the scale only, so it is the runs' city) and keeps its map. Cached: a few per process.

    Args:
        scenario: A :class:`sim.scenario.Scenario` or its :class:`sim.space.city.CityParams`.
        scale: The runs' scale.
    """
    params = getattr(scenario, "city", scenario)
    if getattr(params, "geography", None) is None:
        return None
    return _real_map(params.model_dump_json(), float(scale))


@functools.lru_cache(maxsize=4)
def _real_map(city_json: str, scale: float) -> MapLayers:
    from sim.space.city import CityParams, build_city

    return build_city(CityParams.model_validate_json(city_json), scale).map_layers


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
    out = _grid_edges(owner)
    out[..., 0] += i0
    out[..., 1] += j0
    return out * cells.cell_size_km


def _grid_edges(owner: np.ndarray) -> np.ndarray:
    """The edges between neighbouring squares of a (rows = y, columns = x) grid whose values differ,
    as segments (n × 2 × 2) in squares from the grid's corner."""
    vj, vi = np.nonzero(owner[:, 1:] != owner[:, :-1])  # vertical edges between columns vi and vi + 1
    hj, hi = np.nonzero(owner[1:, :] != owner[:-1, :])  # horizontal edges between rows hj and hj + 1
    segs = [np.stack([np.column_stack([vi + 1, vj]), np.column_stack([vi + 1, vj + 1])], axis=1),
            np.stack([np.column_stack([hi, hj + 1]), np.column_stack([hi + 1, hj + 1])], axis=1)]
    return np.concatenate(segs).astype(float)


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
        label, marker, colour, size = dataclasses.astuple(site_marker(key))
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


# -- real maps ---------------------------------------------------------------------------------


def _land_extent(layers: MapLayers) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of the city's land [km], with a margin."""
    ij = np.argwhere(layers.district >= 0)
    size = layers.cell_size_km
    x0, y0 = ij.min(axis=0) * size
    x1, y1 = (ij.max(axis=0) + 1) * size
    pad = MAP_MARGIN * max(x1 - x0, y1 - y0)
    return float(x0 - pad), float(x1 + pad), float(y0 - pad), float(y1 + pad)


def district_label_points(layers: MapLayers, avoid_xy: np.ndarray | None = None) -> np.ndarray:
    """Where each district's name goes [km]: deep inside the district and clear of ``avoid_xy``.

    The square that is farthest from both the district's border and the nearest point to avoid
    (the simulated cells, whose sites lie on them), so that a name sits well inside its district
    without covering what the map shows. A district without a square of its own keeps its label
    point (:attr:`MapLayers.label_xy`).

    Args:
        layers: The real map.
        avoid_xy: Points the names keep clear of, (n, 2) km.
    """
    from scipy.ndimage import distance_transform_edt
    from scipy.spatial import cKDTree

    size = layers.cell_size_km
    avoid = np.asarray(avoid_xy if avoid_xy is not None else np.zeros((0, 2)), dtype=float).reshape(-1, 2)
    tree = cKDTree(avoid) if len(avoid) else None
    out = np.asarray(layers.label_xy, dtype=float).reshape(-1, 2).copy()
    for k in range(len(layers.names)):
        mine = layers.district == k
        if not mine.any():
            continue
        # Distance to the nearest square outside the district [km], padded so the lattice edge counts as outside.
        inner = distance_transform_edt(np.pad(mine, 1))[1:-1, 1:-1] * size
        ij = np.argwhere(mine)
        xy = (ij + 0.5) * size
        depth = inner[ij[:, 0], ij[:, 1]]
        clear = tree.query(xy)[0] if tree is not None else np.full(len(xy), np.inf)
        out[k] = xy[int(np.argmax(np.minimum(depth, clear)))]
    return out


def _cell_points(ax: Axes, layers: MapLayers) -> float:
    """The marker side [points] of a simulated cell: its true size on the axes, at least :data:`MIN_CELL_POINTS`."""
    x0, x1 = ax.get_xlim()
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72.0
    return max(MIN_CELL_POINTS, layers.cell_size_km * width_pt / max(x1 - x0, 1e-9))


def _real_cells(ax: Axes, cells: CellMap, values: np.ndarray, **style):
    """The simulated cells as squares coloured by ``values``, the largest magnitudes on top."""
    order = np.argsort(np.abs(np.nan_to_num(values)), kind="stable")
    side = _cell_points(ax, cells.layers)
    return ax.scatter(cells.x_km[order], cells.y_km[order], c=values[order], s=side**2, marker="s",
                      edgecolors="0.35", linewidths=0.3, zorder=2, gid="simulated cells", **style)


def _real_frame(ax: Axes, cells: CellMap) -> list:
    """A real city's map under its cells: the sample's land, outlines, names; returns the legend patches."""
    layers = cells.layers
    n = layers.district.shape[0]
    size = layers.cell_size_km
    land = np.where(layers.district.T >= 0, np.where(layers.sampled.T, 1.0, 0.0), np.nan)
    ax.imshow(land, origin="lower", extent=(0, n * size, 0, n * size), interpolation="nearest", zorder=1,
              cmap=colors.ListedColormap([OUTSIDE_SAMPLE_LAND, SAMPLE_LAND]), vmin=0, vmax=1, gid="land")
    ax.set_facecolor("white")
    # The sample's edge, so that its land reads as areas and the pale land around it recedes.
    ax.add_collection(LineCollection(_grid_edges(layers.sampled.T.astype(np.int8)) * size, colors=SAMPLE_EDGE,
                                     linewidths=0.5, zorder=1.5, gid="sample outline"))
    rings = [r for district in layers.outlines for r in district]
    ax.add_collection(LineCollection(rings, colors=DISTRICT_EDGE, linewidths=0.8, zorder=3, gid="district outlines"))
    # Names keep clear of the simulated cells and the sites (a district's seat, its densest cells and most
    # sites, lies at its middle, where a name would otherwise go).
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for name, (x, y) in zip(layers.names, district_label_points(
            layers, np.column_stack([cells.x_km, cells.y_km])), strict=True):
        ax.annotate(name, (float(x), float(y)), fontsize=7.5, ha="center", va="center", color="black", zorder=3.5,
                    path_effects=halo, gid="district name")
    x0, x1, y0, y1 = _land_extent(layers)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("east [km]")
    ax.set_ylabel("north [km]")
    ax.set_aspect("equal")
    share = layers.sampled_share()
    if share >= 1.0:  # the whole city is simulated: nothing to tell apart
        return []
    return [Patch(facecolor=SAMPLE_LAND, edgecolor=SAMPLE_EDGE, linewidth=0.5,
                  label=f"simulated sample: towns and streets laid out ({share:.0%} of the land)"),
            Patch(facecolor=OUTSIDE_SAMPLE_LAND, edgecolor="0.6", linewidth=0.4,
                  label="outside the simulated sample (not simulated)")]


def map_caption(layers: MapLayers | None, city_name: str = "") -> str:
    """A sentence saying what a map shows: the real districts and the sample, or a synthetic city's counties."""
    where = f" of {city_name}" if city_name else ""
    if layers is None:
        return (f"A synthetic city{where} (a preset shaped like the seed city): black lines are county borders "
                "between the simulated cells' territories; blank squares hold no simulated cell.")
    share = layers.sampled_share()
    sample = ("the whole city is simulated" if share >= 1.0 else
              f"the simulated sample, the towns and streets laid out, covers {share:.0%} of its land (white); "
              "the pale land outside it is not simulated")
    source = f" District outlines: {layers.source.split(':')[0]}." if layers.source else ""
    return (f"The real district map{where}: {', '.join(layers.names)} (outlines and names); {sample}; each "
            f"square is a simulated {layers.cell_size_km:g} km cell, drawn at least {MIN_CELL_POINTS:g} points "
            f"wide.{source}")


def _draw_cells(ax: Axes, cells: CellMap, values: np.ndarray, *, cmap: str, norm: colors.Normalize,
                sites: Mapping[str, np.ndarray] | None = None):
    """Per-cell ``values`` on the city's map, and the sites on top.

    Returns:
        ``(mappable, legend patches)``: the colour mapping for a colour bar, and what the map's
        ground means (a real map's sample and the land outside it; a synthetic city's blank squares).
    """
    if cells.layers is not None:  # the real map, then the cells on it
        patches = _real_frame(ax, cells)
        mappable = _real_cells(ax, cells, values, cmap=cmap, norm=norm)
    else:
        grid, extent = raster(cells, values)
        mappable = ax.imshow(grid, origin="lower", extent=extent, cmap=cmap, norm=norm, interpolation="nearest",
                             zorder=2)
        ax.set_facecolor(NO_CELL)
        _map_frame(ax, cells, sites)
        # The blank squares: at small scale most squares are not simulated.
        patches = ([Patch(facecolor=NO_CELL, edgecolor="0.6", linewidth=0.4, label="no simulated cell")]
                   if np.isnan(grid).any() else [])
    _sites(ax, cells, sites)
    return mappable, patches


def _legend_under(ax: Axes, patches: list) -> None:
    """The sites' and the ground's legend entries under the map, below its axis label whatever the map's height."""
    handles = ax.get_legend_handles_labels()[0] + patches
    if handles:
        below = offset_copy(ax.transAxes, fig=ax.figure, y=-LEGEND_DROP_POINTS, units="points")
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(0.0, 0.0), bbox_transform=below,
                  borderaxespad=0.0, ncol=2, frameon=False)


def cell_map(city, values: np.ndarray, ax: Axes | None = None, *, what: str, log: bool = False,
             cmap: str = "viridis", sites: Mapping[str, np.ndarray] | None = None, title: str | None = None,
             layers: MapLayers | None = None) -> Figure:
    """Any per-cell quantity (residents, offences, calls...) on the city's map, with its colour bar.

    Args:
        city: A :class:`sim.space.city.City`, a :class:`RunResult` or a :class:`CellMap`.
        values: One value per cell.
        ax: Axes to draw on (a new figure when None).
        what: What the values are, with units, for the colour bar.
        log: A logarithmic colour scale (cells at zero or below are not coloured).
        cmap: Matplotlib colour map.
        sites: Intervention key → cell indices of its sites, drawn with :func:`site_marker`.
        title: Axes title.
        layers: The real map to draw the cells on (:func:`real_map`); a City brings its own.

    Raises:
        ValueError: ``values`` does not have one value per cell.
    """
    cells = CellMap.of(city, layers=layers)
    v = np.asarray(values, dtype=float)
    if v.shape != (len(cells.x_km),):
        raise ValueError(f"cell_map: expected one value per cell ({len(cells.x_km)}), got {v.shape}")
    fig, ax = _axes(ax, (7.5, 6.5))
    shown = v[np.isfinite(v) & (v > 0)] if log else v[np.isfinite(v)]
    low, high = (float(shown.min()), float(shown.max())) if len(shown) else (1.0, 10.0)
    norm = colors.LogNorm(low, max(high, low * 10)) if log else colors.Normalize(low, high)
    mappable, patches = _draw_cells(ax, cells, np.where(v > 0, v, np.nan) if log else v, cmap=cmap, norm=norm,
                                    sites=sites)
    fig.colorbar(mappable, cax=ax.inset_axes([1.03, 0.0, 0.04, 1.0]), label=what)
    _legend_under(ax, patches)
    if title is not None:
        ax.set_title(title, fontsize=10)
    return fig


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
                   what: str = "recorded offences", title: str | None = None, sample: Sample | None = None,
                   layers: MapLayers | None = None) -> Figure:
    """Alternative minus baseline per cell on a diverging scale, with county boundaries (or the real
    district map) and sites.

    Args:
        city: A :class:`sim.space.city.City`, a :class:`RunResult` or a :class:`CellMap`.
        base_counts: Baseline count per cell (e.g. mean over replicates of a counted year).
        alt_counts: The alternative's count per cell, same cells.
        sites: Intervention key → cell indices of its sites (``RunResult.sites``); drawn with
            :func:`site_marker`.
        ax: Axes to draw on (a new figure when None).
        what: What is counted, for the colour bar.
        title: Figure title (default: names the city when known).
        sample: The simulated sample the counts describe (:class:`sim.presentation.Sample`), for the colour bar.
        layers: The real map to draw the cells on (:func:`real_map`); a City brings its own.

    Returns:
        The figure. Each side of the diverging scale runs to its own 95th percentile of cells
        (cells beyond take the end colour); the legend sits under the map. A synthetic city's
        simulated cells are outlined and squares with no simulated cell left blank (:data:`NO_CELL`);
        a real map shows the whole city, district outlines and names, the sample's land white and
        the land outside it pale (each with its legend entry), and the cells as squares on it.

    Raises:
        ValueError: ``base_counts`` or ``alt_counts`` do not have one value per cell.
    """
    cells = CellMap.of(city, layers=layers)
    base, alt = np.asarray(base_counts, dtype=float), np.asarray(alt_counts, dtype=float)
    if base.shape != (len(cells.x_km),) or alt.shape != base.shape:
        raise ValueError(f"difference_map: expected one count per cell ({len(cells.x_km)}), got "
                         f"{base.shape} and {alt.shape}")
    fig, ax = _axes(ax, (7.5, 6.5))
    diff = alt - base
    low, high, extend = _colour_limits(diff)
    norm = colors.TwoSlopeNorm(vcenter=0.0, vmin=low, vmax=high)
    sc, patches = _draw_cells(ax, cells, diff, cmap="RdBu_r", norm=norm, sites=sites)
    # The colour bar spans the map's own height (an inset of the map's axes, not a share of the figure).
    unit = f"per cell and year, {sample.short}" if sample is not None else "per cell and year"
    bar = fig.colorbar(sc, cax=ax.inset_axes([1.03, 0.0, 0.04, 1.0]), extend=extend,
                       label=f"{what}: alternative − baseline [{unit}]")
    # Each half of the bar has its own range: ticks at its ends and middles, whatever their lengths.
    ticks = [low, low / 2, 0.0, high / 2, high]
    bar.set_ticks(ticks, labels=[figure(t, signed=True) for t in ticks])
    _legend_under(ax, patches)
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
                 city_name: str = "", layers: MapLayers | None = None) -> Figure:
    """Recorded offences per cell in each counted year, mean over replicates, one panel a year.

    With ``layers`` (:func:`real_map` of the runs' scenario) each panel is the real district map.
    """
    cells = CellMap.of(results[0], city_name, layers)
    maps = np.mean([r.cell_incidents for r in results], axis=0)
    n = len(year_labels)
    fig = Figure(figsize=(5.5 * n + 1, 5.8 if cells.layers is not None else 5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    vmax = max(float(maps.max()), 1.0)
    norm = colors.LogNorm(vmin=0.1, vmax=vmax)
    sc, patches = None, []
    for i, (ax, label) in enumerate(zip(axes, year_labels, strict=True)):
        sc, patches = _draw_cells(ax, cells, np.maximum(maps[i], 0.1), cmap="inferno_r", norm=norm)
        ax.set_title(str(label))
    if patches and cells.layers is not None:  # what the white and the pale land are, once under the panels
        fig.legend(handles=patches, loc="outside lower center", ncol=2, fontsize=7, frameon=False)
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
                      city_name: str = "", title: str | None = None, sample: Sample | None = None,
                      layers: MapLayers | None = None) -> Figure:
    """:func:`difference_map` of two scenarios' runs: recorded offences in a counted year, mean over replicates.

    Sites are those of the alternative's first replicate (where siting follows simulated crime
    they can differ a little between replicates); a run without per-intervention sites shows
    its treated cells. Given the same replicates of both, the map is the mean paired difference.
    ``layers`` (:func:`real_map` of the alternative's scenario) draws it on the city's real map.
    """
    sites = getattr(alt[0], "sites", None)
    if sites is None and getattr(alt[0], "treated_cells", None) is not None:
        sites = {"treated cells": alt[0].treated_cells}
    if title is None:
        title = (f"{alt[0].scenario} − {base[0].scenario}:\nrecorded offences per cell "
                 f"(mean over {len(alt)} replicates)")
    fig = difference_map(CellMap.of(alt[0], city_name, layers), mean_cells(base, year), mean_cells(alt, year), sites,
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
        packages: Every scored package (:meth:`sim.optimise.study.StudyResult.table`,
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
        sites: Intervention key → cell indices of its sites; drawn with :func:`site_marker`.
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
