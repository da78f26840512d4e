"""The memory a run needs, estimated before anything is built (sim.experiments.resources).

How close the estimate is to the measured peak of real runs is printed by
``benchmarks/memory_estimate.py``; these tests check what the estimate responds to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.experiments.resources as resources
from sim.experiments.resources import ResourceError, available_memory, check_resources, estimate_run_memory
from sim.scenario import load_scenario


def _estimate(*sets: str, scale: float = 0.1) -> dict[str, int]:
    return estimate_run_memory(load_scenario("suizhou_baseline", list(sets)), scale).parts


@pytest.mark.parametrize("sets, part", [
    (["city.population=4100000"], "residents"),
    (["city.cell_size_km=0.25"], "cells"),
    (["city.urban_density_per_km2=1000.0"], "cells"),
    (["city.residents_per_grid=50"], "grids"),
    (["calls.non_crime_per_1000_year.public_order=900.0"], "calls for service"),
    (["disputes.per_1000_households_year.family=200.0"], "disputes"),
    (["run.years=4"], "calls for service"),
])
def test_the_estimate_grows_with_what_drives_it(sets, part):
    base, changed = _estimate(), _estimate(*sets)
    assert changed[part] > 1.5 * base[part]
    assert changed["fixed"] == base["fixed"]


def test_the_estimate_of_a_default_city_is_mostly_the_python_process():
    parts = _estimate(scale=0.05)
    assert parts["fixed"] > 0.8 * sum(parts.values())


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="reads /proc/meminfo")
def test_available_memory_is_read_from_the_system():
    # MemAvailable moves between two reads, so compare with the machine's total, which does not.
    total = next(int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                 if line.startswith("MemTotal:"))
    free = available_memory()
    assert free is not None and 0 < free <= total


def test_available_memory_is_the_smaller_of_the_machines_and_the_containers(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n")
    assert resources._meminfo_available(meminfo) == 8000000 * 1024
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("max\n")
    assert resources._cgroup_available(cgroup) is None
    (cgroup / "memory.max").write_text(f"{4 * 2**30}\n")
    (cgroup / "memory.current").write_text(f"{2**30}\n")
    assert resources._cgroup_available(cgroup) == 3 * 2**30

    monkeypatch.setattr(resources, "_meminfo_available", lambda: 8 * 2**30)
    monkeypatch.setattr(resources, "_cgroup_available", lambda: 3 * 2**30)
    assert available_memory() == 3 * 2**30
    monkeypatch.setattr(resources, "_cgroup_available", lambda: None)
    assert available_memory() == 8 * 2**30


def test_a_batch_that_fits_is_let_through_with_its_estimate(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 64 * 2**30)
    scenario = load_scenario("suizhou_baseline")
    one = check_resources([scenario], 0.1)
    assert one == estimate_run_memory(scenario, 0.1).total
    assert check_resources([scenario], 0.1, workers=2) > 2 * one


def test_an_unknown_amount_of_memory_checks_only_that_the_city_fits(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: None)
    big = load_scenario("suizhou_baseline", ["city.population=50000000"])
    assert check_resources([big], 1.0) > 0
    crowded = load_scenario("suizhou_baseline", ["city.towns_per_county=1000", "city.villages_per_town=500"])
    with pytest.raises(ResourceError, match="suizhou_baseline: the city needs up to"):
        check_resources([crowded], 1.0, memory=False)
