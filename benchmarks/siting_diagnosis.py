"""Why sites chosen for a location model may not shorten simulated responses: the simulation's own answer.

Runs Suizhou's baseline and its 2022 package (one counted year, the interventions in place from its
start) with the rapid-response points at the scenario's own sites, at the former p-median's sites and
at the response model's p-median sites, and prints what the classical location models assume and
the simulation does instead:

1. **Load**: patrol units per county, the share of time each is on calls, the calls that waited for
   a unit (are units busy enough for capacity to matter?).
2. **Where units are when called**: lattice steps from the answering unit to the call, against the
   steps from its base (is a unit at its base, as the classical models assume?), and which units
   answer the points' counties' calls.
3. **Travel times**: cells the dispatcher drives to at the urban speed that the former model drove
   to at the rural one (town centres).
4. **The response model against the simulation**: expected against simulated mean response by
   county in the baseline.
5. **Demand noise**: how much sites chosen from one baseline run differ from those chosen from four.
6. **The instance at small scales**: stations, units and inhabited cells per county.

Usage::

    python benchmarks/siting_diagnosis.py [--scale 1.0] [--seed 1] [--write FILE]

It runs 7 full-scale city-years (4 baseline, 3 package) in this process (about two minutes on a quiet
core).
"""

from __future__ import annotations

import argparse
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

from sim import PinganModel, load_scenario
from sim.agents.patrol import PatrolFleet, station_unit_count
from sim.agents.residents import build_residents
from sim.experiments.runner import replicate_seed, run_one
from sim.optimise.response import Travel
from sim.optimise.sites import baseline_demand, city_at, dispatch_base_instance, site_count
from sim.optimise.siting_check import check_scenario, former_sites
from sim.scenario.schema import Scenario

FACILITY = "rapid_response_points"


def _scenario(data: dict, name: str) -> Scenario:
    return Scenario.model_validate({**data, "name": name})


def _with_sites(package: Scenario, city, cells) -> Scenario:
    data = json.loads(package.model_dump_json())
    data["interventions"][FACILITY].update(placement="given",
                                           sites=[[float(city.x_km[c]), float(city.y_km[c])] for c in cells])
    return Scenario.model_validate(data)


def _unit_counties(city, policing) -> np.ndarray:
    fleet = PatrolFleet(city, policing, 0)
    fleet.add_station_units(station_unit_count(city, policing))
    return fleet.county


