"""A comparison as one self-contained HTML file a planner can open offline and pass on.

``pingan compare BASE ALT ... --report report.html`` writes it. Everything is inside the file:
the style sheet is inline and the figures are base64-encoded PNG images, so it opens without a
network (government networks often have none) and nothing is fetched from a CDN.

Contents: what was run; the headline metrics of each alternative against the baseline
(difference and relative change with 95 % intervals, and the notes of
:data:`sim.experiments.summary.FLAGS`); the packages with their cost per prevented case and
Pareto flag; the county breakdown; a difference map, the time series and the Pareto plot.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.summary import FLAGS, HEADLINE, is_rare, metric_label

__all__ = ["report_html", "write_report", "comparison_report", "figure_html"]

_CSS = """
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


def _n(x: float, digits: int = 4) -> str:
    if x is None or not np.isfinite(x):
        return "—" if x is None or np.isnan(x) else ("∞" if x > 0 else "−∞")
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _ci(m: float, lo: float, hi: float, unit: str = "", signed: bool = False) -> str:
    if not np.isfinite(m):
        return "—"
    def fmt(v: float) -> str:
        return ("+" if v > 0 and signed else "") + _n(v)

    if np.isfinite(lo) or np.isfinite(hi):
        return f"{fmt(m)}{unit} [{fmt(lo)}, {fmt(hi)}]"
    return f"{fmt(m)}{unit}"


def _table(rows: list[dict], note_columns: Sequence[str] = ("note",)) -> str:
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


def headline_rows(diff: pd.DataFrame, scenario: str, year: int, metrics: Sequence[str] = HEADLINE) -> list[dict]:
    """Rows of the headline table of one alternative in one year (from :func:`sim.experiments.compare`)."""
    g = diff[(diff["scenario"] == scenario) & (diff["year"] == year)].set_index("metric")
    rows = []
    for m in metrics:
        if m not in g.index:
            continue
        r = g.loc[m]
        flag = r.get("flag", "")
        rows.append({
            "metric": metric_label(m),
            "baseline": _n(r.base_mean),
            "alternative": _n(r.get("alt_mean", r.base_mean + r.difference)),
            "difference [95 % interval]": _ci(r.difference, r.difference_lo, r.difference_hi, signed=True),
            "relative change [95 % interval]": (
                "not estimable: read the difference" if not np.isfinite(r.relative_pct)
                else f"{r.relative_pct:+.0f} % (rare: read the difference)" if is_rare(flag)
                else _ci(r.relative_pct, r.relative_pct_lo, r.relative_pct_hi, " %", True)),
            "note": flag if isinstance(flag, str) else "",
        })
    return rows


def package_rows(table: pd.DataFrame) -> list[dict]:
    """Rows of the package table (from :func:`sim.experiments.packages.package_table`)."""
    rows = []
    for _, r in table.iterrows():
        cpp = r.cost_per_prevented_yuan
        note = r.get("cost_per_prevented_note", "")
        note = note if isinstance(note, str) else ""
        flag = r.get("flag", "")
        rows.append({
            "rank": int(r["rank"]),
            "package": r.package,
            "prevented [95 % interval]": _ci(r.prevented, r.prevented_lo, r.prevented_hi),
            "prevented %": _ci(r.prevented_pct, r.get("prevented_pct_lo", np.nan), r.get("prevented_pct_hi", np.nan),
                               " %"),
            "package cost [yuan/year]": _n(r.get("cost_yuan", np.nan)),
            "extra cost [yuan/year]": _ci(r.extra_cost_yuan, r.extra_cost_lo, r.extra_cost_hi, signed=True),
            "cost per prevented case [yuan]": (_ci(cpp, r.cost_per_prevented_lo, r.cost_per_prevented_hi)
                                               if np.isfinite(cpp) else "not estimable"),
            "Pareto": "yes" if bool(r.pareto) else "",
            "note": "; ".join(x for x in (note, flag if isinstance(flag, str) else "") if x),
        })
    return rows


def area_rows(areas: pd.DataFrame, offences: str = "recorded") -> list[dict]:
    """Rows of the county (or town) table (from :func:`sim.experiments.packages.area_breakdown`)."""
    if areas.empty:
        return []
    a = areas[areas["offences"] == offences]
    return [{"package": r.package, "area": r.area, f"baseline {offences} offences": _n(r.base_mean),
             "difference [95 % interval]": _ci(r.difference, r.difference_lo, r.difference_hi, signed=True)}
            for _, r in a.iterrows()]


