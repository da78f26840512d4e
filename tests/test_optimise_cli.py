"""``pingan optimise`` (sim.optimise.cli): the package cost, and bad input refused before any work."""

from __future__ import annotations

import pytest

from sim.cli import main

pytest.importorskip("optuna")


def test_cost_prints_the_annual_cost_of_the_scenarios_own_package(capsys):
    assert main(["optimise", "suizhou_2022", "--cost", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("suizhou_2022: 79300000 yuan per year")


@pytest.mark.parametrize("args, message", [
    (["--budget", "1000"], "below the cheapest package the levers allow that buys anything"),
    ([], "--budget: required"),
    (["--budget", "1e8", "--posterior", "missing.csv"], "--posterior missing.csv: no such file"),
    (["--budget", "1e8", "--objectives", "cost"], "objectives"),
])
def test_bad_input_is_one_line_and_exit_status_2_before_any_simulation(tmp_path, capsys, args, message):
    out = tmp_path / "study"
    assert main(["optimise", "suizhou_2022", "--out", str(out), "-q", *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()  # nothing was started


def test_an_unknown_lever_in_the_scenario_file_names_the_file_and_the_key(tmp_path, capsys):
    menu = tmp_path / "menu.yaml"
    menu.write_text("extends: suizhou_2022\noptimise:\n  levers:\n    video.zoom: {range: [0, 2]}\n")
    assert main(["optimise", str(menu), "--budget", "1e8", "--out", str(tmp_path / "s"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "key 'optimise.levers.video.zoom'" in err and "video has no parameter 'zoom'" in err


def test_a_budget_that_is_not_a_number_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["optimise", "suizhou_2022", "--budget", "lots"])
    assert "expected yuan per year" in capsys.readouterr().err
