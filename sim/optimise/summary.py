"""What a planner reads from a study: the front with intervals, packages in words, robustness.

* **The front**: packages within budget that no other package beats on every chosen objective
  (each scored as the study's ``score``: mean or pessimistic quantile), with 95 % intervals.
* **The city's actual package** (the scenario as written) placed against the front, and the best
  front package costing no more than it: what the same money could have bought instead.
* **Robustness**: for each front package and the first simulated objective, its pessimistic
  quantile over posterior draws and its **regret across draws**: the share of draws in which
  another front package costing no more does better, and the mean shortfall from the best such
  package, draw by draw.

A finished study is also a folder of tables (``front.csv``, ``actual.csv``, ``robustness.csv``,
``packages.csv`` beside ``settings.json``). :class:`StudyTables` holds them, from a run just
finished (:meth:`StudyResult.tables`) or read back from the folder (:func:`read_study`, read-only
and without Optuna, as ``pingan serve`` opens a study); the command line's summary, the HTML
report and the explorer show the same tables through :mod:`sim.presentation`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.csv_output import write_csv
from sim.optimise.evaluate import HIGHER_IS_BETTER, SIMULATED
from sim.optimise.spec import OptimiseSpec

if TYPE_CHECKING:
    from sim.presentation import Sample
    from sim.scenario.schema import Scenario

__all__ = ["StudyTables", "StudyFolderError", "read_study", "is_study_folder", "package_words",
           "kept_interventions", "primary_objective", "facility_name", "non_dominated"]

_NAMES = {"street_police_stations": "street police stations", "rapid_response_points": "rapid-response points",
          "video": "cameras", "hot_spot_patrol": "hot spots on patrol"}
#: Columns of every package table (``packages.csv``, ``front.csv``, ``actual.csv``) beside each objective's.
PACKAGE_COLUMNS = ("package", "contents", "cost_yuan_per_year")
#: Columns of ``robustness.csv``.
ROBUSTNESS_COLUMNS = ("package", "cost_yuan_per_year", "objective", "mean", "pessimistic", "worst_draw",
                      "beaten_share_of_draws", "mean_regret", "draws")
#: Columns of a package table holding a facility's sites (cell indices, space-separated).
SITES_PREFIX = "sites:"


def facility_name(key: str) -> str:
    """A facility's name in words, as the packages' contents name it (``video`` -> ``cameras``)."""
    return _NAMES.get(key, key.replace("_", " "))


def non_dominated(values: np.ndarray, higher: list[bool]) -> np.ndarray:
    """True for rows no other row beats on every column (at least as good, better on one)."""
    v = np.where(np.array(higher)[None, :], values, -values)  # all "higher is better"
    keep = np.ones(len(v), dtype=bool)
    for i in range(len(v)):
        better = (v >= v[i]).all(axis=1) & (v > v[i]).any(axis=1)
        keep[i] = not better.any()
    return keep


def primary_objective(objectives: list[str]) -> str:
    """The first simulated objective: the one robustness and "best at the same cost" refer to."""
    return next(o for o in objectives if o in SIMULATED)


def kept_interventions(scenario: Scenario, levers: dict[str, Any]) -> str:
    """The interventions the scenario has on that no lever changes, in words: they are in every package and its cost."""
    from sim.presentation import describe_intervention

    touched = {key.partition(".")[0] for key in levers}
    start = scenario.run.start_year_of_interventions
    return ", ".join(describe_intervention(key, params, start)
                     for key, params in scenario.enabled_interventions().items() if key not in touched)


def package_words(levers: dict[str, Any], siting: dict[str, str], kept: str = "") -> str:
    """A package's contents in words: "10 street police stations (mclp), 12 000 cameras (villages)...".

    Args:
        levers: The package's lever values.
        siting: Facility -> how its sites were chosen.
        kept: The interventions no lever changes (:func:`kept_interventions`), named after the levers'.
    """
    parts = []
    heads = dict.fromkeys(k.partition(".")[0] for k in levers)
    for head in heads:
        own = {k.partition(".")[2]: v for k, v in levers.items() if k.startswith(head + ".")}
        if own.get("enabled") is False:
            continue
        sizes = {f: v for f, v in own.items() if f not in ("enabled", "siting")}
        if sizes and all(v == 0 for v in sizes.values() if isinstance(v, int | float) and not isinstance(v, bool)) \
                and any(isinstance(v, int | float) and not isinstance(v, bool) for v in sizes.values()):
            continue
        rule = siting.get(head, own.get("siting", ""))
        rule = rule.split(" (")[0] if rule else ""
        name = facility_name(head)
        numbers = [v for f, v in sizes.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        size = f"{numbers[0]:,.0f} ".replace(",", " ") if len(numbers) == 1 else ""
        extra = ", ".join(f"{f} {v:g}" if isinstance(v, float) else f"{f} {v}" for f, v in sizes.items()
                          if len(numbers) != 1 or not isinstance(v, int | float))
        where = f" ({rule})" if rule and rule != "scenario" else (" (the scenario's siting)" if rule else "")
        parts.append(f"{size}{name}{where}" + (f" [{extra}]" if extra else ""))
    words = ", ".join(parts) if parts else ("nothing from the levers" if kept else "nothing")
    return f"{words}; kept as the scenario has them: {kept}" if kept else words


class StudyFolderError(ValueError):
    """A folder that is not a finished optimiser study, or a file of it that cannot be read (named in the message)."""


def is_study_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by ``pingan optimise`` (its settings beside its journal or its front)."""
    folder = Path(path)
    return (folder / "settings.json").is_file() and any((folder / f).is_file() for f in ("study.journal", "front.csv"))


