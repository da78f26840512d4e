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


def pct(share: float, decimals: int = 0) -> str:
    """A share as a percentage with a space before the sign (0.944 -> "94 %")."""
    return f"{100 * share:.{decimals}f} %"


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


def _config() -> dict:
    return json.loads((CALIBRATION / "config.json").read_text(encoding="utf-8"))


#: Simulations counted under one name and timed under another (summary.json): the scores stage simulates the
#: shipped defaults.
STAGE_OF_SIMULATIONS = {"defaults": "scores"}


def calibration_run() -> str:
    """Stages of the committed calibration: simulations and wall time (summary.json, config.json)."""
    s, c = _summary(), _config()
    flags = (f"--method {c['method']} --design {c['design']} --trajectories {c['trajectories']} "
             + (f"--screening-seeds {c['screening_seeds']} " if c.get("screening_seeds", 1) > 1 else "")
             + (f"--noise-seeds {c['noise_seeds']} " if c.get("noise_seeds") else "")
             + f"--max-params {c['max_params']} --particles {c['particles']} --draws {c['draws']} "
             f"--attribution-replicates {c['attribution_replicates']}"
             + (" --leave-one-out" if c["leave_one_out"] else "")
             + (f" --budget {c['budget']}" if c.get("budget") else "")
             + (f" --min-acceptance {c['min_acceptance']:g}" if c.get("min_acceptance") else "")
             + (f" --min-epsilon {c['min_epsilon']:g}" if c.get("min_epsilon") else "")
             + (" --fit-unreachable" if c.get("fit_unreachable") else "")
             + (f" --sbc {c['sbc_truths']}" if c.get("sbc_truths") else "")
             + (f" --sbc-particles {c['sbc_particles']}" if c.get("sbc_particles") else ""))
    names = {"screening": "Morris screening", "design": "design (Latin hypercube, every city)",
             "emulator": "emulators: fit and cross-validation", "abc": "ABC-SMC (on the emulators)",
             "abc_with_unreachable": "ABC-SMC again, the unreachable targets fitted too",
             "sbc": "simulation-based calibration check (prior draws simulated, then inferred back)",
             "predictive": "predictive check (real simulations)", "attribution": "attribution",
             "leave_one_out": "leave-one-city-out", "scores": "scores: the shipped defaults simulated"}
    sims = {STAGE_OF_SIMULATIONS.get(k, k): n for k, n in s["simulations"].items()}
    rows = [[names.get(k, k), num(sims.get(k, 0)), f"{v / 60:.1f}"] for k, v in s["stage_seconds"].items()]
    rows.append(["**whole calibration**", f"**{num(s['simulations']['total'])}**", f"**{s['wall_seconds'] / 60:.1f}**"])
    scales = sorted(set(c["scales"].values()))
    from sim.experiments.store import model_version

    now = model_version()
    same = ("the model's code is still that version" if now == s["model_version"] else
            f"**the model's code has changed since (now `{now}`): these results are the earlier model's**")
    if "inputs_version" in c:  # written by calibrations since the inputs' version was recorded
        from sim.calibration.state import inputs_version

        try:
            inputs = inputs_version(ROOT / c["targets"], ROOT / c["priors"])
        except (OSError, ValueError) as e:  # the inputs it names are not in this repository
            inputs = f"unreadable ({e})"
        same += ("; its targets, priors and scenarios are unchanged" if inputs == c["inputs_version"] else
                 "; **its targets, priors or scenarios have changed since: these results are the earlier inputs'**")
    return (f"`pingan calibrate {flags}` (seed {c['seed']}, scale {', '.join(num(x) for x in scales)}, "
            f"model version `{s['model_version']}`; {same}); ABC-SMC drew {num(s['synthetic_simulations'])} "
            f"synthetic runs from the emulators.\n\n"
            + table(["stage", "simulations", "minutes"], rows))


def convergence() -> str:
    """ABC-SMC generations (diagnostics.csv) and how the sampler stopped (summary.json)."""
    d = pd.read_csv(CALIBRATION / "diagnostics.csv")
    rows = [[str(r.generation), num(r.epsilon), f"{r.acceptance:.2f}", num(r.ess), num(r.max_mean_shift, 2)]
            for r in d.itertuples()]
    s, c = _summary(), _config()
    rule = (f"the convergence rule (ε falls by less than {pct(c['eps_rtol'])} and no posterior mean moves "
            f"{c['mean_shift_tol']:g} prior widths or more between two generations)")
    why = s["stopped"]
    if why == "converged":
        why = f"{rule}, which fired"
    elif why == "min_epsilon":
        why = (f"the tolerance floor: ε reached {num(c['min_epsilon'])} (root mean square distance in target "
               f"tolerances), the precision the reported figures carry")
    elif why in ("acceptance", "budget") and len(d) >= 3:
        last, before = d.iloc[-1], d.iloc[-2]
        why = ({"acceptance": f"the acceptance floor ({s.get('min_acceptance', 0.02):g})",
                "budget": f"the synthetic-simulation budget ({num(s['synthetic_simulations'])})"}[why]
               + f" before {rule}: in the last generation ε fell by "
                 f"{pct(1 - last.epsilon / before.epsilon, 1)} and the "
                 f"largest mean moved {last.max_mean_shift:.3f} prior widths")
    return (table(["generation", "ε", "acceptance", "effective sample size", "largest mean shift (prior widths)"],
                  rows)
            + f"\nStopped by {why}; {s['generations']} generations.\n")


