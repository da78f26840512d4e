"""The incident map: where police-recorded incidents happened, the one place that keeps it.

Two views of the same incidents, kept side by side because mechanisms read them differently:

- :attr:`IncidentMap.recent`, a decaying map of recorded incidents — offences the police recorded
  and public-order calls — with half-life ``policing.heat_half_life_days``: where presence is
  needed now. Patrols pick hot spots from it, interventions site stations, cameras and posts by
  it (:meth:`IncidentMap.site_score`).
- :attr:`IncidentMap.recorded` and :attr:`IncidentMap.true`, counts per counted year and cell of
  police-recorded offences and of every offence: the maps of a year's results (incident maps,
  package rings), the sense-of-safety survey's nearby incidents, and the hot spots a hot-spot
  patrol chooses from last year's record.

The model counts every offence in its year's maps (:meth:`IncidentMap.count`: street offences and
dispute violence), adds the street offences the police recorded and public-order calls to the
recent map (:meth:`IncidentMap.note`) and lets it decay (:meth:`IncidentMap.decay`); everything
else only reads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["IncidentMap"]

#: Weight of footfall in :meth:`IncidentMap.site_score`: small enough never to outweigh one
#: recorded incident, so it only orders cells without recent incidents.
FOOTFALL_TIE_BREAK = 1e-6


class IncidentMap:
    """Recorded incidents per cell: recent (decaying) and per counted year.

    Args:
        n_years: Counted years.
        attraction: Footfall per cell (the city's attraction), to order cells without incidents.
        half_life_days: Half-life of the recent map [days] (``policing.heat_half_life_days``).
    """

    def __init__(self, n_years: int, attraction: np.ndarray, half_life_days: float):
        n = len(attraction)
        self.n_years = n_years
        self._attraction = attraction
        #: Recorded offences and public-order calls per cell, decaying: where presence is needed.
        self.recent = np.zeros(n)
        #: Police-recorded offences per counted year and cell.
        self.recorded = np.zeros((n_years, n))
        #: Offences per counted year and cell, recorded or not.
        self.true = np.zeros((n_years, n))
        self._decay_per_hour = 0.5 ** (1 / (24 * half_life_days))

    def site_score(self, cells: np.ndarray) -> np.ndarray:
        """How much ``cells`` need presence: recent recorded incidents, then footfall (ties)."""
        attraction = self._attraction[cells]
        return self.recent[cells] + FOOTFALL_TIE_BREAK * attraction / max(attraction.max(), 1.0)

    def decay(self) -> None:
        """Let the recent map decay by one hour."""
        _decay(self.recent, self._decay_per_hour)

    def count(self, year: int, cells: np.ndarray, recorded: np.ndarray) -> None:
        """Count offences in counted year ``year``'s maps, every one and the police-recorded ones
        (outside the counted years: nothing)."""
        if not 0 <= year < self.n_years:
            return
        # A handful of offences an hour: one by one beats np.add.at (whole counts: exact in any order).
        true, rec = self.true[year], self.recorded[year]
        for c, r in zip(cells.tolist(), recorded.tolist(), strict=True):
            true[c] += 1
            if r:
                rec[c] += 1

    def note(self, cells: np.ndarray | int) -> None:
        """Recorded incidents in ``cells`` (an array, repeats adding up, or one cell), now: the recent map."""
        if isinstance(cells, int):
            self.recent[cells] += 1.0
        else:
            np.add.at(self.recent, cells, 1.0)


@njit(cache=True)
def _decay(memory, factor):
    # memory *= factor, element by element (a compiled call costs a third of numpy's in-place
    # multiply on a few hundred cells, every hour of every run).
    for i in range(len(memory)):
        memory[i] *= factor
