"""Outcome metrics, named as the seeds name them, declared once and accumulated per counted year.

Police-recorded figures are what the seeds report (可防性案件 preventable cases, 接警量 calls
for service, 有效警情 effective incidents, 八类严重暴力 serious violent crime, 命案 homicides);
true counts are kept beside them (``*_true``) so under-reporting can be studied.

Every metric is declared once, as a :class:`Metric` in the registry :data:`METRICS`: its
name, unit, what it means and how its yearly value is derived. This module declares the
core table — the columns every ``metrics.csv`` has, in their order (:data:`CORE_METRICS`)
— and the tallies they are derived from. Plug-ins declare the metrics only they produce:
an intervention in its ``declares`` (e.g. ``linked_towns``), the dispute system the
``disputes_found_by_<source>`` family. Recording a name nobody declared is an error, and
each year's row is derived from the declarations (:meth:`MetricsRecorder.year_row`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from sim.mechanisms.calls import Call
from sim.mechanisms.crime_types import CRIME_TYPES, PREVENTABLE

__all__ = ["Metric", "MetricRegistry", "METRICS", "YearView", "UnknownMetricError", "MetricsRecorder",
           "CORE_METRICS", "HOURS_PER_YEAR", "RATE_UNITS"]

HOURS_PER_YEAR = 8760

_PREV = np.array([CRIME_TYPES.index(t) for t in PREVENTABLE])
_IS_PREV = [t in PREVENTABLE for t in CRIME_TYPES]  # by crime type
_ROBBERY = CRIME_TYPES.index("robbery")
_DAILY_COLUMN = {"preventable_cases": 0, "calls_for_service": 1, "effective_incidents": 2}  # MetricsRecorder.DAILY
_NAN = float("nan")
#: Calendar month (0-11) of each day of a counted year (365 days, no leap day).
_MONTH_OF_DAY = np.repeat(np.arange(12), [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]).tolist()


class UnknownMetricError(KeyError):
    """A metric name that was never declared (a typo, or a plug-in that forgot to declare it)."""

    def __str__(self) -> str:
        return str(self.args[0])


class YearView:
    """What a metric's yearly derivation may read: one counted year of a recorder.

    Args:
        recorder: The run's recorder.
        year: Counted year.
        population: The city's residents.
    """

    def __init__(self, recorder: MetricsRecorder, year: int, population: int):
        self.year = year
        self.population = population
        self._counts = recorder.counts
        self.recorded_by_type = recorder.by_type_recorded[year]  #: police-recorded offences by crime type
        self.true_by_type = recorder.by_type_true[year]  #: true offences by crime type
        self.attended = recorder.attended_in_year(year)  #: calls attended, by the year they came in

    def total(self, name: str) -> float:
        """The year's recorded total of ``name`` (0 if nothing was recorded)."""
        counts = self._counts.get(name)
        return 0.0 if counts is None else float(counts[self.year])

    def was_recorded(self, name: str) -> bool:
        """Whether anything was ever recorded under ``name`` in a counted year of the run."""
        return name in self._counts

    @cached_property
    def recorded_offences(self) -> float:
        return float(self.recorded_by_type.sum())

    @cached_property
    def preventable(self) -> float:
        return float(self.recorded_by_type[_PREV].sum())

    @cached_property
    def response_min(self) -> np.ndarray:
        """Minutes from each attended call to the unit's arrival."""
        return np.array([x.arrived_at - x.time for x in self.attended])

    @cached_property
    def wait_min(self) -> np.ndarray:
        """Minutes each attended call waited for a unit to be dispatched."""
        return np.array([x.dispatched_at - x.time for x in self.attended])


#: How a metric's yearly value comes about (see :class:`Metric`).
Kind = Literal["column", "tally", "reported", "family"]
#: Units of rates, and the largest value of each: a share is a fraction, a percentage goes to 100.
RATE_UNITS = {"share": 1.0, "%": 100.0}


