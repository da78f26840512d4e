"""The formulas of offending, each written once in plain Python, with its compiled copy.

Each takes numpy arrays (as :class:`sim.mechanisms.offending.Offending` and the tests use them)
or floats; the compiled hour (:mod:`sim.mechanisms.offending.kernel`) calls their njit-compiled
copies (the ``_``-prefixed names), which evaluate the same float operations. To change a
mechanism, edit the readable function here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["perceived_risk", "attempt_hazard", "camera_factor", "place_weight", "guardianship", "block_probability",
           "add_near"]


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
    (``CrimeParams.camera_deterrence_model`` ``by_crime_type``), instead of the camera term of
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
