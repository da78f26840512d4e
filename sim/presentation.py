"""How results are shown to a planner: one presentation layer for the terminal, the report and the explorer.

``pingan run``, ``pingan compare`` and ``pingan optimise`` print tables, their ``--report`` writes
them into an HTML file and ``pingan serve`` shows them in the browser. All build their tables
here, as rows of display strings (:func:`headline_rows`, :func:`year_on_year_rows`,
:func:`package_rows`; an optimiser study's :func:`front_rows` and :func:`robustness_rows`), so a
figure, its interval, its flags (:data:`sim.experiments.summary.FLAGS`) and the sample it
describes read the same wherever a planner meets them:

* **No scientific notation, no false precision.** A mean with an interval is rounded to the
  first significant digit of the interval's half-width, or the second where the first is 1 or 2
  (``-138 [-160, -115]``, ``+0.12 [-0.15, +0.38]``, ``-54.7 % [-55.4, -54.1]``);
  a figure without an interval to three significant digits, large ones to whole numbers with
  thousands separators. An interval of zero width (every replicate agrees) is not printed as
  ``[x, x]``: the note says ``no variation`` or ``identical``. Costs are in million yuan.
* **Flags travel with the figure.** The ``note`` column carries the flags of the summaries; a
  ``rare`` count shows the change in counts with its interval and the percent point only.
* **Every count and cost says which sample it describes** (:class:`Sample`). A run at scale 0.05
  simulates 5 % of the city's residents, stations and cameras; its counts and costs are the
  sample's, not the city's. They are labelled (``[per year, 5 % sample]``) rather than scaled up:
  scaled-up figures would look like city totals but carry the small sample's biases (sites are
  rounded to whole stations, and below scale 0.1 rates per 100 000 drift from full scale), which
  no widened interval would show. Rates, shares and times need no label. The optimiser's costs are
  each package put in place on the whole city, whatever the scale, and say so (``[million yuan
  per year, whole city]``).

The module also says what a package contains in words (:func:`package_contents`) and when its
interventions start against a baseline (:func:`intervention_starts`), for tables and time series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np
import pandas as pd

from sim.experiments.summary import HEADLINE, is_rare, metric_label

__all__ = ["Sample", "SIZE_HINTS", "is_size_field", "figure", "interval", "percent", "scales_with_sample",
           "display_label", "headline_rows", "year_on_year_rows", "package_rows", "text_table", "text_records",
           "package_contents", "intervention_starts", "MIN_RATE_SCALE", "scale_warning", "COST_UNIT",
           "at_precision", "objective_label", "front_rows", "robustness_rows", "WHOLE_CITY_COST",
           "format_summary", "format_compare", "format_paired_run", "format_reported"]

#: Below this scale a county's few patrol units make rates per 100 000 drift from full scale
#: (tested agreement from 0.1 up; README, "Command line").
MIN_RATE_SCALE = 0.1
#: Costs are shown in this many yuan ("million yuan").
COST_UNIT = 1e6
#: An interval narrower than this share of its figure is shown as the figure alone: the replicates
#: agree (a median of lattice travel times, a deterministic cost), and the width is float rounding.
ZERO_WIDTH = 1e-6
#: Metric-name endings of figures that do not grow with the sample: rates, shares, times, per-capita.
_INTENSIVE = ("_rate", "_pct", "_min", "_h", "_per_100k", "_share")
#: Words that mark an intervention field as a size (sites, cameras, people, a share of units).
SIZE_HINTS: tuple[str, ...] = ("count", "cameras", "units", "offices", "grids", "per_village", "per_community",
                               "per_grid", "community_share", "coverage", "on_call", "staff_per")


# ---- the sample ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """What a run's counts and costs describe: the simulated sample of the city.

    Attributes:
        scale: Fraction of the city simulated (``--scale``), or None where unknown (a
            ``metrics.csv`` does not record it).
        residents: Residents simulated (the ``population`` metric), or None.
    """

    scale: float | None = None
    residents: float | None = None

    @classmethod
    def of(cls, metrics: pd.DataFrame | None, scale: float | None = None) -> Sample:
        """The sample of a metrics frame (its ``population`` column) at ``scale``."""
        residents = None
        if metrics is not None and len(metrics) and "population" in metrics.columns:
            value = float(pd.to_numeric(metrics["population"], errors="coerce").mean())
            residents = value if math.isfinite(value) else None
        if scale is None and metrics is not None and "scale" in metrics.columns and metrics["scale"].nunique() == 1:
            scale = float(metrics["scale"].iloc[0])
        return cls(scale, residents)

    @property
    def whole(self) -> bool:
        return self.scale is not None and self.scale >= 1

    @property
    def short(self) -> str:
        """``5 % sample``, ``whole city``, or ``sample of N residents`` when the scale is unknown."""
        if self.whole:
            return "whole city"
        if self.scale is not None:
            return f"{100 * self.scale:g} % sample"
        if self.residents:
            return f"sample of {figure(self.residents)} residents"
        return "simulated sample"

    def caption(self, costs: bool = True) -> str:
        """One sentence saying what the counts and costs describe.

        Args:
            costs: Whether the costs are the sample's too; False where they are the whole city's
                (the optimiser's), and the sentence speaks of counts only.
        """
        who = f" ({figure(self.residents)} residents)" if self.residents else ""
        what = "Counts and costs are" if costs else "Counts are"
        if self.whole:
            return f"{what} for the whole simulated city{who}."
        rates = (f"rates, shares and times need no scaling (they agree with the whole city from scale "
                 f"{MIN_RATE_SCALE:g} up).")
        if self.scale is not None:
            return f"{what} for the simulated {self.short} of the city{who}, not the whole city; {rates}"
        return f"{what} for the simulated sample{who}, not necessarily the whole city; {rates}"


def scale_warning(scale: float) -> str:
    """The note for a run below :data:`MIN_RATE_SCALE` (empty at or above it)."""
    if scale >= MIN_RATE_SCALE:
        return ""
    return (f"at scale below {MIN_RATE_SCALE:g} a county's few patrol units make rates per 100 000 drift from full "
            f"scale (tested agreement from {MIN_RATE_SCALE:g} up): use scale ≥ {MIN_RATE_SCALE:g} for figures to trust")


def scales_with_sample(metric: str) -> bool:
    """True for counts and costs (they grow with the simulated sample), False for rates, shares and times."""
    return not metric.endswith(_INTENSIVE) and not metric.startswith("cost_per")


def _is_cost(metric: str) -> bool:
    return metric.endswith("_yuan") and not metric.startswith("cost_per")


def display_label(metric: str, sample: Sample | None = None) -> str:
    """A metric's plain name with its units as tables show it: costs in million yuan, counts with their sample."""
    label = metric_label(metric)
    if _is_cost(metric):
        label = label.replace("[yuan", "[million yuan")
    if sample is None or not scales_with_sample(metric):
        return label
    if label.endswith("]"):
        return f"{label[:-1]}, {sample.short}]"
    return f"{label} [{sample.short}]"


# ---- numbers ------------------------------------------------------------------------------------


def _sign(x: float, signed: bool) -> str:
    return "+" if signed and x > 0 else ""


def _plain(x: float, decimals: int, signed: bool = False) -> str:
    text = f"{x:,.{max(decimals, 0)}f}"
    if text.lstrip("-").strip("0.,") == "":  # rounds to zero: no "-0" or "+0"
        return text.lstrip("-")
    return _sign(x, signed) + text


def _decimals_alone(x: float) -> int:
    """Decimals of a figure shown without an interval: three significant digits, whole numbers from 100."""
    a = abs(x)
    if a == 0 or a >= 100:
        return 0
    return min(2 - math.floor(math.log10(a)), 6)


def figure(x: float | None, signed: bool = False) -> str:
    """A figure without an interval: three significant digits, no scientific notation (``4,957,000``, ``0.867``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    text = _plain(x, _decimals_alone(x), signed)
    return text.rstrip("0").rstrip(".") if "." in text else text  # 13.0 -> 13, 0.500 -> 0.5


def _decimals_for(lo: float, hi: float) -> int:
    """Decimals that keep one significant digit of an interval's half-width (two when it starts with 1 or 2)."""
    half = (hi - lo) / 2
    if not math.isfinite(half) or half <= 0:
        return 0
    exponent = math.floor(math.log10(half))
    two = half / 10.0 ** exponent < 3
    return max(0, min(-exponent + two, 6))


def interval(mean: float, lo: float, hi: float, *, signed: bool = False, unit: str = "") -> str:
    """``mean [lo, hi]`` rounded to the interval's precision; the mean alone when the interval is empty or zero-wide.

    Args:
        mean, lo, hi: The figure and its interval (NaN where there is none).
        signed: Show a ``+`` on positive figures (changes and differences).
        unit: Appended to the mean (``" %"``).
    """
    if mean is None or not math.isfinite(float(mean)):
        return "—"
    lo, hi = float(lo), float(hi)
    if _no_width(mean, lo, hi):
        if math.isfinite(lo) and math.isinf(hi):  # open-ended: some bootstrap resamples prevent no cases
            return f"{figure(mean, signed)}{unit} [{figure(lo, signed)}, ∞]"
        return f"{figure(mean, signed)}{unit}"
    d = _decimals_for(lo, hi)
    return f"{_plain(mean, d, signed)}{unit} [{_plain(lo, d, signed)}, {_plain(hi, d, signed)}]"


def _no_width(x: float, lo: float, hi: float) -> bool:
    """An interval that is missing, open or zero-wide (see :data:`ZERO_WIDTH`): it sets no precision."""
    return not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= ZERO_WIDTH * max(abs(x), abs(lo), abs(hi), 1.0)


def at_precision(x: float | None, lo: float, hi: float, *, signed: bool = False) -> str:
    """A figure that goes with the interval ``[lo, hi]`` (a quantile, a worst case), rounded as :func:`interval`
    rounds the interval's mean; :func:`figure` where the interval sets no precision."""
    if x is None or not math.isfinite(float(x)):
        return "—"
    x, lo, hi = float(x), float(lo), float(hi)
    return figure(x, signed) if _no_width(x, lo, hi) else _plain(x, _decimals_for(lo, hi), signed)


def percent(mean: float, lo: float, hi: float, flag: object = "") -> str:
    """A relative change in percent with its interval; for a ``rare`` count the point only, and why."""
    if mean is None or not math.isfinite(float(mean)):
        return "not estimable: read the difference"
    if is_rare(flag):
        return f"{_plain(mean, 0, True)} % (rare: read the difference)"
    return interval(mean, lo, hi, signed=True, unit=" %")


def _note(flag: object) -> str:
    return flag if isinstance(flag, str) else ""


def _scaled(metric: str, *values: float) -> list[float]:
    unit = COST_UNIT if _is_cost(metric) else 1.0
    return [float(v) / unit for v in values]


# ---- tables -------------------------------------------------------------------------------------


def headline_rows(diff: pd.DataFrame, scenario: str, year: int, metrics: Sequence[str] = HEADLINE,
                  sample: Sample | None = None) -> list[dict[str, str]]:
    """One alternative against its baseline in one year, from :func:`sim.experiments.summary.compare`.

    Columns: ``metric``, ``baseline``, ``package``, the difference and the relative change with
    their 95 % intervals, and ``note`` (the flags).
    """
    g = diff[(diff["scenario"] == scenario) & (diff["year"] == year)].set_index("metric")
    rows = []
    for m in metrics:
        if m not in g.index:
            continue
        r = g.loc[m]
        alt = r.get("alt_mean", np.nan)
        alt = r.base_mean + r.difference if not np.isfinite(alt) else alt
        base, alt, d, dlo, dhi = _scaled(m, r.base_mean, alt, r.difference, r.difference_lo, r.difference_hi)
        flag = r.get("flag", "")
        rows.append({
            "metric": display_label(m, sample),
            "baseline": figure(base),
            "package": figure(alt),
            "difference [95 % interval]": interval(d, dlo, dhi, signed=True),
            "change % [95 % interval]": percent(r.relative_pct, r.relative_pct_lo, r.relative_pct_hi, flag),
            "note": _note(flag),
        })
    return rows


def year_on_year_rows(summary: pd.DataFrame, scenario: str, metrics: Sequence[str] = HEADLINE,
                      sample: Sample | None = None) -> list[dict[str, str]]:
    """One scenario's last counted year against the one before, from :func:`sim.experiments.summary.summarise`."""
    g = summary[summary["scenario"] == scenario].set_index("metric")
    rows = []
    for m in metrics:
        if m not in g.index:
            continue
        r = g.loc[m]
        before, after, d, dlo, dhi = _scaled(m, r.mean_from, r.mean_to, r.change, r.change_lo, r.change_hi)
        rows.append({
            "metric": display_label(m, sample),
            str(int(r.year_from)): figure(before),
            str(int(r.year_to)): figure(after),
            "change [95 % interval]": interval(d, dlo, dhi, signed=True),
            "change % [95 % interval]": percent(r.change_pct, r.change_pct_lo, r.change_pct_hi, r.get("flag", "")),
            "note": _note(r.get("flag", "")),
        })
    return rows


def package_rows(table: pd.DataFrame, sample: Sample | None = None,
                 contents: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The packages of :func:`sim.experiments.packages.package_table`, ranked, with what each contains.

    Each figure is a mean with its 95 % interval over paired replicates; counts and costs are
    labelled with ``sample``. ``contents`` (package → words) adds the ``contains`` column.
    """
    tag = f", {sample.short}" if sample is not None else ""
    rows = []
    for _, r in table.iterrows():
        note = r.get("cost_per_prevented_note", "")
        cpp = r.cost_per_prevented_yuan
        row = {"rank": str(int(r["rank"])), "package": str(r.package)}
        if contents is not None:
            row["contains"] = contents.get(str(r.package), "")
        row.update({
            f"cases prevented [per year{tag}]": interval(r.prevented, r.prevented_lo, r.prevented_hi, signed=True),
            "prevented %": interval(r.prevented_pct, r.get("prevented_pct_lo", np.nan),
                                    r.get("prevented_pct_hi", np.nan), signed=True, unit=" %"),
            f"package cost [million yuan per year{tag}]": figure(r.get("cost_yuan", np.nan) / COST_UNIT),
            f"extra cost [million yuan per year{tag}]":
                interval(*(_scaled("cost_yuan", r.extra_cost_yuan, r.extra_cost_lo, r.extra_cost_hi)), signed=True),
            f"yuan per prevented case [{tag.lstrip(', ') or 'ratio'}]": (
                interval(cpp, r.cost_per_prevented_lo, r.cost_per_prevented_hi) if np.isfinite(cpp)
                else "not estimable"),
            "Pareto": "yes" if bool(r.pareto) else "",
            "note": "; ".join(x for x in (_note(note), _note(r.get("flag", ""))) if x),
        })
        rows.append(row)
    return rows


# ---- an optimiser study -------------------------------------------------------------------------

#: What an optimiser study's costs describe: each package put in place on the whole city
#: (:mod:`sim.optimise.costs`), whatever scale was simulated.
WHOLE_CITY_COST = "million yuan per year, whole city"


def _objective_unit(objective: str, sample: Sample | None) -> str:
    if objective == "cost":
        return WHOLE_CITY_COST
    label = display_label(objective, sample)
    return label[label.rfind("[") + 1:-1] if label.endswith("]") else ""


def objective_label(objective: str, sample: Sample | None = None) -> str:
    """An optimiser objective's effect with its units (:data:`sim.optimise.evaluate.EFFECT_NAMES`).

    ``preventable cases prevented [per year, 10 % sample]``, ``change of the 90th-percentile response
    time [min]``, ``annual cost [million yuan per year, whole city]``: counts carry the sample they
    were simulated on, costs are the whole city's.
    """
    from sim.optimise.evaluate import EFFECT_NAMES

    unit = _objective_unit(objective, sample)
    name = EFFECT_NAMES.get(objective, _words(objective))
    return f"{name} [{unit}]" if unit else name


def front_rows(table: pd.DataFrame, objectives: Sequence[str], sample: Sample | None = None) -> list[dict[str, str]]:
    """Packages of an optimiser study, one row each (:meth:`sim.optimise.study.StudyResult.table`, ``front.csv``).

    Columns: ``package`` (``actual`` for the city's own), ``contains`` (in words), its annual cost on
    the whole city, and for each simulated objective of ``objectives`` the mean effect over
    posterior draws × replicates with its 95 % interval and the pessimistic quantile over draws,
    both at the interval's precision; counts are labelled with ``sample``.
    """
    rows = []
    for _, r in table.iterrows():
        number = int(r["package"])
        row = {"package": "actual" if number < 0 else str(number), "contains": str(r.get("contents", "")),
               objective_label("cost"): figure(float(r["cost_yuan_per_year"]) / COST_UNIT)}
        for o in objectives:
            if o == "cost" or o not in table.columns:
                continue
            label = objective_label(o, sample)
            mean, lo, hi = (float(r[c]) for c in (o, f"{o}_lo", f"{o}_hi"))
            row[f"{label}, mean [95 % interval]"] = interval(mean, lo, hi, signed=True)
            row[f"{label}, pessimistic"] = at_precision(r[f"{o}_pessimistic"], lo, hi, signed=True)
        rows.append(row)
    return rows


def robustness_rows(table: pd.DataFrame, front: pd.DataFrame | None = None,
                    sample: Sample | None = None) -> list[dict[str, str]]:
    """An optimiser study's robustness table (:meth:`sim.optimise.study.StudyResult.robustness`, ``robustness.csv``).

    Each front package's mean, pessimistic quantile and worst posterior draw of the objective, the
    share of draws in which another front package costing no more does better, and the mean
    shortfall (regret), all but the share in the units the ``mean`` column names. Figures take the
    precision of the package's 95 % interval in ``front`` (its rows by package number) where given.
    """
    bounds: dict[int, tuple[float, float]] = {}
    rows = []
    for _, r in table.iterrows():
        o, number = str(r["objective"]), int(r["package"])
        if front is not None and not bounds and f"{o}_lo" in front.columns:
            bounds = {int(p): (float(lo), float(hi)) for p, lo, hi in
                      zip(front["package"], front[f"{o}_lo"], front[f"{o}_hi"], strict=True)}
        lo, hi = bounds.get(number, (math.nan, math.nan))
        rows.append({
            "package": str(number),
            objective_label("cost"): figure(float(r["cost_yuan_per_year"]) / COST_UNIT),
            f"mean [{_objective_unit(o, sample)}]": at_precision(r["mean"], lo, hi, signed=True),
            "pessimistic": at_precision(r["pessimistic"], lo, hi, signed=True),
            "worst draw": at_precision(r["worst_draw"], lo, hi, signed=True),
            "beaten in [share of draws]": f"{figure(100 * float(r['beaten_share_of_draws']))} %",
            "mean regret": at_precision(r["mean_regret"], lo, hi),
            "draws": str(int(r["draws"])),
        })
    return rows


def _numeric(text: str) -> bool:
    return text == "" or text[0] in "+-0123456789—∞"


def text_table(rows: Sequence[Mapping[str, str]], indent: int = 2) -> str:
    """Rows as an aligned plain-text table for a terminal.

    Figures are right-aligned, words left-aligned; a ``contains`` column (long, in words) is
    printed under its row instead of widening the table.
    """
    if not rows:
        return " " * indent + "(nothing to show)"
    cols = [c for c in rows[0] if c != "contains"]
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    right = {c: all(_numeric(str(r.get(c, ""))) for r in rows) for c in cols}

    def line(values: Mapping[str, str]) -> str:
        cells = [str(values.get(c, "")).rjust(width[c]) if right[c] else str(values.get(c, "")).ljust(width[c])
                 for c in cols]
        return (" " * indent + "  ".join(cells)).rstrip()

    out = [line({c: c for c in cols})]
    for r in rows:
        out.append(line(r))
        if r.get("contains"):
            out.append(" " * (indent + 4) + f"contains: {r['contains']}")
    return "\n".join(out)


def text_records(rows: Sequence[Mapping[str, str]], indent: int = 2) -> str:
    """Rows too wide for a terminal table, one block each: the first column as its heading, then
    ``contains`` and every other column as ``name: value``, the values aligned."""
    if not rows:
        return " " * indent + "(nothing to show)"
    out = []
    for r in rows:
        first, *rest = list(r)
        rest = sorted(rest, key=lambda c: c != "contains")
        width = max(len(c) for c in rest) if rest else 0
        out.append(f"{' ' * indent}{first} {r[first]}")
        out += [f"{' ' * (indent + 4)}{(c + ':').ljust(width + 1)} {r[c]}".rstrip() for c in rest]
    return "\n".join(out)


# ---- what a package is --------------------------------------------------------------------------


def is_size_field(name: str, annotation: Any) -> bool:
    """Whether an intervention's field is a size (count, cameras, people, a share of units), by its name and type."""
    kind = _number_type(annotation)
    return kind is not None and any(h in name for h in SIZE_HINTS) and "cost" not in name


def _number_type(annotation: Any) -> type | None:
    args = [a for a in get_args(annotation) if a is not type(None)] if get_args(annotation) else [annotation]
    if len(args) == 1 and args[0] in (int, float) and args[0] is not bool:
        return args[0]
    return None


def _words(key: str) -> str:
    return key.replace("_", " ")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return figure(v)
    return _words(str(v))


def describe_intervention(key: str, params: Any, start_year: int | None = None) -> str:
    """One intervention in words: ``8 street police stations (placement main urban hot spots)``.

    Args:
        key: The intervention's key.
        params: Its parameters (an :class:`sim.interventions.InterventionParams`).
        start_year: The scenario's intervention year; a different ``start_year`` is named.
    """
    fields = type(params).model_fields
    lead, details = _words(key), []
    for name, info in fields.items():
        v = getattr(params, name)
        if name == "count" and isinstance(v, int):
            lead = f"{v:,} {_words(key)}"
        elif is_size_field(name, info.annotation) and v is not None:
            details.append(f"{_words(name)} {_value(v)}")
        elif name == "placement":
            details.append(f"placement {_value(v)}")
        elif name == "counties" and v:
            details.append("in " + ", ".join(v))
        elif name == "campaigns" and isinstance(v, list):
            details.append(f"{len(v)} campaign{'s' if len(v) != 1 else ''}")
    own = getattr(params, "start_year", None)
    if own is not None and own != start_year:
        details.append(f"from {own}")
    return lead + (f" ({'; '.join(details)})" if details else "")


def package_contents(scenario: Any, baseline: Any | None = None) -> str:
    """What a scenario's package contains, in words; interventions the baseline has the same are left out.

    Args:
        scenario: A :class:`sim.scenario.schema.Scenario`.
        baseline: Its baseline, or None to list every enabled intervention.

    Returns:
        ``8 street police stations (…), 54,000 cameras …``, or ``no interventions`` (or ``the
        baseline's interventions only``).
    """
    start = scenario.run.start_year_of_interventions
    parts = []
    for key, params in scenario.enabled_interventions().items():
        if baseline is not None and getattr(baseline.interventions, key) == params:
            continue
        parts.append(describe_intervention(key, params, start))
    if parts:
        return ", ".join(parts)
    return "no interventions" if not scenario.enabled_interventions() else "the baseline's interventions only"


def intervention_starts(packages: Iterable[Any], baseline: Any | None = None) -> list[tuple[int, str]]:
    """Years to mark on a time series: when the packages start, and other years their interventions start.

    A package starts in its scenario's intervention year (``run.intervention_year``). An
    intervention the baseline does not have the same may start in another year (Daqing's
    mediation runs from 2020 in its 2021 package): that year is marked too, naming it.

    Args:
        packages: The packages' scenarios.
        baseline: Their baseline; interventions it has the same are not marked. None: mark all.

    Returns:
        ``[(year, label), ...]``: the packages' start first, then the other starts by year.
    """
    packages = list(packages)
    if not packages:
        return []
    starts = sorted({p.run.start_year_of_interventions for p in packages})
    marks = [(starts[0], "package starts" if len(packages) == 1 else "packages start")]
    marks += [(y, "package starts") for y in starts[1:]]
    others: dict[int, list[str]] = {}
    for p in packages:
        start = p.run.start_year_of_interventions
        for key, params in p.enabled_interventions().items():
            if baseline is not None and getattr(baseline.interventions, key) == params:
                continue
            year = params.start_year or start
            if year not in starts and _words(key) not in others.get(year, []):
                others.setdefault(year, []).append(_words(key))
    marks += [(y, f"{', '.join(names)} start{'s' if len(names) == 1 else ''}") for y, names in sorted(others.items())]
    return marks


# ---- the terminal's tables (pingan run and compare)


def format_summary(summary: pd.DataFrame, metrics: tuple[str, ...] = HEADLINE, sample: Sample | None = None) -> str:
    """The year-on-year table as text (:func:`year_on_year_rows`, as the report and the app show it).

    Args:
        summary: From :func:`sim.experiments.summary.summarise`.
        metrics: The metrics shown, in order.
        sample: The :class:`Sample` the counts and costs describe (labelled), or None.
    """
    lines = []
    for scen, g in summary.groupby("scenario", sort=False):
        y0, y1, n = g["year_from"].iloc[0], g["year_to"].iloc[0], g["replicates"].iloc[0]
        lines.append(f"\n{scen}: {y1} against {y0}, mean over {n} replicates [95 % interval]")
        if sample is not None:
            lines.append(f"  {sample.caption()}")
        lines.append(text_table(year_on_year_rows(summary, scen, metrics, sample)))
    return "\n".join(lines)


def format_compare(diff: pd.DataFrame, metrics: tuple[str, ...] = HEADLINE, sample: Sample | None = None) -> str:
    """The comparison table as text (:func:`headline_rows`, as the report and the app show it)."""
    lines = []
    for (scen, year), g in diff.groupby(["scenario", "year"], sort=False):
        lines.append(f"\n{scen} against {g['base'].iloc[0]}, {year}: mean over {int(g['replicates'].max())} paired "
                     "replicates [95 % interval]")
        if sample is not None:
            lines.append(f"  {sample.caption()}")
        lines.append(text_table(headline_rows(diff, scen, year, metrics, sample)))
    return "\n".join(lines)


def format_paired_run(diff: pd.DataFrame, summary: pd.DataFrame, package: Any, baseline: Any,
                      sample: Sample | None = None, metrics: tuple[str, ...] = HEADLINE) -> str:
    """``pingan run``'s tables for a package run with its baseline: its effect first, then its year-on-year change.

    The effect is the package's paired difference from the baseline over replicates run with the
    same seeds (:func:`format_compare`), in each counted year from the first start of an
    intervention the baseline does not have (:func:`intervention_starts`). The year-on-year change
    (:func:`format_summary`; none with one counted year) is what a city reports: it mixes the
    baseline's own change from one year to the next with the package's effect.

    Args:
        diff: From :func:`sim.experiments.summary.compare` against the baseline (``compare.csv``).
        summary: From :func:`sim.experiments.summary.summarise` (``summary.csv``).
        package, baseline: The two :class:`sim.scenario.schema.Scenario`.
        sample: The :class:`Sample` the counts and costs describe (labelled), or None.
        metrics: The metrics shown, in order.
    """
    start = min(year for year, _ in intervention_starts([package], baseline))
    effect = diff[(diff["scenario"] == package.name) & (diff["year"] >= start)]
    own = summary[summary["scenario"] == package.name]
    lines = ["\nThe package's effect: the difference from the baseline run with the same seeds, replicate by "
             "replicate"]
    lines.append(format_compare(effect, metrics, sample) if len(effect) else
                 f"\n  (no counted year from {start} in common with {baseline.name})")
    if len(own) and (own["year_from"] == own["year_to"]).all():
        lines.append("\n\nYear on year: one counted year, nothing to compare it with")
        return "".join(lines)
    lines.append(f"\n\nYear on year, as the city reports it: the package's effect mixed with the baseline's own "
                 f"change from year to year ({baseline.name}'s is in summary.csv)")
    lines.append(format_summary(own, metrics, sample))
    return "".join(lines)


def format_reported(summary: pd.DataFrame, targets: pd.DataFrame, scale: float, posterior: bool) -> str:
    """What the seed cities reported next to this run's year-on-year changes, as text.

    Args:
        summary: From :func:`sim.experiments.summary.summarise`.
        targets: The calibration targets (:func:`sim.calibration.targets.load_targets`); the
            year-on-year rows whose ``scenario`` is a scenario of ``summary`` are shown.
        scale: The run's scale (a target needing a larger one is marked).
        posterior: Whether the run drew its parameters from a calibrated posterior.

    Returns:
        The table and a note on the parameters, or ``""`` when no reported figure applies.
    """
    rows = []
    for t in targets[targets["kind"] == "yoy_change"].itertuples():
        hit = summary[(summary["scenario"] == t.scenario) & (summary["metric"] == t.metric)
                      & (summary["year_from"] == t.base_year) & (summary["year_to"] == t.years[0])]
        if hit.empty:
            continue
        r = hit.iloc[0]
        reported = {"lower": "rises", "upper": "falls"}.get(t.bound) or f"{t.value:+g} %"
        simulated = (percent(r.change_pct, r.change_pct_lo, r.change_pct_hi) if np.isfinite(r.change_pct)
                     else f"{figure(r.change, signed=True)} (counts)")
        small = f"  (compare at scale ≥ {t.min_scale:g})" if scale < t.min_scale else ""
        rows.append(f"  {t.scenario} {t.years[0]}: {t.metric:22s} reported {reported:>7s}   simulated {simulated}"
                    f"   [{t.source_file}]{small}")
    if not rows:
        return ""
    params = ("Parameters: drawn from the calibrated posterior, one set per replicate." if posterior else
              "Parameters: the documented defaults. Add --posterior main to draw calibrated sets per replicate from\n"
              "the committed calibration's posterior (it ships with pingan), so that parameter uncertainty enters\n"
              "the intervals; --posterior FILE takes another posterior.csv.")
    return ("\nWhat the seed cities reported (calibration/targets.csv) against this run:\n" + "\n".join(rows)
            + "\n" + params + "\nWhere the model cannot reach a reported figure within plausible parameters, "
            "README.md, \"Tensions\", says why.")