def emulators() -> str:
    """Cross-validated fit of each target's emulator (emulator.csv)."""
    e = pd.read_csv(CALIBRATION / "emulator.csv")
    header = ["target", "cross-validated R²", "90 % interval coverage", "RMSE (tolerances)"]
    rows = [[f"`{r.target_id}`", f"{r.r2:.2f}", f"{r.coverage_90:.3f}", num(r.rmse_tolerances, 2)]
            for r in e.itertuples()]
    if "noise_share" in e:  # the calibration measured the seed noise: each target's noise share over the design
        header += ["noise share over the design [one-sided 95 % lower bound]", "left out of the fit as noise"]
        for row, r in zip(rows, e.itertuples(), strict=True):
            row += [f"{num(r.noise_share, 2)} [{num(r.noise_share_lo, 2)}]", yes(bool(r.left_out_as_noise))]
    return table(header, rows)


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
    by_hand = _fitted_by_hand()
    rows = []
    for r in pred.itertuples():
        compared = bool(r.compared)
        rows.append([f"`{r.target_id}`" + (" (fitted by hand)" if r.target_id in by_hand else ""),
                     reported(r.reported, r.bound), num(r.tolerance),
                     interval(r.sim_median, r.sim_lo, r.sim_hi),
                     yes(r.inside) if compared else "not compared",
                     yes(bool(r.hit)) if compared else "not compared",
                     f"{prior[r.target_id]:.2f}"])
    c = pred[pred["compared"].astype(bool) & ~pred["target_id"].isin(by_hand)]
    head = (f"Of the {len(c)} compared targets not fitted by hand, the reported value lies inside the simulated "
            f"90 % interval for **{int(c['inside'].sum())}** (strict); the interval meets the reported value ± "
            f"tolerance for {int(c['hit'].astype(bool).sum())} (the calibration's criterion). "
            f"{int(pred['compared'].astype(bool).sum()) - len(c)} compared targets were fitted by hand (a scenario "
            f"constant set to match them) and {len(pred) - int(pred['compared'].astype(bool).sum())} are reported "
            "but not compared.\n\n")
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


def _fitted_by_hand() -> dict[str, str]:
    """Targets a scenario constant was set by hand to match, and that constant (calibration/targets.csv)."""
    t = pd.read_csv(ROOT / "calibration" / "targets.csv", keep_default_na=False)
    if "fitted_by_hand" not in t:
        return {}
    return {r.target_id: r.fitted_by_hand for r in t.itertuples() if r.fitted_by_hand}


def leave_one_out() -> str:
    """Each city predicted by a calibration without its targets (holdout-<city>/predictive.csv); targets fitted
    by hand are shown but not counted."""
    by_hand = _fitted_by_hand()
    rows, counts = [], []
    for folder in sorted(CALIBRATION.glob("holdout-*")):
        city = folder.name.removeprefix("holdout-")
        p = pd.read_csv(folder / "predictive.csv")
        p = _verdicts(p[p["held_out"].astype(bool) & p["compared"].astype(bool)])
        c = p[~p["target_id"].isin(by_hand)]
        counts.append(f"{city} {int(c['inside'].sum())} / {int(c['hit'].astype(bool).sum())} of {len(c)}")
        rows += [[city, f"`{r.target_id}`" + (" (fitted by hand, not counted)" if r.target_id in by_hand else ""),
                  reported(r.reported, r.bound), interval(r.sim_median, r.sim_lo, r.sim_hi),
                  yes(r.inside), yes(bool(r.hit))] for r in p.itertuples()]
    kept = [r for r in rows if "not counted" not in r[1]]
    n_inside = sum(r[4] == yes(True) for r in kept)
    n_hit = sum(r[5] == yes(True) for r in kept)
    head = (f"Held-out targets with the reported value inside the predicted 90 % interval: **{n_inside} of "
            f"{len(kept)}** (strict); within tolerance: {n_hit} of {len(kept)}. By city (inside / within "
            f"tolerance): {'; '.join(counts)}. Not counted: {len(rows) - len(kept)} targets a scenario constant "
            f"was set by hand to match.\n\n")
    return head + table(["held-out city", "target", "reported", "predicted median [90 %]", "reported inside",
                         "within tolerance"], rows)


SOURCE_NAMES = {"defaults": "shipped defaults", "prior": "prior (the design)", "posterior": "posterior",
                "leave-one-out": "leave-one-city-out"}


