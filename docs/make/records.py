"""The tables of the record pages in docs/, rendered from the committed outputs they report.

A record page (``docs/calibration.md``, ``docs/evidence.md``, ``docs/performance.md``,
``docs/optimise.md``, ``docs/cities.md``) keeps its
prose by hand and its figures here: every table sits between two markers::

    <!-- generated: NAME -->
    ...
    <!-- end generated: NAME -->

and is rendered from committed files only — the committed calibration
(``calibration/results/main``), the evidence harness's output (``docs/records/evidence*/evidence.csv``) and
benchmark outputs (``benchmarks/results/*.txt``) — so a page cannot drift from the file it reports.
Each source file names the command that regenerates it (see the page). Usage::

    python docs/make/records.py            # rewrite the tables in place
    python docs/make/records.py --check    # exit 1, naming the tables, if a page differs from its files

``tests/test_docs_records.py`` runs the check. Statistics are worded strict first: "reported inside
the interval" (no tolerance) comes before "within tolerance" (the calibration's criterion) and the
share of prior design runs within tolerance (what the priors alone give).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CALIBRATION = ROOT / "calibration" / "results" / "main"
RECORDS = DOCS / "records"
BENCHMARKS = ROOT / "benchmarks" / "results"

BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
                   re.DOTALL)


# --------------------------------------------------------------------------- formatting
def num(x: float, digits: int = 3) -> str:
    """A figure with ``digits`` significant digits, thin-space thousands, no scientific notation."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return f"{round(x):,}".replace(",", " ")
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{x:.0f}"


def interval(mid: float, lo: float, hi: float, digits: int = 3) -> str:
    """``mid [lo, hi]``, all three with the decimals that give the largest of them ``digits`` significant digits."""
    largest = max(abs(float(v)) for v in (mid, lo, hi))
    if largest >= 10 ** digits or largest == 0:
        return f"{num(mid, digits)} [{num(lo, digits)}, {num(hi, digits)}]"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(largest))))
    return "{} [{}, {}]".format(*(f"{float(v):.{decimals}f}" for v in (mid, lo, hi)))


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def reported(value: float, bound: str) -> str:
    sign = {"lower": "≥ ", "upper": "≤ "}.get(bound if isinstance(bound, str) else "", "")
    return sign + num(value)


def inside(value: float, lo: float, hi: float, bound: str) -> bool:
    """The strict check: the reported value (or its side of a bound) lies in the simulated interval."""
    if bound == "lower":
        return hi >= value
    if bound == "upper":
        return lo <= value
    return lo <= value <= hi


def yes(flag: bool) -> str:
    return "**yes**" if flag else "no"


# --------------------------------------------------------------------------- calibration
def _summary() -> dict:
    return json.loads((CALIBRATION / "summary.json").read_text(encoding="utf-8"))


def calibration_run() -> str:
    """Stages of the committed calibration: simulations and wall time (summary.json, config.json)."""
    s, c = _summary(), json.loads((CALIBRATION / "config.json").read_text(encoding="utf-8"))
    flags = (f"--method {c['method']} --design {c['design']} --trajectories {c['trajectories']} "
             f"--max-params {c['max_params']} --particles {c['particles']} --draws {c['draws']} "
             f"--attribution-replicates {c['attribution_replicates']}"
             + (" --leave-one-out" if c["leave_one_out"] else ""))
    names = {"screening": "Morris screening", "design": "design (Latin hypercube, every city)",
             "emulator": "emulators: fit and cross-validation", "abc": "ABC-SMC (on the emulators)",
             "predictive": "predictive check (real simulations)", "attribution": "attribution",
             "leave_one_out": "leave-one-city-out"}
    rows = [[names.get(k, k), num(s["simulations"].get(k, 0)), f"{v / 60:.1f}"]
            for k, v in s["stage_seconds"].items()]
    rows.append(["**whole calibration**", f"**{num(s['simulations']['total'])}**", f"**{s['wall_seconds'] / 60:.1f}**"])
    scales = sorted(set(c["scales"].values()))
    return (f"`pingan calibrate {flags}` (seed {c['seed']}, scale {', '.join(num(x) for x in scales)}, "
            f"model version `{s['model_version']}`); ABC-SMC drew {num(s['synthetic_simulations'])} "
            f"synthetic runs from the emulators.\n\n"
            + table(["stage", "simulations", "minutes"], rows))


