"""Who finds disputes: discovery sources, and the finding hazard of household visits.

A discovery source is anyone who finds live disputes on rounds or visits — grid workers
(网格员), police on home visits, village auxiliary police, joint screening teams. An
intervention builds one and registers it with the dispute system
(:meth:`sim.disputes.DisputeSystem.add_discovery_source`); each day the system lets every
source find disputes in the order they were registered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.disputes.book import Resolver

__all__ = ["DiscoverySource", "visit_hazard"]


@dataclass
class DiscoverySource:
    """Someone who finds disputes on rounds or visits.

    Attributes:
        name: Short name, e.g. ``"grid_worker"``; finds are counted as ``disputes_found_by_<name>``.
        hazard: Daily chance-rate per cell that a live, unfound dispute there is found [1/day].
        on_spot_prob: Chance a found minor dispute is settled there and then.
        resolver: Who gets the credit for an on-the-spot settlement.
        honour_prob: Chance such a settlement holds.
        ticket_share: Chance a found dispute not settled on the spot is escalated to the
            governance centres as a ticket; the rest go straight to the village mediation
            committee (where there is one). 1: every one (the pre-evidence model).
        logged_metric: Metric that counts the disputes this source logs (referred on, escalated
            or not); empty: not counted.
    """

    name: str
    hazard: np.ndarray
    on_spot_prob: float
    resolver: Resolver
    honour_prob: float = 0.95
    ticket_share: float = 1.0
    logged_metric: str = ""


def visit_hazard(city, cells: np.ndarray, visits_per_day: float, find_prob: float, targeting: float) -> np.ndarray:
    """Daily finding hazard per cell from household visits spread over the households of ``cells``.

    Args:
        city: The city.
        cells: Cells whose households are visited (an area: a jurisdiction, a town).
        visits_per_day: Household visits a day in that area [visits/day].
        find_prob: Chance a visit to a household with a live dispute finds it.
        targeting: Live-dispute rate of visited households relative to a random household.

    Returns:
        Hazard per cell (zero outside ``cells``): visits per household per day × targeting × find_prob.
    """
    hazard = np.zeros(city.n_cells)
    households = float(city.households[cells].sum())
    if households > 0:
        rate = min(visits_per_day / households * targeting, 1.0)  # at most one visit a household a day
        hazard[cells] = np.where(city.households[cells] > 0, rate * find_prob, 0.0)
    return hazard