def scores() -> str:
    """The defaults, the prior, the posterior and leave-one-out scored side by side (scores_summary.csv)."""
    summary = pd.read_csv(CALIBRATION / "scores_summary.csv")
    samples = pd.read_csv(CALIBRATION / "predictive_samples.csv", usecols=["source"])
    draws = samples.groupby("source").size()
    rows = []
    for r in summary.itertuples():
        rows.append([SOURCE_NAMES.get(r.source, r.source), num(draws[r.source]),
                     f"**{r.inside_90} of {r.point_targets}**", f"{r.inside_50} of {r.point_targets}",
                     f"{r.touches_90} of {r.point_targets}", num(r.mean_crps, 2), num(r.mean_interval_score_90, 2),
                     str(r.pit_in_tails), f"{num(r.mean_right_side, 2)} ({r.bound_targets + r.direction_targets})"])
    scored = pd.read_csv(CALIBRATION / "scores.csv", keep_default_na=False)
    by_hand = sorted(set(scored.loc[scored["fitted_by_hand"] != "", "target_id"]))
    return (table(["predictive", "draws", "reported inside 90 % (strict)", "inside 50 %",
                   "90 % interval meets value ± tolerance (old rule)", "mean CRPS (tolerances)",
                   "mean 90 % interval score (tolerances)", "PIT below 0.05 or above 0.95",
                   "bound and direction targets: share of draws on the reported side (targets)"], rows)
            + f"\nCounted: point targets compared at the calibration's scale; left out of the counts (scored in "
              f"the table below): {len(by_hand)} fitted by hand ({', '.join(f'`{t}`' for t in by_hand)}).\n")


def score_targets() -> str:
    """Per target: each predictive's median, PIT and strict verdict (scores.csv)."""
    scored = pd.read_csv(CALIBRATION / "scores.csv", keep_default_na=False, na_values=[""])
    sources = [s for s in SOURCE_NAMES if s in set(scored["source"])]
    rows = []
    for tid, g in scored.groupby("target_id", sort=False):
        g = g.set_index("source")
        first = g.iloc[0]
        hand = first["fitted_by_hand"] if isinstance(first["fitted_by_hand"], str) else ""
        status = ("fitted by hand: " + hand.split(": ", 1)[-1]) if hand else (
            first["group"] if bool(first["compared"]) or first["group"] != "point" else "not compared")
        cells = []
        for src in sources:
            if src not in g.index or g.loc[src, "draws"] == 0:
                cells.append("")
                continue
            r = g.loc[src]
            verdict = "✓" if str(r["inside_90"]) == "True" else "✗"
            cells.append(f"{num(r['median'])} [{num(r['lo_90'])}, {num(r['hi_90'])}] PIT {r['pit']:.2f} {verdict}")
        rows.append([f"`{tid}`", reported(first["reported"], first["bound"] if isinstance(first["bound"], str) else ""),
                     status, *cells])
    columns = [f"{SOURCE_NAMES[s]}: median [90 %], PIT, inside" for s in sources]
    return table(["target", "reported", "counted as", *columns], rows)


def _identifiability() -> pd.DataFrame:
    """Per estimated parameter: posterior sd over prior sd in the prior's unit cube, posterior mass in the
    bottom and top tenths, the targets it moves most in the screening (posterior.csv, priors.yaml, screening.csv)."""
    import numpy as np

    from sim.calibration import load_priors
    from sim.calibration.posterior import load_posterior

    post = load_posterior(CALIBRATION / "posterior.csv")
    prior = {p.key: p for p in load_priors(ROOT / "calibration" / "priors.yaml")}
    screen = pd.read_csv(CALIBRATION / "screening.csv").set_index("key")
    threshold = _config()["min_effect"]
    target_cols = [c for c in screen.columns if c not in ("score", "most_affected", "selected")]
    w = post.weights / post.weights.sum()
    rows = []
    for j, key in enumerate(post.keys):
        p = prior[key]
        x = post.values[:, j]
        u = (np.log(x / p.low) / np.log(p.high / p.low)) if p.scale == "log" else (x - p.low) / (p.high - p.low)
        mean = float(np.sum(w * u))
        effects = screen.loc[key, target_cols].astype(float).sort_values(ascending=False)
        rows.append({"key": key, "sd_ratio": math.sqrt(float(np.sum(w * (u - mean) ** 2))) * math.sqrt(12),
                     "bottom": float(np.sum(w * (u < 0.1))), "top": float(np.sum(w * (u > 0.9))),
                     "informs": [(t, e) for t, e in effects.items() if e >= threshold][:3], "threshold": threshold})
    return pd.DataFrame(rows)


def identifiability() -> str:
    """The identifiability table (:func:`_identifiability`)."""
    d = _identifiability()
    rows = [[f"`{r.key}`", f"**{r.sd_ratio:.2f}**", f"{r.bottom:.2f}", f"{r.top:.2f}",
             "; ".join(f"`{t}` {num(e, 2)}" for t, e in r.informs) or "none above the threshold"]
            for r in d.itertuples()]
    return table(["parameter", "posterior sd / prior sd", "posterior mass in the bottom tenth of the prior",
                  "in the top tenth", f"targets it moves most in the screening (effect in tolerances, ≥ "
                  f"{num(d['threshold'].iloc[0])})"], rows)


