"""Offending by routine activity (犯罪): offender, target, and the absence of a guardian.

Every hour each free motivated offender may attempt an offence where they are (home cell,
or their hangout by day). The attempt hazard grows with the cell's opportunities for each
crime type and with near-repeat risk, and shrinks with the offender's perceived risk
(recent arrests nearby, remembered police presence, crackdown publicity) — the deterrence
feedback. Cameras deter each crime type by its own weight, reducing its opportunity where
they cover the cell (or, with ``camera_deterrence_model: perceived_risk``, as one more term of
perceived risk). An attempt succeeds unless a capable guardian blocks it: residents at home
or in the street, patrol units in or beside the cell, officers on fixed posts, and whatever
guardians interventions add. A blocked offender moves to a neighbouring cell and tries once
more (displacement) or gives up (desistance); both are recorded.

Options whose evidence-based values are the defaults (the values before them are
:data:`sim.experiments.evidence.PRE_EVIDENCE_MECHANISMS`): cameras by crime type
(``camera_deterrence_model``, ``camera_deterrence_by_type``), the crowding cap of street
opportunity (``crowding_cap``), the near-repeat boost by crime type (``near_repeat_by_type``)
and offenders returning to the cell's last victim (``repeat_victim_share``); an offender's
choice among the hangout and its neighbours (``place_choice``) is off. Each offence records
when its victim was last victimised, so repeat victimisation is counted
(``repeat_victimisations``).

The package, one part a module:

- :mod:`~sim.mechanisms.offending.params`: :class:`CrimeParams`, every behavioural constant;
- :mod:`~sim.mechanisms.offending.formulas`: perceived risk, the attempt hazard, the camera
  factor, guardianship, the blocking chance and the near-repeat spread, written once in plain
  Python (``tests/test_offending.py`` checks their compiled copies give the same values);
- :mod:`~sim.mechanisms.offending.kernel`: the compiled hour, in parts;
- :mod:`~sim.mechanisms.offending.offenders`: :class:`Offending` (the offenders and their
  places, stepped hour by hour) and :class:`Offences`.

The crime types are :mod:`sim.mechanisms.crime_types`.
"""

from sim.mechanisms.offending.formulas import (
    add_near,
    attempt_hazard,
    block_probability,
    camera_factor,
    guardianship,
    perceived_risk,
    place_weight,
)
from sim.mechanisms.offending.offenders import Offences, Offending
from sim.mechanisms.offending.params import CrimeParams

__all__ = ["CrimeParams", "Offences", "Offending", "perceived_risk", "attempt_hazard", "camera_factor",
           "place_weight", "guardianship", "block_probability", "add_near"]
