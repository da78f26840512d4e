"""The calibration pipeline: screening, ABC-SMC, posterior-predictive check, tension report.

:class:`Calibration` ties the targets table and the priors to the experiment runner:

1. **Screening** (Morris elementary effects, SALib): every candidate prior is moved across its
   range along a few trajectories, all points under one seed (common random numbers), and
   each parameter is scored by its largest mean absolute effect on a target in units of that
   target's tolerance. Each target's strongest parameter is estimated, then the next highest
   scores, as long as they reach ``min_effect`` (at most ``max_params``); the rest keep their
   documented defaults.
2. **Inference** (:func:`sim.calibration.abc.abc_smc`). Method ``"simulator"``: one simulation
   per particle and scenario, every batch run by :func:`sim.experiments.runner.run_tasks` (local
   processes or a Dask cluster) into the calibration's results store, so a restarted calibration
   reuses every finished simulation. Method ``"emulator"`` (default): a Latin-hypercube design
   simulated once per point in every compared scenario (into the same store), a Gaussian-process
   emulator per target (:mod:`sim.calibration.emulator`), and ABC-SMC on synthetic simulations
   drawn from the emulators until ε and the posterior means stop moving; leave-one-city-out
   (:meth:`Calibration.leave_one_out`) reuses the design.
3. **Posterior-predictive check**: fresh simulations of parameter sets drawn from the
   posterior, one per draw and scenario, held-out city included; per target the median and
   the 90 % interval against the reported value.
4. **Tension report**: per target, how close any simulation inside the priors came, which
   parameter moves it most, and whether the posterior is pressed against a prior bound; and,
   per city, how much of the simulated change each intervention accounts for (the scenario
   with that intervention switched off, under common random numbers and the same posterior
   draws).

Distances. A target's discrepancy is (simulated − reported) / tolerance, zero on the right side
of a bound; targets reported only as a direction (tolerance 0) use :data:`DIRECTION_SPREAD`.
A particle's distance is the root mean square over the compared targets, each capped at
:data:`CAP` tolerances (a year-on-year change of a count that was zero is undefined and gets
the cap). A target is a **hit** when its simulated 90 % interval meets its acceptance region
(``value ± tolerance``, or the half-line beyond a bound, widened by the tolerance).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.calibration.abc import ABCResult, Population, abc_smc
from sim.calibration.emulator import Emulators
from sim.calibration.posterior import Posterior, with_parameters
from sim.calibration.targets import (
    SCENARIO_MIN_SCALE,
    Prior,
    load_priors,
    load_targets,
)
from sim.csv_output import write_csv
from sim.experiments.runner import Task, replicate_seed, run_tasks
from sim.experiments.store import ResultsStore, model_version, run_id
from sim.rng import stream
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["Calibration", "CalibrationConfig", "cut_scenario", "target_statistics", "discrepancies", "hits",
           "target_spread", "DIRECTION_SPREAD", "CAP", "METHODS"]

#: Spread of a target reported as a direction only (tolerance 0), by kind: 5 points of change.
DIRECTION_SPREAD = {"yoy_change": 5.0, "rate": 0.01, "level": 1.0}
#: Largest discrepancy a single target contributes, in tolerances.
CAP = 10.0
#: Inference methods (``CalibrationConfig.method``).
METHODS = ("emulator", "simulator")

# Seed offsets (replicate numbers under the calibration's seed) of each stage's simulations, so
# stages never share a seed and each stage's seeds do not depend on the others' sizes.
# The emulator method's design uses the ABC offset (it replaces the ABC simulations).
_SCREEN, _ABC, _PREDICT, _ATTRIBUTE = 2**30, 0, 2**29, 2**29 + 2**28


@dataclass
class CalibrationConfig:
    """What a calibration does; written to ``config.json`` beside its results."""

    targets: str = "calibration/targets.csv"
    priors: str = "calibration/priors.yaml"
    hold_out: str | None = None
    #: "emulator": ABC-SMC on Gaussian-process emulators fitted to a design of real simulations;
    #: "simulator": ABC-SMC on the model itself (one real simulation per particle and scenario).
    method: str = "emulator"
    design: int = 400  # emulator: design points, each simulated once in every compared scenario
    #: simulator: simulations (runs of one scenario) for ABC-SMC, default 2000; emulator:
    #: synthetic particles drawn from the emulators, default 300 × particles.
    budget: int | None = None
    particles: int | None = None  # per generation; default 100 (simulator), 1000 (emulator)
    scale: float = 0.1
    seed: int = 1
    trajectories: int = 2  # Morris trajectories
    min_effect: float = 0.5  # screening threshold, in target tolerances
    max_params: int = 10
    draws: int = 40  # posterior-predictive draws
    attribution_replicates: int = 4
    quantile: float = 0.5
    max_generations: int | None = None  # default 12 (simulator), 30 (emulator)
    #: emulator: stop when ε falls by less than this share between two generations and ... (under
    #: the median schedule ε keeps falling a few % a generation even at the noise floor: 2 % rarely
    #: fires before the acceptance stop)
    eps_rtol: float = 0.05
    #: ... no posterior mean moves this many prior widths (the simulator method has no such stop).
    mean_shift_tol: float = 0.02
    cv_folds: int = 5  # emulator cross-validation
    #: emulator: after the calibration, calibrate without each city in turn and predict it
    #: (:meth:`Calibration.leave_one_out`).
    leave_one_out: bool = False
    #: Compare every target whatever the scale (demonstrations and tests only: below a target's
    #: min_scale its statistic is not shown to agree with full scale).
    any_scale: bool = False

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {self.method!r}")
        for name, least in (("design", 2), ("budget", 1), ("particles", 2), ("max_generations", 1),
                            ("cv_folds", 2)):
            v = getattr(self, name)
            if v is not None and v < least:
                raise ValueError(f"{name}: expected at least {least}, got {v}")
        if self.eps_rtol < 0 or self.mean_shift_tol <= 0:
            raise ValueError(f"eps_rtol and mean_shift_tol: expected >= 0 and > 0, got {self.eps_rtol} and "
                             f"{self.mean_shift_tol}")

    @property
    def n_particles(self) -> int:
        """Particles per generation (the method's default unless set)."""
        return self.particles or (1000 if self.method == "emulator" else 100)

    @property
    def n_generations(self) -> int:
        """Most generations (the method's default unless set)."""
        return self.max_generations or (30 if self.method == "emulator" else 12)

    @property
    def n_budget(self) -> int:
        """Simulations (simulator) or synthetic particles (emulator) for ABC-SMC."""
        return self.budget or (300 * self.n_particles if self.method == "emulator" else 2000)

    @classmethod
    def read(cls, folder: str | Path) -> CalibrationConfig:
        """The configuration a finished calibration wrote to ``folder/config.json`` (its other
        entries, such as the scales and the model version, are left out)."""
        written = json.loads((Path(folder) / "config.json").read_text())
        written.setdefault("method", "simulator")  # written before the emulator method existed
        return cls(**{k: v for k, v in written.items() if k in {f.name for f in fields(cls)}})


def _mean_over(frame: pd.DataFrame, metric: str, years) -> float:
    v = frame.loc[frame["year"].isin(list(years)), metric]
    return float(v.mean()) if len(v) else math.nan


def target_statistics(rows: list[dict], targets: pd.DataFrame, scale: float) -> np.ndarray:
    """The simulated value of each target (rows of ``targets``) from one run's yearly rows.

    Levels are divided by ``scale`` (whole-city counts); rates and changes are as simulated.
    """
    frame = pd.DataFrame(rows)
    out = np.full(len(targets), math.nan)
    for i, t in enumerate(targets.itertuples(index=False)):
        if t.metric not in frame:
            continue
        now = _mean_over(frame, t.metric, t.years)
        if t.kind == "yoy_change":
            before = _mean_over(frame, t.metric, [t.base_year])
            out[i] = 100.0 * (now / before - 1.0) if before > 0 else math.nan
        elif t.kind == "level":
            out[i] = now / scale
        else:
            out[i] = now
    return out


def target_spread(targets: pd.DataFrame) -> np.ndarray:
    """Each target's spread in the distance: its tolerance, or :data:`DIRECTION_SPREAD` of its kind when 0.

    Works on the targets table and on ``predictive.csv`` (both have ``tolerance`` and ``kind``).
    """
    tol = targets["tolerance"].to_numpy(dtype=float)
    fallback = targets["kind"].map(DIRECTION_SPREAD).to_numpy(dtype=float)
    return np.where(tol > 0, tol, fallback)


_spread = target_spread


def discrepancies(stats: np.ndarray, targets: pd.DataFrame, cap: float | None = CAP) -> np.ndarray:
    """(simulated − reported) / spread per target, 0 on the right side of a bound, capped at ``cap``.

    Without a cap, an undefined statistic stays NaN.
    """
    value = targets["value"].to_numpy(dtype=float)
    bound = targets["bound"].to_numpy()
    e = (np.asarray(stats, dtype=float) - value) / _spread(targets)
    e = np.where((bound == "lower") & (e > 0), 0.0, e)
    e = np.where((bound == "upper") & (e < 0), 0.0, e)
    if cap is None:
        return e
    return np.where(np.isfinite(e), np.clip(e, -cap, cap), cap)


def hits(lo: np.ndarray, hi: np.ndarray, targets: pd.DataFrame) -> np.ndarray:
    """Whether each simulated interval [lo, hi] meets the target's acceptance region."""
    value = targets["value"].to_numpy(dtype=float)
    tol = targets["tolerance"].to_numpy(dtype=float)
    bound = targets["bound"].to_numpy()
    ok = (hi >= value - tol) & (lo <= value + tol)
    ok = np.where(bound == "lower", hi >= value - tol, ok)
    ok = np.where(bound == "upper", lo <= value + tol, ok)
    return ok & np.isfinite(lo) & np.isfinite(hi)


def cut_scenario(name: str, base: Scenario, years: int) -> Scenario:
    """The scenario cut to its first ``years`` years (no later year changes an earlier one).

    An intervention that starts after the cut is switched off, which changes nothing before
    its start (every random draw is counter-based); if the cut scenario still does not
    validate, the whole run is kept.
    """
    if years >= base.run.years:
        return base
    last = base.run.first_year + years - 1
    later = [f"interventions.{k}.enabled=false" for k, v in base.interventions
             if getattr(v, "enabled", False) and (getattr(v, "start_year", None) or 0) > last]
    try:
        return load_scenario(name, [f"run.years={years}", *later])
    except ScenarioError:
        return base


def _rms(e: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(e), axis=-1))


