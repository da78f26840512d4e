"""Calibration targets (reported outcomes) and priors (the parameters estimated against them).

The targets table (``calibration/targets.csv``) has one row per outcome reported in the
seeds that the model can produce: the city, the period, the metric of ``metrics.csv`` it is
compared with, the value, its kind (``level``, ``rate`` or ``yoy_change``), an acceptance
half-width, the scenario that reproduces the situation, and the source file with the figure
exactly as printed there. The priors file (``calibration/priors.yaml``) lists the behavioural
parameters to estimate, each with a range, a default, a scale and a justification.

Both files are validated here once, with errors that name the file, the row and the column
(or the prior and its key), the way scenario files are. Conventions (units, signs, bounds,
scales) are documented in ``calibration/README.md``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

from sim._data import data_file
from sim.experiments.sweep import format_value
from sim.metrics import CORE_METRICS, METRICS
from sim.scenario.loader import (
    ScenarioError,
    apply_overrides,
    builtin_scenarios,
    load_scenario,
    load_scenario_data,
    read_yaml,
    resolve_scenario_path,
    validate_scenario,
)
from sim.scenario.schema import RunParams, Scenario
from sim.space.presets import PRESETS

__all__ = [
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "KINDS",
    "RESCALABLE_LEVELS",
    "MIN_SCALE",
    "RARE_CHANGE_MIN_SCALE",
    "SCENARIO_MIN_SCALE",
    "CalibrationFileError",
    "default_input",
    "Prior",
    "model_metrics",
    "load_targets",
    "check_sources",
    "compared_years",
    "min_scale",
    "load_priors",
    "parameter_value",
    "parameter_fields",
    "prior_overrides",
]

#: Columns of the targets table, in order.
COLUMNS: tuple[str, ...] = ("target_id", "city", "period", "metric", "value", "kind", "tolerance", "scenario",
                            "source_file", "figure_as_printed", "note")
#: Optional columns: ``fitted_by_hand`` names the scenario constant that was chosen to match the
#: target (empty if none); such a target is still fitted but left out of the scores' headline counts.
OPTIONAL_COLUMNS: tuple[str, ...] = ("fitted_by_hand",)
#: Kinds of target: a count, a share (``*_rate`` as a fraction, ``*_pct`` in percent), or a year-on-year
#: change in percent.
KINDS: tuple[str, ...] = ("level", "rate", "yoy_change")
#: Metrics whose whole-city levels may be compared as simulated level / scale, with the smallest scale
#: at which that holds. Calls and preventable cases: per-100 000 rates agree from 0.1 (tests/test_city.py).
#: Tickets, disputes found, mediated and resolved by police: level / scale within 2 % of full scale at 0.1
#: in every scenario that produces them (benchmarks/calibration_scale.py, 3 seeds; tests/test_calibration_scale.py).
#: Crime levels (serious violent, homicides, cases cleared) are not: 8–35 % off below full scale.
RESCALABLE_LEVELS: dict[str, float] = {
    "preventable_cases": 0.1, "calls_for_service": 0.1, "tickets_received": 0.1, "disputes_found": 0.1,
    "disputes_mediated": 0.1, "disputes_resolved_by_police": 0.1,
}
#: Smallest scale at which rates and changes are compared (README: below it county fleets get patchy).
MIN_SCALE = 0.1
#: Metrics so rare that their year-on-year change is mostly noise below this scale: at 0.1 one run's change
#: in Daqing's serious violent crime has a standard deviation of 60 points, at 0.25 of 8 (calibration_scale.py).
RARE_CHANGE_MIN_SCALE: dict[str, float] = {"serious_violent": 0.25, "homicides": 0.25}
#: Scenarios that need a larger scale for every target. Empty: Daqing's home visits move whole patrol units,
#: but its change in effective incidents agrees at 0.1 (−0.2 tolerances from full scale, calibration_scale.py).
SCENARIO_MIN_SCALE: dict[str, float] = {}

_PERIOD = re.compile(r"^(\d{4})(?:\s*[–-]\s*(\d{4}))?$")
_BOUND = re.compile(r"^\s*(lower|upper) bound\b", re.IGNORECASE)
_QUOTE = re.compile(r"「([^」]+)」")
# Printed figures that are bounds by their wording: 以上 "and above", 多 "and more".
_LOWER_BOUND_WORDS = ("以上", "多")


def default_input(name: str) -> Path:
    """A calibration input by file name (``targets.csv``, ``priors.yaml``): ``calibration/NAME``
    of the working folder if it has one (the repository), else the copy shipped in the package.

    Relative in the first case, so a calibration's ``config.json`` reads the same on every machine.
    """
    local = Path("calibration") / name
    return local if local.is_file() else data_file("calibration", name)


class CalibrationFileError(ValueError):
    """A targets or priors file is wrong. The message names the file, the row and the column."""


# ---------------------------------------------------------------------------------------- targets


@cache
def model_metrics() -> frozenset[str]:
    """Every column the model writes to ``metrics.csv`` whatever the scenario: the core metrics
    declared in :mod:`sim.metrics` (the governance-ticket metrics among them)."""
    return frozenset(CORE_METRICS)


@cache
def _scenario(name: str) -> Scenario:
    return load_scenario(name)


def compared_years(period: str, kind: str, run: RunParams) -> tuple[list[int], int | None]:
    """The simulated years a target is compared in.

    Args:
        period: ``"2021"`` or a range ``"2016–2020"`` (en dash or hyphen), as in the table.
        kind: ``level``, ``rate`` or ``yoy_change``.
        run: The scenario's run parameters.

    Returns:
        ``(years, base_year)``. A level or rate is the mean over ``years`` (``base_year`` is None): the
        period's year, or the scenario's years from its intervention year on that fall in the range. A
        year-on-year change compares ``years[0]`` with ``base_year``: the period's year against the year
        before, or, for a range (a multi-year report that does not date the change), the scenario's
        intervention year against the year before.

    Raises:
        ValueError: The period is malformed or the scenario's run does not cover it.
    """
    m = _PERIOD.match(period.strip())
    if not m:
        raise ValueError(f"period {period!r}: expected a year (2021) or a range (2016–2020)")
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if last < first:
        raise ValueError(f"period {period!r}: the range ends before it starts")
    labels = run.year_labels
    start = run.start_year_of_interventions
    if kind == "yoy_change":
        year = first if first == last else start
        if not first <= year <= last:
            raise ValueError(f"period {period!r}: the scenario's intervention year {start} is outside it")
        if year not in labels or year - 1 not in labels:
            raise ValueError(f"period {period!r}: a change in {year} needs {year - 1} and {year} in the "
                             f"scenario's run ({labels[0]}–{labels[-1]})")
        return [year], year - 1
    if first == last:
        if first not in labels:
            raise ValueError(f"period {period!r}: not in the scenario's run ({labels[0]}–{labels[-1]})")
        return [first], None
    years = [y for y in labels if first <= y <= last and y >= start]
    if not years:
        raise ValueError(f"period {period!r}: no counted year of the scenario from its intervention year "
                         f"{start} falls in it ({labels[0]}–{labels[-1]})")
    return years, None


def min_scale(metric: str, kind: str, scenario: str) -> float:
    """Smallest scale at which a target may be compared.

    A whole-city level is compared at full scale (1.0) unless level / scale is shown to hold
    across scales (:data:`RESCALABLE_LEVELS`); the change of a rare count from
    :data:`RARE_CHANGE_MIN_SCALE`; other rates and changes from :data:`MIN_SCALE`; never below
    the scenario's own minimum (:data:`SCENARIO_MIN_SCALE`).
    """
    floor = SCENARIO_MIN_SCALE.get(scenario, MIN_SCALE)
    if kind == "level":
        return max(floor, RESCALABLE_LEVELS[metric]) if metric in RESCALABLE_LEVELS else 1.0
    if kind == "yoy_change":
        return max(floor, RARE_CHANGE_MIN_SCALE.get(metric, MIN_SCALE))
    return max(floor, MIN_SCALE)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError
    return value


def load_targets(path: str | Path) -> pd.DataFrame:
    """Read and validate a targets table.

    Args:
        path: The CSV file (UTF-8, a header row with exactly :data:`COLUMNS`).

    Returns:
        One row per target with the file's columns (``value`` and ``tolerance`` as floats) and four
        derived ones: ``bound`` (``"lower"`` or ``"upper"`` when the note starts with "Lower bound" or
        "Upper bound", else ``""``), ``min_scale`` (see :func:`min_scale`), and ``years`` and
        ``base_year`` (see :func:`compared_years`; ``base_year`` is None except for changes).

    Raises:
        CalibrationFileError: Naming the file, the line and the column of every problem found.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise CalibrationFileError(f"{path}: cannot read the targets table ({e})") from None
    cols = list(df.columns)
    missing = [c for c in COLUMNS if c not in cols]
    extra = [c for c in cols if c not in COLUMNS and c not in OPTIONAL_COLUMNS]
    if missing or extra:
        parts = [f"missing column(s) {missing}" if missing else "", f"unknown column(s) {extra}" if extra else ""]
        raise CalibrationFileError(f"{path}: {'; '.join(p for p in parts if p)}; expected {list(COLUMNS)}"
                                  f" and optionally {list(OPTIONAL_COLUMNS)}")
    if df.empty:
        raise CalibrationFileError(f"{path}: the targets table has no rows")
    for column in OPTIONAL_COLUMNS:
        if column not in df:
            df[column] = ""

    errors: list[str] = []
    metrics = model_metrics()
    scenarios = builtin_scenarios()
    seen: dict[str, int] = {}
    values, tolerances, bounds, scales, years, base_years = [], [], [], [], [], []
    for i, row in enumerate(df.to_dict("records")):
        line = i + 2  # the header is line 1
        tid = row["target_id"].strip()

        def bad(column: str, message: str, line=line, tid=tid) -> None:
            errors.append(f"{path}: line {line} (target {tid or '?'}), column '{column}': {message}")

        for column in COLUMNS:
            if column != "note" and not row[column].strip():
                bad(column, "empty")
        if tid in seen:
            bad("target_id", f"duplicate of line {seen[tid]}")
        seen.setdefault(tid, line)
        if row["city"] and row["city"] not in PRESETS:
            bad("city", f"unknown city {row['city']!r}; expected one of {sorted(PRESETS)}")
        metric, kind = row["metric"], row["kind"]
        if metric and metric not in metrics:
            bad("metric", f"{metric!r} is not a column of metrics.csv (see sim.metrics.CORE_METRICS)")
        if kind and kind not in KINDS:
            bad("kind", f"{kind!r}; expected one of {list(KINDS)}")
        elif kind == "rate" and metric in metrics and not METRICS[metric].is_rate:
            bad("kind", f"'rate' needs a rate metric (a share or a percentage), not {metric!r} "
                        f"[{METRICS[metric].unit}]")
        elif kind == "level" and metric in metrics and METRICS[metric].is_rate:
            bad("kind", f"{metric!r} is a rate: use kind 'rate'")
        value = tolerance = math.nan
        try:
            value = _number(row["value"])
        except ValueError:
            if row["value"]:
                bad("value", f"{row['value']!r} is not a finite number")
        try:
            tolerance = _number(row["tolerance"])
            if tolerance < 0:
                bad("tolerance", f"{tolerance} is negative")
        except ValueError:
            if row["tolerance"]:
                bad("tolerance", f"{row['tolerance']!r} is not a finite number")
        if math.isfinite(value):
            if kind == "level" and value < 0:
                bad("value", f"a level cannot be negative ({value})")
            if kind == "rate" and metric in metrics and METRICS[metric].is_rate:
                top = METRICS[metric].rate_top
                if not 0 <= value <= top:
                    unit = "percent" if top == 100 else "a fraction"
                    bad("value", f"{metric} is {unit}: expected 0–{top:g}, got {value:g}")
            if kind == "yoy_change" and value < -100:
                bad("value", f"a change below -100 % is impossible ({value:g})")
        m = _BOUND.match(row["note"])
        bound = m.group(1).lower() if m else ""
        figure = row["figure_as_printed"]
        if any(w in figure for w in _LOWER_BOUND_WORDS) and bound != "lower":
            bad("note", f"the figure {figure!r} is a lower bound (以上/多): start the note with 'Lower bound'")
        src = row["source_file"]
        if src and (Path(src).name != src or not src.endswith(".txt")):
            bad("source_file", f"{src!r}: expected the name of a seed file (e.g. 003_d0d6d615d3c4e2fc.txt)")
        name = row["scenario"]
        scen_years: tuple[int, ...] = ()
        base_year: int | None = None
        if name and name not in scenarios:
            bad("scenario", f"no scenario {name!r} in scenarios/ (have: {', '.join(sorted(scenarios))})")
        elif name:
            try:
                scen = _scenario(name)
            except ScenarioError as e:
                bad("scenario", f"{name!r} does not load: {e}")
            else:
                if row["city"] and scen.city.preset != row["city"]:
                    bad("scenario", f"{name!r} is a {scen.city.preset} city, the row says {row['city']!r}")
                if kind in KINDS and row["period"]:
                    try:
                        ys, base_year = compared_years(row["period"], kind, scen.run)
                        scen_years = tuple(ys)
                    except ValueError as e:
                        bad("period", str(e))
        values.append(value)
        tolerances.append(tolerance)
        bounds.append(bound)
        scales.append(min_scale(metric, kind, name))
        years.append(scen_years)
        base_years.append(base_year)
    if errors:
        raise CalibrationFileError("invalid targets table:\n  " + "\n  ".join(errors))
    df = df.copy()
    df["value"] = values
    df["tolerance"] = tolerances
    df["bound"] = bounds
    df["min_scale"] = scales
    df["years"] = years
    df["base_year"] = pd.Series(base_years, index=df.index, dtype=object)
    return df