def loo_screening() -> str:
    """Per held-out city: what its calibration's own screening estimated instead of the full calibration's
    parameters (screening_by_city.csv), whether it had its own design, and what its fit left out
    (holdout-<city>/summary.json)."""
    d = pd.read_csv(CALIBRATION / "screening_by_city.csv")
    rows = []
    for city, g in d.groupby("city"):
        held = json.loads((CALIBRATION / f"holdout-{city}" / "summary.json").read_text(encoding="utf-8"))
        added = g.loc[~g["estimated"] & g["estimated_without_city"], "parameter"]
        dropped = g.loc[g["estimated"] & ~g["estimated_without_city"], "parameter"]
        left = [f"`{t}` (noise)" for t in held.get("left_out_as_noise", [])]
        left += [f"`{t}` (out of reach)" for t in held.get("left_out_of_fit", [])]
        rows.append([city, "its own" if held.get("own_design") else "the full calibration's",
                     "; ".join(f"`{k}`" for k in dropped) or "none", "; ".join(f"`{k}`" for k in added) or "none",
                     "; ".join(left) or "none"])
    same = sum(r[2] == "none" and r[3] == "none" for r in rows)
    own = sum(r[1] == "its own" for r in rows)
    return (f"The screening without the city's targets estimates the same parameters as the full calibration "
            f"for {same} of {len(rows)} cities; {own} held-out calibrations simulated and emulated a design of "
            "their own.\n\n"
            + table(["held-out city", "design", "estimated by the full calibration only",
                     "estimated without the city only", "left out of the held-out fit"], rows))


RULES = {"as measured": "effects as measured", "beyond seed noise": "only effects beyond seed noise"}


def _seed_agreement(d: pd.DataFrame) -> tuple[int, int, list[int]]:
    """One rule's rows of screening_seeds.csv: how many parameters the calibration estimates, how many of
    them the seeds pooled choose, and how many of the pooled choice each seed alone chooses."""
    seeds = sorted(int(c.removeprefix("selected_seed")) for c in d.columns if c.startswith("selected_seed"))
    used, pooled = d["used"].astype(bool), d["pooled_selected"].astype(bool)
    return (int(used.sum()), int((used & pooled).sum()),
            [int((pooled & d[f"selected_seed{k}"].astype(bool)).sum()) for k in seeds])


def _seed_rules() -> dict[str, pd.DataFrame]:
    """screening_seeds.csv's rows by rule (as measured first), or {} without the file."""
    path = CALIBRATION / "screening_seeds.csv"
    if not path.is_file():
        return {}
    d = pd.read_csv(path)
    if "rule" not in d:  # written before the rule beyond seed noise existed: effects as measured
        d["rule"] = "as measured"
    return {rule: d[d["rule"] == rule].set_index("key") for rule in RULES if (d["rule"] == rule).any()}


def _calibration_rule(rules: dict[str, pd.DataFrame]) -> str:
    """The rule of screening_seeds.csv the calibration chose by: beyond seed noise when it measured the noise."""
    return "beyond seed noise" if _config().get("noise_seeds") and "beyond seed noise" in rules else "as measured"


def screening_seeds() -> str:
    """Each screening seed's choice beside the pooled one and the calibration's, per rule (screening_seeds.csv)."""
    rules = _seed_rules()
    if not rules:
        return ("The screening ran at one seed and was not repeated at others (`python -m sim.calibration.screening "
                "RESULTS --seeds K` repeats it).\n")
    own = _config().get("screening_seeds", 1) == 1  # the calibration chose at seed 0 alone
    mark = {True: "✓", False: ""}
    lines = []
    for rule, d in rules.items():
        n, kept, alone = _seed_agreement(d)
        pooled = int(d["pooled_selected"].sum())
        lines.append(f"With {RULES[rule]}, the {len(alone)} seeds pooled choose {pooled} parameters, {kept} of the "
                     f"{n} the calibration estimates; of those {pooled}, "
                     + ", ".join(f"seed {k} alone chooses {a}" for k, a in enumerate(alone)) + ".")
    k_seeds = _config().get("screening_seeds", 1)
    lines.append(f"The calibration estimates the choice with {RULES[_calibration_rule(rules)]}, "
                 + (f"pooled over {k_seeds} seeds." if k_seeds > 1 else "of seed 0 alone."))
    keys = list(dict.fromkeys(k for d in rules.values() for k in d.index))
    first = next(iter(rules.values()))
    seeds = len(_seed_agreement(first)[2])

    def cells(d: pd.DataFrame, key: str) -> list[str]:
        r = d.loc[key]
        return ([f"{num(r['pooled_score'], 2)} {mark[bool(r['pooled_selected'])]}"]
                + [f"{num(r[f'score_seed{k}'], 2)} {mark[bool(r[f'selected_seed{k}'])]}" for k in range(seeds)])

    header = ["parameter", "estimated"]
    for rule in rules:
        word = "measured" if rule == "as measured" else "beyond noise"
        header += [f"{word}: pooled over {seeds} seeds"] + [
            f"{word}: seed {k}" + (" (the calibration's)" if k == 0 and own and rule == "as measured" else "")
            for k in range(seeds)]
    rows = [[f"`{k}`", mark[bool(first.loc[k, "used"])]] + [c for d in rules.values() for c in cells(d, k)]
            for k in keys]
    return " ".join(lines) + "\n\n" + table(header, rows)


