"""How results are shown (sim.presentation): one layer for the terminal, the report and the explorer."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim.experiments.summary import compare, summarise
from sim.presentation import (
    Sample,
    at_precision,
    display_label,
    figure,
    format_compare,
    format_paired_run,
    front_rows,
    headline_rows,
    interval,
    intervention_starts,
    objective_label,
    package_contents,
    package_rows,
    percent,
    robustness_rows,
    scale_warning,
    text_records,
    text_table,
    year_on_year_rows,
)
from sim.scenario import load_scenario


def test_large_figures_have_thousands_separators_never_scientific_notation():
    assert figure(49_570_000.0) == "49,570,000"
    assert figure(4.957e7 / 1e6) == "49.6"
    assert figure(13.0) == "13" and figure(0.8667) == "0.867" and figure(0.5) == "0.5"
    assert figure(float("nan")) == "—" and figure(float("inf")) == "∞"
    assert interval(-1.254e7, -1.3e7, -1.2e7, signed=True) == "-12,540,000 [-13,000,000, -12,000,000]"


def test_an_interval_is_rounded_to_its_own_precision():
    assert interval(-137.5, -160.2, -114.8, signed=True) == "-138 [-160, -115]"
    assert interval(0.1157, -0.1469, 0.3782, signed=True) == "+0.12 [-0.15, +0.38]"
    assert interval(-6.3, -7.6, -5.1, signed=True, unit=" %") == "-6.3 % [-7.6, -5.1]"


def test_a_zero_width_interval_is_the_figure_alone_not_false_precision():
    assert interval(-0.8667, -0.8667, -0.8667) == "-0.867"
    # a t-interval of replicates that agree up to float rounding
    assert interval(-2.2533333333, -2.2533333334, -2.2533333332) == "-2.25"
    assert interval(5.0, np.nan, np.nan, signed=True) == "+5"


def test_a_rare_count_shows_the_percent_point_only_and_says_why():
    assert percent(88.1, -53.5, 661.4, "rare") == "+88 % (rare: read the difference)"
    assert percent(np.nan, np.nan, np.nan) == "not estimable: read the difference"
    assert percent(-44.2, -82.4, 76.4, "") == "-44 % [-82, +76]"


def test_counts_and_costs_are_labelled_with_the_sample_they_describe():
    sample = Sample(0.05, 102_500)
    assert display_label("preventable_cases", sample) == "preventable cases, recorded [per year, 5 % sample]"
    assert display_label("cost_yuan", sample) == "cost [million yuan per year, 5 % sample]"
    assert display_label("clearance_rate", sample) == "clearance rate [share of recorded offences]"
    assert display_label("response_time_median_min", sample) == "response time, median [min]"
    assert "simulated 5 % sample of the city (102,500 residents), not the whole city" in sample.caption()
    assert Sample(1.0, 2.05e6).short == "whole city"
    assert Sample.of(pd.DataFrame({"population": [102_500.0, 102_500.0]})).short == "sample of 102,500 residents"


def test_a_scale_below_the_tested_minimum_gets_a_warning():
    assert "0.1" in scale_warning(0.05) and scale_warning(0.1) == ""


def _frame(base: list[float], alt: list[float], metric: str) -> pd.DataFrame:
    rows = [{"scenario": s, "replicate": r, "year": y, "population": 102_500.0, metric: v if y == 2022 else base[r]}
            for s, values in (("base", base), ("alt", alt)) for r, v in enumerate(values) for y in (2021, 2022)]
    return pd.DataFrame(rows)


def test_headline_rows_carry_the_flags_and_the_sample_as_the_cli_prints_them():
    df = _frame([9.0, 2.0, 12.0], [1.0, 1.0, 2.0], "homicides")
    diff = compare(df, "base")
    (row,) = headline_rows(diff, "alt", 2022, ("homicides",), Sample(0.01, 20_500))
    assert row["metric"] == "homicides [per year, 1 % sample]"
    assert "rare" in row["note"] and row["change % [95 % interval]"].endswith("(rare: read the difference)")
    text = format_compare(diff, ("homicides",), sample=Sample(0.01, 20_500))  # the terminal: the same row
    assert row["difference [95 % interval]"] in text and row["note"] in text and "1 % sample" in text


def test_year_on_year_rows_are_the_rows_pingan_run_prints():
    df = _frame([100.0, 110.0], [80.0, 95.0], "preventable_cases")
    (row,) = year_on_year_rows(summarise(df[df["scenario"] == "alt"]), "alt", ("preventable_cases",), Sample(0.1))
    assert list(row) == ["metric", "2021", "2022", "change [95 % interval]", "change % [95 % interval]", "note"]
    assert row["2021"] == "105" and row["2022"] == "87.5"


def test_package_rows_say_what_each_package_contains():
    table = pd.DataFrame({"rank": [1], "package": ["p"], "prevented": [71.0], "prevented_lo": [-5.2],
                          "prevented_hi": [147.2], "prevented_pct": [44.0], "extra_cost_yuan": [1.254e7],
                          "extra_cost_lo": [1.254e7], "extra_cost_hi": [1.254e7], "cost_yuan": [1.254e7],
                          "cost_per_prevented_yuan": [np.nan], "cost_per_prevented_lo": [np.nan],
                          "cost_per_prevented_hi": [np.nan], "pareto": [True],
                          "cost_per_prevented_note": ["not estimable: the prevented-cases interval includes zero"],
                          "flag": [""]})
    (row,) = package_rows(table, Sample(0.05), {"p": "8 street police stations"})
    assert row["contains"] == "8 street police stations"
    assert row["cases prevented [per year, 5 % sample]"] == "+71 [-5, +147]"
    assert row["extra cost [million yuan per year, 5 % sample]"] == "+12.5"
    text = text_table([row])
    assert "contains: 8 street police stations" in text and "e+07" not in text


def test_a_package_is_described_in_words_from_its_scenario():
    words = package_contents(load_scenario("suizhou_2022"), load_scenario("suizhou_baseline"))
    assert "8 street police stations" in words and "28 rapid response points (in Sui County, Guangshui" in words
    assert "cameras 54,000" in words and "crackdown (6 campaigns)" in words
    assert package_contents(load_scenario("suizhou_baseline")) == "no interventions"
    daqing = package_contents(load_scenario("daqing_2021"))
    assert "46 smart compounds" in daqing and "mediation (from 2020)" in daqing


@pytest.mark.parametrize("baseline", ["daqing_baseline", None])
def test_the_package_starts_in_its_intervention_year_and_earlier_starts_are_named(baseline):
    package = load_scenario("daqing_2021")  # its package starts in 2021; mediation runs from 2020
    base = load_scenario(baseline) if baseline else None
    assert intervention_starts([package], base) == [(2021, "package starts"), (2020, "mediation starts")]
    # what the baseline has the same is not a start of the package
    assert intervention_starts([package], package) == [(2021, "package starts")]


@pytest.mark.parametrize(("package", "baseline", "shown"), [
    ("suizhou_2022", "suizhou_baseline", [2022]),  # nothing runs in 2021: no effect to show
    ("daqing_2021", "daqing_baseline", [2020, 2021]),  # mediation runs from 2020: its effect shows then
])
def test_pingan_run_shows_the_effect_from_the_first_year_the_package_runs_then_the_year_on_year_change(
        package, baseline, shown):
    pkg, base = load_scenario(package), load_scenario(baseline)
    df = _frame([100.0, 110.0], [80.0, 95.0], "preventable_cases")
    years = dict(zip((2021, 2022), pkg.run.year_labels, strict=True))
    df = df.assign(scenario=df["scenario"].map({"base": baseline, "alt": package}), year=df["year"].map(years))
    text = format_paired_run(compare(df, baseline), summarise(df), pkg, base, Sample(0.1))
    effect, yoy = text.split("Year on year, as the city reports it")
    heads = [int(y) for y in re.findall(rf"{package} against {baseline}, (\d+):", effect)]
    assert heads == shown
    first, last = pkg.run.year_labels
    assert f"{package}: {last} against {first}" in yoy and f"{baseline}: " not in yoy
    one_year = df[df["year"] == last]  # one counted year: no year-on-year change to show
    text = format_paired_run(compare(one_year, baseline), summarise(one_year), pkg, base)
    assert text.endswith("Year on year: one counted year, nothing to compare it with")


# ---- an optimiser study ---------------------------------------------------------------------------

#: Two packages of a study as ``front.csv`` has them (large effects, a zero-wide interval, the actual package).
STUDY_FRONT = pd.DataFrame({
    "package": [-1, 12], "contents": ["8 street police stations", "12 000 cameras (hot spots)"],
    "cost_yuan_per_year": [79_300_000.0, 41_250_000.0],
    "preventable_cases": [1_254_321.7, 63.8], "preventable_cases_lo": [1_200_000.4, -4.9],
    "preventable_cases_hi": [1_308_643.0, 132.5], "preventable_cases_pessimistic": [1_190_012.3, 41.27],
    "response_time_p90_min": [-2.2533333, -0.61], "response_time_p90_min_lo": [-2.2533333, -0.734],
    "response_time_p90_min_hi": [-2.2533333, -0.489], "response_time_p90_min_pessimistic": [-2.2533333, -0.5512],
})


def test_an_optimiser_objective_says_what_it_counts_and_on_which_sample():
    sample = Sample(0.1)
    assert objective_label("preventable_cases", sample) == "preventable cases prevented [per year, 10 % sample]"
    assert objective_label("calls_for_service", sample) == "calls for service avoided [per year, 10 % sample]"
    assert objective_label("response_time_p90_min", sample) == "change of the 90th-percentile response time [min]"
    # the optimiser costs each package on the whole city, whatever the scale simulated
    assert objective_label("cost", sample) == "annual cost [million yuan per year, whole city]"


def test_a_figure_beside_an_interval_takes_the_intervals_precision():
    assert at_precision(41.27, -4.9, 132.5, signed=True) == "+41"
    assert at_precision(-0.5512, -0.734, -0.489, signed=True) == "-0.55"
    assert at_precision(3.14159, 1.0, 1.0) == "3.14"  # a zero-wide interval sets no precision
    assert at_precision(float("nan"), 0.0, 1.0) == "—"


def test_front_rows_show_contents_whole_city_costs_and_labelled_effects_without_scientific_notation():
    rows = front_rows(STUDY_FRONT, ["preventable_cases", "response_time_p90_min", "cost"], Sample(0.05))
    actual, package = rows
    assert actual["package"] == "actual" and package["package"] == "12"
    assert package["contains"] == "12 000 cameras (hot spots)"
    assert package["annual cost [million yuan per year, whole city]"] == "41.2"
    prevented = "preventable cases prevented [per year, 5 % sample]"
    assert package[f"{prevented}, mean [95 % interval]"] == "+64 [-5, +132]"
    assert package[f"{prevented}, pessimistic"] == "+41"
    assert actual[f"{prevented}, mean [95 % interval]"] == "+1,254,322 [+1,200,000, +1,308,643]"
    assert actual[f"{prevented}, pessimistic"] == "+1,190,012"
    p90 = "change of the 90th-percentile response time [min]"
    assert actual[f"{p90}, mean [95 % interval]"] == "-2.25"  # every run agrees: the figure alone
    assert package[f"{p90}, mean [95 % interval]"] == "-0.61 [-0.73, -0.49]"
    assert not any(re.search(r"\d[eE][+-]?\d", v) for r in rows for v in r.values())


def test_robustness_rows_take_each_packages_precision_and_say_the_share_of_draws():
    table = pd.DataFrame({"package": [12], "cost_yuan_per_year": [41_250_000.0], "objective": ["preventable_cases"],
                          "mean": [63.8], "pessimistic": [41.27], "worst_draw": [12.61],
                          "beaten_share_of_draws": [0.125], "mean_regret": [3.456], "draws": [8]})
    (row,) = robustness_rows(table, STUDY_FRONT, Sample(0.1))
    assert row == {"package": "12", "annual cost [million yuan per year, whole city]": "41.2",
                   "mean [per year, 10 % sample]": "+64", "pessimistic": "+41", "worst draw": "+13",
                   "beaten in [share of draws]": "12.5 %", "mean regret": "3", "draws": "8"}


def test_rows_too_wide_for_a_terminal_print_as_one_block_each():
    text = text_records([{"package": "12", "cost": "41.2", "contains": "12 000 cameras", "effect": "+64 [-5, +132]"}])
    assert text.splitlines() == ["  package 12", "      contains: 12 000 cameras", "      cost:     41.2",
                                 "      effect:   +64 [-5, +132]"]