def check_sources(targets: pd.DataFrame, seeds_dir: str | Path) -> None:
    """Check every target against its source text.

    The source file must exist in ``seeds_dir`` and contain the row's ``figure_as_printed`` and
    every passage quoted in the note between 「 and 」, character for character.

    Args:
        targets: A table from :func:`load_targets`.
        seeds_dir: The folder of seed files (``../shared/seeds`` beside the repository).

    Raises:
        CalibrationFileError: Listing every row whose figure or quotation is not in its source.
    """
    seeds_dir = Path(seeds_dir)
    texts: dict[str, str | None] = {}
    errors = []
    for row in targets.to_dict("records"):
        name = row["source_file"]
        if name not in texts:
            file = seeds_dir / name
            texts[name] = file.read_text(encoding="utf-8") if file.is_file() else None
        text = texts[name]
        tid = row["target_id"]
        if text is None:
            errors.append(f"target {tid}: source file {name!r} not found in {seeds_dir}")
            continue
        if row["figure_as_printed"] not in text:
            errors.append(f"target {tid}: figure {row['figure_as_printed']!r} does not occur in {name}")
        for quote in _QUOTE.findall(row["note"]):
            if quote not in text:
                errors.append(f"target {tid}: quoted passage 「{quote}」 does not occur in {name}")
    if errors:
        raise CalibrationFileError("targets not found in their sources:\n  " + "\n  ".join(errors))


