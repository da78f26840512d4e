"""What the explorer does, without the web page: packages, background runs, saved results.

The page (:mod:`sim.app.explorer`) only shows widgets and figures; everything it computes
goes through the project's own APIs, so the explorer gives the same numbers as
``pingan compare``:

* a package is the chosen scenario with the planner's intervention settings, validated by
  :func:`sim.scenario.loader.validate_scenario` (a bad value gives the loader's message);
* the baseline is the same scenario with every intervention switched off (or the scenario
  as loaded), so only the interventions differ;
* both run with :func:`sim.experiments.runner.run_tasks`, replicate ``r`` with the same
  seed in both (common random numbers), on a background thread (:class:`PackageRun`);
* the headline table is :func:`sim.experiments.summary.compare` and the cost–effect table
  :func:`sim.experiments.packages.package_table`, for the packages saved in the session
  (:class:`Session`) or read from a results folder or store (:func:`open_results`), shown with
  the rows of :mod:`sim.presentation` (as the terminal and the report show them);
* replicates, seed and scale are checked here with the command line's own argument checks
  (:func:`run_settings`), whatever the browser sent, and a job is capped at
  :data:`MAX_REPLICATES` replicates.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pandas as pd

from sim.experiments.baseline import NO_INTERVENTIONS, without_interventions
from sim.experiments.packages import package_table
from sim.experiments.runner import RunResult, metrics_frame, run_tasks, scenario_tasks
from sim.experiments.summary import compare, summarise
from sim.interventions import REGISTRY
from sim.metrics import METRICS as metric_registry
from sim.plots import real_map
from sim.presentation import SIZE_HINTS, Sample, intervention_starts, is_size_field, package_contents
from sim.scenario.loader import ScenarioError, validate_scenario
from sim.scenario.schema import Scenario
from sim.space.geography import MapLayers

__all__ = ["METRICS", "METRIC_LABELS", "SIZE_HINTS", "EditableField", "editable_fields", "package_scenario",
           "baseline_scenario", "headline_table", "PackageRun", "Session", "SavedPackage", "OpenedResults",
           "open_results", "ResultsFileError", "BASELINES", "MAX_REPLICATES", "SettingsError", "run_settings",
           "headline_view"]

#: Metrics shown against the baseline, in this order (declared in the registry: headline or explorer).
METRICS: tuple[str, ...] = metric_registry.explorer()

#: How the page names each headline metric (with its unit).
METRIC_LABELS: dict[str, str] = {
    "preventable_cases": "preventable cases (recorded, per year)",
    "calls_for_service": "calls for service (per year)",
    "effective_incidents": "effective incidents (per year)",
    "serious_violent": "serious violent crimes (per year)",
    "homicides": "homicides (per year)",
    "clearance_rate": "clearance rate (share of cases)",
    "response_time_median_min": "response time, median [min]",
    "response_time_p90_min": "response time, 90th percentile [min]",
    "sense_of_safety_pct": "sense of safety [% feeling safe]",
    "cost_yuan": "cost [yuan per year]",
}

#: Baseline choices: every intervention off, or the scenario exactly as its file has it.
BASELINES: dict[str, str] = {
    "none": "the same scenario with every intervention off",
    "as_loaded": "the scenario as its file has it",
}

#: Most replicates of one job (each runs the package and its baseline: twice as many runs). A page
#: is open to whoever can reach the server, so a job's size is bounded here, not in the browser.
MAX_REPLICATES = 100

Kind = Literal["bool", "int", "float", "choice"]


class ResultsFileError(ValueError):
    """A results folder or store cannot be read; the message names the path and what to do."""


class SettingsError(ValueError):
    """A run setting (replicates, seed, scale) out of bounds; the message names it and what was expected."""


def run_settings(replicates: Any, seed: Any, scale: Any) -> tuple[int, int, float]:
    """Check a job's replicates, seed and scale as ``pingan run`` checks its options.

    The seed and the scale go through the command line's own argument checks (0 ≤ seed ≤ 2⁶³ − 1,
    0 < scale ≤ 1), so a value means the same on the page and in a terminal; replicates are at
    least 2 (an interval needs two) and at most :data:`MAX_REPLICATES`.

    Raises:
        SettingsError: Naming the setting, what was expected and what was given.
    """
    import argparse

    from sim.arguments import fraction_of_city  # the command line's checks: one meaning
    from sim.arguments import seed as seed_value

    out = []
    for name, value, check in (("seed", seed, seed_value), ("scale", scale, fraction_of_city)):
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"{name}: expected a number, got {value!r}")
        if name == "seed" and not float(value).is_integer():
            raise SettingsError(f"seed: expected a whole number, got {value!r}")
        try:
            out.append(check(str(int(value) if name == "seed" else float(value))))
        except argparse.ArgumentTypeError as e:
            raise SettingsError(f"{name}: {e}") from None
    if isinstance(replicates, bool) or not isinstance(replicates, int) or not 2 <= replicates <= MAX_REPLICATES:
        raise SettingsError(f"replicates: expected a whole number from 2 (an interval needs two) to {MAX_REPLICATES} "
                            f"(a job's largest size here), got {replicates!r}")
    return replicates, out[0], out[1]


@dataclass(frozen=True)
class EditableField:
    """One scalar key of an intervention's parameters that the page offers as a widget.

    Attributes:
        key: The intervention's key (``interventions.<key>``).
        name: The field's name.
        kind: ``bool``, ``int``, ``float`` or ``choice``.
        description: The schema's description (unit and source).
        lower: Smallest allowed value (from the schema's ``ge``/``gt``), if any.
        upper: Largest allowed value (from ``le``/``lt``), if any.
        choices: Allowed values of a ``choice`` field.
        size: Whether it is a size (count, cameras, people, share) rather than a behavioural detail.
        optional: Whether ``None`` is allowed (then the widget's empty value means "the default").
    """

    key: str
    name: str
    kind: Kind
    description: str
    lower: float | None = None
    upper: float | None = None
    choices: tuple[Any, ...] = ()
    size: bool = False
    optional: bool = False


def _scalar_kind(annotation) -> tuple[Kind | None, tuple, bool]:
    """The widget kind of a field's type, its choices and whether ``None`` is allowed."""
    optional = False
    args = get_args(annotation)
    if args and type(None) in args:  # X | None
        optional = True
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return None, (), optional
        annotation = rest[0]
    if annotation is bool:
        return "bool", (), optional
    if annotation is int:
        return "int", (), optional
    if annotation is float:
        return "float", (), optional
    if get_origin(annotation) is Literal:
        return "choice", get_args(annotation), optional
    return None, (), optional


def editable_fields(key: str) -> list[EditableField]:
    """The scalar fields of intervention ``key`` (its ``enabled`` switch first, then sizes, then the rest).

    Lists, mappings and nested groups (campaign calendars, mediation ladders) are not offered:
    they keep the scenario's values. ``start_year`` is left to the scenario file.
    """
    params = REGISTRY[key].Params
    out = []
    for name, info in params.model_fields.items():
        if name == "start_year":
            continue
        kind, choices, optional = _scalar_kind(info.annotation)
        if kind is None:
            continue
        lower = upper = None
        for m in info.metadata:
            lower = getattr(m, "ge", getattr(m, "gt", lower))
            upper = getattr(m, "le", getattr(m, "lt", upper))
        out.append(EditableField(key, name, kind, info.description or "", lower, upper, tuple(choices),
                                 is_size_field(name, info.annotation) or kind == "int", optional))
    return sorted(out, key=lambda f: (f.name != "enabled", not f.size))  # stable: schema order within each


def package_scenario(scenario: Scenario, settings: dict[str, dict[str, Any]], name: str) -> Scenario:
    """``scenario`` with the planner's intervention settings, validated like a scenario file.

    Args:
        scenario: The scenario chosen on the page.
        settings: ``{intervention key: {field: value}}``; keys not given keep the scenario's values.
        name: The package's name.

    Raises:
        ScenarioError: A value the schema refuses, named by its key.
    """
    data = scenario.model_dump(mode="json")
    for key, values in settings.items():
        if key not in REGISTRY:
            raise ScenarioError(f"explorer: key 'interventions.{key}': unknown intervention")
        data["interventions"][key].update(values)
    data["name"] = name
    return validate_scenario(data, label="explorer")


def baseline_scenario(scenario: Scenario, kind: str = "none") -> Scenario:
    """The baseline the package is compared with.

    Args:
        scenario: The scenario chosen on the page.
        kind: ``"none"``: the same scenario with every intervention off, named
            ``<scenario>_no_interventions``; ``"as_loaded"``: the scenario itself.
    """
    if kind == "as_loaded":
        return scenario
    if kind != "none":
        raise ValueError(f"baseline must be one of {sorted(BASELINES)}, got {kind!r}")
    return without_interventions(scenario)


def headline_table(df: pd.DataFrame, base: str, package: str) -> pd.DataFrame:
    """Each headline metric of ``package`` against ``base`` in the last counted year, paired by replicate.

    Returns:
        One row per metric: ``metric``, ``label``, ``year``, ``base_mean``, ``package_mean``,
        ``difference`` with ``difference_lo``/``difference_hi`` and ``relative_pct`` with
        ``relative_pct_lo``/``relative_pct_hi`` (95 % intervals of
        :func:`sim.experiments.summary.compare`), ``replicates``.
    """
    diff = compare(df[df["scenario"].isin([base, package])], base)
    diff = diff[(diff["scenario"] == package) & diff["metric"].isin(METRICS)]
    if diff.empty:
        return diff
    diff = diff[diff["year"] == diff["year"].max()].copy()
    diff["package_mean"] = diff["base_mean"] + diff["difference"]
    diff["label"] = diff["metric"].map(METRIC_LABELS)
    diff = diff.set_index("metric").loc[[m for m in METRICS if m in set(diff["metric"])]].reset_index()
    return diff[["metric", "label", "year", "base_mean", "package_mean", "difference", "difference_lo",
                 "difference_hi", "relative_pct", "relative_pct_lo", "relative_pct_hi", "replicates"]]


def rows_frame(rows: list[dict[str, str]], empty: str) -> pd.DataFrame:
    """Rows of :mod:`sim.presentation` as the frame a table pane shows; one cell saying ``empty`` if there are none."""
    return pd.DataFrame(rows) if rows else pd.DataFrame({"": [empty]})


def headline_view(df: pd.DataFrame, base: str, package: str, sample: Sample | None = None) -> tuple[int | None, list]:
    """The headline table as :mod:`sim.presentation` shows it: ``(year, rows)`` of the last counted year."""
    from sim.presentation import headline_rows

    diff = compare(df[df["scenario"].isin([base, package])], base)
    diff = diff[diff["scenario"] == package]
    if diff.empty:
        return None, []
    year = int(diff["year"].max())
    return year, headline_rows(diff, package, year, METRICS, sample)


class _Progress:
    """A view of a results store for :func:`run_tasks`: computes every run, counts finished ones.

    Each finished run is committed to ``store`` (if any) as it arrives, like every command does.
    """

    def __init__(self, store, on_done):
        self._store = store
        self._on_done = on_done

    def finished_ids(self) -> set[str]:
        return set()  # the page needs every run's maps, so nothing is skipped

    def put(self, record) -> bool:
        stored = self._store.put(record, replace=True) if self._store is not None else True
        self._on_done()
        return stored


@dataclass
class PackageRun:
    """A package and its baseline, run on a background thread; the page polls its state.

    Args:
        base: The baseline scenario.
        package: The package's scenario.
        replicates: Replicates of each (replicate ``r`` has the same seed in both).
        seed: Base seed.
        scale: Fraction of the full city.
        jobs: Worker processes (1: in the thread itself).
        store: A results-store path to commit each finished run to, or None.
    """

    base: Scenario
    package: Scenario
    replicates: int = 2
    seed: int = 1
    scale: float = 0.05
    jobs: int = 1
    store: Path | None = None
    done: int = 0
    error: str | None = None
    results: list[RunResult] | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return 2 * self.replicates

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> PackageRun:
        """Start the runs on a daemon thread and return at once."""
        if self.base.name == self.package.name:
            raise ValueError(f"the package needs a name other than its baseline's ({self.base.name!r})")
        self._thread = threading.Thread(target=self._work, name=f"pingan-{self.package.name}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the runs to end; True if they did."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _tick(self) -> None:
        with self._lock:
            self.done += 1

    def _work(self) -> None:
        from sim.experiments.store import ResultsStore

        store = None
        try:
            tasks = scenario_tasks([self.base, self.package], self.replicates, self.seed, self.scale)
            if self.store is not None:
                self.store.parent.mkdir(parents=True, exist_ok=True)
                store = ResultsStore(self.store)
            out = run_tasks(tasks, self.jobs, store=_Progress(store, self._tick), sweep="explorer", progress=False)
            self.results = [r for r in out if r is not None]
        except Exception as e:  # shown on the page; the server keeps running
            self.error = f"{type(e).__name__}: {e}"
        finally:
            if store is not None:
                store.close()
            self.finished = time.monotonic()


@dataclass
class SavedPackage:
    """A finished package kept in the session: its metrics, per-run maps and what it is.

    Attributes:
        name, base: The package's and its baseline's scenario names.
        metrics: Both scenarios' yearly metrics.
        results: Both scenarios' runs (maps, daily series).
        settings: The planner's intervention settings.
        group: What makes baselines identical (see :class:`Session`).
        first_year: Calendar year of the first counted day.
        starts: When the package starts against its baseline, to mark on time series
            (:func:`sim.presentation.intervention_starts`).
        contents: What the package contains, in words (:func:`sim.presentation.package_contents`).
        scale: The runs' scale.
        layers: The real map the city is laid out on (:func:`sim.plots.real_map`), or None for a
            synthetic city: the Map tab draws the runs on it.
        city_name: The city's name (the scenario's preset), for the map's caption.
    """

    name: str
    base: str
    metrics: pd.DataFrame
    results: list[RunResult] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    group: tuple = ()
    first_year: int = 0
    starts: list[tuple[int, str]] = field(default_factory=list)
    contents: str = ""
    scale: float | None = None
    layers: MapLayers | None = field(default=None, repr=False)
    city_name: str = ""

    @property
    def sample(self) -> Sample:
        """The simulated sample the package's counts and costs describe."""
        return Sample.of(self.metrics[self.metrics["scenario"] == self.base], self.scale)


@dataclass
class Session:
    """The packages a planner has run in one browser session, grouped by the baseline they share.

    Packages are comparable (one Pareto plot) when their baselines are the same scenario with
    the same replicates, seed and scale: the baseline's metrics are then identical.
    """

    packages: dict[str, SavedPackage] = field(default_factory=dict)

    def save(self, run: PackageRun, settings: dict[str, dict[str, Any]] | None = None) -> SavedPackage:
        """Keep a finished run (a package of the same name is replaced)."""
        if run.results is None:
            raise ValueError(f"package {run.package.name!r} has no results ({run.error or 'not finished'})")
        package = run.package
        saved = SavedPackage(package.name, run.base.name, metrics_frame(run.results), run.results, settings or {},
                             self._group(run), package.run.first_year, intervention_starts([package], run.base),
                             package_contents(package, run.base), run.scale, real_map(package, run.scale),
                             package.city.preset or "")
        self.packages[run.package.name] = saved
        return saved

    @staticmethod
    def _group(run: PackageRun) -> tuple:
        return (run.base.model_dump_json(), run.replicates, run.seed, run.scale)

    def comparable(self, name: str) -> list[SavedPackage]:
        """The saved packages sharing ``name``'s baseline (``name`` included), in the order run."""
        group = self.packages[name].group
        return [p for p in self.packages.values() if p.group == group]

    def cost_effect(self, name: str) -> pd.DataFrame:
        """:func:`package_table` of the packages comparable with ``name`` (cost, effect, Pareto)."""
        peers = self.comparable(name)
        base = peers[0].base
        frames = [peers[0].metrics[peers[0].metrics["scenario"] == base]]
        frames += [p.metrics[p.metrics["scenario"] == p.name] for p in peers]
        return package_table(pd.concat(frames, ignore_index=True), base)


@dataclass
class OpenedResults:
    """Results read from disk: a metrics frame, its scenarios, its baseline, and where they came from.

    Attributes:
        source: The file read (``metrics.csv`` or a results store).
        metrics: One row per scenario × replicate × year.
        scenarios: The scenarios (a sweep's design points are ``scenario #point``), in file order.
        note: What the file cannot show (a store keeps no maps).
        baseline: The baseline the results name, or None when they do not say (then the planner
            chooses it): ``compare.csv``'s ``base``, the first scenario of a ``metrics.csv``
            (``pingan compare`` writes its baseline first), or the explorer's ``…_no_interventions``.
        baseline_from: Where :attr:`baseline` was read, in words.
        scale: The runs' scale, where the file records it (a store does, ``metrics.csv`` does not).
        contents: What each package contains, in words, where the folder says (``packages.csv``).
    """

    source: Path
    metrics: pd.DataFrame
    scenarios: list[str]
    note: str = ""
    baseline: str | None = None
    baseline_from: str = ""
    scale: float | None = None
    contents: dict[str, str] = field(default_factory=dict)

    @property
    def sample(self) -> Sample:
        """The simulated sample the counts and costs describe."""
        return Sample.of(self.metrics, self.scale)

    def year_on_year(self, scenario: str) -> list[dict[str, str]]:
        """The last counted year against the one before, as ``pingan run`` prints it."""
        from sim.presentation import year_on_year_rows

        df = self.metrics[self.metrics["scenario"] == scenario]
        return year_on_year_rows(summarise(df), scenario, METRICS, self.sample)


def _store_frame(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The store's runs as the explorer's frame, and the store's notes (lost log, runs without rows)."""
    from sim.experiments.store import ResultsStore

    try:
        with ResultsStore(path, readonly=True) as store:  # opening results never writes to the file
            frame = store.frame()
            notes = list(store.notes)
    except Exception as e:  # sqlite3.DatabaseError and friends: a damaged or foreign file
        raise ResultsFileError(f"{path}: not a readable results store ({type(e).__name__}: {e}); open the "
                               "folder's metrics.csv instead, or rerun the command that wrote it") from None
    if frame.empty:
        raise ResultsFileError(f"{path}: the results store has no finished runs")
    # A package is a scenario at one design point and scale.
    label = frame["scenario"].astype(str)
    if frame.groupby("scenario")["point_id"].nunique().max() > 1:
        label = label + " #" + frame["point_id"].astype(str)
    if frame["scale"].nunique() > 1:
        label = label + " @" + frame["scale"].map(lambda s: f"{s:g}")
    frame = frame.assign(scenario=label).drop(columns=["run_id", "point_id"])
    keep = ["scenario", "replicate", "seed", "year"]
    numeric = [c for c in frame.columns if c not in keep and pd.api.types.is_numeric_dtype(frame[c])]
    return frame[keep + numeric + ["sweep"]], notes


def _named_baseline(folder: Path, scenarios: list[str], frame: pd.DataFrame, from_csv: bool) -> tuple[str | None, str]:
    """The baseline the results name (see :attr:`OpenedResults.baseline`), and where it was read."""
    compare_csv = folder / "compare.csv"
    if compare_csv.is_file():
        try:
            named = pd.read_csv(compare_csv, usecols=["base"])["base"].dropna().astype(str).unique()
        except (ValueError, OSError, pd.errors.ParserError):
            named = []
        if len(named) == 1 and named[0] in scenarios:
            return named[0], f"named in {compare_csv.name}, written by pingan compare or run"
    if from_csv and len(scenarios) > 1:
        return scenarios[0], "the first scenario of metrics.csv (pingan compare writes its baseline first)"
    if "sweep" in frame.columns and set(frame["sweep"].astype(str)) == {"explorer"}:
        off = [s for s in scenarios if s.endswith(NO_INTERVENTIONS)]
        if len(off) == 1:
            return off[0], "the explorer's baseline (every intervention off)"
    return None, ""


def _folder_contents(folder: Path) -> dict[str, str]:
    """What each package contains, from a ``packages.csv`` written by ``pingan compare`` or ``run`` (empty if none)."""
    try:
        table = pd.read_csv(folder / "packages.csv", usecols=["package", "contains"])
    except (ValueError, OSError, pd.errors.ParserError):
        return {}
    return {str(p): str(c) for p, c in zip(table["package"], table["contains"], strict=True) if isinstance(c, str)}


def open_results(path: str | Path) -> OpenedResults:
    """Read a results folder (its ``metrics.csv``, else its ``store.sqlite``) or a results store file.

    The baseline is the one the results name (:attr:`OpenedResults.baseline`); where they name
    none it is left to the planner, never guessed from the scenarios' names or order.

    Raises:
        ResultsFileError: Missing path, no results in the folder, or an unreadable file.
    """
    path = Path(path).expanduser()
    if not str(path).strip() or str(path) == ".":
        raise ResultsFileError("give the path of a results folder or store (e.g. results/suizhou_2022)")
    if not path.exists():
        raise ResultsFileError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "metrics.csv").is_file():
            path = path / "metrics.csv"
        elif (path / "store.sqlite").is_file():
            path = path / "store.sqlite"
        else:
            raise ResultsFileError(f"{path}: no metrics.csv or store.sqlite in this folder (a folder written "
                                   "by pingan run, compare or sweep has them)")
    scale = None
    if path.suffix == ".csv":
        try:
            df = pd.read_csv(path)
        except Exception as e:
            raise ResultsFileError(f"{path}: cannot read the CSV ({e})") from None
        missing = {"scenario", "replicate", "year"} - set(df.columns)
        if missing:
            raise ResultsFileError(f"{path}: expected a metrics.csv with columns scenario, replicate, year; "
                                   f"missing {sorted(missing)}")
        note = ""
    else:
        df, notes = _store_frame(path)
        note = "; ".join(["a results store keeps the yearly metrics only: no maps or time series", *notes])
        if df["scale"].nunique() == 1:
            scale = float(df["scale"].iloc[0])
    df["scenario"] = df["scenario"].astype(str)
    scenarios = list(dict.fromkeys(df["scenario"]))
    baseline, where = _named_baseline(path.parent, scenarios, df, path.suffix == ".csv")
    df = df.drop(columns=[c for c in ("sweep", "scale") if c in df.columns])
    return OpenedResults(path, df, scenarios, note, baseline, where, scale, _folder_contents(path.parent))
