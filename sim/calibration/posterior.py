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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.targets import CalibrationFileError, prior_overrides
from sim.rng import event_uniform
from sim.scenario.loader import apply_overrides
from sim.scenario.schema import Scenario

__all__ = ["Posterior", "load_posterior", "with_parameters"]


def with_parameters(scenario: Scenario, values: dict[str, float], extra: Sequence[str] = ()) -> Scenario:
    """The scenario with parameters (by key, see :class:`sim.calibration.Prior`) set to ``values``.

    ``extra`` holds further ``key.path=value`` overrides, applied after the parameters
    (e.g. an intervention switched off).
    """
    if not values and not extra:
        return scenario
    overrides = prior_overrides(scenario, values) + list(extra)
    data = apply_overrides(json.loads(scenario.model_dump_json()), overrides)
    return Scenario.model_validate_json(json.dumps(data))


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
        """Raise CalibrationFileError naming the file and column if a key does not exist in ``scenario``."""
        for key in self.keys:
            try:
                prior_overrides(scenario, {key: float(self.values[0, self.keys.index(key)])})
            except KeyError as e:
                raise CalibrationFileError(f"{self.source}: column {key!r}: not a parameter of scenario "
                                           f"{scenario.name!r}: {e.args[0]}") from None

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.values, columns=list(self.keys))
        df.insert(0, "weight", self.weights)
        df.insert(0, "particle", np.arange(len(df)))
        return df

    def save(self, path: str | Path) -> None:
        self.frame().to_csv(path, index=False, float_format="%.10g")


def load_posterior(path: str | Path) -> Posterior:
    """Read a posterior file (see the module docstring).

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
                                       f"got {df[col].iloc[bad[0]]!r}")
    w = df["weight"].to_numpy(dtype=float)
    if (w < 0).any() or w.sum() <= 0:
        raise CalibrationFileError(f"{path}: column 'weight': expected non-negative weights with a positive sum")
    return Posterior(tuple(keys), df[keys].to_numpy(dtype=float), w / w.sum(), str(path))
