"""Calls for service (接警): reported offences and non-crime calls.

An offence is reported with a probability and after a delay that depend on its type;
an unreported offence in a camera-covered cell may still be picked up by video monitoring,
and called in at once where the cameras are watched live (``Levers.watched_live``).
Non-crime calls — public-order trouble, requests for help, traffic, disputes and invalid
calls — arrive in proportion to the people present in each cell. Public-order calls
count as effective incidents (有效警情) together with recorded crimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import Field

from sim.mechanisms.crime_types import ASSAULT, CRIME_TYPES, ROBBERY
from sim.mechanisms.offending import Offences
from sim.params import NonNegative, Params, Positive, Probability
from sim.rng import event_uniforms, log_logistic, stream

__all__ = ["NON_CRIME_KINDS", "CallParams", "Call", "Calls"]

NON_CRIME_KINDS: tuple[str, ...] = ("public_order", "assistance", "traffic", "dispute", "invalid")
_CRIME_ID_BASE = 10**13
_HOUR_PROFILE_CALLS = [0.5, 0.35, 0.25, 0.2, 0.2, 0.3, 0.5, 0.8, 1.1, 1.2, 1.3, 1.3, 1.2, 1.2,
                       1.3, 1.3, 1.3, 1.4, 1.5, 1.5, 1.4, 1.2, 0.9, 0.7]
# Dispatch priority of non-crime calls: 2 normal, 3 non-urgent, 0 invalid (never dispatched).
_NON_CRIME_PRIORITY = {"public_order": 2, "assistance": 3, "traffic": 2, "dispute": 3, "invalid": 0}


class CallParams(Params):
    """Reporting of offences and the volume of non-crime calls."""


    report_prob: dict[str, Probability] = Field(
        default={"burglary": 0.75, "theft": 0.45, "robbery": 0.85, "vehicle_crime": 0.6,
                 "fraud": 0.55, "assault": 0.6},
        description="Chance a victim or witness reports the offence (assumed; victimisation "
        "surveys report 30–80 % by type).",
    )
    report_delay_median_min: dict[str, Positive] = Field(
        default={"burglary": 150.0, "theft": 45.0, "robbery": 8.0, "vehicle_crime": 240.0,
                 "fraud": 600.0, "assault": 6.0},
        description="Median delay from offence to call [minutes] (assumed).",
    )
    report_delay_shape: float = Field(
        1.5, gt=0, description="Shape of the log-logistic reporting delay (assumed)."
    )
    record_prob: float = Field(
        0.9, ge=0, le=1, description="Share of reported offences the police file as cases (assumed)."
    )
    camera_detect_prob: float = Field(
        0.25, ge=0, le=1, description="Chance video monitoring detects an unreported offence in a "
        "fully covered cell (assumed)."
    )
    camera_detect_by_type: dict[str, NonNegative] = Field(
        default={"burglary": 0.3, "theft": 1.0, "robbery": 1.0, "vehicle_crime": 1.0, "fraud": 0.0,
                 "assault": 1.0},
        description="Multiplier of ``camera_detect_prob`` by crime type (1.0 for every type in the pre-evidence "
        "model). Cameras see street offences, not what happens indoors or remotely: evidence-based values give "
        "fraud 0 (telecom fraud is remote) and burglary less (indoors; entry may be seen) (assumed).",
    )
    non_crime_per_1000_year: dict[str, Annotated[float, Field(ge=0, le=10_000)]] = Field(
        default={"public_order": 9.0, "assistance": 16.0, "traffic": 11.0, "dispute": 2.0,
                 "invalid": 6.0},
        description="Non-crime calls per 1 000 residents per year (assumed; calibrated to 接警量). "
        "Household disputes that escalate to a call come from sim.disputes; 'dispute' "
        "here is quarrels between strangers. At most 10 000 of a kind, ten a resident a year (the "
        "defaults sum to 44): every call is an event, kept until its year is summarised.",
    )
    hour_profile: list[float] = Field(
        default=_HOUR_PROFILE_CALLS, min_length=24, max_length=24,
        description="Relative rate of non-crime calls by hour of day (assumed).",
    )
    disorder_kinds: list[str] = Field(
        default=["public_order", "dispute"], description="Non-crime call kinds behind which are "
        "public-order incidents that visible police presence and home visits can prevent (public-order "
        "trouble, quarrels between strangers).",
    )
    disorder_reduction_per_post_officer: float = Field(
        0.15, ge=0, description="Prevention of public-order incidents by officers on fixed posts (street "
        "police stations, rapid-response points, campaign officers) [per officer within "
        "``disorder_reach_km``]: the rate of ``disorder_kinds`` calls in a cell is multiplied by "
        "exp(−this × officers on post within reach). 0 in the pre-evidence model (presence prevented none). "
        "Default 0.15 — assumed; visible "
        "police presence reduces disorder at hot spots (Braga, Turchan, Papachristos & Hureau 2019, "
        "Campbell review: hot-spot policing lowers crime and disorder calls, small effect; Braga, Welsh & "
        "Schnell 2015, disorder policing d≈0.2), and Suizhou's calls fell 23 % after its stations and "
        "points (003_d0d6d615d3c4e2fc.txt). The size is not from a study.",
    )
    disorder_reduction_per_patrol_unit: float = Field(
        0.0, ge=0, description="As ``disorder_reduction_per_post_officer``, per patrol unit-equivalent of "
        "patrol presence in the cell this hour [per unit]. Default 0 (assumed: patrol's effect on calls is "
        "the hot-spot patrol mechanism's).",
    )
    disorder_reach_km: float = Field(
        1.0, ge=0, description="Distance within which an officer on post prevents public-order incidents "
        "[km] (assumed: a station's walk-in reach).",
    )


@dataclass(slots=True)
class Call:
    """One call for service, from arrival to the end of police handling."""

    call_id: int
    time: float  # minutes since the start of the run
    cell: int
    county: int
    priority: int  # 1 urgent, 2 normal, 3 non-urgent, 0 not dispatched
    kind: str
    crime_type: int = -1
    offender_slot: int = -1
    recorded: bool = False
    report_delay_h: float = 0.0
    dispatched_at: float = -1.0
    arrived_at: float = -1.0
    unit: int = -1
    dispute_row: int = -1


class Calls:
    """Turns offences into calls and generates non-crime calls.

    Args:
        params: Call parameters.
        city: The city.
        residents: The residents (presence by hour).
        seed: The run's seed.
        levers: The model's levers (posts, patrol presence, disorder factor), for the prevention
            of public-order incidents, and the cameras watched live; None: none of either.
    """

    def __init__(self, params: CallParams, city, residents, seed: int, levers=None):
        self.p = params
        self.city = city
        self.seed = seed
        self.levers = levers
        self._disorder_kinds = set(params.disorder_kinds)
        self._posts_seen: np.ndarray | None = None
        self._post_effect = np.ones(city.n_cells)
        self._rng = stream(seed, "calls.non_crime")
        self._report = np.array([params.report_prob.get(t, 0.5) for t in CRIME_TYPES])
        self._delay = np.array([params.report_delay_median_min.get(t, 60.0) for t in CRIME_TYPES])
        self._detect = np.array([params.camera_detect_by_type.get(t, 1.0) for t in CRIME_TYPES])
        rate = np.array([params.non_crime_per_1000_year.get(k, 0.0) for k in NON_CRIME_KINDS])
        profile = np.asarray(params.hour_profile) / np.mean(params.hour_profile)
        # Expected calls per hour of week, per kind, city-wide; cells in proportion to presence.
        pres = residents.presence
        self._cum_presence = np.cumsum(pres, axis=1)
        self._presence_total = self._cum_presence[:, -1].tolist()
        hod = np.arange(168) % 24
        self._expected = np.outer(profile[hod] * pres.sum(axis=1) / 1000.0 / 8760.0, rate)
        # Row by row as Python floats: a few scalar Poisson draws cost less than one array draw's
        # set-up, and take the same numbers from the stream in the same order.
        self._expected_rows = [row.tolist() for row in self._expected]
        self._next_id = 0
        self._cell_county = city.county.tolist()  # the city's cells never change county

    def report(self, off: Offences, hour: int, cameras: np.ndarray, alarms: np.ndarray | None = None):
        """Decide which offences are reported or detected by video.

        Returns:
            ``(calls, detected)``: calls for the reported offences (recorded flag set), and
            the indices into ``off`` of offences detected by video without a call.
        """
        n = len(off)
        if n == 0:
            return [], np.zeros(0, dtype=np.int64)
        s = self.seed
        key = off.offender_slot
        u_rep = event_uniforms(s, "calls.report", key, hour)
        u_del = event_uniforms(s, "calls.delay", key, hour)
        u_rec = event_uniforms(s, "calls.record", key, hour)
        u_min = event_uniforms(s, "calls.minute", key, hour)
        reported = (u_rep < self._report[off.crime_type]) | off.homicide
        delay = log_logistic(u_del, self._delay[off.crime_type], self.p.report_delay_shape)
        recorded = reported & ((u_rec < self.p.record_prob) | off.homicide)
        seen = self.p.camera_detect_prob * self._detect[off.crime_type] * cameras[off.cell]
        if alarms is not None:
            seen = np.maximum(seen, alarms[off.cell])
        detected = ~reported & (u_rec < seen)
        watched = None if self.levers is None else self.levers.watched_live
        if watched is not None:  # seen live: the operators call it in
            live = detected & watched[off.cell]
            if live.any():
                detected &= ~live
                reported = reported | live
                recorded = recorded | live
                delay = np.where(live, self.levers.live_call_delay_min, delay)
        # Per-call values as Python scalars, converted once per hour rather than element by
        # element (the same float operations, elementwise, as a per-call expression).
        idx = np.flatnonzero(reported)
        cells_l = off.cell[idx].tolist()
        slot = key[idx].tolist()
        crime_type = off.crime_type[idx].tolist()
        delay_r = delay[idx].tolist()
        times = (hour * 60.0 + u_min[idx] * 60.0 + delay[idx]).tolist()
        rec = recorded[idx].tolist()
        calls = []
        for j, (ct, d) in enumerate(zip(crime_type, delay_r, strict=True)):
            calls.append(Call(
                # Crime calls are numbered by offender and hour, non-crime calls by their own
                # counter, so a call's draws never depend on how many other calls there were.
                call_id=_CRIME_ID_BASE + slot[j] * 1_000_000 + hour,
                time=times[j], cell=cells_l[j], county=self._cell_county[cells_l[j]],
                priority=1 if (ct in (ROBBERY, ASSAULT) and d < 30) else 2,
                kind="crime", crime_type=ct, offender_slot=slot[j],
                recorded=rec[j], report_delay_h=d / 60.0,
            ))
        return calls, np.flatnonzero(detected)

    def non_crime(self, hour: int, hour_of_week: int) -> list[Call]:
        """Non-crime calls arriving during ``hour``."""
        poisson = self._rng.poisson
        counts = [poisson(lam) for lam in self._expected_rows[hour_of_week]]
        total = sum(counts)
        if total == 0:
            return []
        cum = self._cum_presence[hour_of_week]
        whole, last = self._presence_total[hour_of_week], len(cum) - 1
        # Two uniforms per call (its cell, its minute), drawn in one go in the order a
        # (total, 2) array would hold them; a handful of calls an hour, so element by element
        # in Python (the same float operations as the array expressions).
        u = self._rng.random(2 * total).tolist()
        first = self._next_id + 1
        self._next_id += total
        calls = []
        j = 0
        for kind, n in zip(NON_CRIME_KINDS, counts, strict=True):  # kinds in order, numbered consecutively
            for _ in range(n):
                cell = min(int(cum.searchsorted(u[2 * j] * whole, side="right")), last)
                calls.append(Call(call_id=first + j, time=hour * 60.0 + u[2 * j + 1] * 60.0, cell=cell,
                                  county=self._cell_county[cell], priority=_NON_CRIME_PRIORITY[kind], kind=kind,
                                  recorded=kind == "public_order"))
                j += 1
        if self.levers is not None:
            calls = self._prevent_disorder(calls)
        return calls

    def _disorder_rate(self) -> np.ndarray | None:
        """Relative rate of public-order incidents per cell (None where nothing prevents them)."""
        p, lv = self.p, self.levers
        k_post, k_patrol = p.disorder_reduction_per_post_officer, p.disorder_reduction_per_patrol_unit
        factor = None if (lv.disorder_factor == 1).all() else lv.disorder_factor
        if k_post > 0 and lv.posts.any():
            if self._posts_seen is None or not np.array_equal(self._posts_seen, lv.posts):
                # Officers on post within reach of each cell (posts change rarely: recomputed then).
                self._posts_seen = lv.posts.copy()
                near = np.zeros(self.city.n_cells)
                cand = np.arange(self.city.n_cells)
                for c in np.flatnonzero(lv.posts):
                    near[self.city.distance_km(int(c), cand) <= p.disorder_reach_km] += lv.posts[c]
                self._post_effect = np.exp(-k_post * near)
            factor = self._post_effect if factor is None else factor * self._post_effect
        if k_patrol > 0 and lv.patrol_presence.any():
            patrol = np.exp(-k_patrol * lv.patrol_presence)
            factor = patrol if factor is None else factor * patrol
        return factor

    def _prevent_disorder(self, calls: list[Call]) -> list[Call]:
        """Drop the public-order calls whose incidents presence or home visits prevented.

        A call is kept with chance equal to its cell's relative rate, drawn by call id: the
        same calls arrive in every scenario, and prevention only removes some.
        """
        kinds = self._disorder_kinds
        if not any(c.kind in kinds for c in calls):
            return calls
        rate = self._disorder_rate()
        if rate is None:
            return calls
        u = event_uniforms(self.seed, "calls.disorder_prevented", np.array([c.call_id for c in calls]))
        return [c for c, x in zip(calls, u, strict=True) if c.kind not in kinds or x < rate[c.cell]]
