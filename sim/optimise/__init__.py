"""The package optimiser: what to buy, where, for a budget, with advice that holds over the posterior.

``pingan optimise SCENARIO --budget YUAN_PER_YEAR`` (or :func:`optimise`) searches the levers of a
scenario's ``optimise:`` block (:mod:`sim.optimise.spec`, :mod:`sim.optimise.menu`) with NSGA-II,
sites point facilities with location models (:mod:`sim.optimise.location`; dispatch bases on the
expected response of the nearest free patrol unit, :mod:`sim.optimise.response`, checked by
simulation in :mod:`sim.optimise.siting_check`), scores every package
over posterior draws × replicates under common random numbers (:mod:`sim.optimise.evaluate`),
keeps the study resumable in its results folder (:mod:`sim.optimise.study`) and reports the front
(:mod:`sim.optimise.summary`, :mod:`sim.optimise.report`); :func:`read_study` reads a finished
study's folder back (as ``pingan serve`` opens it).

Only the file format is imported eagerly (the scenario schema needs it); the rest loads on use.
"""

from __future__ import annotations

import importlib

from sim.optimise.spec import OBJECTIVES, Lever, OptimiseSpec

__all__ = ["OBJECTIVES", "Lever", "OptimiseSpec", "optimise", "load_study", "Study", "StudySettings",
           "read_study", "StudyTables", "package_cost", "default_levers", "mclp", "p_median"]

_LAZY = {"optimise": "sim.optimise.study", "load_study": "sim.optimise.study", "Study": "sim.optimise.study",
         "StudySettings": "sim.optimise.study", "read_study": "sim.optimise.summary",
         "StudyTables": "sim.optimise.summary", "package_cost": "sim.optimise.costs",
         "default_levers": "sim.optimise.menu", "mclp": "sim.optimise.location", "p_median": "sim.optimise.location"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
