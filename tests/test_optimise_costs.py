"""Package costs (sim.optimise.costs): a yuan per year at full scale, whatever the simulated scale."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.optimise.costs import package_cost


def test_suizhou_2022_costs_its_interventions_own_unit_costs_at_full_scale():
    cost = package_cost(load_scenario("suizhou_2022"), amortisation_years=10)
    # 8 stations (1.5 M set-up, 1.8 M a year), 28 points (0.4 M, 0.9 M), 54 000 cameras (2 500, 300),
    # 13 campaigns' officer hours (7.68 M a year): the intervention modules' own figures.
    setup = 8 * 1.5e6 + 28 * 0.4e6 + 54_000 * 2_500
    running = 8 * 1.8e6 + 28 * 0.9e6 + 54_000 * 300 + 7.68e6
    assert cost.setup_yuan == pytest.approx(setup) and cost.running_yuan_per_year == pytest.approx(running)
    assert cost.annual_yuan == pytest.approx(running + setup / 10)
    assert sum(cost.by_intervention.values()) == pytest.approx(cost.annual_yuan)


def test_explicit_sites_do_not_change_what_a_package_costs():
    plain = load_scenario("suizhou_2022")
    sited = load_scenario("suizhou_2022", ["interventions.street_police_stations.placement=given",
                                           "interventions.street_police_stations.sites=[[1.0, 1.0]]"])
    assert package_cost(sited, 10).annual_yuan == package_cost(plain, 10).annual_yuan
