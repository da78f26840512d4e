"""Offending's parameters: every behavioural constant of routine-activity offending, with its source.

:class:`CrimeParams` is the ``crime:`` section of a scenario; calibration and sweeps vary its
fields. The land-use and hour-of-day tables below are its defaults.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.params import NonNegative, Params

__all__ = ["CrimeParams", "LAND_USES"]

#: Land uses, in the order of :class:`sim.space.city.LandUse`.
LAND_USES = ("urban_core", "commercial", "residential", "industrial", "town", "village")

_DEFAULT_LAND_USE = {
    # Relative opportunity per crime type in each land use (assumed; shaped after the
    # criminology of place: thefts in commercial centres, burglary in residential areas).
    "burglary": {"urban_core": 0.8, "commercial": 0.5, "residential": 1.2, "industrial": 0.4,
                 "town": 0.9, "village": 0.7},
    "theft": {"urban_core": 2.2, "commercial": 2.5, "residential": 0.7, "industrial": 0.8,
              "town": 1.0, "village": 0.3},
    "robbery": {"urban_core": 1.5, "commercial": 1.5, "residential": 0.8, "industrial": 0.8,
                "town": 0.8, "village": 0.3},
    "vehicle_crime": {"urban_core": 1.3, "commercial": 1.3, "residential": 1.2,
                      "industrial": 1.0, "town": 0.8, "village": 0.5},
    "fraud": {k: 1.0 for k in LAND_USES},
    "assault": {"urban_core": 1.6, "commercial": 1.6, "residential": 0.8, "industrial": 1.0,
                "town": 1.0, "village": 0.8},
}

_DEFAULT_HOURS = {
    # Relative hazard by hour of day (assumed; burglary peaks when homes are empty, street
    # crime in the evening, assault late at night).
    "burglary": [0.6, 0.5, 0.5, 0.4, 0.3, 0.3, 0.4, 0.6, 1.0, 1.4, 1.6, 1.5, 1.2, 1.3, 1.5,
                 1.6, 1.5, 1.3, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7],
    "theft": [0.3, 0.2, 0.2, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.4, 1.5, 1.6, 1.5, 1.4, 1.5, 1.6,
              1.7, 1.8, 1.7, 1.5, 1.3, 1.0, 0.7, 0.5],
    "robbery": [1.6, 1.5, 1.2, 0.9, 0.6, 0.4, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8,
                0.9, 1.0, 1.1, 1.3, 1.5, 1.7, 1.8, 1.8, 1.7],
    "vehicle_crime": [1.5, 1.6, 1.6, 1.4, 1.1, 0.8, 0.6, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8,
                      0.8, 0.8, 0.9, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
    "fraud": [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.3, 1.6, 1.7, 1.6, 1.3, 1.4, 1.6, 1.7,
              1.6, 1.4, 1.2, 1.2, 1.1, 0.9, 0.6, 0.4],
    "assault": [1.8, 1.7, 1.4, 1.0, 0.6, 0.3, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.8, 0.8,
                0.9, 1.0, 1.1, 1.3, 1.5, 1.7, 1.8, 1.9, 1.9],
}


class CrimeParams(Params):
    """Behavioural parameters of offending. Every one is a calibration or sweep handle."""


    attempts_per_offender_year: float = Field(
        2.4, ge=0, le=8760, description="Mean offence attempts per free motivated offender per year at "
        "average opportunity and no perceived risk (assumed; calibrated). 6 in the pre-evidence model, whose "
        "weaker, evidence-sized patrol deterrence lets more attempts through: 2.4 keeps a baseline "
        "year's offences within 2 % of before (Suizhou and Daqing, scale 0.1). At most 8 760, one an hour: "
        "the model steps by the hour."
    )
    type_share: dict[str, NonNegative] = Field(
        default={"burglary": 0.20, "theft": 0.42, "robbery": 0.012, "vehicle_crime": 0.14,
                 "fraud": 0.16, "assault": 0.07},
        description="Relative frequency of attempts by crime type (assumed; calibrated).",
    )
    land_use_opportunity: dict[str, dict[str, float]] = Field(
        default=_DEFAULT_LAND_USE, description="Opportunity by crime type and land use (assumed)."
    )
    hour_profile: dict[str, list[float]] = Field(
        default=_DEFAULT_HOURS, description="Relative hazard by hour of day (assumed)."
    )
    hangout_share: list[float] = Field(
        default=[0.1] * 6 + [0.3, 0.5, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7,
                             0.6, 0.5, 0.4, 0.3, 0.2],
        min_length=24, max_length=24,
        description="Share of offenders at their daytime hangout rather than home, by hour.",
    )
    guardian_sensitivity: dict[str, NonNegative] = Field(
        default={"burglary": 1.0, "theft": 0.8, "robbery": 1.0, "vehicle_crime": 0.9,
                 "fraud": 0.0, "assault": 0.5},
        description="How strongly guardians block each type; fraud is remote (assumed).",
    )
    occupancy_guard: float = Field(
        1.5, ge=0, description="Blocking hazard from a fully occupied home block (burglary) "
        "[per unit occupancy] (assumed; Cohen & Felson 1979 guardianship)."
    )
    street_guard: float = Field(
        0.3, ge=0, description="Blocking hazard from passers-by at saturation (assumed)."
    )
    street_guard_density: float = Field(
        2_000.0, gt=0, description="People present in a cell at which passers-by give 63 % of "
        "their saturating guardianship [persons] (assumed)."
    )
    patrol_guard: float = Field(
        0.15, ge=0, description="Blocking hazard per patrol unit in the cell. With ``presence_risk`` "
        "0.015, doubling patrol presence at hot spots cuts offences there by ~11 % (``pingan evidence``), "
        "inside the 6–13 % of hot-spot trials (Sherman & Weisburd 1995; Braga et al. 2019). 1.2 in the "
        "pre-evidence model (a 60 % cut)."
    )
    patrol_spill: float = Field(
        0.25, ge=0, le=1, description="Share of a unit's guardianship felt in adjacent cells."
    )
    post_guard: float = Field(
        0.8, ge=0, description="Blocking hazard per officer on a fixed post in the cell (assumed)."
    )
    displacement_prob: float = Field(
        0.3, ge=0, le=1, description="Chance a blocked offender tries a neighbouring cell "
        "(assumed; Guerette & Bowers 2009 found displacement in ~26 % of observations)."
    )
    near_repeat_boost: float = Field(
        0.5, ge=0, description="Added relative hazard in a cell after an offence (assumed; "
        "Johnson 2008)."
    )
    near_repeat_max: float = Field(
        5.0, ge=0, description="Cap on a cell's near-repeat boost (keeps low-deterrence sweeps bounded)."
    )
    near_repeat_spread: float = Field(
        0.15, ge=0, le=1, description="Share of the near-repeat boost given to adjacent cells (0.5 km "
        "cells: only their edges are within the ~200 m of Johnson et al. 2007; 0.3 in the pre-evidence model)."
    )
    near_repeat_half_life_days: float = Field(
        7.0, gt=0, description="Half-life of near-repeat risk [days] (Johnson 2008: 1–2 weeks)."
    )
    risk_sensitivity: float = Field(
        1.0, ge=0, description="Offenders' response to perceived risk: hazard × exp(−β·risk)."
    )
    arrest_risk: float = Field(
        0.4, ge=0, description="Perceived risk added in a cell by one arrest (assumed)."
    )
    arrest_risk_half_life_days: float = Field(
        30.0, gt=0, description="Half-life of the deterrence of an arrest [days] (assumed)."
    )
    presence_risk: float = Field(
        0.015, ge=0, description="Perceived risk per unit of remembered police presence "
        "(unit-hours, decayed) (Sherman & Weisburd 1995 residual deterrence; sized with "
        "``patrol_guard`` to the hot-spot trials; 0.15 in the pre-evidence model)."
    )
    presence_memory_half_life_h: float = Field(
        48.0, gt=0, description="Half-life of remembered police presence [hours] (assumed)."
    )
    camera_deterrence: float = Field(
        0.5, ge=0, description="Perceived risk in a fully covered cell (assumed; Welsh & "
        "Farrington 2009 CCTV meta-analysis: ~13 % fewer crimes, more in car parks)."
    )
    camera_awareness: float = Field(
        0.6, ge=0, le=1, description="Share of offenders who know where cameras are (assumed)."
    )
    camera_deterrence_by_type: dict[str, NonNegative] = Field(
        default={"burglary": 1.5, "theft": 1.5, "robbery": 0.3, "vehicle_crime": 4.0, "fraud": 0.0,
                 "assault": 0.0},
        description="Camera deterrence by crime type, a multiplier of ``camera_deterrence``, with "
        "``camera_deterrence_model`` ``by_crime_type`` (the default; unused with ``perceived_risk``): cameras "
        "deter each type separately, the type's opportunity × exp(−β · camera_deterrence × "
        "camera_awareness × multiplier × cover). Evidence (Welsh & Farrington 2009, CCTV meta-analysis: "
        "~−16 % overall, car parks ~−51 %, city centres small; violent crime ~0; remote fraud not "
        "deterred): vehicle crime highest, burglary and theft moderate, robbery low, assault and fraud "
        "0, the defaults. Measured (``pingan evidence``): preventable offences in covered cells ~−17 %, "
        "vehicle crime ~−47 %.",
    )
    camera_deterrence_model: Literal["by_crime_type", "perceived_risk"] = Field(
        "by_crime_type", description="How cameras deter. ``by_crime_type`` (the default): each crime type "
        "separately, its opportunity in a cell × exp(−β · camera_deterrence × camera_awareness × the type's "
        "``camera_deterrence_by_type`` weight × cover), after the field evidence (Welsh & Farrington 2009). "
        "``perceived_risk``: one camera term, camera_deterrence × camera_awareness × cover, in the cell's "
        "perceived risk, the same for every type (the model before the evidence-based defaults; the weights "
        "are then unused)."
    )
    crowding_cap: float = Field(
        10.0, gt=0, description="Crowding (people present per resident) beyond which theft, robbery and "
        "assault opportunity stops growing (assumed). A higher cap lets crowded attractors (markets, "
        "stations, nightlife streets) concentrate street crime (Brantingham & Brantingham 1995 crime "
        "generators; Weisburd 2015: ~50 % of crime at ~5 % of places). 3 in the pre-evidence model."
    )
    place_choice: bool = Field(
        False, description="Whether an offender who is out (the hour's hangout share) chooses where to "
        "attempt among the hangout and its neighbours, weighted by the cell's opportunity × "
        "exp(−place_choice_risk_sensitivity · perceived risk) (rational choice and crime pattern "
        "theory: Cornish & Clarke 1986, Brantingham & Brantingham 1993; Bernasco & Block 2009 "
        "location choice). Off (the default): the offender acts at the hangout."
    )
    place_choice_risk_sensitivity: float = Field(
        1.0, ge=0, description="β of the place choice: weight of a cell = opportunity × exp(−β · perceived "
        "risk) (assumed; only with ``place_choice``)."
    )
    near_repeat_by_type: dict[str, NonNegative] = Field(
        default={"burglary": 2.0, "theft": 0.7, "robbery": 0.5, "vehicle_crime": 1.5, "fraud": 0.0,
                 "assault": 0.2},
        description="Near-repeat boost an offence of each type leaves, a multiplier of ``near_repeat_boost`` "
        "(1.0 for every type in the pre-evidence model). Evidence, the defaults: strongest for burglary "
        "(Johnson et al. 2007; Bowers & Johnson 2004) and vehicle crime, weaker for theft and robbery, little "
        "for assault (Youstin et al. 2011), none for remote fraud (weights average ~0.9 over the type mix). "
        "The distance decay is ``near_repeat_spread`` (neighbouring 0.5 km cells: only their edges are "
        "within ~200 m), the window ``near_repeat_half_life_days`` (~14 days)."
    )
    repeat_victim_share: float = Field(
        0.28, ge=0, le=1, description="Chance an offence targets the resident last victimised in the cell "
        "(the same target again: Bowers & Johnson 2004's boost account) rather than a resident drawn at "
        "random; 0 (the pre-evidence model) draws every victim at random. Evidence: repeat victims suffer a large "
        "share of crime (Farrell & Pease 1993: 4 % of respondents had 44 % of the BCS's crime); 0.28 "
        "makes ~20 % of offences repeats within the year (an assumed, conservative reading), measured by "
        "``repeat_victimisations``."
    )
    incapacitation_days: float = Field(
        150.0, ge=0, description="Mean days an arrested offender is held (detention or prison; "
        "assumed)."
    )
    serious_assault_share: float = Field(
        0.12, ge=0, le=1, description="Share of assaults that are serious injuries (assumed)."
    )
    homicide_share: float = Field(
        0.03, ge=0, le=1, description="Share of assaults that end in death (assumed)."
    )

