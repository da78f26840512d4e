"""The ``pingan`` command line: run, compare, sweep and validate scenarios.

    pingan run [SCENARIO] [--replicates R] [--seed S] [--scale F] [--jobs J] [--out DIR] [--posterior FILE|main]
               [--baseline NAME | --no-baseline]
    pingan compare BASE ALT [ALT ...] [same options] [--report FILE.html]
    pingan sweep SPEC [--jobs J] [--backend loky|dask] [--scheduler ADDRESS] [--store FILE]
    pingan sensitivity SPEC [same options as sweep]
    pingan results STORE [--to FILE] [--sweep NAME]
    pingan calibrate [--targets FILE] [--priors FILE] [--method emulator|simulator] [--design N]
                     [--hold-out CITY | --leave-one-out] [--budget N] [--jobs J] [--out DIR]
    pingan evidence [--scale F] [--replicates R] [--jobs J] [--out DIR] [--before | --posterior FILE|main]
                    [--set KEY=VALUE ...]
    pingan validate SCENARIO [SCENARIO ...]
    pingan scenarios
    pingan serve [--host H] [--port P] [--jobs J] [--store FILE]   # the package explorer (extra [app])
    pingan city build DISTRICTS -o CITY.gpkg [--raster F] [--attractors F] ...   # (extra [geo])
    pingan city incidents RECORDS.csv [--scenario S] [--scale F] [--out DIR]
    pingan optimise SCENARIO --budget YUAN_PER_YEAR|actual [--cost] [--report FILE.html] ...   # extra [optimise]
    pingan --version

``python -m sim`` is the same command. Every subcommand takes ``-q/--quiet`` (warnings and
errors only, no progress bars) or ``-v/--verbose``: progress and notes go to stderr through
the ``pingan`` logger, result tables to stdout. Bad input (a scenario, sweep or store that
cannot be used, an impossible option) is one line on stderr and exit status 2, before any
simulation starts or any file is written.

Every scenario and sweep file is loaded and validated before any simulation starts. Every
command runs on the same engine (sim.experiments.runner) and commits each finished run to a
results store (SQLite), so Ctrl-C keeps every finished run and a sweep resumes where it
stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.arguments import fraction_of_city as _scale
from sim.arguments import seed as _seed
from sim.arguments import whole_number as _whole
from sim.calibration.noise import noise_seeds_argument as _noise_seeds
from sim.calibration.targets import CalibrationFileError, default_input
from sim.csv_output import write_csv
from sim.experiments.baseline import PairedBaseline, paired_baseline
from sim.experiments.folder_lock import FolderBusy, FolderLock
from sim.experiments.pipeline import PipelineResult, posterior_draws, run_scenarios
from sim.experiments.resources import ResourceError, check_resources, worker_count
from sim.experiments.runner import BACKENDS
from sim.experiments.store import StoreError
from sim.experiments.summary import HEADLINE
from sim.optimise.menu import OptimiseError
from sim.presentation import MIN_RATE_SCALE, Sample, scale_warning
from sim.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario

__all__ = ["main", "build_parser"]

log = logging.getLogger("pingan")

DEFAULT_SCENARIO = "suizhou_2022"
#: Problems with the input: exit status 2 (as argparse's own errors).
USAGE_ERROR = 2


# ---- argument types: each refuses a bad value with a one-line message naming what was expected


def _positive(text: str) -> int:
    v = _whole(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text}")
    return v


def _distance(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a distance > 0 in target tolerances, got {text}")
    return v


def _replicates(text: str) -> int:
    from sim.experiments.sweep import MAX_REPLICATES

    v = _positive(text)
    if v > MAX_REPLICATES:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_REPLICATES:,} replicates (as in a sweep), got {text}")
    return v


def _posterior(text: str) -> Path:
    """A posterior file, or ``main``: the committed calibration's posterior, shipped with pingan."""
    from sim._data import SHIPPED_POSTERIOR, posterior_file

    path = posterior_file(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"expected a posterior.csv file, or 'main' for the committed calibration's "
                                         f"({SHIPPED_POSTERIOR}, shipped with pingan); no such file: {text}")
    return path


def _port(text: str) -> int:
    v = _whole(text)
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0–65535, got {text}")
    return v


def _jobs(text: str) -> int:
    """Worker processes: N ≥ 1, or -1 for one per core (joblib's convention)."""
    v = _whole(text)
    if v == 0 or v < -1:
        raise argparse.ArgumentTypeError(f"expected a number of workers ≥ 1, or -1 for one per core, got {text}")
    return v


# ---- parser -------------------------------------------------------------------------------------


def _version() -> str:
    try:
        return metadata.version("pingan")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        from sim import __version__

        return __version__


def _common() -> argparse.ArgumentParser:
    """Options every subcommand takes: how much it tells on stderr."""
    common = argparse.ArgumentParser(add_help=False)
    talk = common.add_mutually_exclusive_group()
    talk.add_argument("--quiet", "-q", action="store_true", help="only warnings and errors; no progress bars")
    talk.add_argument("--verbose", "-v", action="store_true", help="also debugging messages")
    return common


