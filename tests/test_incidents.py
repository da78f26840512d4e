"""Incident records (sim.space.incidents, ``pingan city incidents``): checks, aggregation, attraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.cli import main
from sim.experiments.evidence import top_share
from sim.mechanisms.crime_types import CRIME_TYPES
from sim.scenario.loader import ScenarioError
from sim.space.city import build_city
from sim.space.geography import GeographyError
from sim.space.geography_files import load_geography
from sim.space.incidents import OTHER, aggregate, read_incidents

SCALE = 0.1


@pytest.fixture(scope="module")
def suizhou():
    return build_city(load_scenario("suizhou_baseline_real").city, SCALE)


def _cell_points(city, cells, rng):
    """Points (metres, the city's CRS) within 25 m of the given cells' centres (clear of district borders)."""
    origin = city.map_layers.origin_m
    x = origin[0] + (city.ix[cells] + 0.45 + 0.1 * rng.random(len(cells))) * city.cell_size_km * 1000
    y = origin[1] + (city.iy[cells] + 0.45 + 0.1 * rng.random(len(cells))) * city.cell_size_km * 1000
    return x, y


def _write(tmp_path, rows: dict, name="records.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_records_are_counted_by_month_district_type_and_cell(tmp_path, suizhou):
    rng = np.random.default_rng(1)
    cells = rng.choice(suizhou.n_cells, 200)
    x, y = _cell_points(suizhou, cells, rng)
    kinds = rng.choice(["theft", "burglary", "Assault", "drunk driving"], 200)
    months = rng.integers(1, 13, 200)
    path = _write(tmp_path, {"time": [f"2021-{m:02d}-03T10:00" for m in months], "type": kinds, "x": x, "y": y})
    counts = aggregate(read_incidents(path, load_geography("suizhou")), suizhou)
    assert counts.monthly["count"].sum() == 200
    assert set(counts.monthly["type"]) == {"theft", "burglary", "assault", OTHER}  # unknown types kept as other
    # Each point goes to the cell it lies in (its own district's nearest cell); "other" is not a model type.
    model_type = np.isin(np.char.lower(kinds.astype(str)), CRIME_TYPES)
    expected = np.bincount(cells[model_type], minlength=suizhou.n_cells)
    np.testing.assert_array_equal(counts.cells.sum(axis=1), expected)
    assert counts.n_months == len(set(months))
    by = counts.by_district_type(suizhou.county_names)
    assert by.sum() == model_type.sum()
    np.testing.assert_array_equal(by.sum(axis=1), np.bincount(suizhou.county[cells[model_type]], minlength=3))


def test_records_may_give_a_district_code_or_name_instead_of_a_point(tmp_path):
    path = _write(tmp_path, {"time": ["2021-01-05", "2021-01-09", "2021-02-01"], "type": ["theft"] * 3,
                             "district": ["421303", "Guangshui", "421303"]})
    counts = aggregate(read_incidents(path, load_geography("suizhou")))
    got = {(r.month, r.district): r.count for r in counts.monthly.itertuples()}
    assert got == {("2021-01", "Zengdu"): 1, ("2021-01", "Guangshui"): 1, ("2021-02", "Zengdu"): 1}
    assert counts.cells is None


@pytest.mark.parametrize(("rows", "message"), [
    ({"time": ["2021-01-05", "last tuesday", "2021-13-40"], "type": ["theft"] * 3, "district": ["Zengdu"] * 3},
     r"records.csv: field 'time': not a date or date-time .* \(line 3, 4\)"),
    ({"time": ["2021-01-05"] * 2, "type": ["theft"] * 2, "x": [0.0, 9e6], "y": [0.0, 9e6]},
     r"records.csv: field 'x/y': outside every district of suizhou \(line 3\)"),
    ({"time": ["2021-01-05"], "type": ["theft"], "district": ["Wuhan"]},
     r"records.csv: field 'district': unknown district .*Zengdu, Sui County, Guangshui"),
    ({"time": ["2021-01-05"], "kind": ["theft"], "district": ["Zengdu"]},
     r"records.csv: missing column\(s\) \['type'\]"),
    ({"time": ["2021-01-05"], "type": ["theft"]}, r"missing column\(s\) \['a location"),
])
def test_bad_records_are_refused_naming_the_file_the_field_and_the_lines(tmp_path, rows, message):
    with pytest.raises(GeographyError, match=message):
        read_incidents(_write(tmp_path, rows), load_geography("suizhou"))


def test_bad_records_in_a_scenario_are_refused_before_any_run(tmp_path):
    _write(tmp_path, {"time": ["2021-01-05", "soon"], "type": ["theft"] * 2, "district": ["Zengdu"] * 2})
    scen = tmp_path / "s.yaml"
    scen.write_text(f"extends: suizhou_baseline_real\ncity:\n  incidents: {tmp_path / 'records.csv'}\n")
    with pytest.raises(ScenarioError, match=r"s.yaml.*records.csv: field 'time': not a date"):
        load_scenario(scen)


def test_records_place_the_attractor_pull_where_crime_was_recorded(tmp_path, suizhou):
    # All records in three cells: those cells get the whole pull, in proportion to their records.
    rng = np.random.default_rng(2)
    hot = np.array([5, 40, 90])
    cells = np.repeat(hot, [60, 30, 10])
    x, y = _cell_points(suizhou, cells, rng)
    path = _write(tmp_path, {"time": ["2021-06-01"] * 100, "type": ["theft"] * 100, "x": x, "y": y})
    scen = load_scenario("suizhou_baseline_real", [f"city.incidents={path}"])
    city = build_city(scen.city, SCALE)
    np.testing.assert_array_equal(np.flatnonzero(city.attractor), hot)
    own = city.attraction - city.attractor
    np.testing.assert_allclose(city.attractor[hot] / own.sum(), np.array([0.6, 0.3, 0.1]) * scen.city.attractor_weight)
    np.testing.assert_array_equal(city.ix, suizhou.ix)  # the layout itself does not change


def test_pingan_city_incidents_writes_the_counts_and_the_concentration(tmp_path, suizhou, capsys):
    rng = np.random.default_rng(3)
    cells = rng.choice(suizhou.n_cells, 300, p=suizhou.residents / suizhou.residents.sum())
    x, y = _cell_points(suizhou, cells, rng)
    path = _write(tmp_path, {"time": ["2021-03-01"] * 300, "type": ["theft"] * 300, "x": x, "y": y})
    out = tmp_path / "out"
    assert main(["city", "incidents", str(path), "--scale", str(SCALE), "--out", str(out), "-q"]) == 0
    assert "Zengdu" in capsys.readouterr().out
    conc = pd.read_csv(out / "concentration.csv")
    expected = top_share(np.bincount(cells, minlength=suizhou.n_cells), 0.05)
    assert conc["top_5pct_cells"].iloc[0] == pytest.approx(expected)
    assert pd.read_csv(out / "cells.csv")["theft"].sum() == 300
    assert main(["city", "incidents", str(tmp_path / "missing.csv"), "-q"]) == 2


def test_the_shipped_real_records_are_counted_by_month_and_district(tmp_path):
    # NYPD hate-crime complaints (sim/space/records/README.md), against five schematic squares named
    # after the counties: only the districts' names matter for records that give a district.
    from sim.space.geography import District, Geography
    from sim.space.incidents import RECORDS_FOLDER

    path = RECORDS_FOLDER / "nypd_hate_crimes_2019_2023.csv"
    raw = pd.read_csv(path)
    square = [[np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)]]
    counties = ["Bronx", "Kings", "New York", "Queens", "Richmond"]
    geo = Geography("nyc", "+proj=laea", [District(str(i), c, 1, 1.0, square, (0.5, 0.5))
                                          for i, c in enumerate(counties)])
    counts = aggregate(read_incidents(path, geo))
    assert counts.monthly["count"].sum() == len(raw) == 2406
    assert counts.n_months == 57  # January 2019 to September 2023
    by = counts.by_district_type(counties)
    assert by[:, CRIME_TYPES.index("assault")].sum() == (raw["type"] == "assault").sum()
    kings_2022 = counts.monthly.query("district == 'Kings' and month.str.startswith('2022')")["count"].sum()
    assert kings_2022 == ((raw["district"] == "Kings") & raw["time"].str.startswith("2022")).sum()
