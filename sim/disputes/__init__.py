"""Disputes (矛盾纠纷) and everything that handles them, in one package.

- :mod:`sim.disputes.book` — the dispute book: every dispute, how it arises, escalates and ends.
- :mod:`sim.disputes.discovery` — who finds disputes (discovery sources, household visits).
- :mod:`sim.disputes.governance` — governance centres' ticket pipeline (综治中心, 网格事项).
- :mod:`sim.disputes.mediation` — mediation committees (调解) and mediation at the scene (随警调解).
- :mod:`sim.disputes.system` — the daily cycle and the routing between them; interventions
  register with it.
"""

from sim.disputes.book import DISPUTE_TYPES, DisputeBook, DisputeParams, Outcome, Resolver, Stage
from sim.disputes.discovery import DiscoverySource, visit_hazard
from sim.disputes.governance import LEVELS, STAGES, GovernanceParams, GovernancePipeline, Staff, Ticket
from sim.disputes.mediation import MEDIATION_LEVELS, MediationAtScene, MediationParams, MediationService
from sim.disputes.system import DisputeSystem

__all__ = [
    "DISPUTE_TYPES", "DisputeBook", "DisputeParams", "Outcome", "Resolver", "Stage",
    "DiscoverySource", "visit_hazard",
    "LEVELS", "STAGES", "GovernanceParams", "GovernancePipeline", "Staff", "Ticket",
    "MEDIATION_LEVELS", "MediationAtScene", "MediationParams", "MediationService",
    "DisputeSystem",
]
