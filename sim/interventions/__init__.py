"""Interventions, one module each. Importing this package imports every module in it, and
defining an :class:`Intervention` subclass with a ``key`` registers it in :data:`REGISTRY`:
adding an intervention means adding one module."""

import importlib
import pkgutil

from sim.interventions.base import REGISTRY, Cost, Intervention, InterventionParams

for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["REGISTRY", "Cost", "Intervention", "InterventionParams"]
