"""Random streams: one generator per mechanism, counter-based draws for events, and distributions.

Two kinds of randomness keep scenario comparisons honest (common random numbers):

* :func:`stream` gives each mechanism its own ``numpy`` generator derived from the run's
  seed and the mechanism's name, so switching one intervention on does not shift the
  draws of another. Use it where the number of draws does not depend on the scenario
  (building the city, placing residents, fixed-size draws every hour).
* :func:`event_uniforms` is a pure function of ``(seed, stream, a, b, slot)``: the same
  event (an offender at an hour, a call, a patrol unit at an hour) gets the same random
  number in every scenario, however many other events happened before it. It is a
  vectorised SplitMix64 hash, so it costs a few array operations and no state.

Distributions are drawn by inverse CDF from such uniforms: :func:`log_logistic` (reporting
delays, dispatch scene times, governance and mediation service times) and its one-value twin
:func:`log_logistic_one`.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
from numba import njit

__all__ = ["stream", "stream_key", "event_uniforms", "event_uniform", "event_keys", "keyed_uniforms",
           "keyed_uniforms_hours", "hour_term", "term_of", "keyed_uniform", "splitmix64", "log_logistic",
           "log_logistic_one"]

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@functools.lru_cache(maxsize=1024)
def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (independent of Python's hash seed)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for mechanism ``name`` in the run seeded with ``seed``.

    Args:
        seed: The run's seed (a non-negative integer).
        name: The mechanism's stream name, e.g. ``"city"`` or ``"offending.attempts"``.

    Returns:
        A PCG64 generator that depends only on ``seed`` and ``name``.
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream_key(name)])))


_M64 = (1 << 64) - 1
_I64 = 1 << 63
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53: the top 53 bits of a hash as a float in [0, 1)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def splitmix64(x):
    """One SplitMix64 round (Steele, Lea & Flood 2014): the hash every draw is made of.

    Written once, for ``uint64`` numpy arrays (wrapping arithmetic) and, compiled as
    :func:`_mix`, for ``uint64`` scalars inside kernels; both give the same bits.
    """
    x = x + _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


#: :func:`splitmix64` compiled, for kernels.
_mix = njit(cache=True)(splitmix64)


def _int64(x) -> int:
    # x's low 64 bits as a signed integer: what compiled code can be passed, and what it turns
    # back into the same unsigned value there (as the array version wraps negative and large ids).
    x = int(x) & _M64
    return x - (1 << 64) if x >> 63 else x


@functools.lru_cache(maxsize=4096)
def _stream_hash(seed: int, name: str) -> int:
    """The first hashing stage, shared by every event of stream ``name`` in run ``seed`` (as
    :func:`_int64`: ``& _M64`` gives the unsigned value)."""
    with np.errstate(over="ignore"):  # numpy scalars wrap as arrays do, but warn
        return _int64(splitmix64(np.uint64(((seed * 0x94D049BB133111EB) & _M64) ^ stream_key(name))))


@njit(cache=True)
def term_of(b: int, slot: int) -> np.uint64:
    """The second coordinate's term of a draw, ``b · M1 + slot`` wrapped to 64 bits (``b`` and
    ``slot`` as signed 64-bit integers); the key of a draw is hashed with it (:func:`keyed_uniform`)."""
    return np.uint64(b) * _M1 + np.uint64(slot)


def hour_term(b: int, slot: int = 0) -> np.uint64:
    """:func:`term_of` from Python, for :func:`keyed_uniform` (any integer ``b``: its low 64 bits)."""
    if not (-_I64 <= b < _I64 and -_I64 <= slot < _I64):
        b, slot = _int64(b), _int64(slot)
    return np.uint64(term_of(b, slot))


@njit(cache=True)
def _unit(x: np.uint64) -> float:
    # The top 53 bits of a hash as a float in [0, 1).
    return float(x >> _S11) * _TO_UNIT


@njit(cache=True)
def keyed_uniform(key: np.uint64, term: np.uint64) -> float:
    """``keyed_uniforms(keys, b, slot)`` for one key, with ``term = hour_term(b, slot)``; same value.

    For compiled kernels (numba), which draw per event inside their loops.
    """
    return _unit(_mix(key ^ term))


@njit(cache=True)
def _event_key(stream_hash: int, a: int) -> np.uint64:
    # The first stage of a draw: the key of (stream, a), as event_keys computes it.
    return _mix(np.uint64(stream_hash) ^ np.uint64(a))


@njit(cache=True)
def _event_uniform(stream_hash: int, a: int, b: int, slot: int) -> float:
    return keyed_uniform(_event_key(stream_hash, a), term_of(b, slot))


@njit(cache=True)
def _event_uniforms_1d(stream_hash: int, a: np.ndarray, b: int, slot: int) -> np.ndarray:
    # event_uniforms for a 1-d array of first coordinates at one (b, slot).
    term = term_of(b, slot)
    out = np.empty(len(a))
    for i in range(len(a)):
        out[i] = keyed_uniform(_event_key(stream_hash, a[i]), term)
    return out


def _units(h: np.ndarray) -> np.ndarray:
    # _unit for an array of hashes.
    return (h >> _S11).astype(np.float64) * _TO_UNIT


def event_uniform(seed: int, name: str, a: int, b: int = 0, slot: int = 0) -> float:
    """:func:`event_uniforms` for one event, without building arrays; the same value."""
    a, b = int(a), int(b)
    if not (-_I64 <= a < _I64 and -_I64 <= b < _I64):
        a, b = _int64(a), _int64(b)
    return _event_uniform(_stream_hash(int(seed), name), a, b, slot)


def event_uniforms(
    seed: int,
    name: str,
    a: np.ndarray | int,
    b: np.ndarray | int = 0,
    slot: int = 0,
) -> np.ndarray:
    """Uniform numbers in [0, 1) that depend only on their coordinates.

    Args:
        seed: The run's seed.
        name: Stream name (which mechanism draws).
        a: First coordinate, usually an entity id (offender, call, unit); array or int.
        b: Second coordinate, usually the hour of the run.
        slot: Which of several draws for the same event (0, 1, 2, ...).

    Returns:
        A float64 array broadcast from ``a`` and ``b``.
    """
    stream_hash = _stream_hash(int(seed), name)
    a = np.asarray(a)
    if isinstance(b, (int, np.integer)) and a.ndim <= 1 and a.dtype.kind in "iu":
        # Events at one hour (most draws): one compiled loop (same values).
        b, slot = _int64(b), _int64(slot)
        if a.ndim == 0:
            return np.float64(_event_uniform(stream_hash, _int64(a), b, slot))
        return _event_uniforms_1d(stream_hash, a.astype(np.uint64), b, slot)
    with np.errstate(over="ignore"):
        h = splitmix64(np.uint64(stream_hash & _M64) ^ np.asarray(a, dtype=np.uint64))
        h = splitmix64(h ^ (np.asarray(b, dtype=np.uint64) * _M1 + np.uint64(slot)))
    return _units(h)


def event_keys(seed: int, name: str, a: np.ndarray) -> np.ndarray:
    """The part of :func:`event_uniforms` that depends only on ``(seed, name, a)``.

    For entities whose ids do not change (patrol units, offenders), compute it once and
    draw each hour with :func:`keyed_uniforms`: half the hashing, and no per-call set-up.
    """
    with np.errstate(over="ignore"):
        return splitmix64(np.uint64(_stream_hash(int(seed), name) & _M64) ^ np.asarray(a, dtype=np.uint64).ravel())


def keyed_uniforms(keys: np.ndarray, b: int, slot: int = 0) -> np.ndarray:
    """``event_uniforms(seed, name, a, b, slot)`` from ``keys = event_keys(seed, name, a)``; same values.

    Args:
        keys: A 1-d array from :func:`event_keys` (or a selection of one).
        b: Second coordinate, usually the hour of the run (an integer).
        slot: Which of several draws for the same event.
    """
    # Array arithmetic on uint64 wraps silently; only 0-d operands would warn, and keys is 1-d.
    return _units(splitmix64(keys ^ hour_term(b, slot)))


def keyed_uniforms_hours(keys: np.ndarray, first_hour: int, hours: int, slot: int = 0) -> np.ndarray:
    """:func:`keyed_uniforms` for ``hours`` consecutive hours at once: row ``k`` is hour ``first_hour + k``.

    For a few fixed entities drawing every hour (patrol units at small scales), one array
    operation for many hours costs less than a dozen small ones each hour; same values.
    """
    terms = _terms(first_hour, hours, slot)
    return _units(splitmix64(terms[:, None] ^ np.asarray(keys, dtype=np.uint64)[None, :]))


@njit(cache=True)
def _terms(first_hour: int, hours: int, slot: int) -> np.ndarray:
    # term_of(h, slot) for hours h = first_hour, ..., first_hour + hours − 1.
    out = np.empty(hours, dtype=np.uint64)
    for k in range(hours):
        out[k] = term_of(first_hour + k, slot)
    return out


def log_logistic(u: np.ndarray, median: np.ndarray | float, shape: float) -> np.ndarray:
    """Inverse CDF of a log-logistic distribution (a heavy-tailed delay or duration)."""
    u = np.minimum(np.maximum(u, 1e-12), 1 - 1e-12)  # np.clip, without its wrapper's overhead
    return median * (u / (1 - u)) ** (1.0 / shape)


def log_logistic_one(u: float, median: float, shape: float) -> float:
    """:func:`log_logistic` for one value, in plain Python floats: the same value, without numpy's
    per-call overhead (vectorised, numpy's power can differ in the last bit: keep one value scalar)."""
    u = min(max(u, 1e-12), 1 - 1e-12)
    return median * (u / (1 - u)) ** (1.0 / shape)
