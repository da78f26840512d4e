"""The static comparison report (sim.report, ``pingan compare --report``)."""

from __future__ import annotations

import re

import pytest

from sim.cli import main


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp")
    path = out / "sub" / "report.html"
    code = main(["compare", "suizhou_baseline", "suizhou_2022", "-r", "2", "--scale", "0.05", "--jobs", "2", "-q",
                 "--set", "run.warmup_days=7", "--out", str(out), "--no-plots", "--report", str(path)])
    assert code == 0
    return path.read_text(encoding="utf-8")


def test_compare_writes_the_report_file(report):
    assert report.startswith("<!DOCTYPE html>") and report.rstrip().endswith("</html>")


def test_the_report_is_self_contained_with_no_external_resources(report):
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", report, re.IGNORECASE)
    assert "<link" not in report and "<script" not in report
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', report)) == 3  # map, time series, Pareto


def test_the_report_has_the_headline_package_and_county_tables(report):
    assert "Headline metrics against suizhou_baseline, 2022" in report
    for label in ("preventable cases, recorded [per year]", "response time, median [min]", "cost [yuan per year]"):
        assert label in report
    assert "cost per prevented case [yuan]" in report and "Pareto" in report
    assert "By county" in report and "Zengdu" in report
    assert report.count("<table") >= 4  # what was run, headline, packages, counties
    assert "nan" not in re.sub(r"data:image/png;base64,[^\"]+", "", report).lower().replace("nanjing", "")


def test_report_html_escapes_names():
    import pandas as pd

    from sim.report import report_html

    doc = report_html("<b>x</b>", meta={"baseline": "<script>"}, diff=pd.DataFrame(), packages=pd.DataFrame())
    assert "<script>" not in doc and "&lt;script&gt;" in doc
