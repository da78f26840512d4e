"""The evidence harness: each mechanism's effect in the model next to the published figure.

Every mechanism should behave like the field evidence. This module runs a small,
fixed set of scenarios with common random numbers (replicate *r* has the same seed in every
scenario, :func:`sim.experiments.runner.replicate_seed`), measures one number per mechanism
and replicate, and reports each as a mean with a 95 % interval over replicates (percent changes
and ratios on the log-ratio scale, :meth:`EvidenceRow.interval`) beside the published figure it
should match.

Scenarios (all built from the built-in files with ``--set``-style overrides,
:func:`sim.scenario.loader.apply_overrides`):

- ``base``: ``suizhou_baseline`` (no interventions; 2021 then 2022).
- ``cameras``: ``base`` with ``interventions.video`` on from 2022 (54 000 cameras at full
  scale, placed at hot spots, the CCTV-scheme layout the meta-analyses evaluated).
- ``camera_scheme``: ``base`` with a city-centre camera scheme from 2022 (:func:`camera_scheme_sites`),
  compared with matched control cells as the meta-analysis compared schemes with control areas.
- ``patrol_x2``: ``base`` with ``policing.units_per_100k_residents`` doubled (both years); under
  per-replicate parameter sets that set it too (a posterior that estimates patrol strength), the
  set's value is doubled (:class:`ScaledDraw`), so the lever still doubles what the base run has.
- ``compounds``: ``base`` with ``interventions.smart_compounds`` on from 2022.
- ``hot_spots``: ``base`` with the hot-spot patrol (:data:`HOT_SPOT_PATROL`) from 2022.
- ``package``: ``suizhou_2022`` (the seed's package, year on year).
- ``package_no_crackdown``: ``suizhou_2022`` without its crackdown campaigns.
- ``daqing``: ``daqing_2021`` (the seed's package, year on year; its people's mediation runs
  both years).

``base`` and ``compounds`` run with an offence log (hour, cell, crime type, recorded), an
observer of their offences (:class:`OffenceLog`, a :class:`sim.observers.Observer`): near
repeats and burglary by cell need single offences, which no result of a run holds (the
incident map keeps cell maps over all crime types only). The other scenarios run through
:func:`sim.experiments.runner.run_tasks` unchanged.

Run it with ``pingan evidence [--scale F] [--replicates R] [--jobs J] [--out DIR] [--set
key=value ...]`` (or ``python -m sim evidence``); it writes ``evidence.csv`` and
``evidence.md``. ``--before`` measures the pre-evidence model: the mechanisms as they were
before they were sized to the published evidence (:data:`PRE_EVIDENCE_MECHANISMS`).

Verdict: ``inside`` when the model's 95 % interval overlaps the published range, ``outside``
otherwise (``n/a`` when either is missing). A published *range* is used where the source
gives one; where it gives a point, the range says how it was widened and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sim.csv_output import write_csv
from sim.experiments.designs import match_controls, relative_effect_size, spot_comparison
from sim.experiments.runner import RunResult, Task, Vary, local_workers, run_one, run_tasks, scenario_tasks
from sim.experiments.summary import mean_interval, relative_change
from sim.interventions.crackdown import Campaign
from sim.interventions.special_population_management import SpecialPopulationManagementParams
from sim.interventions.two_station_linkage import TwoStationLinkageParams
from sim.mechanisms.crime_types import CRIME_TYPES, PREVENTABLE
from sim.observers import Observer
from sim.rng import stream
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario

__all__ = ["PRE_EVIDENCE_MECHANISMS", "HOT_SPOT_PATROL",
           "Published", "EvidenceRow", "OffenceLog", "PUBLISHED", "evidence_scenarios", "run_evidence",
           "top_share", "near_repeat_ratio", "evidence_table", "write_evidence"]

BURGLARY = CRIME_TYPES.index("burglary")

#: Overrides that restore the pre-evidence model, the mechanisms as they were before they were sized
#: to the published evidence (and as the calibration before them was made): no crime attractors,
#: cameras as one perceived risk for every crime type, uniform near repeats, strong patrol deterrence
#: (~60 % at hot spots), tight compounds, every referred dispute a formal case, every party willing
#: to mediate, sessions settling at administrative rates, visits and presence that prevent nothing.
#: ``pingan evidence --before`` measures it.
PRE_EVIDENCE_MECHANISMS = (
    "city.attractor_sites_per_100k=0", "residents.offender_hangout_share=0",
    "crime.camera_deterrence_model=perceived_risk", *(f"crime.camera_deterrence_by_type.{t}=1.0" for t in CRIME_TYPES),
    *(f"calls.camera_detect_by_type.{t}=1.0" for t in CRIME_TYPES),
    "clearance.footage_usable_share=1.0", "crime.crowding_cap=3.0",
    *(f"crime.near_repeat_by_type.{t}=1.0" for t in CRIME_TYPES),
    "crime.near_repeat_spread=0.3", "crime.repeat_victim_share=0",
    "crime.patrol_guard=1.2", "crime.presence_risk=0.15", "crime.attempts_per_offender_year=6.0",
    "calls.disorder_reduction_per_post_officer=0",
    "interventions.smart_compounds.access_guard.burglary=1.5",
    "interventions.smart_compounds.access_guard.theft=0.5",
    "interventions.smart_compounds.access_guard.vehicle_crime=1.0",
    "interventions.mediation.service.informal_settle_prob=0",
    "interventions.mediation.service.counting=session",
    "interventions.mediation.service.decline_prob=0",
    "interventions.mediation.service.success_by_stage=[0.95,0.85,0.65]",
    "interventions.home_visits.visited_relative_risk=1.0",
    "interventions.grid_workers.escalated_share=1.0",
    "interventions.governance_centres.pipeline.field_work_median_h=0",
    "interventions.governance_centres.pipeline.completion_deadline_h=null",
)

#: Hot-spot patrol as in Minneapolis (Sherman & Weisburd 1995): 110 hot spots at full scale, 15-minute
#: stops in random order (Koper 1995), by extra rota units that about double patrol presence there
#: (40 units at full scale; at scale 0.1, 4 units raise presence at the 11 spots from ~1.3 to ~2.6).
HOT_SPOT_PATROL = ("interventions.hot_spot_patrol.enabled=true", "interventions.hot_spot_patrol.hot_spots=110",
                   "interventions.hot_spot_patrol.units=40", "interventions.hot_spot_patrol.share_of_patrol_units=0",
                   "interventions.hot_spot_patrol.dwell_minutes=15")
ROBBERY = CRIME_TYPES.index("robbery")
_PREVENTABLE = np.array([CRIME_TYPES.index(t) for t in PREVENTABLE])

#: Share of cells whose offences count as "the top" for concentration (Weisburd 2015 reports
#: the share of street segments holding 50 % of crime; we report the converse at 5 %).
TOP_SHARE_OF_CELLS = 0.05
#: Near-repeat window [days] (Johnson et al. 2007: elevated risk for at least two weeks).
NEAR_REPEAT_DAYS = 14.0
#: Time permutations for the Knox expectation (Johnson et al. 2007 used Monte-Carlo permutation).
NEAR_REPEAT_PERMUTATIONS = 20
#: Share of the inhabited cells a city-centre camera scheme covers (assumed: the order of the town and
#: city-centre schemes in Welsh & Farrington's review, a part of the city with controls beside it).
CAMERA_SCHEME_SHARE = 0.1
#: Cameras per covered cell of the scheme at full scale: about what the 54 000 cameras placed at hot spots
#: give a covered cell (~44 per cell at scale 0.1, over ~120 of Suizhou's ~140 cells there).
CAMERA_SCHEME_CAMERAS_PER_SITE = 440
#: Smart compounds at full scale in the ``compounds`` scenario: more than Daqing's 46 so that a
#: 0.1-scale city has ~20 treated cells (with 5 the burglary counts are too small to compare).
COMPOUNDS_FULL_SCALE = 200


#: What a row's published figure is to the model (``Published.role``):
#: - ``check``: not used to set anything; agreement is evidence;
#: - ``input``: a parameter was sized so that this output (or another measure of the same study) lands on
#:   it; agreement shows the sizing held, not that the model predicts it;
#: - ``target``: a calibration target, fitted by the calibration (its scores are in docs/calibration.md);
#: - ``context``: the study measured something unlike the model's measure here; shown, not compared;
#: - ``none``: no comparable published evaluation was found; the row says what the model assumes.
ROLES = ("check", "input", "target", "context", "none")


@dataclass(frozen=True)
class Published:
    """A published figure: point, range used for the verdict, where it comes from, and its role."""

    figure: float
    lo: float
    hi: float
    source: str
    note: str = ""
    role: str = "check"

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role: expected one of {ROLES}, got {self.role!r}")

    @property
    def compared(self) -> bool:
        """Whether the model's interval is set against the published range (not for context or none)."""
        return self.role not in ("context", "none") and not (math.isnan(self.lo) or math.isnan(self.hi))


