"""Behavioural mechanisms that act on the city every hour: offending, reporting, calls."""

from sim.mechanisms.calls import CallParams, Calls
from sim.mechanisms.crime import CRIME_TYPES, PREVENTABLE, CrimeParams, Offences, Offending

__all__ = [
    "CRIME_TYPES",
    "PREVENTABLE",
    "CrimeParams",
    "Offences",
    "Offending",
    "CallParams",
    "Calls",
]
