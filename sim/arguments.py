"""Checks on the values a user types, shared by the command line and the package explorer.

``pingan run --seed 3 --scale 0.1`` and the explorer's seed and scale fields mean the same
thing because both go through these checks. Each is an ``argparse`` type: it returns the value
or raises :class:`argparse.ArgumentTypeError` with a one-line message naming what was expected.
"""

from __future__ import annotations

import argparse

__all__ = ["MAX_SEED", "whole_number", "fraction_of_city", "seed"]

#: Largest base seed: seeds are stored as SQLite integers (signed 64-bit).
MAX_SEED = 2**63 - 1


def whole_number(text: str) -> int:
    """A whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def fraction_of_city(text: str) -> float:
    """A scale: the fraction of the full city simulated, 0 < F ≤ 1."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 < v <= 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a fraction of the city, 0 < F ≤ 1, got {text}")
    return v


def seed(text: str) -> int:
    """A base seed, 0 ≤ seed ≤ :data:`MAX_SEED`."""
    v = whole_number(text)
    if not 0 <= v <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to 2**63 - 1, got {text}")
    return v