def _parallel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=_jobs, default=-1, help="worker processes (-1: one per core)")
    p.add_argument("--backend", choices=BACKENDS, default="loky", help="local processes or a Dask cluster")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, with --backend dask")


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicates", "-r", type=_replicates, default=4, help="replicates (default 4, at most 10 000)")
    p.add_argument("--seed", type=_seed, default=1, help="base seed (default 1)")
    p.add_argument("--scale", type=_scale, default=1.0, help="fraction of the full city, 0 < F ≤ 1")
    _parallel_options(p)
    p.add_argument("--out", type=Path, default=None, help="output folder (default results/NAME)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key, e.g. interventions.video.cameras=1000")
    p.add_argument("--posterior", type=_posterior, default=None, metavar="FILE",
                   help="calibrated posterior (a posterior.csv, or 'main': the committed calibration's, shipped with "
                        "pingan): each replicate draws its own parameter set")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def build_parser() -> argparse.ArgumentParser:
    """The ``pingan`` argument parser (subcommands add their options here)."""
    from sim.experiments.sweep import MAX_RUNS

    common = _common()
    parser = argparse.ArgumentParser(prog="pingan", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"pingan {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="run a package and its baseline under common random "
                         "numbers: the package's effect, then its year-on-year change")
    run.add_argument("scenario", nargs="?", default=DEFAULT_SCENARIO,
                     help=f"scenario file or built-in name (default {DEFAULT_SCENARIO})")
    _run_options(run)
    pair = run.add_mutually_exclusive_group()
    pair.add_argument("--baseline", default=None, metavar="NAME",
                      help="scenario file or built-in name to measure the package against (default: the nearest "
                           "scenario it extends with no intervention switched on)")
    pair.add_argument("--no-baseline", action="store_true",
                      help="run the scenario alone and print its year-on-year change only")
    cmp_ = sub.add_parser("compare", parents=[common], help="compare scenarios with BASE under common random numbers")
    cmp_.add_argument("base")
    cmp_.add_argument("alternatives", nargs="+")
    _run_options(cmp_)
    cmp_.add_argument("--report", type=Path, default=None, metavar="FILE.html",
                      help="also write a self-contained HTML report (tables and figures, works offline)")
    ev = sub.add_parser("evidence", parents=[common],
                        help="each mechanism's effect with an interval next to the published figure")
    ev.add_argument("--replicates", "-r", type=_positive, default=8, help="replicates (default 8; at least 2)")
    ev.add_argument("--seed", type=_seed, default=1, help="base seed (default 1)")
    ev.add_argument("--scale", type=_scale, default=0.1, help="fraction of the full city (default 0.1)")
    ev.add_argument("--jobs", "-j", type=_jobs, default=-1, help="worker processes (-1: one per core)")
    ev.add_argument("--out", type=Path, default=Path("results/evidence"), help="output folder")
    ev.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a key in every scenario, e.g. crime.patrol_guard=0.3")
    ev.add_argument("--posterior", type=_posterior, default=None, metavar="FILE",
                    help="replicate r of every scenario runs with the r-th parameter set drawn from this "
                         "posterior ('main': the committed calibration's), as pingan run does")
    ev.add_argument("--before", action="store_true",
                    help="measure the pre-evidence model: the mechanisms before they were sized to the "
                         "published evidence (sim.experiments.evidence.PRE_EVIDENCE_MECHANISMS)")
    val = sub.add_parser("validate", parents=[common], help="check scenario files without running them")
    val.add_argument("scenarios", nargs="+")
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sub.add_parser("scenarios", parents=[common], help="list the built-in scenarios")
    for name, text in (("sweep", "run a sweep file into a results store (resumes by default)"),
                       ("sensitivity", "run a sweep's Sobol or Morris design and report sensitivity indices")):
        sw = sub.add_parser(name, parents=[common], help=text)
        sw.add_argument("spec", type=Path, help="sweep file (YAML)")
        _parallel_options(sw)
        sw.add_argument("--store", type=Path, default=None, help="results store (default results/NAME/store.sqlite)")
        sw.add_argument("--out", type=Path, default=None, help="output folder (default results/NAME)")
        sw.add_argument("--fresh", action="store_true", help="ignore runs already in the store (recompute)")
        sw.add_argument("--max-runs", type=_positive, default=MAX_RUNS,
                        help=f"refuse a sweep of more runs than this (default {MAX_RUNS:,})")
    cal = sub.add_parser("calibrate", parents=[common],
                         help="estimate behavioural parameters against the reported outcomes (ABC-SMC)")
    cal.add_argument("--targets", type=Path, default=None,
                     help="targets table (CSV; default calibration/targets.csv here, else the packaged copy)")
    cal.add_argument("--priors", type=Path, default=None,
                     help="priors (YAML; default calibration/priors.yaml here, else the packaged copy)")
    cal.add_argument("--method", choices=["emulator", "simulator"], default="emulator",
                     help="emulator (default): ABC-SMC on Gaussian-process emulators fitted to a design of real "
                          "simulations, posterior predictive on real simulations; simulator: ABC-SMC on the "
                          "model itself (one simulation per particle and scenario)")
    cal.add_argument("--design", type=_positive, default=None,
                     help="emulator: design points, each simulated once in every compared scenario (default 400)")
    cal.add_argument("--hold-out", default=None, metavar="CITY",
                     help="calibrate without this city's targets, then predict them")
    cal.add_argument("--leave-one-out", action="store_true",
                     help="emulator: after the calibration, for each city calibrate without its targets (its "
                          "own screening; its own design where that screening estimates other parameters) and "
                          "predict them with real simulations: holdout-CITY/ folders and leave_one_out.csv")
    cal.add_argument("--budget", type=_positive, default=None,
                     help="simulator: simulations (single-scenario runs) for ABC-SMC (default 2000); emulator: "
                          "synthetic simulations drawn from the emulators (default 300 × particles)")
    cal.add_argument("--particles", type=_positive, default=None,
                     help="particles per generation (default 1000 with the emulator, 100 with the simulator)")
    cal.add_argument("--scale", type=_scale, default=0.1, help="fraction of the full city (default 0.1)")
    cal.add_argument("--seed", type=_seed, default=1)
    cal.add_argument("--trajectories", type=_positive, default=2,
                     help="Morris screening trajectories per screening seed (default 2)")
    cal.add_argument("--screening-seeds", type=_positive, default=1,
                     help="screening seeds, each with its own trajectories and simulation seed, effects averaged "
                          "over them; with more than one, screening_seeds.csv shows each seed's choice (default 1)")
    cal.add_argument("--noise-seeds", type=_noise_seeds, default=0, metavar="R",
                     help="screening: measure each target's seed noise over R seeds of the shipped defaults (R ≥ 2) "
                          "and count only effects beyond it (screening_noise.csv); default 0: every effect as "
                          "measured")
    cal.add_argument("--max-params", type=_positive, default=10, help="most parameters estimated (default 10)")
    cal.add_argument("--draws", type=_positive, default=40, help="posterior-predictive draws (default 40)")
    cal.add_argument("--min-acceptance", type=float, default=None,
                     help="stop ABC-SMC when a generation accepts less than this share, if the convergence rule "
                          "has not stopped it before (default 0.005 with the emulator, 0.02 with the simulator)")
    cal.add_argument("--min-epsilon", type=_distance, default=None, metavar="E",
                     help="stop ABC-SMC after the generation whose tolerance reaches E (root mean square distance in "
                          "target tolerances: at 1 the fitted targets are within their tolerances on average); "
                          "default: no floor")
    cal.add_argument("--fit-unreachable", action="store_true",
                     help="emulator: also fit targets no design simulation came within tolerance of (by default "
                          "they are left out of the fit, still scored, and unreachable.csv shows how fitting them "
                          "would move the posterior)")
    cal.add_argument("--sbc", type=_whole, default=0, metavar="TRUTHS",
                     help="emulator: simulation-based calibration check with this many prior draws simulated and "
                          "inferred back (sbc.csv, sbc_summary.csv; default 0: skipped)")
    cal.add_argument("--sbc-particles", type=_positive, default=None,
                     help="particles per generation of each check's inference (default: --particles)")
    cal.add_argument("--attribution-replicates", type=_whole, default=4,
                     help="replicates per variant of the attribution (switching interventions off); 0 skips it")
    _parallel_options(cal)
    cal.add_argument("--out", type=Path, default=None,
                     help="results folder (default calibration/results/main, or holdout-CITY)")
    cal.add_argument("--no-plots", action="store_true")
    res = sub.add_parser("results", parents=[common],
                         help="export a results store to CSV or Parquet, or print a summary")
    res.add_argument("store", type=Path)
    res.add_argument("--to", type=Path, default=None, help="FILE.csv or FILE.parquet")
    res.add_argument("--sweep", default=None, help="only this sweep")
    from sim.optimise.cli import add_parser as add_optimise

    add_optimise(sub, common, _parallel_options, scale=_scale, seed=_seed, positive=_positive)
    srv = sub.add_parser("serve", parents=[common],
                         help="the package explorer in the browser (needs the app extra: pingan[app])")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    srv.add_argument("--port", type=_port, default=5006, help="TCP port (default 5006; 0 picks a free one)")
    srv.add_argument("--jobs", "-j", type=_positive, default=1,
                     help="worker processes per run (default 1: on the page's background thread)")
    srv.add_argument("--store", type=Path, default=None, help="also commit every run to this results store")
    srv.add_argument("--scenario", default=None, help="scenario selected when a page opens")
    srv.add_argument("--show", action="store_true", help="open a browser tab")
    _city_parser(sub, common)
    return parser


