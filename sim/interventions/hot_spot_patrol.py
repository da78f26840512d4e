"""Hot-spot patrol (热点巡逻, 定点巡防): short, randomly ordered patrol stops at a fixed set of hot spots.

The Minneapolis hot-spots experiment (Sherman & Weisburd 1995) chose 110 hot spots from a
year of calls, and for a year gave 55 of them, drawn at random, about twice the observed
patrol presence, as intermittent stops in an unpredictable order; total crime calls there fell
6–13 % relative to the control spots. Koper (1995) timed the stops: the longer police stayed,
the longer a spot stayed free of crime and disorder after they left, up to about 10–15 minutes.
Braga et al. (2019, Campbell review) find a small, significant effect across such trials.

Here the hot spots are chosen once, when the intervention starts: the cells with the most
police-recorded offences in the previous counted year (the current hot-spot map where there is
none), or a given list of cells. Some patrol units — a share of the police stations' units, the
nearest to the hot spots, and/or extra units — are put on a rota: each visits the hot spots one
after another in random order, drives there (the dispatcher's travel time), stays
``dwell_minutes`` and moves on. Their stops are guardianship and remembered presence at the
spot for the minutes they last (:attr:`sim.agents.patrol.PatrolFleet.visiting`); they still
answer calls and resume the rota afterwards. After each stop the time to the next recorded
offence at that spot is recorded (Koper's "survival time"). The hot spots are the treated
cells, so the package comparison's rings measure displacement and diffusion around them.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from sim.interventions.base import Cost, Intervention, InterventionParams, MapMarker, scaled_count
from sim.interventions.siting import SitingProfile, check_given_sites, given_sites, sites_field
from sim.metrics import Metric
from sim.params import MAX_SITES, MAX_UNITS_PER_SITE
from sim.rng import event_uniform

__all__ = ["HotSpotPatrolParams", "HotSpotPatrol"]


class HotSpotPatrolParams(InterventionParams):
    hot_spots: int = Field(
        55, ge=0, le=MAX_SITES, description="Hot spots treated at full scale, the top cells by recorded "
        "offences (Sherman & Weisburd 1995: 55 treated of 110 Minneapolis hot spots)."
    )
    cells: list[int] | None = Field(
        None, description="Treat these cells instead of the top ones (cell indices of the scenario's city "
        "at the run's scale)."
    )
    placement: Literal["top_cells", "given"] = Field(
        "top_cells", description="The top cells by recorded offences (or ``cells``), or the given ``sites``."
    )
    sites: list[list[float]] | None = sites_field()
    dwell_minutes: float = Field(
        15.0, gt=0, le=600, description="Minutes a unit stays at a hot spot per stop [minutes] (Koper 1995: "
        "about 10–15 minutes is optimal)."
    )
    share_of_patrol_units: float = Field(
        0.0, ge=0, le=1, description="Share of the police stations' patrol units put on the hot-spot rota, "
        "those based nearest the hot spots; a county keeps at least one unit on ordinary patrol. Ordinary "
        "patrol already favours hot spots, so moved units add little there and leave their beats "
        "(at scale 0.1, 0.1 of the units: hot spots +2 %, adjacent cells +30 % recorded offences)."
    )
    units: int = Field(
        20, ge=0, le=MAX_UNITS_PER_SITE, description="Extra patrol units added for the rota at full scale "
        "[units]; 20 for 55 hot spots about doubles patrol presence there, as in Minneapolis (Sherman & "
        "Weisburd 1995) (assumed)."
    )
    running_cost_yuan_per_extra_unit_year: float = Field(
        600_000.0, ge=0, description="Crew, vehicle and fuel of one extra unit on duty round the clock per "
        "year [yuan] (assumed)."
    )
    officers_per_unit: float = Field(2.0, gt=0, description="Officers crewing one unit on duty (assumed).")

    def check(self, city) -> None:
        if self.cells is not None and any(c < 0 for c in self.cells):
            raise ValueError("interventions.hot_spot_patrol.cells: expected cell indices >= 0")
        check_given_sites(self.placement, self.sites, "hot_spot_patrol")


class HotSpotPatrol(Intervention):
    key = "hot_spot_patrol"
    Params = HotSpotPatrolParams
    map_marker = MapMarker("hot-spot patrol spot", "o", "tab:red", 20.0)
    #: Patrol stops treat the spot's own cell, chosen for its recorded offences.
    siting: ClassVar[SitingProfile] = SitingProfile("hot_spots", "incidents", 0.0)
    declares = (
        Metric("hot_spot_cells", "cells", "Hot spots on the patrol rota (0 before it starts).", kind="reported"),
        Metric("hot_spot_stops", "stops", "Rota stops at hot spots completed in the year.", kind="reported"),
        Metric("hot_spot_offences", "offences",
               "Police-recorded offences in the hot spots (NaN before they are chosen).", kind="reported"),
        Metric("hot_spot_survival_h", "hours",
               "Median time from a rota unit leaving a hot spot to the next recorded offence there (Koper's "
               "survival time; stops with no later offence in the run are left out) (NaN without any).",
               kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        city, fleet = ctx.city, ctx.fleet
        self.cells = self._choose_cells(ctx)
        n_cells = len(self.cells)
        on_patrol = len(fleet.station_units(include_pinned=False))
        rota = self._station_units(ctx, round(p.share_of_patrol_units * on_patrol))
        extra = scaled_count(p.units, ctx.scale) if n_cells else 0
        if extra:
            bases = self.cells[np.arange(extra) % n_cells]
            rota = np.concatenate([rota, fleet.add_units(bases, city.town[bases], kind=self.key)])
        self.rota = rota.astype(np.int64)
        self.n_extra = extra
        fleet.pin(self.rota)
        n = len(self.rota)
        self._spot = np.full(n, -1)  # index into self.cells of the current or next stop
        self._arrive = np.zeros(n)  # minute the unit reaches that stop
        self._leave = np.zeros(n)  # minute it leaves it
        self._stops = np.zeros(n, dtype=np.int64)  # stops drawn so far (the random order's counter)
        self._interrupted = np.ones(n, dtype=bool)  # must (re)start the rota from where it is
        self._seen = np.zeros(n_cells)  # recorded offences at each spot so far (this year)
        self._seen_year = -1
        self._waiting: list[list[float]] = [[] for _ in range(n_cells)]  # departures awaiting an offence
        self._survival: dict[int, list[float]] = {}  # hours, by the counted year of the departure
        self._stops_by_year: dict[int, int] = {}

    # ------------------------------------------------------------------ choosing
    def _choose_cells(self, ctx) -> np.ndarray:
        p, city = self.params, ctx.city
        if p.placement == "given":
            return np.unique(given_sites(city, p.sites, self.key))
        if p.cells is not None:
            bad = [c for c in p.cells if c >= city.n_cells]
            if bad:
                raise ValueError(f"interventions.hot_spot_patrol.cells: {bad} not in a city of {city.n_cells} cells")
            return np.unique(np.asarray(p.cells, dtype=np.int64))
        all_cells = np.arange(city.n_cells)
        year = ctx.year
        recent = ctx.incidents.site_score(all_cells)  # decayed recorded incidents, then footfall: breaks ties
        last = ctx.incidents.recorded[year - 1] if year > 0 else recent
        n = min(scaled_count(p.hot_spots, ctx.scale), city.n_cells)
        return np.sort(np.lexsort((-recent, -last))[:n]).astype(np.int64)

    def _station_units(self, ctx, n: int) -> np.ndarray:
        """``n`` police-station units based nearest the hot spots; each county keeps one on patrol."""
        fleet, city = ctx.fleet, ctx.city
        free = fleet.station_units(include_pinned=False)
        if n <= 0 or len(free) == 0 or len(self.cells) == 0:
            return np.zeros(0, dtype=np.int64)
        dist = np.array([city.distance_km(int(fleet.base_cell[u]), self.cells).min() for u in free])
        left = np.bincount(fleet.county[free], minlength=len(city.county_names))
        chosen = []
        for u in free[np.argsort(dist, kind="stable")]:
            if left[fleet.county[u]] > 1:
                chosen.append(u)
                left[fleet.county[u]] -= 1
                if len(chosen) == n:
                    break
        return np.array(chosen, dtype=np.int64)

    # ------------------------------------------------------------------ each hour
    def on_hour(self, ctx, hour: int, day_of_year: int) -> None:
        fleet = ctx.fleet
        # The fleet's arrays, read once: no unit is added during the hour.
        busy, retired, visiting, cell, uid = fleet.busy, fleet.retired, fleet.visiting, fleet.cell, fleet.uid
        visiting[self.cells] = 0.0
        self._note_offences(ctx, hour)
        start, end = hour * 60.0, hour * 60.0 + 60.0
        for j, u in enumerate(self.rota.tolist()):
            if busy[u] or retired[u]:
                self._interrupted[j] = True  # on a call: the rota resumes from the scene
                continue
            if self._interrupted[j]:
                self._next_stop(ctx, j, int(cell[u]), int(uid[u]), start)
                self._interrupted[j] = False
            while True:
                spot = int(self.cells[self._spot[j]])
                visiting[spot] += max(0.0, min(self._leave[j], end) - max(self._arrive[j], start)) / 60.0
                if self._leave[j] > end:
                    break
                self._depart(ctx, j, spot)
                cell[u] = spot
                self._next_stop(ctx, j, spot, int(uid[u]), self._leave[j])
            cell[u] = int(self.cells[self._spot[j]])  # where a dispatcher finds it this hour

    def _next_stop(self, ctx, j: int, here: int, unit_uid: int, now: float) -> None:
        """Draw rota unit ``j``'s next hot spot (uniformly, not the one it is at, ``here``) and when it gets there."""
        n = len(self.cells)
        u = event_uniform(ctx.seed, "hot_spot_patrol.next", unit_uid, int(self._stops[j]))
        self._stops[j] += 1
        current = self._spot[j]
        if n > 1 and current >= 0 and self.cells[current] == here:
            k = min(int(u * (n - 1)), n - 2)
            k += k >= current  # skip the spot it is leaving
        else:
            k = min(int(u * n), n - 1)
        self._spot[j] = k
        self._arrive[j] = now + float(ctx.fleet.travel_min(here, int(self.cells[k])))
        self._leave[j] = self._arrive[j] + self.params.dwell_minutes

    def _depart(self, ctx, j: int, spot_cell: int) -> None:
        year = ctx.year_of(self._leave[j] / 60.0)
        if year >= 0:
            self._stops_by_year[year] = self._stops_by_year.get(year, 0) + 1
            self._waiting[int(self._spot[j])].append(self._leave[j])

    def _note_offences(self, ctx, hour: int) -> None:
        """New recorded offences at the spots (last hour's): they end the survival of every stop before them."""
        year = ctx.year_of(hour - 1)
        if year < 0 or year >= ctx.n_years:
            return
        if year != self._seen_year:
            self._seen[:] = 0.0
            self._seen_year = year
        now = ctx.incidents.recorded[year][self.cells]
        hit = np.flatnonzero(now > self._seen)
        self._seen = now.copy()
        at = (hour - 1) * 60.0 + 30.0  # the middle of the hour the offences were recorded in
        for k in hit.tolist():
            keep = []
            for left in self._waiting[k]:
                if left <= at:
                    y = ctx.year_of(left / 60.0)
                    self._survival.setdefault(y, []).append((at - left) / 60.0)
                else:
                    keep.append(left)
            self._waiting[k] = keep

    # ------------------------------------------------------------------ accounting
    def treated_cells(self) -> np.ndarray:
        return np.asarray(getattr(self, "cells", []), dtype=np.int64)

    def cost(self) -> Cost:
        n = getattr(self, "n_extra", 0)
        p = self.params
        return Cost(0.0, n * p.running_cost_yuan_per_extra_unit_year, n * p.officers_per_unit)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        nan = float("nan")
        cells = getattr(self, "cells", None)
        if cells is None:
            return {"hot_spot_cells": 0.0, "hot_spot_stops": 0.0, "hot_spot_offences": nan, "hot_spot_survival_h": nan}
        started = self.started(year)
        times = self._survival.get(year, [])
        return {"hot_spot_cells": float(len(cells)) if started else 0.0,
                "hot_spot_stops": float(self._stops_by_year.get(year, 0)),
                "hot_spot_offences": float(ctx.incidents.recorded[year][cells].sum()),
                "hot_spot_survival_h": float(np.median(times)) if times else math.nan}