@dataclass
class StudyTables:
    """A study as a planner reads it: its settings and the tables ``pingan optimise`` writes.

    Attributes:
        scenario: The study's scenario (its own package is the city's actual one; its city is mapped).
        budget: Annual budget at full scale [yuan per year].
        spec: The ``optimise:`` settings the study ran with (objectives, draws, replicates, quantile...).
        scale: Fraction of the city simulated.
        seed: The study's base seed.
        posterior: Where the parameters' draws came from, in words.
        packages: Every scored package (``packages.csv``): ``package``, ``contents``,
            ``cost_yuan_per_year``, each objective's mean with ``_lo``/``_hi``/``_pessimistic``,
            ``lever:*``, ``siting:*`` and ``sites:*`` columns.
        front: The Pareto front, cheapest first (``front.csv``), same columns.
        robustness: One row per front package (``robustness.csv``).
        actual: The city's actual package (``actual.csv``; package −1), or None.
        source: The study's folder.
    """

    scenario: Scenario
    budget: float
    spec: OptimiseSpec
    scale: float
    seed: int
    posterior: str
    packages: pd.DataFrame
    front: pd.DataFrame
    robustness: pd.DataFrame
    actual: pd.DataFrame | None = None
    source: Path | None = None

    @property
    def objectives(self) -> list[str]:
        return list(self.spec.objectives)

    @property
    def sample(self) -> Sample:
        """What the counts describe: the simulated share of the city (costs are the whole city's)."""
        from sim.presentation import Sample

        return Sample(self.scale)

    def primary(self) -> str:
        """The first simulated objective: the one robustness and "best at the same cost" refer to."""
        return primary_objective(self.objectives)

    def actual_row(self) -> pd.Series | None:
        """The city's actual package, if the study scored it."""
        return None if self.actual is None or self.actual.empty else self.actual.iloc[0]

    def best_within(self, cost: float) -> pd.Series | None:
        """The front package best on the primary objective (mean) at no more than ``cost`` (the cheaper on a tie)."""
        if self.front.empty:
            return None
        o = self.primary()
        within = self.front[self.front["cost_yuan_per_year"] <= cost * (1 + 1e-9)]
        if within.empty:
            return None
        sign = 1 if HIGHER_IS_BETTER[o] else -1
        order = within.assign(_key=sign * within[o]).sort_values(["_key", "cost_yuan_per_year"],
                                                                 ascending=[False, True], kind="stable")
        return order.drop(columns="_key").iloc[0]

    def against_actual(self) -> tuple[list[dict[str, str]], list[dict[str, str]], pd.Series | None]:
        """What the same money could have bought instead: the rows (:func:`sim.presentation.front_rows`) of the
        city's actual package and of the best front package at no more than its cost, and that package's row
        (empty rows and None where the study has no actual package or no front package costs no more)."""
        from sim.presentation import front_rows

        actual = self.actual_row()
        if actual is None:
            return [], [], None
        best = self.best_within(float(actual["cost_yuan_per_year"]))
        rows = front_rows(best.to_frame().T, self.objectives, self.sample) if best is not None else []
        return front_rows(self.actual, self.objectives, self.sample), rows, best

    def sites(self, row: pd.Series, n_cells: int | None = None) -> dict[str, np.ndarray]:
        """A package's sites (facility -> cells of the simulated city) from its row's ``sites:*`` columns.

        Raises:
            StudyFolderError: A cell that is not a cell of the simulated city (``n_cells`` of them).
        """
        out = {}
        for column in row.index:
            if not str(column).startswith(SITES_PREFIX):
                continue
            value = row[column]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            try:
                cells = np.array([int(float(c)) for c in str(value).split()], dtype=np.int64)
            except ValueError:
                raise StudyFolderError(f"{self.source or 'the study'}: column {column!r} of package "
                                       f"{row['package']}: expected cell numbers, got {value!r}") from None
            if n_cells is not None and len(cells) and (cells.min() < 0 or cells.max() >= n_cells):
                raise StudyFolderError(f"{self.source or 'the study'}: column {column!r} of package {row['package']}: "
                                       f"expected cells 0 to {n_cells - 1} of the simulated city, got {value!r}")
            if len(cells):
                out[str(column)[len(SITES_PREFIX):]] = cells
        return out

    def caption(self) -> str:
        """What the figures of the study's tables are, in one paragraph."""
        spec = self.spec
        return (f"Effects are against the baseline (every intervention off), paired run by run (common random "
                f"numbers: the same posterior draw and seed), in the last counted year: the mean over "
                f"{self._runs()} with its 95 % interval, and the pessimistic quantile over draws (the "
                f"{spec.quantile:g} quantile of a benefit, the {1 - spec.quantile:g} quantile of a harm). Annual "
                f"costs are each package's on the whole city (running cost plus set-up over "
                f"{spec.amortisation_years:g} years). {self.sample.caption(costs=False)}")

    def _runs(self) -> str:
        k, r = self.spec.posterior_draws, self.spec.replicates
        return f"{k} posterior draw{'s' if k != 1 else ''} × {r} replicate{'s' if r != 1 else ''}"

    def meta(self) -> dict[str, str]:
        """What was run, for the top of a report or a page."""
        from sim.presentation import figure

        spec = self.spec
        return {"scenario": self.scenario.name,
                "budget": f"{figure(self.budget / 1e6)} million yuan per year for the whole city (running cost + "
                          f"set-up over {spec.amortisation_years:g} years)",
                "objectives": ", ".join(self.objectives), "search optimises": spec.score,
                "posterior": self.posterior, "draws × replicates": f"{spec.posterior_draws} × {spec.replicates}",
                "scale": f"{self.scale:g} ({self.sample.short})", "seed": str(self.seed),
                "packages scored within budget": str(len(self.packages))}

    def text(self) -> str:
        """The command line's summary: the front, the actual package against it, and robustness."""
        from sim.presentation import figure, front_rows, objective_label, robustness_rows, text_records, text_table

        spec, sample = self.spec, self.sample
        lines = [f"budget {figure(self.budget / 1e6)} million yuan per year for the whole city (running cost + "
                 f"set-up over {spec.amortisation_years:g} years); {len(self.packages)} packages within budget scored "
                 f"over {self._runs()} at scale {self.scale:g}",
                 self.caption(), "", "Pareto front:", text_records(front_rows(self.front, self.objectives, sample))]
        actual, instead, best = self.against_actual()
        if actual:
            lines += ["", "the city's actual package:", text_records(actual)]
        if best is not None:
            lines += [f"what the same money could have bought instead: the best front package at no more than its "
                      f"cost (package {int(best['package'])}):", text_records(instead)]
            lines += [f"    sites of {facility_name(key)} (cells of the simulated city): {' '.join(map(str, cells))}"
                      for key, cells in self.sites(best).items()]
        if len(self.robustness):
            lines += ["", f"robustness across posterior draws ({objective_label(self.primary(), sample)}): beaten in = "
                      "share of draws in which another front package costing no more does better; regret = the mean "
                      "shortfall from the best such package (pessimistic, worst draw and regret in the mean's units)",
                      text_table(robustness_rows(self.robustness, self.front, sample))]
        return "\n".join(lines)

    def write(self, out: str | Path) -> None:
        """``packages.csv``, ``front.csv``, ``robustness.csv`` and ``actual.csv`` in ``out``."""
        out = Path(out)
        write_csv(self.packages, out / "packages.csv", float_format="%.10g")
        write_csv(self.front, out / "front.csv", float_format="%.10g")
        write_csv(self.robustness, out / "robustness.csv", float_format="%.10g")
        if self.actual is not None:
            write_csv(self.actual, out / "actual.csv", float_format="%.10g")