def _check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option combinations and paths that cannot work, before any file is read or written."""
    backend = getattr(args, "backend", None)
    if backend == "dask" and not args.scheduler:
        parser.error("--backend dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    if backend == "loky" and args.scheduler:
        parser.error("--scheduler is only used with --backend dask")
    out = getattr(args, "out", None)
    if out is not None and out.exists() and not out.is_dir():
        parser.error(f"--out {out}: is a file; expected a folder (it is created if missing)")
    store = getattr(args, "store", None)
    if store is not None and store.is_dir():
        parser.error(f"--store {store}: is a folder; expected a results store file (e.g. store.sqlite)")
    to = getattr(args, "to", None)
    if to is not None and to.is_dir():
        parser.error(f"--to {to}: is a folder; expected a .csv or .parquet file")
    report = getattr(args, "report", None)
    if report is not None and report.is_dir():
        parser.error(f"--report {report}: is a folder; expected an .html file")
    if getattr(args, "attribution_replicates", 0) < 0:
        parser.error("--attribution-replicates: expected 0 (skip) or more")
    if getattr(args, "leave_one_out", False):
        if args.method != "emulator":
            parser.error("--leave-one-out needs --method emulator (the simulator method would cost five calibrations)")
        if args.hold_out:
            parser.error("--leave-one-out holds out every city in turn; leave out --hold-out")
    if getattr(args, "method", None) == "simulator" and args.design is not None:
        parser.error("--design is for --method emulator")
    if getattr(args, "method", None) == "simulator":
        for flag, given in (("--sbc", args.sbc), ("--fit-unreachable", args.fit_unreachable)):
            if given:
                parser.error(f"{flag} is for --method emulator")
    if getattr(args, "sbc_particles", None) is not None and not getattr(args, "sbc", 0):
        parser.error("--sbc-particles needs --sbc TRUTHS")
    if getattr(args, "particles", None) is not None and args.particles < 2:
        parser.error("--particles: expected at least 2")
    if getattr(args, "design", None) is not None and args.design < 2:
        parser.error("--design: expected at least 2")


class _StderrHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` (not the one at set-up: tests and notebooks swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never fail a command
            self.handleError(record)


def _configure_logging(args: argparse.Namespace) -> None:
    """Progress and notes go to stderr through the ``pingan`` logger; results go to stdout."""
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("pingan: %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(level)


def _make_folder(folder: Path) -> None:
    """Create an output folder (and its parents), or refuse with the reason on one line."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ScenarioError(f"{folder}: cannot create the output folder ({e.strerror}: {e.filename})") from None


