"""Clearance (破案): the chance a recorded offence is solved and its offender arrested.

A logistic model: each crime type has a base clearance; video coverage of the scene raises
the odds where its footage is usable (``footage_usable_share`` of the cases), and a late
report or a slow response lowers them. Crackdown campaigns multiply
the odds for their crime types while they run.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.mechanisms.crime_types import CRIME_TYPES
from sim.params import Params, Probability

__all__ = ["ClearanceParams", "clearance_probability"]


class ClearanceParams(Params):
    """Parameters of the clearance model."""


    base: dict[str, Probability] = Field(
        default={"burglary": 0.35, "theft": 0.22, "robbery": 0.8, "vehicle_crime": 0.3,
                 "fraud": 0.2, "assault": 0.85},
        description="Clearance of a promptly reported case with a prompt response and no video "
        "(assumed; Chinese clearance is high for violence, low for theft).",
    )
    camera_log_odds: float = Field(
        1.0, ge=0, description="Log-odds added by full video coverage of the scene (assumed; "
        "Ashby 2017 found CCTV useful in ~45 % of investigations where available)."
    )
    footage_usable_share: float = Field(
        0.65, ge=0, le=1, description="Share of camera-covered offences whose footage is usable (1 in the "
        "pre-evidence model: all of it). The clearance chance is then this share × the chance with the scene's "
        "coverage + the rest × the chance without video. Evidence: Ashby (2017, 251 195 crimes on "
        "British railways) found footage available in 45 % of crimes and useful in ~65 % of those "
        "(the default 0.65)."
    )
    delay_log_odds: float = Field(
        0.35, ge=0, description="Log-odds lost per unit of log(1 + report delay in hours) (assumed)."
    )
    response_log_odds_per_hour: float = Field(
        0.5, ge=0, description="Log-odds lost per hour of police response time (assumed)."
    )
    video_only_delay_h: float = Field(
        24.0, ge=0, description="Effective delay of an offence found only by video [hours]."
    )


def clearance_probability(
    p: ClearanceParams,
    crime_type: np.ndarray,
    report_delay_h: np.ndarray,
    response_h: np.ndarray,
    camera_coverage: np.ndarray,
    odds_multiplier: np.ndarray,
) -> np.ndarray:
    """Probability that each case is cleared.

    Args:
        p: Clearance parameters.
        crime_type: Index into :data:`CRIME_TYPES`.
        report_delay_h: Hours from offence to report.
        response_h: Hours from call to police on scene (0 where no one attended).
        camera_coverage: Video coverage of the scene, 0–1.
        odds_multiplier: Odds multiplier per case (crackdowns), ≥ 0.

    Returns:
        Probabilities in [0, 1].
    """
    base = np.array([p.base.get(t, 0.3) for t in CRIME_TYPES])[crime_type]
    logit = np.log(base / (1 - base))

    def cleared(coverage):
        z = (logit + p.camera_log_odds * coverage
             - p.delay_log_odds * np.log1p(report_delay_h)
             - p.response_log_odds_per_hour * response_h
             + np.log(np.maximum(odds_multiplier, 1e-9)))
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    if p.footage_usable_share == 1.0:
        return cleared(camera_coverage)
    # Usable footage for a share of the covered cases, none for the rest: the mixture.
    share = p.footage_usable_share
    return share * cleared(camera_coverage) + (1 - share) * cleared(np.zeros_like(camera_coverage))