def _default(params: type, name: str) -> float:
    """A parameter's documented default (the notes quote the model's values, not a copy of them)."""
    return params.model_fields[name].default


#: The published figures, by measure key. "verified" in a source means the number was checked
#: against the abstract or a summary of the study; "assumed" means it was not.
PUBLISHED: dict[str, Published] = {
    "top5_share": Published(
        50.0, 45.0, 70.0,
        "Weisburd D. (2015) The law of crime concentration and the criminology of place, Criminology "
        "53(2):133-157: 50 % of crime at 2.1-6.0 % of street segments in 8 cities (Seattle 4.7-6.1 %, "
        "16 years); verified (abstract and summaries)",
        "range = share at the top 5 % implied by 50 % at 2.1-6.0 % (approximate); street segments "
        "(~100 m) vs 0.5 km cells here, so the model's unit is coarser", role="input"),
    "cameras_preventable": Published(
        -16.0, -24.0, -7.0,
        "Welsh B.C. & Farrington D.P. (2009) Public area CCTV and crime prevention: an updated "
        "systematic review and meta-analysis, Justice Quarterly 26(4):716-745: ~16 % fewer crimes in "
        "CCTV areas vs controls (44 evaluations); figure from the issue, not re-verified; range assumed",
        "model: recorded preventable cases in the intervention year, city-wide, vs base. Not comparable: the "
        "meta-analysis compares camera areas with control areas (the row cameras_area_vs_control does)",
        role="context"),
    "cameras_vehicle": Published(
        -51.0, -60.0, -35.0,
        "Welsh & Farrington (2009): car parks ~ -51 % (vehicle crime); from the issue; the 2002 review "
        "found car parks -41 % (verified via secondary summary); range assumed",
        "model: recorded vehicle crime in the intervention year, city-wide", role="input"),
    "cameras_covered_cells": Published(
        -16.0, -24.0, -7.0,
        "Welsh & Farrington (2009), as above (area-level effect in camera areas)",
        "model: recorded offences of every type in the cells given cameras, vs the same cells in base", role="input"),
    "patrol_calls": Published(
        -9.5, -13.0, -6.0,
        "Sherman L.W. & Weisburd D. (1995) General deterrent effects of police patrol in crime "
        "'hot spots': a randomized, controlled trial, Justice Quarterly 12(4):625-648: twice the "
        "observed patrol presence at 55 of 110 Minneapolis hot spots, total crime calls -6 % to -13 %; "
        "verified (abstract). Braga et al. (2019, Campbell review): small significant effect, "
        "d~0.13 (from the issue, not re-verified)",
        "model: all calls for service, city-wide, with every patrol unit doubled. Not comparable: the trial "
        "treated 55 hot spots against 55 control spots (the row hot_spots_vs_control_spots does)",
        role="context"),
    "patrol_hotspot_offences": Published(
        -9.5, -13.0, -6.0,
        "Sherman & Weisburd (1995), as above",
        "model: recorded offences in the base run's top 5 % cells of the first year (its hot spots), "
        "second year; proxy for crime calls there (calls by cell are not an output). Not comparable: every "
        "unit city-wide doubled, not a patrol rota at chosen spots", role="context"),
    "hot_spot_patrol_offences": Published(
        -9.5, -13.0, -6.0,
        "Sherman & Weisburd (1995), as above: treated hot spots, ~2x observed patrol presence as "
        "intermittent unpredictable stops, total crime calls -6 % to -13 % vs control hot spots; Braga et "
        "al. (2019): small significant effect",
        "model: recorded offences (proxy for crime calls) at the rota's hot spots, intervention year, vs the "
        "same cells in base", role="input"),
    "near_repeat_burglary": Published(
        math.nan, 1.1, 3.0,
        "Johnson S.D., Bernasco W., Bowers K.J. et al. (2007) Space-time patterns of risk: a cross "
        "national assessment of residential burglary victimization, J Quant Criminol 23(3):201-219: "
        "in 10 areas of 5 countries homes within 200 m of a burgled home at elevated risk for at "
        "least two weeks; verified (abstract). Magnitude (Knox ratio 1.1-3) assumed",
        "model: Knox ratio, burglaries in the same 0.5 km cell within 14 days, observed/expected "
        "under time permutation", role="check"),
    "near_repeat_preventable": Published(
        math.nan, 1.1, 3.0,
        "Johnson et al. (2007) for burglary; other property crime assumed similar",
        "model: as above, all preventable cases", role="check"),
    "repeat_victims": Published(
        math.nan, 20.0, 40.0,
        "Farrell & Pease 1993 (British Crime Survey: 4 % of respondents suffered 44 % of its crime); the "
        "share of incidents that are repeats within a year is an assumed, conservative reading",
        "model: repeat_victimisations / offences_true, base, 2022", role="input"),
    "compound_burglary_ratio": Published(
        0.67, 0.5, 0.85,
        "Addington L.A. & Rennison C.M. (2015, online 2013) Keeping the barbarians outside the gate? "
        "Comparing burglary victimization in gated and non-gated communities, Justice Quarterly "
        "32(1):168-192: gated households 33 % lower odds of burglary (NCVS 2009-2010); verified "
        "(summaries); range assumed",
        "model: burglaries (true) in compound cells, intervention year, compounds run / base run", role="input"),
    "compound_ring_ratio": Published(
        1.0, 0.9, 1.2,
        "assumed: displacement to adjacent open blocks possible (Addington & Rennison "
        "discuss it); not a measured figure",
        "model: offences (true) in cells adjacent to compounds, compounds run / base run", role="check"),
    "mediation_success": Published(
        77.5, 70.0, 85.0,
        "field studies of mediated disputes: ~70-85 % settle (from the issue; assumed, not verified "
        "here); Chinese administrative reports give 95 %+ (seeds: Daqing 90.1 %, >= 93 %)",
        "model: mediation_success_rate (formal sessions), daqing_2021, 2021", role="input"),
    "dispute_resolved_share": Published(
        90.1, 88.1, 92.1,
        "seed 002_5234f462d53c6514.txt: Daqing screened and resolved 34 991 disputes, 化解成功率 90.1 % "
        "(resolved over screened, every channel); range: the calibration target's 2-point tolerance",
        "model: disputes_resolved_rate, daqing_2021, 2021", role="target"),
    "package_preventable": Published(
        -58.0, -58.0, -58.0,
        "Suizhou 2022 report (seed 003_d0d6d615d3c4e2fc.txt): preventable cases -58 % year on year",
        "model: suizhou_2022, recorded preventable cases 2022 vs 2021", role="target"),
    "package_calls": Published(
        -23.0, -23.0, -23.0,
        "Suizhou 2022 report (seed 003_d0d6d615d3c4e2fc.txt): calls for service -23 % year on year",
        "model: suizhou_2022, calls for service 2022 vs 2021", role="target"),
    "daqing_effective": Published(
        -10.0, -10.0, -10.0,
        "Daqing 2021 report (seed 002_5234f462d53c6514.txt): effective incidents -10 % year on year",
        "model: daqing_2021, effective incidents 2021 vs 2020 (the scenario file advises scale >= 0.25)",
        role="target"),
    "cameras_area_vs_control": Published(
        -16.0, -24.0, -7.0,
        "Welsh & Farrington (2009), as above: relative effect size RES = (a·d)/(b·c) of crimes before (a, c) and "
        "after (b, d) in the CCTV areas and their control areas, pooled 1.19 (crime -16 % relative to control)",
        "model: the study's design on one run: recorded offences of every type in the camera cells and in "
        "matched control cells (nearest on the year before's recorded offences and residents, not next to a "
        "camera cell), the year before and the year with cameras; shown as 1/RES - 1. The camera weights were "
        "sized on the covered cells against the same cells without cameras (cameras_covered_cells)",
        role="input"),
    "hot_spots_vs_control_spots": Published(
        -9.5, -13.0, -6.0,
        "Sherman & Weisburd (1995), as above: crime calls at the treated against the control hot spots, "
        "before and after (difference in differences; -6 % to -13 % relative to the controls)",
        "model: the trial's design on one run: recorded offences (proxy for crime calls) at the rota's hot "
        "spots and at matched control cells (nearest on the year before's recorded offences and residents, not "
        "next to a hot spot), the year before and the year of the rota; the treated spots' after/before over "
        "the controls', minus 1. patrol_guard and presence_risk were sized on the hot spots against the same "
        "cells without the rota (hot_spot_patrol_offences)", role="input"),
    "crackdown_package": Published(
        math.nan, math.nan, math.nan,
        "Sherman L.W. (1990) Police crackdowns: initial and residual deterrence, Crime and Justice 12:1-48 "
        "(18 case studies: initial deterrence in most, decaying within weeks, some residual deterrence after "
        "the campaign; no pooled effect size); from a summary, not re-verified here",
        f"no comparable figure: the model assumes a campaign raises the clearance odds of its crime types "
        f"x{_default(Campaign, 'clearance_odds_multiplier'):g} and their perceived risk by "
        f"{_default(Campaign, 'deterrence'):g} while it runs (crackdown.py, both assumed); model: recorded "
        "preventable cases 2022, suizhou_2022 against the same package without its campaigns", role="none"),
    "two_station_linkage": Published(
        math.nan, math.nan, math.nan,
        "none found: no controlled evaluation of police stations and judicial offices working jointly "
        "(两所联动)",
        f"the model assumes joint teams screen households in linked towns (find chance "
        f"{_default(TwoStationLinkageParams, 'find_prob_per_screening'):g} per visit) and the "
        "town's mediation succeeds more often (two_station_linkage.py, all assumed); not measured here",
        role="none"),
    "auxiliary_police": Published(
        math.nan, math.nan, math.nan,
        "nearest: Cooper C. et al. (2006) A national evaluation of Community Support Officers, Home Office "
        "Research Study 297 (England and Wales: more visible presence and reassurance, no consistent "
        "effect on recorded crime); from a summary, not re-verified here",
        "the model assumes village auxiliary officers guard like a weaker officer on post on duty and find and "
        "settle village disputes on their rounds (auxiliary_police.py, all assumed); not measured here",
        role="none"),
    "special_population_management": Published(
        math.nan, math.nan, math.nan,
        "nearest: Lipsey M.W. & Cullen F.T. (2007) The effectiveness of correctional rehabilitation, Annual "
        "Review of Law and Social Science 3:297-320 (rehabilitative programmes lower reoffending on average, "
        "supervision and surveillance alone little); from a summary, not re-verified here",
        f"the model assumes regular contact lowers a managed offender's offending by "
        f"{100 * _default(SpecialPopulationManagementParams, 'offending_reduction'):g} % and disputes in the "
        f"household by {100 * _default(SpecialPopulationManagementParams, 'dispute_reduction'):g} % "
        "(special_population_management.py, assumed, toward the upper end of treatment "
        "effects); not measured here", role="none"),
}


