"""Checking a location model by simulation: do its sites do, in the simulation, what it claims?

For one dispatch base (street police stations or rapid-response points) at a given number of
sites, :func:`compare_sitings` builds the same package with the sites chosen by the scenario's own
rule, by each location model (``p_median``, ``mclp``) and at random cells of the same pool, runs
every variant with the same seeds (common random numbers), and measures in each run the objective
the models optimise, on the calls the facility is sited for (the calls of the counties it may be
placed in, in the counted year):

* ``response_mean_min`` — their mean response time [minutes]: what p-median minimises;
* ``within_standard_share`` — the share reached within the response standard (the facility's
  coverage drive plus turnout): what MCLP maximises;

and beside them the same for urgent calls only, and the city-wide 90th percentile the optimiser's
``response_time_p90_min`` objective reads. With ``former=True`` the models' former formulation is
compared too (``former p_median``, ``former mclp``: :func:`former_sites`), to show what the
response model changes. Demand for the models comes from baseline runs with
other seeds than the compared runs, so the models are not scored on the calls they were fitted to.
Each difference between two variants is paired replicate by replicate, with a 95 % t-interval.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.experiments.runner import RunResult, run_tasks, scenario_tasks
from sim.experiments.summary import mean_interval
from sim.interventions import REGISTRY
from sim.optimise.location import Siting, driving_minutes, mclp, p_median
from sim.optimise.sites import Demand, candidate_cells, city_at, dispatch_base_instance, site_count
from sim.optimise.spec import Lever, OptimiseSpec
from sim.scenario.schema import Scenario

__all__ = ["METRICS", "SitingComparison", "compare_sitings", "served_metrics", "check_scenario", "former_sites"]

#: Metric -> (what it is, whether higher is better). The first two are the models' own objectives.
METRICS: dict[str, tuple[str, bool]] = {
    "response_mean_min": ("mean response to the calls sited for [min] (p-median's objective)", False),
    "within_standard_share": ("share of those calls reached within the standard (MCLP's objective)", True),
    "urgent_response_mean_min": ("the same for urgent calls only: mean response [min]", False),
    "urgent_within_standard_share": ("the same for urgent calls only: share within the standard", True),
    "city_response_p90_min": ("90th percentile of every attended call's response, city-wide [min]", False),
}
#: The location models compared (siting rules of the optimiser), and what each optimises.
MODEL_OBJECTIVE = {"p_median": "response_mean_min", "mclp": "within_standard_share"}
#: Prefix of the variants sited by the former formulation of the models.
FORMER = "former "


def _objective_of(variant: str) -> str | None:
    return MODEL_OBJECTIVE.get(variant.removeprefix(FORMER))


def former_sites(scenario: Scenario, facility: str, n: int, demand: Demand, scale: float, rule: str) -> Siting:
    """Sites by the models' former formulation, kept to measure the response model against.

    Each site is a point whose unit is always there and always free; the police stations' cells are
    fixed sites of the same kind; driving minutes go by the city's urban cells (town centres at the
    rural speed, which the dispatcher does not do); coverage is the facility's drive without turnout.
    """
    city = city_at(scenario, scale)
    profile = REGISTRY[facility].siting
    pool = candidate_cells(city, getattr(scenario.interventions, facility))
    d = scenario.dispatch
    speed = np.where(city.urban, d.speed_urban_kmh, d.speed_rural_kmh).astype(float)
    cells = np.arange(city.n_cells)
    minutes = driving_minutes(city.ix, city.iy, city.cell_size_km, d.detour_factor, speed, cells, pool)
    minutes[city.county[:, None] != city.county[pool][None, :]] = np.inf
    bases = city.station_cell.astype(np.int64)
    to_bases = driving_minutes(city.ix, city.iy, city.cell_size_km, d.detour_factor, speed, cells, bases)
    to_bases[city.county[:, None] != city.county[bases][None, :]] = np.inf
    fixed = to_bases.min(axis=1)
    if rule == "mclp":
        return mclp(demand.calls, minutes, fixed, n, profile.coverage_min, pool)
    return p_median(demand.calls, minutes, fixed, n, pool)


def served_metrics(calls: np.ndarray, served: np.ndarray, standard_min: float, year: int = -1) -> dict[str, float]:
    """The siting metrics (:data:`METRICS`) of one run's attended calls.

    Args:
        calls: A run's :attr:`~sim.experiments.runner.RunResult.calls`.
        served: Per cell, whether its calls are the ones the facility is sited for.
        standard_min: The response standard [minutes].
        year: The counted year (−1: the last).
    """
    year = int(calls["year"].max()) if year < 0 and len(calls) else year
    c = calls[calls["year"] == year]
    mine = served[c["cell"]]
    urgent = mine & (c["priority"] == 1)
    r = c["response_min"]

    def mean(x):
        return float(x.mean()) if len(x) else float("nan")

    return {"response_mean_min": mean(r[mine]), "within_standard_share": mean(r[mine] <= standard_min),
            "urgent_response_mean_min": mean(r[urgent]),
            "urgent_within_standard_share": mean(r[urgent] <= standard_min),
            "city_response_p90_min": float(np.percentile(r, 90)) if len(r) else float("nan")}


def check_scenario(scenario: Scenario, warmup_days: int | None = None) -> Scenario:
    """``scenario`` with one counted year, its interventions in place from the start (a siting check's run)."""
    data = json.loads(scenario.model_dump_json())
    data["run"].update(years=1, intervention_year=data["run"]["first_year"])
    if warmup_days is not None:
        data["run"]["warmup_days"] = warmup_days
    return Scenario.model_validate(data)


@dataclass
class SitingComparison:
    """Every variant's siting metrics, replicate by replicate (the same seeds in every variant).

    Attributes:
        facility: The dispatch base compared.
        n_sites: Sites on the simulated city.
        scale: The simulated scale.
        standard_min: The response standard [minutes].
        how: Variant -> how its sites were chosen.
        sites: Variant -> its sites (the scenario's rule: those of the first replicate).
        values: Variant -> metric -> one value per replicate.
        predicted: Variant -> model objective -> the response model's expected value.
        settings: What was run (for the record).
    """

    facility: str
    n_sites: int
    scale: float
    standard_min: float
    how: dict[str, str] = field(default_factory=dict)
    sites: dict[str, list[int]] = field(default_factory=dict)
    values: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    predicted: dict[str, dict[str, float]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def paired(self, name: str, ref: str, metric: str) -> tuple[float, float, float]:
        """Mean paired difference ``name − ref`` of ``metric`` over replicates, with its 95 % interval."""
        return mean_interval(self.values[name][metric] - self.values[ref][metric])

    def random_names(self) -> list[str]:
        return [v for v in self.values if v.startswith("random")]

    def versus_random(self, name: str, metric: str) -> tuple[float, float, float]:
        """Paired difference from the mean of the random sets, replicate by replicate."""
        rand = np.mean([self.values[r][metric] for r in self.random_names()], axis=0)
        return mean_interval(self.values[name][metric] - rand)

    def beats(self, name: str, ref: str, metric: str) -> bool:
        """Strictly: the 95 % interval of ``name − ref`` lies wholly on the better side of zero."""
        d, lo, hi = self.paired(name, ref, metric)
        return bool(lo > 0) if METRICS[metric][1] else bool(hi < 0)

    def text(self) -> str:
        """The comparison as a table: each model's own objective first, then the other metrics."""
        reps = len(next(iter(next(iter(self.values.values())).values())))
        lines = [f"{self.facility}: {self.n_sites} sites on the scale-{self.scale:g} city, {reps} replicates "
                 f"(paired, common random numbers), response standard {self.standard_min:g} min"]
        for name, how in self.how.items():
            lines.append(f"  {name:16s} {how}")
        lines.append("")
        lines.append("Strict check (each model on its own objective; 'beats' = the 95 % interval of the paired "
                     "difference excludes 0 on the better side):")
        for model in self.values:
            metric = _objective_of(model)
            if metric is None:
                continue
            refs = ["scenario", *self.random_names()]
            verdicts = [f"{r}: {'beats' if self.beats(model, r, metric) else 'does not beat'}" for r in refs]
            d, lo, hi = self.versus_random(model, metric)
            lines.append(f"  {model} on {metric}: " + "; ".join(verdicts)
                         + f"; mean of random sets: {d:+.4f} [{lo:+.4f}, {hi:+.4f}]")
        for metric, (what, higher) in METRICS.items():
            lines.append("")
            ref = self.values["scenario"][metric]
            lines.append(f"{metric}: {what}; {'higher' if higher else 'lower'} is better")
            lines.append(f"  {'variant':16s} {'mean':>8s}  {'vs scenario [95 % interval]':>32s}  {'relative':>9s}"
                         + ("  predicted" if metric in MODEL_OBJECTIVE.values() else ""))
            for name, vals in self.values.items():
                v = vals[metric]
                pred = ""
                if metric in MODEL_OBJECTIVE.values():
                    rule = next(m for m, o in MODEL_OBJECTIVE.items() if o == metric)
                    pred = f"  {self.predicted.get(name, {}).get(rule, float('nan')):9.4f}"
                if name == "scenario":
                    lines.append(f"  {name:16s} {np.nanmean(v):8.4f}  {'':>32s}  {'':>9s}{pred}")
                    continue
                d, lo, hi = self.paired(name, "scenario", metric)
                lines.append(f"  {name:16s} {np.nanmean(v):8.4f}  {d:+9.4f} [{lo:+9.4f}, {hi:+9.4f}]  "
                             f"{100 * d / np.nanmean(ref):+8.1f}%{pred}")
        return "\n".join(lines)


def compare_sitings(scenario: Scenario, facility: str, count: int | None = None, *, scale: float = 1.0,
                    replicates: int = 10, demand_replicates: int = 4, random_sets: int = 3, seed: int = 1,
                    demand_seed: int = 1001, warmup_days: int | None = None, rules: tuple[str, ...] = ("p_median",
                                                                                                       "mclp"),
                    former: bool = False, jobs: int = 1, out: str | Path | None = None,
                    progress: bool = False) -> SitingComparison:
    """Run the comparison (see the module docstring).

    Args:
        scenario: The package (its other interventions stay as they are).
        facility: A dispatch base (``street_police_stations`` or ``rapid_response_points``).
        count: Its size at full scale (default: the scenario's).
        scale: The simulated scale.
        replicates: Paired replicates of every variant.
        demand_replicates: Baseline runs whose demand the models use (seeded from ``demand_seed``).
        random_sets: Random sets of sites compared.
        seed: Base seed of the compared runs.
        demand_seed: Base seed of the baseline runs (and of the random sets).
        warmup_days: Warm-up before the counted year (default: the scenario's).
        rules: The location models compared.
        former: Compare the models' former formulation too (:func:`former_sites`).
        jobs: Worker processes.
        out: Folder for the baseline study (default: a temporary one).
        progress: Progress bars.
    """
    from sim.optimise.study import load_study

    profile = REGISTRY[facility].siting
    if profile is None or not profile.dispatch_base:
        raise ValueError(f"{facility!r} is not a dispatch base; expected street_police_stations or "
                         "rapid_response_points")
    scen = check_scenario(scenario, warmup_days)
    params = getattr(scen.interventions, facility)
    count = getattr(params, profile.count_field) if count is None else count
    key = f"{facility}.{profile.count_field}"
    spec = OptimiseSpec(levers={key: Lever(choices=[count]), f"{facility}.siting": Lever(choices=["scenario", *rules])},
                        posterior_draws=1, replicates=demand_replicates, packages=1)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="pingan-siting-"))
    study = load_study(scen, 1e15, folder, scale=scale, seed=demand_seed, **spec.model_dump(exclude_none=True))
    study.open()
    try:
        demand: Demand = study.demand(jobs, progress=progress)
        variants: dict[str, Scenario] = {}
        result = SitingComparison(facility, 0, scale, 0.0, settings={
            "scenario": scenario.name, "count": count, "replicates": replicates, "demand_replicates": demand_replicates,
            "random_sets": random_sets, "seed": seed, "demand_seed": demand_seed,
            "warmup_days": scen.run.warmup_days})
        for rule in ("scenario", *rules):
            variants[rule], pkg = study.build({key: count, f"{facility}.siting": rule}, 0)
            result.how[rule] = pkg.siting.get(facility, "the scenario's own placement rule")
            if rule != "scenario":
                result.sites[rule] = pkg.sites[facility]
    finally:
        study.store.close()
    city = city_at(scen, scale)
    package_params = getattr(variants["scenario"].interventions, facility)
    n = site_count(facility, package_params, scale)
    instance = dispatch_base_instance(variants["scenario"], facility, n, demand, scale, {})
    result.n_sites, result.standard_min = n, instance.standard_min
    pool = candidate_cells(city, package_params)
    extra: dict[str, np.ndarray] = {}
    for rule in rules if former else ():
        answer = former_sites(variants["scenario"], facility, n, demand, scale, rule)
        extra[FORMER + rule] = answer.sites
        result.how[FORMER + rule] = f"{rule}, former formulation ({answer.method}, gap {answer.gap:.1%})"
    rng = np.random.default_rng(demand_seed)
    for i in range(random_sets):
        extra[f"random {i}"] = np.sort(rng.choice(pool, size=n, replace=False))
        result.how[f"random {i}"] = "random cells of the pool"
    for name, cells in extra.items():
        data = json.loads(variants["scenario"].model_dump_json())
        data["interventions"][facility].update(placement="given",
                                               sites=[[float(city.x_km[c]), float(city.y_km[c])] for c in cells])
        variants[name] = Scenario.model_validate(data)
        result.sites[name] = [int(c) for c in cells]
    named = {name: s.model_copy(update={"name": f"{scenario.name}-{name.replace(' ', '-')}"})
             for name, s in variants.items()}
    tasks = scenario_tasks(named.values(), replicates, base_seed=seed, scale=scale)
    runs: list[RunResult] = run_tasks(tasks, jobs, progress=progress, sweep="siting")
    served = np.isin(city.county, np.unique(city.county[pool]))
    by_name = {s.name: name for name, s in named.items()}
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in named}
    for res in runs:
        rows[by_name[res.scenario]].append(served_metrics(res.calls, served, instance.standard_min))
        if by_name[res.scenario] == "scenario" and res.replicate == 0:
            result.sites["scenario"] = [int(c) for c in res.sites[facility]]
    for name, metrics in rows.items():
        result.values[name] = {m: np.array([r[m] for r in metrics]) for m in METRICS}
    region = served.astype(float)
    for name, cells in result.sites.items():
        result.predicted[name] = {rule: instance.value(np.array(cells, dtype=np.int64), rule, region)
                                  for rule in MODEL_OBJECTIVE}
    return result