class Calibration:
    """One calibration: its configuration, results folder and store.

    Args:
        config: What to do.
        out: Results folder (created); the store is ``out/store.sqlite``.
        jobs, backend, scheduler: As for :func:`sim.experiments.runner.run_tasks`.
        progress: Progress bars and one line per stage and generation.
        log: Where the lines go (``print`` by default).
        store: A results store to share (leave-one-out runs use their parent's); by default
            ``out/store.sqlite``, opened here and closed by :meth:`close`.
    """

    def __init__(self, config: CalibrationConfig, out: str | Path, jobs: int = -1, backend: str = "loky",
                 scheduler: str | None = None, progress: bool = True, log: Callable[[str], None] = print,
                 store: ResultsStore | None = None):
        self.config = config
        self.out = Path(out)
        self.jobs, self.backend, self.scheduler, self.progress = jobs, backend, scheduler, progress
        self.log = log if progress else (lambda _msg: None)
        self.targets = load_targets(config.targets)
        self.candidates = load_priors(config.priors)
        cities = set(self.targets["city"])
        if config.hold_out is not None and config.hold_out not in cities:
            raise ValueError(f"--hold-out {config.hold_out!r}: no target of that city in {config.targets} "
                             f"(cities: {sorted(cities)})")
        self.held_out = (self.targets["city"] == config.hold_out).to_numpy()
        # Every scenario of the table, with its run cut after the last year a target needs.
        self.scenarios: dict[str, Scenario] = {}
        for name, group in self.targets.groupby("scenario", sort=True):
            base = load_scenario(name)
            last = max(max(ys) for ys in group["years"])
            years = last - base.run.first_year + 1
            self.scenarios[name] = cut_scenario(name, base, years)
        self.scales = {n: max(config.scale, SCENARIO_MIN_SCALE.get(n, 0.0)) for n in self.scenarios}
        # A target is compared only at a scale shown to agree with full scale for it (its min_scale).
        scale_of = self.targets["scenario"].map(self.scales).to_numpy(dtype=float)
        self.compared = scale_of >= self.targets["min_scale"].to_numpy(dtype=float) - 1e-12
        if config.any_scale:
            self.compared[:] = True
        self.used = self.compared & ~self.held_out
        if not self.used.any():
            raise ValueError(f"no target of {config.targets} can be compared at scale {config.scale:g}"
                             + (f" without {config.hold_out}" if config.hold_out else "")
                             + f" (smallest min_scale: {self.targets['min_scale'].min():g})")
        if config.leave_one_out:
            self.check_leave_one_out()
        self.params: list[Prior] = []
        self.stats: dict[int, np.ndarray] = {}  # ABC simulation index -> target statistics
        self.design_u: np.ndarray | None = None  # emulator method: the design (unit cube) ...
        self.design_stats: np.ndarray | None = None  # ... and its simulations' target statistics
        self.emulators: Emulators | None = None
        self.emulator_cv: pd.DataFrame | None = None
        self.out.mkdir(parents=True, exist_ok=True)
        self._owns_store = store is None
        self.store = ResultsStore(self.out / "store.sqlite") if store is None else store
        self.sims = {"screening": 0, "design": 0, "abc": 0, "predictive": 0, "attribution": 0}

    def close(self) -> None:
        if self._owns_store:
            self.store.close()

    # -- simulations ---------------------------------------------------------------------------

    def simulate(self, points: list[dict[str, float]], seeds: list[int], scenarios: list[str], stage: str,
                 extra: list[list[str]] | None = None) -> np.ndarray:
        """Simulate each point (parameter values) in each scenario; target statistics, points × targets.

        Targets of scenarios not simulated are NaN. ``extra`` adds per-point overrides (e.g. an
        intervention switched off) applied after the parameters.
        """
        tasks: list[Task] = []
        where: list[tuple[int, str]] = []
        for i, (point, seed) in enumerate(zip(points, seeds, strict=True)):
            for name in scenarios:
                payload = with_parameters(self.scenarios[name], point, extra[i] if extra else ()).model_dump_json()
                scale = self.scales[name]
                key = {**point, **({"_overrides": extra[i]} if extra and extra[i] else {})}
                tasks.append(Task(name, payload, i, dict(point), i, int(seed), scale,
                                  run_id(payload, key, int(seed), scale)))
                where.append((i, name))
        run_tasks(tasks, self.jobs, self.backend, self.scheduler, self.store, sweep=stage,
                  progress=self.progress, keep=False)
        self.sims[stage] = self.sims.get(stage, 0) + len(tasks)
        rows = self.store.run_rows([t.run_id for t in tasks])
        out = np.full((len(points), len(self.targets)), math.nan)
        for t, (i, name) in zip(tasks, where, strict=True):
            mask = (self.targets["scenario"] == name).to_numpy()
            out[i, mask] = target_statistics(rows[t.run_id], self.targets[mask], self.scales[name])
        return out

    def _scenarios_used(self) -> list[str]:
        return sorted(set(self.targets.loc[self.used, "scenario"]))

    def _natural(self, u: np.ndarray, priors: list[Prior] | None = None) -> np.ndarray:
        """Unit-cube rows as parameter values, rows × priors (the estimated ones by default)."""
        priors = self.params if priors is None else priors
        return np.array([[p.from_unit(x) for p, x in zip(priors, row, strict=True)] for row in np.atleast_2d(u)])

    def _values(self, priors: list[Prior], u: np.ndarray) -> list[dict[str, float]]:
        keys = [p.key for p in priors]
        return [dict(zip(keys, map(float, row), strict=True)) for row in self._natural(u, priors)]

    def distance(self, stats: np.ndarray) -> np.ndarray:
        return _rms(discrepancies(stats, self.targets)[:, self.used])

    # -- 1. screening --------------------------------------------------------------------------

    def screen(self) -> pd.DataFrame:
        """Morris screening of the candidate priors; sets :attr:`params` and writes ``screening.csv``."""
        from SALib.analyze import morris as morris_analyze
        from SALib.sample import morris as morris_sample

        cfg = self.config
        k = len(self.candidates)
        problem = {"num_vars": k, "names": [p.key for p in self.candidates], "bounds": [[0.0, 1.0]] * k}
        u = morris_sample.sample(problem, N=cfg.trajectories, num_levels=4, seed=cfg.seed)
        self.log(f"screening: {len(u)} Morris points × {len(self._scenarios_used())} scenarios, one seed")
        seed = replicate_seed(cfg.seed, _SCREEN)
        stats = self.simulate(self._values(self.candidates, u), [seed] * len(u), self._scenarios_used(),
                              "screening")
        spread = _spread(self.targets)
        table = pd.DataFrame({"key": problem["names"]})
        cols = {}
        for j in np.flatnonzero(self.used):
            y = stats[:, j]
            tid = self.targets["target_id"].iloc[j]
            if not np.all(np.isfinite(y)):
                y = np.where(np.isfinite(y), y, np.nanmedian(y))
            with warnings.catch_warnings():  # one trajectory has no spread of effects (sigma): only mu* is used
                warnings.simplefilter("ignore", RuntimeWarning)
                res = morris_analyze.analyze(problem, u, y, num_levels=4, print_to_console=False)
            cols[tid] = np.asarray(res["mu_star"]) / spread[j]
        effects = pd.DataFrame(cols)
        table["score"] = effects.max(axis=1).to_numpy()
        table["most_affected"] = effects.idxmax(axis=1).to_numpy()
        # Every target's strongest parameter first (so no mechanism is left unestimated because
        # another target's effects are larger in tolerances), then the highest scores.
        order = table.sort_values("score", ascending=False, kind="stable")
        by_key = effects.set_axis(problem["names"], axis=0)
        tops = {str(by_key[c].idxmax()) for c in by_key.columns if by_key[c].max() >= cfg.min_effect}
        ranked = order["key"].tolist()
        score = dict(zip(table["key"], table["score"], strict=True))
        above = [k for k in ranked if k in tops] + [k for k in ranked if k not in tops and score[k] >= cfg.min_effect]
        chosen = pd.Series((above or ranked[:2])[:cfg.max_params])
        table["selected"] = table["key"].isin(set(chosen))
        table = pd.concat([table, effects], axis=1).sort_values("score", ascending=False, kind="stable")
        write_csv(table, self.out / "screening.csv", float_format="%.6g")
        self.params = [p for p in self.candidates if p.key in set(chosen)]
        self.log("screening: estimating " + ", ".join(p.key for p in self.params))
        return table

    # -- 2. inference --------------------------------------------------------------------------

    def infer(self) -> ABCResult:
        """ABC-SMC over :attr:`params`; writes ``populations.csv``, ``diagnostics.csv``, ``posterior.csv``.

        With the emulator method, first simulates the design and fits the emulators if that is not
        done yet (:meth:`simulate_design`, :meth:`fit_emulators`), then samples on the emulators.
        """
        if self.config.method == "emulator":
            return self._infer_emulator()
        cfg = self.config
        scenarios = self._scenarios_used()
        per = len(scenarios)
        budget = max(cfg.n_particles, cfg.n_budget // per)
        started = time.time()

        def simulate(u: np.ndarray, first: int) -> np.ndarray:
            seeds = [replicate_seed(cfg.seed, _ABC + first + i) for i in range(len(u))]
            stats = self.simulate(self._values(self.params, u), seeds, scenarios, "abc")
            for i, s in enumerate(stats):
                self.stats[first + i] = s
            return self.distance(stats)

        self.log(f"ABC-SMC: {len(self.params)} parameters, {cfg.n_particles} particles, budget {budget} particles "
                 f"× {per} scenarios")
        result = abc_smc(simulate, len(self.params), cfg.n_particles, budget, cfg.seed, quantile=cfg.quantile,
                         max_generations=cfg.n_generations, on_generation=self._reporter(started))
        self.result = result
        self._write_diagnostics(result)
        return result

    def _reporter(self, started: float) -> Callable[[Population], None]:
        def report(pop: Population) -> None:
            self.log(f"generation {pop.generation}: epsilon {pop.epsilon:.3g}, acceptance {pop.acceptance:.2f}, "
                     f"ESS {pop.ess:.0f}, median distance {np.median(pop.distances):.3g}, "
                     f"{time.time() - started:.0f} s")
            self._write_population(pop)

        return report

    # -- 2'. inference on emulators -------------------------------------------------------------

    def _scenarios_compared(self) -> list[str]:
        return sorted(set(self.targets.loc[self.compared, "scenario"]))

    def simulate_design(self) -> np.ndarray:
        """Simulate a Latin-hypercube design over :attr:`params` once in every compared scenario.

        The held-out city's scenarios are simulated too, so that leave-one-out reuses the same
        design. Deterministic in the seed; every run goes into the store (a rerun finds them).
        Sets :attr:`design_u` (points × parameters, unit cube) and :attr:`design_stats`.
        """
        cfg = self.config
        lhs = qmc.LatinHypercube(d=len(self.params), seed=stream(cfg.seed, "calibration.design"))
        u = lhs.random(cfg.design)
        scenarios = self._scenarios_compared()
        self.log(f"design: {cfg.design} points × {len(scenarios)} scenarios, one seed per point")
        seeds = [replicate_seed(cfg.seed, _ABC + i) for i in range(cfg.design)]
        self.design_u = u
        self.design_stats = self.simulate(self._values(self.params, u), seeds, scenarios, "design")
        return self.design_stats

    def fit_emulators(self) -> pd.DataFrame:
        """Fit a Gaussian-process emulator per target in use on the design; cross-validate; ``emulator.csv``.

        Targets not in use (not compared, or the held-out city's) get no emulator: they never
        enter the fit.
        """
        cfg = self.config
        if self.design_stats is None:
            self.simulate_design()
        y = np.where(self.used, self.design_stats, math.nan)
        t0 = time.time()
        self.emulators = Emulators(seed=cfg.seed).fit(self.design_u, y)
        fitted = time.time() - t0
        cv = self.emulators.cross_validate(self.design_u, y, _spread(self.targets), folds=cfg.cv_folds)
        ls = self.emulators.length_scales()
        cv.insert(0, "target_id", self.targets["target_id"].to_numpy())
        for k, p in enumerate(self.params):
            cv[f"length_scale:{p.key}"] = ls[:, k]
        cv = cv[self.used].reset_index(drop=True)
        write_csv(cv, self.out / "emulator.csv", float_format="%.6g")
        self.emulator_cv = cv
        self.emulator_seconds = {"fit": round(fitted, 1), "cross_validation": round(time.time() - t0 - fitted, 1)}
        self.log(f"emulators: {int(self.used.sum())} targets fitted in {fitted:.0f} s; cross-validated R² median "
                 f"{cv['r2'].median():.2f}, 90 % coverage median {cv['coverage_90'].median():.2f}")
        return cv

    def _infer_emulator(self) -> ABCResult:
        cfg = self.config
        if self.emulators is None:
            self.fit_emulators()
        emulators = self.emulators

        def simulate(u: np.ndarray, first: int) -> np.ndarray:
            # One synthetic simulation per particle: mean + sd × z, z drawn from a stream named by the
            # particle's global index, so a rerun draws the same simulation whatever the batching.
            # Targets that are one statistic share their z; other targets' noises are drawn
            # independently (the emulators do not model the correlation between statistics).
            mean, sd = emulators.predict(u)
            z = np.array([stream(cfg.seed, f"calibration.emulator.{first + i}").standard_normal(mean.shape[1])
                          for i in range(len(u))])
            return self.distance(mean + sd * z[:, emulators.groups])

        budget = max(cfg.n_particles, cfg.n_budget)
        self.log(f"ABC-SMC on emulators: {len(self.params)} parameters, {cfg.n_particles} particles, budget "
                 f"{budget} synthetic simulations")
        result = abc_smc(simulate, len(self.params), cfg.n_particles, budget, cfg.seed, quantile=cfg.quantile,
                         max_generations=cfg.n_generations, on_generation=self._reporter(time.time()),
                         eps_rtol=cfg.eps_rtol, mean_shift_tol=cfg.mean_shift_tol)
        self.result = result
        self._write_diagnostics(result)
        self.log(f"ABC-SMC stopped: {result.stopped} after {len(result.populations)} generations")
        return result

    def posterior(self) -> Posterior:
        pop = self.result.posterior
        return Posterior(tuple(p.key for p in self.params), self._natural(pop.u), pop.weights,
                         str(self.out / "posterior.csv"))

    def _write_population(self, pop: Population) -> None:
        path = self.out / "populations.csv"
        df = pd.DataFrame(self._natural(pop.u), columns=[p.key for p in self.params])
        df.insert(0, "distance", pop.distances)
        df.insert(0, "weight", pop.weights)
        df.insert(0, "simulation", pop.index)
        df.insert(0, "generation", pop.generation)
        old = pd.read_csv(path) if path.exists() and pop.generation > 0 else None
        if old is not None:
            df = pd.concat([old[old["generation"] < pop.generation], df], ignore_index=True)
        write_csv(df, path, float_format="%.8g")

    def _write_diagnostics(self, result: ABCResult) -> None:
        rows = []
        prev = None
        for pop in result.populations:
            mean = pop.mean
            sd = np.sqrt(pop.weights @ (pop.u - mean) ** 2)
            row = {"generation": pop.generation, "epsilon": pop.epsilon, "accepted": len(pop.u),
                   "proposed": pop.proposed, "acceptance": pop.acceptance, "ess": pop.ess,
                   "median_distance": float(np.median(pop.distances)),
                   # Convergence: how far the posterior mean moved since the last generation, in prior widths.
                   "max_mean_shift": pop.mean_shift(prev) if prev is not None else math.nan}
            for p, m, s in zip(self.params, mean, sd, strict=True):
                row[f"mean_u:{p.key}"] = m
                row[f"sd_u:{p.key}"] = s
            rows.append(row)
            prev = pop
        write_csv(pd.DataFrame(rows), self.out / "diagnostics.csv", float_format="%.6g")
        self.posterior().save(self.out / "posterior.csv")

    # -- 3. posterior-predictive check ---------------------------------------------------------

    def _draws(self, n: int, offset: int) -> tuple[list[dict[str, float]], list[int]]:
        post = self.posterior()
        seeds = [replicate_seed(self.config.seed, offset + r) for r in range(n)]
        return [post.draw(self.config.seed + offset, r) for r in range(n)], seeds

    def predict(self, scenarios: list[str] | None = None) -> pd.DataFrame:
        """Posterior-predictive check of every target (held-out city included): ``predictive.csv``.

        Args:
            scenarios: Simulate only these (their targets' rows only are written); default every
                compared scenario.
        """
        cfg = self.config
        points, seeds = self._draws(cfg.draws, _PREDICT)
        only = scenarios
        scenarios = sorted(set(self.targets.loc[self.compared, "scenario"])) if only is None else sorted(only)
        self.log(f"posterior predictive: {cfg.draws} draws × {len(scenarios)} scenarios")
        stats = self.simulate(points, seeds, scenarios, "predictive")
        self.predictive_stats = stats
        t = self.targets
        with warnings.catch_warnings():  # targets of scenarios not simulated are NaN throughout
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, med, hi = (np.nanquantile(stats, q, axis=0) for q in (0.05, 0.5, 0.95))
        df = pd.DataFrame({
            "target_id": t["target_id"], "reported": t["value"], "sim_median": med, "sim_lo": lo, "sim_hi": hi,
            "hit": pd.array(hits(lo, hi, t), dtype="boolean"), "city": t["city"], "metric": t["metric"],
            "kind": t["kind"],
            "bound": t["bound"], "tolerance": t["tolerance"],
            "median_discrepancy": discrepancies(med, t), "held_out": self.held_out, "compared": self.compared,
        })
        df.loc[~df["compared"], "hit"] = pd.NA
        if only is not None:
            df = df[t["scenario"].isin(scenarios).to_numpy()].reset_index(drop=True)
        write_csv(df, self.out / "predictive.csv", float_format="%.6g")
        self.predictive = df
        return df

    # -- 4. tension report ---------------------------------------------------------------------

    def tension(self) -> pd.DataFrame:
        """Per target: best simulation inside the priors, the parameter that moves it most, bound pressure."""
        from scipy.stats import spearmanr

        t = self.targets
        if self.design_stats is not None:  # the emulator method's design is a prior sample of real simulations
            stats, u = self.design_stats, self.design_u
            gen0 = np.ones(len(u), dtype=bool)
        else:
            idx = np.array(sorted(self.stats))
            stats = np.array([self.stats[i] for i in idx])
            u = self.result.all_u[idx]
            gen0 = idx < self.config.n_particles  # the prior sample
        e = discrepancies(stats, t, cap=None)
        post = self.result.posterior
        rows = []
        for j in range(len(t)):
            tid = t["target_id"].iloc[j]
            pred = self.predictive.iloc[j]
            hit = bool(pred["hit"]) if not pd.isna(pred["hit"]) else False
            row = {"target_id": tid, "reported": t["value"].iloc[j], "hit": pred["hit"],
                   "held_out": bool(self.held_out[j]), "sim_median": pred["sim_median"]}
            col = e[:, j]
            ok = np.isfinite(col)
            if ok.any():
                best = int(np.argmin(np.where(ok, np.abs(col), np.inf)))
                row["best_simulated"] = stats[best, j]
                row["best_gap_tolerances"] = float(col[best])
                row["share_of_simulations_within_tolerance"] = float(np.mean(np.abs(col[ok]) <= 1.0))
            driver, rho = "", math.nan
            m = gen0 & ok
            if m.sum() > 5 and np.ptp(stats[m, j]) > 0:
                rhos = [spearmanr(u[m, k], stats[m, j]).statistic for k in range(u.shape[1])]
                k = int(np.nanargmax(np.abs(rhos)))
                driver, rho = self.params[k].key, float(rhos[k])
                mean_u = float(post.mean[k])
                need = -np.sign(pred["median_discrepancy"]) * np.sign(rho)
                row["driver_should_be"] = "" if hit or need == 0 else ("higher" if need > 0 else "lower")
                row["driver_posterior_mean_u"] = mean_u
                row["driver_at_bound"] = bool(mean_u < 0.15 or mean_u > 0.85)
            row["driver"] = driver
            row["driver_spearman"] = rho
            rows.append(row)
        df = pd.DataFrame(rows)
        write_csv(df, self.out / "tension.csv", float_format="%.6g")
        self.tension_table = df
        return df

    def attribute(self) -> pd.DataFrame:
        """Per city, the simulated change with every intervention and with each one off: ``attribution.csv``."""
        cfg = self.config
        t = self.targets
        points, seeds = self._draws(cfg.attribution_replicates, _ATTRIBUTE)
        rows = []
        for name in sorted(set(t.loc[self.compared, "scenario"])):
            scen = self.scenarios[name]
            on = [k for k, v in scen.interventions if getattr(v, "enabled", False)]
            yoy = t[(t["scenario"] == name) & (t["kind"] == "yoy_change")].drop_duplicates("metric")
            if yoy.empty or not on:
                continue
            variants = [("all", [])] + [(f"without {k}", [f"interventions.{k}.enabled=false"]) for k in on]
            variants.append(("none", [f"interventions.{k}.enabled=false" for k in on]))
            self.log(f"attribution: {name}, {len(variants)} variants × {len(points)} replicates")
            n = len(points)
            stats = self.simulate(points * len(variants), seeds * len(variants), [name], "attribution",
                                  extra=[v for _, v in variants for _ in range(n)])
            cols = [int(np.flatnonzero((t["target_id"] == tid).to_numpy())[0]) for tid in yoy["target_id"]]
            for vi, (label, _) in enumerate(variants):
                block = stats[vi * n:(vi + 1) * n]
                for j, metric in zip(cols, yoy["metric"], strict=True):
                    allv = stats[:n, j]
                    diff = allv - block[:, j]
                    rows.append({"scenario": name, "city": scen.city.preset, "variant": label, "metric": metric,
                                 "change_pct": float(np.nanmean(block[:, j])),
                                 "change_pct_sd": float(np.nanstd(block[:, j], ddof=1)),
                                 "contribution_pts": float(np.nanmean(diff)) if vi else math.nan,
                                 "contribution_sd": float(np.nanstd(diff, ddof=1)) if vi else math.nan})
        df = pd.DataFrame(rows)
        write_csv(df, self.out / "attribution.csv", float_format="%.6g")
        self.attribution = df
        return df

    # -- all of it -----------------------------------------------------------------------------

    def run(self, plots: bool = True) -> dict:
        """Screen, infer, predict, report; returns the summary also written to ``summary.json``."""
        started = time.time()
        stages: dict[str, float] = {}

        def timed(name: str, fn: Callable[[], object]) -> None:
            t0 = time.time()
            fn()
            stages[name] = round(time.time() - t0, 1)

        self._write_config()
        timed("screening", self.screen)
        if self.config.method == "emulator":
            timed("design", self.simulate_design)
            timed("emulator", self.fit_emulators)
        timed("abc", self.infer)
        timed("predictive", self.predict)
        self.tension()
        if self.config.attribution_replicates >= 2:
            timed("attribution", self.attribute)
        if self.config.leave_one_out:
            timed("leave_one_out", self.leave_one_out)
        if plots:
            from sim.calibration.plots import plot_all

            periods = self.targets.set_index("target_id")["period"]
            predictive = self.predictive.assign(period=self.predictive["target_id"].map(periods))
            plot_all(self.out, self.posterior(), self.params, predictive, _spread(self.targets),
                     self.result.populations)
        pred = self.predictive
        compared = pred[pred["compared"]]
        summary = {
            "wall_seconds": round(time.time() - started, 1),
            "stage_seconds": stages,  # simulations found in the store cost next to nothing
            "simulations": dict(self.sims, total=sum(self.sims.values())),
            "generations": len(self.result.populations), "stopped": self.result.stopped,
            "final_epsilon": self.result.posterior.epsilon if math.isfinite(self.result.posterior.epsilon) else None,
            "parameters": [p.key for p in self.params],
            "hits": int(compared["hit"].astype(bool).sum()), "targets_compared": int(len(compared)),
            "held_out": self.config.hold_out,
            "held_out_hits": int(compared.loc[compared["held_out"], "hit"].astype(bool).sum()),
            "held_out_targets": int(compared["held_out"].sum()),
            "scales": self.scales, "model_version": model_version(),
            "method": self.config.method,
        }
        if self.config.method == "emulator":
            summary.update(self._emulator_summary())
        if self.config.leave_one_out:
            t = self.leave_one_out_table
            summary["leave_one_out"] = {c: {"hits": int(g["hit"].astype(bool).sum()), "targets": int(len(g))}
                                        for c, g in t.groupby("city")}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        self.log(f"calibration done in {summary['wall_seconds']:.0f} s: {summary['hits']} of "
                 f"{summary['targets_compared']} targets hit; {summary['simulations']['total']} simulations")
        return summary

    def _emulator_summary(self) -> dict:
        cv = self.emulator_cv
        last = self.result.populations[-2:]
        shift = last[1].mean_shift(last[0]) if len(last) == 2 else None
        return {
            "design": self.config.design, "particles": self.config.n_particles,
            "synthetic_simulations": self.result.simulated,
            "epsilon_schedule": [p.epsilon for p in self.result.populations[1:]],
            "ess": round(self.result.posterior.ess, 1),
            "last_mean_shift": shift,  # prior widths, between the last two generations
            "emulator_seconds": self.emulator_seconds,
            "emulator_cv": {"targets": int(len(cv)), "r2_median": float(cv["r2"].median()),
                            "r2_min": float(cv["r2"].min()),
                            "coverage_90_median": float(cv["coverage_90"].median()),
                            "coverage_90_min": float(cv["coverage_90"].min()),
                            "rmse_tolerances_median": float(cv["rmse_tolerances"].median())},
        }

    # -- leave one city out --------------------------------------------------------------------

    def check_leave_one_out(self) -> None:
        """Raise ValueError, naming the reason, if this calibration cannot leave each city out in turn."""
        if self.config.method != "emulator" or self.config.hold_out is not None:
            raise ValueError("leave-one-out needs method 'emulator' and no hold-out city")
        cities = sorted(set(self.targets.loc[self.compared, "city"]))
        if len(cities) < 2:
            raise ValueError(f"leave-one-out needs targets of two cities or more at this scale, got {cities}")

    def leave_one_out(self) -> pd.DataFrame:
        """For each city: emulator ABC without its targets, then real simulations of its scenarios.

        Call after :meth:`run` (emulator method, nothing held out). Reuses the design, its store
        and the screening's parameters; each target has its own emulator, so leaving a city out
        drops its emulators and refits nothing else (a refit on the same design would give the
        same fit). Writes ``holdout-<city>/`` (``predictive.csv`` of the city's targets,
        ``diagnostics.csv``, ``populations.csv``, ``posterior.csv``, ``emulator.csv``,
        ``summary.json``) and ``leave_one_out.csv``.
        """
        from dataclasses import replace

        self.check_leave_one_out()
        if self.emulators is None:
            self.fit_emulators()
        tables = []
        for city in sorted(set(self.targets.loc[self.compared, "city"])):
            started = time.time()
            self.log(f"leave-one-out: {city}")
            child = Calibration(replace(self.config, hold_out=city, leave_one_out=False), self.out / f"holdout-{city}",
                                jobs=self.jobs,
                                backend=self.backend, scheduler=self.scheduler, progress=self.progress,
                                log=self.log, store=self.store)
            child.params = self.params
            child.design_u, child.design_stats = self.design_u, self.design_stats
            child.emulators = self.emulators  # the city's targets are excluded by child.used in the distance
            cv = self.emulator_cv
            child.emulator_cv = cv[cv["target_id"].isin(set(child.targets.loc[child.used, "target_id"]))]
            write_csv(child.emulator_cv, child.out / "emulator.csv", float_format="%.6g")
            child.emulator_seconds = {"fit": 0.0, "cross_validation": 0.0}
            child._write_config()
            child.infer()
            held = child.targets.loc[child.held_out & child.compared, "scenario"]
            pred = child.predict(sorted(set(held)))
            pred = pred[pred["held_out"] & pred["compared"]]
            summary = {
                "held_out": city, "wall_seconds": round(time.time() - started, 1),
                "simulations": dict(child.sims, total=sum(child.sims.values())),
                "generations": len(child.result.populations), "stopped": child.result.stopped,
                "parameters": [p.key for p in child.params],
                "held_out_hits": int(pred["hit"].astype(bool).sum()), "held_out_targets": int(len(pred)),
                **child._emulator_summary(),
            }
            (child.out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
            self.log(f"leave-one-out {city}: {summary['held_out_hits']} of {summary['held_out_targets']} held-out "
                     f"targets hit")
            tables.append(pred.assign(city=city)[["city", "target_id", "reported", "sim_lo", "sim_median",
                                                  "sim_hi", "hit"]].rename(columns={"target_id": "target"}))
            self.sims["leave_one_out"] = self.sims.get("leave_one_out", 0) + child.sims["predictive"]
            child.close()
        table = pd.concat(tables, ignore_index=True)
        write_csv(table, self.out / "leave_one_out.csv", float_format="%.6g")
        self.leave_one_out_table = table
        return table

    def _write_config(self) -> None:
        cfg = dict(self.config.__dict__, scales=self.scales, model_version=model_version())
        (self.out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
