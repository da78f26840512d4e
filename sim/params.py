"""The base of every parameter group: strict, closed, validated at construction.

Scenario files are validated against these models: an unknown key, a wrong type or a value
out of range is an error that names the key (scikit-learn's "validate once, at
construction"). Every field carries its unit and source in its description.

Mapping-valued parameters (e.g. ``calls.report_prob``: one value per crime type) take
partial mappings: ``--set calls.report_prob.theft=0.3`` changes theft and keeps the other
types' defaults (nested mappings merge one level deeper). An entry the default does not
have is an error, unless the field is declared with ``json_schema_extra={"open_keys": True}``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["Params"]


class Params(BaseModel):
    """Parameters: no unknown keys, no silent type coercion, defaults validated too."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)

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
            default = field.get_default(call_default_factory=True)
            if not isinstance(default, dict) or not default:
                continue
            open_keys = bool((field.json_schema_extra or {}).get("open_keys")) if isinstance(
                field.json_schema_extra, dict) else False
            unknown = sorted(set(given) - set(default))
            if unknown and not open_keys:
                raise ValueError(f"{name}: unknown entr{'y' if len(unknown) == 1 else 'ies'} {unknown}; "
                                 f"expected some of {sorted(default)}")
            merged = dict(default)
            for k, v in given.items():
                if isinstance(v, dict) and isinstance(merged.get(k), dict):
                    inner_unknown = sorted(set(v) - set(merged[k]))
                    if inner_unknown and not open_keys:
                        raise ValueError(f"{name}.{k}: unknown entries {inner_unknown}; expected some of "
                                         f"{sorted(merged[k])}")
                    merged[k] = {**merged[k], **v}
                else:
                    merged[k] = v
            out[name] = merged
        return out
