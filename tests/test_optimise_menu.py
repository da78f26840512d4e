"""The lever menu and the optimise: block (sim.optimise.menu, sim.optimise.spec): bad input refused before any work."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.optimise.menu import OptimiseError, apply_levers, check_levers, default_levers
from sim.optimise.spec import Lever, OptimiseSpec
from sim.scenario import ScenarioError


@pytest.fixture(scope="module")
def suizhou():
    return load_scenario("suizhou_2022")


def _check(scenario, **levers):
    check_levers(scenario, {k: Lever.model_validate(v) for k, v in levers.items()}, "menu.yaml")


@pytest.mark.parametrize("key, lever, message", [
    ("police_drones.count", {"range": [0, 4]}, "'police_drones' is not an intervention"),
    ("video.lenses", {"range": [0, 4]}, "video has no parameter 'lenses'"),
    ("video", {"range": [0, 4]}, "expected <intervention>.<parameter>"),
    ("rapid_response_points.counties", {"choices": ["Zengdu"]}, "cannot vary counties"),
    ("video.start_year", {"range": [2021, 2022]}, "the start year is the scenario's"),
    ("crackdown.siting", {"choices": ["mclp"]}, "crackdown has no sites to place"),
    ("video.siting", {"choices": ["mclp", "nearest_pub"]}, "expected choices among"),
    ("street_police_stations.count", {"range": [0, 20000]}, "value 20000.0 is not a valid count"),
    ("street_police_stations.count", {"range": [0, 8], "step": 0.5}, "expected a whole step"),
    ("crackdown.enabled", {"range": [0, 1]}, "is a switch"),
])
def test_a_lever_the_scenario_cannot_change_is_refused_naming_the_file_and_key(suizhou, key, lever, message):
    with pytest.raises(OptimiseError, match=message) as e:
        _check(suizhou, **{key: lever})
    assert str(e.value).startswith(f"menu.yaml: key 'optimise.levers.{key}'")


def test_a_lever_on_something_that_is_not_bought_is_refused(suizhou):
    with pytest.raises(OptimiseError, match="'crime' is not an intervention"):
        _check(suizhou, **{"crime.presence_risk": {"range": [0, 1]}})


@pytest.mark.parametrize("lever, message", [
    ({"range": [10, 2]}, "inverted"),
    ({"choices": []}, "choices: empty"),
    ({"range": [1]}, r"expected \[low, high\]"),
    ({"range": [0, 1], "choices": [1]}, "either range"),
    ({"choices": [1, 1]}, "appears twice"),
])
def test_an_empty_or_inverted_range_is_refused_when_the_file_is_read(lever, message):
    with pytest.raises(ValueError, match=message):
        Lever.model_validate(lever)


def test_the_optimise_block_is_validated_with_the_scenario_and_left_out_of_its_content(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("extends: suizhou_2022\noptimise:\n  levers:\n    video.cameras: {range: [0, 60000], step: 5000}\n")
    s = load_scenario(good)
    assert s.optimise.levers["video.cameras"].step == 5000
    assert "optimise" not in s.model_dump_json()  # so run ids are those of the same scenario without it
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: suizhou_2022\noptimise:\n  objectives: [preventable_cases, happiness]\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: key 'optimise\.objectives\.1'"):
        load_scenario(bad)


def test_the_default_menu_offers_every_point_facility_with_siting_and_switches_for_the_rest(suizhou):
    menu = default_levers(suizhou)
    assert menu["street_police_stations.count"].range == [0, 16]  # twice Suizhou's 8
    assert menu["rapid_response_points.count"].range == [0, 56]
    assert menu["video.cameras"].range[1] >= 108_000
    assert menu["video.siting"].choices == ["scenario", "mclp", "p_median"]
    assert menu["crackdown.enabled"].choices == [False, True]
    daqing = default_levers(load_scenario("daqing_2021"))
    assert {"grid_workers.enabled", "mediation.enabled", "street_police_stations.count"} <= set(daqing)
    check_levers(suizhou, menu, "default")
    check_levers(load_scenario("daqing_2021"), daqing, "default")


def test_a_lever_switches_its_intervention_on_unless_its_own_switch_says_otherwise(suizhou):
    data = suizhou.model_dump()
    out = apply_levers(data, {"hot_spot_patrol.hot_spots": 20, "video.cameras": 1000, "video.enabled": False})
    assert out["interventions"]["hot_spot_patrol"]["enabled"] is True
    assert out["interventions"]["hot_spot_patrol"]["hot_spots"] == 20
    assert out["interventions"]["video"]["enabled"] is False


def test_settings_out_of_bounds_are_refused():
    with pytest.raises(ValueError, match="posterior_draws"):
        OptimiseSpec.model_validate({"posterior_draws": 0})
    with pytest.raises(ValueError, match="appears twice"):
        OptimiseSpec.model_validate({"objectives": ["cost", "cost"]})
