"""The compiled hour of offending: every hour of every run, in parts.

:func:`offend_hour` runs the hour: candidates (offenders whose attempt draw is below a cheap
bound of their hazard), then for each the place, the hazard, the crime type and the guardians
(blocking and displacement); then near-repeat risk and victims. Its parts evaluate the
compiled copies of :mod:`sim.mechanisms.offending.formulas`, and read their inputs by name
from the records below, which Python passes as plain tuples (numba types a plain tuple in its
fast C path; a named one costs microseconds a call) and the kernel rebuilds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.mechanisms.crime_types import ASSAULT, BURGLARY
from sim.mechanisms.offending.formulas import (
    _attempt_hazard,
    _block_probability,
    _camera_factor,
    _guardianship,
    _perceived_risk,
    _place_weight,
)
from sim.rng import keyed_uniform, term_of

__all__ = ["OffendingConstants", "OffenderArrays", "WeeklyTables", "Places", "LeverArrays", "Guardians",
           "offend_hour", "decay_cell_state", "NEAR_REPEAT", "ARREST_RISK", "PRESENCE_MEMORY", "DRAWS",
           "OUT_SLOT", "OUT_CELL", "OUT_TYPE", "OUT_DISPLACED", "OUT_SERIOUS", "OUT_HOMICIDE", "OUT_VICTIM",
           "OUT_PRIOR", "OUT_ROWS", "CAMERA_WEIGHT", "REPEAT_WEIGHT"]

# Rows of Offending._cell_state: the per-cell memories that decay every hour.
NEAR_REPEAT, ARREST_RISK, PRESENCE_MEMORY = range(3)
# The draws of an offence, each keyed by offender and hour: rows of OffenderArrays.draw_keys.
DRAWS = ("offending.place", "offending.type", "offending.block", "offending.displace", "offending.where",
         "offending.severity", "offending.victim")
_PLACE, _TYPE, _BLOCK, _MOVE, _WHERE, _SEVERITY, _VICTIM = range(len(DRAWS))
# Rows of Offending._out, where the compiled hour writes its offences.
OUT_SLOT, OUT_CELL, OUT_TYPE, OUT_DISPLACED, OUT_SERIOUS, OUT_HOMICIDE, OUT_VICTIM, OUT_PRIOR = range(8)
OUT_ROWS = 8
# Rows of Offending._type_weights: per crime type, the camera deterrence and near-repeat boost multipliers.
CAMERA_WEIGHT, REPEAT_WEIGHT = range(2)
# What became of an attempt that guardians could block (_guarded_attempt).
_COMMITTED, _DESISTED, _BLOCKED_AGAIN, _DISPLACED = range(4)


class OffendingConstants(NamedTuple):
    """The scalar parameters of an hour of offending (from :class:`sim.mechanisms.offending.CrimeParams`)."""

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

    cell_state: np.ndarray  # rows NEAR_REPEAT, ARREST_RISK, PRESENCE_MEMORY
    neighbours: np.ndarray  # (cell, 8) neighbour table, −1 padded
    cell_start: np.ndarray  # residents of cell c are cell_start[c] .. cell_start[c + 1] − 1
    victimisations: np.ndarray
    last_victimised: np.ndarray
    cell_last_victim: np.ndarray  # per cell, the resident last victimised there (−1: none yet)


class LeverArrays(NamedTuple):
    """What the hour reads of the levers (:class:`sim.levers.Levers`), with crackdown deterrence as
    exp(−β · deterrence)."""

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



@njit(cache=True)
def decay_cell_state(cell_state, decay_per_hour, patrol_presence, posts):
    # Offending.decay in one pass: each memory decays by its factor, then presence is remembered
    # (the array expressions' float operations, element by element).
    for k in range(cell_state.shape[0]):
        f = decay_per_hour[k, 0]
        for i in range(cell_state.shape[1]):
            cell_state[k, i] *= f
    for i in range(cell_state.shape[1]):
        cell_state[PRESENCE_MEMORY, i] += patrol_presence[i] + posts[i]



@njit(cache=True)
def offend_hour(hour, how, u_attempt, offenders, weekly, places, levers, sensitivity, type_weights, constants,
                bound_candidates, out):
    """One hour of offending (compiled: :meth:`Offending.step` runs it every hour of every run).

    ``offenders``, ``weekly``, ``places``, ``levers`` and ``constants`` are the fields of
    :class:`OffenderArrays`, :class:`WeeklyTables`, :class:`Places`, :class:`LeverArrays` and
    :class:`OffendingConstants`, in order.

    ``type_weights`` holds per crime type the camera deterrence and near-repeat multipliers (rows
    ``CAMERA_WEIGHT``, ``REPEAT_WEIGHT``).

    Writes the hour's k offences into the first k columns of ``out`` (rows ``_OUT_*``: offender
    slot, cell, crime type, displaced, serious and homicide flags as 0/1, victim, the hour the
    victim was last victimised before) and returns k,
    how many attempts were blocked at first, and, after displacement, how many stayed blocked
    and how many moved next door. (Returning new arrays every hour cost more than most hours'
    offending: Python has to wrap each one.) Offences are decided on the state at the start
    of the hour; near-repeat risk and victims are updated afterwards.
    """
    o, w, at, lv = OffenderArrays(*offenders), WeeklyTables(*weekly), Places(*places), LeverArrays(*levers)
    c = OffendingConstants(*constants)
    # This hour of the week's rows of the weekly tables (hour of day for the hangout share).
    best_rate, total_opportunity, opportunity = o.best_rate[how], w.total_opportunity[how], w.opportunity[how]
    hangout_share = w.hangout_share[how % 24]
    guardians = Guardians(w.home_guard[how], w.street_guard[how], lv.patrol_presence, lv.posts, lv.extra_guardians,
                          lv.type_guardians, sensitivity, c.patrol_guard, c.post_guard)
    term0, term1 = term_of(hour, 0), term_of(hour, 1)  # the hour's first and second draw of each kind
    near_repeat = at.cell_state[NEAR_REPEAT]
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
            total = _camera_deterred(opp, lv.cameras[here], type_weights[CAMERA_WEIGHT], c)
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
        out[OUT_SLOT, k], out[OUT_CELL, k], out[OUT_TYPE, k] = i, here, ctype
        out[OUT_DISPLACED, k] = outcome == _DISPLACED
        k += 1
    if k:
        _near_repeat_after(near_repeat, out[OUT_CELL, :k], out[OUT_TYPE, :k], type_weights[REPEAT_WEIGHT],
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
    return _perceived_risk(cell_state[ARREST_RISK, cell], cell_state[PRESENCE_MEMORY, cell], cameras[cell],
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
    return _attempt_hazard(c.base_rate, total_opportunity[cell], cell_state[NEAR_REPEAT, cell],
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
    i, cell = out[OUT_SLOT, j], out[OUT_CELL, j]
    out[OUT_SERIOUS, j] = out[OUT_HOMICIDE, j] = 0
    if out[OUT_TYPE, j] == ASSAULT:
        u_severity = keyed_uniform(keys[_SEVERITY, i], term0)
        out[OUT_HOMICIDE, j] = u_severity < c.homicide_share
        out[OUT_SERIOUS, j] = u_severity < c.serious_assault_share
    start = at.cell_start[cell]
    size = at.cell_start[cell + 1] - start
    last = at.cell_last_victim[cell]
    if c.repeat_victim_share > 0 and last >= 0 and keyed_uniform(keys[_VICTIM, i], term1) < c.repeat_victim_share:
        v = last  # the same target again
    else:
        v = start + min(int(keyed_uniform(keys[_VICTIM, i], term0) * size), max(size - 1, 0))
    at.cell_last_victim[cell] = v
    out[OUT_PRIOR, j] = at.last_victimised[v]
    at.victimisations[v] += 1
    at.last_victimised[v] = hour
    out[OUT_VICTIM, j] = v
