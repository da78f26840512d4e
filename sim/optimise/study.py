"""An optimisation study: the search over packages, its evaluations, and resuming it after a kill.

A study lives in one folder (``results/optimise/NAME`` by default):

==================  ==========================================================================
``settings.json``   what the study is (scenario, budget, levers, objectives, draws, seed...);
                    a folder is only resumed with the same settings
``study.journal``   Optuna's journal storage: every package asked and scored, appended line by line
``store.sqlite``    the results store: every simulation of every package and of the baseline
``demand.npz``      baseline demand per cell (calls, offences) for the location models
``packages.csv``    every package evaluated: levers, sites in words, cost and scores
``front.csv``       the Pareto front, with intervals and robustness (see :mod:`sim.optimise.summary`)
==================  ==========================================================================

The search is Optuna's NSGA-II (Deb et al. 2002) with the budget as a constraint (a package over
budget is not simulated; constrained domination ranks it below every package within budget).
Packages are asked a generation at a time, their simulations run together on the experiment
engine, and each package is told its scores when all its runs are in. Each generation's sampler is
seeded from the study's seed and the generation's first trial number, so a study killed at any
point and started again asks the same packages and reaches the same front; simulations already in
the store are not run again (run ids come from the package's content), so none is lost or
repeated.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim._data import install_hint
from sim.experiments.runner import Recompute, RunResult, Task, replicate_seed, run_tasks
from sim.experiments.store import ResultsStore, run_id
from sim.interventions import REGISTRY
from sim.optimise.costs import package_cost
from sim.optimise.evaluate import HIGHER_IS_BETTER, SIMULATED, Score, paired_effects, score
from sim.optimise.menu import (
    SCENARIO_RULE,
    OptimiseError,
    apply_levers,
    check_levers,
    default_levers,
    lever_kind,
)
from sim.optimise.sites import DEMAND_FIELDS, Demand, baseline_demand, city_at, site_count, site_facility, siting_order
from sim.optimise.spec import OptimiseSpec
from sim.optimise.summary import StudyTables, kept_interventions, non_dominated, package_words, primary_objective
from sim.scenario.schema import Scenario

__all__ = ["StudySettings", "Study", "Package", "StudyResult", "optimise", "load_study", "file_hash"]

log = logging.getLogger("pingan")

#: Trials asked per package wanted before a study gives up finding packages within budget.
MAX_TRIALS_PER_PACKAGE = 20


@dataclass
class StudySettings:
    """Everything that defines a study (the scenario's ``optimise:`` block, overridden by the caller).

    Attributes:
        budget: Annual budget at full scale [yuan per year] (see :mod:`sim.optimise.costs`).
        spec: The ``optimise:`` block (levers, objectives, score, draws, replicates, packages...).
        seed: Base seed (replicate seeds, posterior draws and the search's sampler derive from it).
        scale: Fraction of the full city simulated.
        posterior: A posterior file (draws of behavioural parameters), or None for the defaults.
        warmup_days: Warm-up before the counted years (None: the scenario's).
    """

    budget: float
    spec: OptimiseSpec
    seed: int = 1
    scale: float = 0.1
    posterior: str | None = None
    warmup_days: int | None = None

    def key(self, scenario_json: str) -> dict[str, Any]:
        return {"scenario": json.loads(scenario_json), "budget": self.budget, "spec": self.spec.model_dump(),
                "seed": self.seed, "scale": self.scale, "posterior": file_hash(self.posterior)}


def file_hash(path: str | Path | None) -> str | None:
    """A file's content hash as a study's settings.json records its posterior (None for no file)."""
    return None if path is None else hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@dataclass
class Package:
    """One evaluated package.

    Attributes:
        number: Its trial number (−1 for the scenario's own package).
        levers: Lever values.
        sites: Facility -> cells of its sites on the simulated city (sited packages only).
        siting: Facility -> how its sites were chosen, with the location model's gap.
        cost: Annual cost at full scale [yuan per year].
        scores: Objective -> score (simulated objectives only).
        feasible: Within budget.
        content: A hash of the package's scenario (sites included): packages with the same content are
            the same package, whatever lever values led to them (e.g. a siting rule for zero sites).
    """

    number: int
    levers: dict[str, Any]
    sites: dict[str, list[int]] = field(default_factory=dict)
    siting: dict[str, str] = field(default_factory=dict)
    cost: float = math.nan
    scores: dict[str, Score] = field(default_factory=dict)
    feasible: bool = True
    content: str = ""


def _import_optuna():
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - depends on the install
        raise OptimiseError(f"the optimiser needs Optuna, the optimise extra: {install_hint('optimise')}") from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class Study:
    """A study of one scenario's packages in one folder (created or resumed).

    Args:
        scenario: The validated scenario (its own package is the city's actual one).
        settings: The study's settings.
        out: The study's folder.
        source: Where the scenario came from (for messages).

    Raises:
        OptimiseError: Bad levers, a budget below the cheapest package, or a folder holding a study
            with other settings — before any simulation.
    """

    def __init__(self, scenario: Scenario, settings: StudySettings, out: str | Path, source: str = "<scenario>"):
        self.scenario = scenario
        self.settings = settings
        self.out = Path(out)
        self.source = source
        spec = settings.spec
        self.levers = spec.levers if spec.levers is not None else default_levers(scenario)
        check_levers(scenario, self.levers, source)
        self.objectives = list(spec.objectives)
        self.simulated = [o for o in self.objectives if o in SIMULATED]
        if not self.simulated:
            raise OptimiseError(f"{source}: key 'optimise.objectives': expected at least one simulated objective "
                                f"({', '.join(SIMULATED)}) beside cost")
        self._draws = self._posterior_draws()
        self.seed_package = self._seed_scenario()
        self.cheapest = self._cheapest_cost()
        if settings.budget < self.cheapest:
            raise OptimiseError(f"--budget {settings.budget:,.0f} yuan per year is below the cheapest package the "
                                f"levers allow that buys anything ({self.cheapest:,.0f} yuan per year at full "
                                "scale); `pingan optimise SCENARIO --cost` prints what the scenario's own costs")
        self._demand: Demand | None = None

    # ---- set-up -----------------------------------------------------------------------------

    def _posterior_draws(self) -> list[dict[str, float]]:
        k = self.settings.spec.posterior_draws
        if self.settings.posterior is None:
            if k > 1:
                log.warning("no posterior: every draw uses the default parameters (give --posterior FILE)")
            return [{} for _ in range(k)]
        from sim.calibration.posterior import load_posterior

        post = load_posterior(self.settings.posterior)
        post.check(self.scenario)
        return [post.draw(self.settings.seed, i) for i in range(k)]

    def _base_data(self) -> dict:
        data = json.loads(self.scenario.model_dump_json())
        if self.settings.warmup_days is not None:
            data["run"]["warmup_days"] = self.settings.warmup_days
        return data

    def _seed_scenario(self) -> Scenario:
        data = self._base_data()
        data["name"] = f"{self.scenario.name}-actual"
        return Scenario.model_validate(data)

    def baseline_scenario(self) -> Scenario:
        """The scenario with every intervention off: what each package is compared with."""
        data = self._base_data()
        data["name"] = f"{self.scenario.name}-baseline"
        for section in data["interventions"].values():
            section["enabled"] = False
        return Scenario.model_validate(data)

    def _lowest(self) -> dict[str, Any]:
        out = {}
        for key, lever in self.levers.items():
            if lever.range is not None:
                out[key] = lever.range[0]
            else:
                kind = lever_kind(key)
                out[key] = False if kind == "bool" and False in lever.choices else lever.choices[0]
        return out

    def _cheapest_cost(self) -> float:
        """The cheapest package that buys something: every lever at its lowest but one at its next value.

        A budget below it can buy nothing the levers offer (the lowest package, often "nothing", is
        what the baseline already is).
        """
        years = self.settings.spec.amortisation_years
        lowest = self._lowest()
        floor = package_cost(Scenario.model_validate(apply_levers(self._base_data(), lowest)), years).annual_yuan
        costs = []
        for key, lever in self.levers.items():
            if lever.range is not None:
                low, high = lever.range
                step = lever.step or (1.0 if lever_kind(key) == "int" else (high - low) / 100)
                options = [min(high, low + step)] if high > low else []
            else:
                options = [c for c in lever.choices if c != lowest[key]]
            for value in options:
                data = apply_levers(self._base_data(), {**lowest, key: value})
                costs.append(package_cost(Scenario.model_validate(data), years).annual_yuan)
        above = [c for c in costs if c > floor]
        return min(above) if above else floor

    # ---- the folder -------------------------------------------------------------------------

    def open(self) -> None:
        """Create or reopen the study's folder, its Optuna journal and its results store (see the module docstring).

        Raises:
            OptimiseError: If the folder holds a study with other settings.
        """
        self.out.mkdir(parents=True, exist_ok=True)
        key = self.settings.key(self.scenario.model_dump_json())
        path = self.out / "settings.json"
        text = json.dumps(key, sort_keys=True, indent=1, default=str)
        if path.is_file():
            if json.loads(path.read_text()) != json.loads(text):
                raise OptimiseError(f"{self.out}: holds a study with other settings (see {path}); give another "
                                    "--out or remove the folder")
        else:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
        optuna = _import_optuna()
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(self.out / "study.journal")))
        directions = ["maximize" if HIGHER_IS_BETTER[o] else "minimize" for o in self.objectives]
        self.study = optuna.create_study(study_name="packages", storage=storage, directions=directions,
                                         load_if_exists=True)
        self.store = ResultsStore(self.out / "store.sqlite")

    # ---- evaluating packages ----------------------------------------------------------------

    def _tasks(self, package: Scenario) -> list[Task]:
        from sim.calibration.posterior import with_parameters

        tasks = []
        s = self.settings
        for k, values in enumerate(self._draws):
            payload = with_parameters(package, values).model_dump_json()
            for r in range(s.spec.replicates):
                seed = replicate_seed(s.seed, r)
                point = {"posterior_draw": k}
                tasks.append(Task(package.name, payload, 0, point, r, seed, float(s.scale),
                                  run_id(payload, point, seed, float(s.scale))))
        return tasks

    def _metrics(self, tasks: list[Task]) -> dict[str, np.ndarray]:
        """Each simulated objective's metric in the last counted year, draws × replicates."""
        rows = self.store.run_rows([t.run_id for t in tasks])
        k, r = len(self._draws), self.settings.spec.replicates
        out = {}
        for o in SIMULATED:
            values = [rows[t.run_id][-1].get(o, math.nan) for t in tasks]
            out[o] = np.array(values, dtype=float).reshape(k, r)
        return out

    def _run(self, tasks: list[Task], jobs: int, backend: str, scheduler: str | None, progress: bool,
             label: str) -> dict[str, RunResult]:
        """Run what the store does not hold; the runs made here, by run id (for the sites they placed)."""
        stored = len(self.store.finished_ids() & {t.run_id for t in tasks})
        log.info(f"{label}: {len(tasks) - stored} simulations to run, {stored} already in the store")
        results = run_tasks(tasks, jobs, backend, scheduler, self.store, sweep=f"optimise:{label}",
                            progress=progress)
        return {t.run_id: r for t, r in zip(tasks, results, strict=True) if r is not None}

    @staticmethod
    def _note_sites(pkg: Package, first: RunResult | None) -> None:
        """Sites the scenario's own rules placed, from the package's first run (draw 0, replicate 0) if run here."""
        if first is None or not first.sites:
            return
        for key, cells in first.sites.items():
            if key not in pkg.sites and len(cells) and REGISTRY[key].siting is not None:
                pkg.sites[key] = [int(c) for c in cells]

    def demand(self, jobs: int = 1, backend: str = "loky", scheduler: str | None = None,
               progress: bool = False) -> Demand:
        """Baseline demand per cell (computed once, then read from ``demand.npz``)."""
        if self._demand is not None:
            return self._demand
        path = self.out / "demand.npz"
        if not path.is_file() or not _holds_demand(path):
            # The runs' maps are needed, not only their rows, so they are recomputed (and stored) here.
            tasks = self._tasks(self.baseline_scenario())
            log.info(f"baseline demand: {len(tasks)} simulations to run, 0 already in the store")
            results = run_tasks(tasks, jobs, backend, scheduler, Recompute(self.store), sweep="optimise:baseline",
                                progress=progress)
            tmp = self.out / "demand.tmp.npz"
            np.savez(tmp, **asdict(baseline_demand(results)))
            os.replace(tmp, path)
        with np.load(path) as f:
            self._demand = Demand(**{k: f[k] for k in DEMAND_FIELDS})
        return self._demand

    def build(self, levers: dict[str, Any], number: int) -> tuple[Scenario, Package]:
        """The package's scenario (sites placed) and its record (cost, sites), not yet scored."""
        data = apply_levers(self._base_data(), {k: v for k, v in levers.items() if not k.endswith(".siting")})
        data["name"] = f"{self.scenario.name}-package"
        scenario = Scenario.model_validate(data)
        pkg = Package(number, dict(levers))
        pkg.cost = package_cost(scenario, self.settings.spec.amortisation_years).annual_yuan
        pkg.feasible = pkg.cost <= self.settings.budget
        sited = [k.partition(".")[0] for k, v in levers.items() if k.endswith(".siting") and v != SCENARIO_RULE]
        placed: dict[str, np.ndarray] = {}
        city = city_at(scenario, self.settings.scale)
        for key in siting_order(sited):
            rule = levers[f"{key}.siting"]
            section = data["interventions"][key]
            if rule not in ("mclp", "p_median"):  # one of the facility's own placement rules
                section["placement"] = rule
                pkg.siting[key] = rule
                continue
            n = site_count(key, getattr(scenario.interventions, key), self.settings.scale) if section["enabled"] else 0
            if n == 0:
                continue
            answer = site_facility(scenario, key, rule, n, self.demand(), self.settings.scale, placed)
            section["placement"] = "given"
            section["sites"] = [[float(city.x_km[c]), float(city.y_km[c])] for c in answer.sites]
            pkg.sites[key] = [int(c) for c in answer.sites]
            pkg.siting[key] = f"{rule} ({answer.method}, gap {answer.gap:.1%})"
            if REGISTRY[key].siting.dispatch_base:
                placed[key] = answer.sites
        package = Scenario.model_validate(data)
        pkg.content = _content(package)
        return package, pkg

    def _score(self, tasks: list[Task], base: dict[str, np.ndarray]) -> dict[str, Score]:
        metrics = self._metrics(tasks)
        q = self.settings.spec.quantile
        return {o: score(paired_effects(metrics[o], base[o], o), o, q) for o in SIMULATED}

    def _values(self, pkg: Package) -> list[float]:
        kind = self.settings.spec.score
        return [pkg.cost if o == "cost" else pkg.scores[o].value(kind) for o in self.objectives]

    # ---- the search -------------------------------------------------------------------------

    def _distributions(self) -> dict:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out = {}
        for key, lever in self.levers.items():
            if lever.choices is not None:
                out[key] = CategoricalDistribution(lever.choices)
            elif lever_kind(key) == "int":
                out[key] = IntDistribution(int(lever.range[0]), int(lever.range[1]), step=int(lever.step or 1))
            else:
                lo, hi = lever.range
                step = lever.step
                if step is not None:  # Optuna needs the range to be a whole number of steps
                    hi = lo + math.floor((hi - lo) / step + 1e-9) * step
                out[key] = FloatDistribution(lo, hi, step=step)
        return out

    def _sampler(self, first_trial: int):
        optuna = _import_optuna()
        seed = int(np.random.SeedSequence([self.settings.seed, first_trial]).generate_state(1)[0])
        return optuna.samplers.NSGAIISampler(population_size=self.settings.spec.population, seed=seed)

    def run(self, jobs: int = -1, backend: str = "loky", scheduler: str | None = None, progress: bool = True,
            after_package: Callable[[Package], None] | None = None) -> StudyResult:
        """Run (or resume) the study until ``packages`` packages within budget are scored.

        Args:
            jobs, backend, scheduler: The experiment engine's workers (see :func:`run_tasks`).
            progress: Progress bars.
            after_package: Called after each package is scored and stored (e.g. to stop a test run).
        """
        self.open()
        try:
            return self._search(jobs, backend, scheduler, progress, after_package)
        finally:
            self.store.close()

    def _search(self, jobs, backend, scheduler, progress, after_package) -> StudyResult:
        from optuna.trial import Trial, TrialState

        spec = self.settings.spec
        base_tasks = self._tasks(self.baseline_scenario())
        self.demand(jobs, backend, scheduler, progress)
        self._run(base_tasks, jobs, backend, scheduler, progress, "baseline")
        base = self._metrics(base_tasks)
        actual_tasks = self._tasks(self.seed_package)
        ran = self._run(actual_tasks, jobs, backend, scheduler, progress, "actual")
        actual = Package(-1, self.actual_levers(), content=_content(self.seed_package))
        self._note_sites(actual, ran.get(actual_tasks[0].run_id))
        actual.cost = package_cost(self.seed_package, spec.amortisation_years).annual_yuan
        actual.feasible = actual.cost <= self.settings.budget
        actual.scores = self._score(actual_tasks, base)
        dists = self._distributions()
        population = spec.population
        while True:
            trials = self.study.get_trials(deepcopy=False)
            scored = sum(1 for t in trials if t.state == TrialState.COMPLETE and t.user_attrs.get("feasible"))
            stale = [t for t in trials if t.state == TrialState.RUNNING]
            if not stale and scored >= spec.packages:
                break
            if not stale and len(trials) >= spec.packages * MAX_TRIALS_PER_PACKAGE:
                log.warning(f"stopped after {len(trials)} packages asked: only {scored} within the budget")
                break
            if stale:  # a killed run's generation: finish it with the packages it asked
                batch = [Trial(self.study, t._trial_id) for t in stale]
                log.info(f"resuming {len(batch)} packages asked before the study stopped")
            else:
                first = len(trials)
                self.study.sampler = self._sampler(first - first % population)
                batch = [self.study.ask(dists) for _ in range(population - first % population)]
            self._evaluate_batch(batch, base, jobs, backend, scheduler, progress, after_package)
        return self.result(actual)

    def _evaluate_batch(self, batch, base, jobs, backend, scheduler, progress, after_package) -> None:
        built = [(trial, *self.build(trial.params, trial.number)) for trial in batch]
        tasks = {trial.number: self._tasks(scen) for trial, scen, pkg in built if pkg.feasible}
        todo = list({t.run_id: t for ts in tasks.values() for t in ts}.values())
        ran = self._run(todo, jobs, backend, scheduler, progress,
                        f"generation {batch[0].number // self.settings.spec.population}") if todo else {}
        for trial, _scen, pkg in built:
            if pkg.feasible:
                pkg.scores = self._score(tasks[trial.number], base)
                self._note_sites(pkg, ran.get(tasks[trial.number][0].run_id))
                values = self._values(pkg)
            else:  # not simulated; constrained domination ranks it by how far over budget it is
                values = [pkg.cost if o == "cost" else 0.0 for o in self.objectives]
            trial.set_user_attr("package", _package_json(pkg))
            trial.set_user_attr("feasible", pkg.feasible)
            if "constraints:budget" not in self.study._storage.get_trial_system_attrs(trial._trial_id):
                trial.set_constraint("budget", pkg.cost - self.settings.budget)  # set once: a resumed trial has it
            self.study.tell(trial, values)
            if after_package is not None:
                after_package(pkg)

    def actual_levers(self) -> dict[str, Any]:
        """The scenario's own package in lever terms (zero sizes where an intervention is off)."""
        out = {}
        for key in self.levers:
            head, _, field = key.partition(".")
            params = getattr(self.scenario.interventions, head)
            if field == "siting":
                out[key] = SCENARIO_RULE
            elif field == "enabled":
                out[key] = params.enabled
            else:
                out[key] = getattr(params, field) if params.enabled else 0
        return out

    def read(self) -> StudyResult:
        """What the folder's study has scored so far, without running anything."""
        self.open()
        try:
            return self.result()
        finally:
            self.store.close()

    def result(self, actual: Package | None = None) -> StudyResult:
        """Every package the folder's study has scored, and the scenario's own package."""
        packages = [_package_from_json(t.user_attrs["package"]) for t in self.study.get_trials(deepcopy=False)
                    if "package" in t.user_attrs]
        return StudyResult(self, packages, actual)


def _holds_demand(path: Path) -> bool:
    """Whether ``demand.npz`` holds every field of :class:`Demand` (a study folder from before some were added
    does not, and its demand is computed again)."""
    with np.load(path) as f:
        return set(f.files) == set(DEMAND_FIELDS)


def _content(scenario: Scenario) -> str:
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()[:16]


def _package_json(pkg: Package) -> str:
    scores = {o: {**{k: v for k, v in asdict(s).items() if k != "by_draw"}, "by_draw": s.by_draw.tolist()}
              for o, s in pkg.scores.items()}
    return json.dumps({"number": pkg.number, "levers": pkg.levers, "sites": pkg.sites, "siting": pkg.siting,
                       "cost": pkg.cost, "feasible": pkg.feasible, "scores": scores, "content": pkg.content})


def _package_from_json(text: str) -> Package:
    d = json.loads(text)
    scores = {o: Score(s["mean"], s["lo"], s["hi"], s["pessimistic"], np.array(s["by_draw"]))
              for o, s in d["scores"].items()}
    return Package(d["number"], d["levers"], d["sites"], d["siting"], d["cost"], scores, d["feasible"], d["content"])


def optimise(scenario: str | Path | Scenario, budget: float, out: str | Path | None = None, *,
             overrides: list[str] | None = None, jobs: int = -1, backend: str = "loky", scheduler: str | None = None,
             progress: bool = True, after_package: Callable[[Package], None] | None = None,
             **settings: Any) -> StudyResult:
    """Run (or resume) a study: the Python API of ``pingan optimise``.

    Args:
        scenario: A scenario file, a built-in name or a validated scenario (its ``optimise:`` block
            gives the levers and settings).
        budget: Annual budget at full scale [yuan per year].
        out: The study's folder (default ``results/optimise/<scenario name>``).
        overrides: ``key.path=value`` overrides of the scenario (as ``--set``).
        jobs, backend, scheduler, progress: The experiment engine's workers and progress bars.
        after_package: Called after each package is scored.
        **settings: Override the ``optimise:`` block (``objectives``, ``posterior_draws``,
            ``replicates``, ``packages``, ``population``, ``score``, ``quantile``, ``levers``,
            ``amortisation_years``) or the study (``seed``, ``scale``, ``posterior``, ``warmup_days``).

    Returns:
        The study's packages, front and robustness (:class:`StudyResult`).
    """
    study = load_study(scenario, budget, out, overrides=overrides, **settings)
    return study.run(jobs, backend, scheduler, progress, after_package)


def load_study(scenario: str | Path | Scenario, budget: float, out: str | Path | None = None, *,
               overrides: list[str] | None = None, source: str | None = None, **settings: Any) -> Study:
    """A :class:`Study`, checked (levers, budget) but not run; see :func:`optimise` for the arguments.

    ``source`` names the scenario in messages (default: its file, or ``<scenario>``).
    """
    from sim.scenario import load_scenario

    source = source or ("<scenario>" if isinstance(scenario, Scenario) else str(scenario))
    scen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, overrides)
    study_keys = {"seed", "scale", "posterior", "warmup_days"}
    spec_data = (scen.optimise or OptimiseSpec()).model_dump(exclude_none=True)
    spec_data.update({k: v for k, v in settings.items() if k not in study_keys and v is not None})
    try:
        spec = OptimiseSpec.model_validate(spec_data)
    except ValueError as e:
        raise OptimiseError(f"{source}: key 'optimise': {e}") from None
    if not (isinstance(budget, int | float) and math.isfinite(budget) and budget >= 0):
        raise OptimiseError(f"--budget: expected yuan per year ≥ 0, got {budget!r}")
    kwargs = {k: v for k, v in settings.items() if k in study_keys and v is not None}
    if "posterior" in kwargs:
        kwargs["posterior"] = str(kwargs["posterior"])
    study_settings = StudySettings(float(budget), spec, **kwargs)
    folder = Path(out) if out is not None else Path("results") / "optimise" / scen.name
    return Study(scen, study_settings, folder, source)


@dataclass
class StudyResult:
    """A study's scored packages, its front and the scenario's own package."""

    study: Study
    packages: list[Package]
    actual: Package | None = None

    @property
    def objectives(self) -> list[str]:
        return self.study.objectives

    def scored(self) -> list[Package]:
        """Scored packages within budget, each content once (the first trial that asked for it)."""
        seen: dict[str, Package] = {}
        for p in self.packages:
            if p.feasible and p.scores:
                seen.setdefault(p.content, p)
        return list(seen.values())

    def front(self) -> list[Package]:
        """The non-dominated packages within budget, cheapest first."""
        pkgs = self.scored()
        if not pkgs:
            return []
        kind = self.study.settings.spec.score
        values = np.array([[p.cost if o == "cost" else p.scores[o].value(kind) for o in self.objectives]
                           for p in pkgs])
        keep = non_dominated(values, [HIGHER_IS_BETTER[o] for o in self.objectives])
        return sorted((p for p, k in zip(pkgs, keep, strict=True) if k), key=lambda p: (p.cost, p.number))

    def primary(self) -> str:
        """The first simulated objective: the one robustness and "best at the same cost" refer to."""
        return primary_objective(self.objectives)

    def table(self, packages: list[Package] | None = None) -> pd.DataFrame:
        """One row per package: number, contents, cost, and each simulated objective with its interval."""
        rows = []
        kept = kept_interventions(self.study.scenario, self.study.levers)
        for p in packages if packages is not None else self.scored():
            row = {"package": p.number, "contents": package_words(p.levers, p.siting, kept),
                   "cost_yuan_per_year": p.cost, "within_budget": p.feasible}
            for o, s in p.scores.items():
                row.update({o: s.mean, f"{o}_lo": s.lo, f"{o}_hi": s.hi, f"{o}_pessimistic": s.pessimistic})
            row.update({f"lever:{k}": v for k, v in p.levers.items()})
            row.update({f"siting:{k}": v for k, v in p.siting.items()})
            row.update({f"sites:{k}": " ".join(map(str, v)) for k, v in p.sites.items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def robustness(self) -> pd.DataFrame:
        """For each front package: the primary objective's mean, pessimistic quantile and regret across draws."""
        front = self.front()
        o = self.primary()
        sign = 1 if HIGHER_IS_BETTER[o] else -1
        rows = []
        for p in front:
            rivals = [r for r in front if r is not p and r.cost <= p.cost * (1 + 1e-9)]
            mine = sign * p.scores[o].by_draw
            if rivals:
                best = np.max([sign * r.scores[o].by_draw for r in rivals], axis=0)
                beaten = float(np.mean(best > mine))
                regret = float(np.mean(np.maximum(best - mine, 0.0)))
            else:
                beaten, regret = 0.0, 0.0
            rows.append({"package": p.number, "cost_yuan_per_year": p.cost, "objective": o,
                         "mean": p.scores[o].mean, "pessimistic": p.scores[o].pessimistic,
                         "worst_draw": float(sign * np.min(mine)), "beaten_share_of_draws": beaten,
                         "mean_regret": regret, "draws": len(mine)})
        return pd.DataFrame(rows)

    def tables(self) -> StudyTables:
        """The study's tables (what :meth:`write` writes and :func:`read_study` reads back)."""
        s = self.study.settings
        return StudyTables(self.study.scenario, s.budget, s.spec, s.scale, s.seed, s.posterior or "default parameters",
                           self.table(), self.table(self.front()), self.robustness(),
                           self.table([self.actual]) if self.actual is not None else None, self.study.out)

    def write(self, out: str | Path) -> None:
        """``packages.csv``, ``front.csv``, ``robustness.csv`` and ``actual.csv`` in ``out``."""
        self.tables().write(out)

    def text(self) -> str:
        """The command line's summary (:meth:`StudyTables.text`)."""
        return self.tables().text()
