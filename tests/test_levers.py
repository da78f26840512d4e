"""The levers interventions act through (sim.levers)."""

from __future__ import annotations

import numpy as np

from sim.levers import Levers


def test_levers_at_rest_put_nothing_in_place():
    lv = Levers.at_rest(4, 3, cameras_for_63pct=10.0)
    for name in ("posts", "extra_guardians", "type_guardians", "visible_guardians", "camera_count", "cameras",
                 "alarms", "walk_in_share", "type_deterrence", "patrol_presence"):
        assert not getattr(lv, name).any(), name
    assert (lv.clearance_odds == 1.0).all()
    assert lv.type_guardians.shape == (3, 4)


def test_cameras_cover_63_percent_of_a_cell_at_the_reference_count():
    lv = Levers.at_rest(3, 2, cameras_for_63pct=10.0)
    lv.add_cameras(np.array([0.0, 10.0, 5.0]))
    lv.add_cameras(np.array([0.0, 0.0, 5.0]))  # installing in two goes is the same as in one
    np.testing.assert_allclose(lv.camera_count, [0.0, 10.0, 10.0])
    np.testing.assert_allclose(lv.cameras, [0.0, 1 - np.exp(-1.0), 1 - np.exp(-1.0)])
