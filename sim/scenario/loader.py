"""Loading scenario files: safe YAML, ``extends:`` inheritance, ``--set`` overrides, and
errors that name the file, the key and what was expected — before any simulation runs.

A scenario file is data. It is read with ``yaml.safe_load`` (no tags, no code), merged over
its parent (``extends: other.yaml``, a path relative to the file, or the name of a built-in
scenario), overridden by ``--set key.path=value`` pairs whose values are parsed as YAML
scalars, and validated by :class:`sim.scenario.schema.Scenario`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim._data import data_folder
from sim.scenario.schema import Scenario
from sim.space.presets import PRESETS

__all__ = ["ScenarioError", "load_scenario", "load_scenario_data", "apply_overrides",
           "builtin_scenarios", "resolve_scenario_path"]


class ScenarioError(ValueError):
    """A scenario file or override is wrong. The message names the file and the key."""


#: The built-in scenarios: ``scenarios/`` of the repository, shipped in the package (sim._data).
SCENARIO_DIR = data_folder("scenarios")


def builtin_scenarios() -> dict[str, Path]:
    """Scenario files of the project's ``scenarios/`` folder, by stem."""
    if not SCENARIO_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def resolve_scenario_path(name: str | Path) -> Path:
    """A path to a scenario: an existing file, or the name of a built-in scenario."""
    path = Path(name)
    if path.is_file():
        return path
    builtin = builtin_scenarios()
    stem = path.stem if path.suffix in (".yaml", ".yml") else str(name)
    if stem in builtin:  # a folder of that name (e.g. an output folder) is not a scenario
        return builtin[stem]
    raise ScenarioError(f"{name}: no such scenario file (built-in scenarios: "
                        f"{', '.join(sorted(builtin))})")


def read_yaml_mapping(path: Path, error: type[Exception] = ScenarioError) -> dict[str, Any]:
    """Read a YAML file safely (``yaml.safe_load``: data only) and check it is a mapping.

    Raises:
        error: Unreadable file, malformed YAML (with line and column) or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise error(f"{path}: cannot read the file ({e.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"{path}: malformed YAML{where}: {getattr(e, 'problem', e)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_scenario_data(path: str | Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, dict]:
    """The merged mapping of a scenario file and, for each top-level key, the file it came from.

    Raises:
        ScenarioError: Unreadable or malformed file, missing or circular parent.
    """
    path = resolve_scenario_path(path).resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ScenarioError(f"{path}: circular extends: {chain}")
    data = read_yaml_mapping(path)
    parent = data.pop("extends", None)
    origin = {k: path for k in data}
    if parent is None:
        return data, origin
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: key 'extends': expected a file name, got {parent!r}")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        try:
            parent_path = resolve_scenario_path(parent)
        except ScenarioError:
            raise ScenarioError(f"{path}: key 'extends': parent file {parent!r} not found "
                                f"(looked in {path.parent})") from None
    base, base_origin = load_scenario_data(parent_path, (*_seen, path))
    return _merge(base, data), {**base_origin, **origin}


def apply_overrides(data: dict, overrides: list[str] | None, source: str = "--set") -> dict:
    """Apply ``key.path=value`` overrides; values are parsed as YAML scalars."""
    out = _merge({}, data)
    for item in overrides or []:
        if "=" not in item:
            raise ScenarioError(f"{source} {item!r}: expected key.path=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ScenarioError(f"{source} {item!r}: value is not valid YAML") from None
        node = out
        parts = key.strip().split(".")
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif not isinstance(nxt, dict):
                raise ScenarioError(f"{source} {item!r}: {'.'.join(parts[: i + 1])} is not a mapping")
            else:
                nxt = node[part] = dict(nxt)
            node = nxt
        node[parts[-1]] = value
    return out


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Load, merge, override and validate a scenario.

    Args:
        path: A scenario file, or the name of a built-in scenario.
        overrides: ``key.path=value`` strings (the CLI's ``--set``).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: With the file, the key and what was expected.
    """
    data, origin = load_scenario_data(path)
    own = resolve_scenario_path(path).resolve()
    if origin.get("name") != own:  # a file that does not name itself is named after itself, not its parent
        data["name"] = own.stem
    data = apply_overrides(data, overrides)
    set_keys = [o.split("=", 1)[0].strip() for o in overrides or []]
    return validate_scenario(data, origin, str(own), set_keys)


def validate_scenario(data: dict, origin: dict | None = None, label: str = "<scenario>",
                      set_keys: list[str] | None = None) -> Scenario:
    """Validate a merged mapping; errors name the file (or ``--set``) each key came from."""
    origin = origin or {}
    city = data.get("city")
    if isinstance(city, dict) and city.get("preset") is not None and city["preset"] not in PRESETS:
        where = origin.get("city", label)
        if any(k in ("city", "city.preset") for k in set_keys or []):
            where = "--set city.preset"
        raise ScenarioError(f"{where}: key 'city.preset': unknown preset {city['preset']!r}; "
                            f"expected one of {sorted(PRESETS)}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = [str(x) for x in err["loc"]]
            key = ".".join(loc)
            where = origin.get(loc[0], label) if loc else label
            for k in set_keys or []:
                if key == k or key.startswith(k + ".") or (key and k.startswith(key + ".")):
                    where = f"--set {k}"
            if err["type"] == "value_error":  # our own checks: the message names the key
                where = next((f"--set {k}" for k in set_keys or [] if k in err["msg"]), where)
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"{where}: key '{key}': {msg}" if key else f"{where}: {msg}")
                continue
            got = err.get("input")
            got_s = "" if err["type"] == "missing" else f" (got {got!r})"
            if len(got_s) > 80:
                got_s = got_s[:77] + "...)"
            lines.append(f"{where}: key '{key or '(top level)'}': {_expected(err)}{got_s}")
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(lines)) from None


def _expected(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `pingan validate --help`)"
    if kind == "missing":
        return "required key is missing"
    return "expected " + err["msg"][0].lower() + err["msg"][1:] if err["msg"] else kind
