"""Calibration targets and priors (sim.calibration): every target is a figure printed in its
source, maps to a metric the model writes and a scenario that exists; every prior is a valid
scenario key at both ends of its range; bad files fail with errors naming file, row and column."""

from __future__ import annotations

import csv
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from sim import Scenario, load_scenario
from sim.calibration import (
    COLUMNS,
    RESCALABLE_LEVELS,
    CalibrationFileError,
    check_sources,
    compared_years,
    load_priors,
    load_targets,
    model_metrics,
    parameter_value,
    prior_overrides,
)
from sim.scenario import builtin_scenarios
from sim.scenario.schema import RunParams

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "calibration" / "targets.csv"
PRIORS = ROOT / "calibration" / "priors.yaml"
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="module")
def targets():
    return load_targets(TARGETS)


@pytest.fixture(scope="module")
def priors():
    return load_priors(PRIORS)


def rows_of(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_rows(path: Path, rows: list[dict], columns=COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def targets_error(tmp_path, **changes) -> str:
    """The error for the shipped table with the first row changed."""
    rows = rows_of(TARGETS)
    rows[0].update(changes)
    with pytest.raises(CalibrationFileError) as err:
        load_targets(write_rows(tmp_path / "targets.csv", rows))
    return str(err.value)


# ------------------------------------------------------------------------------------- the table


def test_every_target_cites_a_figure_printed_in_its_source(targets):
    if not SEEDS.is_dir():
        pytest.skip(f"seed files not present at {SEEDS}")
    check_sources(targets, SEEDS)  # raises, listing every row whose figure or quotation is missing


def test_every_target_quotes_its_source_sentence(targets):
    # The figure alone (e.g. "10%") can occur more than once in a source; the quoted passage pins it.
    for row in targets.itertuples():
        quotes = re.findall(r"「([^」]+)」", row.note)
        assert quotes, f"{row.target_id}: the note quotes no passage of {row.source_file}"
        assert any(row.figure_as_printed in q for q in quotes), row.target_id


@pytest.mark.parametrize(("city", "metric", "kind", "value", "bound"), [
    ("suizhou", "preventable_cases", "yoy_change", -58, ""),
    ("suizhou", "calls_for_service", "yoy_change", -23, ""),
    ("daqing", "effective_incidents", "yoy_change", -10, ""),
    ("daqing", "serious_violent", "yoy_change", -9, ""),
    ("daqing", "serious_violent", "yoy_change", -7.9, ""),
    ("daqing", "disputes_resolved_by_police", "level", 8215, ""),
    ("daqing", "disputes_found", "level", 34991, ""),
    ("daqing", "disputes_resolved_rate", "rate", 0.901, ""),
    ("daqing", "tickets_received", "level", 18400, ""),
    ("daqing", "tickets_completed_rate", "rate", 0.81, ""),
    ("daqing", "sense_of_safety_pct", "rate", 95, "lower"),
    ("daqing", "homicides", "level", 18, ""),
    ("daqing", "homicides", "yoy_change", -10, ""),
    ("daqing", "serious_violent", "level", 117, ""),
    ("jincheng", "disputes_mediated", "level", 5000, ""),
    ("jincheng", "mediation_success_rate", "rate", 0.98, "lower"),
    ("jincheng", "agreements_honoured_rate", "rate", 0.99, "lower"),
    ("jincheng", "tickets_received", "level", 100_000, "lower"),
    ("jincheng", "tickets_disposed_rate", "rate", 0.978, ""),
])
def test_the_issues_required_targets_are_present(targets, city, metric, kind, value, bound):
    hit = targets[(targets.city == city) & (targets.metric == metric) & (targets.kind == kind)
                  & ((targets.value - value).abs() < 1e-9)]
    assert len(hit) == 1, f"no {city} {metric} {kind} {value} target"
    assert hit.iloc[0].bound == bound


def test_target_metrics_are_columns_of_metrics_csv(targets):
    assert set(targets.metric) <= model_metrics()
    assert {"tickets_received", "tickets_disposed_rate", "tickets_completed_rate"} <= model_metrics()


def test_target_scenarios_exist_and_are_the_targets_city(targets):
    for row in targets.itertuples():
        assert row.scenario in builtin_scenarios(), row.target_id
        assert load_scenario(row.scenario).city.preset == row.city, row.target_id


def test_target_ids_are_unique_and_columns_exact(targets):
    assert targets.target_id.is_unique
    assert list(targets.columns[:len(COLUMNS)]) == list(COLUMNS)


def test_notes_state_the_scale_each_target_is_compared_at(targets):
    for row in targets.itertuples():
        if row.min_scale == 1.0:
            assert "full scale" in row.note, row.target_id
        else:
            assert f"Scale >= {row.min_scale:g}" in row.note, row.target_id


def test_whole_city_levels_of_unscalable_metrics_are_compared_at_full_scale(targets):
    levels = targets[targets.kind == "level"]
    fixed = levels[~levels.metric.isin(RESCALABLE_LEVELS)]
    assert set(fixed.metric) == {"serious_violent", "homicides", "cases_cleared"}
    assert (fixed.min_scale == 1.0).all()
    assert (levels[levels.metric.isin(RESCALABLE_LEVELS)].min_scale == 0.1).all()
    rare = targets[(targets.kind == "yoy_change") & targets.metric.isin(["serious_violent", "homicides"])]
    assert len(rare) == 4 and (rare.min_scale == 0.25).all()


def test_changes_compare_a_year_with_the_year_before(targets):
    for row in targets[targets.kind == "yoy_change"].itertuples():
        assert row.base_year == row.years[0] - 1, row.target_id
    undated = targets[(targets.kind == "yoy_change") & targets.period.str.contains("–")]
    assert set(undated.years) == {(2017,)}  # the Jincheng and Xing'an packages' first year


def test_compared_years_of_a_range_start_at_the_intervention_year():
    run = RunParams(first_year=2016, years=5, intervention_year=2017)
    assert compared_years("2016–2020", "level", run) == ([2017, 2018, 2019, 2020], None)
    assert compared_years("2016-2020", "yoy_change", run) == ([2017], 2016)
    assert compared_years("2019", "yoy_change", run) == ([2019], 2018)
    with pytest.raises(ValueError, match="needs 2015"):
        compared_years("2016", "yoy_change", run)
    with pytest.raises(ValueError, match="expected a year"):
        compared_years("last year", "level", run)


def test_tolerances_are_honest_half_widths(targets):
    rates = targets[(targets.kind == "rate") & ~targets.metric.str.endswith("_pct")]
    assert (rates.tolerance <= 0.05).all()  # fractions, not percentage points
    changes = targets[(targets.kind == "yoy_change") & (targets.bound == "")]
    assert (changes.tolerance >= 5).all()
    levels = targets[(targets.kind == "level") & (targets.bound == "")]
    assert (levels.tolerance >= 0.1 * levels.value - 1e-9).all()


# ------------------------------------------------------------------------------- bad target files


def test_a_missing_column_is_named(tmp_path):
    rows = rows_of(TARGETS)
    path = write_rows(tmp_path / "t.csv", rows, [c for c in COLUMNS if c != "tolerance"])
    with pytest.raises(CalibrationFileError, match=r"missing column\(s\) \['tolerance'\]"):
        load_targets(path)


def test_an_unknown_metric_names_the_line_target_and_column(tmp_path):
    msg = targets_error(tmp_path, metric="preventable_crimes")
    assert "targets.csv: line 2 (target sz_preventable_cases_yoy), column 'metric'" in msg
    assert "'preventable_crimes' is not a column of metrics.csv" in msg


@pytest.mark.parametrize(("changes", "column", "words"), [
    ({"scenario": "suizhou_2023"}, "scenario", "no scenario 'suizhou_2023'"),
    ({"scenario": "daqing_2021"}, "scenario", "is a daqing city"),
    ({"kind": "trend"}, "kind", "'trend'"),
    ({"kind": "rate"}, "kind", "needs a rate metric"),
    ({"value": "58%"}, "value", "not a finite number"),
    ({"value": "-120"}, "value", "below -100 %"),
    ({"tolerance": "-1"}, "tolerance", "negative"),
    ({"period": "2019"}, "period", "needs 2018 and 2019"),
    ({"city": "wuhan"}, "city", "unknown city 'wuhan'"),
    ({"figure_as_printed": "95%以上"}, "note", "start the note with 'Lower bound'"),
    ({"source_file": "../seeds/003.txt"}, "source_file", "expected the name of a seed file"),
    ({"target_id": "sz_calls_for_service_yoy"}, "target_id", "duplicate of line 2"),
])
def test_bad_target_values_are_named(tmp_path, changes, column, words):
    msg = targets_error(tmp_path, **changes)
    assert f"column '{column}'" in msg and words in msg


def test_a_rate_in_the_wrong_unit_is_refused(tmp_path):
    rows = rows_of(TARGETS)
    row = next(r for r in rows if r["target_id"] == "dq_dispute_success_rate")
    row["value"] = "90.1"
    with pytest.raises(CalibrationFileError, match="disputes_resolved_rate is a fraction: expected 0–1"):
        load_targets(write_rows(tmp_path / "t.csv", rows))


def test_a_figure_not_in_its_source_is_reported(tmp_path, targets):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in set(targets.source_file):
        (seeds / name).write_text("全市可防性案件、接警量同比分别下降58%、23%", encoding="utf-8")
    with pytest.raises(CalibrationFileError) as err:
        check_sources(targets, seeds)
    msg = str(err.value)
    assert "sz_preventable_cases_yoy" not in msg  # this one is in the stand-in text
    assert "target dq_disputes_resolved_by_police: figure '8215起' does not occur" in msg
    (seeds / "002_5234f462d53c6514.txt").unlink()
    with pytest.raises(CalibrationFileError, match="source file '002_5234f462d53c6514.txt' not found"):
        check_sources(targets, seeds)


# ------------------------------------------------------------------------------------------ priors


def test_priors_load_and_every_key_is_valid_at_both_ends(priors):
    assert len(priors) >= 20
    for scenario in ("daqing_2021", "jincheng_2016_2020"):
        base = load_scenario(scenario)
        for p in priors:
            for value in (p.low, p.high):
                s = load_scenario(scenario, prior_overrides(base, {p.key: value}))
                assert parameter_value(s, p.key) == value, p.key


def test_priors_are_ordered_and_justified(priors):
    for p in priors:
        assert p.low < p.default < p.high, p.key
        assert p.scale in ("linear", "log") and (p.scale == "linear" or p.low > 0), p.key
        # a published study (author and year) or "assumed"
        assert re.search(r"\b(19|20)\d\d\b", p.justification) or "assumed" in p.justification.lower(), p.key


def test_prior_defaults_are_the_models_documented_defaults(priors):
    model = Scenario()
    for p in priors:
        assert parameter_value(model, p.key) == p.default, p.key


def test_priors_cover_the_behaviour_the_targets_depend_on(priors):
    keys = {p.key for p in priors}
    assert {"crime.attempts_per_offender_year", "crime.camera_deterrence", "crime.patrol_guard",
            "crime.displacement_prob", "crime.risk_sensitivity", "crime.presence_risk",
            "safety.base_log_odds", "policing.units_per_100k_residents",
            "interventions.street_police_stations.walk_in_share",
            "interventions.mediation.service.honour_prob"} <= keys
    assert any(k.startswith("calls.report_prob.") for k in keys)
    assert any(k.startswith("disputes.escalation_per_day[") for k in keys)
    assert any(k.startswith("interventions.mediation.service.success_by_stage[") for k in keys)


def test_setting_one_entry_of_a_mapping_keeps_the_others():
    base = load_scenario("suizhou_2022")
    overrides = prior_overrides(base, {"calls.report_prob.theft": 0.3, "disputes.escalation_per_day[1]": 0.02,
                                       "crime.patrol_guard": 1.0})
    s = load_scenario("suizhou_2022", overrides)
    assert s.calls.report_prob == {**base.calls.report_prob, "theft": 0.3}
    assert s.disputes.escalation_per_day == [base.disputes.escalation_per_day[0], 0.02,
                                             base.disputes.escalation_per_day[2]]
    assert s.crime.patrol_guard == 1.0
    assert len(overrides) == 3


# ------------------------------------------------------------------------------- bad prior files


def prior_error(tmp_path, text: str) -> str:
    path = tmp_path / "priors.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(CalibrationFileError) as err:
        load_priors(path)
    return str(err.value)


def one_prior(**changes) -> str:
    entry = {"key": "crime.displacement_prob", "low": 0.1, "default": 0.3, "high": 0.5, "scale": "linear",
             "justification": "Guerette & Bowers 2009."}
    entry.update(changes)
    return yaml.safe_dump([{k: v for k, v in entry.items() if v is not None}])


@pytest.mark.parametrize(("changes", "words"), [
    ({"key": "crime.displacment_prob"}, "unknown key 'crime.displacment_prob'"),
    ({"key": "calls.report_prob.arson"}, "no entry 'calls.report_prob.arson'"),
    ({"key": "disputes.escalation_per_day[3]"}, "has 3 elements"),
    ({"key": "crime.type_share"}, "not a real-valued parameter"),
    ({"key": "interventions.street_police_stations.count", "low": 1, "default": 8, "high": 20},
     "not a real-valued parameter"),
    ({"low": 0.4}, "expected low < default < high, got 0.4, 0.3, 0.5"),
    ({"high": 1.5}, "high=1.5 is not a valid value"),
    ({"low": 0.0, "scale": "log"}, "scale 'log' needs low > 0"),
    ({"scale": "uniform"}, "scale: expected 'linear' or 'log'"),
    ({"justification": " "}, "justification: expected a sentence"),
    ({"default": "0.3"}, "default: expected a finite number"),
    ({"justification": None}, "missing ['justification']"),
    ({"source": "x"}, "unknown field(s) ['source']"),
])
def test_bad_priors_are_named(tmp_path, changes, words):
    msg = prior_error(tmp_path, one_prior(**changes))
    assert "prior 1" in msg and words in msg


def test_duplicate_and_malformed_prior_files_are_refused(tmp_path):
    text = one_prior() + one_prior()
    assert "prior 2 (crime.displacement_prob): duplicate of prior 1" in prior_error(tmp_path, text)
    assert "malformed YAML at line" in prior_error(tmp_path, "- key: [unclosed\n")
    assert "expected a non-empty list of priors" in prior_error(tmp_path, "key: crime.displacement_prob\n")