def screening_noise() -> str:
    """Each used target's seed noise against the effects the screening measured on it (screening_noise.csv)."""
    path = CALIBRATION / "screening_noise.csv"
    if not path.is_file():
        return ("No screening_noise.csv (`python -m sim.calibration.screening RESULTS --seeds K --noise-seeds R` "
                "writes it).\n")
    d = pd.read_csv(path)
    none = d[d["beyond_noise"] == 0]
    rows = [[f"`{r.target_id}`", num(r.noise_tolerances, 2), num(r.noise_bound, 2), num(r.largest_effect, 2),
             f"`{r.largest_by}`", str(r.beyond_noise)] for r in d.itertuples()]
    quiet = (f"On {len(none)} of {len(d)} targets no parameter's effect is beyond seed noise: "
             f"{', '.join(f'`{t}`' for t in none['target_id'])}." if len(none) else
             f"On each of the {len(d)} targets some parameter's effect is beyond seed noise.")
    if _config().get("noise_seeds"):
        left = _summary().get("left_out_as_noise") or []
        quiet += (" The calibration measured the noise this way and left out of the fit "
                  + (f"{len(left)} target{'s' if len(left) > 1 else ''} whose spread over the design is mostly "
                     f"that noise ({', '.join(f'`{t}`' for t in left)}; `emulator.csv`), still predicted and "
                     "scored." if left else "no target: none has a spread over the design that is mostly noise."))
    return (quiet + "\n\n"
            + table(["target", f"seed noise sd in tolerances ({d['noise_seeds'].iloc[0]} seeds of the defaults)",
                     "μ* noise alone stays below (99.9 %)", "largest μ* measured", "by", "parameters beyond noise"],
                    rows))


def _compared_noise() -> pd.DataFrame | None:
    """noise.csv's compared targets, noisiest first, with ``noisy`` (more than half seed noise at the
    calibration's scale) and, when measured at a second scale, ``measured_share`` (the noise share there,
    the signal taken from the calibration's scale); None without the file."""
    path = CALIBRATION / "noise.csv"
    if not path.is_file():
        return None
    d = pd.read_csv(path)
    d = d[d["compared"].astype(bool)].sort_values("noise_share", ascending=False, kind="stable")
    d["noisy"] = d["noise_share"] > 0.5
    if "measured_noise_sd" in d:
        d["measured_share"] = d["measured_noise_sd"] ** 2 / (d["measured_noise_sd"] ** 2 + d["signal_sd"] ** 2)
    return d


def seed_noise() -> str:
    """Each compared target's seed noise against its spread over the priors, and at full scale (noise.csv)."""
    d = _compared_noise()
    if d is None:
        return "No noise.csv (`python -m sim.calibration.noise RESULTS` writes it from the predictive samples).\n"
    measured = "measured_share" in d
    first = d.iloc[0]
    noisy = d[d["noisy"]]
    head = (f"{len(noisy)} of {len(d)} compared targets are more than half seed noise at the calibration's scale "
            f"({num(first['scale'])}): " + ", ".join(f"`{t}`" for t in noisy["target_id"]) + ".")
    rows = []
    for r in d.itertuples():
        row = [f"`{r.target_id}`", num(r.spread), num(r.noise_sd), num(r.prior_sd),
               interval(r.noise_share, r.noise_share_lo, r.noise_share_hi, 2),
               interval(r.signal_in_spreads, r.signal_sd_lo / r.spread, r.signal_sd_hi / r.spread, 2),
               num(r.emulator_noise_sd)]
        if measured:
            row += [f"{interval(r.measured_noise_sd, r.measured_noise_sd_lo, r.measured_noise_sd_hi)} "
                    f"({num(r.projected_noise_sd)})", f"**{num(r.measured_share, 2)}**"]
        rows.append(row + [num(r.scale_for_half, 2)])
    header = ["target", "tolerance (spread)", f"seed noise sd ({int(first['seeds'])} seeds, defaults)",
              f"sd over the priors ({int(first['design_points'])} design runs)", "noise share [90 %]",
              "signal (sd the parameters make) in tolerances [90 %]", "noise sd the emulator learned"]
    if measured:
        big = num(first["measured_scale"])
        still = d.loc[d["noisy"] & (d["measured_share"] > 0.5), "target_id"]
        off = d.loc[(d["projected_noise_sd"] < d["measured_noise_sd_lo"])
                    | (d["projected_noise_sd"] > d["measured_noise_sd_hi"]), "target_id"]
        head += (f" Simulated again at scale {big} ({int(first['measured_seeds'])} seeds of the defaults), "
                 f"{len(still)} of them still are: " + ", ".join(f"`{t}`" for t in still) + ". "
                 f"The noise measured there is what 1/scale projects (inside its 90 % interval) for "
                 f"{len(d) - len(off)} of {len(d)} targets; not for " + ", ".join(f"`{t}`" for t in off) + ".")
        header += [f"noise sd measured at scale {big}, {int(first['measured_seeds'])} seeds [90 %] "
                   "(projected as 1/scale)", f"noise share at scale {big}"]
    return head + "\n\n" + table(header + ["scale at which the noise share would be ½ (projected)"], rows)