@dataclass(frozen=True)
class Metric:
    """One metric, declared once.

    Attributes:
        name: Column name (for a family, the prefix of its members' names).
        unit: Unit of the yearly value, e.g. ``"cases"``, ``"minutes"``, ``"share"``.
        description: What it measures, with the seeds' term where there is one.
        kind: ``"column"``: a column of every row, its value ``yearly(view)``, by default the
            year's recorded total. ``"tally"``: recorded, and read by other metrics'
            derivations, but not a column itself. ``"reported"``: a column whose yearly value
            a plug-in reports (``Intervention.metrics``, the dispute system's ticket figures);
            it may be recorded too. ``"family"``: ``name`` is a prefix; each recorded name
            with it is a column of its year's total (e.g. ``disputes_found_by_grid_worker``).
        yearly: For a column, how its yearly value is derived from a :class:`YearView`
            (``None``: the year's recorded total).
        core: In every row and in :data:`CORE_METRICS` (the fixed columns of ``metrics.csv``).
        headline: One of the headline metrics printed in terminal tables and reports, in the
            order declared (:meth:`MetricRegistry.headline`).
        explorer: Shown by the package explorer beside the headline metrics
            (:meth:`MetricRegistry.explorer`).
    """

    name: str
    unit: str
    description: str
    kind: Kind = "column"
    yearly: Callable[[YearView], float] | None = None
    core: bool = False
    headline: bool = False
    explorer: bool = False

    @property
    def is_rate(self) -> bool:
        """Whether the metric is a rate (a share or a percentage: averaged over years, never summed)."""
        return self.unit in RATE_UNITS

    @property
    def rate_top(self) -> float | None:
        """The largest value of a rate (1 for a share, 100 for a percentage); None if not a rate."""
        return RATE_UNITS.get(self.unit)

    def value(self, view: YearView) -> float:
        """The metric's value for one year (a column's; not for reported metrics or families)."""
        return view.total(self.name) if self.yearly is None else self.yearly(view)


