"""Observers (sim.observers): a run's single events, told as they happen, changing nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import PinganModel, load_scenario
from sim.observers import Observer

# Daqing's package from the first hour of one counted year: offences, calls, mediation and tickets.
ONE_YEAR = ["run.warmup_days=7", "run.years=1", "run.first_year=2021", "run.intervention_year=2021",
            "interventions.mediation.start_year=2021"]


class Everything(Observer):
    """Keeps every event it is told of."""

    def __init__(self):
        self.offences_seen, self.calls_seen, self.dispatched, self.sessions, self.tickets = [], [], [], [], []

    def offences(self, hour, year, crime_type, cells, recorded):
        self.offences_seen.append((hour, year, crime_type.copy(), cells.copy(), recorded.copy()))

    def calls(self, hour, calls):
        self.calls_seen += [(hour, c) for c in calls]

    def dispatch(self, call):
        self.dispatched.append(call)

    def mediation_session(self, minute, dispute_row, level, settled, honoured):
        self.sessions.append((minute, dispute_row, level, settled, honoured))

    def ticket(self, ticket):
        self.tickets.append(ticket)


@pytest.fixture(scope="module")
def watched():
    scenario = load_scenario("daqing_2021", ONE_YEAR)
    plain = PinganModel(scenario, seed=2, scale=0.05)
    plain.run()
    model = PinganModel(scenario, seed=2, scale=0.05)
    seen = model.observe(Everything())
    model.run()
    return plain, model, seen


def test_observing_a_run_changes_none_of_its_results(watched):
    plain, model, _ = watched
    for a, b in zip(model.year_rows(), plain.year_rows(), strict=True):
        assert a.keys() == b.keys()
        assert all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)
    np.testing.assert_array_equal(model.incidents.recorded, plain.incidents.recorded)
    np.testing.assert_array_equal(model.incidents.recent, plain.incidents.recent)


def test_observed_offences_are_the_counted_offences(watched):
    _, model, seen = watched
    counted = [o for o in seen.offences_seen if o[1] == 0]
    assert sum(len(o[3]) for o in counted) == model.year_rows()[0]["offences_true"] > 0
    cells = np.concatenate([o[3] for o in counted])
    recorded = np.concatenate([o[4] for o in counted])
    n = model.city.n_cells
    np.testing.assert_array_equal(np.bincount(cells[recorded], minlength=n), model.incidents.recorded[0])
    assert any(o[1] == -1 for o in seen.offences_seen)  # warm-up offences are told too, as year −1
    hours = [o[0] for o in seen.offences_seen]
    assert hours == sorted(hours)  # in the order they happen


def test_observed_calls_and_dispatches_are_the_counted_calls(watched):
    _, model, seen = watched
    row = model.year_rows()[0]
    in_year = [c for _, c in seen.calls_seen if model.year_index(c.time / 60.0) == 0]
    assert len(in_year) == row["calls_for_service"] > 0
    assert all(h * 60.0 <= c.time < (h + 1) * 60.0 for h, c in seen.calls_seen)  # told in the hour they came in
    attended = [c for c in seen.dispatched if model.year_index(c.time / 60.0) == 0]
    assert len(attended) == row["calls_attended"]
    assert all(c.arrived_at >= c.dispatched_at >= c.time for c in seen.dispatched)


def test_observed_mediation_sessions_and_tickets_are_the_run_s(watched):
    _, model, seen = watched
    row = model.year_rows()[0]
    assert model.scenario.interventions.mediation.service.counting == "session"  # Daqing counts sessions
    counted = [s for s in seen.sessions if model.year_index(s[0] / 60.0) == 0]
    assert len(counted) == row["disputes_mediated"] > 0
    settled = sum(s[3] for s in counted)
    assert settled == pytest.approx(row["mediation_success_rate"] * row["disputes_mediated"])
    assert {s[2] for s in seen.sessions} <= {0, 1, 2}
    # Mediation already ran before Daqing's counted year, so it starts with the warm-up and is told there too.
    assert any(model.year_index(s[0] / 60.0) < 0 for s in seen.sessions)
    archived = {t.uid for t in model.disputes.governance.tickets if t.state != "open"}
    assert {t.uid for t in seen.tickets} == archived and len(archived) > 0