def unreachable() -> str:
    """The targets left out of the fit as out of reach, and how fitting them moves the posterior (unreachable.csv)."""
    s = _summary()
    left = s.get("left_out_of_fit") or []
    if _config().get("fit_unreachable"):
        return "Every target was fitted, out of reach or not (`--fit-unreachable`).\n"
    if not left:
        return "No target was left out of the fit as out of reach of every design run.\n"
    d = pd.read_csv(CALIBRATION / "unreachable.csv")
    rows = [[f"`{r.parameter}`", num(r.mean), num(r.sd), num(r.with_unreachable_mean), num(r.with_unreachable_sd),
             f"**{r.shift_prior_widths:+.2f}**"] for r in d.itertuples()]
    w = s.get("with_unreachable", {})
    return (f"Left out of the fit: {', '.join(f'`{t}`' for t in left)}. Fitted too, the same sampler stops by "
            f"{w.get('stopped', '?')} after {w.get('generations', '?')} generations at ε "
            f"{num(w.get('final_epsilon') or math.nan)} (without them: {num(s['final_epsilon'])}).\n\n"
            + table(["parameter", "posterior mean", "sd", "mean, unreachable targets fitted too", "sd",
                     "shift of the mean (prior widths)"], rows))


def sbc() -> str:
    """The simulation-based calibration check's coverage per parameter (sbc_summary.csv, sbc.csv)."""
    if not (CALIBRATION / "sbc_summary.csv").is_file():
        return "Not run for this calibration (`--sbc TRUTHS`).\n"
    d = pd.read_csv(CALIBRATION / "sbc_summary.csv")
    t = pd.read_csv(CALIBRATION / "sbc.csv")
    rows = [[f"`{r.parameter}`" if r.parameter != "all parameters" else "**all parameters**",
             f"**{r.coverage_90:.2f}** [{r.coverage_90_lo:.2f}, {r.coverage_90_hi:.2f}]"
             + (" (bootstrap over truths)" if r.parameter == "all parameters" else ""),
             f"{r.coverage_50:.2f} [{r.coverage_50_lo:.2f}, {r.coverage_50_hi:.2f}]",
             "" if math.isnan(r.ks_uniform_p) else f"{r.ks_uniform_p:.2f}", f"{r.sd_ratio:.2f}"]
            for r in d.itertuples()]
    each = t.drop_duplicates("truth")
    stops = each["stopped"].value_counts().to_dict()
    return (f"{len(each)} truths, each inferred with {num(each['generations'].mean(), 2)}"
            f" generations on average (stopped by: {', '.join(f'{k} {v}' for k, v in stops.items())}).\n\n"
            + table(["parameter", "truth inside the 90 % interval [95 % interval]", "inside the 50 % interval",
                     "KS test of uniform ranks, p", "posterior sd / prior sd"], rows))


def stationarity() -> str:
    """Year-to-year drift of every city's no-intervention baseline (docs/records/stationarity/stationarity.csv)."""
    d = pd.read_csv(RECORDS / "stationarity" / "stationarity.csv")
    reps = pd.read_csv(RECORDS / "stationarity" / "metrics.csv", usecols=["replicate"])["replicate"].nunique()
    rows = [[r.scenario, f"`{r.metric}`", f"{r.year_from}→{r.year_to}", num(r.mean_from), num(r.mean_to),
             interval(r.change_pct, r.change_pct_lo, r.change_pct_hi), f"{r.p_holm:.2f}", yes(not bool(r.drift))]
            for r in d.itertuples()]
    n_drift = int(d["drift"].astype(bool).sum())
    head = (f"{len(d)} year-to-year changes over {reps} paired replicates: **{n_drift}** drift (Holm-corrected "
            f"p < 0.05).\n\n")
    return head + table(["baseline", "metric", "years", "mean, first", "mean, next", "change, % [95 %]",
                         "p (Holm)", "within noise"], rows)