def report_html(title: str, *, meta: Mapping[str, object], diff: pd.DataFrame, packages: pd.DataFrame,
                areas: pd.DataFrame | None = None, figures: Sequence[tuple[Figure, str]] = (),
                metrics: Sequence[str] = HEADLINE) -> str:
    """The report as one HTML document (no external resources).

    Args:
        title: Heading of the report.
        meta: What was run (scenarios, replicates, scale, seed...), shown as a table.
        diff: :func:`sim.experiments.compare` output.
        packages: :func:`sim.experiments.packages.package_table` output.
        areas: :func:`sim.experiments.packages.area_breakdown` output (county level), optional.
        figures: ``(figure, caption)`` pairs, embedded as PNG.
        metrics: Metrics of the headline tables.
    """
    parts = [f"<h1>{html.escape(title)}</h1>",
             '<table class="meta">' + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                                              for k, v in meta.items()) + "</table>",
             "<p class=muted>Every figure is a mean over replicates with a 95 % interval; scenarios share seeds "
             "replicate by replicate (common random numbers), so differences are paired. Relative changes are "
             "computed on the log-ratio scale (geometric mean of the paired ratios), so an interval never goes "
             "below −100 %.</p>"]
    if not diff.empty:
        last = int(diff["year"].max())
        parts.append(f"<h2>Headline metrics against {html.escape(str(diff['base'].iloc[0]))}, {last}</h2>")
        for scen in dict.fromkeys(diff["scenario"]):
            parts.append(f"<h3>{html.escape(str(scen))}</h3>")
            parts.append(_table(headline_rows(diff, scen, last, metrics)))
    parts.append("<h2>Packages: effect, cost and cost per prevented case</h2>")
    parts.append(_table(package_rows(packages)))
    parts.append("<p class=muted>Cost per prevented case: extra cost over prevented cases (ratio of means), "
                 "95 % interval by scipy's paired percentile bootstrap over replicates; not estimable when the "
                 "prevented-cases interval includes zero. Pareto: no other package prevents more for less.</p>")
    if areas is not None and not areas.empty:
        parts.append("<h2>By county: recorded offences, package minus baseline</h2>")
        parts.append(_table(area_rows(areas)))
    if figures:
        parts.append("<h2>Figures</h2>")
        parts.extend(figure_html(f, c) for f, c in figures)
    parts.append("<h2>Notes</h2><dl>" + "".join(f"<dt><b>{html.escape(k)}</b></dt><dd>{html.escape(v)}</dd>"
                                                for k, v in FLAGS.items()) + "</dl>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def write_report(path: str | Path, document: str) -> Path:
    """Write ``document`` to ``path`` (UTF-8), creating its folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path


def comparison_report(path: str | Path, df: pd.DataFrame, results: Sequence, base: str, *,
                      first_year: int, start_year: int | None = None, meta: Mapping[str, object] | None = None,
                      diff: pd.DataFrame | None = None, packages: pd.DataFrame | None = None,
                      areas: pd.DataFrame | None = None) -> Path:
    """Compute what is missing from runs of a comparison and write the report.

    Args:
        path: The HTML file to write.
        df: Metrics frame of the runs (:func:`sim.experiments.runner.metrics_frame`).
        results: The runs (:class:`sim.experiments.runner.RunResult`), baseline and alternatives.
        base: The baseline scenario's name.
        first_year: Calendar year of the first counted day.
        start_year: Year the interventions start (marked on the time series).
        meta: What was run, shown at the top.
        diff, packages, areas: Tables already computed (computed here when None).
    """
    from sim.experiments.packages import area_breakdown, package_table
    from sim.experiments.summary import compare
    from sim.plots import difference_map_of, pareto, time_series

    diff = compare(df, base) if diff is None else diff
    packages = package_table(df, base) if packages is None else packages
    areas = area_breakdown(list(results), base, "county") if areas is None else areas
    by: dict[str, list] = {}
    for r in results:
        by.setdefault(r.scenario, []).append(r)
    figures: list[tuple[Figure, str]] = []
    for name, runs in by.items():
        if name != base:
            figures.append((difference_map_of(by[base], runs),
                            f"{name} minus {base}: recorded offences per cell in the last counted year, mean over "
                            "replicates; black lines are county boundaries, markers the sites of the package."))
    figures.append((time_series(by, first_year, start=start_year),
                    "Daily series, 7-day mean; the band is the range over replicates; dashed: interventions start."))
    if len(packages):
        figures.append((pareto(packages), "Extra cost against cases prevented; dashed red: the Pareto frontier."))
    title = f"Pingan comparison: {', '.join(n for n in by if n != base)} against {base}"
    doc = report_html(title, meta=meta or {"baseline": base}, diff=diff, packages=packages, areas=areas,
                      figures=figures)
    return write_report(path, doc)
