"""The notebooks run end to end (executed here, at a small scale) and are committed with their outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["sweeps.ipynb", "calibration.ipynb"]
MAX_BYTES = 1_500_000  # outputs stay modest: a reader's git clone, not a data store


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_end_to_end(name, monkeypatch):
    monkeypatch.setenv("PINGAN_NB_SCALE", "0.05")
    monkeypatch.setenv("PINGAN_NB_REPLICATES", "2")
    monkeypatch.setenv("PINGAN_NB_BUDGET", "24")  # the calibration notebook's live miniature
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # figures are returned and shown


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_carries_its_outputs(name):
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "execute the notebook and save it with its outputs"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in code for o in c.outputs)
    assert path.stat().st_size < MAX_BYTES
