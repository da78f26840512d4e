"""The lever menu: which intervention parameters a study may change, checked against the scenario.

A lever is ``<intervention>.<parameter>`` (a whole number, a number, a switch or one of a fixed set
of words) or ``<intervention>.siting`` for point facilities (interventions with a
:class:`sim.interventions.siting.SitingProfile`). A package is the scenario with every lever set:
an intervention with a lever is switched on (unless its own ``enabled`` lever says otherwise), and
a size of zero places nothing, as the intervention itself defines.

:func:`default_levers` gives a menu for any scenario from the intervention registry alone, so it
works on any city: each point facility's size from zero to twice the scenario's (or the
intervention's default) size with its siting rule, and an on/off switch for every other
intervention the scenario has on.
"""

from __future__ import annotations

import json
import math
import types
import typing
from typing import Any, Literal

from pydantic import ValidationError

from sim.interventions import REGISTRY
from sim.optimise.spec import SITING_RULES, Lever

__all__ = ["OptimiseError", "default_levers", "check_levers", "apply_levers", "lever_kind", "siting_choices",
           "SCENARIO_RULE"]

#: The siting choice that keeps the intervention's placement as the scenario sets it.
SCENARIO_RULE = "scenario"


class OptimiseError(ValueError):
    """A study that cannot run: bad levers, budget or settings. The message names the file and the key."""


def _nice_step(high: float, most_values: int = 50) -> float:
    """The smallest of 1, 2, 5 × 10^k giving at most ``most_values`` steps from 0 to ``high`` (1 at least)."""
    raw = high / most_values
    if raw <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(f * power for f in (1, 2, 5, 10) if f * power >= raw)


def siting_choices(key: str) -> list[str]:
    """Siting choices of a point facility: the scenario's rule, its own placements, and the location models."""
    cls = REGISTRY[key]
    own = _literal_values(cls.Params.model_fields["placement"].annotation) if "placement" in cls.Params.model_fields \
        else []
    return [SCENARIO_RULE, *[v for v in own if v != "given"], *SITING_RULES]


def default_levers(scenario) -> dict[str, Lever]:
    """A sensible menu for ``scenario`` (see the module docstring)."""
    levers: dict[str, Lever] = {}
    for key, cls in sorted(REGISTRY.items()):
        params = getattr(scenario.interventions, key)
        profile = cls.siting
        if profile is not None:
            field = profile.count_field
            size = getattr(params, field) if params.enabled else cls.Params.model_fields[field].default
            step = _nice_step(2 * size)
            high = max(step, math.ceil(2 * size / step) * step)
            levers[f"{key}.{field}"] = Lever(range=[0.0, float(high)], step=step)
            levers[f"{key}.siting"] = Lever(choices=[SCENARIO_RULE, *SITING_RULES])
        elif params.enabled:
            levers[f"{key}.enabled"] = Lever(choices=[False, True])
    return levers


def _literal_values(annotation) -> list:
    return list(typing.get_args(annotation)) if typing.get_origin(annotation) is Literal else []


def lever_kind(key: str) -> str:
    """``"int"``, ``"float"``, ``"bool"``, ``"word"`` (one of fixed words) or ``"siting"``.

    Raises:
        OptimiseError: If the key is not an intervention's parameter a planner can change.
    """
    head, _, field = key.partition(".")
    if not field or "." in field:
        raise OptimiseError(f"lever {key!r}: expected <intervention>.<parameter>, e.g. video.cameras")
    if head not in REGISTRY:
        raise OptimiseError(f"lever {key!r}: {head!r} is not an intervention (only what a city can buy is a "
                            f"lever; interventions: {', '.join(sorted(REGISTRY))})")
    cls = REGISTRY[head]
    if field == "siting":
        if cls.siting is None:
            raise OptimiseError(f"lever {key!r}: {head} has no sites to place (siting levers: "
                                f"{', '.join(k for k, c in sorted(REGISTRY.items()) if c.siting)})")
        return "siting"
    fields = cls.Params.model_fields
    if field not in fields:
        raise OptimiseError(f"lever {key!r}: {head} has no parameter {field!r} (it has {', '.join(fields)})")
    if field in ("start_year", "placement", "sites"):
        raise OptimiseError(f"lever {key!r}: {field} cannot be a lever; use {head}.siting for where sites go"
                            if field != "start_year" else f"lever {key!r}: the start year is the scenario's, "
                            "not a lever")
    annotation = fields[field].annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = None  # optional settings (lists of counties, cells) are the scenario's, not levers
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if _literal_values(annotation):
        return "word"
    raise OptimiseError(f"lever {key!r}: the scenario cannot vary {field} (not a number, switch or choice of "
                        "words)")


def check_levers(scenario, levers: dict[str, Lever], source: str) -> None:
    """Check every lever against the scenario before any work; raise naming ``source`` and the key.

    Each range's ends and each choice must be a valid value of the parameter (its own bounds),
    siting choices must be known, and a range over a whole-number parameter needs a whole step.
    """
    if not levers:
        raise OptimiseError(f"{source}: key 'optimise.levers': empty; expected at least one lever")
    data = json.loads(scenario.model_dump_json())["interventions"]
    for key, lever in levers.items():
        where = f"{source}: key 'optimise.levers.{key}'"
        try:
            kind = lever_kind(key)
        except OptimiseError as e:
            raise OptimiseError(f"{where}: {str(e).removeprefix(f'lever {key!r}: ')}") from None
        head, _, field = key.partition(".")
        if kind == "siting":
            allowed = siting_choices(head)
            if lever.choices is None or any(c not in allowed for c in lever.choices):
                raise OptimiseError(f"{where}: expected choices among {allowed}, got "
                                    f"{lever.choices if lever.choices is not None else 'a range'}")
            continue
        if kind in ("bool", "word") and lever.range is not None:
            raise OptimiseError(f"{where}: {field} is a {'switch' if kind == 'bool' else 'choice of words'}; "
                                "give choices: [...], not a range")
        if kind == "int" and lever.step is not None and lever.step != int(lever.step):
            raise OptimiseError(f"{where}: {field} is a whole number; expected a whole step, got {lever.step:g}")
        if kind == "int" and lever.range is not None and any(v != int(v) for v in lever.range):
            raise OptimiseError(f"{where}: {field} is a whole number; expected whole ends, got {lever.range}")
        values = lever.range if lever.range is not None else lever.choices
        for value in values:
            try:
                REGISTRY[head].Params.model_validate({**data[head], field: _typed(kind, value)})
            except ValidationError as e:
                msg = e.errors()[0]["msg"].removeprefix("Value error, ")
                raise OptimiseError(f"{where}: value {value!r} is not a valid {field} ({msg})") from None


def _typed(kind: str, value: Any) -> Any:
    if kind == "int" and isinstance(value, float) and value == int(value):
        return int(value)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def apply_levers(data: dict, values: dict[str, Any]) -> dict:
    """Scenario data (a validated scenario's ``model_dump``) with lever values set; siting levers are left out.

    Every intervention with a lever is switched on unless its ``enabled`` lever is among ``values``.
    """
    out = json.loads(json.dumps(data))
    for head in {key.partition(".")[0] for key in values}:
        if f"{head}.enabled" not in values:
            out["interventions"][head]["enabled"] = True
    for key, value in values.items():
        head, _, field = key.partition(".")
        if field != "siting":
            out["interventions"][head][field] = _typed(lever_kind(key), value)
    return out
