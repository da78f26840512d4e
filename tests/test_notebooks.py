"""The notebooks run end to end (executed here, at a small scale)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", ["sweeps.ipynb", "calibration.ipynb"])
def test_notebook_runs_end_to_end(name, monkeypatch):
    monkeypatch.setenv("PINGAN_NB_SCALE", "0.05")
    monkeypatch.setenv("PINGAN_NB_REPLICATES", "2")
    monkeypatch.setenv("PINGAN_NB_BUDGET", "24")  # the calibration notebook's live miniature
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
