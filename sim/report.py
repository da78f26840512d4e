"""A comparison as one self-contained HTML file a planner can open offline and pass on.

``pingan compare BASE ALT ... --report report.html`` writes it. Everything is inside the file:
the style sheet is inline and the figures are base64-encoded PNG images, so it opens without a
network (government networks often have none) and nothing is fetched from a CDN.

Contents: what was run, what each package contains (in words) and which sample the counts and
costs describe; the headline metrics of each alternative against the baseline (difference and
relative change with 95 % intervals, and the notes of :data:`sim.experiments.summary.FLAGS`);
the packages with their cost per prevented case and Pareto flag; the county breakdown; a
difference map (on the city's real district map, with the districts named and the land outside the
simulated sample shown as such, where the city has one), the time series and the Pareto plot. The tables are those of
:mod:`sim.presentation`, as the terminal and the explorer show them.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.summary import FLAGS, HEADLINE
from sim.presentation import Sample, figure, headline_rows, interval, package_rows
from sim.space.geography import MapLayers

__all__ = ["report_html", "write_report", "comparison_report", "figure_html", "html_table", "meta_table",
           "html_document", "area_rows", "CSS"]

#: The reports' style sheet, inline in each file (no external resources).
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 2em;
     border-bottom: 1px solid #ccc; padding-bottom: 0.2em; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.88em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
td.note { text-align: left; color: #8a4b00; font-size: 0.92em; max-width: 22em; }
.meta td, .meta th { text-align: left; } figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; height: auto; } .muted { color: #666; font-size: 0.9em; }
"""


def figure_html(fig: Figure, caption: str = "", dpi: int = 100) -> str:
    """A ``<figure>`` holding ``fig`` as an inline base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">{cap}</figure>'


def html_table(rows: Sequence[Mapping[str, object]], note_columns: Sequence[str] = ("note", "contains")) -> str:
    """Rows of display strings (:mod:`sim.presentation`) as an HTML table, every cell escaped.

    Args:
        rows: The rows; the first one's keys are the columns.
        note_columns: Columns of words (left-aligned, as notes) rather than figures.
    """
    if not rows:
        return '<p class="muted">(nothing to show)</p>'
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = "".join(f'<td{" class=note" if c in note_columns else ""}>{html.escape(str(r[c]))}</td>'
                        for c in cols)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def meta_table(items: Iterable[tuple[object, object]]) -> str:
    """What was run, as a two-column HTML table (name, value), escaped."""
    return ('<table class="meta">' + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                                            for k, v in items) + "</table>")


def html_document(title: str, body: str) -> str:
    """A whole HTML file: ``title``, the inline style sheet :data:`CSS` and ``body`` (no external resources)."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def area_rows(areas: pd.DataFrame, offences: str = "recorded", sample: Sample | None = None) -> list[dict]:
    """Rows of the county (or town) table (from :func:`sim.experiments.packages.area_breakdown`)."""
    if areas.empty:
        return []
    a = areas[areas["offences"] == offences]
    tag = f" [per year, {sample.short}]" if sample is not None else ""
    return [{"package": r.package, "area": r.area, f"baseline {offences} offences{tag}": figure(r.base_mean),
             "difference [95 % interval]": interval(r.difference, r.difference_lo, r.difference_hi, signed=True)}
            for _, r in a.iterrows()]


