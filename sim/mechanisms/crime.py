"""Offending by routine activity (犯罪): offender, target, and the absence of a guardian.

Every hour each free motivated offender may attempt an offence where they are (home cell,
or their hangout by day). The attempt hazard grows with the cell's opportunities for each
crime type and with near-repeat risk, and shrinks with the offender's perceived risk
(recent arrests nearby, remembered police presence, cameras, crackdown publicity) — the
deterrence feedback. An attempt succeeds unless a capable guardian blocks it: residents at
home or in the street, patrol units in or beside the cell, officers on fixed posts, and
whatever guardians interventions add. A blocked offender moves to a neighbouring cell and
tries once more (displacement) or gives up (desistance); both are recorded.

Options whose defaults leave the model as it was (issue 15; evidence-based values are the
override sets in :mod:`sim.experiments.evidence`): cameras deterring each crime type by its own
weight (``camera_deterrence_by_type``), the crowding cap of street opportunity
(``crowding_cap``), an offender's choice among the hangout and its neighbours
(``place_choice``), the near-repeat boost by crime type (``near_repeat_by_type``), and
offenders returning to the cell's last victim (``repeat_victim_share``). Each offence records
when its victim was last victimised, so repeat victimisation is counted
(``repeat_victimisations``).

The formulas (perceived risk, the attempt hazard, guardianship, the blocking chance and the
near-repeat spread) are written once, in plain Python, below the parameters; the compiled
hour (``_offend`` and its parts, at the end) calls their compiled copies, and
``tests/test_crime.py`` checks that both give the same values.

Crime types: burglary (入室盗窃), theft (盗窃), robbery (抢劫/抢夺), vehicle crime (盗窃机动车/
车内财物), fraud (诈骗) and assault (故意伤害). The first four are the seeds' preventable
cases (可防性案件).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from sim.params import NonNegative, Params
from sim.rng import event_keys, event_uniforms, keyed_uniform, keyed_uniforms, stream, term_of

__all__ = ["CRIME_TYPES", "PREVENTABLE", "CrimeParams", "Offences", "Offending", "log_logistic", "log_logistic_one",
           "perceived_risk", "attempt_hazard", "camera_factor", "place_weight", "guardianship", "block_probability",
           "add_near"]

CRIME_TYPES: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime", "fraud", "assault")
PREVENTABLE: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime")
BURGLARY, THEFT, ROBBERY, VEHICLE, FRAUD, ASSAULT = range(6)
# Rows of Offending._cell_state: the per-cell memories that decay every hour.
_NEAR_REPEAT, _ARREST_RISK, _PRESENCE_MEMORY = range(3)
# Above this many offenders, a draw uses keys hashed once per offender (keyed_uniforms);
# up to it, event_uniforms' compiled path is cheaper. Both give the same values.
_KEYED_ABOVE = 8
# The draws of an offence, each keyed by offender and hour: rows of OffenderArrays.draw_keys.
_DRAWS = ("offending.place", "offending.type", "offending.block", "offending.displace", "offending.where",
          "offending.severity", "offending.victim")
_PLACE, _TYPE, _BLOCK, _MOVE, _WHERE, _SEVERITY, _VICTIM = range(len(_DRAWS))
# Calls of Offending.step whose attempt draws are drawn at once.
_ATTEMPT_BLOCK = 24
# Rows of Offending._out, where the compiled hour writes its offences.
_OUT_SLOT, _OUT_CELL, _OUT_TYPE, _OUT_DISPLACED, _OUT_SERIOUS, _OUT_HOMICIDE, _OUT_VICTIM, _OUT_PRIOR = range(8)
_OUT_ROWS = 8
# Rows of Offending._type_weights: per crime type, the camera deterrence and near-repeat boost multipliers.
_CAMERA_WEIGHT, _REPEAT_WEIGHT = range(2)
# What became of an attempt that guardians could block (_guarded_attempt).
_COMMITTED, _DESISTED, _BLOCKED_AGAIN, _DISPLACED = range(4)
#: Burglary opportunity of a home that is empty, relative to the average home (assumed).
_VACANCY_OPPORTUNITY = 2.0
_LAND_USES = ("urban_core", "commercial", "residential", "industrial", "town", "village")

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
    "fraud": {k: 1.0 for k in _LAND_USES},
    "assault": {"urban_core": 1.6, "commercial": 1.6, "residential": 0.8, "industrial": 1.0,
                "town": 1.0, "village": 0.8},
}

_FLAT = [1.0] * 24
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
        2.4, ge=0, description="Mean offence attempts per free motivated offender per year at "
        "average opportunity and no perceived risk (assumed; calibrated). 6 before issue 15, whose "
        "weaker, evidence-sized patrol deterrence lets more attempts through: 2.4 keeps a baseline "
        "year's offences within 2 % of before (Suizhou and Daqing, scale 0.1)."
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
        "inside the 6–13 % of hot-spot trials (Sherman & Weisburd 1995; Braga et al. 2019). 1.2 before "
        "issue 15 (a 60 % cut)."
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
        "cells: only their edges are within the ~200 m of Johnson et al. 2007; 0.3 before issue 15)."
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
        "``patrol_guard`` to the hot-spot trials; 0.15 before issue 15)."
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
        description="Camera deterrence by crime type, a multiplier of ``camera_deterrence`` (1.0 for every "
        "type, the model before issue 15, is one camera risk for all: the cell's perceived risk). Otherwise cameras "
        "deter each type separately: the type's opportunity × exp(−β · camera_deterrence × "
        "camera_awareness × multiplier × cover). Evidence (Welsh & Farrington 2009, CCTV meta-analysis: "
        "~−16 % overall, car parks ~−51 %, city centres small; violent crime ~0; remote fraud not "
        "deterred): vehicle crime highest, burglary and theft moderate, robbery low, assault and fraud "
        "0, the defaults. Measured (``pingan evidence``): preventable offences in covered cells ~−17 %, "
        "vehicle crime ~−47 %.",
    )
    crowding_cap: float = Field(
        10.0, gt=0, description="Crowding (people present per resident) beyond which theft, robbery and "
        "assault opportunity stops growing (assumed). A higher cap lets crowded attractors (markets, "
        "stations, nightlife streets) concentrate street crime (Brantingham & Brantingham 1995 crime "
        "generators; Weisburd 2015: ~50 % of crime at ~5 % of places). 3 before issue 15."
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
        "(1.0 for every type before issue 15). Evidence, the defaults: strongest for burglary (Johnson et al. 2007; "
        "Bowers & Johnson 2004) and vehicle crime, weaker for theft and robbery, little for assault "
        "(Youstin et al. 2011), none for remote fraud (weights average ~0.9 over the type mix). "
        "The distance decay is ``near_repeat_spread`` (neighbouring 0.5 km cells: only their edges are "
        "within ~200 m), the window ``near_repeat_half_life_days`` (~14 days)."
    )
    repeat_victim_share: float = Field(
        0.28, ge=0, le=1, description="Chance an offence targets the resident last victimised in the cell "
        "(the same target again: Bowers & Johnson 2004's boost account) rather than a resident drawn at "
        "random; 0 (before issue 15) draws every victim at random. Evidence: repeat victims suffer a large "
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


#: Offences.victim_last_victimised of an hour without offences (read-only, shared).
_NO_PRIOR = np.zeros(0, dtype=np.int64)
_NO_PRIOR.flags.writeable = False


@dataclass
class Offences:
    """Offences committed in one hour (parallel arrays), and the attempts guardians blocked.

    ``attempts_blocked`` counts attempts that ended blocked (at the offender's place, or
    again next door); ``attempts_displaced`` counts blocked attempts that moved next door
    (whether or not they then succeeded, as ``displaced`` offences).
    """

    offender: np.ndarray  # resident index
    offender_slot: np.ndarray  # index into Offending.offenders
    cell: np.ndarray
    crime_type: np.ndarray
    displaced: np.ndarray
    serious: np.ndarray
    homicide: np.ndarray
    victim: np.ndarray  # resident index of the victim
    attempts_blocked: int = 0
    attempts_displaced: int = 0
    #: Hour the victim was last victimised before this offence (−1: never): repeat victimisation.
    victim_last_victimised: np.ndarray = field(default_factory=lambda: _NO_PRIOR)

    def __len__(self) -> int:
        return len(self.cell)


def log_logistic(u: np.ndarray, median: np.ndarray | float, shape: float) -> np.ndarray:
    """Inverse CDF of a log-logistic distribution (a heavy-tailed delay or duration)."""
    u = np.minimum(np.maximum(u, 1e-12), 1 - 1e-12)  # np.clip, without its wrapper's overhead
    return median * (u / (1 - u)) ** (1.0 / shape)


def log_logistic_one(u: float, median: float, shape: float) -> float:
    """:func:`log_logistic` for one value, in plain Python floats: the same value, without numpy's
    per-call overhead (vectorised, numpy's power can differ in the last bit: keep one value scalar)."""
    u = min(max(u, 1e-12), 1 - 1e-12)
    return median * (u / (1 - u)) ** (1.0 / shape)


# ------------------------------------------------------------------------------------------
# The formulas of offending, each written once in plain Python. They take numpy arrays (as
# Offending's methods and the tests use them) or floats; the compiled hour calls their
# njit-compiled copies (the _-prefixed names), which evaluate the same float operations.

def perceived_risk(arrest_risk, presence_memory, camera_cover, presence_risk, camera_risk):
    """Risk an offender perceives in a cell: recent arrests, remembered police presence, cameras.

    Args:
        arrest_risk: Decayed risk from arrests in and next to the cell.
        presence_memory: Remembered police presence (unit-hours, decayed).
        camera_cover: Share of the cell covered by cameras (0–1).
        presence_risk: ``CrimeParams.presence_risk``.
        camera_risk: ``camera_deterrence × camera_awareness``.
    """
    return arrest_risk + presence_risk * presence_memory + camera_risk * camera_cover


def attempt_hazard(base_rate, opportunity, near_repeat, risk, risk_sensitivity, propensity):
    """Chance an offender attempts an offence in a cell this hour (a small hazard, compared with a uniform).

    ``base_rate × opportunity × (1 + near-repeat boost) × exp(−β · perceived risk) × propensity``,
    multiplied left to right.

    Args:
        base_rate: Attempts per offender-hour per unit of relative opportunity (λ).
        opportunity: Relative opportunity in the cell (summed over crime types).
        near_repeat: The cell's near-repeat boost.
        risk: Perceived risk in the cell (:func:`perceived_risk`).
        risk_sensitivity: β.
        propensity: The offender's offending propensity.
    """
    return base_rate * opportunity * (1 + near_repeat) * np.exp(-risk_sensitivity * risk) * propensity


def camera_factor(camera_cover, camera_risk, type_weight, risk_sensitivity):
    """Share of a crime type's opportunity left in a cell by camera deterrence of that type.

    ``exp(−β · camera_risk × type_weight × cover)``: used when cameras deter crime types separately
    (``CrimeParams.camera_deterrence_by_type`` not all 1), instead of the camera term of
    :func:`perceived_risk`.

    Args:
        camera_cover: Share of the cell covered by cameras (0–1).
        camera_risk: ``camera_deterrence × camera_awareness``.
        type_weight: The type's ``camera_deterrence_by_type`` multiplier.
        risk_sensitivity: β.
    """
    return np.exp(-risk_sensitivity * (camera_risk * type_weight * camera_cover))


def place_weight(opportunity, risk, beta):
    """Weight of a cell in an offender's choice of where to attempt: opportunity × exp(−β · risk)."""
    return opportunity * np.exp(-beta * risk)


def guardianship(resident_guard, patrol_units, posts, extra, type_extra, sensitivity, patrol_guard, post_guard):
    """Blocking hazard in a cell against a crime type (Cohen & Felson's capable guardian).

    Args:
        resident_guard: Occupants at home (burglary) or passers-by (other types).
        patrol_units: Patrol guardianship in the cell (units there plus a share of those next door).
        posts: Officers on fixed posts in the cell.
        extra: Guardians interventions add against every type.
        type_extra: Guardians interventions add against this type.
        sensitivity: How strongly guardians block this type (``guardian_sensitivity``).
        patrol_guard, post_guard: Blocking hazard per patrol unit and per officer on a post.
    """
    return (resident_guard + patrol_guard * patrol_units + post_guard * posts + extra + type_extra) * sensitivity


def block_probability(guardianship):
    """Chance guardians block an attempt, from their blocking hazard."""
    return 1 - np.exp(-guardianship)


def add_near(layer: np.ndarray, cells: np.ndarray, neighbours: np.ndarray, amount: float, spread: float) -> None:
    """Add ``amount`` to ``layer`` at each of ``cells`` and ``amount × spread`` at each of their neighbours.

    In order, repeats adding up (``np.add.at``): first every cell, then every cell's
    neighbours in the neighbour table's order. Near-repeat risk after offences and
    arrest deterrence after arrests spread this way.
    """
    np.add.at(layer, cells, amount)
    nb = neighbours[cells].ravel()
    np.add.at(layer, nb[nb >= 0], amount * spread)


_perceived_risk = njit(cache=True)(perceived_risk)
_attempt_hazard = njit(cache=True)(attempt_hazard)
_guardianship = njit(cache=True)(guardianship)
_block_probability = njit(cache=True)(block_probability)
_camera_factor = njit(cache=True)(camera_factor)
_place_weight = njit(cache=True)(place_weight)


# The compiled hour's inputs, by name. Python passes them as plain tuples (numba types a plain
# tuple in its fast C path; a named one costs microseconds a call) and the kernel rebuilds the
# named record, so every field is read by name.

class OffendingConstants(NamedTuple):
    """The scalar parameters of an hour of offending (from :class:`CrimeParams`)."""

    base_rate: float  # λ [attempts per offender-hour per unit of relative opportunity], from attempts_per_offender_year
    risk_sensitivity: float  # β
    presence_risk: float  # [risk per remembered unit-hour]
    camera_risk: float  # camera_deterrence × camera_awareness [risk in a fully covered cell]
    patrol_guard: float  # [blocking hazard per patrol unit]
    post_guard: float  # [blocking hazard per officer on a post]
    displacement_prob: float
    near_repeat_boost: float  # [relative hazard added per offence]
    near_repeat_spread: float  # share of the boost given to adjacent cells
    near_repeat_max: float
    homicide_share: float  # of assaults
    serious_assault_share: float  # of assaults
    camera_by_type: bool  # cameras deter each type by its weight (else: the camera term of perceived risk)
    type_camera_risk: float  # camera_deterrence × camera_awareness, used with camera_by_type
    place_choice: bool  # an offender who is out chooses among the hangout and its neighbours
    place_beta: float  # β of the place choice
    repeat_victim_share: float  # chance the victim is the cell's last victim


class OffenderArrays(NamedTuple):
    """Per-offender arrays (``free_at`` and ``propensity`` change during the run)."""

    free_at: np.ndarray  # hour each offender is free again (held after an arrest until then)
    propensity: np.ndarray
    best_rate: np.ndarray  # (hour of week, offender): λ × the better opportunity of home and hangout
    home: np.ndarray
    hangout: np.ndarray
    draw_keys: np.ndarray  # (draw, offender): counter-based keys, rows _PLACE, _TYPE, ...


class WeeklyTables(NamedTuple):
    """What does not depend on the state, by hour of week (first axis)."""

    total_opportunity: np.ndarray  # (hour, cell), summed over crime types
    opportunity: np.ndarray  # (hour, type, cell)
    home_guard: np.ndarray  # (hour, cell): occupants' guardianship against burglary
    street_guard: np.ndarray  # (hour, cell): passers-by's guardianship against other types
    hangout_share: np.ndarray  # (hour of day,): share of offenders at their hangout


class Places(NamedTuple):
    """The cells and the residents in them (written: near-repeat risk, victimisations)."""

    cell_state: np.ndarray  # rows _NEAR_REPEAT, _ARREST_RISK, _PRESENCE_MEMORY
    neighbours: np.ndarray  # (cell, 8) neighbour table, −1 padded
    cell_start: np.ndarray  # residents of cell c are cell_start[c] .. cell_start[c + 1] − 1
    victimisations: np.ndarray
    last_victimised: np.ndarray
    cell_last_victim: np.ndarray  # per cell, the resident last victimised there (−1: none yet)


class Levers(NamedTuple):
    """The hour's levers, from the model's state (and crackdown deterrence as exp(−β · deterrence))."""

    cameras: np.ndarray  # camera cover per cell
    patrol_presence: np.ndarray  # patrol guardianship per cell
    posts: np.ndarray
    extra_guardians: np.ndarray
    type_guardians: np.ndarray  # (type, cell)
    deterrence: np.ndarray  # (type,)


class Guardians(NamedTuple):
    """Everything guardianship in a cell depends on, this hour (built inside the kernel)."""

    home_guard: np.ndarray
    street_guard: np.ndarray
    patrol_presence: np.ndarray
    posts: np.ndarray
    extra_guardians: np.ndarray
    type_guardians: np.ndarray
    sensitivity: np.ndarray  # (type,)
    patrol_guard: float
    post_guard: float


class Offending:
    """Motivated offenders and the places they act in.

    Args:
        params: Crime parameters.
        city: The city.
        residents: The residents.
        seed: The run's seed.
        propensity: Each offender's offending propensity, read in place every hour (the
            ``offender_propensity`` lever); default: all 1, owned here.
    """

    def __init__(self, params: CrimeParams, city, residents, seed: int, propensity: np.ndarray | None = None):
        p = params
        self.p = p
        self.city = city
        self.residents = residents
        self.seed = seed
        self.offenders = residents.offenders
        home = residents.home_cell[self.offenders]
        hangout = residents.day_cell[self.offenders]
        self.special = residents.special[self.offenders]
        self._attempt_rng = stream(seed, "offending.attempts")
        self._attempts, self._attempt_row = np.zeros((0, 0)), 0
        #: Keys of the counter-based draws by stream name, hashed once per offender (lazily).
        self._keys: dict[str, np.ndarray] = {}
        n = city.n_cells
        # Near-repeat boost, arrest deterrence and remembered presence per cell, stacked so
        # that one operation decays all three and one gather reads them for a set of cells
        # (exposed as the near_repeat, arrest_risk and presence_memory rows).
        self._cell_state = np.zeros((3, n))
        self._decay_per_hour = np.array([[0.5 ** (1 / (24 * p.near_repeat_half_life_days))],
                                         [0.5 ** (1 / (24 * p.arrest_risk_half_life_days))],
                                         [0.5 ** (1 / p.presence_memory_half_life_h)]])
        self._camera_risk = p.camera_deterrence * p.camera_awareness
        # Per crime type: camera deterrence and near-repeat boost multipliers (rows _CAMERA_WEIGHT,
        # _REPEAT_WEIGHT). Cameras deter by type only when some weight differs from 1; otherwise
        # they are the camera term of perceived risk, as before the weights existed.
        self._type_weights = np.array([[p.camera_deterrence_by_type.get(t, 1.0) for t in CRIME_TYPES],
                                       [p.near_repeat_by_type.get(t, 1.0) for t in CRIME_TYPES]])
        self._camera_by_type = bool((self._type_weights[_CAMERA_WEIGHT] != 1.0).any())

        share = np.array([p.type_share.get(t, 0.0) for t in CRIME_TYPES])
        share = share / share.sum()
        land = np.array([[p.land_use_opportunity.get(t, {}).get(lu, 1.0) for lu in _LAND_USES]
                         for t in CRIME_TYPES])
        hours = np.array([p.hour_profile.get(t, _FLAT) for t in CRIME_TYPES])
        hours = hours / hours.mean(axis=1, keepdims=True)
        # Opportunity of each type in each cell by hour of week, before guardianship.
        lu_cell = land[:, city.land_use]  # (types, cells)
        dens = residents.presence / np.maximum(city.residents, 1)  # crowding relative to home
        vacancy = 1.0 - residents.home_occupancy
        self._static = share[:, None] * lu_cell
        self._hours = hours
        self._dens = dens
        self._vacancy = vacancy
        # Opportunity by hour of week (hours, types, cells), and its total over crime types.
        self._opportunity_by_hour = self.opportunity(np.arange(168), None)
        self._total_opportunity = self._opportunity_by_hour.sum(axis=1)
        mean_opp = self._total_opportunity.mean()
        self._lambda = p.attempts_per_offender_year / 8760.0 / mean_opp
        # The candidate bound's per-offender part by hour of week: the base rate times the better
        # of home and hangout. Memory: 168 floats per offender (≈ 40 MB for 30 000 offenders).
        total = self._total_opportunity
        best = np.maximum(total[:, home], total[:, hangout])
        if p.place_choice:  # the hangout's neighbours may be chosen too
            for nb in city.neighbours[hangout].T:
                best = np.maximum(best, np.where(nb >= 0, total[:, np.maximum(nb, 0)], 0.0))
        best_rate = self._lambda * best
        self._sens = np.array([p.guardian_sensitivity.get(t, 1.0) for t in CRIME_TYPES])
        self._hangout_share = np.array(p.hangout_share)
        # Guardianship of residents by hour of week and cell (they do not depend on the state):
        # occupants at home against burglary, passers-by against the other types.
        self._home_guard = p.occupancy_guard * residents.home_occupancy
        self._street_guard = p.street_guard * (1 - np.exp(-residents.presence / p.street_guard_density))
        # exp(−β · crackdown deterrence) per crime type, recomputed only when deterrence changes.
        self._deterrence_key: bytes | None = None
        self._deterrence_factor = np.ones(len(CRIME_TYPES))
        # The kernel's results, one column per offence of the hour (at most one per offender).
        self._out = np.zeros((_OUT_ROWS, len(self.offenders)), dtype=np.int64)
        draw_keys = np.stack([event_keys(seed, name, np.arange(len(self.offenders))) for name in _DRAWS])
        # The kernel's inputs that are fixed objects (changed in place only), as plain tuples.
        self._offender_arrays = OffenderArrays(
            free_at=np.zeros(len(self.offenders), dtype=np.int64),
            propensity=np.ones(len(self.offenders)) if propensity is None else propensity,
            best_rate=best_rate, home=home, hangout=hangout, draw_keys=draw_keys)
        self._offenders_tuple = tuple(self._offender_arrays)
        self._places = tuple(Places(
            cell_state=self._cell_state, neighbours=city.neighbours, cell_start=residents.cell_start,
            victimisations=residents.victimisations, last_victimised=residents.last_victimised,
            cell_last_victim=np.full(n, -1, dtype=np.int64)))
        self._constants = tuple(OffendingConstants(
            base_rate=self._lambda, risk_sensitivity=p.risk_sensitivity, presence_risk=p.presence_risk,
            # With cameras by type, their deterrence acts on each type's opportunity, not on risk.
            camera_risk=0.0 if self._camera_by_type else self._camera_risk,
            patrol_guard=p.patrol_guard, post_guard=p.post_guard,
            displacement_prob=p.displacement_prob, near_repeat_boost=p.near_repeat_boost,
            near_repeat_spread=p.near_repeat_spread, near_repeat_max=p.near_repeat_max,
            homicide_share=p.homicide_share, serious_assault_share=p.serious_assault_share,
            camera_by_type=self._camera_by_type, type_camera_risk=p.camera_deterrence * p.camera_awareness,
            place_choice=p.place_choice, place_beta=p.place_choice_risk_sensitivity,
            repeat_victim_share=p.repeat_victim_share))
        self._weekly = tuple(WeeklyTables(
            total_opportunity=self._total_opportunity, opportunity=self._opportunity_by_hour,
            home_guard=self._home_guard, street_guard=self._street_guard, hangout_share=self._hangout_share))
        #: Skip offenders whose attempt draw is above a cheap upper bound of their hazard. Switching
        #: it off (every free offender takes the exact test) gives the same offences, more slowly.
        self.bound_candidates = True

    @property
    def home(self) -> np.ndarray:
        """Home cell per offender."""
        return self._offender_arrays.home

    @property
    def hangout(self) -> np.ndarray:
        """Daytime hangout cell per offender."""
        return self._offender_arrays.hangout

    @property
    def free_at(self) -> np.ndarray:
        """Hour each offender is free again (held after an arrest until then); change it in place."""
        return self._offender_arrays.free_at

    @property
    def propensity(self) -> np.ndarray:
        """Offending propensity per offender (the ``offender_propensity`` lever: changed in place)."""
        return self._offender_arrays.propensity

    @property
    def near_repeat(self) -> np.ndarray:
        """Near-repeat boost per cell (relative hazard added after nearby offences)."""
        return self._cell_state[_NEAR_REPEAT]

    @near_repeat.setter
    def near_repeat(self, value) -> None:
        self._cell_state[_NEAR_REPEAT] = value

    @property
    def arrest_risk(self) -> np.ndarray:
        """Perceived risk per cell from recent arrests there and nearby."""
        return self._cell_state[_ARREST_RISK]

    @arrest_risk.setter
    def arrest_risk(self, value) -> None:
        self._cell_state[_ARREST_RISK] = value

    @property
    def presence_memory(self) -> np.ndarray:
        """Remembered police presence per cell (unit-hours, decayed)."""
        return self._cell_state[_PRESENCE_MEMORY]

    @presence_memory.setter
    def presence_memory(self, value) -> None:
        self._cell_state[_PRESENCE_MEMORY] = value

    def opportunity(self, hour_of_week, cells) -> np.ndarray:
        """Relative opportunity per crime type: shape (types, cells), or (hours, types, cells) for an
        array of hours of the week. ``cells=None`` means every cell.

        The type's share × its land use's opportunity × its hour-of-day profile; burglary scales
        with the share of homes empty (an empty home offers :data:`_VACANCY_OPPORTUNITY` times
        the opportunity), theft, robbery and assault with crowding (people present per resident,
        capped at ``CrimeParams.crowding_cap``).
        """
        h = np.asarray(hour_of_week)
        if h.ndim == 0:
            return self.opportunity(h[None], cells)[0]
        cols = slice(None) if cells is None else cells
        hours = self._hours[:, h % 24].T[:, :, None]  # (hours, types, 1)
        out = self._static[:, cols][None] * hours
        out[:, BURGLARY] *= _VACANCY_OPPORTUNITY * self._vacancy[h][:, cols]
        out[:, [THEFT, ROBBERY, ASSAULT]] *= np.minimum(self._dens[h][:, cols], self.p.crowding_cap)[:, None]
        return out

    def perceived_risk(self, cells: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        """Risk an offender perceives in ``cells`` (arrests, presence memory, cameras)."""
        return self._risk(self._cell_state[:, cells], cameras[cells])

    def _risk(self, cell_state: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        # Perceived risk from columns of _cell_state (some cells or all) and their camera coverage.
        # (With cameras by crime type, cameras act on each type's opportunity instead: no camera term.)
        camera_risk = 0.0 if self._camera_by_type else self._camera_risk
        return perceived_risk(cell_state[_ARREST_RISK], cell_state[_PRESENCE_MEMORY], cameras, self.p.presence_risk,
                              camera_risk)

    def decay(self, patrol_presence: np.ndarray, posts: np.ndarray) -> None:
        """Advance near-repeat, arrest deterrence and presence memory by one hour."""
        _decay(self._cell_state, self._decay_per_hour, patrol_presence, posts)

    def step(self, hour: int, hour_of_week: int, state) -> Offences:
        """Offences committed in the hour ``hour`` (counted from the start of the run).

        Args:
            hour: Absolute hour of the run, the time coordinate of counter-based draws.
            hour_of_week: Row of the weekly presence tables.
            state: The levers, read by attribute name: ``patrol_presence``, ``posts``,
                ``extra_guardians``, ``type_guardians``, ``cameras`` and ``type_deterrence``
                (the model, or any object with them). Offending only reads them.

        Returns:
            The hour's offences, with the attempts guardians blocked and displaced
            (``attempts_blocked``, ``attempts_displaced``) for the caller to record.
        """
        # One uniform per offender every call, whatever happens (aligned across scenarios): the
        # stream's next numbers, drawn for several calls at once (rows in call order).
        if self._attempt_row == len(self._attempts):
            self._attempts = self._attempt_rng.random((_ATTEMPT_BLOCK, len(self.offenders)))
            self._attempt_row = 0
        u_attempt = self._attempts[self._attempt_row]
        self._attempt_row += 1
        out = self._out
        k, first_blocked, n_blocked, n_moved = _offend(
            hour, hour_of_week, u_attempt, self._offenders_tuple, self._weekly, self._places,
            (state.cameras, state.patrol_presence, state.posts, state.extra_guardians, state.type_guardians,
             self._deterrence(state.type_deterrence)),
            self._sens, self._type_weights, self._constants, self.bound_candidates, out)
        # Blocked at first: first_blocked; of them, n_blocked still blocked after n_moved moved next door.
        if k == 0:  # most hours
            return _EMPTY if first_blocked == 0 else Offences(*_EMPTY_ARRAYS, n_blocked, n_moved)
        cand = out[_OUT_SLOT, :k].copy()
        return Offences(self.offenders[cand], cand, out[_OUT_CELL, :k].copy(), out[_OUT_TYPE, :k].copy(),
                        out[_OUT_DISPLACED, :k] == 1, out[_OUT_SERIOUS, :k] == 1, out[_OUT_HOMICIDE, :k] == 1,
                        out[_OUT_VICTIM, :k].copy(), n_blocked, n_moved, out[_OUT_PRIOR, :k].copy())

    def _deterrence(self, type_deterrence: np.ndarray) -> np.ndarray:
        # exp(−β · deterrence) per crime type; deterrence changes only with campaigns.
        key = type_deterrence.tobytes()
        if key != self._deterrence_key:
            self._deterrence_factor = np.exp(-self.p.risk_sensitivity * type_deterrence)
            self._deterrence_key = key
        return self._deterrence_factor

    def _uniforms(self, name: str, slots: np.ndarray, hour: int, slot: int = 0) -> np.ndarray:
        # event_uniforms(seed, name, slots, hour, slot): offenders are fixed (slots 0..n−1), so
        # for larger sets the first hashing stage is done once per offender and kept.
        if len(slots) <= _KEYED_ABOVE:
            return event_uniforms(self.seed, name, slots, hour, slot)
        keys = self._keys.get(name)
        if keys is None:
            keys = self._keys[name] = event_keys(self.seed, name, np.arange(len(self.offenders)))
        return keyed_uniforms(keys[slots], hour, slot)

    def arrest(self, offender_slots: np.ndarray, cells: np.ndarray, hour: int) -> None:
        """Hold arrested offenders and raise perceived risk where they were caught.

        A slot of −1 is an arrest of someone who is not a motivated offender (dispute violence):
        it deters nearby but holds no one from the offender pool.
        """
        if len(cells) == 0:
            return
        p = self.p
        held = offender_slots[offender_slots >= 0]
        if len(held):
            u = self._uniforms("offending.held", held, hour)
            held_h = -np.log1p(-np.clip(u, 0, 1 - 1e-12)) * p.incapacitation_days * 24
            self.free_at[held] = np.maximum(self.free_at[held], hour + held_h.astype(np.int64))
        add_near(self._cell_state[_ARREST_RISK], cells, self.city.neighbours, p.arrest_risk, p.near_repeat_spread)


@njit(cache=True)
def _decay(cell_state, decay_per_hour, patrol_presence, posts):
    # Offending.decay in one pass: each memory decays by its factor, then presence is remembered
    # (the array expressions' float operations, element by element).
    for k in range(cell_state.shape[0]):
        f = decay_per_hour[k, 0]
        for i in range(cell_state.shape[1]):
            cell_state[k, i] *= f
    for i in range(cell_state.shape[1]):
        cell_state[_PRESENCE_MEMORY, i] += patrol_presence[i] + posts[i]


# ------------------------------------------------------------------------------------------
# The compiled hour, in parts. _offend runs every hour of every run: candidates, then for each
# the place, the hazard, the crime type and the guardians; then near-repeat risk and victims.

@njit(cache=True)
def _offend(hour, how, u_attempt, offenders, weekly, places, levers, sensitivity, type_weights, constants,
            bound_candidates, out):
    """One hour of offending (compiled: :meth:`Offending.step` runs it every hour of every run).

    ``offenders``, ``weekly``, ``places``, ``levers`` and ``constants`` are the fields of
    :class:`OffenderArrays`, :class:`WeeklyTables`, :class:`Places`, :class:`Levers` and
    :class:`OffendingConstants`, in order.

    ``type_weights`` holds per crime type the camera deterrence and near-repeat multipliers (rows
    ``_CAMERA_WEIGHT``, ``_REPEAT_WEIGHT``).

    Writes the hour's k offences into the first k columns of ``out`` (rows ``_OUT_*``: offender
    slot, cell, crime type, displaced, serious and homicide flags as 0/1, victim, the hour the
    victim was last victimised before) and returns k,
    how many attempts were blocked at first, and, after displacement, how many stayed blocked
    and how many moved next door. (Returning new arrays every hour cost more than most hours'
    offending: Python has to wrap each one.) Offences are decided on the state at the start
    of the hour; near-repeat risk and victims are updated afterwards.
    """
    o, w, at, lv = OffenderArrays(*offenders), WeeklyTables(*weekly), Places(*places), Levers(*levers)
    c = OffendingConstants(*constants)
    # This hour of the week's rows of the weekly tables (hour of day for the hangout share).
    best_rate, total_opportunity, opportunity = o.best_rate[how], w.total_opportunity[how], w.opportunity[how]
    hangout_share = w.hangout_share[how % 24]
    guardians = Guardians(w.home_guard[how], w.street_guard[how], lv.patrol_presence, lv.posts, lv.extra_guardians,
                          lv.type_guardians, sensitivity, c.patrol_guard, c.post_guard)
    term0, term1 = term_of(hour, 0), term_of(hour, 1)  # the hour's first and second draw of each kind
    near_repeat = at.cell_state[_NEAR_REPEAT]
    scale = _bound_scale(o.propensity, near_repeat)
    opp = np.empty(opportunity.shape[0])  # opportunity by crime type where the offender is
    k = first_blocked = n_blocked = n_moved = 0
    for i in range(len(u_attempt)):
        u = u_attempt[i]
        # Candidates: offenders whose draw is below a cheap bound of their hazard, and free.
        if bound_candidates and not u < best_rate[i] * scale:
            continue
        if o.free_at[i] > hour:
            continue
        if bound_candidates and not u < _cell_bound(i, o, total_opportunity, at.cell_state, lv.cameras,
                                                    at.neighbours, c):
            continue
        # Where the offender is, and whether they attempt an offence there.
        out_and_about = keyed_uniform(o.draw_keys[_PLACE, i], term0) < hangout_share
        here = o.hangout[i] if out_and_about else o.home[i]
        if c.place_choice and out_and_about:
            here = _choose_place(i, o, total_opportunity, at.cell_state, lv.cameras, at.neighbours, c,
                                 keyed_uniform(o.draw_keys[_PLACE, i], term1))
        total = _opportunity_here(opportunity, here, lv.deterrence, opp)
        if c.camera_by_type:
            total = _camera_deterred(opp, lv.cameras[here], type_weights[_CAMERA_WEIGHT], c)
        risk = _risk_at(here, at.cell_state, lv.cameras, c)
        if not u < _attempt_hazard(c.base_rate, total, near_repeat[here], risk, c.risk_sensitivity, o.propensity[i]):
            continue
        # Which crime, and whether guardians block it (here, or next door after displacement).
        ctype = _crime_type(opp, total, keyed_uniform(o.draw_keys[_TYPE, i], term0))
        outcome, here = _guarded_attempt(i, here, ctype, guardians, at.neighbours, o.draw_keys, term0, term1,
                                         c.displacement_prob)
        if outcome != _COMMITTED:
            first_blocked += 1
        if outcome == _BLOCKED_AGAIN or outcome == _DISPLACED:
            n_moved += 1
        if outcome == _DESISTED or outcome == _BLOCKED_AGAIN:
            n_blocked += 1
            continue
        out[_OUT_SLOT, k], out[_OUT_CELL, k], out[_OUT_TYPE, k] = i, here, ctype
        out[_OUT_DISPLACED, k] = outcome == _DISPLACED
        k += 1
    if k:
        _near_repeat_after(near_repeat, out[_OUT_CELL, :k], out[_OUT_TYPE, :k], type_weights[_REPEAT_WEIGHT],
                           at.neighbours, c)
    for j in range(k):
        _harm(j, hour, out, o.draw_keys, at, term0, term1, c)
    return k, first_blocked, n_blocked, n_moved


@njit(cache=True)
def _bound_scale(propensity, near_repeat):
    # The per-hour part of a cheap bound for everyone, so most offenders are skipped: the largest
    # near-repeat boost and propensity, and no perceived risk or crackdown deterrence (both only
    # lower the hazard). The margin keeps it a bound whatever the rounding of exp().
    top = 0.0
    for i in range(len(propensity)):
        top = max(top, propensity[i])
    return (1 + near_repeat.max()) * top * (1 + 1e-9)


@njit(cache=True)
def _risk_at(cell, cell_state, cameras, c):
    return _perceived_risk(cell_state[_ARREST_RISK, cell], cell_state[_PRESENCE_MEMORY, cell], cameras[cell],
                           c.presence_risk, c.camera_risk)


@njit(cache=True)
def _cell_bound(i, o, total_opportunity, cell_state, cameras, neighbours, c):
    # A tighter bound of offender i's hazard: the best of home and hangout (and, with place choice,
    # the hangout's neighbours), with each cell's own boost and risk but every crime type's whole
    # opportunity (crackdown deterrence, and cameras by type, only lower it).
    best = 0.0
    for cell in (o.home[i], o.hangout[i]):
        best = max(best, _cell_hazard(i, cell, o, total_opportunity, cell_state, cameras, c))
    if c.place_choice:
        for nb in neighbours[o.hangout[i]]:
            if nb >= 0:
                best = max(best, _cell_hazard(i, nb, o, total_opportunity, cell_state, cameras, c))
    return best * (1 + 1e-9)


@njit(cache=True)
def _cell_hazard(i, cell, o, total_opportunity, cell_state, cameras, c):
    return _attempt_hazard(c.base_rate, total_opportunity[cell], cell_state[_NEAR_REPEAT, cell],
                           _risk_at(cell, cell_state, cameras, c), c.risk_sensitivity, o.propensity[i])


@njit(cache=True)
def _choose_place(i, o, total_opportunity, cell_state, cameras, neighbours, c, u):
    # Place choice of an offender who is out: the hangout or one of its neighbours, with
    # probability ∝ place_weight (the hour's opportunity × exp(−β · perceived risk)), by inverse
    # CDF over the candidates in that order.
    hangout = o.hangout[i]
    whole = _candidate_weight(hangout, total_opportunity, cell_state, cameras, c)
    for nb in neighbours[hangout]:
        if nb >= 0:
            whole += _candidate_weight(nb, total_opportunity, cell_state, cameras, c)
    if not whole > 0:
        return hangout
    target = u * whole
    cum = _candidate_weight(hangout, total_opportunity, cell_state, cameras, c)
    if target < cum:
        return hangout
    last = hangout
    for nb in neighbours[hangout]:
        if nb >= 0:
            cum += _candidate_weight(nb, total_opportunity, cell_state, cameras, c)
            last = nb
            if target < cum:
                return nb
    return last


@njit(cache=True)
def _candidate_weight(cell, total_opportunity, cell_state, cameras, c):
    return _place_weight(total_opportunity[cell], _risk_at(cell, cell_state, cameras, c), c.place_beta)


@njit(cache=True)
def _camera_deterred(opp, cover, weights, c):
    # Cameras deter each crime type by its weight: scales opp in place; returns the new total.
    total = 0.0
    for t in range(len(opp)):
        opp[t] *= _camera_factor(cover, c.type_camera_risk, weights[t], c.risk_sensitivity)
        total += opp[t]
    return total


@njit(cache=True)
def _opportunity_here(opportunity, cell, deterrence, opp):
    # Fills opp with each crime type's opportunity at ``cell`` after crackdown deterrence; returns their sum.
    total = 0.0
    for t in range(len(opp)):
        opp[t] = opportunity[t, cell] * deterrence[t]
        total += opp[t]
    return total


@njit(cache=True)
def _crime_type(opp, total, u):
    # The crime type, in proportion to its opportunity: the number of types whose cumulative
    # share is below ``u`` (the last type at most).
    ctype, cum = 0, 0.0
    for t in range(len(opp)):
        cum += opp[t]
        if cum / total < u:
            ctype += 1
    return min(ctype, len(opp) - 1)


@njit(cache=True)
def _guardianship_at(cell, ctype, g):
    # guardianship() at ``cell`` against ``ctype``: occupants at home guard against burglary,
    # passers-by against the other types.
    resident = g.home_guard[cell] if ctype == BURGLARY else g.street_guard[cell]
    return _guardianship(resident, g.patrol_presence[cell], g.posts[cell], g.extra_guardians[cell],
                         g.type_guardians[ctype, cell], g.sensitivity[ctype], g.patrol_guard, g.post_guard)


@njit(cache=True)
def _guarded_attempt(i, here, ctype, guardians, neighbours, keys, term0, term1, displacement_prob):
    # Guardians at ``here`` may block offender i's attempt. A blocked offender moves to a
    # neighbouring cell once (displacement), where guardians may block again, or desists.
    # Returns what happened (_COMMITTED, _DESISTED, _BLOCKED_AGAIN or _DISPLACED) and the cell.
    if not keyed_uniform(keys[_BLOCK, i], term0) < _block_probability(_guardianship_at(here, ctype, guardians)):
        return _COMMITTED, here
    valid = 0
    for nb in neighbours[here]:
        valid += nb >= 0
    if valid == 0 or not keyed_uniform(keys[_MOVE, i], term0) < displacement_prob:
        return _DESISTED, here
    pick = min(int(keyed_uniform(keys[_WHERE, i], term0) * valid), valid - 1)
    for nb in neighbours[here]:  # the pick-th valid neighbour, in the row's order
        if nb >= 0:
            if pick == 0:
                here = nb
                break
            pick -= 1
    if keyed_uniform(keys[_BLOCK, i], term1) < _block_probability(_guardianship_at(here, ctype, guardians)):
        return _BLOCKED_AGAIN, here
    return _DISPLACED, here


@njit(cache=True)
def _near_repeat_after(near_repeat, cells, types, weights, neighbours, c):
    # add_near(near_repeat, cells, neighbours, boost × the type's weight, spread) offence by offence,
    # then the cap: the hit cells and their neighbours are at higher risk for a while.
    for j in range(len(cells)):
        near_repeat[cells[j]] += c.near_repeat_boost * weights[types[j]]
    for j in range(len(cells)):
        spread = c.near_repeat_boost * weights[types[j]] * c.near_repeat_spread
        for nb in neighbours[cells[j]]:
            if nb >= 0:
                near_repeat[nb] += spread
    np.minimum(near_repeat, c.near_repeat_max, near_repeat)


@njit(cache=True)
def _harm(j, hour, out, keys, at, term0, term1, c):
    # Offence j's harm: an assault's severity, and the victim (a resident of the cell).
    i, cell = out[_OUT_SLOT, j], out[_OUT_CELL, j]
    out[_OUT_SERIOUS, j] = out[_OUT_HOMICIDE, j] = 0
    if out[_OUT_TYPE, j] == ASSAULT:
        u_severity = keyed_uniform(keys[_SEVERITY, i], term0)
        out[_OUT_HOMICIDE, j] = u_severity < c.homicide_share
        out[_OUT_SERIOUS, j] = u_severity < c.serious_assault_share
    start = at.cell_start[cell]
    size = at.cell_start[cell + 1] - start
    last = at.cell_last_victim[cell]
    if c.repeat_victim_share > 0 and last >= 0 and keyed_uniform(keys[_VICTIM, i], term1) < c.repeat_victim_share:
        v = last  # the same target again
    else:
        v = start + min(int(keyed_uniform(keys[_VICTIM, i], term0) * size), max(size - 1, 0))
    at.cell_last_victim[cell] = v
    out[_OUT_PRIOR, j] = at.last_victimised[v]
    at.victimisations[v] += 1
    at.last_victimised[v] = hour
    out[_OUT_VICTIM, j] = v


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


#: The arrays of an hour without offences, shared (read-only; callers only read them).
_EMPTY_ARRAYS = tuple(_read_only(np.zeros(0, dtype=t)) for t in (np.int64,) * 4 + (bool,) * 3 + (np.int64,))
#: The result of an hour without offences or blocked attempts, shared.
_EMPTY = Offences(*_EMPTY_ARRAYS)