def readme_validation() -> str:
    """The README's summary of the validation: the score table's strict rows, identifiability in one line
    and the stationarity check in one line (scores_summary.csv, posterior.csv, stationarity.csv)."""
    summary = pd.read_csv(CALIBRATION / "scores_summary.csv")
    draws = pd.read_csv(CALIBRATION / "predictive_samples.csv", usecols=["source"]).groupby("source").size()
    rows = [[SOURCE_NAMES.get(r.source, r.source), num(draws[r.source]), f"**{r.inside_90} of {r.point_targets}**",
             f"{r.inside_50} of {r.point_targets}", f"{r.touches_90} of {r.point_targets}", num(r.mean_crps, 2)]
            for r in summary.itertuples()]
    ratios = _identifiability()["sd_ratio"]
    drift = pd.read_csv(RECORDS / "stationarity" / "stationarity.csv")
    sbc_file = CALIBRATION / "sbc_summary.csv"
    check = ""
    if sbc_file.is_file():
        a = next(pd.read_csv(sbc_file).query("parameter == 'all parameters'").itertuples())
        check = (f" The inference checked on {a.truths} model-made data sets (simulation-based calibration): the "
                 f"truth inside the 90 % interval {pct(a.coverage_90)} [{pct(a.coverage_90_lo)}, "
                 f"{pct(a.coverage_90_hi)}] of the time, inside the 50 % {pct(a.coverage_50)}.")
    d = _compared_noise()
    if d is not None:
        noisy = d[d["noisy"]]
        check += (f" {len(noisy)} of {len(d)} compared targets are more than half seed noise at scale "
                  f"{num(d['scale'].iloc[0])} ({', '.join(f'`{t}`' for t in noisy['target_id'])})")
        if "measured_share" in d:
            still = int((noisy["measured_share"] > 0.5).sum())
            check += f", {still} of them still at scale {num(d['measured_scale'].iloc[0])}"
        check += "."
    rules = _seed_rules()
    if rules:
        agreement = {rule: _seed_agreement(d) for rule, d in rules.items()}
        n, kept, alone = agreement["as measured"]
        differ = {rule: "/".join(str(int(d["pooled_selected"].sum()) - a) for a in agreement[rule][2])
                  for rule, d in rules.items()}
        rule = _calibration_rule(rules)
        if _config().get("screening_seeds", 1) > 1:
            check += (f" The calibration screened at {len(alone)} seeds and estimates their pooled choice with "
                      f"{RULES[rule]}")
        else:
            check += (f" The screening repeated at {len(alone)} seeds: pooled, it keeps {kept} of the {n} parameters "
                      "estimated (seed 0's choice, effects as measured)")
        check += ("; each seed alone differs from the pooled choice in "
                  + " and ".join(f"{differ[rule]} parameters with {RULES[rule]}" for rule in rules) + ".")
        noise_file = CALIBRATION / "screening_noise.csv"
        if noise_file.is_file():
            quiet = pd.read_csv(noise_file).query("beyond_noise == 0")["target_id"]
            if len(quiet):
                check += (f" No parameter's effect on {len(quiet)} targets is beyond seed noise "
                          f"({', '.join(f'`{t}`' for t in quiet)}).")
    return (table(["predictive", "draws", "reported inside 90 % (strict)", "inside 50 %",
                   "old rule: 90 % meets value ± tolerance", "mean CRPS (tolerances)"], rows)
            + f"\n{sum(r < 0.5 for r in ratios)} of {len(ratios)} estimated parameters have a posterior sd below half "
              f"their prior sd; {sum(r > 0.9 for r in ratios)} are barely informed (above 0.9). No-intervention "
              f"baselines: {int(drift['drift'].astype(bool).sum())} of {len(drift)} year-to-year changes drift "
              f"beyond noise (Holm-corrected, {drift['replicates'].max()} paired replicates).{check}\n")


# --------------------------------------------------------------------------- evidence
def _model_interval(mean: float, lo: float, hi: float) -> str:
    return num(mean) if math.isnan(lo) else interval(mean, lo, hi)


ROLE_WORDS = {"check": "**check**", "input": "input", "target": "calibration target", "context": "context",
              "none": "no evaluation"}


