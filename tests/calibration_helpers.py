"""Shared by the calibration tests: rerunning a finished calibration from its results store."""

from __future__ import annotations

from pathlib import Path

from sim.calibration.calibrate import Calibration, CalibrationConfig
from sim.experiments.store import ResultsStore


def rerun_simulates_nothing(cfg: CalibrationConfig, out: Path) -> None:
    """Run the finished calibration in ``out`` again and check its store gained no simulation."""
    with ResultsStore(out / "store.sqlite") as store:
        n = store.count()
    cal = Calibration(cfg, out, jobs=1, progress=False)
    cal.run(plots=False)
    cal.close()
    with ResultsStore(out / "store.sqlite") as store:
        assert store.count() == n  # nothing simulated again (leave-one-out included, when asked)