def _lock_folder(folder: Path, held: contextlib.ExitStack, announce: bool = True) -> FolderLock:
    """Hold the output folder's lock until the command ends, or refuse (FolderBusy) if another pingan
    command holds it. Locking writes nothing; ``announce`` names this process in the folder at once
    (else call ``announce()`` once the inputs are accepted, so that a refused command leaves the
    folder as it found it)."""
    try:
        return held.enter_context(FolderLock(folder).acquire(announce=announce))
    except OSError as e:
        raise ScenarioError(f"{folder}: cannot lock the output folder ({e.strerror})") from None


def _open_store(path: Path, readonly: bool = False):
    """Open a results store, saying what is wrong with it but usable (lost log, runs without rows)."""
    from sim.experiments.store import ResultsStore

    store = ResultsStore(path, readonly=readonly)
    for note in store.notes:
        log.warning(f"warning: {path}: {note}")
    return store


def _check_resources(scenarios, scale: float, args: argparse.Namespace, runs: int, kept_runs: int = 0) -> None:
    """Refuse, before any file is written, a batch whose cities do not fit their area or whose runs
    need more memory than this machine has (not checked when the runs go to a Dask cluster)."""
    jobs = worker_count(args.jobs)
    check_resources(scenarios, scale, workers=min(jobs, runs), kept_runs=kept_runs,
                    memory=getattr(args, "backend", "loky") == "loky")


def _fail(message: object) -> int:
    """Report a problem with the input on one line (no traceback) and return the exit status."""
    print(f"pingan: {message}", file=sys.stderr)
    return USAGE_ERROR


