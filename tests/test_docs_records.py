"""The record pages of docs/ (docs/make/records.py): their tables are the committed files' and cannot drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def records():
    spec = importlib.util.spec_from_file_location("records", ROOT / "docs" / "make" / "records.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["calibration.md", "evidence.md", "performance.md", "optimise.md", "cities.md",
                                  "README.md"])
def test_regenerating_a_record_page_gives_the_committed_page(records, page):
    text = records.page_path(page).read_text(encoding="utf-8")
    assert records.render(page, text) == text, f"{page} is out of date: run python docs/make/records.py"


def test_a_changed_figure_in_a_page_is_put_back(records):
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    edited = text.replace("| `crime.presence_risk` |", "| `crime.presence_risk` (edited) |", 1)
    assert edited != text
    assert records.render("calibration.md", edited) == text


def test_a_page_without_one_of_its_tables_is_an_error(records):
    text = (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    start = text.index("<!-- generated: evidence -->")
    end = text.index("<!-- end generated: evidence -->") + len("<!-- end generated: evidence -->")
    with pytest.raises(ValueError, match="missing \\['evidence'\\]"):
        records.render("evidence.md", text[:start] + text[end:])


def test_the_strict_check_reads_bounds_by_their_side(records):
    assert records.inside(-58, -60.6, -36.2, "")
    assert not records.inside(-23, -5.4, -1.4, "")
    assert records.inside(95, 93.1, 97.7, "lower") and not records.inside(98, 93.4, 97.9, "lower")
    assert records.inside(0, -20.6, 18.1, "upper") and not records.inside(0, 1.0, 2.0, "upper")


def test_the_readme_links_every_record_page_and_stays_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 300
    for page in ("calibration.md", "evidence.md", "performance.md"):
        assert f"docs/{page}" in readme


def test_a_seed_table_written_before_the_noise_rule_renders_as_effects_as_measured(records, tmp_path, monkeypatch):
    import pandas as pd

    committed = pd.read_csv(records.CALIBRATION / "screening_seeds.csv")
    old = committed[committed["rule"] == "as measured"].drop(columns="rule")
    old.to_csv(tmp_path / "screening_seeds.csv", index=False)
    for name in ("config.json", "summary.json"):
        (tmp_path / name).write_bytes((records.CALIBRATION / name).read_bytes())
    monkeypatch.setattr(records, "CALIBRATION", tmp_path)
    text = records.screening_seeds()
    assert text.startswith("With effects as measured, the 3 seeds pooled choose") and "beyond noise" not in text
    assert "No screening_noise.csv" in records.screening_noise()


def test_a_run_stopped_at_the_tolerance_floor_says_so(records, tmp_path, monkeypatch):
    import json

    for name in ("diagnostics.csv", "summary.json", "config.json"):
        (tmp_path / name).write_bytes((records.CALIBRATION / name).read_bytes())
    summary = json.loads((tmp_path / "summary.json").read_text())
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "summary.json").write_text(json.dumps({**summary, "stopped": "min_epsilon"}))
    (tmp_path / "config.json").write_text(json.dumps({**config, "min_epsilon": 1.0}))
    monkeypatch.setattr(records, "CALIBRATION", tmp_path)
    assert "Stopped by the tolerance floor: ε reached 1 (root mean square distance in target tolerances)" in \
        records.convergence()
    assert "--min-epsilon 1 " in records.calibration_run()