@dataclass
class EvidenceRow:
    """One measure: the model's value per replicate and the published figure."""

    key: str
    mechanism: str
    measure: str
    unit: str
    values: np.ndarray
    published: Published | None = None

    def interval(self) -> tuple[float, float, float]:
        """Mean and 95 % interval over replicates, on the scale the unit lives on.

        A percent change or a ratio cannot go below −100 % or 0: both are taken on the log-ratio
        scale (:func:`sim.experiments.summary.relative_change`: the geometric mean and the
        back-transformed t-interval), as the package comparisons are. Where a replicate's ratio is
        0 (no log), the plain t-interval is used with its ends clipped at that floor. Shares and
        levels use the plain t-interval.
        """
        v = np.asarray(self.values, dtype=float)
        if self.unit not in ("% change", "ratio"):
            return mean_interval(v)
        ratio = 1.0 + v / 100.0 if self.unit == "% change" else v
        point, lo, hi = relative_change(ratio, np.ones_like(ratio))
        if not np.isnan(point):
            return (point, lo, hi) if self.unit == "% change" else tuple(1.0 + x / 100.0 for x in (point, lo, hi))
        floor = -100.0 if self.unit == "% change" else 0.0
        mean, lo, hi = mean_interval(v)
        return mean, max(lo, floor), max(hi, floor)

    def record(self) -> dict:
        mean, lo, hi = self.interval()
        p = self.published
        verdict = "n/a"
        if p is not None and p.compared and not (math.isnan(lo) or math.isnan(hi)):
            verdict = "inside" if lo <= p.hi and hi >= p.lo else "outside"
        return {
            "key": self.key, "mechanism": self.mechanism, "measure": self.measure, "unit": self.unit,
            "model_mean": mean, "model_lo": lo, "model_hi": hi, "replicates": int(np.sum(~np.isnan(self.values))),
            "published": p.figure if p else math.nan, "published_lo": p.lo if p else math.nan,
            "published_hi": p.hi if p else math.nan, "verdict": verdict,
            "source": p.source if p else "", "note": p.note if p else "", "role": p.role if p else "context",
        }


