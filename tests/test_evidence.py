"""The evidence harness (sim.experiments.evidence) and the crime concentration it measures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.experiments.evidence import (
    PRE_EVIDENCE_MECHANISMS,
    PUBLISHED,
    EvidenceRow,
    _observed,
    evidence_scenarios,
    evidence_table,
    near_repeat_ratio,
    top_share,
    write_evidence,
)
from sim.experiments.runner import scenario_tasks
from sim.scenario.loader import load_scenario

SHORT = ["run.warmup_days=7", "run.years=1"]


def test_top_share_sums_the_largest_five_percent_of_cells():
    counts = np.array([50.0] + [1.0] * 19 + [0.0] * 20)  # 40 cells: the top 5 % is 2 cells
    assert top_share(counts) == pytest.approx(51 / 69 * 100)
    assert top_share(np.ones(100)) == pytest.approx(5.0)
    assert math.isnan(top_share(np.zeros(10)))


def test_knox_ratio_is_one_when_places_and_times_are_independent():
    rng = np.random.default_rng(3)
    n = 3000  # ~1 700 chance pairs: the ratio's noise is a few percent
    cells, hours = rng.integers(0, 100, n), rng.integers(0, 2 * 8760, n)
    assert near_repeat_ratio(cells, hours, seed=1) == pytest.approx(1.0, abs=0.1)


def test_knox_ratio_finds_repeats_in_the_same_cell_within_two_weeks():
    rng = np.random.default_rng(4)
    n = 600
    cells, hours = rng.integers(0, 100, n), rng.integers(0, 2 * 8760, n)
    # Each offence followed, in the same cell, by another within a few days.
    follow = hours + rng.integers(24, 5 * 24, n)
    clustered = near_repeat_ratio(np.concatenate([cells, cells]), np.concatenate([hours, follow]), seed=1)
    assert clustered > 2.0  # ~270 chance pairs plus 600 planted ones


def test_a_verdict_is_inside_when_the_interval_overlaps_the_published_range():
    p = PUBLISHED["compound_burglary_ratio"]
    inside = EvidenceRow("k", "m", "x", "ratio", np.array([0.6, 0.7, 0.65, 0.72]), p).record()
    outside = EvidenceRow("k", "m", "x", "ratio", np.array([0.1, 0.12, 0.11, 0.13]), p).record()
    unpublished = EvidenceRow("k", "m", "x", "ratio", np.array([1.0, 2.0])).record()
    assert inside["verdict"] == "inside" and outside["verdict"] == "outside"
    assert unpublished["verdict"] == "n/a"
    assert inside["model_lo"] < inside["model_mean"] < inside["model_hi"]


def test_rows_unlike_their_study_or_without_one_get_no_verdict():
    values = np.array([-20.0, -15.0, -12.0])
    context = EvidenceRow("patrol_calls", "m", "x", "% change", values, PUBLISHED["patrol_calls"]).record()
    assert context["role"] == "context" and context["verdict"] == "n/a"
    none = EvidenceRow("auxiliary_police", "m", "x", "", np.full(3, np.nan), PUBLISHED["auxiliary_police"]).record()
    assert none["role"] == "none" and none["verdict"] == "n/a" and none["replicates"] == 0
    design = EvidenceRow("k", "m", "x", "% change", values, PUBLISHED["cameras_area_vs_control"]).record()
    assert design["role"] == "input" and design["verdict"] == "inside"


def test_every_published_figure_says_what_it_is_to_the_model():
    roles = {key: p.role for key, p in PUBLISHED.items()}
    # The seeds' figures are calibration targets, fitted there; a figure a parameter was sized to is an input.
    assert {k for k, r in roles.items() if r == "target"} == {"package_preventable", "package_calls",
                                                             "daqing_effective", "dispute_resolved_share"}
    assert roles["cameras_covered_cells"] == roles["hot_spot_patrol_offences"] == "input"
    assert roles["compound_burglary_ratio"] == roles["mediation_success"] == "input"
    # Every seed intervention without an evaluation has a row saying so.
    assert {"crackdown_package", "two_station_linkage", "auxiliary_police",
            "special_population_management"} <= {k for k, r in roles.items() if r == "none"}


def test_every_scenario_of_the_harness_validates_with_overrides():
    scen = evidence_scenarios(["city.attractor_sites_per_100k=0"])
    assert set(scen) == {"base", "cameras", "camera_scheme", "patrol_x2", "compounds", "hot_spots", "package",
                         "package_no_crackdown", "daqing"}
    # The camera scheme covers a tenth of the inhabited cells, the most attractive ones, as clusters.
    video = scen["camera_scheme"].interventions.video
    assert video.placement == "given" and len(video.sites) >= 4
    assert not scen["package_no_crackdown"].interventions.crackdown.enabled
    assert scen["package"].interventions.crackdown.enabled
    assert scen["patrol_x2"].policing.units_per_100k_residents == 2 * scen["base"].policing.units_per_100k_residents
    assert all(s.city.attractor_sites_per_100k == 0 for s in scen.values())


def test_a_lever_that_doubles_a_drawn_parameter_doubles_the_draw():
    from sim.calibration.posterior import with_parameters
    from sim.experiments.evidence import RELATIVE_LEVERS, ScaledDraw

    key = "policing.units_per_100k_residents"
    scen = evidence_scenarios()

    def draw(scenario, r):  # a posterior that estimates patrol strength: 15 + r units per 100k
        values = {key: 15.0 + r, "crime.presence_risk": 0.5}
        return with_parameters(scenario, values), values

    base, base_point = draw(scen["base"], 1)
    doubled, point = ScaledDraw(draw, RELATIVE_LEVERS["patrol_x2"])(scen["patrol_x2"], 1)
    assert base.policing.units_per_100k_residents == 16.0
    assert doubled.policing.units_per_100k_residents == 32.0 and point[key] == 32.0
    assert doubled.crime.presence_risk == base.crime.presence_risk == 0.5  # the other drawn values as drawn
    # A draw without the lever's parameter leaves the role's own doubling in place.
    def other(scenario, r):
        return with_parameters(scenario, {"crime.presence_risk": 0.5}), {"crime.presence_risk": 0.5}

    kept, _ = ScaledDraw(other, RELATIVE_LEVERS["patrol_x2"])(scen["patrol_x2"], 0)
    assert kept.policing.units_per_100k_residents == 2 * scen["base"].policing.units_per_100k_residents


def test_tables_are_written(tmp_path):
    import pandas as pd

    row = EvidenceRow("top5_share", "crime concentration", "share", "%", np.array([30.0, 31.0, 29.0]),
                      PUBLISHED["top5_share"]).record()
    write_evidence(pd.DataFrame([row]), tmp_path)
    assert "crime concentration" in (tmp_path / "evidence.md").read_text()
    assert pd.read_csv(tmp_path / "evidence.csv")["verdict"].tolist() == ["outside"]
    assert evidence_table(pd.DataFrame([row])).count("\n") == 3


@pytest.fixture(scope="module")
def concentration_runs():
    """Two replicates of a short Suizhou baseline at scale 0.1, attractors on (the default) and off."""
    out = {}
    off = ["city.attractor_sites_per_100k=0", "residents.offender_hangout_share=0"]
    for label, sets in (("on", []), ("off", off)):
        s = load_scenario("suizhou_baseline", [*SHORT, *sets])
        out[label] = [_observed(t) for t in scenario_tasks([s], 2, 1, 0.1)]
    return out


def test_the_offence_log_matches_the_recorded_cell_maps(concentration_runs):
    result, log = concentration_runs["on"][0]
    recorded = np.bincount(log["cell"][log["recorded"]], minlength=result.cell_incidents.shape[1])
    np.testing.assert_array_equal(recorded, result.cell_incidents[0])
    np.testing.assert_array_equal(np.bincount(log["cell"], minlength=len(recorded)), result.cell_offences_true[0])


def test_attractors_concentrate_offences_far_beyond_the_residents(concentration_runs):
    from sim.space.city import build_city

    s = load_scenario("suizhou_baseline")
    residents_share = top_share(build_city(s.city, 0.1).residents)
    on = [top_share(r.cell_offences_true.sum(axis=0)) for r, _ in concentration_runs["on"]]
    off = [top_share(r.cell_offences_true.sum(axis=0)) for r, _ in concentration_runs["off"]]
    # With attractors (the default) the top 5 % of cells hold far more offences than without them
    # (measured ~38-39 % vs ~29-30 %, residents ~20 %). Without attractors offences no longer follow the
    # residents (they did, ~19-20 %, in the pre-evidence model): the evidence-sized patrol deterrence no longer
    # evens out the busiest cells (with patrol_guard 1.2, presence_risk 0.15 they are back at ~19 %).
    assert min(on) > residents_share + 15
    assert min(on) > max(off) + 5


def test_concentration_is_identical_for_the_same_seed(concentration_runs):
    s = load_scenario("suizhou_baseline", SHORT)
    again, _ = _observed(scenario_tasks([s], 1, 1, 0.1)[0])
    np.testing.assert_array_equal(again.cell_offences_true, concentration_runs["on"][0][0].cell_offences_true)


def test_percent_changes_and_ratios_get_intervals_that_cannot_cross_their_floor():
    # Two replicates far apart: a plain t-interval would reach below -100 % and below 0.
    pct = EvidenceRow("k", "m", "x", "% change", np.array([-90.0, 20.0])).record()
    assert -100 < pct["model_lo"] < pct["model_mean"] < pct["model_hi"]
    ratio = EvidenceRow("k", "m", "x", "ratio", np.array([0.05, 1.4])).record()
    assert 0 < ratio["model_lo"] < ratio["model_mean"] < ratio["model_hi"]
    # The point is the geometric mean of the replicates' ratios.
    assert ratio["model_mean"] == pytest.approx(np.sqrt(0.05 * 1.4))
    share = EvidenceRow("k", "m", "x", "%", np.array([20.0, 22.0])).record()
    assert share["model_mean"] == pytest.approx(21.0)


# ------------------------------------------- the pre-evidence model, one override set away
def test_every_before_override_names_a_parameter_it_changes():
    # PRE_EVIDENCE_MECHANISMS restores the pre-evidence model (checked against its stored reference runs when
    # it was written); a typo or a key the defaults already hold would silently measure the wrong model.
    # Every key is a parameter of each scenario (a missing one is a KeyError here), and every item
    # changes at least one of them (the governance and counting items only the cities whose scenario
    # files set them), except entries of mappings restated whole that the evidence-based defaults left as they were.
    restated = {*(f"calls.camera_detect_by_type.{t}=1.0" for t in ("theft", "robbery", "vehicle_crime", "assault")),
                "interventions.smart_compounds.access_guard.theft=0.5",
                "interventions.smart_compounds.access_guard.vehicle_crime=1.0"}
    changes_something = set()
    for name in ("suizhou_baseline", "daqing_2021", "jincheng_2016_2020"):
        base = load_scenario(name).model_dump()
        before = load_scenario(name, list(PRE_EVIDENCE_MECHANISMS)).model_dump()
        for item in PRE_EVIDENCE_MECHANISMS:
            key, _ = item.split("=", 1)
            node_b, node_c = base, before
            for part in key.split("."):
                node_b, node_c = node_b[part], node_c[part]
            if node_b != node_c:
                changes_something.add(item)
    assert set(PRE_EVIDENCE_MECHANISMS) - changes_something == restated


def test_the_defaults_are_the_evidence_based_values():
    from sim.mechanisms.calls import CallParams
    from sim.mechanisms.clearance import ClearanceParams
    from sim.mechanisms.offending import CrimeParams

    p = CrimeParams()
    assert p.camera_deterrence_by_type["vehicle_crime"] > p.camera_deterrence_by_type["theft"] > 0
    assert p.camera_deterrence_by_type["fraud"] == p.camera_deterrence_by_type["assault"] == 0
    assert p.near_repeat_by_type["burglary"] > p.near_repeat_by_type["assault"] > p.near_repeat_by_type["fraud"] == 0
    assert (p.crowding_cap, p.place_choice, p.repeat_victim_share) == (10.0, False, 0.28)
    assert (p.patrol_guard, p.presence_risk) == (0.15, 0.015)
    assert CallParams().camera_detect_by_type["fraud"] == 0
    assert CallParams().disorder_reduction_per_post_officer == 0.15
    assert ClearanceParams().footage_usable_share == 0.65
    from sim.disputes import MediationParams

    m = MediationParams()
    # Sessions settle at field-study rates; the administrative figures come from counting and declines.
    assert m.success_by_stage == [0.85, 0.75, 0.55] and m.decline_prob == 0.25 and m.informal_settle_prob == 0.77