def convergence() -> str:
    """ABC-SMC generations (diagnostics.csv) and how the sampler stopped (summary.json)."""
    d = pd.read_csv(CALIBRATION / "diagnostics.csv")
    rows = [[str(r.generation), num(r.epsilon), f"{r.acceptance:.2f}", num(r.ess), num(r.max_mean_shift, 2)]
            for r in d.itertuples()]
    s = _summary()
    return (table(["generation", "ε", "acceptance", "effective sample size", "largest mean shift (prior widths)"],
                  rows)
            + f"\nStopped by: {s['stopped']}, after {s['generations']} generations.\n")


def emulators() -> str:
    """Cross-validated fit of each target's emulator (emulator.csv)."""
    e = pd.read_csv(CALIBRATION / "emulator.csv")
    rows = [[f"`{r.target_id}`", f"{r.r2:.2f}", f"{r.coverage_90:.3f}", num(r.rmse_tolerances, 2)]
            for r in e.itertuples()]
    return table(["target", "cross-validated R²", "90 % interval coverage", "RMSE (tolerances)"], rows)


def posterior() -> str:
    """Weighted posterior medians and 90 % ranges (posterior.csv) next to the priors (priors.yaml)."""
    from sim.calibration import load_priors
    from sim.calibration.abc import weighted_quantile
    from sim.calibration.posterior import load_posterior

    post = load_posterior(CALIBRATION / "posterior.csv")
    prior = {p.key: p for p in load_priors(ROOT / "calibration" / "priors.yaml")}
    rows = []
    for j, key in enumerate(post.keys):
        x, w = post.values[:, j], post.weights
        q = [weighted_quantile(x, w, a) for a in (0.5, 0.05, 0.95)]
        p = prior[key]
        rows.append([f"`{key}`", f"{num(p.low)}–{num(p.high)} ({num(p.default)})", interval(*q)])
    return table(["parameter", "prior range (default)", "posterior median [90 %]"], rows)


def _verdicts(pred: pd.DataFrame) -> pd.DataFrame:
    pred = pred.copy()
    pred["inside"] = [inside(r.reported, r.sim_lo, r.sim_hi, r.bound) for r in pred.itertuples()]
    return pred


def predictive() -> str:
    """The posterior against every target with real simulations (predictive.csv, tension.csv)."""
    pred = _verdicts(pd.read_csv(CALIBRATION / "predictive.csv", keep_default_na=True))
    prior = pd.read_csv(CALIBRATION / "tension.csv").set_index("target_id")["share_of_simulations_within_tolerance"]
    rows = []
    for r in pred.itertuples():
        compared = bool(r.compared)
        rows.append([f"`{r.target_id}`", reported(r.reported, r.bound), num(r.tolerance),
                     interval(r.sim_median, r.sim_lo, r.sim_hi),
                     yes(r.inside) if compared else "not compared",
                     yes(bool(r.hit)) if compared else "not compared",
                     f"{prior[r.target_id]:.2f}"])
    c = pred[pred["compared"].astype(bool)]
    head = (f"Of the {len(c)} compared targets, the reported value lies inside the simulated 90 % interval for "
            f"**{int(c['inside'].sum())}** (strict); the interval meets the reported value ± tolerance for "
            f"{int(c['hit'].astype(bool).sum())} (the calibration's criterion). {len(pred) - len(c)} more are "
            "reported but not compared.\n\n")
    return head + table(["target", "reported", "tolerance", "simulated median [90 %]", "reported inside",
                         "within tolerance", "prior design runs within tolerance (share)"], rows)


def tension() -> str:
    """The compared targets the posterior misses (tension.csv): how close the priors ever came, and what moves them."""
    t = pd.read_csv(CALIBRATION / "tension.csv")
    pred = pd.read_csv(CALIBRATION / "predictive.csv").set_index("target_id")
    rows = []
    for r in t.itertuples():
        if not bool(pred.loc[r.target_id, "compared"]) or bool(r.hit):
            continue
        rows.append([f"`{r.target_id}`", num(r.reported), num(r.sim_median), num(r.best_simulated),
                     num(r.best_gap_tolerances, 2), f"`{r.driver}` ({num(r.driver_spearman, 2)})",
                     r.driver_should_be or "", yes(bool(r.driver_at_bound))])
    return table(["target", "reported", "posterior median", "closest design run", "its gap (tolerances)",
                  "parameter that moves it most (Spearman ρ)", "it should go", "posterior at a prior bound"], rows)


