"""A calibrated posterior as a file any scenario run can draw its parameters from.

``posterior.csv`` has a ``weight`` column, an optional ``particle`` column, and one column per
estimated parameter, named by its scenario key (``crime.camera_deterrence``,
``calls.report_prob.theft``, ``disputes.escalation_per_day[1]``). ``pingan run SCENARIO
--posterior FILE`` gives replicate ``r`` of a batch seeded ``S`` the parameter set drawn by
:meth:`Posterior.draw`, which depends on ``S`` and ``r`` only: the replicates differ, a rerun
draws the same sets, and every scenario of a comparison gets the same set in the same
replicate (common random numbers extend to the parameters).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from sim.calibration.targets import CalibrationFileError, parameter_fields, parameter_value, prior_overrides
from sim.csv_output import write_csv
from sim.experiments.store import model_version
from sim.params import excerpt
from sim.rng import event_uniform
from sim.scenario.loader import ScenarioError, apply_overrides, scenario_problems
from sim.scenario.schema import Scenario

__all__ = ["calibrated_model_version", "Posterior", "load_posterior", "with_parameters"]

log = logging.getLogger("pingan")


def with_parameters(scenario: Scenario, values: dict[str, float], extra: Sequence[str] = ()) -> Scenario:
    """The scenario with parameters (by key, see :class:`sim.calibration.Prior`) set to ``values``.

    A whole-number parameter (a count such as ``interventions.video.cameras``) takes a value
    with no fractional part as that integer (a CSV column of numbers reads as floats).
    ``extra`` holds further ``key.path=value`` overrides, applied after the parameters
    (e.g. an intervention switched off).

    Raises:
        ScenarioError: A value is not a whole number where one is expected.
        KeyError: A key does not exist.
        pydantic.ValidationError: The scenario with these values is invalid
            (:meth:`Posterior.check` says which row and column).
    """
    if not values and not extra:
        return scenario
    values = {k: _typed(scenario, k, v) for k, v in values.items()}
    if extra:
        overrides = prior_overrides(scenario, values) + list(extra)
        data = apply_overrides(json.loads(scenario.model_dump_json()), overrides)
        return Scenario.model_validate_json(json.dumps(data))
    # Only the top-level sections that hold a parameter are rebuilt and validated; the others are
    # passed as the validated models they are (pydantic keeps model instances without revalidating
    # them), and the scenario's own checks run on the whole. Same result as going through --set.
    sections: dict[str, dict] = {}
    for field, value in parameter_fields(scenario, values).items():
        top, *path = field.split(".")
        if not path:
            sections[top] = value
            continue
        node = sections.setdefault(top, getattr(scenario, top).model_dump())
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
    data = {name: sections.get(name, getattr(scenario, name)) for name in type(scenario).model_fields}
    return Scenario.model_validate(data)


def _typed(scenario: Scenario, key: str, value: float) -> float | int:
    """``value`` as the parameter's type: an integer for a whole-number parameter."""
    current = parameter_value(scenario, key)
    if isinstance(current, int) and not isinstance(current, bool):
        if not float(value).is_integer():
            raise ScenarioError(f"key {key!r}: expected a whole number, got {excerpt(value)}")
        return int(value)
    return value


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets.

    Attributes:
        keys: Parameter keys (scenario key paths).
        values: Particles × keys.
        weights: Normalised weights, one per particle.
        source: Where it was read from (for messages).
    """

    keys: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    source: str = "posterior"

    def draw(self, seed: int, replicate: int) -> dict[str, float]:
        """The parameter set of replicate ``replicate`` in a batch seeded ``seed``."""
        u = event_uniform(seed, "posterior.draw", replicate)
        cw = np.cumsum(self.weights)
        i = min(int(np.searchsorted(cw, u * cw[-1], side="right")), len(cw) - 1)
        return {k: float(v) for k, v in zip(self.keys, self.values[i], strict=True)}

    def check(self, scenario: Scenario) -> None:
        """Check that every particle gives a valid scenario: every column names a number-valued
        parameter of ``scenario``, and every row, applied to it, validates.

        Every row is checked, not only those a batch draws: a posterior is one object, and a
        row that cannot run is a wrong file, whichever seed would have drawn it.

        Raises:
            CalibrationFileError: Naming the file, the row (its line in the file) and the column.
        """
        for key in self.keys:
            try:
                current = parameter_value(scenario, key)
            except KeyError as e:
                raise CalibrationFileError(f"{self.source}: column {excerpt(key)}: not a parameter of scenario "
                                           f"{scenario.name!r}: {e.args[0]}") from None
            if not isinstance(current, int | float) or isinstance(current, bool):
                raise CalibrationFileError(f"{self.source}: column {excerpt(key)}: expected a number-valued "
                                           f"parameter of scenario {scenario.name!r}, but it holds "
                                           f"{_kind_of(current)}")
            if isinstance(current, int):  # a count: every value must be a whole number
                column = self.values[:, self.keys.index(key)]
                bad = np.flatnonzero(column != np.round(column))
                if len(bad):
                    raise CalibrationFileError(f"{self.source}: row {bad[0] + 2}, column {key!r}: expected a whole "
                                               f"number (the parameter counts things), got {column[bad[0]]:g}")
        checked: set[tuple[float, ...]] = set()
        for i, row in enumerate(self.values):
            if tuple(row) in checked:
                continue
            values = {k: float(v) for k, v in zip(self.keys, row, strict=True)}
            try:
                with_parameters(scenario, values)
            except ValidationError as e:
                raise CalibrationFileError(f"{self.source}: row {i + 2}: {self._problem(e)} in scenario "
                                           f"{scenario.name!r}") from None
            checked.add(tuple(row))

    def _problem(self, error: ValidationError) -> str:
        """The first problem of a row's validation, by the posterior column it comes from."""
        key, problem, own = scenario_problems(error)[0]
        columns = {k.replace("[", ".").replace("]", ""): k for k in self.keys}  # a[1] -> a.1, as pydantic's path
        column = columns.get(key) or next((c for p, c in columns.items() if p.startswith(key + ".")), None)
        if column is None and own:
            column = next((c for c in self.keys if c in problem), None)
        if column is not None:
            return f"column {column!r}: {problem}"
        return f"key {key!r}: {problem}" if key else problem

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.values, columns=list(self.keys))
        df.insert(0, "weight", self.weights)
        df.insert(0, "particle", np.arange(len(df)))
        return df

    def save(self, path: str | Path) -> None:
        write_csv(self.frame(), path, float_format="%.10g")


