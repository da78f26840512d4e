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


def _text(report: str) -> str:
    return re.sub(r"data:image/png;base64,[^\"]+", "", report)


def test_the_report_has_the_headline_package_and_county_tables(report):
    assert "Headline metrics against suizhou_baseline, 2022" in report
    for label in ("preventable cases, recorded [per year, 5 % sample]", "response time, median [min]",
                  "cost [million yuan per year, 5 % sample]"):
        assert label in report
    assert "yuan per prevented case [5 % sample]" in report and "Pareto" in report
    assert "By county" in report and "Zengdu" in report
    assert report.count("<table") >= 4  # what was run, headline, packages, counties
    assert "nan" not in _text(report).lower().replace("nanjing", "")


def test_every_count_and_cost_in_the_report_says_it_is_the_simulated_sample(report):
    assert "Counts and costs are for the simulated 5 % sample of the city" in report
    heads = re.findall(r"<th>([^<]*)</th>", report)
    for head in heads:  # counts and costs carry the sample; rates and times need not
        if any(word in head for word in ("cases prevented", "cost [", "offences")):
            assert "5 % sample" in head, head
    rows = re.findall(r"<tr><td>([^<]*)</td>", report)
    counts = [r for r in rows if r.startswith(("preventable cases", "calls for service", "homicides", "cost ["))]
    assert counts and all("5 % sample" in r for r in counts)


def test_the_report_says_what_each_package_contains(report):
    header = report.split("<h2>")[0]
    assert "suizhou_2022 contains" in header
    assert "8 street police stations" in header and "28 rapid response points" in header
    assert "cameras 54,000" in header
    assert "<th>contains</th>" in report  # and beside the package in its table


def test_the_report_prints_no_scientific_notation_or_false_precision(report):
    text = _text(report)
    assert not re.search(r"\d[eE][+-]\d", text)
    # a zero-width interval (the median response time: every replicate agrees) is the figure alone
    assert not re.search(r"(-?[\d.]+) \[\1, \1\]", text)
    assert not re.search(r"\d\.\d{5,}", text)


def test_report_html_escapes_names():
    import pandas as pd

    from sim.report import report_html

    doc = report_html("<b>x</b>", meta={"baseline": "<script>"}, diff=pd.DataFrame(), packages=pd.DataFrame())
    assert "<script>" not in doc and "&lt;script&gt;" in doc


@pytest.mark.slow
def test_a_real_map_comparison_draws_its_maps_on_the_district_map(tmp_path):
    path = tmp_path / "report.html"
    code = main(["compare", "suizhou_baseline_real", "suizhou_2022_real", "-r", "2", "--scale", "0.05", "--jobs", "2",
                 "-q", "--set", "run.warmup_days=7", "--out", str(tmp_path), "--report", str(path)])
    assert code == 0
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", path.read_text(encoding="utf-8"))
    (difference,) = [c for c in captions if c.startswith("suizhou_2022_real minus suizhou_baseline_real")]
    assert "The real district map: Zengdu, Sui County, Guangshui (outlines and names)" in difference
    assert "the pale land outside it is not simulated" in difference
    assert (tmp_path / "map_suizhou_2022_real.png").stat().st_size > 10_000  # pingan compare's own maps too