def evidence() -> str:
    """Each mechanism's effect under the defaults and the posterior (docs/records/evidence/, evidence-posterior/)
    beside the pre-evidence model's (evidence-before/), with what each published figure is to the model."""
    now = pd.read_csv(RECORDS / "evidence" / "evidence.csv")
    before = pd.read_csv(RECORDS / "evidence-before" / "evidence.csv").set_index(["key", "measure"])
    post_file = RECORDS / "evidence-posterior" / "evidence.csv"
    post = pd.read_csv(post_file).set_index("key") if post_file.is_file() else None
    rows = []
    for r in now.itertuples():
        old = before.loc[(r.key, r.measure)] if (r.key, r.measure) in before.index else None
        old_text = "" if old is None else _model_interval(old.model_mean, old.model_lo, old.model_hi)
        drawn = post.loc[r.key] if post is not None and r.key in post.index else None
        drawn_text = "" if drawn is None else _model_interval(drawn.model_mean, drawn.model_lo, drawn.model_hi)
        published, strict = "", "—"
        role = r.role if isinstance(r.role, str) else "context"
        if not math.isnan(r.published_lo):
            point = "" if math.isnan(r.published) else num(r.published)
            published = f"{point} ({num(r.published_lo)} to {num(r.published_hi)})".strip()
            if point and role not in ("context", "none") and not math.isnan(r.model_lo):
                strict = yes(r.model_lo <= r.published <= r.model_hi)
        source = r.source.split(":")[0] if isinstance(r.source, str) else ""
        overlap = {"inside": yes(True), "outside": yes(False)}.get(r.verdict, "—")  # n/a: no published range
        model = ("not measured" if math.isnan(r.model_mean)
                 else f"**{_model_interval(r.model_mean, r.model_lo, r.model_hi)}**")
        rows.append([r.mechanism, r.measure, r.unit, ROLE_WORDS.get(role, role), old_text, model, drawn_text,
                     published, strict, overlap, source])
    roles = now["role"].fillna("context")

    def counted(role: str) -> str:
        picked = [row for row, rl in zip(rows, roles, strict=True) if rl == role and row[8] != "—"]
        overlap = [row for row, rl in zip(rows, roles, strict=True) if rl == role and row[9] != "—"]
        return (f"{sum(row[8] == yes(True) for row in picked)} of {len(picked)} (strict); ranges overlap for "
                f"{sum(row[9] == yes(True) for row in overlap)} of {len(overlap)}")

    head = ("What each published figure is to the model: **check** (used to set nothing: agreement is evidence), "
            "input (a parameter was sized on it: agreement shows the sizing held), calibration target (fitted), "
            "context (the study measured something unlike this row: shown, not compared), no evaluation (none "
            f"found: the row says what the model assumes). Checks: the published figure inside the model's 95 % "
            f"interval for {counted('check')}. Inputs: {counted('input')}. Calibration targets: {counted('target')} "
            f"(their scores are in [calibration.md](calibration.md)).\n\n")
    header = ["mechanism", "measure", "unit", "published figure is", "pre-evidence mechanisms",
              "now (defaults), mean [95 %]", "now (posterior draws), mean [95 %]",
              "published figure (range)", "published figure inside", "ranges overlap", "source"]
    if post is None:  # no run under the posterior committed: no column for it
        header.pop(6)
        rows = [row[:6] + row[7:] for row in rows]
    return head + table(header, rows)


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
        secs = s["stage_seconds"][STAGE_OF_SIMULATIONS.get(stage, stage)]
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
    return (_study_posterior(path.parent) + f"\n\n`{path.relative_to(ROOT)}` (excerpt):\n\n```\n"
            + "\n".join(lines) + "\n```\n")


def _study_posterior(folder: Path) -> str:
    """Whether the study was scored under the committed calibration's posterior (settings.json keeps its hash)."""
    from sim.optimise.study import file_hash

    used = json.loads((folder / "settings.json").read_text(encoding="utf-8")).get("posterior")
    if used is None:
        return "Scored under the shipped defaults (no posterior)."
    committed = file_hash(CALIBRATION / "posterior.csv")
    if used == committed:
        return f"Scored under the committed calibration's posterior (`posterior.csv`, hash `{used}`)."
    return (f"Scored under an earlier calibration's posterior (hash `{used}`), not the committed one (`{committed}`): "
            "the figures below are that posterior's until the commands above are run again.")


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
                       "attribution": attribution, "leave-one-out": leave_one_out, "scores": scores,
                       "score-targets": score_targets, "identifiability": identifiability,
                       "unreachable": unreachable, "sbc": sbc, "loo-screening": loo_screening,
                       "screening-seeds": screening_seeds, "screening-noise": screening_noise,
                       "seed-noise": seed_noise,
                       "stationarity": stationarity},
    "evidence.md": {"evidence": evidence},
    "performance.md": {"city-year": _verbatim(BENCHMARKS / "city_year.txt"),
                       "store-overhead": _verbatim(BENCHMARKS / "store_overhead.txt"),
                       "calibration-speed": calibration_speed,
                       "memory-estimate": _verbatim(BENCHMARKS / "memory_estimate.txt")},
    "README.md": {"validation": readme_validation},
    "cities.md": {"city-year-real": _verbatim(BENCHMARKS / "city_year_real.txt")},
    "optimise.md": {"optimise-benchmark": _verbatim(BENCHMARKS / "optimise.txt"),
                    "siting-check": _verbatim(OPTIMISE / "siting_rapid_response_points.txt"),
                    "study-against-actual": study_against_actual, "study-front": study_front},
}


def page_path(page: str) -> Path:
    """Where a page lives: the README at the repository's root, the record pages in docs/."""
    return ROOT / page if page == "README.md" else DOCS / page


def render(page: str, text: str) -> str:
    """``text`` with every generated block of ``page`` rendered afresh.

    Raises:
        ValueError: If the page has a block no renderer knows, or lacks one that a renderer expects.
    """
    blocks = PAGES[page]
    found = [m.group("name") for m in BLOCK.finditer(text)]
    unknown, missing = set(found) - set(blocks), set(blocks) - set(found)
    if unknown or missing:
        raise ValueError(f"{page_path(page).relative_to(ROOT)}: unknown generated blocks {sorted(unknown)}, "
                         f"missing {sorted(missing)}")
    return BLOCK.sub(lambda m: m.group(1) + blocks[m.group("name")]() + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 if a page differs from its files")
    args = ap.parse_args(argv)
    stale = []
    for page in PAGES:
        path = page_path(page)
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
