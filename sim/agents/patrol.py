"""Patrol units (巡逻警力): police and auxiliary police on duty, as a small structure of arrays.

Units are based at police stations (派出所) and at whatever dispatch bases interventions
add (street police stations, rapid-response points). Each hour a free unit whose dwell has
run out picks its next patrol cell within its beat: at a hot spot (weighted by recent
recorded incidents) with probability ``hotspot_share``, otherwise anywhere in the beat.
Units on a call are moved by the dispatcher (:mod:`sim.events.dispatch`). Units an
intervention *pins* (the hot-spot patrol's rota) are not moved here: the intervention places
them and reports, each hour, the unit-hours they spend at each cell (``visiting``: a rota unit
makes several short visits an hour); on a call they count at the scene like any unit.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from sim.params import Params
from sim.rng import event_keys, keyed_uniforms_hours, stream_key

__all__ = ["PolicingParams", "PatrolFleet", "station_unit_count", "patrol_guardianship", "units_present",
           "hotspot_pick", "uniform_pick"]

# Draws for every unit are hashed this many hours ahead in one array operation.
_DRAW_HOURS = 128
#: Recorded incidents every cell counts for in the hot-spot draw, so that a beat without any
#: recorded incident is patrolled uniformly rather than not at all [incidents] (assumed).
HOTSPOT_FLOOR = 1e-3


def units_present(cell, counted, visiting):
    """Units in each cell: ``visiting`` (unit-hours of pinned units' visits this hour) plus one for each
    counted unit (on patrol and not pinned, or at a scene) in its cell. :func:`_guarding` counts the same."""
    units = np.array(visiting, dtype=np.float64)
    np.add.at(units, cell[counted], 1.0)
    return units


def patrol_guardianship(units_here, units_next_door, spill):
    """Patrol guardianship in a cell: the units in it and ``spill`` of each unit in the cells around it."""
    return units_here + spill * units_next_door


def hotspot_pick(heat, u):
    """The hot-spot move's cell among a beat's cells (their ``heat``, in beat order), for a uniform ``u``.

    Each cell weighs its recorded heat plus :data:`HOTSPOT_FLOOR`; the pick is the first cell
    whose cumulative weight (summed in beat order) reaches ``u × total`` (the last cell at most).
    :func:`_move_units` walks the same sums in a loop.
    """
    cum = np.cumsum(np.asarray(heat, dtype=np.float64) + HOTSPOT_FLOOR)
    return min(int(np.searchsorted(cum, u * cum[-1], side="left")), len(cum) - 1)


def uniform_pick(u, n):
    """The uniform move's cell among ``n``: the k-th with k < u·n ≤ k + 1 (the first for u = 0)."""
    return max(int(np.ceil(u * n)) - 1, 0)


_patrol_guardianship = njit(cache=True)(patrol_guardianship)
_uniform_pick = njit(cache=True)(uniform_pick)


class PolicingParams(Params):
    """Baseline police resources and how patrols choose where to go."""


    units_per_100k_residents: float = Field(
        4.0, ge=0, le=1_000, description="Patrol units on duty at any hour per 100 000 residents, shared "
        "among police stations by jurisdiction population (assumed; at most 1 000, one unit for every 100 "
        "residents: every unit is an agent moved each hour)."
    )
    hotspot_share: float = Field(
        0.4, ge=0, le=1, description="Share of patrol moves directed at hot spots (assumed)."
    )
    dwell_hours: int = Field(1, ge=1, description="Hours a unit stays in a patrol cell.")
    heat_half_life_days: float = Field(
        14.0, gt=0, description="Half-life of recorded incidents in the hot-spot map [days]."
    )
    existing_cameras_per_1000: float = Field(
        8.0, ge=0, le=1_000, description="Cameras already installed per 1 000 residents, placed at hot "
        "spots and on main roads (assumed; 雪亮工程 networks; at most one per resident)."
    )
    camera_density_for_63pct: float = Field(
        40.0, gt=0, description="Cameras per km² that cover 63 % of a cell (coverage = "
        "1 − exp(−density / this)) (assumed)."
    )


def station_unit_count(city, params: PolicingParams) -> int:
    """Baseline patrol units on duty at the police stations: ``units_per_100k_residents`` of the city's residents."""
    return round(params.units_per_100k_residents * city.population / 1e5)


class PatrolFleet:
    """All patrol units. Beats are sets of cells; index 0..n_towns-1 are police-station beats.

    Args:
        city: The city.
        params: Policing parameters.
        seed: The run's seed.
    """

    def __init__(self, city, params: PolicingParams, seed: int):
        self.city = city
        self.p = params
        self.seed = seed
        self.base_cell = np.zeros(0, dtype=np.int64)
        self.cell = np.zeros(0, dtype=np.int64)
        self.county = np.zeros(0, dtype=np.int64)
        self.beat = np.zeros(0, dtype=np.int64)
        self.busy = np.zeros(0, dtype=bool)
        self.retired = np.zeros(0, dtype=bool)  # taken off patrol (e.g. moved to home visits)
        self.pinned = np.zeros(0, dtype=bool)  # placed by an intervention (hot-spot rota), not by reposition
        self.visiting = np.zeros(city.n_cells)  # pinned units' unit-hours at each cell this hour (set by them)
        self.dwell_until = np.zeros(0, dtype=np.int64)
        self.hotspot_share = np.zeros(0)
        self.uid = np.zeros(0, dtype=np.uint64)
        self.kind: list[str] = []
        self._beats: list[np.ndarray] = []
        self._beat_matrix = np.zeros((0, 1), dtype=np.int64)  # beats × cells, padded with −1
        self._beat_len = np.zeros(0, dtype=np.int64)  # cells per beat
        self._keys = np.zeros(0, dtype=np.uint64)  # counter-based draw keys: patrol.mode, then patrol.cell
        self._draws = np.zeros((0, 0))  # keyed_uniforms(_keys, h) for hours h = _draws_from, ...
        self._draws_from = 0
        for t in range(len(city.town_county)):
            self.add_beat(np.flatnonzero(city.town == t))

    @property
    def n(self) -> int:
        return len(self.cell)

    def add_beat(self, cells: np.ndarray) -> int:
        """Register a set of cells as a beat; returns its id."""
        self._beats.append(np.asarray(cells, dtype=np.int64))
        width = max(len(b) for b in self._beats)
        m = np.full((len(self._beats), width), -1, dtype=np.int64)
        for i, b in enumerate(self._beats):
            m[i, : len(b)] = b
        self._beat_matrix = m
        self._beat_len = (m >= 0).sum(axis=1)
        return len(self._beats) - 1

    def beat_cells(self, beat: int) -> np.ndarray:
        """Cells of a beat (a station's jurisdiction, several merged at small scales, or a post's area)."""
        return self._beats[beat]

    def add_units(self, base_cells: np.ndarray, beats: np.ndarray, kind: str,
                  hotspot_share: float | None = None) -> np.ndarray:
        """Add units based at ``base_cells`` patrolling ``beats``; returns their indices.

        Each unit's random draws are keyed by ``kind`` and its number within the kind, so
        adding units of one kind never changes another kind's draws.
        """
        base_cells = np.asarray(base_cells, dtype=np.int64)
        k = len(base_cells)
        first = self.n
        already = sum(1 for x in self.kind if x == kind)
        self.base_cell = np.concatenate([self.base_cell, base_cells])
        self.cell = np.concatenate([self.cell, base_cells])
        self.county = np.concatenate([self.county, self.city.county[base_cells].astype(np.int64)])
        self.beat = np.concatenate([self.beat, np.asarray(beats, dtype=np.int64)])
        self.busy = np.concatenate([self.busy, np.zeros(k, dtype=bool)])
        self.retired = np.concatenate([self.retired, np.zeros(k, dtype=bool)])
        self.pinned = np.concatenate([self.pinned, np.zeros(k, dtype=bool)])
        self.dwell_until = np.concatenate([self.dwell_until, np.zeros(k, dtype=np.int64)])
        share = self.p.hotspot_share if hotspot_share is None else hotspot_share
        self.hotspot_share = np.concatenate([self.hotspot_share, np.full(k, share)])
        uid = np.uint64(stream_key(kind)) * np.uint64(1_000_000) + np.arange(already, already + k,
                                                                            dtype=np.uint64)
        self.uid = np.concatenate([self.uid, uid])
        self.kind.extend([kind] * k)
        return np.arange(first, first + k)

    def retire(self, units: np.ndarray) -> None:
        """Take units off patrol and dispatch (they finish a call in hand first)."""
        self.retired[units] = True

    def pin(self, units: np.ndarray) -> None:
        """Let an intervention place ``units`` (they stay on dispatch); their time at cells off a call
        is what the intervention writes in :attr:`visiting` each hour."""
        self.pinned[units] = True

    def presence(self) -> np.ndarray:
        """Units present in each cell (patrolling, visiting, or at a scene): :func:`units_present`."""
        return units_present(self.cell, ~self.retired & (~self.pinned | self.busy), self.visiting)

    def guarding(self, spill: float) -> tuple[np.ndarray, np.ndarray]:
        """Units present in each cell, and their guardianship (:func:`patrol_guardianship`, with the
        units in the neighbouring cells; unit counts are whole numbers: every sum is exact)."""
        n = len(self.city.neighbours)
        units, guard = np.empty(n), np.empty(n)  # filled by the kernel (cheaper than its returning new arrays)
        _guarding(self.cell, self.retired, self.pinned, self.busy, self.visiting, self.city.neighbours, spill, units,
                  guard)
        return units, guard

    def reposition(self, hour: int, heat: np.ndarray) -> None:
        """Move free units whose dwell is over to their next patrol cell.

        A unit goes to a hotspot of its beat (weighted by recorded incidents) with its
        ``hotspot_share``, otherwise to a cell of the beat drawn uniformly. Pinned units stay put.
        """
        if len(self._keys) != 2 * self.n:
            self._keys = np.concatenate([event_keys(self.seed, "patrol.mode", self.uid),
                                         event_keys(self.seed, "patrol.cell", self.uid)])
            self._draws = np.zeros((0, 0))
        placed = self.retired | self.pinned  # units reposition does not move
        _move_units(hour, self.busy, placed, self.dwell_until, self.cell, self.beat, self.hotspot_share,
                    self._draws_at(hour), self._beat_matrix, self._beat_len, heat, self.p.dwell_hours)

    def _draws_at(self, hour: int) -> np.ndarray:
        """``keyed_uniforms(self._keys, hour)``: each unit's mode draw, then its cell draw.

        Hashes every unit for :data:`_DRAW_HOURS` hours at a time: one array operation
        instead of a dozen small ones every hour.
        """
        k = hour - self._draws_from
        if not 0 <= k < len(self._draws):
            self._draws = keyed_uniforms_hours(self._keys, hour, _DRAW_HOURS)
            self._draws_from, k = hour, 0
        return self._draws[k]

    def add_station_units(self, total: int) -> np.ndarray:
        """Add ``total`` baseline units to the police stations; returns their indices.

        Each county gets units in proportion to its residents, at least one. Within a county,
        if there are at least as many units as stations, every station gets units in
        proportion to its jurisdiction's residents and they patrol that jurisdiction. If there
        are fewer (small scales), the most populous stations host the units and every other
        station's jurisdiction joins the beat of the nearest host, so no area goes unpatrolled
        and patrol density does not depend on scale.
        """
        from sim.space.city import apportion

        city = self.city
        n_towns = len(city.town_county)
        pop = np.bincount(city.town, weights=city.residents, minlength=n_towns)
        n_counties = len(city.county_names)
        county_pop = np.bincount(city.town_county, weights=pop, minlength=n_counties)
        if total <= 0:
            return np.zeros(0, dtype=np.int64)
        per_county = np.maximum(1, apportion(total, county_pop))
        bases: list[int] = []
        beats: list[int] = []
        for c in range(n_counties):
            towns = np.flatnonzero(city.town_county == c)
            k = int(per_county[c])
            if k >= len(towns):
                n = apportion(k, pop[towns])
                bases += list(np.repeat(city.station_cell[towns], n))
                beats += list(np.repeat(towns, n))
                continue
            hosts = towns[np.argsort(-pop[towns], kind="stable")[:k]]
            host_cells = city.station_cell[hosts]
            nearest = np.array([np.argmin(city.distance_km(city.station_cell[t], host_cells)) for t in towns])
            for j, h in enumerate(hosts):
                cells = np.flatnonzero(np.isin(city.town, towns[nearest == j]))
                bases.append(int(city.station_cell[h]))
                beats.append(self.add_beat(cells))
        return self.add_units(np.array(bases), np.array(beats), kind="police_station")


@njit(cache=True)
def _move_units(hour, busy, placed, dwell_until, cell, beat, hotspot_share, u, beat_matrix, beat_len, heat,
                dwell_hours):
    """Move every free unit whose dwell is over (compiled: a few units, every hour of every run).

    ``u`` holds each unit's mode draw, then each unit's cell draw. A hot-spot move picks the
    cell :func:`hotspot_pick` picks, a uniform move the cell :func:`uniform_pick` picks.
    """
    n = len(cell)
    for i in range(n):
        if busy[i] or placed[i] or dwell_until[i] > hour:  # placed: retired, or pinned by an intervention
            continue
        b = beat[i]
        length = beat_len[b]
        x = u[i + n]
        if u[i] < hotspot_share[i]:
            total = 0.0
            for j in range(length):
                total += heat[beat_matrix[b, j]] + HOTSPOT_FLOOR
            target = x * total
            pick = 0
            cum = heat[beat_matrix[b, 0]] + HOTSPOT_FLOOR
            while cum < target and pick < length - 1:
                pick += 1
                cum += heat[beat_matrix[b, pick]] + HOTSPOT_FLOOR
        else:
            pick = _uniform_pick(x, length)
        cell[i] = beat_matrix[b, pick]
        dwell_until[i] = hour + dwell_hours


@njit(cache=True)
def _guarding(cell, retired, pinned, busy, visiting, neighbours, spill, units, guard):
    # PatrolFleet.guarding, compiled (every hour of every run), into ``units`` (units_present) and ``guard``.
    units[:] = visiting
    for i in range(len(cell)):
        if not retired[i] and (not pinned[i] or busy[i]):
            units[cell[i]] += 1.0
    for c in range(len(neighbours)):
        nearby = 0.0
        for nb in neighbours[c]:
            if nb >= 0:
                nearby += units[nb]
        guard[c] = _patrol_guardianship(units[c], nearby, spill)
