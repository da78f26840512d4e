"""Agents: residents (arrays, millions) and patrol units (a small fleet)."""

from sim.agents.patrol import PatrolFleet, PolicingParams
from sim.agents.residents import ResidentParams, Residents, SpecialPopulation, build_residents

__all__ = [
    "PatrolFleet",
    "PolicingParams",
    "ResidentParams",
    "Residents",
    "SpecialPopulation",
    "build_residents",
]
