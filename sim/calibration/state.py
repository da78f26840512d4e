"""What a calibration knows: its configuration, targets, scenarios and store, and what its stages found.

:class:`CalibrationState` is the shared state of a calibration's stages (:mod:`~sim.calibration.screening`,
:mod:`~sim.calibration.design`, :mod:`~sim.calibration.inference`, :mod:`~sim.calibration.predictive`,
:mod:`~sim.calibration.attribution`, :mod:`~sim.calibration.leave_one_out`): the targets table and
the priors, every target scenario cut to the years its targets need, which targets are compared,
used or held out, the results store, and how to simulate a parameter set in a scenario and
measure its distance to the reported outcomes. Each stage reads it and writes its findings back
(the estimated parameters, the ABC result, the predictive table, …); :class:`sim.calibration.calibrate.Calibration`
runs them in order.

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
from collections.abc import Callable
from dataclasses import dataclass, fields
from hashlib import sha256
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.abc import ABCResult
from sim.calibration.emulator import Emulators
from sim.calibration.posterior import Posterior, with_parameters
from sim.calibration.targets import (
    SCENARIO_MIN_SCALE,
    Prior,
    load_priors,
    load_targets,
)
from sim.experiments.runner import Task, replicate_seed, run_tasks
from sim.experiments.store import ResultsStore, model_version, run_id
from sim.scenario.loader import ScenarioError, load_scenario
from sim.scenario.schema import Scenario

__all__ = ["CalibrationState", "CalibrationConfig", "cut_scenario", "target_statistics", "discrepancies", "hits",
           "target_spread", "DIRECTION_SPREAD", "CAP", "METHODS", "SCREEN_SEEDS", "ABC_SEEDS", "PREDICT_SEEDS",
           "ATTRIBUTION_SEEDS", "SBC_SEEDS", "rms_distance", "inputs_version"]

#: Spread of a target reported as a direction only (tolerance 0), by kind: 5 points of change.
DIRECTION_SPREAD = {"yoy_change": 5.0, "rate": 0.01, "level": 1.0}
#: Largest discrepancy a single target contributes, in tolerances.
CAP = 10.0
#: Inference methods (``CalibrationConfig.method``).
METHODS = ("emulator", "simulator")

# Seed offsets (replicate numbers under the calibration's seed) of each stage's simulations, so
# stages never share a seed and each stage's seeds do not depend on the others' sizes.
# The emulator method's design uses the ABC offset (it replaces the ABC simulations).
SCREEN_SEEDS, ABC_SEEDS, PREDICT_SEEDS, ATTRIBUTION_SEEDS = 2**30, 0, 2**29, 2**29 + 2**28
#: The simulation-based calibration check's truths (:mod:`sim.calibration.sbc`).
SBC_SEEDS = 2**28


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
    trajectories: int = 2  # Morris trajectories (per screening seed)
    #: Screening seeds: each draws its own trajectories and simulates them under its own seed; the
    #: effects are averaged over them (:mod:`sim.calibration.screening`).
    screening_seeds: int = 1
    #: Measure each target's seed noise over this many runs of the shipped defaults (0: not measured). The
    #: screening then counts only effects beyond it (:mod:`sim.calibration.screening`), and the emulator
    #: method leaves out of the fit every target whose spread over the design is mostly that noise
    #: (:func:`sim.calibration.design.mark_noise_dominated`).
    noise_seeds: int = 0
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
    #: Stop after the generation whose ε reaches this distance (root mean square over the fitted targets,
    #: in their tolerances: at 1 they are within their tolerances on average, the precision the reported
    #: figures carry; :mod:`sim.calibration.abc`). None: no floor, ε falls until another stop.
    min_epsilon: float | None = None
    #: Stop when a generation accepts less than this share of its proposals: a floor for a sampler
    #: that can no longer improve cheaply. Default 0.02 (simulator: each proposal is real
    #: simulations); emulator 0.005 (each generation below it costs 1.3-2x the one before, most of
    #: it the emulators' predictive variance; docs/calibration.md shows what still moves there).
    min_acceptance: float | None = None
    #: emulator: fit the targets no design simulation came within tolerance of (out of the model's
    #: reach anywhere in the priors). By default they are left out of the distance (a target the
    #: model cannot reach would otherwise drive ε and pull the parameters that move it to their
    #: bounds), still predicted and scored, and a second inference with them reports how the
    #: posterior moves (``unreachable.csv``).
    fit_unreachable: bool = False
    #: emulator: prior draws simulated and inferred back by the simulation-based calibration check
    #: (:mod:`sim.calibration.sbc`; 0 skips it), and particles per generation of each (default: particles).
    sbc_truths: int = 0
    sbc_particles: int | None = None
    cv_folds: int = 5  # emulator cross-validation
    #: emulator: after the calibration, calibrate without each city in turn and predict it
    #: (:mod:`sim.calibration.leave_one_out`).
    leave_one_out: bool = False
    #: Compare every target whatever the scale (demonstrations and tests only: below a target's
    #: min_scale its statistic is not shown to agree with full scale).
    any_scale: bool = False

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {self.method!r}")
        for name, least in (("design", 2), ("budget", 1), ("particles", 2), ("max_generations", 1),
                            ("cv_folds", 2), ("sbc_truths", 0), ("sbc_particles", 2), ("trajectories", 1),
                            ("screening_seeds", 1)):
            v = getattr(self, name)
            if v is not None and v < least:
                raise ValueError(f"{name}: expected at least {least}, got {v}")
        if self.sbc_truths == 1:
            raise ValueError("sbc_truths: expected 0 (skip the check) or at least 2, got 1")
        if self.noise_seeds == 1 or self.noise_seeds < 0:
            raise ValueError(f"noise_seeds: expected 0 (effects as measured) or at least 2, got "
                             f"{self.noise_seeds}")
        if self.method != "emulator" and (self.sbc_truths or self.fit_unreachable):
            raise ValueError("sbc_truths and fit_unreachable are for the emulator method")
        if self.min_epsilon is not None and not 0 < self.min_epsilon < math.inf:
            raise ValueError(f"min_epsilon: expected a distance > 0 (in target tolerances), got {self.min_epsilon}")
        if self.min_acceptance is not None and not 0 < self.min_acceptance < 1:
            raise ValueError(f"min_acceptance: expected between 0 and 1, got {self.min_acceptance}")
        if self.eps_rtol < 0 or self.mean_shift_tol <= 0:
            raise ValueError(f"eps_rtol and mean_shift_tol: expected >= 0 and > 0, got {self.eps_rtol} and "
                             f"{self.mean_shift_tol}")

    @property
    def n_particles(self) -> int:
        """Particles per generation (the method's default unless set)."""
        return self.particles or (1000 if self.method == "emulator" else 100)

    @property
    def acceptance_floor(self) -> float:
        """The acceptance stop (the method's default unless set)."""
        return self.min_acceptance or (0.005 if self.method == "emulator" else 0.02)

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




def discrepancies(stats: np.ndarray, targets: pd.DataFrame, cap: float | None = CAP) -> np.ndarray:
    """(simulated − reported) / spread per target, 0 on the right side of a bound, capped at ``cap``.

    Without a cap, an undefined statistic stays NaN.
    """
    value = targets["value"].to_numpy(dtype=float)
    bound = targets["bound"].to_numpy()
    e = (np.asarray(stats, dtype=float) - value) / target_spread(targets)
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


def inputs_version(targets: str | Path, priors: str | Path) -> str:
    """A hash of what a calibration fits besides the model's code: the targets and the priors as loaded
    (a comment or a line ending in their files does not count) and every scenario the targets name, as
    loaded (its defaults filled in); ``config.json`` records it."""
    h = sha256()
    table = load_targets(targets)
    h.update(table.to_json(orient="split", index=False, double_precision=15).encode())
    h.update(repr(load_priors(priors)).encode())
    for name in sorted(set(table["scenario"])):
        h.update(name.encode())
        h.update(load_scenario(name).model_dump_json().encode())
    return h.hexdigest()[:16]


def rms_distance(stats: np.ndarray, targets: pd.DataFrame, fitted: np.ndarray) -> np.ndarray:
    """Each row of target statistics' distance to ``targets``: the root mean square of its
    discrepancies (:func:`discrepancies`) over the ``fitted`` targets."""
    return np.sqrt(np.mean(np.square(discrepancies(stats, targets)[:, fitted]), axis=-1))



class CalibrationState:
    """One calibration's configuration, results folder, store and findings so far.

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
        #: Used targets left out of the distance as out of the model's reach (emulator method,
        #: set by :func:`sim.calibration.design.fit_emulators`); they are still predicted and scored.
        self.unreachable = np.zeros(len(self.targets), dtype=bool)
        #: Used targets left out of the distance because their spread over the design is mostly seed noise
        #: (emulator method with ``noise_seeds``, :func:`sim.calibration.design.mark_noise_dominated`);
        #: still predicted and scored.
        self.quiet = np.zeros(len(self.targets), dtype=bool)
        #: Each target's seed noise sd over ``noise_seeds`` runs of the defaults and how many runs define it
        #: (set by the screening when ``noise_seeds`` is given).
        self.seed_noise: tuple[np.ndarray, np.ndarray] | None = None
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
        self.result: ABCResult | None = None  # the inference's ABC-SMC result
        self.emulator_seconds: dict[str, float] = {}
        self.predictive: pd.DataFrame | None = None  # the posterior-predictive table
        self.predictive_stats: np.ndarray | None = None  # its samples, draws × targets
        self.leave_one_out_stats: dict[str, np.ndarray] = {}  # per city left out: its predictive samples

    def close(self) -> None:
        """Close the results store if this calibration opened it."""
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

    def scenarios_used(self) -> list[str]:
        """Scenarios with a target in use (compared and not held out)."""
        return sorted(set(self.targets.loc[self.used, "scenario"]))

    def to_natural(self, u: np.ndarray, priors: list[Prior] | None = None) -> np.ndarray:
        """Unit-cube rows as parameter values, rows × priors (the estimated ones by default)."""
        priors = self.params if priors is None else priors
        return np.array([[p.from_unit(x) for p, x in zip(priors, row, strict=True)] for row in np.atleast_2d(u)])

    def parameter_sets(self, priors: list[Prior], u: np.ndarray) -> list[dict[str, float]]:
        """Unit-cube rows as parameter sets, ``{key: value}`` per row."""
        keys = [p.key for p in priors]
        return [dict(zip(keys, map(float, row), strict=True)) for row in self.to_natural(u, priors)]

    def distance(self, stats: np.ndarray) -> np.ndarray:
        """Each row of target statistics' distance to the reported outcomes (RMS over the used targets)."""
        return rms_distance(stats, self.targets, self.fitted)

    @property
    def fitted(self) -> np.ndarray:
        """The targets the inference fits: used, and not left out as unreachable or as moved only by noise."""
        return self.used & ~self.unreachable & ~self.quiet

    def scenarios_compared(self) -> list[str]:
        """Scenarios with a target compared at their scale (the held-out city's included)."""
        return sorted(set(self.targets.loc[self.compared, "scenario"]))

    def posterior(self) -> Posterior:
        """The inference's posterior (its last population) as parameter values."""
        pop = self.result.posterior
        return Posterior(tuple(p.key for p in self.params), self.to_natural(pop.u), pop.weights,
                         str(self.out / "posterior.csv"))

    def posterior_draws(self, n: int, offset: int) -> tuple[list[dict[str, float]], list[int]]:
        """``n`` parameter sets drawn from the posterior, and their seeds, under a stage's seed offset."""
        post = self.posterior()
        seeds = [replicate_seed(self.config.seed, offset + r) for r in range(n)]
        return [post.draw(self.config.seed + offset, r) for r in range(n)], seeds

    def check_leave_one_out(self) -> None:
        """Raise ValueError, naming the reason, if this calibration cannot leave each city out in turn."""
        if self.config.method != "emulator" or self.config.hold_out is not None:
            raise ValueError("leave-one-out needs method 'emulator' and no hold-out city")
        cities = sorted(set(self.targets.loc[self.compared, "city"]))
        if len(cities) < 2:
            raise ValueError(f"leave-one-out needs targets of two cities or more at this scale, got {cities}")

    def write_config(self) -> None:
        """Write ``config.json`` (the configuration, the scales, the model version and the inputs' version)."""
        cfg = dict(self.config.__dict__, scales=self.scales, model_version=model_version(),
                   inputs_version=inputs_version(self.config.targets, self.config.priors))
        (self.out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
