"""Writing CSV files that a spreadsheet opens as data, never as formulas.

Planners open our tables in Excel or WPS. Text that comes from a scenario — county and district
names, scenario and factor values — goes into those tables, and a spreadsheet runs a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)`` can send data away; a
tab or carriage return at the start hides one). OWASP's advice on CSV injection: put a single
quote before such a cell, which the spreadsheet shows as text.

Only text cells are touched, and a text cell that is a plain number (``-5``, ``+1.5e3``) is
left as it is: a spreadsheet reads it as the number it is. Numeric columns are never changed,
so negative numbers stay numbers and a table with only names that start with a letter is
written byte for byte as ``DataFrame.to_csv`` writes it. Every CSV the project writes goes
through :func:`write_csv`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["write_csv", "neutralise_formulas", "neutralise_cell", "FORMULA_STARTS"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _is_text_column(column: pd.Series) -> bool:
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell and column name that a spreadsheet would run as a formula
    quoted (see :func:`neutralise_cell`); the same frame if none is."""
    out = df
    names = [neutralise_cell(c) if isinstance(c, str) else c for c in df.columns]
    if names != list(df.columns):
        out = out.set_axis(names, axis=1)
    for i in range(df.shape[1]):
        values = df.iloc[:, i]
        if not _is_text_column(values):
            continue
        safe = values.map(lambda v: neutralise_cell(v) if isinstance(v, str) else v)
        if safe.equals(values):
            continue
        if out is df:
            out = df.copy()
        out.isetitem(i, safe)
    return out


def write_csv(df: pd.DataFrame, path_or_buf: str | Path | IO[str], **to_csv: Any) -> None:
    """Write ``df`` as CSV with formulas neutralised; ``to_csv`` goes to ``DataFrame.to_csv``
    (``index=False`` unless given)."""
    to_csv.setdefault("index", False)
    neutralise_formulas(df).to_csv(path_or_buf, **to_csv)
