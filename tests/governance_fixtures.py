"""Helpers shared by the dispute, governance, mediation and safety tests.

Scenario switches for the social-governance interventions, a hand-made administrative
map for driving the SimPy pipelines directly, and a dispute book filled by stepping days.
Whole runs come from the session cache in ``conftest.py`` (``simulate``), so modules that
ask for the same run share it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sim.disputes import DisputeBook, DisputeParams

GRID_WORKERS = "interventions.grid_workers.enabled=true"
GOVERNANCE = "interventions.governance_centres.enabled=true"
MEDIATION = "interventions.mediation.enabled=true"
POLICE_MEDIATION = "interventions.police_mediation.enabled=true"
#: Grid workers, governance centres, mediation and police-accompanied mediation together.
ALL_FOUR = (GRID_WORKERS, GOVERNANCE, MEDIATION, POLICE_MEDIATION)

YEAR = 365  # counted days of a full-year run
SEEDS = (1, 2, 3)  # replicates of paired comparisons (common random numbers)


def tiny_map(communities: int = 2) -> SimpleNamespace:
    """An administrative map of one cell per community, all in one town of one county.

    Enough of a city for :class:`GovernancePipeline` and :class:`MediationService`.
    """
    return SimpleNamespace(
        community=np.arange(communities),
        town=np.zeros(communities, dtype=int),
        county=np.zeros(communities, dtype=int),
        community_town=np.zeros(communities, dtype=int),
        town_county=np.zeros(1, dtype=int),
        county_names=["County"],
    )


def filled_book(city, residents, days: int, seed: int = 7, **params) -> DisputeBook:
    """A dispute book in which disputes have arisen (and nothing else happened) for ``days`` days."""
    book = DisputeBook(DisputeParams(**params), city, residents, seed)
    for day in range(days):
        book.arise(day)
    return book
