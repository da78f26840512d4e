"""Police home visits (百万警进千万家, "a million police into ten million homes").

Daqing's police went door to door instead of waiting for disputes to be brought to them
("变坐等调解为上门调解") and, with police-accompanied mediation, resolved 8 215 disputes in
2021 (002_5234f462d53c6514.txt). The officer hours are not free: here a share of the
police stations' patrol units is taken off patrol and dispatch for the year, and their
officers visit households in their own station's jurisdiction instead. A visit to a
household with a live dispute may find it; a minor one is settled there and then (credited
to the police, so it counts in ``disputes_resolved_by_police``), anything bigger is referred
on like any found dispute. Fewer units on patrol means less guardianship and slower
responses — the trade-off the scenario measures.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.disputes import DiscoverySource, Resolver, visit_hazard
from sim.interventions.base import Cost, Intervention, InterventionParams
from sim.metrics import Metric

__all__ = ["HomeVisitParams", "HomeVisits"]


class HomeVisitParams(InterventionParams):
    share_of_patrol_units: float = Field(
        0.1, ge=0, le=1, description="Share of police-station patrol units moved from patrol to home visits "
        "(assumed)."
    )
    officers_per_unit: float = Field(
        2.0, gt=0, description="Officers crewing one patrol unit on duty [officers] (assumed)."
    )
    visiting_share_of_duty: float = Field(
        0.5, ge=0, le=1, description="Share of a moved unit's round-the-clock officer hours spent on "
        "visits; the rest is travel, records and night hours (assumed)."
    )
    visits_per_officer_hour: float = Field(
        0.5, ge=0, description="Household visits per officer hour; officers visit in pairs, about an "
        "hour a visit [visits/officer-hour] (assumed)."
    )
    find_prob_per_visit: float = Field(
        0.6, ge=0, le=1, description="Chance a visit to a household with a live dispute finds it (assumed)."
    )
    targeting_factor: float = Field(
        5.0, ge=1, description="How much likelier a visited household is to have a live dispute than a "
        "random one: officers visit households flagged by earlier calls, community police and "
        "special-population registers (assumed)."
    )
    on_spot_prob: float = Field(
        0.6, ge=0, le=1, description="Chance a found minor dispute is settled during the visit (assumed)."
    )
    honour_prob: float = Field(0.9, ge=0, le=1, description="Chance that settlement holds (assumed).")
    visited_relative_risk: float = Field(
        0.7, ge=0, le=1, description="Rate of new disputes and public-order incidents in a visited household, "
        "relative to before the visit, for ``prevention_days`` after it [×]. 1 (the pre-evidence model): visits "
        "only find disputes, they prevent nothing. Default 0.7 — assumed. Door-to-door police contact "
        "lowered perceived disorder and fear in the Houston/Newark fear-reduction experiments (Pate, "
        "Wycoff, Skogan & Sherman 1986), with weak effects on recorded crime; second-responder home visits "
        "after domestic violence did not "
        "lower repeat violence (Davis, Weisburd & Taylor 2008, Campbell review). Neither gives a size; "
        "Daqing reports effective incidents −10 % (002_5234f462d53c6514.txt).",
    )
    prevention_days: float = Field(
        90.0, gt=0, description="How long a visit's prevention lasts [days] (assumed)."
    )
    cost_yuan_per_visit: float = Field(
        30.0, ge=0, description="Transport and paperwork per visit [yuan]; officers' pay is already in "
        "the police budget (assumed)."
    )


def pick_units_to_move(fleet, city, n: int) -> np.ndarray:
    """``n`` police-station units to take off patrol, spread in proportion to each county's and
    each station beat's units (one at a time, from where the share still on patrol is highest);
    a county keeps its last unit.

    Returns:
        Unit indices (fewer than ``n`` if every county is down to one unit).
    """
    station = fleet.station_units()
    county, beat = fleet.county[station], fleet.beat[station]
    n_c, n_b = len(city.county_names), int(beat.max(initial=-1)) + 1
    county_all = np.bincount(county, minlength=n_c)
    beat_all = np.bincount(beat, minlength=n_b)
    left = np.ones(len(station), dtype=bool)
    moved = []
    for _ in range(n):
        by_county = np.bincount(county[left], minlength=n_c)
        share = np.where(by_county > 1, by_county / np.maximum(county_all, 1), -1.0)
        c = int(np.lexsort((-by_county, -share))[0])  # highest share on patrol, then most units
        if share[c] < 0:
            break
        in_c = left & (county == c)
        by_beat = np.bincount(beat[in_c], minlength=n_b)
        b_share = np.where(by_beat > 0, by_beat / np.maximum(beat_all, 1), -1.0)
        b = int(np.lexsort((-by_beat, -b_share))[0])
        i = int(np.flatnonzero(in_c & (beat == b))[-1])
        left[i] = False
        moved.append(station[i])
    return np.array(moved, dtype=np.int64)


def beat_cells(fleet, beat: int) -> np.ndarray:
    """Cells of a patrol beat (the station's jurisdiction, or several at small scales)."""
    return fleet.beat_cells(beat)


class HomeVisits(Intervention):
    key = "home_visits"
    Params = HomeVisitParams
    declares = (
        Metric("home_visits", "visits",
               "Household visits by police taken off patrol (百万警进千万家).", kind="reported"),
        Metric("patrol_units_moved_to_visits", "units",
               "Patrol units taken off patrol for home visits (0 before they start).", kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        city, fleet = ctx.city, ctx.fleet
        moved = pick_units_to_move(fleet, city, round(p.share_of_patrol_units * len(fleet.station_units())))
        fleet.retire(moved)
        self.units_moved = len(moved)
        per_unit = p.officers_per_unit * 24.0 * p.visiting_share_of_duty * p.visits_per_officer_hour
        self.visits_per_day = per_unit * len(moved)
        # Officers visit the households of the beat they used to patrol (their own jurisdiction).
        hazard = np.zeros(city.n_cells)
        for b in fleet.beat[moved]:
            hazard += visit_hazard(city, beat_cells(fleet, int(b)), per_unit, p.find_prob_per_visit,
                                   p.targeting_factor)
        ctx.disputes.add_discovery_source(DiscoverySource("home_visit", hazard, p.on_spot_prob, Resolver.POLICE,
                                                       p.honour_prob))
        if p.visited_relative_risk < 1:
            self._prevent(ctx, moved, per_unit)

    def _prevent(self, ctx, moved: np.ndarray, per_unit: float) -> None:
        """Fewer disputes and public-order incidents in the beats whose households are visited.

        Steady state: the share of a beat's incidents that arise in a household visited in the
        last ``prevention_days`` is visits per household × targeting × days (at most 1;
        officers visit flagged households, where incidents concentrate), and those arise at
        ``visited_relative_risk`` times the rate.
        """
        p, city, fleet = self.params, ctx.city, ctx.fleet
        first = np.concatenate([[0], np.cumsum(city.households)[:-1]])
        protected = np.zeros(city.n_cells)
        for b in fleet.beat[moved]:
            cells = beat_cells(fleet, int(b))
            households = float(city.households[cells].sum())
            if households > 0:
                protected[cells] += per_unit / households * p.targeting_factor * p.prevention_days
        protected = np.minimum(protected, 1.0)
        reduction = protected * (1 - p.visited_relative_risk)
        ctx.levers.disorder_factor *= 1 - reduction
        for c in np.flatnonzero(reduction > 0):
            hh = np.arange(first[c], first[c] + city.households[c])
            ctx.disputes.manage_households(hh, float(reduction[c]))

    def on_hour(self, ctx, hour: int, day_of_year: int) -> None:
        if hour % 24 == 0:
            ctx.count("home_visits", self.visits_per_day)

    def cost(self) -> Cost:
        # No new staff: the officers come off patrol (staff_on_duty 0 keeps staff_hours for added people).
        return Cost(0.0, getattr(self, "visits_per_day", 0.0) * 365.0 * self.params.cost_yuan_per_visit, 0.0)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        visits = ctx.total("home_visits", year)
        started = self.started(year)
        return {"home_visits": visits if visits is not None else 0.0,
                "patrol_units_moved_to_visits": float(self.units_moved) if started else 0.0}
