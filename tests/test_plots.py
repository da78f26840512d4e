"""Figures (sim.plots, sim.calibration.plots): they return Figures, with readable labels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib import colors
from matplotlib.figure import Figure

from sim.plots import (
    CellMap,
    cell_map,
    county_boundaries,
    difference_map,
    difference_map_of,
    district_label_points,
    incident_map,
    map_caption,
    optimiser_front,
    pareto,
    real_map,
    site_map,
    site_maps,
    timeseries,
)
from sim.presentation import Sample
from sim.scenario import load_scenario
from sim.space.city import build_city
from sim.space.geography import MapLayers


@pytest.fixture
def cells():
    # A 4 × 2 lattice of 0.5 km cells: the left two columns are county 0, the right two county 1,
    # and the square (1, 1) is empty (nobody lives there).
    ij = [(i, j) for j in range(2) for i in range(4) if (i, j) != (1, 1)]
    i, j = np.array(ij).T
    return CellMap((i + 0.5) * 0.5, (j + 0.5) * 0.5, (i >= 2).astype(int), 0.5, ["West", "East"], "Testcity")


def test_county_boundaries_run_between_the_counties_territories(cells):
    segs = county_boundaries(cells)
    # One vertical line at x = 1 km from y = 0 to 1 km: two lattice edges, including beside the empty square.
    assert sorted(map(tuple, segs.reshape(-1, 4).tolist())) == [(1.0, 0.0, 1.0, 0.5), (1.0, 0.5, 1.0, 1.0)]


def test_county_boundaries_stay_whole_lines_between_the_scattered_cells_of_a_small_sample():
    # 1 km cells of a small-scale sample, far apart: two in the west (county 0), two in the east.
    i, j = np.array([0, 1, 4, 5]), np.array([0, 3, 0, 3])
    segs = county_boundaries(CellMap(i + 0.5, j + 0.5, np.array([0, 0, 1, 1]), 1.0))
    vertical = segs[segs[:, 0, 0] == segs[:, 1, 0]]
    for y in range(4):  # each row of the bounding box is crossed once, between the two counties' cells
        crossing = vertical[vertical[:, 0, 1] == y]
        assert len(crossing) == 1 and 1 < crossing[0, 0, 0] < 5 and crossing[0, 1, 1] == y + 1


def test_difference_map_returns_a_figure_with_sites_boundaries_and_labels(cells):
    base = np.arange(7, dtype=float)
    fig = difference_map(cells, base, base - 1, sites={"street_police_stations": np.array([2]), "video": []})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "east [km]" and "Testcity" in ax.get_title()
    # the empty square is blank, and the legend says what it means
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["street police station (1)", "no simulated cell"]
    assert {t.get_text() for t in ax.texts} == {"West", "East"}
    assert len(_collection(ax, "county boundaries").get_segments()) == 2


def _collection(ax, gid: str):
    (found,) = [c for c in ax.collections if c.get_gid() == gid]
    return found


def test_a_sparse_sample_leaves_unsimulated_squares_blank_and_outlines_each_simulated_cell():
    # Four scattered cells in a 6 × 4 lattice, as at small scale: most squares are not simulated.
    i, j = np.array([0, 1, 4, 5]), np.array([0, 3, 0, 3])
    cells = CellMap(i + 0.5, j + 0.5, np.array([0, 0, 1, 1]), 1.0)
    ax = difference_map(cells, np.zeros(4), np.array([0.0, -1.0, 0.0, 2.0])).axes[0]
    assert colors.to_rgb(ax.get_facecolor()) == (1.0, 1.0, 1.0)  # not a grey map
    assert len(_collection(ax, "cell outlines").get_segments()) == 4 * 4  # no shared edges here


def test_difference_map_colours_each_side_by_its_own_cells_and_its_bar_spans_the_map(cells):
    diff = np.array([-1.0, -1.0, -2.0, -1.0, -2.0, -40.0, 0.5])  # one extreme cell, and a small rise
    fig = difference_map(cells, np.zeros(7), diff)
    ax = fig.axes[0]
    norm = ax.images[0].norm
    assert norm.vmin == pytest.approx(-np.percentile([1, 1, 2, 1, 2, 40], 95))  # the extreme does not wash out the rest
    assert norm.vmax == pytest.approx(0.25 * -norm.vmin)  # a small rise is not coloured like a large fall
    fig.draw_without_rendering()
    bar = [*ax.child_axes, *(a for a in fig.axes if a is not ax)][0]  # the colour bar's axes
    map_box, bar_box = ax.get_window_extent(), bar.get_window_extent()
    # no taller than the map (its end triangle included), and nearly as tall
    assert map_box.y0 - 1.5 <= bar_box.y0 - 0.05 * bar_box.height and bar_box.y1 <= map_box.y1 + 1.5
    assert bar_box.height >= 0.85 * map_box.height


def test_county_labels_keep_clear_of_the_sites_and_under_their_markers():
    # A 5 × 5 county whose middle cell holds a station: the label moves off it.
    i, j = np.meshgrid(np.arange(5), np.arange(5))
    cells = CellMap(i.ravel() + 0.5, j.ravel() + 0.5, np.zeros(25, dtype=int), 1.0, ["Middle"])
    middle = 12
    ax = difference_map(cells, np.zeros(25), np.zeros(25), sites={"street_police_stations": np.array([middle])}).axes[0]
    (label,) = ax.texts
    x, y = label.xy
    assert np.hypot(x - 2.5, y - 2.5) >= 1.5
    assert label.get_zorder() < max(c.get_zorder() for c in ax.collections if c.get_label().startswith("street"))


def test_difference_map_draws_on_given_axes_and_rejects_counts_of_the_wrong_length(cells):
    fig = Figure()
    ax = fig.subplots()
    assert difference_map(cells, np.zeros(7), np.ones(7), ax=ax) is fig
    with pytest.raises(ValueError, match="one count per cell"):
        difference_map(cells, np.zeros(6), np.zeros(6))


def test_difference_map_of_runs_maps_the_mean_difference_with_the_first_runs_sites():
    class Run:  # the fields of a RunResult that the map reads
        def __init__(self, scenario, incidents, sites=None, treated=None):
            self.scenario, self.cell_incidents, self.sites, self.treated_cells = scenario, incidents, sites, treated
            self.cell_xy = np.array([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]])
            self.cell_county, self.county_names = np.array([0, 1, 0, 1]), ["West", "East"]

    base = [Run("base", np.array([[9, 9, 9, 9], [4, 4, 4, 4]]))]
    alt = [Run("alt", np.array([[0, 0, 0, 0], [2, 4, 4, 8]]), {"video": np.array([1, 3])}),
           Run("alt", np.array([[0, 0, 0, 0], [4, 4, 4, 6]]))]
    ax = difference_map_of(base, alt).axes[0]
    assert ax.get_title() == "alt − base:\nrecorded offences per cell (mean over 2 replicates)"
    assert np.array_equal(ax.images[0].get_array().filled(np.nan), [[-1, 0], [0, 3]])  # last year, rows = north
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cells with cameras (2)"]
    no_sites = [Run("alt", alt[0].cell_incidents, treated=np.array([0]))]
    ax = difference_map_of(base, no_sites, year=0, title="mine").axes[0]
    assert ax.get_title() == "mine" and ax.images[0].get_array().min() == -9
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["treated cells (1)"]


# ---- real maps: the whole city, its districts by name, the sample told apart from the land outside it


@pytest.fixture(scope="module")
def suizhou_real():
    """Suizhou on its real map at scale 0.1 (about 11 % of the land is simulated)."""
    return build_city(load_scenario("suizhou_2022_real").city, 0.1)


def _real_diff_map(city):
    rng = np.random.default_rng(3)
    base = rng.poisson(3.0, city.n_cells).astype(float)
    stations = np.flatnonzero(city.land_use == 0)[:2]
    return difference_map(city, base, base - 1, sites={"street_police_stations": stations}).axes[0], base


def test_a_real_city_is_drawn_on_its_district_map_with_names_outlines_and_sample(suizhou_real):
    city, layers = suizhou_real, suizhou_real.map_layers
    ax, _ = _real_diff_map(city)
    names = {t.get_text() for t in ax.texts if t.get_gid() == "district name"}
    assert names == {"Zengdu", "Sui County", "Guangshui"}
    assert len(_collection(ax, "district outlines").get_segments()) == sum(len(r) for r in layers.outlines)
    # the whole city, not only the simulated cells: the axes hold every square of its land
    land = np.argwhere(layers.district >= 0) * city.cell_size_km
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < land[:, 0].min() and x1 > land[:, 0].max() + city.cell_size_km
    assert y0 < land[:, 1].min() and y1 > land[:, 1].max() + city.cell_size_km
    # the ground: white where the sample was laid out, pale outside it, nothing outside the city
    (ground,) = [im for im in ax.images if im.get_gid() == "land"]
    g = ground.get_array()
    inside = ~np.ma.getmaskarray(g)
    assert inside.sum() == (layers.district >= 0).sum()
    assert g[inside].mean() == pytest.approx(layers.sampled_share())
    assert len(_collection(ax, "sample outline").get_segments()) > 0  # the sample's edge is drawn
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"simulated sample: towns and streets laid out ({layers.sampled_share():.0%} of the land)" in labels
    assert "outside the simulated sample (not simulated)" in labels and "no simulated cell" not in labels
    assert "street police station (2)" in labels
    # every simulated cell is drawn, at its centre, coloured by its change
    cells = _collection(ax, "simulated cells")
    assert len(cells.get_offsets()) == city.n_cells and np.all(cells.get_array() == -1)


def test_district_names_sit_inside_their_district_and_clear_of_what_the_map_shows():
    # Two 10 × 10 districts side by side; a cell in the middle of the western one.
    district = np.zeros((20, 10), dtype=np.int32)
    district[10:] = 1
    layers = MapLayers(1.0, district, district >= 0, district, ["West", "East"], [[], []],
                       np.array([[5.0, 5.0], [15.0, 5.0]]))
    west, east = district_label_points(layers, np.array([[5.0, 5.0]]))
    assert district[int(west[0]), int(west[1])] == 0 and district[int(east[0]), int(east[1])] == 1
    assert np.hypot(*(west - 5.0)) >= 2.0  # not on the cell
    assert 3.0 <= east[0] - 10.0 <= 7.0 and 3.0 <= east[1] <= 7.0  # nothing to avoid there: near its middle


def test_a_fully_simulated_real_city_needs_no_sample_legend():
    city = build_city(load_scenario("suizhou_2022_real").city, 1.0)
    ax = cell_map(city, city.residents, what="residents per cell", log=True).axes[0]
    assert ax.get_legend() is None
    assert {t.get_text() for t in ax.texts} == {"Zengdu", "Sui County", "Guangshui"}


def test_real_map_finds_a_scenarios_map_and_none_for_a_synthetic_city(suizhou_real):
    assert real_map(load_scenario("suizhou_2022"), 0.1) is None
    layers = real_map(load_scenario("suizhou_2022_real"), 0.1)
    assert layers.names == ["Zengdu", "Sui County", "Guangshui"]
    assert np.array_equal(layers.sampled, suizhou_real.map_layers.sampled)  # the runs' own city
    assert real_map(load_scenario("suizhou_baseline_real").city, 0.1) is layers  # the same city, cached


class _Run:  # the fields of a RunResult that the maps read
    def __init__(self, city, scenario: str, incidents: np.ndarray, sites=None):
        self.scenario, self.cell_incidents, self.sites, self.treated_cells = scenario, incidents, sites, None
        self.cell_xy = np.column_stack([city.x_km, city.y_km])
        self.cell_county, self.county_names = city.county, city.county_names


def test_maps_of_runs_on_a_real_map_draw_it_given_the_scenarios_map(suizhou_real):
    city, layers = suizhou_real, suizhou_real.map_layers
    years = np.ones((2, city.n_cells))
    base, alt = [_Run(city, "base", years)], [_Run(city, "alt", 0.5 * years)]
    ax = difference_map_of(base, alt, layers=layers).axes[0]
    assert {t.get_text() for t in ax.texts} == {"Zengdu", "Sui County", "Guangshui"}
    fig = incident_map(alt, [2021, 2022], layers=layers)
    for panel in fig.axes[:2]:
        assert {t.get_text() for t in panel.texts} == {"Zengdu", "Sui County", "Guangshui"}
    assert "outside the simulated sample (not simulated)" in [t.get_text() for t in fig.legends[0].get_texts()]
    # without the map the same runs are drawn as a synthetic city's cells
    assert not any(t.get_gid() == "district name" for t in difference_map_of(base, alt).axes[0].texts)


def test_the_map_caption_names_the_districts_and_says_what_is_simulated(suizhou_real):
    text = map_caption(suizhou_real.map_layers, "Suizhou")
    assert "Zengdu, Sui County, Guangshui" in text
    assert f"covers {suizhou_real.map_layers.sampled_share():.0%} of its land" in text and "not simulated" in text
    assert "county borders" in map_caption(None)


def test_cell_map_draws_any_per_cell_quantity_on_a_synthetic_city(cells):
    fig = cell_map(cells, np.arange(1, 8, dtype=float), what="residents per cell")
    ax = fig.axes[0]
    assert np.nanmax(ax.images[0].get_array()) == 7 and ax.child_axes[0].get_ylabel() == "residents per cell"
    assert len(_collection(ax, "county boundaries").get_segments()) == 2
    with pytest.raises(ValueError, match="one value per cell"):
        cell_map(cells, np.ones(3), what="x")


def test_timeseries_puts_dates_on_the_time_axis_and_marks_the_start():
    rng = np.random.default_rng(0)
    fig = timeseries({"base": rng.poisson(5, (2, 730)), "alt": rng.poisson(4, (2, 730))}, 2021,
                     ylabel="calls for service [per day]", start=2022)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["base", "alt", "interventions start (2022-01-01)"]
    x = ax.lines[0].get_xdata()
    assert x[0] == np.datetime64("2021-01-04") and x[-1] == np.datetime64("2022-12-28")  # centred 7-day mean
    assert x[365] == np.datetime64("2022-01-04")  # 365-day model years start on 1 January
    assert ax.get_ylabel() == "calls for service [per day]"


def test_timeseries_draws_the_days_all_scenarios_share_once_and_marks_each_start():
    rng = np.random.default_rng(0)
    same = rng.poisson(5, (2, 365))  # common random numbers: identical until the package starts
    series = {"base": np.hstack([same, rng.poisson(5, (2, 365))]), "a": np.hstack([same, rng.poisson(4, (2, 365))]),
              "b": np.hstack([same, rng.poisson(3, (2, 365))])}
    ax = timeseries(series, 2021, ylabel="cases [per day]",
                    start=[(2022, "package starts"), (2021, "mediation starts")]).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["all scenarios alike (common random numbers)", "base", "a", "b",
                      "package starts (2022-01-01)", "mediation starts (2021-01-01)"]
    shared, *own = ax.lines[:4]
    # shared up to where the 7-day mean first reaches into 2022, each scenario from there on
    assert np.datetime64("2021-12-28") == shared.get_xdata()[-1] == own[0].get_xdata()[0]
    assert all(line.get_xdata()[0] == own[0].get_xdata()[0] for line in own)  # each scenario only where they part


def test_pareto_keeps_its_legend_under_the_axes_clear_of_the_packages():
    t = pd.DataFrame({"package": ["a"], "extra_cost_yuan": [1e6], "extra_cost_lo": [0.5e6], "extra_cost_hi": [1.5e6],
                      "prevented": [10.0], "prevented_lo": [-50.0], "prevented_hi": [70.0], "pareto": [True]})
    fig = pareto(t)
    fig.draw_without_rendering()
    ax = fig.axes[0]
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0


def test_pareto_returns_a_figure_with_the_frontier():
    t = pd.DataFrame({"package": ["a", "b"], "extra_cost_yuan": [1e6, 2e6], "extra_cost_lo": [1e6, 2e6],
                      "extra_cost_hi": [1e6, 2e6], "prevented": [10.0, 5.0], "prevented_lo": [8.0, 3.0],
                      "prevented_hi": [12.0, 7.0], "pareto": [True, False]})
    fig = pareto(t)
    frontier = [ln for ln in fig.axes[0].lines if ln.get_label() == "Pareto frontier"]
    assert len(frontier) == 1 and list(frontier[0].get_xdata()) == [1.0]
    assert "million yuan" in fig.axes[0].get_xlabel() and "preventable cases prevented" in fig.axes[0].get_ylabel()


def test_pareto_draws_rounded_and_missing_intervals_and_says_when_there_is_no_package():
    # a t-interval of zero width can come back a hair inside its mean; one replicate gives none at all
    t = pd.DataFrame({"package": ["a", "b"], "extra_cost_yuan": [1e6, 2e6], "extra_cost_lo": [1e6 + 1e-7, np.nan],
                      "extra_cost_hi": [1e6, np.nan], "prevented": [10.0, 5.0], "prevented_lo": [10.0, np.nan],
                      "prevented_hi": [10.0 - 1e-12, np.nan], "pareto": [True, False]})
    assert len(pareto(t).axes[0].collections) > 0  # the error bars
    empty = pareto(t.iloc[:0]).axes[0]
    assert [x.get_text() for x in empty.texts] == ["no packages yet"]


def test_calibration_plots_import_without_the_calibration_pipeline():
    code = ("import sys, sim.calibration.plots; "
            "print('sim.calibration.calibrate' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_predictive_plot_labels_targets_by_city_and_metric():
    from sim.calibration.plots import plot_predictive, target_label

    row = {"target_id": "sz_calls_for_service_yoy", "city": "suizhou", "metric": "calls_for_service",
           "kind": "yoy_change"}
    assert target_label({**row, "period": "2022"}) == "Suizhou 2022: calls for service, change on the year [%]"
    assert target_label(row) == "Suizhou: calls for service, change on the year [%]"
    pred = pd.DataFrame([{**row, "reported": -23.0, "sim_median": -20.0, "sim_lo": -25.0, "sim_hi": -15.0,
                          "hit": True, "held_out": False, "compared": True, "bound": None}])
    fig = plot_predictive(pred, np.array([5.0]))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [target_label(row)]


def _study_table(packages, costs, means, half=10.0):
    return pd.DataFrame({"package": packages, "cost_yuan_per_year": costs, "preventable_cases": means,
                         "preventable_cases_lo": [m - half for m in means],
                         "preventable_cases_hi": [m + half for m in means],
                         "preventable_cases_pessimistic": [m - half / 2 for m in means]})


def test_optimiser_front_draws_the_front_with_intervals_the_actual_package_and_the_budget():
    packages = _study_table([0, 1, 2, 3], [20e6, 30e6, 45e6, 50e6], [40.0, 35.0, 60.0, 58.0])
    front = packages.iloc[[2, 0]]  # cheapest first on the plot, whatever the table's order
    actual = _study_table([-1], [79.3e6], [71.0])
    fig = optimiser_front(packages, front, "preventable_cases", actual=actual, budget=80e6, quantile=0.1,
                          sample=Sample(0.1))
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == [
        "budget", "front (mean, 95 % interval)", "front, pessimistic (0.1 quantile over posterior draws)",
        "packages scored", "the city's actual package"]
    assert ax.get_legend().get_bbox_to_anchor().y0 < ax.get_window_extent().y0  # under the axes
    assert ax.get_xlabel() == "annual cost [million yuan per year, whole city]"
    assert ax.get_ylabel() == "preventable cases prevented [per year, 10 % sample]\n(more is better)"
    lines = {(tuple(ln.get_xdata()), tuple(ln.get_ydata())) for ln in ax.lines}
    assert ((20.0, 45.0), (40.0, 60.0)) in lines  # the front's means, joined
    assert ((20.0, 45.0), (30.0, 50.0)) in lines and ((20.0, 45.0), (50.0, 70.0)) in lines  # its interval ends
    assert ((79.3,), (71.0,)) in lines  # the actual package
    assert ((80.0, 80.0), (0, 1)) in lines  # the budget
    pessimistic = [c for c in ax.collections if c.get_label().startswith("front, pessimistic")][0]
    assert np.allclose(pessimistic.get_offsets(), [[20.0, 35.0], [45.0, 55.0]])
    assert [t.get_text() for t in ax.texts] == ["0", "2"]  # each front package named by its number


def test_optimiser_front_says_when_no_package_was_scored():
    empty = _study_table([], [], [])
    ax = optimiser_front(empty, empty, "preventable_cases").axes[0]
    assert "no package scored within budget" in [t.get_text() for t in ax.texts]


def test_site_map_places_each_facilitys_sites_on_the_cells_with_county_boundaries(cells):
    fig = site_map(cells, {"rapid_response_points": np.array([0, 5]), "video": np.array([2])},
                   residents=np.arange(7) * 100.0, title="package 3")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["rapid-response point (2)", "cells with cameras (1)"]
    points = [c for c in ax.collections if c.get_label() == "rapid-response point (2)"][0]
    assert np.allclose(points.get_offsets(), [[cells.x_km[0], cells.y_km[0]], [cells.x_km[5], cells.y_km[5]]])
    assert any(c.get_gid() == "county boundaries" and len(c.get_segments()) for c in ax.collections)
    assert ax.get_title() == "package 3"
    nothing = site_map(cells, {}).axes[0]
    assert "no sites placed" in [t.get_text() for t in nothing.texts]


def test_site_maps_draw_one_panel_per_package(cells):
    fig = site_maps(cells, [("actual", {"video": np.array([1])}), ("package 2", {"video": np.array([3])})])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["actual", "package 2"]
