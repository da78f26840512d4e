"""Hot-spot patrol (sim.interventions.hot_spot_patrol): a rota of short stops at fixed hot spots."""

from __future__ import annotations

import numpy as np
import pytest

from sim import PinganModel, load_scenario

ON = ("interventions.hot_spot_patrol.enabled=true", "interventions.hot_spot_patrol.hot_spots=110",
      "interventions.hot_spot_patrol.units=40", "interventions.hot_spot_patrol.share_of_patrol_units=0")


def _model(*overrides: str, seed: int = 3, scale: float = 0.05) -> PinganModel:
    return PinganModel(load_scenario("suizhou_baseline", list(overrides)), seed=seed, scale=scale)


def test_rota_units_stop_at_the_hot_spots_for_the_dwell_time():
    m = _model(*ON, "interventions.hot_spot_patrol.start_year=2021", "interventions.hot_spot_patrol.dwell_minutes=15")
    for _ in range(m.warmup_hours + 24 * 20):
        m.step()
    iv = m.interventions[0]
    assert len(iv.cells) == 6 and len(iv.rota) == 2 and m.fleet.pinned[iv.rota].all()
    assert set(np.flatnonzero(m.fleet.visiting)) <= set(iv.cells.tolist())
    stops = iv._stops_by_year[0]
    # Each stop lasts 15 minutes: stops × 15 min cannot exceed the rota's time, and fill most of it.
    rota_minutes = len(iv.rota) * 20 * 24 * 60
    assert 0.25 * rota_minutes < stops * 15 < rota_minutes
    row = m.year_rows()[0]
    assert row["hot_spot_stops"] == stops and row["hot_spot_cells"] == 6


@pytest.mark.slow
def test_hot_spot_patrol_cuts_recorded_offences_at_the_hot_spots():
    # Paired runs (common random numbers): treated hot spots vs the same cells without the rota.
    # At the defaults (patrol deterrence sized to the hot-spot trials) the cut is the trials'
    # size, -6 % to -13 % (Sherman & Weisburd 1995): measured 0.89-0.94 per seed, 0.92 over four seeds;
    # without patrol deterrence (patrol_guard and presence_risk 0) exactly 1. In the pre-evidence model the
    # guard cut far more and the bound was 0.9.
    base = treated = 0.0
    for seed in (1, 2, 3, 4):
        b, h = _model(seed=seed), _model(*ON, seed=seed)
        b.run()
        h.run()
        cells = h.interventions[0].cells
        assert (b.incidents.recorded[0] == h.incidents.recorded[0]).all()  # same first year
        pair = b.incidents.recorded[1][cells].sum(), h.incidents.recorded[1][cells].sum()
        assert pair[1] < pair[0], seed
        base += pair[0]
        treated += pair[1]
        assert h.year_rows()[1]["hot_spot_survival_h"] > 0
    assert 0.8 < treated / base < 0.95


def test_station_units_moved_to_the_rota_leave_every_county_a_unit_on_patrol():
    m = _model("interventions.hot_spot_patrol.enabled=true", "interventions.hot_spot_patrol.start_year=2021",
               "interventions.hot_spot_patrol.units=0", "interventions.hot_spot_patrol.share_of_patrol_units=1")
    for _ in range(m.warmup_hours + 2):
        m.step()
    fleet, rota = m.fleet, m.interventions[0].rota
    assert len(rota) > 0 and all(fleet.kind[u] == "police_station" for u in rota)
    on_patrol = ~fleet.pinned & ~fleet.retired
    assert set(fleet.county[on_patrol].tolist()) == set(range(len(m.city.county_names)))
