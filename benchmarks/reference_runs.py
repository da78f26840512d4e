"""Reference runs: hashes of a fixed set of runs, to show that a change leaves results identical.

A restructuring or a speed-up must not change what the model computes. This script runs a
fixed set of scenarios at scale 0.1 and prints one hash per run of everything a run leaves
behind (its yearly rows, the recorded and true offences per cell, the daily series, the
treated cells and the sites), then a hash of them all:

- the four seed cities' packages (``suizhou_2022``, ``daqing_2021``, ``jincheng_2016_2020``,
  ``xingan_2016_2020``), two seeds each, default parameters;
- the same four with each of the committed posterior's two heaviest particles
  (``calibration/results/main/posterior.csv``);
- ``suizhou_2022`` with every intervention switched on (video watched live, a share of the
  station units on the hot-spot rota), two seeds, with the default mechanisms and with the
  mechanisms as they were before the evidence-based defaults
  (:data:`sim.experiments.evidence.PRE_EVIDENCE_MECHANISMS`);
- ``suizhou_2022`` with every point facility at sites given as positions (``placement: given``,
  what the optimiser writes), one seed;
- ``suizhou_2022_real`` (the city on its real map), one seed, at scale 0.05.

A run's hash also covers, where the code records them, the monthly counts by county, the calls
per cell, the attended calls and each patrol unit's busy share.

Usage::

    python benchmarks/reference_runs.py --save /tmp/reference.json [--jobs 2]   # on the old code
    python benchmarks/reference_runs.py --check /tmp/reference.json [--jobs 2]  # on the new code

``--check`` prints each run that differs and exits with status 1 if any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

CITIES = ("suizhou_2022", "daqing_2021", "jincheng_2016_2020", "xingan_2016_2020")
SEEDS = (1, 2)
SCALE = 0.1
#: Scale of the real-city reference run (a real map's city is larger to build).
REAL_SCALE = 0.05
#: The point facilities that take ``placement: given`` and the parameter counting their sites.
GIVEN = {"street_police_stations": "count", "rapid_response_points": "count", "video": "cameras",
         "hot_spot_patrol": "hot_spots"}
POSTERIOR = Path(__file__).resolve().parents[1] / "calibration" / "results" / "main" / "posterior.csv"
#: Everything on, with the options the seed scenarios leave off.
EVERYTHING = ("interventions.video.monitoring=active", "interventions.hot_spot_patrol.share_of_patrol_units=0.1")


def _pre_evidence() -> tuple[str, ...]:
    # The overrides that restore the mechanisms before the evidence-based defaults.
    from sim.experiments.evidence import PRE_EVIDENCE_MECHANISMS

    return tuple(PRE_EVIDENCE_MECHANISMS)


def tasks():
    """The reference runs, as runner tasks (one replicate each, its own seed)."""
    from sim.calibration.posterior import with_parameters
    from sim.experiments.runner import Task
    from sim.experiments.store import run_id
    from sim.interventions import REGISTRY
    from sim.scenario import load_scenario

    runs = []  # (label, scenario, seed)
    for name in CITIES:
        for seed in SEEDS:
            runs.append((f"{name} seed {seed}", load_scenario(name), seed))
    post = pd.read_csv(POSTERIOR).sort_values("weight", ascending=False, kind="stable").head(2)
    for _, particle in post.iterrows():
        values = {k: float(v) for k, v in particle.items() if k not in ("particle", "weight")}
        for name in CITIES:
            runs.append((f"{name} particle {int(particle['particle'])}",
                         with_parameters(load_scenario(name), values), 1))
    every = [f"interventions.{k}.enabled=true" for k in sorted(REGISTRY)] + list(EVERYTHING)
    for label, extra in (("every intervention", ()), ("every intervention, pre-evidence", _pre_evidence())):
        for seed in SEEDS:
            runs.append((f"{label} seed {seed}", load_scenario("suizhou_2022", [*extra, *every]), seed))
    runs.append(("point facilities at given sites seed 1", _at_given_sites(load_scenario("suizhou_2022")), 1))
    runs.append(("suizhou_2022_real seed 1", load_scenario("suizhou_2022_real"), 1, REAL_SCALE))
    out = []
    for i, (label, scen, seed, *scale) in enumerate(runs):
        payload = scen.model_dump_json()
        sc = scale[0] if scale else SCALE
        out.append((label, Task(scen.name, payload, 0, {}, i, seed, sc, run_id(payload, {}, seed, sc))))
    return out


def _at_given_sites(scen):
    """``scen`` with every point facility on, at four sites spread over the inhabited cells (as positions)."""
    from sim.scenario import load_scenario
    from sim.space.city import build_city

    city = build_city(scen.city, SCALE)
    inhabited = np.flatnonzero(city.residents > 0)
    picks = inhabited[np.linspace(0, len(inhabited) - 1, 4).astype(int)]
    sites = [[round(float(city.x_km[c]), 3), round(float(city.y_km[c]), 3)] for c in picks]
    sets = []
    for key in GIVEN:
        sets += [f"interventions.{key}.enabled=true", f"interventions.{key}.placement=given",
                 f"interventions.{key}.sites={sites}"]
    return load_scenario(scen.name, sets)


def _digest(result) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(result.rows, allow_nan=True).encode())
    for a in (result.cell_incidents, result.cell_offences_true, result.daily, result.treated_cells):
        h.update(np.ascontiguousarray(a).tobytes())
    for key in sorted(result.sites or {}):
        h.update(key.encode())
        h.update(np.ascontiguousarray(result.sites[key]).tobytes())
    for name in ("monthly", "cell_calls", "calls", "unit_busy_share"):  # where the code records them
        a = getattr(result, name, None)
        if a is not None:
            h.update(name.encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--save", type=Path, default=None, help="write the hashes to this JSON file")
    ap.add_argument("--check", type=Path, default=None, help="compare with the hashes in this JSON file")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    from sim.experiments.runner import run_tasks

    labelled = tasks()
    started = time.perf_counter()
    results = run_tasks([t for _, t in labelled], jobs=args.jobs, progress=False)
    wall = time.perf_counter() - started
    hashes = {label: _digest(r) for (label, _), r in zip(labelled, results, strict=True)}
    whole = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:16]
    for label, h in hashes.items():
        print(f"{h}  {label}")
    print(f"{whole}  all {len(hashes)} runs ({wall:.0f} s on {args.jobs} workers)")
    if args.save is not None:
        args.save.write_text(json.dumps(hashes, indent=1))
    if args.check is not None:
        ref = json.loads(args.check.read_text())
        bad = [k for k in ref if hashes.get(k) != ref[k]] + [k for k in hashes if k not in ref]
        for k in bad:
            print(f"DIFFERS: {k}: {ref.get(k)} -> {hashes.get(k)}")
        print(f"{len(hashes) - len(bad)} of {len(hashes)} runs identical to {args.check}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
