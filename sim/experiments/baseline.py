"""The baseline a package is measured against: the same city, years and parameters with the package left out.

A package's effect is its paired difference from a baseline run under the same seeds (common
random numbers), replicate by replicate. ``pingan run PACKAGE`` finds that baseline from the
scenario's ``extends:`` chain (:func:`paired_baseline`): the nearest file it extends in which no
intervention is switched on (``suizhou_2022`` extends ``suizhou_baseline``). That file is the
baseline when, apart from its interventions, it is the package's own scenario (:func:`differences`
is empty). Where it differs in more — a package that counts other years (``jincheng_2016_2020``
extends ``jincheng_baseline``, which counts 2020–2021) or puts the city on its real map
(``suizhou_2022_real``) — the baseline is the package itself with every intervention switched off
(:func:`without_interventions`, named ``<package>_no_interventions`` as the explorer names it), so
that the pair differs in the package only.

``--set`` overrides under ``interventions.`` change the package and are not applied to the baseline;
every other override (the city, the run, a behavioural parameter) applies to both
(:func:`split_overrides`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.interventions import REGISTRY
from sim.scenario.loader import (
    ScenarioError,
    load_scenario,
    load_scenario_data,
    read_yaml_mapping,
    resolve_scenario_path,
    validate_scenario,
)
from sim.scenario.schema import MAX_NAME_LENGTH, Scenario

__all__ = ["PairedBaseline", "NO_INTERVENTIONS", "differences", "extends_chain", "paired_baseline",
           "split_overrides", "without_interventions"]

#: Appended to a scenario's name for the same scenario with every intervention off.
NO_INTERVENTIONS = "_no_interventions"
#: Keys that name or describe a scenario or define its package, not the city it runs on.
_PACKAGE_KEYS = ("name", "description", "interventions", "run.intervention_year")


@dataclass(frozen=True)
class PairedBaseline:
    """The baseline chosen for a package, and why, in one line.

    Attributes:
        scenario: The baseline, or None: the package runs alone.
        reason: Which baseline, and why (or why there is none), as the command prints it.
    """

    scenario: Scenario | None
    reason: str


def extends_chain(path: str | Path) -> list[Path]:
    """The files a scenario extends, nearest first: its parent, the parent's parent, and so on.

    Each parent is found as the loader finds it: relative to the file, else a built-in scenario's name.

    Raises:
        ScenarioError: As :func:`sim.scenario.loader.load_scenario_data` (unreadable, missing or
            circular parent), before the chain is walked.
    """
    load_scenario_data(path)  # a missing or circular parent is refused here, naming the file
    here, chain = resolve_scenario_path(path).resolve(), []
    while isinstance(parent := read_yaml_mapping(here).get("extends"), str):
        here = (here.parent / parent if (here.parent / parent).is_file() else resolve_scenario_path(parent)).resolve()
        chain.append(here)
    return chain


def split_overrides(overrides: list[str] | None) -> tuple[list[str], list[str]]:
    """``--set`` overrides as (the package's, everyone's): keys under ``interventions.`` define the package."""
    package, shared = [], []
    for item in overrides or []:
        key = item.split("=", 1)[0].strip()
        (package if key == "interventions" or key.startswith("interventions.") else shared).append(item)
    return package, shared


def without_interventions(scenario: Scenario) -> Scenario:
    """``scenario`` with every intervention switched off, named ``<name>_no_interventions``.

    A disabled intervention leaves the model exactly as without it, so this is the scenario's city,
    years and parameters with nothing switched on.
    """
    data = scenario.model_dump(mode="json")
    for key in REGISTRY:
        data["interventions"][key]["enabled"] = False
    data["name"] = scenario.name[: MAX_NAME_LENGTH - len(NO_INTERVENTIONS)] + NO_INTERVENTIONS
    return validate_scenario(data, label=f"{scenario.name} with every intervention off")


def differences(a: Scenario, b: Scenario) -> list[str]:
    """Dotted keys in which two scenarios differ apart from their package.

    The name, the description, the interventions and the year they start by default
    (``run.intervention_year``) make the package; every other key — the city, the counted
    years, the warm-up, the behavioural parameters — must agree for a paired comparison to
    measure the package alone.
    """
    found: list[str] = []
    _diff(a.model_dump(mode="json"), b.model_dump(mode="json"), "", found)
    return [k for k in found if not any(k == p or k.startswith(p + ".") for p in _PACKAGE_KEYS)]


def _diff(a: Any, b: Any, prefix: str, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _diff(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key), found)
    elif a != b:
        found.append(prefix)


def paired_baseline(path: str | Path, package: Scenario, overrides: list[str] | None = None,
                    chosen: str | Path | None = None) -> PairedBaseline:
    """The baseline ``pingan run`` pairs a package with (see the module docstring).

    Args:
        path: The package's scenario file, or the name of a built-in scenario.
        package: That scenario, loaded with every override.
        overrides: The ``--set`` overrides; those outside ``interventions.`` apply to the baseline.
        chosen: A baseline named by the user (``--baseline``): used as it is, whatever it contains.

    Returns:
        The baseline (None: the package runs alone) and the line saying why.

    Raises:
        ScenarioError: The chosen baseline cannot be loaded, or is the package itself; the
            package's ``extends:`` chain cannot be read.
    """
    _, shared = split_overrides(overrides)
    if chosen is not None:
        base = load_scenario(chosen, shared)
        if base.name == package.name:
            raise ScenarioError(f"--baseline {chosen}: it is named {base.name}, as the package is; "
                                "expected another scenario")
        other = differences(base, package)
        return PairedBaseline(base, f"baseline {base.name}: chosen with --baseline, run with the same seeds"
                              + (f" (it also differs from {package.name} in {', '.join(other)})" if other else ""))
    if not package.enabled_interventions():
        return PairedBaseline(None, f"{package.name} switches no intervention on: it runs alone, year on year")
    for parent in extends_chain(path):
        try:
            base = load_scenario(parent, shared)
        except ScenarioError:  # a partial file that is not a scenario on its own: look further up
            continue
        if base.enabled_interventions():
            continue
        other = differences(base, package)
        if not other:
            return PairedBaseline(base, f"baseline {base.name}: the scenario {package.name} extends with no "
                                  "intervention switched on, run with the same seeds")
        off = without_interventions(package)
        return PairedBaseline(off, f"baseline {off.name}: {package.name} with every intervention off, run with the "
                              f"same seeds ({base.name}, the scenario it extends with none switched on, also "
                              f"differs in {', '.join(other)})")
    return PairedBaseline(None, f"{package.name} extends no scenario with every intervention off: it runs alone, "
                          "year on year (--baseline NAME pairs it with one)")
