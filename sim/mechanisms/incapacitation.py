"""Offenders held after arrest (羁押) when the counted years begin: the stationary share.

An arrested offender is held for an exponential time, mean ``CrimeParams.incapacitation_days``
(``D``, 150 days), and offends again once free. A run starts with every offender free, so the
stock of held offenders fills over the first year: it settles with a time constant of
``1 / (a + 1/D)``, about 130 days in Suizhou at scale 0.1, where ``a`` is the chance per hour
that a free offender is arrested. A warm-up of weeks leaves the first counted year with more
free offenders, hence more offences, than the years after it.

:class:`HeldAtStart` starts the counted years with the share held that the process settles at
instead. An offender alternates between free spells (mean ``1/a``) and held spells (mean
``D``), so at a random time they are held with probability ``π = aD / (1 + aD)``; and since a
hold is exponential, the time it has left is again exponential with mean ``D``. Over the
second half of the warm-up (:data:`ESTIMATE_FROM`: by then arrest deterrence, which starts at
zero, has built up, and arrests are about as frequent as they will stay) it counts arrests of
offenders and the hours offenders were free, which estimates ``a``. At the first counted hour,
with a share ``h`` already held by the warm-up's own arrests, each free offender is held with
probability ``(π − h) / (1 − h)`` for an exponential time of mean ``D``.

Approximations: every offender gets the same ``π``, whereas in the steady state those with
more opportunity are arrested and held more often (in Suizhou at scale 0.1 the held share runs
from 8 % to 22 % across quintiles of opportunity, 14 % overall; holding them alike leaves, by
the quintiles' arrest rates, about 0.6 % more offences in the first counted year); and ``a``
comes from a few weeks of arrests (some 15 in Suizhou at scale 0.1), so the first year's held stock
varies between replicates more than later years'. Draws are counter-based and keyed by
offender, and only interventions already running in the first counted year act during the
warm-up, so a package and its baseline start their counted years with the same offenders held
unless they differ in those.
``python -m sim.experiments.stationarity`` measures what is left of the drift.
"""

from __future__ import annotations

import math

import numpy as np

from sim.rng import event_uniforms

__all__ = ["HeldAtStart", "stationary_held_share", "ESTIMATE_FROM"]

#: Arrests are counted from this share of the warm-up on: arrest deterrence starts at zero and
#: builds up over weeks (half-life 30 days), and until it has, offenders are arrested more
#: often than they will be.
ESTIMATE_FROM = 0.5


def stationary_held_share(arrests_per_free_hour: float, mean_hold_hours: float) -> float:
    """Share of time an offender is held: ``aD / (1 + aD)``.

    Args:
        arrests_per_free_hour: ``a``, the chance per hour that a free offender is arrested.
        mean_hold_hours: ``D``, the mean time held after an arrest [hours].
    """
    held = arrests_per_free_hour * mean_hold_hours
    return held / (1.0 + held)


class HeldAtStart:
    """Counts arrests and free offender-hours late in the warm-up, then tops the held up to the stationary share.

    Args:
        free_at: Hour each offender is free again (``Offending.free_at``; changed in place).
        mean_hold_days: Mean days an arrested offender is held (``CrimeParams.incapacitation_days``).
        warmup_hours: Hours of warm-up; arrests are counted in its second half
            (:data:`ESTIMATE_FROM`), once arrest deterrence has built up.
        seed: The run's seed.
    """

    def __init__(self, free_at: np.ndarray, mean_hold_days: float, warmup_hours: int, seed: int):
        self.free_at = free_at
        self.mean_hold_hours = float(mean_hold_days) * 24.0
        self.warmup_hours = int(warmup_hours)
        self.first_counted = int(warmup_hours * ESTIMATE_FROM)
        self.seed = seed
        self.arrests = 0
        self.free_hours = 0.0

    def counts(self, hour: int) -> bool:
        """Whether ``hour`` is in the part of the warm-up whose arrests estimate the rate."""
        return self.first_counted <= hour < self.warmup_hours

    def count_hour(self, hour: int) -> None:
        """Count the offenders free during warm-up hour ``hour``."""
        if self.counts(hour):
            self.free_hours += float(len(self.free_at) - np.count_nonzero(self.free_at > hour))

    def count_arrests(self, offender_slots: np.ndarray, hour: int) -> None:
        """Count arrests of offenders at ``hour`` (slot −1, someone else, does not count)."""
        if self.counts(hour):
            self.arrests += int(np.count_nonzero(offender_slots >= 0))

    def arrests_per_free_hour(self) -> float:
        """The warm-up's estimate of ``a`` (NaN before any counted hour)."""
        return self.arrests / self.free_hours if self.free_hours > 0 else math.nan

    def hold(self, hour: int) -> np.ndarray:
        """From ``hour``, hold free offenders until the held share is ``π``; returns their slots.

        Each free offender is held with probability ``(π − h) / (1 − h)``, ``h`` the share held
        now (none if ``h ≥ π``), for an exponential time of mean ``D``. Nothing happens without a
        warm-up (no estimate) or without holds (``D`` = 0).
        """
        a = self.arrests_per_free_hour()
        none = np.zeros(0, dtype=np.int64)
        if self.mean_hold_hours <= 0 or not a > 0:
            return none
        slots = np.arange(len(self.free_at))
        free = slots[self.free_at <= hour]
        held_now = 1.0 - len(free) / max(len(slots), 1)
        target = stationary_held_share(a, self.mean_hold_hours)
        if held_now >= target:
            return none
        more = (target - held_now) / (1.0 - held_now)
        held = free[event_uniforms(self.seed, "offending.held_at_start", free, hour) < more]
        u = event_uniforms(self.seed, "offending.held_at_start.time", held, hour)
        hours = -np.log1p(-np.clip(u, 0, 1 - 1e-12)) * self.mean_hold_hours
        self.free_at[held] = hour + hours.astype(np.int64)
        return held
