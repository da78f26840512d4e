"""Grid workers (网格员): one per grid, walking their grid's households every day.

Jincheng staffed all 3 212 village/community grids and 937 dedicated grids
(001_b31210ca73dc4a0f.txt); Daqing funded full-time grid workers (002_5234f462d53c6514.txt).
On daily rounds a worker visits households; each visit may find a live dispute (settled on
the spot if minor, otherwise reported as a ticket) and turns up other items — hazards and
special-population problems — that go to the governance centres as tickets. Workers in
dedicated grids (schools, markets, industrial parks) report items but visit no households.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.disputes import DiscoverySource, Resolver
from sim.interventions.base import Cost, Intervention, InterventionParams, scaled_count
from sim.params import MAX_POPULATION
from sim.rng import event_uniform, stream

__all__ = ["GridWorkerParams", "GridWorkers"]


class GridWorkerParams(InterventionParams):
    workers_per_grid: float = Field(1.0, ge=0, le=20, description="Grid workers per residential grid (staffing; "
                                    "at most 20: a grid is a few hundred households with one worker).")
    dedicated_grids: int | None = Field(
        None, ge=0, le=MAX_POPULATION,
        description="Dedicated grids at full scale; default: the city preset's (Jincheng 937)."
    )
    visits_per_worker_day: float = Field(12.0, ge=0, le=100, description="Household visits per worker per day "
                                         "(assumed; at most 100, one every seven minutes of a 12-hour day: every "
                                         "visit of a day is drawn at once).")
    find_prob_per_visit: float = Field(
        0.5, ge=0, le=1, description="Chance a visit to a household with a live dispute finds it (assumed)."
    )
    on_spot_prob: float = Field(
        0.5, ge=0, le=1, description="Chance a found minor dispute is settled on the spot (assumed)."
    )
    on_spot_honour_prob: float = Field(0.95, ge=0, le=1, description="Chance that settlement holds (assumed).")
    other_items_per_1000_visits: float = Field(
        3.0, ge=0, le=1_000, description="Hazards and special-population problems reported per 1 000 visits "
        "(assumed; Jincheng's centres receive 100 000+ items a year; at most one per visit)."
    )
    escalated_share: float = Field(
        1.0, ge=0, le=1, description="Share of the items a grid worker logs (hazards, special-population "
        "problems, found disputes not settled on the spot) escalated to the governance platform as "
        "tickets; the rest are handled in the grid (disputes go to the village mediation committee) and "
        "only counted in ``grid_items_logged``. Default 1: every item is a ticket (the pre-evidence "
        "model). Evidence-based value (set in the Daqing scenario): 0.2 — fit to Daqing's 18 400 grid items "
        "accepted by the platform (002_5234f462d53c6514.txt, 受理网格事项) against the ~80 000 the "
        "model's workers log; assumed, the seeds do not say what share of logged items is escalated.",
    )
    dedicated_items_per_day: float = Field(0.5, ge=0, description="Items a dedicated-grid worker reports a day.")
    cost_yuan_per_worker_year: float = Field(
        50_000.0, ge=0, description="Full-time grid worker's pay and kit per year (assumed)."
    )


class GridWorkers(Intervention):
    key = "grid_workers"
    Params = GridWorkerParams

    def activate(self, ctx) -> None:
        p = self.params
        city, res = ctx.city, ctx.residents
        # Households per grid, per cell: a visit rate per household, then a daily finding hazard.
        grid_households = np.bincount(res.grid, minlength=res.n_grids) / np.maximum(
            1.0, city.residents.sum() / max(city.households.sum(), 1))
        cell_grid_hh = np.bincount(res.home_cell, weights=grid_households[res.grid], minlength=city.n_cells)
        mean_grid_hh = cell_grid_hh / np.maximum(city.residents, 1)
        visit_rate = p.workers_per_grid * p.visits_per_worker_day / np.maximum(mean_grid_hh, 1.0)
        hazard = np.where(city.residents > 0, visit_rate * p.find_prob_per_visit, 0.0)
        ctx.disputes.add_discovery_source(DiscoverySource("grid_worker", hazard, p.on_spot_prob,
                                                       Resolver.ON_THE_SPOT, p.on_spot_honour_prob,
                                                       p.escalated_share, "grid_items_logged"))
        self.workers = p.workers_per_grid * res.n_grids
        dedicated = city.params.dedicated_grids if p.dedicated_grids is None else p.dedicated_grids
        self.dedicated = scaled_count(dedicated, ctx.scale)
        self.visits_per_day = self.workers * p.visits_per_worker_day
        # Items per day per cell ∝ visits there; dedicated grids sit on busy, non-residential cells.
        self._item_rate = self.visits_per_day * p.other_items_per_1000_visits / 1000.0 * (
            city.residents / max(city.residents.sum(), 1))
        busy = city.attraction * (city.land_use <= 4)
        self._dedicated_rate = self.dedicated * p.dedicated_items_per_day * busy / max(busy.sum(), 1.0)
        self._rng = stream(ctx.seed, "grid_workers.items")

    def on_hour(self, ctx, hour: int, day_of_year: int) -> None:
        if hour % 24:
            return
        ctx.count("grid_worker_visits", self.visits_per_day)
        counts = self._rng.poisson(self._item_rate + self._dedicated_rate)
        cells = np.repeat(np.arange(len(counts)), counts)
        kinds = np.where(self._rng.random(len(cells)) < 0.5, "hazard", "special_population")
        day = hour // 24
        ctx.count("grid_items_logged", len(cells))
        share = self.params.escalated_share
        for i, (c, k) in enumerate(zip(cells, kinds, strict=True)):
            uid = (1 << 55) + day * 100_000 + i
            if share < 1 and event_uniform(ctx.seed, "grid_workers.escalate", uid) >= share:
                continue  # handled in the grid, never reaches the platform
            ctx.disputes.report_ticket(str(k), int(c), uid)

    def cost(self) -> Cost:
        n = getattr(self, "workers", 0.0) + getattr(self, "dedicated", 0)
        return Cost(0.0, n * self.params.cost_yuan_per_worker_year, n * 8 / 24)
