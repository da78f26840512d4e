"""Observing a run as it happens: hooks the model calls, for evidence, apps and notebooks.

A year's metrics and maps (:meth:`sim.model.PinganModel.year_rows`, the incident map) sum a run
up; an :class:`Observer` sees its single events as they happen — each offence, each call for
service, each unit reaching a scene, each mediation session, each archived governance ticket —
without patching the model. Subclass :class:`Observer`, override the hooks you need, and
register it before the run::

    class Burglaries(Observer):
        def __init__(self):
            self.cells = []

        def offences(self, hour, year, crime_type, cells, recorded):
            if year >= 0:
                self.cells += cells[crime_type == BURGLARY].tolist()

    model = PinganModel(load_scenario("suizhou_2022"), seed=1, scale=0.1)
    burglaries = model.observe(Burglaries())
    model.run()

:func:`sim.experiments.runner.run_one` takes ``observers=[...]`` for the same. Hooks are called
in the model's process, in the order events happen; they must not change what they are given
(arrays and calls are the model's own: copy what you keep). Observing changes no result: the
model draws nothing for its observers. See ``docs/observers.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.disputes.governance import Ticket
    from sim.mechanisms.calls import Call

__all__ = ["Observer"]


class Observer:
    """Hooks the model calls as a run's events happen; each does nothing until overridden.

    Times: ``hour`` is the hour of the run (the model's step, warm-up included); ``year`` is the
    counted year (−1 during warm-up); a call's or ticket's times are minutes since the run began.
    """

    def offences(self, hour: int, year: int, crime_type: np.ndarray, cells: np.ndarray,
                 recorded: np.ndarray) -> None:
        """Offences of the hour starting at ``hour``: street offences, and at midnight the day's dispute
        violence (assaults).

        Args:
            hour: Hour of the run.
            year: Counted year (−1 in warm-up).
            crime_type: Index into :data:`sim.mechanisms.crime_types.CRIME_TYPES`, per offence.
            cells: Cell of each offence.
            recorded: Whether the police recorded it (reported and filed, or seen on video or by alarms
                and called in, or a homicide).
        """

    def calls(self, hour: int, calls: list[Call]) -> None:
        """Calls for service that came in during the hour starting at ``hour`` (crime, non-crime and
        dispute calls; each call's ``time`` says when). The list is reused after the hook returns."""

    def dispatch(self, call: Call) -> None:
        """A unit reached the scene of ``call`` (``time``, ``dispatched_at``, ``arrived_at``, ``unit``)."""

    def mediation_session(self, minute: float, dispute_row: int, level: int, settled: bool,
                          honoured: bool) -> None:
        """A formal mediation session ended.

        Args:
            minute: When, in minutes of the run.
            dispute_row: The dispute (a row of the dispute book).
            level: 0 village or community committee, 1 town judicial office, 2 county court desk.
            settled: Whether it settled the dispute.
            honoured: Whether the agreement will be honoured (False when not settled).
        """

    def ticket(self, ticket: Ticket) -> None:
        """A governance ticket left the pipeline (its ``state``, ``created``, ``disposed_at``, ``archived_at``)."""