# --------------------------------------------------------------------------- offence log
class OffenceLog(Observer):
    """Every counted offence of one run: year index, hour since the counted start, cell, type, recorded.

    An observer of the run's offences (:meth:`sim.model.PinganModel.observe`).

    Args:
        warmup_hours: The run's warm-up (hours are logged from the first counted hour).
    """

    def __init__(self, warmup_hours: int = 0):
        self.warmup_hours = warmup_hours
        self.year: list[np.ndarray] = []
        self.hour: list[np.ndarray] = []
        self.cell: list[np.ndarray] = []
        self.crime_type: list[np.ndarray] = []
        self.recorded: list[np.ndarray] = []

    def offences(self, hour: int, year: int, crime_type, cells, recorded) -> None:
        if year >= 0:
            self.add(year, hour - self.warmup_hours, crime_type, cells, recorded)

    def add(self, year: int, hour: int, crime_type, cells, recorded) -> None:
        n = len(cells)
        self.year.append(np.full(n, year, dtype=np.int16))
        self.hour.append(np.full(n, hour, dtype=np.int64))
        self.cell.append(np.asarray(cells, dtype=np.int64).copy())
        self.crime_type.append(np.asarray(crime_type, dtype=np.int8).copy())
        self.recorded.append(np.asarray(recorded, dtype=bool).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        """The log as arrays (one element per offence, in the order they happened)."""
        def cat(parts, dt):
            return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dtype=dt)
        return {"year": cat(self.year, np.int16), "hour": cat(self.hour, np.int64),
                "cell": cat(self.cell, np.int64), "crime_type": cat(self.crime_type, np.int8),
                "recorded": cat(self.recorded, bool)}