# ----------------------------------------------------------------------------------------- priors


@dataclass(frozen=True)
class Prior:
    """One estimated parameter.

    Attributes:
        key: Scenario key path: ``crime.camera_deterrence``, ``calls.report_prob.theft`` (a mapping's
            entry) or ``disputes.escalation_per_day[1]`` (a list's element).
        low: Lower end of the prior's support.
        high: Upper end.
        default: The model's documented default, inside ``(low, high)``.
        scale: ``linear`` (uniform on ``[low, high]``) or ``log`` (uniform in log).
        justification: A published study, or "assumed" and why.
    """

    key: str
    low: float
    high: float
    default: float
    scale: Literal["linear", "log"]
    justification: str

    def from_unit(self, u: float) -> float:
        """The value at quantile ``u`` in [0, 1] of the prior."""
        if self.scale == "log":
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


_PRIOR_FIELDS = ("key", "low", "high", "default", "scale", "justification")
_KEY_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def _plain(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump()
    if isinstance(obj, list):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def _resolve(scenario: BaseModel, key: str) -> tuple[str, list[str | int], Any]:
    """Split ``key`` into the scenario field that holds it, the path inside that field's value, and the value.

    Raises:
        KeyError: With a message naming the part of the key that does not exist.
    """
    parts = key.split(".")
    obj: Any = scenario
    field: list[str] = []
    inner: list[str | int] = []
    plain = False  # inside a mapping or a list, whose entries are rewritten as a whole field
    for n, part in enumerate(parts):
        m = _KEY_PART.match(part)
        if not m:
            raise KeyError(f"{key!r}: malformed part {part!r} (expected name or name[index])")
        name, index = m.group(1), m.group(2)
        where = ".".join(parts[:n + 1])
        if not plain and isinstance(obj, BaseModel):
            if name not in type(obj).model_fields:
                raise KeyError(f"{key!r}: unknown key {where!r}")
            obj = getattr(obj, name)
            field.append(name)
            if isinstance(obj, dict | list) or index is not None:
                plain = True
                obj = _plain(obj)
        else:
            if not isinstance(obj, dict) or name not in obj:
                raise KeyError(f"{key!r}: no entry {where!r}")
            inner.append(name)
            obj = obj[name]
        if index is not None:
            inner.append(int(index))
            obj = _index(obj, int(index), key, where)
    return ".".join(field), inner, obj


def _index(obj: Any, index: int, key: str, where: str) -> Any:
    if not isinstance(obj, list):
        raise KeyError(f"{key!r}: {where!r} is not a list")
    if index >= len(obj):
        raise KeyError(f"{key!r}: {where!r} has {len(obj)} elements")
    return obj[index]


def parameter_value(scenario: Scenario, key: str) -> Any:
    """The value of a parameter key (see :class:`Prior`) in a validated scenario.

    Raises:
        KeyError: The key does not exist.
    """
    return _resolve(scenario, key)[2]


def parameter_fields(scenario: Scenario, values: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario fields that give parameters new values, with the new value of each field.

    A mapping's entry or a list's element cannot be set alone with ``--set`` (the whole mapping or
    list would be replaced), so a key inside one rewrites the whole field, with the other entries
    taken from ``scenario``.

    Args:
        scenario: The validated scenario the values will be applied to.
        values: New values by parameter key.

    Returns:
        ``{dotted field path: value}``, one entry per scenario field touched.

    Raises:
        KeyError: A key does not exist.
    """
    fields: dict[str, Any] = {}
    for key, value in values.items():
        field, inner, _ = _resolve(scenario, key)
        if not inner:
            fields[field] = value
            continue
        if field not in fields:
            fields[field] = copy.deepcopy(_plain(_resolve(scenario, field)[2]))
        node = fields[field]
        for step in inner[:-1]:
            node = node[step]
        node[inner[-1]] = value
    return fields


def prior_overrides(scenario: Scenario, values: Mapping[str, float]) -> list[str]:
    """``--set`` overrides that give parameters new values and leave everything else as it is.

    Args:
        scenario: The validated scenario the overrides will be applied to.
        values: New values by parameter key.

    Returns:
        ``key.path=value`` strings for :func:`sim.load_scenario`, one per scenario field touched
        (see :func:`parameter_fields`).

    Raises:
        KeyError: A key does not exist.
    """
    return [f"{field}={format_value(v)}" for field, v in parameter_fields(scenario, values).items()]


def _read_priors(path: Path) -> list:
    data = read_yaml(path, CalibrationFileError)  # as scenario files: data only, aliases bounded
    if not isinstance(data, list) or not data:
        raise CalibrationFileError(f"{path}: expected a non-empty list of priors, got {type(data).__name__}")
    return data


def load_priors(path: str | Path, scenario: str | Path = "suizhou_2022") -> list[Prior]:
    """Read and validate a priors file.

    Every key must exist in ``scenario`` and hold a real number, and the scenario must validate
    with the key set to ``low``, ``default`` and ``high`` in turn (applied with
    :func:`prior_overrides`), the value landing where the key says.

    Args:
        path: The YAML file: a list of mappings with exactly the fields of :class:`Prior`.
        scenario: A scenario to check the keys against (every scenario has the same keys).

    Returns:
        The priors, in file order.

    Raises:
        CalibrationFileError: Naming the file, the prior (position and key) and the problem.
    """
    path = Path(path)
    entries = _read_priors(path)
    base = load_scenario(scenario)
    data, origin = load_scenario_data(scenario)
    data["name"] = base.name
    label = str(resolve_scenario_path(scenario).resolve())
    errors: list[str] = []
    priors: list[Prior] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, start=1):
        key = entry.get("key") if isinstance(entry, dict) else None
        who = f"{path}: prior {i}" + (f" ({key})" if isinstance(key, str) else "")
        if not isinstance(entry, dict):
            errors.append(f"{who}: expected a mapping with {list(_PRIOR_FIELDS)}")
            continue
        missing = [f for f in _PRIOR_FIELDS if f not in entry]
        extra = [f for f in entry if f not in _PRIOR_FIELDS]
        if missing or extra:
            errors.append(f"{who}: " + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                                               f"unknown field(s) {extra}" if extra else "") if p))
            continue
        problems = []
        if not isinstance(key, str) or not key:
            problems.append("key: expected a scenario key path")
        nums = {}
        for f in ("low", "default", "high"):
            v = entry[f]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                problems.append(f"{f}: expected a finite number, got {v!r}")
            else:
                nums[f] = float(v)
        if len(nums) == 3 and not nums["low"] < nums["default"] < nums["high"]:
            problems.append(f"expected low < default < high, got {nums['low']:g}, {nums['default']:g}, "
                            f"{nums['high']:g}")
        if entry["scale"] not in ("linear", "log"):
            problems.append(f"scale: expected 'linear' or 'log', got {entry['scale']!r}")
        elif entry["scale"] == "log" and nums.get("low", 1.0) <= 0:
            problems.append(f"scale 'log' needs low > 0, got {nums['low']:g}")
        if not isinstance(entry["justification"], str) or not entry["justification"].strip():
            problems.append("justification: expected a sentence (a published study, or 'assumed' and why)")
        if isinstance(key, str) and key in seen:
            problems.append(f"duplicate of prior {seen[key]}")
        if isinstance(key, str):
            seen.setdefault(key, i)
        if not problems and isinstance(key, str):
            problems += _check_key(base, data, origin, label, key, nums)
        if problems:
            errors += [f"{who}: {p}" for p in problems]
            continue
        priors.append(Prior(key=key, low=nums["low"], high=nums["high"], default=nums["default"],
                            scale=entry["scale"], justification=entry["justification"].strip()))
    if errors:
        raise CalibrationFileError("invalid priors:\n  " + "\n  ".join(errors))
    return priors


def _check_key(base: Scenario, data: dict, origin: dict, label: str, key: str,
               nums: Mapping[str, float]) -> list[str]:
    try:
        current = parameter_value(base, key)
    except KeyError as e:
        return [f"key: {e.args[0]}"]
    if isinstance(current, bool) or not isinstance(current, float):
        return [f"key: {key!r} holds {current!r} ({type(current).__name__}), not a real-valued parameter"]
    problems = []
    for end, value in nums.items():
        overrides = prior_overrides(base, {key: value})
        try:
            scen = validate_scenario(apply_overrides(data, overrides), origin, label,
                                     [o.split("=", 1)[0] for o in overrides])
        except ScenarioError as e:
            problems.append(f"{end}={value:g} is not a valid value: {str(e).splitlines()[-1].strip()}")
            continue
        if parameter_value(scen, key) != value:
            problems.append(f"{end}={value:g} did not land at {key!r}")
    return problems
