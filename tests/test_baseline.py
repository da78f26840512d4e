"""The baseline ``pingan run`` measures a package against: found from ``extends:``, the same city with nothing on."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import ScenarioError, load_scenario
from sim.experiments.baseline import (
    differences,
    extends_chain,
    paired_baseline,
    split_overrides,
    without_interventions,
)

#: Choosing a baseline reads scenario files only: nothing may build a city or a model (conftest.py).
pytestmark = pytest.mark.usefixtures("no_simulation")


def _pair(name: str | Path, overrides: list[str] | None = None, chosen: str | None = None):
    return paired_baseline(name, load_scenario(name, overrides), overrides, chosen)


def test_a_package_is_paired_with_the_scenario_it_extends_with_nothing_switched_on():
    chosen = _pair("suizhou_2022")
    assert chosen.scenario == load_scenario("suizhou_baseline")
    assert chosen.reason == ("baseline suizhou_baseline: the scenario suizhou_2022 extends with no intervention "
                             "switched on, run with the same seeds")


def test_the_chain_is_followed_past_parents_that_switch_something_on(tmp_path):
    more = tmp_path / "more.yaml"
    more.write_text("extends: suizhou_2022\nname: more\ninterventions:\n  home_visits: {enabled: true}\n")
    assert [p.stem for p in extends_chain(more)] == ["suizhou_2022", "suizhou_baseline"]
    assert _pair(more).scenario.name == "suizhou_baseline"


@pytest.mark.parametrize(("name", "ancestor", "why"), [
    ("jincheng_2016_2020", "jincheng_baseline", "run.first_year"),  # the package counts 2016-2017
    ("suizhou_2022_real", "suizhou_baseline", "city.geography"),  # the package is on the real map
])
def test_an_ancestor_that_differs_in_more_than_the_package_gives_the_package_with_everything_off(name, ancestor,
                                                                                                why):
    package = load_scenario(name)
    chosen = _pair(name)
    assert chosen.scenario.name == f"{name}_no_interventions"
    assert chosen.scenario.enabled_interventions() == {} and package.enabled_interventions()
    assert differences(chosen.scenario, package) == []  # the pair differs in the package only
    assert differences(load_scenario(ancestor), package) != []
    assert ancestor in chosen.reason and why in chosen.reason


def test_a_scenario_with_nothing_switched_on_or_without_such_an_ancestor_runs_alone(tmp_path):
    alone = _pair("suizhou_baseline")
    assert alone.scenario is None and "switches no intervention on" in alone.reason
    own = tmp_path / "own.yaml"
    own.write_text("name: own\ninterventions:\n  video: {enabled: true, cameras: 100}\n")
    orphan = _pair(own)
    assert orphan.scenario is None and "extends no scenario with every intervention off" in orphan.reason


def test_overrides_under_interventions_change_the_package_and_the_others_apply_to_both():
    overrides = ["interventions.home_visits.enabled=true", "run.warmup_days=7", "crime.displacement_prob=0.3"]
    assert split_overrides(overrides) == (overrides[:1], overrides[1:])
    base = _pair("suizhou_2022", overrides).scenario
    assert base.name == "suizhou_baseline" and base.enabled_interventions() == {}
    assert base.run.warmup_days == 7 and base.crime.displacement_prob == 0.3


def test_a_chosen_baseline_is_used_as_it_is_and_what_else_differs_is_named():
    chosen = _pair("suizhou_2022", chosen="suizhou_baseline_real")
    assert chosen.scenario.name == "suizhou_baseline_real"
    assert "chosen with --baseline" in chosen.reason and "city.geography" in chosen.reason
    with pytest.raises(ScenarioError, match="--baseline suizhou_2022: it is named suizhou_2022, as the package is"):
        _pair("suizhou_2022", chosen="suizhou_2022")


def test_every_intervention_off_keeps_the_city_years_and_parameters():
    package = load_scenario("daqing_2021", ["crime.displacement_prob=0.3"])
    off = without_interventions(package)
    assert off.name == "daqing_2021_no_interventions" and off.enabled_interventions() == {}
    assert differences(off, package) == []
    assert off.run == package.run and off.crime == package.crime and off.city == package.city