def _observed(task: Task) -> tuple[RunResult, dict[str, np.ndarray]]:
    # One run through run_one, with its offences logged.
    scenario = Scenario.model_validate_json(task.scenario_json)
    log = OffenceLog(warmup_hours=scenario.run.warmup_days * 24)
    result = run_one(scenario, task.replicate, task.seed, task.scale, observers=[log])
    return result, log.arrays()


# --------------------------------------------------------------------------- scenarios
def _scenario(name: str, base: str, overrides: list[str]) -> Scenario:
    # load_scenario merges the file, applies the overrides (apply_overrides) and validates.
    return load_scenario(base, [f"name={name}", *overrides])


def camera_scheme_sites(scenario: Scenario, scale: float) -> list[list[float]]:
    """A city-centre camera scheme like those Welsh & Farrington reviewed: the
    :data:`CAMERA_SCHEME_SHARE` of inhabited cells with the most attraction (markets, stations,
    nightlife), as ``[x, y]`` positions in km of the city built at ``scale``."""
    from sim.space.city import build_city

    city = build_city(scenario.city, scale)
    inhabited = np.flatnonzero(city.residents > 0)
    k = max(4, round(CAMERA_SCHEME_SHARE * len(inhabited)))
    top = inhabited[np.argsort(-city.attraction[inhabited], kind="stable")[:k]]
    return [[round(float(city.x_km[c]), 6), round(float(city.y_km[c]), 6)] for c in top]


def evidence_scenarios(overrides: list[str] | None = None, scale: float = 0.1) -> dict[str, Scenario]:
    """The harness's scenarios by role (see the module docstring); ``overrides`` apply to all; ``scale``
    places the camera scheme on the city built at that scale."""
    extra = list(overrides or [])
    base = _scenario("evidence_base", "suizhou_baseline", extra)
    units = base.policing.units_per_100k_residents
    sites = camera_scheme_sites(base, scale)
    scheme = [f"interventions.video.sites={sites}".replace(" ", ""), "interventions.video.placement=given",
              f"interventions.video.cameras={CAMERA_SCHEME_CAMERAS_PER_SITE * len(sites)}"]
    return {
        "base": base,
        "cameras": _scenario("evidence_cameras", "suizhou_baseline", [
            *extra, "interventions.video.enabled=true", "interventions.video.cameras=54000",
            "interventions.video.placement=hot_spots"]),
        "camera_scheme": _scenario("evidence_camera_scheme", "suizhou_baseline", [
            *extra, "interventions.video.enabled=true", *scheme]),
        "patrol_x2": _scenario("evidence_patrol_x2", "suizhou_baseline", [
            *extra, f"policing.units_per_100k_residents={2 * units}"]),
        "compounds": _scenario("evidence_compounds", "suizhou_baseline", [
            *extra, "interventions.smart_compounds.enabled=true",
            f"interventions.smart_compounds.count={COMPOUNDS_FULL_SCALE}"]),
        "hot_spots": _scenario("evidence_hot_spots", "suizhou_baseline", [*extra, *HOT_SPOT_PATROL]),
        "package": _scenario("suizhou_2022", "suizhou_2022", extra),
        "package_no_crackdown": _scenario("suizhou_2022_no_crackdown", "suizhou_2022",
                                          [*extra, "interventions.crackdown.enabled=false"]),
        "daqing": _scenario("daqing_2021", "daqing_2021", extra),
    }


# --------------------------------------------------------------------------- measures
def top_share(counts: np.ndarray, share: float = TOP_SHARE_OF_CELLS) -> float:
    """Share of the total held by the top ``share`` of cells (at least one cell), in percent.

    Cells are ranked by their own count; ties do not matter (the top k values are summed).
    """
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0 or len(c) == 0:
        return math.nan
    k = max(1, int(math.ceil(share * len(c))))
    return float(np.sort(c)[::-1][:k].sum() / total * 100.0)


def _close_pairs(cells: np.ndarray, hours: np.ndarray, window_h: float) -> int:
    # Pairs of offences in the same cell at most window_h apart (and at least one hour: the same
    # hour's offences are decided together, so they cannot be a repeat of each other).
    order = np.lexsort((hours, cells))
    c, h = cells[order], hours[order]
    n = 0
    for start, stop in _runs(c):
        hh = h[start:stop]
        if len(hh) < 2:
            continue
        right = np.searchsorted(hh, hh + window_h, side="right")
        left = np.searchsorted(hh, hh, side="right")  # skip same-hour partners
        n += int((right - left).sum())
    return n


def _runs(sorted_values: np.ndarray) -> list[tuple[int, int]]:
    if len(sorted_values) == 0:
        return []
    edges = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(sorted_values)]])
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def near_repeat_ratio(cells: np.ndarray, hours: np.ndarray, days: float = NEAR_REPEAT_DAYS,
                      permutations: int = NEAR_REPEAT_PERMUTATIONS, seed: int = 0) -> float:
    """Knox ratio: offence pairs close in space and time, observed over expected.

    Close in space: the same cell. Close in time: 1 hour to ``days`` days apart. Expected: the
    mean count over ``permutations`` random permutations of the offences' times among them
    (Johnson et al. 2007's Monte-Carlo method), which keeps each cell's count and the city's
    time profile but breaks any link between them. A ratio above 1 is space-time clustering
    beyond what the places' and times' own risks give.
    """
    cells, hours = np.asarray(cells), np.asarray(hours)
    if len(cells) < 3:
        return math.nan
    window = days * 24.0
    observed = _close_pairs(cells, hours, window)
    rng = stream(seed, "evidence.knox")
    expected = np.mean([_close_pairs(cells, rng.permutation(hours), window) for _ in range(permutations)])
    return float(observed / expected) if expected > 0 else math.nan


def _pct(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, (a - b) / b * 100.0, np.nan)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b != 0, a / b, np.nan)