def load_posterior(path: str | Path) -> Posterior:
    """Read a posterior file (see the module docstring); warn (log) when the calibration beside it (its
    ``config.json``) ran on another version of the model's code (:func:`calibrated_model_version`).

    Raises:
        CalibrationFileError: Naming the file and the column or row that is wrong.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise CalibrationFileError(f"{path}: cannot read the posterior file ({e})") from None
    if "weight" not in df.columns:
        raise CalibrationFileError(f"{path}: column 'weight': missing (expected weight and one column per parameter)")
    keys = [c for c in df.columns if c not in ("weight", "particle")]
    if not keys:
        raise CalibrationFileError(f"{path}: no parameter columns (expected columns named by scenario keys)")
    if df.empty:
        raise CalibrationFileError(f"{path}: no particles")
    for col in ["weight", *keys]:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            raise CalibrationFileError(f"{path}: column {col!r}, row {bad[0] + 2}: expected a finite number, "
                                       f"got {excerpt(_plain(df[col].iloc[bad[0]]))}")
    w = df["weight"].to_numpy(dtype=float)
    if (w < 0).any():
        row = int(np.flatnonzero(w < 0)[0]) + 2
        raise CalibrationFileError(f"{path}: column 'weight', row {row}: expected a non-negative weight, "
                                   f"got {w[row - 2]:g}")
    if w.sum() <= 0:
        raise CalibrationFileError(f"{path}: column 'weight': every weight is 0; expected a positive sum")
    calibrated = calibrated_model_version(path)
    if calibrated is not None and calibrated != model_version():
        log.warning(f"{path}: calibrated on model version {calibrated}, but this model is {model_version()}: the "
                    "model's code changed since, so its parameters were fitted to another model (recalibrate to "
                    "fit this one)")
    return Posterior(tuple(keys), df[keys].to_numpy(dtype=float), w / w.sum(), str(path))


def calibrated_model_version(path: str | Path) -> str | None:
    """The model version the calibration beside a posterior file ran on (its ``config.json``), or None
    when the file has no calibration beside it or it names none."""
    config = Path(path).with_name("config.json")
    try:
        version = json.loads(config.read_text(encoding="utf-8")).get("model_version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def _kind_of(value: object) -> str:
    """What a non-numeric scenario value is, for an error message."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, BaseModel | dict):
        return "a section of parameters: name one inside it (e.g. crime.displacement_prob)"
    if isinstance(value, list):
        return "a list: name one element (e.g. disputes.escalation_per_day[1])"
    return type(value).__name__


def _plain(value: object) -> object:
    """A numpy scalar as the Python number it holds (``nan``, not ``np.float64(nan)``)."""
    return value.item() if isinstance(value, np.generic) else value