def report_html(title: str, *, meta: Mapping[str, object], diff: pd.DataFrame, packages: pd.DataFrame,
                areas: pd.DataFrame | None = None, figures: Sequence[tuple[Figure, str]] = (),
                metrics: Sequence[str] = HEADLINE, sample: Sample | None = None,
                contents: Mapping[str, str] | None = None) -> str:
    """The report as one HTML document (no external resources).

    Args:
        title: Heading of the report.
        meta: What was run (scenarios, replicates, scale, seed...), shown as a table.
        diff: :func:`sim.experiments.compare` output.
        packages: :func:`sim.experiments.packages.package_table` output.
        areas: :func:`sim.experiments.packages.area_breakdown` output (county level), optional.
        figures: ``(figure, caption)`` pairs, embedded as PNG.
        metrics: Metrics of the headline tables.
        sample: What the counts and costs describe (:class:`sim.presentation.Sample`); labels every
            count and cost.
        contents: What each scenario contains, in words (:func:`sim.presentation.package_contents`),
            shown in the header and beside each package.
    """
    rows = [*meta.items(), *((f"{name} contains", text) for name, text in (contents or {}).items())]
    parts = [f"<h1>{html.escape(title)}</h1>", meta_table(rows)]
    if sample is not None:
        parts.append(f"<p><b>{html.escape(sample.caption())}</b></p>")
    parts.append("<p class=muted>Every figure is a mean over replicates with a 95 % interval; scenarios share seeds "
                 "replicate by replicate (common random numbers), so differences are paired. Relative changes are "
                 "computed on the log-ratio scale (geometric mean of the paired ratios), so an interval never goes "
                 "below −100 %.</p>")
    if not diff.empty:
        last = int(diff["year"].max())
        parts.append(f"<h2>Headline metrics against {html.escape(str(diff['base'].iloc[0]))}, {last}</h2>")
        for scen in dict.fromkeys(diff["scenario"]):
            parts.append(f"<h3>{html.escape(str(scen))}</h3>")
            parts.append(html_table(headline_rows(diff, scen, last, metrics, sample)))
    parts.append("<h2>Packages: effect, cost and cost per prevented case</h2>")
    parts.append(html_table(package_rows(packages, sample, contents)))
    parts.append("<p class=muted>Cost per prevented case: extra cost over prevented cases (ratio of means), "
                 "95 % interval by scipy's paired percentile bootstrap over replicates; not estimable when the "
                 "prevented-cases interval includes zero. Pareto: no other package prevents more for less.</p>")
    if areas is not None and not areas.empty:
        parts.append("<h2>By county: recorded offences, package minus baseline</h2>")
        parts.append(html_table(area_rows(areas, sample=sample)))
    if figures:
        parts.append("<h2>Figures</h2>")
        parts.extend(figure_html(f, c) for f, c in figures)
    parts.append("<h2>Notes</h2><dl>" + "".join(f"<dt><b>{html.escape(k)}</b></dt><dd>{html.escape(v)}</dd>"
                                                for k, v in FLAGS.items()) + "</dl>")
    return html_document(title, "\n".join(parts))


def write_report(path: str | Path, document: str) -> Path:
    """Write ``document`` to ``path`` (UTF-8), creating its folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path


def comparison_report(path: str | Path, df: pd.DataFrame, results: Sequence, base: str, *,
                      first_year: int, starts: Sequence[tuple[int, str]] | int | None = None,
                      meta: Mapping[str, object] | None = None, diff: pd.DataFrame | None = None,
                      packages: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                      scale: float | None = None, contents: Mapping[str, str] | None = None,
                      maps: Mapping[str, MapLayers | None] | None = None) -> Path:
    """Compute what is missing from runs of a comparison and write the report.

    Args:
        path: The HTML file to write.
        df: Metrics frame of the runs (:func:`sim.experiments.runner.metrics_frame`).
        results: The runs (:class:`sim.experiments.runner.RunResult`), baseline and alternatives.
        base: The baseline scenario's name.
        first_year: Calendar year of the first counted day.
        starts: When the packages start (:func:`sim.presentation.intervention_starts`, or a year):
            marked on the time series.
        meta: What was run, shown at the top.
        diff, packages, areas: Tables already computed (computed here when None).
        scale: The runs' scale: counts and costs are labelled with the sample they describe.
        contents: What each scenario contains, in words.
        maps: Scenario name → the real map its city is laid out on (:func:`sim.plots.real_map`;
            None or missing: a synthetic city). Difference maps are drawn on the alternative's.
    """
    from sim.experiments.packages import area_breakdown, package_table
    from sim.experiments.summary import compare
    from sim.plots import difference_map_of, map_caption, pareto, time_series

    diff = compare(df, base) if diff is None else diff
    packages = package_table(df, base) if packages is None else packages
    areas = area_breakdown(list(results), base, "county") if areas is None else areas
    sample = Sample.of(df[df["scenario"] == base], scale)
    by: dict[str, list] = {}
    for r in results:
        by.setdefault(r.scenario, []).append(r)
    figures: list[tuple[Figure, str]] = []
    for name, runs in by.items():
        if name != base:
            layers = (maps or {}).get(name)
            figures.append((difference_map_of(by[base], runs, layers=layers),
                            f"{name} minus {base}: recorded offences per cell in the last counted year "
                            f"({sample.short}), mean over replicates; markers are the sites of the package. "
                            + map_caption(layers)))
    figures.append((time_series(by, first_year, start=starts),
                    f"Daily series ({sample.short}), 7-day mean; the band is the range over replicates; dashed: the "
                    "package starts."))
    if len(packages):
        figures.append((pareto(packages, sample=sample),
                        "Extra cost against cases prevented; dashed red: the Pareto frontier."))
    title = f"Pingan comparison: {', '.join(n for n in by if n != base)} against {base}"
    doc = report_html(title, meta=meta or {"baseline": base}, diff=diff, packages=packages, areas=areas,
                      figures=figures, sample=sample, contents=contents)
    return write_report(path, doc)