def _answers(model: PinganModel, travel: Travel, counties: np.ndarray) -> dict[str, float]:
    """Who answered the counted year's calls in ``counties``, and how far their units were from the call."""
    fleet = model.fleet
    calls = [c for c in model.recorder.attended_in_year(0) if np.isin(model.city.county[c.cell], counties)]
    cell = np.array([c.cell for c in calls])
    unit = np.array([c.unit for c in calls])
    drive = np.array([c.arrived_at - c.dispatched_at for c in calls])
    from_where = np.rint((drive - travel.offset_min[cell]) / travel.step_min[cell])  # the steps dispatch drove
    base = fleet.base_cell[unit]
    from_base = np.abs(travel.ix[base] - travel.ix[cell]) + np.abs(travel.iy[base] - travel.iy[cell])
    kind = np.array(fleet.kind)[unit]
    out = {"calls": float(len(calls)), "answered by the points' units": float(np.mean(kind == FACILITY))}
    for k in ("police_station", FACILITY):
        mine = kind == k
        out[f"{k}: steps from where the unit was"] = float(from_where[mine].mean()) if mine.any() else np.nan
        out[f"{k}: steps from its base"] = float(from_base[mine].mean()) if mine.any() else np.nan
    resp = np.array([c.arrived_at - c.time for c in calls])
    out["mean response [min]"] = float(resp.mean())
    out["waited for a unit"] = float(np.mean(np.array([c.dispatched_at - c.time for c in calls]) > 0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    text = io.StringIO()
    with redirect_stdout(text):
        _diagnose(args.scale, args.seed)
    print(text.getvalue())
    if args.write is not None:
        args.write.write_text(f"# python benchmarks/siting_diagnosis.py --scale {args.scale:g} --seed {args.seed}\n\n"
                              + text.getvalue())


def _diagnose(scale: float, seed: int) -> None:
    package = check_scenario(load_scenario("suizhou_2022"))
    data = json.loads(package.model_dump_json())
    for section in data["interventions"].values():
        section["enabled"] = False
    baseline = _scenario(data, "suizhou-baseline")
    city = city_at(package, scale)
    travel = Travel.of(city, package.dispatch)
    names = city.county_names

    print(f"Suizhou at scale {scale:g}: {city.n_cells} inhabited cells of {city.cell_size_km:g} km, "
          f"{len(city.town_county)} police stations; one counted year after "
          f"{package.run.warmup_days} days' warm-up")
    # Demand from four baseline runs (seeds 1001...), and separately from the first alone.
    runs = [run_one(baseline, r, replicate_seed(1001, r), scale) for r in range(4)]
    demand, demand_one = baseline_demand(runs), baseline_demand(runs[:1])

    print("\n1. Load (baseline, 4 runs)")
    fleet_county = _unit_counties(city, baseline.policing)
    for k, name in enumerate(names):
        mine = fleet_county == k
        busy = demand.unit_busy[mine]
        print(f"   {name:12s} {mine.sum():3d} patrol units, {int((city.town_county == k).sum()):3d} stations, "
              f"on calls {busy.mean():.1%} of the time (busiest unit {busy.max():.1%})")
    print("   every unit of a county busy at once: at most "
          + ", ".join(f"{n} {np.prod(demand.unit_busy[fleet_county == k]):.1e}" for k, n in enumerate(names))
          + " (independent units at their busy shares)")

    print("\n2. Where units are when called (the package, calls in Sui County and Guangshui, seed "
          f"{seed})")
    n = site_count(FACILITY, package.interventions.rapid_response_points, scale)
    counties = np.array([names.index(c) for c in package.interventions.rapid_response_points.counties])
    instance = dispatch_base_instance(package, FACILITY, n, demand, scale, {})
    former = former_sites(package, FACILITY, n, demand, scale, "p_median").sites
    new = instance.solve(n, "p_median").sites
    variants = {"the scenario's sites": package, "former p-median": _with_sites(package, city, former),
                "response p-median": _with_sites(package, city, new)}
    rows = {}
    residents = build_residents(city, package.residents)
    for name, scen in variants.items():
        model = PinganModel(scen, seed=replicate_seed(seed, 0), scale=scale, city=city, residents=residents)
        model.run()
        rows[name] = _answers(model, travel, counties)
    keys = list(next(iter(rows.values())))
    print(f"   {'':44s}" + "".join(f"{name:>22s}" for name in rows))
    for key in keys:
        print(f"   {key:44s}" + "".join(f"{rows[name][key]:22.3f}" for name in rows))

    print("\n3. Travel times: cells the dispatcher drives to at the urban speed (town centres included) that the "
          "former model drove to at the rural one")
    urban_dispatch = travel.step_min > travel.step_min.min()
    print(f"   {int((urban_dispatch & ~city.urban).sum())} of {city.n_cells} cells; their minutes per step "
          f"{travel.step_min.max():.2f} against {travel.step_min.min():.2f}")

    print("\n4. The response model against the simulation (baseline, mean response by county, 4 runs)")
    base_inst = dispatch_base_instance(package, FACILITY, 0, demand, scale, {})  # the police stations' units only
    for k, name in enumerate(names):
        region = (city.county == k).astype(float)
        expected = base_inst.value(np.zeros(0, dtype=np.int64), "p_median", region)
        simulated = np.mean([r.calls["response_min"][city.county[r.calls["cell"]] == k].mean() for r in runs])
        print(f"   {name:12s} expected {expected:6.2f} min, simulated {simulated:6.2f} min "
              f"({100 * (expected / simulated - 1):+.1f} %)")

    print("\n5. Demand noise: calls per cell from 1 baseline run against 4")
    corr = np.corrcoef(demand_one.calls, demand.calls)[0, 1]
    one = dispatch_base_instance(package, FACILITY, n, demand_one, scale, {}).solve(n, "p_median").sites
    print(f"   correlation of the maps {corr:.3f}; p-median sites chosen from 1 run and from 4 share "
          f"{len(set(one) & set(new))} of {n}; the 1-run sites' expected mean response on the 4-run demand "
          f"{instance.value(np.sort(one), 'p_median', np.isin(city.county, counties).astype(float)):.3f} min "
          f"against {instance.value(np.sort(new), 'p_median', np.isin(city.county, counties).astype(float)):.3f}")

    print("\n6. The instance by scale: police stations, baseline patrol units and inhabited cells per county")
    for s in sorted({0.1, 0.25, scale}):
        c = city_at(package, s)
        units = np.bincount(_unit_counties(c, baseline.policing), minlength=len(names))
        points = site_count(FACILITY, package.interventions.rapid_response_points, s)
        print(f"   scale {s:<5g}" + "; ".join(
            f"{name} {int((c.town_county == k).sum())} stations, {units[k]} units, {int((c.county == k).sum())} cells"
            for k, name in enumerate(names)) + f"; {points} rapid-response points")


if __name__ == "__main__":
    main()
