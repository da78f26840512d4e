"""The optimiser's notebook (notebooks/optimise.ipynb) runs end to end and is committed with its outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytest.importorskip("optuna")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "optimise.ipynb"


@pytest.mark.slow
def test_the_optimiser_notebook_runs_a_miniature_study_end_to_end(monkeypatch):
    monkeypatch.setenv("PINGAN_NB_SCALE", "0.05")
    monkeypatch.setenv("PINGAN_NB_PACKAGES", "4")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "Pareto front" in text and "the city's actual package" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the front and the map of sites


def test_the_committed_notebook_carries_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "execute the notebook and save it with its outputs"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