def _metric(results: list[RunResult], name: str, year: int) -> np.ndarray:
    return np.array([float(r.rows[year][name]) for r in results])


def _measures(res: dict[str, list[RunResult]], logs: dict[str, list[dict]], seed: int,
              residents: np.ndarray) -> list[EvidenceRow]:
    base, cams, patrol, comp = res["base"], res["cameras"], res["patrol_x2"], res["compounds"]
    last = -1  # the intervention year of the suizhou_baseline-derived scenarios (their second year)
    rows: list[EvidenceRow] = []
    P = PUBLISHED

    # 1. Crime concentration: recorded offences of both counted years, by cell.
    rows.append(EvidenceRow("top5_share", "crime concentration", "share of recorded offences in the top 5 % of "
                            "cells (base, both years)", "%",
                            np.array([top_share(r.cell_incidents.sum(axis=0)) for r in base]), P["top5_share"]))
    # The same share for residents: what population alone would give (the city is the same in every replicate).
    rows.append(EvidenceRow("residents_top5", "crime concentration", "share of residents in the top 5 % of cells "
                            "(context: what population alone gives)", "%",
                            np.full(len(base), top_share(residents))))

    # 2. Cameras: intervention year, paired with base (common random numbers).
    rows.append(EvidenceRow("cameras_preventable", "cameras", "recorded preventable cases, cameras vs none",
                            "% change", _pct(_metric(cams, "preventable_cases", last),
                                             _metric(base, "preventable_cases", last)), P["cameras_preventable"]))
    rows.append(EvidenceRow("cameras_vehicle", "cameras", "recorded vehicle crime, cameras vs none", "% change",
                            _pct(_metric(cams, "recorded_vehicle_crime", last),
                                 _metric(base, "recorded_vehicle_crime", last)), P["cameras_vehicle"]))
    rows.append(EvidenceRow("cameras_theft", "cameras", "recorded theft, cameras vs none", "% change",
                            _pct(_metric(cams, "recorded_theft", last), _metric(base, "recorded_theft", last))))
    covered = [_pct(c.cell_incidents[last][c.treated_cells].sum(), b.cell_incidents[last][c.treated_cells].sum())
               for c, b in zip(cams, base, strict=True)]
    rows.append(EvidenceRow("cameras_covered_cells", "cameras", "recorded offences in camera cells, cameras vs none",
                            "% change", np.array(covered, dtype=float), P["cameras_covered_cells"]))

    # The meta-analysis's design on the camera scheme's run itself: camera cells against matched control
    # cells, the year before the cameras and the year with them (relative effect size, read as a change).
    area = []
    for c in res["camera_scheme"]:
        treated, controls = _treated_and_controls(c, c.treated_cells, residents)
        a, b = c.cell_incidents[0][treated].sum(), c.cell_incidents[last][treated].sum()
        cc, d = c.cell_incidents[0][controls].sum(), c.cell_incidents[last][controls].sum()
        area.append(relative_effect_size(a, b, cc, d).change_pct if min(a, b, cc, d) > 0 else math.nan)
    rows.append(EvidenceRow("cameras_area_vs_control", "cameras", "recorded offences in a city-centre camera "
                            "scheme's cells against matched control cells, the year before and the year with "
                            "cameras (Welsh & Farrington's design)", "% change", np.array(area, dtype=float),
                            P["cameras_area_vs_control"]))

    # 3. Patrol presence doubled: calls city-wide, and recorded offences at the base's hot spots.
    rows.append(EvidenceRow("patrol_calls", "hot-spot patrol", "calls for service, patrol units x2 vs x1",
                            "% change", _pct(_metric(patrol, "calls_for_service", last),
                                             _metric(base, "calls_for_service", last)), P["patrol_calls"]))
    hot = []
    for p, b in zip(patrol, base, strict=True):
        first = b.cell_incidents[0]
        k = max(1, int(math.ceil(TOP_SHARE_OF_CELLS * len(first))))
        cells = np.argsort(-first, kind="stable")[:k]
        hot.append(_pct(p.cell_incidents[last][cells].sum(), b.cell_incidents[last][cells].sum()))
    rows.append(EvidenceRow("patrol_hotspot_offences", "hot-spot patrol", "recorded offences at the base's top 5 % "
                            "cells, patrol units x2 vs x1", "% change", np.array(hot, dtype=float),
                            P["patrol_hotspot_offences"]))

    # 4. Near repeats (base, both counted years on one clock).
    for key, types, label in (("near_repeat_burglary", [BURGLARY], "burglary"),
                              ("near_repeat_preventable", _PREVENTABLE.tolist(), "preventable cases")):
        vals = []
        for r, lg in enumerate(logs["base"]):
            m = np.isin(lg["crime_type"], types)
            vals.append(near_repeat_ratio(lg["cell"][m], lg["hour"][m], seed=seed + r))
        rows.append(EvidenceRow(key, "near repeats", f"Knox ratio, {label}, same cell, <= 14 days (base)", "ratio",
                                np.array(vals), P[key]))
    repeats = _metric(base, "repeat_victimisations", last) / _metric(base, "offences_true", last)
    rows.append(EvidenceRow("repeat_victims", "near repeats", "offences against a resident already victimised "
                            "that year (base)", "%", repeats * 100.0, P["repeat_victims"]))

    # 5. Smart compounds: burglary (true) in compound cells and offences next door, vs base.
    burg, rob, ring = [], [], []
    for c, lc, lb, b in zip(comp, logs["compounds"], logs["base"], base, strict=True):
        cells, year = c.treated_cells, len(c.rows) - 1
        burg.append(_ratio(_count(lc, year, cells, BURGLARY), _count(lb, year, cells, BURGLARY)))
        rob.append(_ratio(_count(lc, year, cells, ROBBERY), _count(lb, year, cells, ROBBERY)))
        n = c.cell_offences_true.shape[1]
        nb = np.zeros(n, dtype=bool)
        ring_cells = _ring(c, cells)
        nb[ring_cells] = True
        ring.append(_ratio(c.cell_offences_true[last][nb].sum(), b.cell_offences_true[last][nb].sum()))
    rows.append(EvidenceRow("compound_burglary_ratio", "smart compounds", "burglaries in compound cells, with / "
                            "without compounds (true counts)", "ratio", np.array(burg, dtype=float),
                            P["compound_burglary_ratio"]))
    rows.append(EvidenceRow("compound_robbery_ratio", "smart compounds", "robberies in compound cells, with / "
                            "without (true counts; few events)", "ratio", np.array(rob, dtype=float)))
    rows.append(EvidenceRow("compound_ring_ratio", "smart compounds", "offences in adjacent cells, with / without "
                            "(displacement)", "ratio", np.array(ring, dtype=float), P["compound_ring_ratio"]))

    # 6. Mediation (Daqing, the package year).
    rows.append(EvidenceRow("mediation_success", "mediation", "share of mediated disputes that settle (daqing_2021, "
                            "2021)", "%", _metric(res["daqing"], "mediation_success_rate", last) * 100.0,
                            P["mediation_success"]))
    rows.append(EvidenceRow("dispute_resolved_share", "mediation", "disputes resolved over disputes found, every "
                            "channel (daqing_2021, 2021)", "%",
                            _metric(res["daqing"], "disputes_resolved_rate", last) * 100.0,
                            P["dispute_resolved_share"]))

    # 7. The seeds' headline packages, year on year.
    pkg, dq = res["package"], res["daqing"]
    rows.append(EvidenceRow("package_preventable", "Suizhou package", "recorded preventable cases 2022 vs 2021",
                            "% change",
                            _pct(_metric(pkg, "preventable_cases", 1), _metric(pkg, "preventable_cases", 0)),
                            P["package_preventable"]))
    rows.append(EvidenceRow("package_calls", "Suizhou package", "calls for service 2022 vs 2021", "% change",
                            _pct(_metric(pkg, "calls_for_service", 1), _metric(pkg, "calls_for_service", 0)),
                            P["package_calls"]))
    rows.append(EvidenceRow("daqing_effective", "Daqing package", "effective incidents 2021 vs 2020", "% change",
                            _pct(_metric(dq, "effective_incidents", 1), _metric(dq, "effective_incidents", 0)),
                            P["daqing_effective"]))
    # 8. Seed interventions without a comparable published evaluation: what the model assumes.
    pkg_cd = _pct(_metric(pkg, "preventable_cases", last), _metric(res["package_no_crackdown"], "preventable_cases",
                                                                   last))
    rows.append(EvidenceRow("crackdown_package", "crackdown campaigns", "recorded preventable cases 2022, the "
                            "Suizhou package against the same package without its campaigns", "% change", pkg_cd,
                            P["crackdown_package"]))
    none = np.full(len(base), math.nan)
    for key, mechanism in (("two_station_linkage", "two-station linkage"), ("auxiliary_police", "auxiliary police"),
                           ("special_population_management", "special-population management")):
        rows.append(EvidenceRow(key, mechanism, "no comparable published effect; what the model assumes",
                                "", none, P[key]))
    return rows


