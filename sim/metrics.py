"""Outcome metrics, named as the seeds name them, accumulated per counted year.

Police-recorded figures are what the seeds report (可防性案件 preventable cases, 接警量 calls
for service, 有效警情 effective incidents, 八类严重暴力 serious violent crime, 命案 homicides);
true counts are kept beside them (``*_true``) so under-reporting can be studied.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.calls import Call
from sim.mechanisms.crime import CRIME_TYPES, PREVENTABLE

__all__ = ["MetricsRecorder", "CORE_METRICS", "HOURS_PER_YEAR"]

HOURS_PER_YEAR = 8760

#: The columns of metrics.csv after scenario, replicate, seed and year, in order.
CORE_METRICS: tuple[str, ...] = (
    "population",
    "preventable_cases",
    "calls_for_service",
    "effective_incidents",
    "serious_violent",
    "homicides",
    "clearance_rate",
    "response_time_median_min",
    "response_time_p90_min",
    "cost_yuan",
    "staff_hours",
    *(f"recorded_{t}" for t in CRIME_TYPES),
    "preventable_cases_true",
    "offences_true",
    "attempts_blocked",
    "attempts_displaced",
    "offences_displaced",
    "detected_by_video",
    "cases_cleared",
    "arrests",
    "walk_in_services",
    "calls_attended",
    "wait_time_median_min",
    "preventable_cases_per_100k",
    "calls_for_service_per_100k",
    # social governance (issue 3)
    "disputes_new",
    "disputes_found",
    "disputes_mediated",
    "mediation_success_rate",
    "agreements_honoured_rate",
    "disputes_resolved_by_police",
    "disputes_settled_on_spot",
    "disputes_to_call",
    "disputes_violent",
    "tickets_received",
    "tickets_disposed_rate",
    "tickets_completed_rate",
    "tickets_escalated",
    "ticket_latency_median_h",
    "sense_of_safety_pct",
    "volunteer_hours",
    "grid_worker_visits",
)

_PREV = np.array([CRIME_TYPES.index(t) for t in PREVENTABLE])
_IS_PREV = [t in PREVENTABLE for t in CRIME_TYPES]  # by crime type
_DAILY_COLUMN = {"preventable_cases": 0, "calls_for_service": 1, "effective_incidents": 2}  # MetricsRecorder.DAILY


class MetricsRecorder:
    """Counts by counted year, per-cell maps and a daily series.

    Args:
        n_years: Counted years.
        n_cells: Cells of the city (for the incident map).
    """

    DAILY = tuple(_DAILY_COLUMN)

    def __init__(self, n_years: int, n_cells: int):
        self.n_years = n_years
        # Plain lists of floats: an hour makes dozens of single additions, which Python floats do
        # faster than numpy scalars (both are IEEE double additions: the same sums).
        self.counts: dict[str, list[float]] = {}
        self.by_type_recorded = np.zeros((n_years, len(CRIME_TYPES)))
        self.by_type_true = np.zeros((n_years, len(CRIME_TYPES)))
        self.cell_incidents = np.zeros((n_years, n_cells))  # police-recorded offences
        self.cell_offences_true = np.zeros((n_years, n_cells))
        self.daily = np.zeros((n_years * 365, len(self.DAILY)))
        self._attended: list[list[Call]] = [[] for _ in range(n_years)]

    def add(self, name: str, year: int, value: float = 1.0) -> None:
        if 0 <= year < self.n_years:
            self.row(name)[year] += value

    def row(self, name: str) -> list[float]:
        """The yearly totals of ``name``, to add to in place (created at zero)."""
        arr = self.counts.get(name)
        if arr is None:
            arr = self.counts[name] = [0.0] * self.n_years
        return arr

    def day(self, name: str, hour: int, value: float = 1.0) -> None:
        d = hour // 24
        if 0 <= d < len(self.daily):
            self.daily[d, _DAILY_COLUMN[name]] += value

    def offences(self, year: int, hour: int, crime_type: np.ndarray, cells: np.ndarray,
                 recorded: np.ndarray) -> None:
        """Record true and police-recorded offences of one hour."""
        if not 0 <= year < self.n_years:
            return
        # A handful of offences an hour: one by one beats four np.add.at calls (counts of whole
        # offences are exact in any order).
        by_type_true, cell_true = self.by_type_true[year], self.cell_offences_true[year]
        by_type_recorded, cell_recorded = self.by_type_recorded[year], self.cell_incidents[year]
        prev = n_recorded = 0
        for t, c, r in zip(crime_type.tolist(), cells.tolist(), recorded.tolist(), strict=True):
            by_type_true[t] += 1
            cell_true[c] += 1
            if r:
                by_type_recorded[t] += 1
                cell_recorded[c] += 1
                n_recorded += 1
                prev += _IS_PREV[t]
        self.day("preventable_cases", hour, float(prev))
        self.day("effective_incidents", hour, float(n_recorded))

    def attended(self, call: Call, year: int) -> None:
        if 0 <= year < self.n_years:
            self._attended[year].append(call)

    def attended_in_year(self, year: int) -> list[Call]:
        return self._attended[year]

    def year_row(self, year: int, population: int) -> dict[str, float]:
        """All core metrics of one counted year."""
        c = {k: v[year] for k, v in self.counts.items()}
        g = lambda k: float(c.get(k, 0.0))  # noqa: E731
        rec = self.by_type_recorded[year]
        prev = float(rec[_PREV].sum())
        calls = self._attended[year]
        resp = np.array([x.arrived_at - x.time for x in calls])
        wait = np.array([x.dispatched_at - x.time for x in calls])
        recorded = float(rec.sum())
        row = {
            "population": population,
            "preventable_cases": prev,
            "calls_for_service": g("calls_for_service"),
            "effective_incidents": recorded + g("public_order_incidents"),
            "serious_violent": float(rec[CRIME_TYPES.index("robbery")]) + g("serious_assaults"),
            "homicides": g("homicides"),
            "clearance_rate": g("cases_cleared") / recorded if recorded else float("nan"),
            "response_time_median_min": float(np.median(resp)) if len(resp) else float("nan"),
            "response_time_p90_min": float(np.percentile(resp, 90)) if len(resp) else float("nan"),
            "cost_yuan": g("cost_yuan"),
            "staff_hours": g("staff_hours"),
        }
        for i, t in enumerate(CRIME_TYPES):
            row[f"recorded_{t}"] = float(rec[i])
        true = self.by_type_true[year]
        row["preventable_cases_true"] = float(true[_PREV].sum())
        row["offences_true"] = float(true.sum())
        for k in ("attempts_blocked", "attempts_displaced", "offences_displaced",
                  "detected_by_video", "cases_cleared", "arrests", "walk_in_services"):
            row[k] = g(k)
        row["calls_attended"] = float(len(calls))
        row["wait_time_median_min"] = float(np.median(wait)) if len(wait) else float("nan")
        for k in ("disputes_new", "disputes_found", "disputes_mediated", "disputes_resolved_by_police",
                  "disputes_settled_on_spot", "disputes_to_call", "disputes_violent", "volunteer_hours",
                  "grid_worker_visits"):
            row[k] = g(k)
        mediated, ok = g("disputes_mediated"), g("mediation_successes")
        row["mediation_success_rate"] = ok / mediated if mediated else float("nan")
        row["agreements_honoured_rate"] = g("agreements_honoured") / ok if ok else float("nan")
        row["sense_of_safety_pct"] = float(c["sense_of_safety_pct"]) if "sense_of_safety_pct" in c else float("nan")
        for k in sorted(c):
            if k.startswith("disputes_found_by_"):
                row[k] = g(k)
        row["preventable_cases_per_100k"] = prev / population * 1e5
        row["calls_for_service_per_100k"] = row["calls_for_service"] / population * 1e5
        return row
