"""Package costs (sim.optimise.costs): a yuan per year at full scale, whatever the simulated scale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import load_scenario
from sim.interventions import REGISTRY
from sim.optimise.costs import package_cost
from sim.optimise.menu import apply_levers, default_levers
from sim.scenario.schema import Scenario


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


# ---- the costing is unchanged ---------------------------------------------------------------------

REFERENCE = Path(__file__).parent / "data" / "optimise_costs_reference.json"


def _packages(name: str):
    """The scenario's own package, each default lever at its low, middle and high value (or each choice), and
    every intervention on: the packages of the reference file."""
    scenario = load_scenario(name)
    data = json.loads(scenario.model_dump_json())
    yield "own", scenario
    for key, lever in sorted(default_levers(scenario).items()):
        if key.endswith(".siting"):
            continue
        if lever.range is not None:
            low, high = lever.range
            step = lever.step or 1
            values = [low, low + round((high - low) / 2 / step) * step, high]
        else:
            values = lever.choices
        for value in values:
            yield f"{key}={value}", Scenario.model_validate(apply_levers(data, {key: value}))
    every = json.loads(json.dumps(data))
    for key in REGISTRY:
        every["interventions"][key]["enabled"] = True
    yield "every intervention on", Scenario.model_validate(every)


def _check_against_reference(name: str) -> None:
    reference = json.loads(REFERENCE.read_text())["packages"]
    checked = 0
    for label, scenario in _packages(name):
        cost = package_cost(scenario, 10)
        want = reference[f"{name}: {label}"]
        assert (cost.setup_yuan, cost.running_yuan_per_year) == (want["setup_yuan"], want["running_yuan_per_year"]), \
            label
        assert cost.by_intervention == want["by_intervention"], label
        checked += 1
    assert checked == sum(1 for k in reference if k.startswith(f"{name}: "))


def test_costs_are_those_of_one_full_scale_model_per_intervention_kind_for_suizhou():
    # The reference was computed when every intervention kind had a full-scale model with its own residents;
    # the costing now shares one full-scale population: the same costs, to the yuan.
    _check_against_reference("suizhou_2022")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["daqing_2021", "jincheng_2016_2020", "xingan_2016_2020"])
def test_costs_are_those_of_one_full_scale_model_per_intervention_kind_for_every_seed_city(name):
    _check_against_reference(name)