def _treated_and_controls(result: RunResult, cells: np.ndarray, residents: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Treated cells and their matched controls (:func:`sim.experiments.designs.match_controls`): the nearest
    untreated cell on the first counted year's recorded offences and residents, none next to a treated cell.
    Treated cells left without a control are dropped."""
    cells = np.unique(np.asarray(cells, dtype=np.int64))
    eligible = np.ones(result.cell_incidents.shape[1], dtype=bool)
    eligible[cells] = False
    eligible[_ring(result, cells)] = False
    features = np.column_stack([result.cell_incidents[0], residents])
    controls = match_controls(features, cells, eligible)
    kept = controls >= 0
    return cells[kept], controls[kept]


def _count(log: dict[str, np.ndarray], year: int, cells: np.ndarray, crime_type: int) -> float:
    # Offences of one type in ``cells`` during counted year ``year`` of a logged run.
    m = (log["year"] == year) & np.isin(log["cell"], cells) & (log["crime_type"] == crime_type)
    return float(m.sum())


def _ring(result: RunResult, cells: np.ndarray) -> np.ndarray:
    # Cells within one lattice step of the treated cells, not treated themselves (8-neighbourhood).
    xy = result.cell_xy
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int64)
    step = np.min(np.diff(np.unique(xy[:, 0]))) if len(np.unique(xy[:, 0])) > 1 else 1.0
    d = np.max(np.abs(xy[:, None, :] - xy[None, cells, :]), axis=2).min(axis=1)
    near = np.flatnonzero(d <= step * 1.01)
    return np.setdiff1d(near, cells)


# --------------------------------------------------------------------------- hot-spot patrol
def _hot_spot_patrol_rows(base: list[RunResult], hot: list[RunResult], residents: np.ndarray) -> list[EvidenceRow]:
    """The hot-spot patrol's rows: its hot spots and the cells next to them, intervention year, vs base
    (paired replicates); the trial's design, treated against matched control spots in the rota's own run;
    and Koper's survival time after a stop."""
    last = -1
    spots, ring, trial = [], [], []
    for h, b in zip(hot, base, strict=True):
        cells = h.sites["hot_spot_patrol"]
        spots.append(_pct(h.cell_incidents[last][cells].sum(), b.cell_incidents[last][cells].sum()))
        around = _ring(h, cells)
        ring.append(_pct(h.cell_incidents[last][around].sum(), b.cell_incidents[last][around].sum()))
        treated, controls = _treated_and_controls(h, cells, residents)
        if len(treated) >= 2:
            trial.append(spot_comparison(h.cell_incidents[0][treated], h.cell_incidents[last][treated],
                                         h.cell_incidents[0][controls], h.cell_incidents[last][controls]).relative_pct)
        else:
            trial.append(math.nan)
    return [
        EvidenceRow("hot_spots_vs_control_spots", "hot-spot patrol", "recorded offences at the rota's hot spots "
                    "against matched control spots, the year before and the year of the rota (Sherman & "
                    "Weisburd's design)", "% change", np.array(trial, dtype=float),
                    PUBLISHED["hot_spots_vs_control_spots"]),
        EvidenceRow("hot_spot_patrol_offences", "hot-spot patrol", "recorded offences at the rota's hot spots, "
                    "hot-spot patrol vs none", "% change", np.array(spots, dtype=float),
                    PUBLISHED["hot_spot_patrol_offences"]),
        EvidenceRow("hot_spot_patrol_ring", "hot-spot patrol", "recorded offences in cells adjacent to the hot "
                    "spots, hot-spot patrol vs none (displacement > 0 > diffusion)", "% change",
                    np.array(ring, dtype=float)),
        EvidenceRow("hot_spot_survival_h", "hot-spot patrol", "median hours from a rota unit leaving a hot spot "
                    "to the next recorded offence there (Koper's survival time)", "hours",
                    _metric(hot, "hot_spot_survival_h", last)),
    ]


# --------------------------------------------------------------------------- running
#: Per role, the parameters a role's lever multiplies (its factor over the base run): a per-replicate
#: parameter set that sets one of them has it multiplied too (:class:`ScaledDraw`).
RELATIVE_LEVERS = {"patrol_x2": {"policing.units_per_100k_residents": 2.0}}


class ScaledDraw:
    """A per-replicate parameter set (a :data:`Vary`) with some parameters multiplied by a lever's factor.

    A lever that doubles a parameter which the set also draws would otherwise be overwritten by the
    draw: both runs would have the draw's value and the comparison would show no change. Here the
    lever wins relative to the draw: the doubled run gets twice the draw's value.
    """

    def __init__(self, vary: Vary, factors: dict[str, float]):
        self.vary, self.factors = vary, factors

    def __call__(self, scenario: Scenario, replicate: int) -> tuple[Scenario, dict]:
        from sim.calibration.posterior import with_parameters

        scen, values = self.vary(scenario, replicate)
        scaled = {k: f * values[k] for k, f in self.factors.items() if k in values}
        if not scaled:
            return scen, values
        return with_parameters(scen, scaled), {**values, **scaled}


def run_evidence(scale: float = 0.1, replicates: int = 8, jobs: int = 1, seed: int = 1,
                 overrides: list[str] | None = None, progress: bool = True, vary: Vary | None = None) -> pd.DataFrame:
    """Run the harness's scenarios and measure every mechanism.

    Args:
        scale: Fraction of the full city.
        replicates: Replicates per scenario (the same seeds in every scenario).
        jobs: Worker processes.
        seed: Base seed of the replicates.
        overrides: ``key.path=value`` overrides applied to every scenario (e.g. a city parameter).
        progress: Show progress bars.
        vary: Per-replicate parameter sets (e.g. :class:`sim.experiments.pipeline.PosteriorDraws`): replicate
            *r* of every scenario runs ``vary(scenario, r)``.

    Returns:
        One row per measure (see :meth:`EvidenceRow.record` for the columns).
    """
    if replicates < 2:
        raise ValueError(f"replicates must be >= 2 to give an interval, got {replicates}")
    scen = evidence_scenarios(overrides, scale)
    logged = ("base", "compounds")
    res: dict[str, list[RunResult]] = {}
    logs: dict[str, list[dict]] = {}
    tasks = {role: scenario_tasks([s], replicates, seed, scale,
                                  ScaledDraw(vary, RELATIVE_LEVERS[role]) if vary and role in RELATIVE_LEVERS else vary)
             for role, s in scen.items()}
    plain = [t for role in scen if role not in logged for t in tasks[role]]
    observed = [t for role in logged for t in tasks[role]]
    with local_workers():
        out = Parallel(n_jobs=max(1, jobs))(delayed(_observed)(t) for t in observed)
    for i, role in enumerate(logged):
        part = out[i * replicates:(i + 1) * replicates]
        res[role] = [r for r, _ in part]
        logs[role] = [lg for _, lg in part]
    done = run_tasks(plain, jobs=jobs, progress=progress)
    i = 0
    for role in scen:
        if role in logged:
            continue
        res[role] = done[i:i + replicates]
        i += replicates
    residents = _residents_per_cell(scen["base"], scale)
    rows = _measures(res, logs, seed, residents) + _hot_spot_patrol_rows(res["base"], res["hot_spots"], residents)
    return pd.DataFrame([row.record() for row in rows])


def _residents_per_cell(scenario: Scenario, scale: float) -> np.ndarray:
    from sim.space.city import build_city

    return build_city(scenario.city, scale).residents


def evidence_table(df: pd.DataFrame) -> str:
    """The evidence as a markdown table."""
    def num(x, digits=1):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"

    lines = ["| mechanism | measure | model mean [95 % CI] | published (range) | verdict | source |",
             "|---|---|---|---|---|---|"]
    for r in df.itertuples():
        d = 2 if r.unit == "ratio" else 1
        model = f"{num(r.model_mean, d)} [{num(r.model_lo, d)}, {num(r.model_hi, d)}] {r.unit}"
        pub = "" if math.isnan(r.published_lo) else (
            f"{num(r.published, d) or ('> 1' if r.unit == 'ratio' else '')} "
            f"({num(r.published_lo, d)} to {num(r.published_hi, d)})").strip()
        src = r.source.split(":")[0] if r.source else ""
        lines.append(f"| {r.mechanism} | {r.measure} | {model} | {pub} | {r.verdict} | {src} |")
    return "\n".join(lines) + "\n"


def write_evidence(df: pd.DataFrame, out: Path) -> None:
    """Write ``evidence.csv`` and ``evidence.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(df, out / "evidence.csv", float_format="%.6g")
    (out / "evidence.md").write_text(evidence_table(df), encoding="utf-8")