def attribution() -> str:
    """Each intervention switched off in turn (attribution.csv): its share of the package's change."""
    a = pd.read_csv(CALIBRATION / "attribution.csv")
    rows = []
    for (scenario, metric), g in a.groupby(["scenario", "metric"], sort=False):
        whole = g[g["variant"] == "all"].iloc[0]
        parts = [f"{v.removeprefix('without ')} {num(r.contribution_pts, 2)} ± {num(r.contribution_sd, 2)}"
                 for v, r in zip(g["variant"], g.itertuples(), strict=True) if v.startswith("without ")]
        rows.append([scenario, f"`{metric}`", f"{num(whole.change_pct)} ± {num(whole.change_pct_sd)}",
                     "; ".join(parts)])
    return table(["scenario", "metric", "change with the package, % (± sd over draws)",
                  "contribution of each intervention, points (± sd)"], rows)


def leave_one_out() -> str:
    """Each city predicted by a calibration without its targets (holdout-<city>/predictive.csv)."""
    rows, counts = [], []
    for folder in sorted(CALIBRATION.glob("holdout-*")):
        city = folder.name.removeprefix("holdout-")
        p = pd.read_csv(folder / "predictive.csv")
        p = _verdicts(p[p["held_out"].astype(bool) & p["compared"].astype(bool)])
        counts.append(f"{city} {int(p['inside'].sum())} / {int(p['hit'].astype(bool).sum())} of {len(p)}")
        rows += [[city, f"`{r.target_id}`", reported(r.reported, r.bound), interval(r.sim_median, r.sim_lo, r.sim_hi),
                  yes(r.inside), yes(bool(r.hit))] for r in p.itertuples()]
    n_inside = sum(r[4] == yes(True) for r in rows)
    n_hit = sum(r[5] == yes(True) for r in rows)
    head = (f"Held-out targets with the reported value inside the predicted 90 % interval: **{n_inside} of "
            f"{len(rows)}** (strict); within tolerance: {n_hit} of {len(rows)}. By city (inside / within "
            f"tolerance): {'; '.join(counts)}.\n\n")
    return head + table(["held-out city", "target", "reported", "predicted median [90 %]", "reported inside",
                         "within tolerance"], rows)


# --------------------------------------------------------------------------- evidence
def _model_interval(mean: float, lo: float, hi: float) -> str:
    return num(mean) if math.isnan(lo) else interval(mean, lo, hi)


def evidence() -> str:
    """Each mechanism's effect (docs/records/evidence/) beside the pre-evidence model's (evidence-before/)."""
    now = pd.read_csv(RECORDS / "evidence" / "evidence.csv")
    before = pd.read_csv(RECORDS / "evidence-before" / "evidence.csv").set_index(["key", "measure"])
    rows = []
    for r in now.itertuples():
        old = before.loc[(r.key, r.measure)] if (r.key, r.measure) in before.index else None
        old_text = "" if old is None else _model_interval(old.model_mean, old.model_lo, old.model_hi)
        published, strict = "", "—"
        if not math.isnan(r.published_lo):
            point = "" if math.isnan(r.published) else num(r.published)
            published = f"{point} ({num(r.published_lo)} to {num(r.published_hi)})".strip()
            if point:
                strict = yes(r.model_lo <= r.published <= r.model_hi)
        source = r.source.split(":")[0] if isinstance(r.source, str) else ""
        overlap = {"inside": yes(True), "outside": yes(False)}.get(r.verdict, "—")  # n/a: no published range
        rows.append([r.mechanism, r.measure, r.unit, old_text,
                     f"**{_model_interval(r.model_mean, r.model_lo, r.model_hi)}**", published, strict,
                     overlap, source])
    ranged = now[~now["published_lo"].isna()]
    with_point = [row for row in rows if row[6] != "—"]
    head = (f"Of the {len(with_point)} measures with a single published figure, the model's 95 % interval contains "
            f"it for **{sum(row[6] == yes(True) for row in with_point)}** (strict); of the {len(ranged)} with a "
            f"published range, the interval overlaps it for {int((ranged['verdict'] == 'inside').sum())} (the "
            "harness's verdict).\n\n")
    return head + table(["mechanism", "measure", "unit", "pre-evidence mechanisms", "now (defaults), mean [95 %]",
                         "published figure (range)", "published figure inside", "ranges overlap", "source"], rows)


# --------------------------------------------------------------------------- performance
def _verbatim(path: Path) -> Callable[[], str]:
    def render() -> str:
        text = path.read_text(encoding="utf-8").rstrip("\n")
        return f"`{path.relative_to(ROOT)}`:\n\n```\n{text}\n```\n"
    render.__doc__ = f"The committed output {path.relative_to(ROOT)}, verbatim."
    return render


