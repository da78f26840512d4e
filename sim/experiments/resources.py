"""How much memory a run will need, estimated before anything is built, and how much the machine has.

A scenario's values are each bounded by what the model means (``sim.params``, ``sim.space.city``),
but values that are each plausible can still make a run too large for the machine: a
50-million-resident city at full scale, cells of 100 m over a province, a call for every
resident every day. :func:`check_resources` refuses such a batch before any run starts, with the
estimate, the part that dominates it and the keys that drive that part.

The estimate of one run (:func:`estimate_run_memory`) adds, to a fixed part (the Python process
with numpy, numba, Mesa, SimPy and pandas loaded), what grows with the city and the run:
residents (arrays of a few integers each), inhabited cells (hourly tables of a week per cell),
lattice positions, grids, attractor sites, calls for service (every attended call is kept until
the year's response times are summarised) and disputes (rows of the dispute book). The bytes per
item were measured on real runs (peak resident set size, ``benchmarks/memory_estimate.py``, which
also prints the estimate beside the measured peak of other runs). The estimate is meant to
catch runs that need several times what the machine has, not to budget the last 10 %.

Available memory is read portably from the operating system (``/proc/meminfo``'s
``MemAvailable``, a cgroup's limit when the process runs in a container, else
``os.sysconf``); where none of them exists the check is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sim.scenario.schema import Scenario
from sim.space.city import city_size

__all__ = ["MemoryEstimate", "ResourceError", "estimate_run_memory", "available_memory", "check_resources",
           "format_bytes", "RESULT_BYTES_PER_CELL_YEAR", "worker_count"]

MIB = 2**20


def worker_count(jobs: int) -> int:
    """Local worker processes for ``jobs``: every core for -1, else at least one (as the runner's local
    backend counts them)."""
    return (os.cpu_count() or 1) if jobs == -1 else max(1, jobs)

#: The Python process with the model's libraries loaded, before any city [bytes]. Measured: a run
#: of a 20 500-resident city (Suizhou at scale 0.01) peaks at 288 MiB.
FIXED_BYTES = 300 * MIB
#: Per resident [bytes]: home and daytime cells, household, grid, special population,
#: victimisations and the build's temporaries. Measured: about 70 (Suizhou at scale 0.2 and 0.4).
BYTES_PER_RESIDENT = 80
#: Per inhabited cell [bytes]: hourly presence, occupancy and opportunity tables of a week,
#: recorders, neighbours, and the cell's Python objects while the city is laid out. Measured: about
#: 19 KiB (Suizhou at scale 0.2 with cells of 0.5 and 0.25 km, and with urban density 500).
BYTES_PER_CELL = 20 * 1024
#: Per lattice position (occupied or not) [bytes]: the layout's occupancy (int64) and index (int32).
BYTES_PER_POSITION = 12
#: Per grid (网格) [bytes]: grid tables and the grid workers' rows. Measured: about 1 KiB
#: (residents_per_grid 1 at scale 0.05: 102 500 grids, +105 MiB).
BYTES_PER_GRID = 1024
#: Per attractor site [bytes]: its draw, rank and pull while the city is built.
BYTES_PER_SITE = 40
#: Per call for service over the whole run [bytes]: every attended call is kept for the year's
#: response-time distribution. Measured: about 330 (one million non-crime calls a year, +327 MiB).
BYTES_PER_CALL = 400
#: Per dispute over the whole run [bytes]: a row of the dispute book, whose arrays double when
#: full. Measured: about 130 (75 000 disputes, +10 MiB).
BYTES_PER_DISPUTE = 160
#: What a finished run keeps for maps and tables, per cell and counted year [bytes]: recorded and
#: true offences per cell (float64 each), plus the cell's coordinates and areas.
RESULT_BYTES_PER_CELL_YEAR = 48
#: Days of the daily series a finished run keeps, per day [bytes] (three float64 series).
_RESULT_BYTES_PER_DAY = 24


class ResourceError(ValueError):
    """A batch needs more memory than the machine has. The message gives the estimate and what drives it."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak memory of one run, by part.

    Attributes:
        parts: Bytes by part ("residents", "cells", ...).
        keys: For each part, the scenario keys or options that drive it.
    """

    parts: dict[str, int]
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def largest(self) -> str:
        """The part that needs the most memory, other than the fixed part."""
        grows = {k: v for k, v in self.parts.items() if k != "fixed"}
        return max(grows, key=grows.__getitem__)


def format_bytes(n: float) -> str:
    """Bytes in binary units, three significant figures (``7.6 GiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover - the loop returns


def estimate_run_memory(scenario: Scenario, scale: float = 1.0) -> MemoryEstimate:
    """Peak memory of one run of ``scenario`` at ``scale``, before anything is built (microseconds).

    Args:
        scenario: A validated scenario.
        scale: Fraction of the full city.
    """
    size = city_size(scenario.city, scale)
    years = scenario.run.years + scenario.run.warmup_days / 365.0
    calls = sum(scenario.calls.non_crime_per_1000_year.values()) / 1000.0 * size.residents * years
    d = scenario.disputes
    dispute_rate = sum(rate * max(d.land_use_multiplier.get(kind, {}).values(), default=1.0)
                       for kind, rate in d.per_1000_households_year.items())
    # At the largest land-use multiplier of each type: an upper bound that is about twice the real count.
    disputes = dispute_rate / 1000.0 * size.households * years
    parts = {
        "fixed": FIXED_BYTES,
        "residents": BYTES_PER_RESIDENT * size.residents,
        "cells": BYTES_PER_CELL * size.cells + size.build_bytes,
        "grids": BYTES_PER_GRID * size.grids,
        "attractor sites": BYTES_PER_SITE * size.attractor_sites,
        "calls for service": int(BYTES_PER_CALL * calls),
        "disputes": int(BYTES_PER_DISPUTE * disputes),
    }
    keys = {
        "fixed": "",
        "residents": "city.population and --scale",
        "cells": "city.cell_size_km, city.urban_density_per_km2, the town and village counts and --scale",
        "grids": "city.residents_per_grid",
        "attractor sites": "city.attractor_sites_per_100k",
        "calls for service": "calls.non_crime_per_1000_year and run.years",
        "disputes": "disputes.per_1000_households_year and run.years",
    }
    return MemoryEstimate(parts, keys)


def result_bytes(scenario: Scenario, scale: float = 1.0) -> int:
    """Memory a finished run's results take while a batch keeps them for maps and tables [bytes]."""
    size = city_size(scenario.city, scale)
    return (RESULT_BYTES_PER_CELL_YEAR * size.cells + _RESULT_BYTES_PER_DAY * 366) * scenario.run.years


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_available(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Room left under this process's cgroup (v2) memory limit, if it has one."""
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Memory the machine can give new processes now [bytes], or None where the system does not say.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux: free memory plus caches that can be dropped),
    else the free physical pages from ``os.sysconf``; the smaller of that and the room under a
    container's (cgroup v2) limit.
    """
    free = _meminfo_available()
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            free = None
    room = _cgroup_available()
    if free is None:
        return room
    return free if room is None else min(free, room)


def check_resources(scenarios: Iterable[Scenario], scale: float, workers: int = 1, kept_runs: int = 0,
                    label: str | None = None, memory: bool = True) -> int:
    """Refuse a batch whose cities do not fit their area, or whose runs would need more memory than
    the machine has.

    Args:
        scenarios: The batch's scenarios (each is estimated; the largest counts).
        scale: Fraction of the full city.
        workers: Runs at the same time (one process each).
        kept_runs: Finished runs whose results the batch keeps in memory (for maps and tables).
        label: How to name the batch in the message (default: the largest scenario's name).
        memory: Check the memory too (not where the runs go to other machines).

    Returns:
        The estimated peak of the batch [bytes].

    Raises:
        ResourceError: A city's cells do not fit its area (the keys to change); or the batch
            needs more memory than is available (the estimate per run, the part that dominates it
            and its keys, and the memory available).
    """
    worst: tuple[int, Scenario, MemoryEstimate] | None = None
    kept = 0
    for s in scenarios:
        # A city laid out on a real map (a ``geography``, where the model has one) places its cells by
        # its districts' outlines, not on this lattice: only its memory is estimated, from the same sizes.
        real_map = getattr(s.city, "geography", None) is not None
        misfit = None if real_map else city_size(s.city, scale).misfit(s.city, scale)
        if misfit:
            raise ResourceError(f"{label or s.name}: {misfit}")
        est = estimate_run_memory(s, scale)
        if worst is None or est.total > worst[0]:
            worst = (est.total, s, est)
        kept = max(kept, result_bytes(s, scale))
    if worst is None or not memory:
        return 0
    per_run, scenario, est = worst
    workers = max(1, workers)
    # With several workers the parent process runs none itself but holds the finished results.
    need = per_run * workers + (FIXED_BYTES if workers > 1 else 0) + kept * kept_runs
    have = available_memory()
    if have is None or need <= have:
        return need
    part = est.largest()
    many = f" × {workers} workers at once" if workers > 1 else ""
    results = f" + {format_bytes(kept * kept_runs)} of results kept" if kept_runs and kept * kept_runs > MIB else ""
    lower = "--scale, --jobs" if workers > 1 else "--scale"
    raise ResourceError(
        f"{label or scenario.name}: a run at scale {scale:g} needs about {format_bytes(per_run)} of memory "
        f"({part}: {format_bytes(est.parts[part])}, set by {est.keys[part]}){many}{results} = "
        f"{format_bytes(need)}; this machine has {format_bytes(have)} available. Lower {lower} or those values")