class MetricRegistry:
    """Metrics by name, in the order they were declared (the order of a year's row)."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._families: list[Metric] = []

    def declare(self, *metrics: Metric) -> None:
        """Declare metrics. Declaring a name again is an error unless the declaration is the same."""
        for m in metrics:
            old = self._metrics.get(m.name)
            if old is not None:
                if old != m:
                    raise ValueError(f"metric {m.name!r} is declared twice, differently: {old} and {m}")
                continue
            if m.core and m.kind not in ("column", "reported"):
                raise ValueError(f"metric {m.name!r}: only columns and reported metrics can be core")
            self._metrics[m.name] = m
            if m.kind == "family":
                self._families.append(m)

    def __contains__(self, name: object) -> bool:
        return name in self._metrics or (
            isinstance(name, str) and any(name.startswith(f.name) for f in self._families))

    def __getitem__(self, name: str) -> Metric:
        m = self._metrics.get(name)
        if m is None:
            for f in self._families:
                if name.startswith(f.name):
                    return f
            raise UnknownMetricError(
                f"unknown metric {name!r}: every metric must be declared once in the registry "
                "sim.metrics.METRICS (core metrics in sim/metrics.py; an intervention's in its "
                "`declares`); check the spelling")
        return m

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._metrics.values())

    def core(self) -> tuple[str, ...]:
        """Names of the core columns, in order."""
        return tuple(m.name for m in self._metrics.values() if m.core)

    def headline(self) -> tuple[str, ...]:
        """Names of the headline metrics, in order."""
        return tuple(m.name for m in self._metrics.values() if m.headline)

    def explorer(self) -> tuple[str, ...]:
        """Names of the metrics the package explorer shows against the baseline: the headline
        metrics and those declared ``explorer``, in declared order, money last."""
        shown = [m for m in self._metrics.values() if m.headline or m.explorer]
        return tuple(m.name for m in sorted(shown, key=lambda m: m.unit == "yuan"))  # stable: declared order

    def is_column(self, name: str) -> bool:
        """Whether ``name`` is a column of a year's row in some run: a core column, a member of a
        family, or a metric a plug-in reports (a tally, read only by other metrics, is not)."""
        m = self._metrics.get(name)
        if m is not None:
            return m.kind in ("column", "reported") and (m.core or m.kind == "reported")
        return any(name.startswith(f.name) and len(name) > len(f.name) for f in self._families)

    def families(self) -> list[Metric]:
        return list(self._families)


def _ratio(num: float, den: float) -> float:
    return num / den if den else _NAN


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else _NAN


def _core(name: str, unit: str, description: str, yearly: Callable[[YearView], float] | None = None,
          kind: Kind = "column", headline: bool = False, explorer: bool = False) -> Metric:
    return Metric(name, unit, description, kind=kind, yearly=yearly, core=True, headline=headline, explorer=explorer)


def _tally(name: str, unit: str, description: str) -> Metric:
    return Metric(name, unit, description, kind="tally")


def _recorded_type(i: int) -> Callable[[YearView], float]:
    return lambda v: float(v.recorded_by_type[i])


#: Every declared metric (core ones below; plug-ins add theirs when imported).
METRICS = MetricRegistry()

METRICS.declare(
    _core("population", "residents", "Residents of the simulated city (at its scale).", lambda v: v.population),
    _core("preventable_cases", "cases", "Police-recorded preventable cases (可防性案件): burglary, theft, "
          "robbery, fraud and vehicle crime.", lambda v: v.preventable, headline=True),
    _core("calls_for_service", "calls", "Calls for service received (接警量), crime and non-crime.", headline=True),
    _core("effective_incidents", "incidents", "Effective incidents (有效警情): police-recorded offences "
          "and public-order incidents.", lambda v: v.recorded_offences + v.total("public_order_incidents"),
          headline=True),
    _core("serious_violent", "cases", "Serious violent crime (八类严重暴力): recorded robberies and "
          "serious assaults.", lambda v: float(v.recorded_by_type[_ROBBERY]) + v.total("serious_assaults"),
          headline=True),
    _core("homicides", "deaths", "Homicides (命案), street and dispute violence.", headline=True),
    _core("repeat_victimisations", "offences", "Offences (recorded or not) against a resident already "
          "victimised earlier in the same year (repeat victimisation; Farrell & Pease 1993)."),
    _core("clearance_rate", "share", "Cases cleared per police-recorded offence.",
          lambda v: _ratio(v.total("cases_cleared"), v.recorded_offences), headline=True),
    _core("response_time_median_min", "minutes", "Median minutes from an attended call to arrival.",
          lambda v: _median(v.response_min), headline=True),
    _core("response_time_p90_min", "minutes", "90th percentile of minutes from an attended call to arrival.",
          lambda v: float(np.percentile(v.response_min, 90)) if len(v.response_min) else _NAN, headline=True),
    _core("cost_yuan", "yuan", "Interventions' set-up cost in their first year plus running costs.", headline=True),
    _core("staff_hours", "hours", "Hours worked by the interventions' staff on duty."),
    *(_core(f"recorded_{t}", "cases", f"Police-recorded {t.replace('_', ' ')} offences.", _recorded_type(i))
      for i, t in enumerate(CRIME_TYPES)),
    _core("preventable_cases_true", "cases", "Preventable offences committed, recorded or not.",
          lambda v: float(v.true_by_type[_PREV].sum())),
    _core("offences_true", "offences", "Offences committed, recorded or not.", lambda v: float(v.true_by_type.sum())),
    _core("attempts_blocked", "attempts", "Offending attempts blocked by guardians, after any displacement."),
    _core("attempts_displaced", "attempts", "Blocked attempts that moved to a neighbouring cell."),
    _core("offences_displaced", "offences", "Offences committed next door after being blocked."),
    _core("detected_by_video", "offences", "Unreported offences detected by cameras or alarms."),
    _core("cases_cleared", "cases", "Recorded offences cleared."),
    _core("arrests", "arrests", "Offenders arrested."),
    _core("walk_in_services", "requests", "Non-urgent requests served at walk-in desks instead of by a call."),
    _core("calls_attended", "calls", "Calls a unit arrived at, by the year they came in.",
          lambda v: float(len(v.attended))),
    _core("wait_time_median_min", "minutes", "Median minutes an attended call waited for dispatch.",
          lambda v: _median(v.wait_min)),
    _core("preventable_cases_per_100k", "cases per 100 000 residents", "Preventable cases per 100 000 residents.",
          lambda v: v.preventable / v.population * 1e5),
    _core("calls_for_service_per_100k", "calls per 100 000 residents", "Calls for service per 100 000 residents.",
          lambda v: v.total("calls_for_service") / v.population * 1e5),
    # social governance: disputes, mediation, governance tickets, safety, volunteers, grid workers
    _core("disputes_new", "disputes", "New disputes (矛盾纠纷), broken agreements flaring up again included."),
    _core("disputes_found", "disputes", "Disputes found, by rounds, visits, screening or a call."),
    _core("disputes_mediated", "sessions", "Mediation sessions held (调解); formal cases instead with the "
          "mediation parameter counting=dispute."),
    _core("mediation_success_rate", "share", "Sessions that settled the dispute.",
          lambda v: _ratio(v.total("mediation_successes"), v.total("disputes_mediated"))),
    _core("agreements_honoured_rate", "share", "Mediated agreements honoured.",
          lambda v: _ratio(v.total("agreements_honoured"), v.total("mediation_successes"))),
    _core("mediation_cases_formal", "disputes", "Disputes with a formal mediation case (at least one "
          "session at any level), counted once, in the year of the first session; informal settlements "
          "are not cases."),
    _core("mediation_success_rate_formal", "share", "Formal mediation cases settled by mediation, per "
          "dispute (a case that fails at village and settles at town level is one success).",
          lambda v: _ratio(v.total("mediation_cases_formal_settled"), v.total("mediation_cases_formal"))),
    _core("disputes_settled_informally", "disputes", "Referred disputes a committee settled informally, "
          "without opening a formal case (mediation's informal_settle_prob)."),
    _core("disputes_resolved_by_police", "disputes", "Disputes settled by police: at the scene (随警调解), "
          "on home visits or by village auxiliary police."),
    _core("disputes_settled_on_spot", "disputes", "Found minor disputes settled there and then."),
    _core("disputes_resolved", "disputes", "Disputes settled in the year by anyone: on the spot, informally, "
          "in formal mediation, by police or by a governance centre (化解).", kind="reported"),
    _core("disputes_resolved_rate", "share", "Disputes resolved in the year over disputes found in the year, "
          "the administrative 化解成功率 (a flow ratio, as reports count it). Field studies' "
          "settlement rate of mediated cases is mediation_success_rate.", kind="reported"),
    _core("disputes_to_call", "disputes", "Disputes that escalated to a call for service."),
    _core("disputes_violent", "disputes", "Disputes that escalated to violence (an assault)."),
    _core("tickets_received", "tickets", "Governance tickets (网格事项) reported in the year.", kind="reported"),
    _core("tickets_disposed_rate", "share", "The year's tickets disposed of at some level.", kind="reported"),
    _core("tickets_completed_rate", "share", "The year's tickets resolved and archived as completed.",
          kind="reported"),
    _core("tickets_escalated", "tickets", "The year's tickets that went up at least one level.", kind="reported"),
    _core("ticket_latency_median_h", "hours", "Median hours from report to archive of the year's archived "
          "tickets.", kind="reported"),
    _core("sense_of_safety_pct", "%", "Share of surveyed residents who feel safe (安全感), surveyed at the "
          "year's end.", lambda v: v.total("sense_of_safety_pct") if v.was_recorded("sense_of_safety_pct") else _NAN,
          explorer=True),
    _core("volunteer_hours", "person-hours", "Hours volunteers spent on patrol (群防群治)."),
    _core("grid_worker_visits", "visits", "Household visits by grid workers (网格员)."),
    _core("grid_items_logged", "items", "Items grid workers logged: hazards, special-population problems and "
          "found disputes not settled on the spot, escalated to the platform as tickets or not."),
    # tallies the columns above are derived from
    _tally("public_order_incidents", "incidents", "Public-order calls (effective incidents besides offences)."),
    _tally("serious_assaults", "cases", "Recorded assaults that were serious (八类)."),
    _tally("mediation_successes", "sessions", "Mediation sessions that settled the dispute."),
    _tally("agreements_honoured", "agreements", "Mediated agreements honoured."),
    _tally("mediation_cases_formal_settled", "disputes", "Formal mediation cases settled by mediation."),
)

#: The columns of metrics.csv after scenario, replicate, seed and year, in order.
CORE_METRICS: tuple[str, ...] = METRICS.core()


class MetricsRecorder:
    """Counts by counted year and a daily series (where incidents happened is the mechanisms'
    :class:`sim.mechanisms.incident_map.IncidentMap`).

    Args:
        n_years: Counted years.
        registry: The declared metrics; recording any other name raises :class:`UnknownMetricError`.
        cell_county: County of each cell: with it, :attr:`monthly` counts police-recorded offences by
            calendar month, county and crime type (what incident records are compared with).
    """

    DAILY = tuple(_DAILY_COLUMN)

    def __init__(self, n_years: int, registry: MetricRegistry = METRICS, cell_county: np.ndarray | None = None):
        self.n_years = n_years
        self.registry = registry
        self._declared: set[str] = set()  # names checked against the registry
        # Plain lists of floats: an hour makes dozens of single additions, which Python floats do
        # faster than numpy scalars (both are IEEE double additions: the same sums).
        self.counts: dict[str, list[float]] = {}
        self.by_type_recorded = np.zeros((n_years, len(CRIME_TYPES)))
        self.by_type_true = np.zeros((n_years, len(CRIME_TYPES)))
        self.daily = np.zeros((n_years * 365, len(self.DAILY)))
        self._cell_county = None if cell_county is None else np.asarray(cell_county).tolist()
        n_counties = 0 if cell_county is None or len(cell_county) == 0 else int(np.max(cell_county)) + 1
        self.monthly = np.zeros((n_years * 12, n_counties, len(CRIME_TYPES)))  # months x counties x types
        self._attended: list[list[Call]] = [[] for _ in range(n_years)]

    def add(self, name: str, year: int, value: float = 1.0) -> None:
        """Add ``value`` to the metric ``name`` in counted year ``year`` (ignored outside the counted years).

        Raises:
            UnknownMetricError: If ``name`` was never declared (in any year, warm-up included).
        """
        if 0 <= year < self.n_years:
            self.row(name)[year] += value
        elif name not in self._declared:
            self._check(name)

    def row(self, name: str) -> list[float]:
        """The yearly totals of ``name``, to add to in place (created at zero).

        Raises:
            UnknownMetricError: If ``name`` was never declared.
        """
        arr = self.counts.get(name)
        if arr is None:
            self._check(name)
            arr = self.counts[name] = [0.0] * self.n_years
        return arr

    def _check(self, name: str) -> None:
        if self.registry[name].kind == "family" and name == self.registry[name].name:
            raise UnknownMetricError(f"metric {name!r} is a family prefix: record one of its members")
        self._declared.add(name)

    def day(self, name: str, hour: int, value: float = 1.0) -> None:
        d = hour // 24
        if 0 <= d < len(self.daily):
            self.daily[d, _DAILY_COLUMN[name]] += value

    def offences(self, year: int, hour: int, crime_type: np.ndarray, cells: np.ndarray,
                 recorded: np.ndarray) -> None:
        """Record true and police-recorded offences of one hour, by crime type (and the recorded ones by
        month and county, with ``cell_county``)."""
        if not 0 <= year < self.n_years:
            return
        # A handful of offences an hour: one by one beats np.add.at calls (counts of whole
        # offences are exact in any order).
        by_type_true, by_type_recorded = self.by_type_true[year], self.by_type_recorded[year]
        prev = n_recorded = 0
        county = self._cell_county
        month = self.monthly[year * 12 + _MONTH_OF_DAY[min((hour - year * HOURS_PER_YEAR) // 24, 364)]]
        for t, c, r in zip(crime_type.tolist(), cells.tolist(), recorded.tolist(), strict=True):
            by_type_true[t] += 1
            if r:
                by_type_recorded[t] += 1
                n_recorded += 1
                prev += _IS_PREV[t]
                if county is not None:
                    month[county[c], t] += 1
        self.day("preventable_cases", hour, float(prev))
        self.day("effective_incidents", hour, float(n_recorded))

    def attended(self, call: Call, year: int) -> None:
        if 0 <= year < self.n_years:
            self._attended[year].append(call)

    def attended_in_year(self, year: int) -> list[Call]:
        return self._attended[year]

    def year_row(self, year: int, population: int, reports: Mapping[str, float] | None = None) -> dict[str, float]:
        """One counted year's row, derived from the declared metrics.

        The core columns in their declared order, then each family's recorded members
        (sorted), then plug-ins' reported metrics in the order given.

        Args:
            year: Counted year.
            population: The city's residents.
            reports: Values plug-ins report for the year (every core reported metric among them).

        Raises:
            UnknownMetricError: If a reported name was never declared.
            ValueError: If a reported name is not declared as reported, or a core reported
                metric is missing.
        """
        view = YearView(self, year, population)
        reports = dict(reports or {})
        row: dict[str, float] = {}
        for m in self.registry:
            if m.kind == "family":
                for name in sorted(k for k in self.counts if k.startswith(m.name)):
                    row[name] = view.total(name)
            elif m.core and m.kind == "reported":
                if m.name not in reports:
                    raise ValueError(f"metric {m.name!r} is reported by a plug-in each year, but was not")
                row[m.name] = reports.pop(m.name)
            elif m.core:
                row[m.name] = m.value(view)
        for name, value in reports.items():
            if self.registry[name].kind != "reported":
                raise ValueError(f"metric {name!r} is declared as {self.registry[name].kind!r}, not 'reported': "
                                 "a plug-in cannot report it")
            row[name] = value
        return row
