"""The base of every parameter group: strict, closed, validated at construction.

Scenario files are validated against these models: an unknown key, a wrong type or a value
out of range is an error that names the key (scikit-learn's "validate once, at
construction"). Every field carries its unit and source in its description.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Params"]


class Params(BaseModel):
    """Parameters: no unknown keys, no silent type coercion, defaults validated too."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)
