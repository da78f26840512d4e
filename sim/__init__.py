"""Pingan (平安): agent-based simulation of public-security interventions in a Chinese city."""

from sim._numba_cache import ensure_writable_cache

ensure_writable_cache()  # before any compiled kernel is defined (sim._numba_cache says why)

from sim.model import PinganModel  # noqa: E402
from sim.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["PinganModel", "Scenario", "ScenarioError", "load_scenario"]
__version__ = "0.1.0"
