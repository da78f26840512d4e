"""The optimiser's baseline demand (sim.optimise.sites.baseline_demand)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sim.optimise.sites import baseline_demand

CALLS = np.zeros(0, dtype=[("year", "i4"), ("cell", "i8"), ("public_order", "?")])


def _run(busy):
    return SimpleNamespace(calls=CALLS, cell_incidents=np.ones((2, 3)), cell_calls=np.ones((2, 3)),
                           unit_busy_share=np.asarray(busy))


def test_baseline_demand_of_runs_with_fleets_of_different_sizes_gives_one_mean_busy_share():
    # Posterior draws of the patrol strength give baseline runs with different numbers of units.
    assert np.allclose(baseline_demand([_run([0.2, 0.4]), _run([0.4, 0.6])]).unit_busy, [0.3, 0.5])
    assert np.allclose(baseline_demand([_run([0.2, 0.4]), _run([0.4, 0.6, 0.8])]).unit_busy, [0.48])
