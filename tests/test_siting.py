"""Site choice shared by interventions (sim.interventions.siting)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import PinganModel, load_scenario
from sim.interventions.siting import given_sites, pick_spaced_sites, within
from sim.scenario import ScenarioError


def test_within_includes_the_cell_itself_and_only_cells_in_reach(city_and_residents):
    city, _ = city_and_residents
    cell = city.n_cells // 2
    near = within(city, cell, 1.5)
    assert cell in near
    assert (city.distance_km(cell, near) <= 1.5).all()
    others = np.setdiff1d(np.arange(city.n_cells), near)
    assert (city.distance_km(cell, others) > 1.5).all()


def test_spaced_sites_are_the_best_scoring_cells_far_enough_apart(city_and_residents):
    city, _ = city_and_residents
    pool = np.arange(city.n_cells)
    score = city.attraction.astype(float)
    sites = pick_spaced_sites(city, pool, score, 5, spacing_km=3.0)
    assert len(sites) == 5 and sites[0] == int(np.argmax(score))
    for i, a in enumerate(sites):
        for b in sites[i + 1:]:
            assert city.distance_km(int(a), np.array([b]))[0] >= 3.0


def test_spaced_sites_fill_without_spacing_when_there_is_no_room(city_and_residents):
    city, _ = city_and_residents
    pool = np.array([0, 1, 2])  # neighbouring cells
    sites = pick_spaced_sites(city, pool, np.array([3.0, 2.0, 1.0]), 3, spacing_km=1_000.0)
    assert sorted(sites.tolist()) == [0, 1, 2] and sites[0] == 0


# ---- explicit sites (placement: given) -------------------------------------------------------------


def test_given_sites_are_the_nearest_inhabited_cells(city_and_residents):
    city, _ = city_and_residents
    cells = np.array([0, city.n_cells // 2, city.n_cells - 1])
    exact = [[float(city.x_km[c]), float(city.y_km[c])] for c in cells]
    assert given_sites(city, exact, "video").tolist() == cells.tolist()
    nudged = [[x + 0.1, y - 0.1] for x, y in exact]  # within the cell: still that cell
    assert given_sites(city, nudged, "video").tolist() == cells.tolist()


def test_a_site_off_the_map_is_an_error_naming_the_key_and_the_extent(city_and_residents):
    city, _ = city_and_residents
    with pytest.raises(ValueError, match=r"interventions\.street_police_stations\.sites: .*off the map"):
        given_sites(city, [[1.0, 1.0], [1e4, 2.0]], "street_police_stations")


@pytest.mark.parametrize("override, message", [
    ("interventions.street_police_stations.placement=given", "needs a non-empty list"),
    ("interventions.rapid_response_points.sites=[[1.0, 2.0]]", "only used with placement: given"),
    ("interventions.video.sites=[[1.0]]", "only used with placement: given"),
])
def test_sites_and_placement_given_go_together(override, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("suizhou_2022", [override])


def _activated(overrides: list[str], scale: float = 0.05) -> PinganModel:
    s = load_scenario("suizhou_baseline", ["run.years=1", "run.intervention_year=2021", "run.warmup_days=0",
                                           *overrides])
    model = PinganModel(s, seed=1, scale=scale)
    model.step()  # the first counted hour activates the interventions
    return model


def test_each_point_facility_is_placed_at_its_given_sites():
    probe = _activated([])
    city = probe.city
    cells = [3, city.n_cells // 3, city.n_cells - 5]
    sites = "[" + ", ".join(f"[{city.x_km[c]}, {city.y_km[c]}]" for c in cells) + "]"
    for key, extra in (("street_police_stations", []), ("rapid_response_points", []),
                       ("hot_spot_patrol", []), ("video", ["interventions.video.cameras=30000"])):
        model = _activated([f"interventions.{key}.enabled=true", f"interventions.{key}.placement=given",
                            f"interventions.{key}.sites={sites}", *extra])
        iv = next(iv for iv in model.interventions if iv.key == key)
        assert sorted(iv.cells.tolist()) == sorted(cells), key


def test_cameras_at_given_sites_are_split_equally_among_the_clusters():
    probe = _activated([])
    city = probe.city
    cells = [2, city.n_cells // 2]
    sites = "[" + ", ".join(f"[{city.x_km[c]}, {city.y_km[c]}]" for c in cells) + "]"
    base = _activated(["interventions.video.enabled=false"])
    model = _activated(["interventions.video.enabled=true", "interventions.video.cameras=20000",
                        "interventions.video.placement=given", f"interventions.video.sites={sites}"])
    video = next(iv for iv in model.interventions if iv.key == "video")
    added = model.levers.cameras - base.levers.cameras  # camera coverage, not counts
    assert video.n == 1000 and sorted(video.cells.tolist()) == sorted(cells)  # 20 000 × 0.05
    assert added[cells[0]] == pytest.approx(added[cells[1]]) and added[cells[0]] > 0
    assert np.count_nonzero(added) == 2
