"""Scenario files: the schema that validates them and the loader that reads them."""

from sim.scenario.loader import (
    ScenarioError,
    apply_overrides,
    builtin_scenarios,
    load_scenario,
    resolve_scenario_path,
    validate_scenario,
)
from sim.scenario.schema import RunParams, Scenario

__all__ = [
    "RunParams",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "builtin_scenarios",
    "load_scenario",
    "resolve_scenario_path",
    "validate_scenario",
]
