"""Pingan (平安): agent-based simulation of public-security interventions in a Chinese city."""

from sim.model import PinganModel
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["PinganModel", "Scenario", "ScenarioError", "load_scenario"]
__version__ = "0.1.0"
