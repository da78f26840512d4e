"""Metrics declared once (sim.metrics): the registry, the recorder's checks and the yearly row."""

from __future__ import annotations

import math

import pytest

from sim.metrics import CORE_METRICS, METRICS, Metric, MetricRegistry, MetricsRecorder, UnknownMetricError

POPULATION = 200_000


def test_an_unknown_metric_name_is_an_error_not_a_silent_zero():
    rec = MetricsRecorder(n_years=2)
    with pytest.raises(UnknownMetricError, match="calls_for_servise"):
        rec.add("calls_for_servise", 0)
    with pytest.raises(UnknownMetricError, match="calls_for_servise"):
        rec.add("calls_for_servise", -1)  # during warm-up too, though nothing is counted then
    with pytest.raises(UnknownMetricError):
        rec.row("no_such_metric")
    assert "calls_for_servise" not in rec.counts


def test_declared_metrics_tallies_and_family_members_can_be_recorded():
    rec = MetricsRecorder(n_years=1)
    rec.add("calls_for_service", 0, 2.0)
    rec.add("mediation_successes", 0)  # a tally: read by a column's derivation
    rec.add("disputes_found_by_grid_worker", 0, 5.0)  # a family member (declared by the dispute system)
    assert rec.counts["calls_for_service"] == [2.0]
    with pytest.raises(UnknownMetricError, match="family prefix"):
        rec.add("disputes_found_by_", 0)


def _row(rec: MetricsRecorder, **reports: float) -> dict:
    ticket = {"tickets_received": 0.0, "tickets_disposed_rate": math.nan, "tickets_completed_rate": math.nan,
              "tickets_escalated": 0.0, "ticket_latency_median_h": math.nan, "disputes_resolved": 0.0,
              "disputes_resolved_rate": math.nan}
    return rec.year_row(0, POPULATION, {**ticket, **reports})


def test_the_yearly_row_is_derived_from_the_declarations_in_their_order():
    rec = MetricsRecorder(n_years=1)
    rec.add("calls_for_service", 0, 40.0)
    rec.add("disputes_mediated", 0, 4.0)
    rec.add("mediation_successes", 0, 3.0)
    rec.add("disputes_found_by_grid_worker", 0, 5.0)
    row = _row(rec, linked_towns=2.0)
    assert list(row)[: len(CORE_METRICS)] == list(CORE_METRICS)
    assert list(row)[len(CORE_METRICS):] == ["disputes_found_by_grid_worker", "linked_towns"]
    assert row["calls_for_service"] == 40.0
    assert row["calls_for_service_per_100k"] == 40.0 / POPULATION * 1e5
    assert row["mediation_success_rate"] == 0.75
    assert math.isnan(row["sense_of_safety_pct"])  # not surveyed: NaN, not zero
    assert math.isnan(row["clearance_rate"])  # no recorded offences


def test_plug_ins_may_report_only_declared_reported_metrics():
    rec = MetricsRecorder(n_years=1)
    with pytest.raises(UnknownMetricError, match="made_up_metric"):
        _row(rec, made_up_metric=1.0)
    with pytest.raises(ValueError, match="not 'reported'"):
        _row(rec, calls_for_service=1.0)  # a core column is derived, not reported
    with pytest.raises(ValueError, match="disputes_resolved.* is reported by a plug-in each year, but was not"):
        rec.year_row(0, POPULATION, {})  # the dispute system reports its ticket metrics every year


def test_a_metric_cannot_be_declared_twice_differently():
    registry = MetricRegistry()
    m = Metric("thing", "things", "A thing.")
    registry.declare(m)
    registry.declare(m)  # the same declaration again is harmless (a module imported twice)
    with pytest.raises(ValueError, match="declared twice"):
        registry.declare(Metric("thing", "widgets", "A thing."))
    with pytest.raises(ValueError, match="core"):
        registry.declare(Metric("other", "things", "A tally.", kind="tally", core=True))


def test_every_metric_has_a_unit_and_a_description():
    for m in METRICS:
        assert m.unit and m.description, m.name


def test_the_headline_metrics_are_declared_once_in_the_registry_in_their_order():
    from sim.experiments.summary import HEADLINE

    assert HEADLINE == METRICS.headline() == (
        "preventable_cases", "calls_for_service", "effective_incidents", "serious_violent", "homicides",
        "clearance_rate", "response_time_median_min", "response_time_p90_min", "cost_yuan")


def test_the_explorer_shows_the_headline_metrics_and_those_declared_for_it_money_last():
    from sim.app.session import METRICS as SHOWN

    assert SHOWN == METRICS.explorer() == (
        "preventable_cases", "calls_for_service", "effective_incidents", "serious_violent", "homicides",
        "clearance_rate", "response_time_median_min", "response_time_p90_min", "sense_of_safety_pct", "cost_yuan")


def test_a_metric_is_a_rate_by_its_unit_not_its_name():
    assert METRICS["clearance_rate"].is_rate and METRICS["clearance_rate"].rate_top == 1.0
    assert METRICS["sense_of_safety_pct"].rate_top == 100.0
    assert METRICS["mediation_success_rate_formal"].is_rate  # a share, whatever its name ends with
    assert not METRICS["preventable_cases_per_100k"].is_rate and METRICS["cost_yuan"].rate_top is None


def test_the_registry_says_which_names_are_columns_of_a_row():
    import sim.interventions  # noqa: F401 - interventions declare their metrics when imported

    assert METRICS.is_column("preventable_cases")  # core
    assert METRICS.is_column("disputes_found_by_home_visit")  # a family's member
    assert METRICS.is_column("linked_towns")  # reported by an intervention
    assert not METRICS.is_column("mediation_successes")  # a tally: read by other metrics only
    assert not METRICS.is_column("disputes_found_by_")  # the family's prefix itself
    assert not METRICS.is_column("preventable_case")


def test_the_optimisers_simulated_objectives_are_declared_metrics():
    from sim.optimise.evaluate import SIMULATED

    assert all(METRICS.is_column(o) for o in SIMULATED)
