"""A study as one self-contained HTML file (``pingan optimise ... --report FILE.html``).

In the style of the comparison report (:mod:`sim.report`: inline style sheet, figures as base64
PNG, nothing fetched): what was studied; the front with 95 % intervals and pessimistic quantiles,
the city's actual package against it and the best front package at no more than its cost; each
front package's contents in words and a map of its sites; the robustness table.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sim.optimise.evaluate import HIGHER_IS_BETTER
from sim.optimise.sites import city_at
from sim.optimise.summary import StudyResult, package_words
from sim.report import _CSS, _table, figure_html, write_report

__all__ = ["study_report", "front_figure", "sites_figure"]

#: Markers of each facility on the site maps.
_MARKERS = {"street_police_stations": ("s", "#1f4e9c"), "rapid_response_points": ("^", "#c0392b"),
            "video": ("o", "#2e8b57"), "hot_spot_patrol": ("D", "#e67e22")}
#: Most front packages drawn on site maps (the cheapest first).
MAX_MAPS = 8


def front_figure(result: StudyResult) -> Figure:
    """Annual cost against the primary objective: every scored package, the front with intervals, the actual one."""
    o = result.primary()
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.add_subplot()
    pkgs = result.scored()
    ax.scatter([p.cost / 1e6 for p in pkgs], [p.scores[o].mean for p in pkgs], s=12, c="#bbbbbb",
               label="packages scored")
    front = result.front()
    x = np.array([p.cost / 1e6 for p in front])
    y = np.array([p.scores[o].mean for p in front])
    err = np.array([[p.scores[o].mean - p.scores[o].lo for p in front], [p.scores[o].hi - p.scores[o].mean
                                                                         for p in front]])
    ax.errorbar(x, y, yerr=np.nan_to_num(err), fmt="o-", color="#c0392b", capsize=3, label="front (95 % interval)")
    ax.scatter(x, [p.scores[o].pessimistic for p in front], marker="v", c="#7f1d1d", s=18,
               label=f"pessimistic ({result.study.settings.spec.quantile:g} quantile over draws)")
    if result.actual is not None and result.actual.scores:
        a = result.actual
        ax.errorbar([a.cost / 1e6], [a.scores[o].mean], yerr=[[a.scores[o].mean - a.scores[o].lo],
                                                               [a.scores[o].hi - a.scores[o].mean]],
                    fmt="*", ms=14, color="#1f4e9c", capsize=3, label="the city's actual package")
    ax.axvline(result.study.settings.budget / 1e6, ls="--", c="#555", lw=1, label="budget")
    ax.set_xlabel("annual cost at full scale [M yuan per year]")
    better = "more is better" if HIGHER_IS_BETTER[o] else "less is better"
    ax.set_ylabel(f"{o.replace('_', ' ')} vs baseline ({better})")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def sites_figure(result: StudyResult) -> Figure | None:
    """A map of the sites of each front package (and the actual one) on the simulated city."""
    pkgs = ([result.actual] if result.actual is not None and result.actual.sites else []) + \
        [p for p in result.front() if p.sites][:MAX_MAPS]
    if not pkgs:
        return None
    city = city_at(result.study.scenario, result.study.settings.scale)
    cols = min(4, len(pkgs))
    rows = int(np.ceil(len(pkgs) / cols))
    fig = Figure(figsize=(3.2 * cols, 3.3 * rows))
    size = 40 * np.sqrt(city.residents / max(city.residents.max(), 1))
    for i, p in enumerate(pkgs):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.scatter(city.x_km, city.y_km, s=size, c="#dddddd", linewidths=0)
        for key, cells in p.sites.items():
            marker, colour = _MARKERS.get(key, ("x", "#333"))
            ax.scatter(city.x_km[cells], city.y_km[cells], marker=marker, c=colour, s=28, edgecolors="white",
                       linewidths=0.5, label=key.replace("_", " "))
        ax.set_title("actual package" if p.number < 0 else f"package {p.number} ({p.cost / 1e6:.0f} M/yr)",
                     fontsize=9)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        if p.sites:
            ax.legend(fontsize=6, loc="lower left")
    fig.tight_layout()
    return fig


def _ci(score) -> str:
    return f"{score.mean:+.1f} [{score.lo:+.1f}, {score.hi:+.1f}]"


def study_report(result: StudyResult, path: str | Path) -> Path:
    """Write the study's report to ``path`` (one HTML file, no external resources)."""
    study = result.study
    s = study.settings
    title = f"Pingan package optimiser: {study.scenario.name}, budget {s.budget / 1e6:,.1f} M yuan per year"
    meta = {"scenario": study.scenario.name, "budget": f"{s.budget:,.0f} yuan per year at full scale (running cost "
            f"+ set-up over {s.spec.amortisation_years:g} years)", "objectives": ", ".join(study.objectives),
            "search optimises": s.spec.score, "posterior": s.posterior or "default parameters",
            "draws × replicates": f"{s.spec.posterior_draws} × {s.spec.replicates}", "scale": s.scale,
            "seed": s.seed, "packages scored": len(result.scored())}
    parts = [f"<h1>{html.escape(title)}</h1>",
             '<table class="meta">' + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                                              for k, v in meta.items()) + "</table>",
             "<p class=muted>Every effect is the package against the baseline (every intervention off), paired run "
             "by run (common random numbers: the same posterior draw and seed), in the last counted year; a mean "
             "over draws × replicates with a 95 % interval, and the pessimistic quantile over posterior draws.</p>"]
    simulated = [o for o in study.objectives if o != "cost"]

    def row(p):
        r = {"package": "actual" if p.number < 0 else p.number, "contents": package_words(p.levers, p.siting),
             "cost [M yuan/yr]": f"{p.cost / 1e6:,.1f}"}
        for o in simulated:
            if o in p.scores:
                r[f"{o} [95 % interval]"] = _ci(p.scores[o])
                r[f"{o}, pessimistic"] = f"{p.scores[o].pessimistic:+.1f}"
        return r

    parts.append("<h2>The front</h2>")
    parts.append(_table([row(p) for p in result.front()]))
    parts.append(figure_html(front_figure(result), "Annual cost against the first objective; red: the front "
                             "with 95 % intervals; triangles: pessimistic quantile; star: the actual package."))
    if result.actual is not None:
        parts.append("<h2>The city's actual package against the front</h2>")
        parts.append(_table([row(result.actual)]))
        best = result.best_within(result.actual.cost)
        if best is not None:
            parts.append(f"<p>The best front package at no more than its cost (package {best.number}):</p>")
            parts.append(_table([row(best)]))
    sites = sites_figure(result)
    if sites is not None:
        parts.append("<h2>Where the sites are</h2>")
        parts.append(figure_html(sites, "Sites on the simulated city (grey: cells, by residents). Sites placed by "
                                 "the scenario's own rules are those of the package's first run (draw 0, "
                                 "replicate 0)."))
    rob = result.robustness()
    if len(rob):
        parts.append("<h2>Robustness across posterior draws</h2>")
        parts.append(_table([{"package": int(r.package), "cost [M yuan/yr]": f"{r.cost_yuan_per_year / 1e6:,.1f}",
                              "objective": r.objective, "mean": f"{r['mean']:+.1f}",
                              "pessimistic": f"{r.pessimistic:+.1f}", "worst draw": f"{r.worst_draw:+.1f}",
                              "beaten in (share of draws)": f"{r.beaten_share_of_draws:.0%}",
                              "mean regret": f"{r.mean_regret:.1f}"} for _, r in rob.iterrows()]))
        parts.append("<p class=muted>Beaten in: the share of posterior draws in which another front package "
                     "costing no more does better; mean regret: the mean shortfall from the best such package, "
                     "draw by draw.</p>")
    body = "\n".join(parts)
    doc = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
           f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
    return write_report(path, doc)
