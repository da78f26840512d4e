"""``pingan optimise``: the optimiser's subcommand (its options, and the command itself).

    pingan optimise SCENARIO --budget YUAN_PER_YEAR|actual [--cost] [--posterior FILE|none] [--draws K]
                    [--replicates R] [--packages N] [--population P] [--objectives A,B,...]
                    [--score mean|quantile] [--scale F] [--seed S] [--warmup-days D] [--jobs J]
                    [--backend loky|dask] [--scheduler ADDRESS] [--out DIR] [--report FILE.html] [--set KEY=VALUE]

``--budget actual`` is the annual cost of the scenario's own package; ``--cost`` prints that cost and
stops. Every check (scenario, levers, budget, settings) runs before any simulation. The study lives
in ``--out`` (default ``results/optimise/NAME``): the same command resumes it after Ctrl-C or a kill.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["add_parser", "run", "DEFAULT_POSTERIOR"]

log = logging.getLogger("pingan")

#: The committed calibration's posterior, used when it is there and --posterior is not given.
DEFAULT_POSTERIOR = Path("calibration/results/main/posterior.csv")


def _budget(text: str) -> float | str:
    if text == "actual":
        return text
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected yuan per year ≥ 0, or 'actual' (the scenario's own package's "
                                         f"cost), got {text!r}")
    return v


def add_parser(sub, common, parallel_options, *, scale, seed, positive) -> None:
    """Add ``optimise`` to the ``pingan`` subcommands (argument types shared with the other commands)."""
    from sim.optimise.spec import OBJECTIVES

    opt = sub.add_parser("optimise", parents=[common],
                         help="which interventions, how many and where for a budget (needs: pip install -e "
                              "'.[optimise]')")
    opt.add_argument("scenario", help="scenario file or built-in name; its optimise: block gives the levers")
    opt.add_argument("--budget", type=_budget, default=None, metavar="YUAN_PER_YEAR",
                     help="annual budget at full scale (running + set-up over the amortisation years), or 'actual'")
    opt.add_argument("--cost", action="store_true", help="print the scenario's own package cost and stop")
    opt.add_argument("--posterior", default=None, metavar="FILE",
                     help=f"posterior draws of the parameters (default {DEFAULT_POSTERIOR} if present; 'none': "
                          "default parameters)")
    opt.add_argument("--draws", type=positive, default=None, help="posterior draws K per package (default 8)")
    opt.add_argument("--replicates", "-r", type=positive, default=None, help="replicates R per draw (default 1)")
    opt.add_argument("--packages", type=positive, default=None, help="packages within budget to score (default 100)")
    opt.add_argument("--population", type=positive, default=None, help="NSGA-II population (default 20)")
    opt.add_argument("--objectives", default=None, metavar="A,B,...",
                     help=f"objectives, comma-separated, among {', '.join(OBJECTIVES)}")
    opt.add_argument("--score", choices=["mean", "quantile"], default=None,
                     help="optimise each objective's mean, or its pessimistic quantile over draws")
    opt.add_argument("--scale", type=scale, default=0.1, help="fraction of the full city simulated (default 0.1)")
    opt.add_argument("--seed", type=seed, default=1, help="base seed (default 1)")
    opt.add_argument("--warmup-days", type=positive, default=None, help="warm-up days (default: the scenario's)")
    parallel_options(opt)
    opt.add_argument("--out", type=Path, default=None, help="study folder (default results/optimise/NAME)")
    opt.add_argument("--report", type=Path, default=None, metavar="FILE.html",
                     help="also write a self-contained HTML report (front, packages in words, maps of sites)")
    opt.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key")


def run(args: argparse.Namespace) -> int:
    """``pingan optimise``; bad input raises OptimiseError or ScenarioError before any simulation."""
    from sim.optimise.costs import package_cost
    from sim.optimise.menu import OptimiseError
    from sim.optimise.study import load_study
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    spec = scenario.optimise
    years = spec.amortisation_years if spec is not None else 10.0
    cost = package_cost(scenario, years)
    if args.cost:
        print(f"{scenario.name}: {cost.annual_yuan:.0f} yuan per year (running {cost.running_yuan_per_year:,.0f} "
              f"+ set-up {cost.setup_yuan:,.0f} over {years:g} years, full scale)")
        for key, yuan in cost.by_intervention.items():
            print(f"  {key:32s} {yuan:16,.0f}")
        return 0
    if args.budget is None:
        raise OptimiseError("--budget: required (yuan per year, or 'actual'; `--cost` prints the scenario's own)")
    budget = cost.annual_yuan if args.budget == "actual" else args.budget
    posterior = args.posterior
    if posterior is None and DEFAULT_POSTERIOR.is_file():
        posterior = str(DEFAULT_POSTERIOR)
        log.info(f"posterior draws from {posterior}")
    elif posterior == "none":
        posterior = None
    elif posterior is not None and not Path(posterior).is_file():
        raise OptimiseError(f"--posterior {posterior}: no such file")
    objectives = [o.strip() for o in args.objectives.split(",")] if args.objectives else None
    study = load_study(scenario, budget, args.out or Path("results") / "optimise" / scenario.name,
                       objectives=objectives, posterior_draws=args.draws, replicates=args.replicates,
                       packages=args.packages, population=args.population, score=args.score,
                       seed=args.seed, scale=args.scale, posterior=posterior, warmup_days=args.warmup_days,
                       source=str(args.scenario))
    try:
        result = study.run(args.jobs, args.backend, args.scheduler, progress=not args.quiet)
    except KeyboardInterrupt:
        log.warning(f"interrupted; every scored package and finished simulation is kept in {study.out}; the same "
                    "command resumes the study")
        return 130
    result.write(study.out)
    print(result.text())
    if args.report is not None:
        from sim.optimise.report import study_report

        study_report(result, args.report)
        log.info(f"wrote the report {args.report}")
    log.info(f"wrote packages.csv, front.csv, robustness.csv and actual.csv in {study.out}")
    return 0