# ---- commands -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the ``pingan`` command line.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 done, 1 a validated file is invalid, 2 bad input, 130 interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_options(parser, args)
    _configure_logging(args)
    with contextlib.ExitStack() as held:  # output folders locked by the command, released when it ends
        args.held = held
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "scenarios":
            for name, path in builtin_scenarios().items():
                print(f"{name:28s} {path}")
            return 0
        if args.command in ("sweep", "sensitivity"):
            return _sweep(args)
        if args.command == "results":
            return _results(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "evidence":
            return _evidence(args)
        if args.command == "city":
            return _city(args)
        if args.command == "optimise":
            from sim.optimise.cli import run as optimise

            return optimise(args)
        return _run(args)
    except (ScenarioError, CalibrationFileError, StoreError, FolderBusy, ResourceError, OptimiseError) as e:
        return _fail(e)


def _run(args: argparse.Namespace) -> int:
    """``pingan run`` and ``pingan compare``: every scenario is validated before any run."""
    names = [args.scenario] if args.command == "run" else [args.base, *args.alternatives]
    scenarios = [load_scenario(n, args.overrides) for n in names]
    package, pairing = scenarios[-1], None
    if args.command == "run" and not args.no_baseline:
        pairing = paired_baseline(args.scenario, package, args.overrides, args.baseline)
        if pairing.scenario is not None:
            scenarios.insert(0, pairing.scenario)
    compared = len(scenarios) > 1  # compare's scenarios, or a package and its baseline
    vary = posterior_draws(args.posterior, scenarios, args.seed)
    labels = [s.name for s in scenarios]
    if len(set(labels)) != len(labels):
        return _fail(f"scenarios must have different names, got {labels}")
    from sim.experiments.sweep import MAX_RUNS

    runs = len(scenarios) * args.replicates
    if runs > MAX_RUNS:
        return _fail(f"--replicates {args.replicates}: {runs:,} runs ({len(scenarios)} scenarios × {args.replicates} "
                     f"replicates); expected at most {MAX_RUNS:,} (as in a sweep)")
    _check_resources(scenarios, args.scale, args, runs, kept_runs=runs)  # every run is kept for the maps
    if args.scale < MIN_RATE_SCALE:
        log.warning(f"note: {scale_warning(args.scale)}")
    folder = package.name if args.command == "run" else "_vs_".join(labels)
    out = args.out or Path("results") / folder  # names are plain words: inside results/
    _make_folder(out)
    lock = _lock_folder(out, args.held, announce=False)
    store = _open_store(out / "store.sqlite")
    lock.announce()
    try:
        done = run_scenarios(scenarios, args.replicates, args.seed, args.scale, out, args.jobs, args.backend,
                             args.scheduler, vary, baseline=labels[0] if compared else None,
                             report=getattr(args, "report", None), plots=not args.no_plots, progress=not args.quiet,
                             store=store)
    except KeyboardInterrupt:
        log.warning(f"interrupted; finished runs are kept in {out / 'store.sqlite'}")
        return 130
    if args.command == "run":
        _print_run(done, package, scenarios[0] if compared else None, pairing)
        _print_reported(done.summary, args)
    else:
        _print_summary(done.summary, done.sample)
        _print_compare(done.compare, done.sample)
        _print_packages(done.packages, done.rings, labels[0], done.sample, done.contents)
    log.info(f"wrote {out / 'metrics.csv'}, {out / 'summary.csv'}"
             + (", compare.csv, packages.csv, areas_county.csv, areas_town.csv, rings.csv" if compared else "")
             + ("" if args.no_plots else f" and plots in {out}"))
    return 0


def _calibrate(args) -> int:
    from sim.calibration.calibrate import Calibration, CalibrationConfig

    out = args.out or Path("calibration/results") / (f"holdout-{args.hold_out}" if args.hold_out else "main")
    targets = args.targets or default_input("targets.csv")
    priors = args.priors or default_input("priors.yaml")
    log.debug(f"targets {targets}, priors {priors}")
    try:
        cfg = CalibrationConfig(targets=str(targets), priors=str(priors), hold_out=args.hold_out,
                                method=args.method, design=args.design or 400, budget=args.budget,
                                particles=args.particles, scale=args.scale, seed=args.seed,
                                trajectories=args.trajectories, screening_seeds=args.screening_seeds,
                                noise_seeds=args.noise_seeds,
                                max_params=args.max_params, draws=args.draws,
                                attribution_replicates=args.attribution_replicates, leave_one_out=args.leave_one_out,
                                min_acceptance=args.min_acceptance, min_epsilon=args.min_epsilon,
                                fit_unreachable=args.fit_unreachable,
                                sbc_truths=args.sbc, sbc_particles=args.sbc_particles)
        cal = Calibration(cfg, out, jobs=args.jobs, backend=args.backend, scheduler=args.scheduler,
                          progress=not args.quiet)
    except (CalibrationFileError, ValueError) as e:
        return _fail(e)
    try:
        _lock_folder(out, args.held)  # the folder exists now; nothing is written into it yet
    except BaseException:
        cal.close()
        raise
    try:
        summary = cal.run(plots=not args.no_plots)
    except KeyboardInterrupt:
        log.warning(f"interrupted; finished simulations are kept in {out / 'store.sqlite'} and the same "
                    "command resumes from them")
        return 130
    finally:
        cal.close()
    print(f"{summary['hits']} of {summary['targets_compared']} targets hit"
          + (f"; held out {args.hold_out}: {summary['held_out_hits']} of {summary['held_out_targets']}"
             if args.hold_out else ""))
    for city, n in summary.get("leave_one_out", {}).items():
        print(f"held out {city}: {n['hits']} of {n['targets']} targets hit")
    log.info("wrote posterior.csv, predictive.csv, tension.csv"
             + (", attribution.csv" if args.attribution_replicates >= 2 else "")
             + ("" if args.no_plots else " and plots") + f" in {out}")
    return 0


def _print_packages(table: pd.DataFrame, rings: pd.DataFrame, base: str, sample: Sample | None = None,
                    contents: dict[str, str] | None = None) -> None:
    from sim.presentation import interval, package_rows, text_table

    if len(table):
        print(f"\npackages against {base}, {int(table['year'].iloc[0])} (ranked by preventable cases prevented)")
        print(text_table(package_rows(table, sample, contents)))
    if len(rings):
        print(f"\ntrue offences around treated cells, difference from baseline [per year, "
              f"{sample.short if sample else 'sample'}, 95 % interval]")
        print(text_table([{"package": r.package, "ring": r.ring, "difference": interval(
            r.difference, r.difference_lo, r.difference_hi, signed=True), "reading": r.reading}
            for _, r in rings.iterrows()]))


def _sweep(args) -> int:
    from sim.experiments.runner import Recompute, run_tasks
    from sim.experiments.sweep import SweepError, load_sweep, sweep_tasks

    try:
        spec = load_sweep(args.spec, max_runs=args.max_runs)
        tasks = sweep_tasks(spec, max_runs=args.max_runs)  # every scenario of every point validated first
    except (SweepError, ScenarioError) as e:
        return _fail(e)
    if args.command == "sensitivity" and spec.design.kind not in ("sobol", "morris"):
        return _fail(f"{args.spec}: key 'design.kind': sensitivity needs sobol or morris, got {spec.design.kind!r}")
    from sim.scenario.schema import Scenario

    payloads = {t.scenario_json for t in tasks}
    _check_resources((Scenario.model_validate_json(p) for p in payloads), spec.scale, args, len(tasks))
    out = args.out or Path("results") / spec.name  # names are plain words: inside results/
    store_path = args.store or out / "store.sqlite"
    _make_folder(out)
    lock = _lock_folder(out, args.held, announce=False)
    store = _open_store(store_path)
    lock.announce()
    try:
        already = 0 if args.fresh else len(store.finished_ids() & {t.run_id for t in tasks})
        log.info(f"{spec.name}: {len(tasks)} runs ({already} already in {store_path})")
        view = store if not args.fresh else Recompute(store)
        run_tasks(tasks, args.jobs, args.backend, args.scheduler, view, sweep=spec.name,
                  progress=not args.quiet, keep=False)
    except KeyboardInterrupt:
        log.warning(f"interrupted; {store.count(spec.name)} finished runs are kept in {store_path}; "
                    "run the same command again to resume")
        return 130
    try:
        frame = store.frame()  # a run may have been stored by another sweep with the same run
    finally:
        store.close()
    by_id = {t.run_id: t for t in tasks}
    frame = frame[frame["run_id"].isin(by_id)].copy()
    # Identify points by this sweep's numbering (a run may have been stored under another sweep).
    frame["sweep"] = spec.name
    frame["point_id"] = frame["run_id"].map(lambda r: by_id[r].point_id)
    for f in spec.factors:
        frame[f] = frame["run_id"].map(lambda r, f=f: by_id[r].point.get(f))
    _point_summary(spec, frame, out)
    if args.command == "sensitivity":
        from sim.experiments.sensitivity import analyse, plot

        try:
            indices = analyse(spec, frame)
        except SweepError as e:
            return _fail(e)
        write_csv(indices, out / "sensitivity.csv", float_format="%.10g")
        plot(indices, out / "sensitivity.png")
        print(indices.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        log.info(f"wrote {out / 'sensitivity.csv'} and {out / 'sensitivity.png'}")
    return 0


def _point_summary(spec, frame: pd.DataFrame, out: Path) -> None:
    """Mean and 95 % interval over replicates of each headline metric at each design point."""
    from sim.experiments.summary import mean_interval

    factors = list(spec.factors)
    year = int(frame["year"].max())
    last = frame[frame["year"] == year]
    rows = []
    for (scen, pid), g in last.groupby(["scenario", "point_id"], sort=True):
        row = {"scenario": scen, "point_id": pid, "year": year, **{f: g[f].iloc[0] for f in factors if f in g}}
        for m in HEADLINE:
            if m in g:
                row[m], row[f"{m}_lo"], row[f"{m}_hi"] = mean_interval(g[m].to_numpy(float))
        row["replicates"] = len(g)
        rows.append(row)
    table = pd.DataFrame(rows)
    write_csv(table, out / "points.csv", float_format="%.10g")
    show = ["scenario", "point_id", *factors, "preventable_cases", "calls_for_service", "replicates"]
    print(table[[c for c in show if c in table]].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    log.info(f"wrote {out / 'points.csv'}")


def _results(args) -> int:
    if not args.store.is_file():
        return _fail(f"{args.store}: no such results store")
    if args.to is not None and args.to.suffix not in (".csv", ".parquet"):
        return _fail(f"--to {args.to}: expected a .csv or .parquet file")
    store = _open_store(args.store, readonly=True)  # never writes to the file: it may not be ours
    try:
        if args.to is not None:
            n = store.export(args.to, sweep=args.sweep)
            log.info(f"wrote {n} rows to {args.to}")
        else:
            print(f"{args.store}: {store.count(args.sweep)} finished runs"
                  + (f" in sweep {args.sweep}" if args.sweep else ""))
    finally:
        store.close()
    return 0


def _serve(args) -> int:
    """``pingan serve``: the package explorer (sim.app), until Ctrl-C."""
    from sim.app.serve import AppUnavailable, CannotListen, serve

    if args.scenario is not None and args.scenario not in builtin_scenarios():
        return _fail(f"--scenario {args.scenario!r}: expected a built-in scenario ({', '.join(builtin_scenarios())})")
    try:
        serve(args.host, args.port, jobs=args.jobs, store=args.store, scenario=args.scenario, show=args.show)
    except (AppUnavailable, CannotListen) as e:
        return _fail(e)
    except KeyboardInterrupt:
        pass
    return 0


def _evidence(args) -> int:
    """``pingan evidence``: the evidence harness (sim.experiments.evidence) into ``--out``."""
    from sim.experiments.evidence import (
        PRE_EVIDENCE_MECHANISMS,
        evidence_scenarios,
        evidence_table,
        run_evidence,
        write_evidence,
    )

    if args.before:
        args.overrides = [*PRE_EVIDENCE_MECHANISMS, *args.overrides]
    if args.replicates < 2:
        return _fail("--replicates: expected at least 2 (an interval needs two replicates)")
    scenarios = evidence_scenarios(args.overrides, args.scale)  # every scenario validated before any run
    vary = posterior_draws(args.posterior, list(scenarios.values()), args.seed)
    _make_folder(args.out)
    _lock_folder(args.out, args.held)
    df = run_evidence(args.scale, args.replicates, args.jobs, args.seed, args.overrides, progress=not args.quiet,
                      vary=vary)
    write_evidence(df, args.out)
    print(evidence_table(df))
    log.info(f"wrote {args.out / 'evidence.csv'} and evidence.md")
    return 0


def _validate(args) -> int:
    bad = 0
    for name in args.scenarios:
        try:
            s = load_scenario(name, args.overrides)
        except ScenarioError as e:
            print(f"{name}: INVALID\n{e}", file=sys.stderr)
            bad += 1
            continue
        on = ", ".join(s.enabled_interventions()) or "none"
        print(f"{name}: ok ({s.city.preset or 'custom'} city, years {s.run.year_labels}, "
              f"interventions: {on})")
    return 1 if bad else 0


def _print_reported(summary: pd.DataFrame, args: argparse.Namespace) -> None:
    """The seeds' reported changes for this scenario next to the simulated ones (if any apply)."""
    from sim.calibration.targets import default_input, load_targets
    from sim.presentation import format_reported

    try:
        targets = load_targets(default_input("targets.csv"))
    except CalibrationFileError as e:  # the run is done: say why the comparison is missing, don't fail
        log.warning(f"no comparison with the reported figures: {e}")
        return
    text = format_reported(summary, targets, args.scale, posterior=args.posterior is not None)
    if text:
        print(text)


def _print_summary(summary: pd.DataFrame, sample: Sample | None = None) -> None:
    from sim.presentation import format_summary

    print(format_summary(summary, sample=sample))


def _print_run(done: PipelineResult, package: Scenario, baseline: Scenario | None,
               pairing: PairedBaseline | None) -> None:
    """``pingan run``: which baseline and why, the package's paired effect, then its year-on-year change."""
    from sim.presentation import format_paired_run

    if pairing is not None:
        print(pairing.reason)
    if baseline is None:
        _print_summary(done.summary, done.sample)
        return
    print(format_paired_run(done.compare, done.summary, package, baseline, done.sample))


def _print_compare(diff: pd.DataFrame, sample: Sample | None = None) -> None:
    from sim.presentation import format_compare

    print(format_compare(diff, sample=sample))


# ---- pingan city: real cities from GIS files, and incident records (sim.space.gis, sim.space.incidents)


def _city_parser(sub, common: argparse.ArgumentParser) -> None:
    city = sub.add_parser("city", parents=[common], help="build a real city from GIS files; read incident records")
    verbs = city.add_subparsers(dest="city_command", required=True)
    b = verbs.add_parser("build", parents=[common], help="districts (+ raster, points) -> a city file (GeoPackage) "
                         "for city.geography (needs the geo extra: pingan[geo])")
    b.add_argument("districts", help="district or county polygons (GeoJSON, GeoPackage, shapefile; any CRS)")
    b.add_argument("-o", "--out", dest="city_file", type=Path, required=True, metavar="CITY.gpkg")
    b.add_argument("--name-field", default="name")
    b.add_argument("--code-field", default=None)
    b.add_argument("--population-field", default="population")
    b.add_argument("--main-urban", action="append", default=None, metavar="NAME",
                   help="a district holding the main urban area (repeatable; default: the most populous)")
    for opt, what in (("raster", "population raster (GeoTIFF) spreading residents inside districts"),
                      ("attractors", "points: markets, transport hubs, nightlife, car parks"),
                      ("stations", "points: existing police stations"), ("cameras", "points: camera sites"),
                      ("seats", "points: the centre of each district's urban area")):
        b.add_argument(f"--{opt}", default=None, metavar="FILE", help=what)
    b.add_argument("--attractor-weight-field", default=None, help="the attractors' relative pull (default 1 each)")
    b.add_argument("--crs", default=None, help="metric CRS (default: equal-area projection centred on the city)")
    inc = verbs.add_parser("incidents", parents=[common],
                           help="check incident records and count them by month, district, type and cell")
    inc.add_argument("records", type=Path, help="CSV: time, type, and lon/lat, x/y or district")
    inc.add_argument("--scenario", default="suizhou_baseline_real",
                     help="a scenario whose city has a geography (default suizhou_baseline_real)")
    inc.add_argument("--scale", type=_scale, default=1.0, help="scale of the city the cells belong to (default 1)")
    inc.add_argument("--out", type=Path, default=None, help="output folder (default results/incidents-NAME)")
    inc.add_argument("--calibrate", action="store_true",
                     help="estimate the crime parameters from the records (emulator ABC; writes posterior.csv)")
    inc.add_argument("--priors", type=Path, default=None,
                     help="priors to estimate (default calibration/incident_priors.yaml here, else the packaged copy)")
    inc.add_argument("--design", type=_positive, default=40, help="design points, each simulated once (default 40)")
    inc.add_argument("--calibration-scale", type=_scale, default=0.1, help="scale of the simulations (default 0.1)")
    inc.add_argument("--jobs", "-j", type=_jobs, default=-1, help="worker processes (-1: one per core)")
    inc.add_argument("--seed", type=_seed, default=1)


def _city(args) -> int:
    """``pingan city build`` and ``pingan city incidents``."""
    from sim.space.geography import GeographyError

    try:
        return _city_build(args) if args.city_command == "build" else _city_incidents(args)
    except GeographyError as e:
        return _fail(e)


def _city_build(args) -> int:
    from sim.space.gis import CityInputs, build_city_file

    if args.city_file.suffix.lower() != ".gpkg" or args.city_file.is_dir():
        return _fail(f"-o {args.city_file}: expected a .gpkg file")
    inputs = CityInputs(districts=args.districts, name_field=args.name_field, code_field=args.code_field,
                        population_field=args.population_field, main_urban=args.main_urban, raster=args.raster,
                        attractors=args.attractors, attractor_weight_field=args.attractor_weight_field,
                        stations=args.stations, cameras=args.cameras, seats=args.seats, crs=args.crs)
    geo = build_city_file(inputs, args.city_file)
    for d in geo.districts:
        print(f"{d.name:24s} {d.population:>10,} residents {d.area_km2:>10,.1f} km²")
    print(f"{len(geo.districts)} districts, {len(geo.attractors)} attractors, {len(geo.stations)} stations, "
          f"{len(geo.cameras)} cameras -> {args.city_file} (use it as city.geography)")
    return 0


def _city_incidents(args) -> int:
    from sim.experiments.evidence import top_share
    from sim.space.city import build_city
    from sim.space.geography_files import load_geography
    from sim.space.incidents import aggregate, read_incidents

    scen = load_scenario(args.scenario)
    if scen.city.geography is None:
        return _fail(f"--scenario {args.scenario}: its city has no geography (set city.geography)")
    city = build_city(scen.city, args.scale)
    counts = aggregate(read_incidents(args.records, load_geography(scen.city.geography)), city)
    out = args.out or Path("results") / f"incidents-{args.records.stem}"
    _make_folder(out)
    write_csv(counts.monthly, out / "monthly.csv", index=False)
    print(counts.monthly.pivot_table(index="district", columns="type", values="count", aggfunc="sum",
                                     fill_value=0).to_string())
    if counts.cells is not None:
        from sim.mechanisms.crime_types import CRIME_TYPES

        cells = pd.DataFrame(counts.cells, columns=list(CRIME_TYPES))
        cells.insert(0, "district", [city.county_names[c] for c in city.county])
        cells.insert(0, "y_km", city.y_km)
        cells.insert(0, "x_km", city.x_km)
        write_csv(cells, out / "cells.csv", index=True, index_label="cell")
        total = counts.cells.sum(axis=1)
        shares = {f"top_{round(q * 100)}pct_cells": top_share(total, q) for q in (0.01, 0.05, 0.1, 0.2)}
        write_csv(pd.DataFrame([shares]), out / "concentration.csv", index=False)
        print("share of point records in the top cells: "
              + ", ".join(f"{k.split('_')[1]} {v:.1f} %" for k, v in shares.items()))
        if counts.outside_sample:
            log.info(f"{counts.outside_sample} point records fall outside the simulated sample (scale {args.scale})")
    log.info(f"wrote {out}/monthly.csv" + (", cells.csv, concentration.csv" if counts.cells is not None else ""))
    if args.calibrate:
        from sim.calibration.incidents import calibrate_to_incidents
        from sim.calibration.targets import load_priors

        priors = load_priors(args.priors or default_input("incident_priors.yaml"), args.scenario)
        sim_city = build_city(scen.city, args.calibration_scale)
        sim_counts = aggregate(read_incidents(args.records, load_geography(scen.city.geography)), sim_city)
        fit = calibrate_to_incidents(scen, sim_counts, priors, design=args.design, scale=args.calibration_scale,
                                     records_scale=1.0, seed=args.seed, jobs=args.jobs, progress=not args.quiet)
        write_csv(fit.summary, out / "posterior.csv", index=False, float_format="%.6g")
        write_csv(fit.emulator_cv, out / "emulator.csv", index=False, float_format="%.6g")
        print(fit.summary.to_string(index=False))
        log.info(f"wrote {out}/posterior.csv and emulator.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
