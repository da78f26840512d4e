"""Behavioural mechanisms that act on the city every hour: offending, reporting, calls."""

from sim.mechanisms.calls import CallParams, Calls
from sim.mechanisms.crime_types import CRIME_TYPES, PREVENTABLE
from sim.mechanisms.offending import CrimeParams, Offences, Offending

__all__ = [
    "CRIME_TYPES",
    "PREVENTABLE",
    "CrimeParams",
    "Offences",
    "Offending",
    "CallParams",
    "Calls",
]
