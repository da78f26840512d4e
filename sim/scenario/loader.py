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
from sim.params import EXCERPT_CHARS, excerpt
from sim.scenario.schema import Scenario
from sim.space.presets import PRESETS

__all__ = ["ScenarioError", "load_scenario", "load_scenario_data", "apply_overrides",
           "builtin_scenarios", "resolve_scenario_path", "scenario_problems"]


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


#: Largest scenario or sweep file read [bytes]. Shipped files are under 3 kB; the limit keeps a
#: wrong file (a results store, a video) from being read whole into memory.
MAX_YAML_BYTES = 1_000_000
#: Deepest nesting of mappings and lists in a scenario or sweep file. The deepest real key has
#: four levels (``crime.land_use_opportunity.urban.theft``); without a limit, a file of a few
#: thousand nested brackets exhausts Python's recursion limit while it is parsed.
MAX_YAML_DEPTH = 32


#: Most nodes that YAML aliases (``*name``) may add to a file when they are expanded. An alias
#: refers to an anchored node (``&name``) instead of repeating it: nine levels of aliases, each
#: used ten times, make a 441-byte file expand to a billion values ("billion laughs"), which
#: exhausts memory wherever the data is walked (validation, error messages). Real scenario and
#: sweep files use a few aliases of a few values, if any.
MAX_ALIAS_NODES = 10_000


