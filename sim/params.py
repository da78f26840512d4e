"""The base of every parameter group: strict, closed, validated at construction.

Scenario files are validated against these models: an unknown key, a wrong type or a value
out of range is an error that names the key (scikit-learn's "validate once, at
construction"). Every field carries its unit and source in its description.

Mapping-valued parameters (e.g. ``calls.report_prob``: one value per crime type) take
partial mappings: ``--set calls.report_prob.theft=0.3`` changes theft and keeps the other
types' defaults (nested mappings merge one level deeper). An entry the default does not
have is an error, unless the field is declared with ``json_schema_extra={"open_keys": True}``.

Every number is finite (``.inf`` and ``.nan`` are refused), and sizes have upper bounds
(:data:`MAX_POPULATION`, :data:`MAX_SITES`, ...): an absurd value — a few zeros too many — is
refused when the scenario is validated, not hours later by a crash or an exhausted memory.
The bounds are far above any real city, so they never constrain a plausible scenario.
"""

from __future__ import annotations

import functools
import reprlib
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Params", "Probability", "NonNegative", "Positive", "MAX_POPULATION", "MAX_SITES", "MAX_CAMERAS",
           "MAX_UNITS_PER_SITE", "MAX_AREA_KM2", "excerpt", "EXCERPT_CHARS"]

#: A chance or a share, in [0, 1]; as a mapping's value type it bounds every entry.
Probability = Annotated[float, Field(ge=0, le=1)]
#: A rate, count or duration that cannot be negative.
NonNegative = Annotated[float, Field(ge=0)]
#: A median, speed or scale that must be above zero.
Positive = Annotated[float, Field(gt=0)]

#: Most residents of a simulated city. Chongqing, China's most populous city, had 32 M in the
#: 2020 census; every resident is a row of the model's arrays, so 50 M also bounds memory.
MAX_POPULATION = 50_000_000
#: Largest land area of a city [km²]. Hulunbuir, the largest prefecture-level city, has about
#: 253 000 km²; the grid of 0.5 km cells stays about a million cells.
MAX_AREA_KM2 = 300_000.0
#: Most sites of one kind (street police stations, rapid-response points, smart compounds,
#: judicial offices) at full scale: one per 5 000 residents of the largest city allowed (Suizhou
#: 2022 had 8 stations and 28 points).
MAX_SITES = 10_000
#: Most cameras at full scale: one per five residents of the largest city allowed (Suizhou 2022
#: added 54 000).
MAX_CAMERAS = 10_000_000
#: Most patrol units or officers based at one site (a station has one or two units on duty).
MAX_UNITS_PER_SITE = 100


#: Longest excerpt of an input quoted in an error message [characters]: enough to recognise a
#: value, never a whole file (a value built from YAML aliases can be gigabytes when printed).
EXCERPT_CHARS = 60

_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel = 3  # nesting shown; deeper levels print as "..."
_EXCERPT.maxlist = _EXCERPT.maxtuple = _EXCERPT.maxdict = _EXCERPT.maxset = 6  # elements shown per level
_EXCERPT.maxstring = _EXCERPT.maxother = _EXCERPT.maxlong = EXCERPT_CHARS


def excerpt(value: Any, width: int = EXCERPT_CHARS) -> str:
    """A short ``repr`` of an input for an error message: at most ``width`` characters.

    Built with :mod:`reprlib`, which looks at a few elements of a few levels only, so the cost
    does not grow with the value (a list of a billion references prints as fast as a short one).
    """
    text = _EXCERPT.repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@functools.cache
def _mapping_default(cls: type[BaseModel], name: str) -> dict | None:
    """The default of a mapping-valued field (read-only), or None if its default is not a non-empty mapping.

    Cached: a default that is a model (a whole parameter section) would otherwise be built and
    validated again each time a scenario is validated, which took most of the validation's time.
    """
    default = cls.model_fields[name].get_default(call_default_factory=True)
    return default if isinstance(default, dict) and default else None


class Params(BaseModel):
    """Parameters: no unknown keys, no silent type coercion, defaults validated too."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _merge_mapping_defaults(cls, data):
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            given = out.get(name)
            if not isinstance(given, dict):
                continue
            default = _mapping_default(cls, name)
            if default is None:
                continue
            open_keys = bool((field.json_schema_extra or {}).get("open_keys")) if isinstance(
                field.json_schema_extra, dict) else False
            unknown = sorted(set(given) - set(default))
            if unknown and not open_keys:
                raise ValueError(f"{name}: unknown entr{'y' if len(unknown) == 1 else 'ies'} {excerpt(unknown)}; "
                                 f"expected some of {sorted(default)}")
            merged = dict(default)
            for k, v in given.items():
                if isinstance(v, dict) and isinstance(merged.get(k), dict):
                    inner_unknown = sorted(set(v) - set(merged[k]))
                    if inner_unknown and not open_keys:
                        raise ValueError(f"{name}.{k}: unknown entries {excerpt(inner_unknown)}; expected some of "
                                         f"{sorted(merged[k])}")
                    merged[k] = {**merged[k], **v}
                else:
                    merged[k] = v
            out[name] = merged
        return out
