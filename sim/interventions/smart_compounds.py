"""Smart-security residential compounds (智慧安防小区).

Daqing's first batch was 46 compounds with face-recognition entry, detection of objects
thrown from height and alarms on fence-climbing (002_5234f462d53c6514.txt). Here a compound
is a residential cell. Access control keeps strangers out — extra guardianship against
burglary, theft and vehicle crime there; perimeter alarms detect some of the offences
nobody reports; entry and thrown-object cameras add video coverage. Offenders who are kept
out may try the open blocks next door, so the compounds' recorded offences are reported
beside those of the ring of adjacent non-compound cells: compare both with a baseline run
of the same seed to see prevention and displacement. Blocked offenders move next door as
anywhere (``crime.displacement_prob``); with the evidence-based guard the ring's offences barely
change (ratio ~0.97–0.98: slight diffusion of benefits from the compounds' cameras). Alarms also
raise recording inside the compounds (set ``alarm_detect_prob: 0`` to see prevention alone).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from sim.interventions.base import Cost, Intervention, InterventionParams, MapMarker, scaled_count
from sim.mechanisms.crime_types import CRIME_TYPES
from sim.metrics import Metric
from sim.params import MAX_SITES, MAX_UNITS_PER_SITE
from sim.space.city import LandUse

__all__ = ["SmartCompoundParams", "SmartCompounds"]


class SmartCompoundParams(InterventionParams):
    count: int = Field(46, ge=0, le=MAX_SITES, description="Compounds at full scale (Daqing's first batch: 46).")
    placement: Literal["most_residents", "hot_spots"] = Field(
        "most_residents", description="Which residential cells: the most populous, or the highest "
        "site score (recent recorded incidents)."
    )
    access_guard: dict[str, float] = Field(
        default={"burglary": 0.2, "theft": 0.5, "vehicle_crime": 1.0},
        description="Blocking hazard added by face-recognition entry and fences, by crime type. The "
        "burglary guard 0.2 keeps burglary in compound cells at ~0.67 of the same cells without compounds, "
        "the odds ratio of gated vs non-gated households (Addington & Rennison 2015, NCVS); 1.5 in the "
        "pre-evidence model kept it at ~0.12. Theft and vehicle guards assumed. No robbery guard: gating did not "
        "significantly change robbery there.",
        json_schema_extra={"open_keys": True},  # any crime type may be added (checked below)
    )
    alarm_detect_prob: float = Field(
        0.3, ge=0, le=1, description="Chance an unreported offence in a compound is detected by its "
        "alarms (fence-climbing, thrown objects) (assumed)."
    )
    cameras_per_compound: int = Field(
        10, ge=0, le=MAX_UNITS_PER_SITE, description="Entry and thrown-object cameras per compound (assumed)."
    )
    setup_cost_yuan_per_compound: float = Field(
        600_000.0, ge=0, description="Gates, cameras, alarms and platform link per compound [yuan] (assumed)."
    )
    running_cost_yuan_per_compound_year: float = Field(
        50_000.0, ge=0, description="Maintenance, network and monitoring per compound per year [yuan] (assumed)."
    )

    @field_validator("access_guard")
    @classmethod
    def _known_types(cls, v):
        bad = [t for t in v if t not in CRIME_TYPES]
        if bad:
            raise ValueError(f"interventions.smart_compounds.access_guard: unknown crime type(s) {bad}; "
                             f"expected some of {list(CRIME_TYPES)}")
        if any(x < 0 for x in v.values()):
            raise ValueError("interventions.smart_compounds.access_guard: values must be ≥ 0")
        return v


class SmartCompounds(Intervention):
    key = "smart_compounds"
    Params = SmartCompoundParams
    map_marker = MapMarker("smart compound", "s", "tab:orange", 20.0)
    declares = (
        Metric("smart_compound_offences", "offences",
               "Police-recorded offences in the compounds' cells.", kind="reported"),
        Metric("smart_compound_ring_offences", "offences",
               "Police-recorded offences in the ring of adjacent non-compound cells.", kind="reported"),
        Metric("smart_compound_offences_true", "offences",
               "Offences committed in the compounds' cells, recorded or not.", kind="reported"),
        Metric("smart_compound_ring_offences_true", "offences",
               "Offences committed in the ring of adjacent cells, recorded or not.", kind="reported"),
    )

    def activate(self, ctx) -> None:
        p = self.params
        city = ctx.city
        pool = np.flatnonzero((city.land_use == LandUse.RESIDENTIAL) & (city.residents > 0))
        if p.placement == "most_residents":
            score = city.residents[pool].astype(float)
        else:
            score = ctx.incidents.site_score(pool)
        n = min(scaled_count(p.count, ctx.scale), len(pool))
        self.cells = np.sort(pool[np.argsort(-score, kind="stable")[:n]])
        nb = city.neighbours[self.cells].ravel()
        self.ring = np.setdiff1d(nb[nb >= 0], self.cells)
        levers = ctx.levers
        for t, g in p.access_guard.items():
            levers.type_guardians[CRIME_TYPES.index(t), self.cells] += g
        levers.alarms[self.cells] = 1 - (1 - levers.alarms[self.cells]) * (1 - p.alarm_detect_prob)
        cams = np.zeros(city.n_cells)
        cams[self.cells] = p.cameras_per_compound
        levers.add_cameras(cams)

    def cost(self) -> Cost:
        n = len(getattr(self, "cells", []))
        p = self.params
        return Cost(n * p.setup_cost_yuan_per_compound, n * p.running_cost_yuan_per_compound_year, 0.0)

    def metrics(self, ctx, year: int) -> dict[str, float]:
        # Reported for every counted year, the years before the compounds too (same cells).
        incidents = ctx.incidents.recorded[year]
        cells = getattr(self, "cells", None)
        if cells is None:
            nan = float("nan")
            return {k: nan for k in ("smart_compound_offences", "smart_compound_ring_offences",
                                     "smart_compound_offences_true", "smart_compound_ring_offences_true")}
        true = ctx.incidents.true[year]
        return {"smart_compound_offences": float(incidents[cells].sum()),
                "smart_compound_ring_offences": float(incidents[self.ring].sum()),
                "smart_compound_offences_true": float(true[cells].sum()),
                "smart_compound_ring_offences_true": float(true[self.ring].sum())}