class _FileProblem(yaml.MarkedYAMLError):
    """A YAML file that parses but is not acceptable (a duplicated key, too deep), with its place."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (data only: no tags, no code) that refuses duplicated keys, deep nesting,
    recursive aliases and alias expansion beyond :data:`MAX_ALIAS_NODES` nodes.

    PyYAML keeps the last of two equal keys silently; in a scenario that hides a typo-level
    mistake (two ``run:`` sections, the first ignored), so it is an error naming both lines.
    Aliases are counted while the file is composed, before any value is built: each use of an
    alias adds the expanded size of the node it refers to.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0  # nodes composed so far, aliases counted at their expanded size
        self._alias_nodes = 0  # of which added by aliases
        self._size: dict[yaml.Node, int] = {}  # expanded size of each anchored node
        self._open: set[str] = set()  # anchors of nodes being composed (an alias to one is recursive)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self._open:
                raise _FileProblem(problem=f"alias *{event.anchor[:EXCERPT_CHARS]} refers to a value that "
                                   "contains it (a recursive structure); expected plain data",
                                   problem_mark=event.start_mark)
            node = super().compose_node(parent, index)
            size = self._size.get(node, 1)
            self._nodes += size
            self._alias_nodes += size
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise _FileProblem(problem=f"aliases (*name) expand to more than {MAX_ALIAS_NODES:,} values; "
                                   "expected plain data with few aliases (write the values out)",
                                   problem_mark=event.start_mark)
            return node
        self._depth += 1
        anchor = self.peek_event().anchor
        if anchor is not None:
            self._open.add(anchor)
        before = self._nodes
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _FileProblem(problem=f"nested deeper than {MAX_YAML_DEPTH} levels",
                                   problem_mark=self.peek_event().start_mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)
        self._nodes += 1
        if anchor is not None:
            self._size[node] = self._nodes - before
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` may override on purpose
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first_line.get(key)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if earlier is not None:
                    raise _FileProblem(problem=f"key {excerpt(key)} appears twice (first at line {earlier}); "
                                       "remove one (YAML would silently keep the last)",
                                       problem_mark=key_node.start_mark)
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: Path, error: type[Exception] = ScenarioError) -> dict[str, Any]:
    """Read a YAML file safely (:func:`read_yaml`) and check it is a non-empty mapping.

    Raises:
        error: As :func:`read_yaml`, or empty, or not a mapping; the message names the file and
            what was expected.
    """
    data = read_yaml(path, error)
    if data is None:
        raise error(f"{path}: the file has no keys (empty or only comments); expected a mapping of keys "
                    "such as 'extends: suizhou_baseline'")
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def read_yaml(path: Path, error: type[Exception] = ScenarioError) -> Any:
    """Read a YAML file safely: the data it holds (None for an empty file).

    Data only (``yaml.SafeLoader``: no tags, no code); UTF-8 text of at most
    :data:`MAX_YAML_BYTES`; no key twice in one mapping; nesting at most :data:`MAX_YAML_DEPTH`;
    aliases adding at most :data:`MAX_ALIAS_NODES` values, none recursive.

    Raises:
        error: Unreadable, binary, non-UTF-8, too large, or malformed (with line and column); the
            message names the file and what was expected.
    """
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise error(f"{path}: {size} bytes; expected a YAML text file of at most {MAX_YAML_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read the file ({e.strerror})") from None
    if b"\0" in raw:
        raise error(f"{path}: a binary file (it contains NUL bytes); expected YAML text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise error(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at line {line}); "
                    "expected YAML saved as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _FileProblem as e:
        mark = e.problem_mark
        raise error(f"{path}: line {mark.line + 1}, column {mark.column + 1}: {e.problem}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"{path}: malformed YAML{where}: {getattr(e, 'problem', e)}") from None
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
        raise ScenarioError(f"{path}: key 'extends': expected a file name, got {excerpt(parent)}")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        try:
            parent_path = resolve_scenario_path(parent)
        except ScenarioError:
            raise ScenarioError(f"{path}: key 'extends': parent file {excerpt(parent)} not found "
                                f"(looked in {path.parent})") from None
    base, base_origin = load_scenario_data(parent_path, (*_seen, path))
    return _merge(base, data), {**base_origin, **origin}


def apply_overrides(data: dict, overrides: list[str] | None, source: str = "--set") -> dict:
    """Apply ``key.path=value`` overrides; values are parsed as YAML scalars."""
    out = _merge({}, data)
    for item in overrides or []:
        if "=" not in item:
            raise ScenarioError(f"{source} {excerpt(item)}: expected key.path=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.load(raw, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
        except _FileProblem as e:
            raise ScenarioError(f"{source} {key.strip()}: {e.problem}") from None
        except yaml.YAMLError:
            raise ScenarioError(f"{source} {excerpt(item)}: value is not valid YAML") from None
        node = out
        parts = key.strip().split(".")
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif not isinstance(nxt, dict):
                raise ScenarioError(f"{source} {excerpt(item)}: {'.'.join(parts[: i + 1])} is not a mapping")
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
        raise ScenarioError(f"{where}: key 'city.preset': unknown preset {excerpt(city['preset'])}; "
                            f"expected one of {sorted(PRESETS)}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        lines = []
        for key, problem, own in scenario_problems(e):
            where = origin.get(key.split(".", 1)[0], label) if key else label
            for k in set_keys or []:
                if key == k or key.startswith(k + ".") or (key and k.startswith(key + ".")):
                    where = f"--set {k}"
            if own:  # our own checks: the message names the key
                where = next((f"--set {k}" for k in set_keys or [] if k in problem), where)
            lines.append(f"{where}: key '{key}': {problem}" if key else f"{where}: {problem}")
        if len(lines) == 1:  # one line: file, key, what was expected
            raise ScenarioError(lines[0]) from None
        raise ScenarioError(f"invalid scenario ({len(lines)} problems):\n  " + "\n  ".join(lines)) from None


def scenario_problems(error: ValidationError) -> list[tuple[str, str, bool]]:
    """Each problem of a failed validation: its dotted key, what was expected, and whether the
    message is one of our own checks (which names its keys itself; its key may be '').

    An input is quoted as a short excerpt only (:func:`sim.params.excerpt`).
    """
    out = []
    for err in error.errors():
        key = ".".join(str(x) for x in err["loc"])
        if err["type"] == "value_error":
            out.append((key, err["msg"].removeprefix("Value error, "), True))
            continue
        got = "" if err["type"] == "missing" else f" (got {excerpt(err.get('input'))})"
        out.append((key or "(top level)", _expected(err) + got, False))
    return out


def _expected(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see `pingan validate --help`)"
    if kind == "missing":
        return "required key is missing"
    msg = err["msg"].removeprefix("Input should be ")
    return "expected " + msg[0].lower() + msg[1:] if msg else kind
