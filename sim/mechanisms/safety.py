"""Sense of safety (安全感): each resident's perceived safety, and a yearly simulated survey.

A resident feels safe with a probability that falls if they were victimised in the past
year and with the recorded incidents around their home, and rises with the guardians they
see (patrols, officers on posts, volunteers, grid workers). The survey samples residents
the way a city's own survey would and reports the share who say they feel safe —
comparable to Daqing's ≥ 95 % (002_5234f462d53c6514.txt) and ≥ 98 % (000_9c9acfea600f2ef9.txt).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.params import Params
from sim.rng import event_uniforms

__all__ = ["SafetyParams", "survey"]


class SafetyParams(Params):
    """Parameters of perceived safety (assumed; the sensitive ones calibrated, :mod:`sim.calibration`)."""

    base_log_odds: float = Field(
        2.9, description="Log-odds of feeling safe with no victimisation, incidents or guardians."
    )
    victim_log_odds: float = Field(
        -1.8, le=0, description="Added if victimised in the past year (victimisation-survey studies)."
    )
    incidents_log_odds: float = Field(
        -0.6, le=0, description="Per unit of log(1 + recorded incidents per 1 000 residents "
        "around home in the past year)."
    )
    guardian_log_odds: float = Field(
        0.35, ge=0, description="Per unit of log(1 + visible guardian-hours per day around home)."
    )
    sample_size: int = Field(3_000, ge=1, description="Respondents per yearly survey.")


def survey(p: SafetyParams, seed: int, year: int, residents, city, incidents_per_cell: np.ndarray,
           guardian_hours_per_day: np.ndarray, hour: int) -> tuple[float, np.ndarray]:
    """Run one survey.

    Args:
        p: Safety parameters.
        seed: The run's seed.
        year: Counted year index (the sample differs by year).
        residents: Residents (home cells, last victimisation hour).
        city: The city (neighbours, residents per cell).
        incidents_per_cell: Recorded incidents per cell in the past year.
        guardian_hours_per_day: Visible guardian-hours per day per cell.
        hour: The hour of the survey.

    Returns:
        ``(percent who feel safe, probability of each respondent)``.
    """
    n = residents.n
    k = min(p.sample_size, n)
    who = np.minimum((event_uniforms(seed, "safety.sample", np.arange(k), year) * n).astype(np.int64), n - 1)
    cell = residents.home_cell[who]
    nb = city.neighbours[cell]
    pad = lambda a: np.append(a, 0.0)  # noqa: E731  (index -1 → no neighbour)
    around = incidents_per_cell[cell] + pad(incidents_per_cell)[nb].sum(axis=1)
    people = city.residents[cell] + pad(city.residents.astype(float))[nb].sum(axis=1)
    rate = around / np.maximum(people, 1) * 1000.0
    seen = guardian_hours_per_day[cell] + 0.25 * pad(guardian_hours_per_day)[nb].sum(axis=1)
    victim = (residents.last_victimised[who] >= 0) & (hour - residents.last_victimised[who] < 8760)
    logit = (p.base_log_odds + p.victim_log_odds * victim + p.incidents_log_odds * np.log1p(rate)
             + p.guardian_log_odds * np.log1p(seen))
    prob = 1 / (1 + np.exp(-logit))
    says_safe = event_uniforms(seed, "safety.answer", np.arange(k), year) < prob
    return float(says_safe.mean() * 100.0), prob
