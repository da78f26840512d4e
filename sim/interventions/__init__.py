"""Interventions, one module each. Importing this package imports every module in it, and
defining an :class:`Intervention` subclass with a ``key`` registers it in :data:`REGISTRY`:
adding an intervention means adding one module."""

import importlib
import pkgutil

from sim.interventions.base import REGISTRY, Cost, Intervention, InterventionParams, MapMarker

for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")


def map_markers() -> dict[str, MapMarker]:
    """How each intervention that declares a map marker draws its sites, by key."""
    return {key: cls.map_marker for key, cls in REGISTRY.items() if cls.map_marker is not None}


__all__ = ["REGISTRY", "Cost", "Intervention", "InterventionParams", "MapMarker", "map_markers"]