def calibration_speed() -> str:
    """Simulations per minute of the committed calibration's stages that ran real simulations (summary.json)."""
    s = _summary()
    rows = []
    for stage, n in s["simulations"].items():
        if stage == "total" or not n:
            continue
        secs = s["stage_seconds"][stage]
        rows.append([stage, num(n), f"{secs / 60:.1f}", f"{secs / n:.2f}"])
    total = s["simulations"]["total"]
    rows.append(["**whole calibration**", num(total), f"{s['wall_seconds'] / 60:.1f}",
                 f"{s['wall_seconds'] / total:.2f}"])
    return table(["stage", "simulations", "minutes", "wall seconds per simulation (2 workers)"], rows)


# --------------------------------------------------------------------------- optimiser
OPTIMISE = DOCS / "optimise"


def study_against_actual() -> str:
    """The worked Suizhou study's actual package and what the same money could buy (its summary.txt, verbatim)."""
    path = OPTIMISE / "suizhou_2022" / "summary.txt"
    text = path.read_text(encoding="utf-8")
    start = text.index("the city's actual package:")
    end = text.index("robustness across posterior draws")
    lines = [line for line in text[start:end].rstrip("\n").splitlines() if "sites of cameras" not in line]
    return f"`{path.relative_to(ROOT)}` (excerpt):\n\n```\n" + "\n".join(lines) + "\n```\n"


def study_front() -> str:
    """The worked Suizhou study's Pareto front by cost, the actual package beside it (front.csv, actual.csv)."""
    folder = OPTIMISE / "suizhou_2022"
    front = pd.read_csv(folder / "front.csv").sort_values("cost_yuan_per_year")
    actual = pd.read_csv(folder / "actual.csv")
    rows = []
    for _, r in pd.concat([actual, front]).sort_values("cost_yuan_per_year", kind="stable").iterrows():
        name = "**actual (2022)**" if int(r["package"]) < 0 else str(int(r["package"]))
        rows.append([name, num(r["cost_yuan_per_year"] / 1e6), str(r["contents"]),
                     interval(r["preventable_cases"], r["preventable_cases_lo"], r["preventable_cases_hi"]),
                     num(r["preventable_cases_pessimistic"]),
                     interval(r["calls_for_service"], r["calls_for_service_lo"], r["calls_for_service_hi"]),
                     interval(*(r[f"response_time_p90_min{end}"] for end in ("", "_lo", "_hi")))])
    return table(["package", "annual cost [M yuan, whole city]", "contains",
                  "preventable cases prevented [per year, 10 % sample], mean [95 %]", "pessimistic (0.1 quantile)",
                  "calls avoided [per year, 10 % sample]", "change of p90 response [min]"], rows)


#: page -> block name -> renderer
PAGES: dict[str, dict[str, Callable[[], str]]] = {
    "calibration.md": {"calibration-run": calibration_run, "convergence": convergence, "emulators": emulators,
                       "posterior": posterior, "predictive": predictive, "tension": tension,
                       "attribution": attribution, "leave-one-out": leave_one_out},
    "evidence.md": {"evidence": evidence},
    "performance.md": {"city-year": _verbatim(BENCHMARKS / "city_year.txt"),
                       "store-overhead": _verbatim(BENCHMARKS / "store_overhead.txt"),
                       "calibration-speed": calibration_speed,
                       "memory-estimate": _verbatim(BENCHMARKS / "memory_estimate.txt")},
    "cities.md": {"city-year-real": _verbatim(BENCHMARKS / "city_year_real.txt")},
    "optimise.md": {"optimise-benchmark": _verbatim(BENCHMARKS / "optimise.txt"),
                    "siting-check": _verbatim(OPTIMISE / "siting_rapid_response_points.txt"),
                    "study-against-actual": study_against_actual, "study-front": study_front},
}


def render(page: str, text: str) -> str:
    """``text`` with every generated block of ``page`` rendered afresh.

    Raises:
        ValueError: If the page has a block no renderer knows, or lacks one that a renderer expects.
    """
    blocks = PAGES[page]
    found = [m.group("name") for m in BLOCK.finditer(text)]
    unknown, missing = set(found) - set(blocks), set(blocks) - set(found)
    if unknown or missing:
        raise ValueError(f"docs/{page}: unknown generated blocks {sorted(unknown)}, missing {sorted(missing)}")
    return BLOCK.sub(lambda m: m.group(1) + blocks[m.group("name")]() + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if a page differs from its files")
    args = ap.parse_args(argv)
    stale = []
    for page in PAGES:
        path = DOCS / page
        old = path.read_text(encoding="utf-8")
        new = render(page, old)
        if new != old:
            stale.append(page)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print(f"out of date with their files: {', '.join(stale)} (run python docs/make/records.py)", file=sys.stderr)
        return 1
    if not args.check:
        print(f"rewrote {', '.join(stale) or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
