"""Discrete-event processes (SimPy): police dispatch."""

from sim.events.dispatch import Dispatcher, DispatchParams

__all__ = ["DispatchParams", "Dispatcher"]
