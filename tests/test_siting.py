"""Site choice shared by interventions (sim.interventions.siting)."""

from __future__ import annotations

import numpy as np

from sim.interventions.siting import pick_spaced_sites, within


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