def _settings_error(path: Path, key: str, expected: str, got: object) -> StudyFolderError:
    return StudyFolderError(f"{path}: key {key!r}: expected {expected}, got {got!r}")


def _read_table(path: Path, columns: list[str], required: bool = True) -> pd.DataFrame | None:
    """A table of the study's folder with ``columns`` (numbers where the optimiser writes numbers)."""
    if not path.is_file():
        if required:
            raise StudyFolderError(f"{path}: missing; pingan optimise writes it when the study ends (run the same "
                                   "command again: it resumes the study and writes the tables)")
        return None
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=columns)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise StudyFolderError(f"{path}: not a readable CSV ({e})") from None
    if table.empty:
        return table.reindex(columns=list(dict.fromkeys([*columns, *table.columns])))
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise StudyFolderError(f"{path}: expected the columns pingan optimise writes; missing {missing}")
    for c in columns:
        if c in ("contents", "objective"):
            continue
        values = pd.to_numeric(table[c], errors="coerce")
        if values.isna().any() and not table[c].isna().equals(values.isna()):
            raise StudyFolderError(f"{path}: column {c!r}: expected numbers, got {table[c][values.isna()].iloc[0]!r}")
        table[c] = values
    return table


def read_study(path: str | Path) -> StudyTables:
    """Read the tables of a study's folder (or of the folder holding the file ``path``), without writing anything.

    Raises:
        StudyFolderError: Not a study folder, a study that has not finished (no ``front.csv`` yet),
            or a file or key that cannot be read; the message names it and what was expected.
    """
    from sim.scenario.schema import Scenario

    folder = Path(path).expanduser()
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise StudyFolderError(f"{folder}: no such folder")
    where = folder / "settings.json"
    if not where.is_file():
        raise StudyFolderError(f"{folder}: no settings.json: not a study folder written by pingan optimise")
    try:
        settings = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StudyFolderError(f"{where}: not readable JSON ({e})") from None
    if not isinstance(settings, dict):
        raise StudyFolderError(f"{where}: expected the settings pingan optimise writes (a JSON object)")
    for key in ("scenario", "budget", "spec", "scale", "seed"):
        if key not in settings:
            raise StudyFolderError(f"{where}: key {key!r}: missing; expected the settings pingan optimise writes")
    try:
        scenario = Scenario.model_validate(settings["scenario"])
    except ValueError as e:
        raise StudyFolderError(f"{where}: key 'scenario': not a scenario this version of pingan reads "
                               f"({str(e).splitlines()[0]})") from None
    try:
        spec = OptimiseSpec.model_validate(settings["spec"])
    except ValueError as e:
        raise StudyFolderError(f"{where}: key 'spec': not an optimise block ({str(e).splitlines()[0]})") from None
    budget, scale, seed = settings["budget"], settings["scale"], settings["seed"]
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not math.isfinite(budget) or budget < 0:
        raise _settings_error(where, "budget", "yuan per year ≥ 0", budget)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 1:
        raise _settings_error(where, "scale", "a fraction of the city, 0 < scale ≤ 1", scale)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _settings_error(where, "seed", "a whole number", seed)
    posterior = settings.get("posterior")
    posterior = "default parameters" if posterior is None else f"a posterior file (sha256 {str(posterior)[:16]}…)"
    columns = [*PACKAGE_COLUMNS, *(f"{o}{end}" for o in spec.objectives if o in SIMULATED
                                   for end in ("", "_lo", "_hi", "_pessimistic"))]
    front = _read_table(folder / "front.csv", columns)
    packages = _read_table(folder / "packages.csv", columns)
    robustness = _read_table(folder / "robustness.csv", list(ROBUSTNESS_COLUMNS))
    actual = _read_table(folder / "actual.csv", columns, required=False)
    return StudyTables(scenario, float(budget), spec, float(scale), seed, posterior, packages, front, robustness,
                       actual, folder)
