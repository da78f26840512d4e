"""A study as one self-contained HTML file (``pingan optimise ... --report FILE.html``).

In the style of the comparison report (:mod:`sim.report`: inline style sheet, figures as base64
PNG, nothing fetched): what was studied; the front with 95 % intervals and pessimistic quantiles,
the city's actual package against it and the best front package at no more than its cost; each
front package's contents in words and a map of its sites; the robustness table. Tables are the
rows of :mod:`sim.presentation` and figures those of :mod:`sim.plots`, as the command line prints
them and ``pingan serve`` shows them.
"""

from __future__ import annotations

import html
from pathlib import Path

from matplotlib.figure import Figure

from sim.optimise.sites import city_at
from sim.optimise.study import StudyResult
from sim.optimise.summary import StudyTables
from sim.plots import optimiser_front, site_maps
from sim.presentation import figure, front_rows, objective_label, robustness_rows
from sim.report import figure_html, html_document, html_table, meta_table, write_report

__all__ = ["study_report", "front_figure", "sites_figure", "package_label"]

#: Most front packages drawn on site maps (the cheapest first).
MAX_MAPS = 8


def _tables(result: StudyResult | StudyTables) -> StudyTables:
    return result.tables() if isinstance(result, StudyResult) else result


def package_label(row) -> str:
    """A package's short name on maps and in lists: ``package 12 (49.6 M yuan/yr)``, ``actual package (...)``."""
    number = int(row["package"])
    name = "actual package" if number < 0 else f"package {number}"
    return f"{name} ({figure(float(row['cost_yuan_per_year']) / 1e6)} M yuan/yr)"


def front_figure(result: StudyResult | StudyTables, objective: str | None = None) -> Figure:
    """Annual cost against an objective (default the first simulated one): every scored package, the front with
    intervals and pessimistic quantiles, the actual package and the budget (:func:`sim.plots.optimiser_front`)."""
    t = _tables(result)
    return optimiser_front(t.packages, t.front, objective or t.primary(), actual=t.actual, budget=t.budget,
                           quantile=t.spec.quantile, sample=t.sample)


def sites_figure(result: StudyResult | StudyTables) -> Figure | None:
    """A map of the sites of the actual package and of each front package (the cheapest :data:`MAX_MAPS`), or None."""
    t = _tables(result)
    city = city_at(t.scenario, t.scale)
    front = [(package_label(r), sites) for _, r in t.front.iterrows() if (sites := t.sites(r, city.n_cells))]
    actual = t.actual_row()
    mine = t.sites(actual, city.n_cells) if actual is not None else {}
    panels = ([(package_label(actual), mine)] if mine else []) + front[:MAX_MAPS]
    return site_maps(city, panels) if panels else None


def study_report(result: StudyResult | StudyTables, path: str | Path) -> Path:
    """Write the study's report to ``path`` (one HTML file, no external resources)."""
    t = _tables(result)
    sample = t.sample
    title = f"Pingan package optimiser: {t.scenario.name}, budget {figure(t.budget / 1e6)} million yuan per year"
    parts = [f"<h1>{html.escape(title)}</h1>", meta_table(t.meta().items()),
             f"<p class=muted>{html.escape(t.caption())}</p>",
             "<h2>The front</h2>", html_table(front_rows(t.front, t.objectives, sample)),
             figure_html(front_figure(t), "Annual cost against the first objective; red: the front with 95 % "
                         "intervals (triangles: pessimistic quantile over posterior draws); grey: every package "
                         "scored; star: the city's actual package; dashed: the budget.")]
    actual, instead, best = t.against_actual()
    if actual:
        parts += ["<h2>The city's actual package against the front</h2>", html_table(actual)]
    if best is not None:
        parts += [f"<p>What the same money could have bought instead: the best front package at no more than its cost "
                  f"(package {int(best['package'])}):</p>", html_table(instead)]
    sites = sites_figure(t)
    if sites is not None:
        parts += ["<h2>Where the sites are</h2>",
                  figure_html(sites, "Sites on the simulated city (grey: residents per cell; black lines: county "
                              "boundaries). Sites placed by the scenario's own rules are those of the package's first "
                              "run (posterior draw 0, replicate 0).")]
    if len(t.robustness):
        parts += ["<h2>Robustness across posterior draws</h2>",
                  f"<p>For {html.escape(objective_label(t.primary(), sample))}; pessimistic, worst draw and regret "
                  "in the units of the mean.</p>",
                  html_table(robustness_rows(t.robustness, t.front, sample)),
                  "<p class=muted>Beaten in: the share of posterior draws in which another front package costing no "
                  "more does better; mean regret: the mean shortfall from the best such package, draw by draw.</p>"]
    return write_report(path, html_document(title, "\n".join(parts)))
