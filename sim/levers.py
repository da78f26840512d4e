"""The levers interventions act through: one typed object the model's mechanisms read.

An intervention changes crime and calls only by moving these levers (and by registering
with the dispute system or the patrol fleet, through its context,
:class:`sim.interventions.context.InterventionContext`): officers on posts, guardians,
cameras and who watches them live, alarms, walk-in desks, campaign deterrence, clearance
odds and offenders' propensity. Offending reads them by attribute each hour; reporting,
clearance and the sense-of-safety survey read the rest. Arrays are per cell of the city,
per crime type (in the order of :data:`sim.mechanisms.crime_types.CRIME_TYPES`) or per
motivated offender (in the order of :attr:`sim.agents.residents.Residents.offenders`).
Levers are changed in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Levers"]


@dataclass(slots=True, eq=False)
class Levers:
    """Everything interventions set, in one place.

    Attributes:
        posts: Officers on fixed posts per cell [officers] (street police stations,
            rapid-response points, campaign officers). Guard their cell and are remembered
            as presence.
        extra_guardians: Blocking hazard added per cell for every crime type [hazard, like
            ``crime.post_guard`` per officer] (volunteers and auxiliary police on duty).
        type_guardians: Blocking hazard added per crime type and cell [hazard], shape
            (crime types, cells) (smart compounds' access control).
        visible_guardians: Non-police guardians residents see there now, per cell [people]
            (for the sense of safety; volunteers, auxiliary police).
        camera_count: Cameras per cell [cameras]. Change it only with :meth:`add_cameras`.
        cameras: Camera coverage per cell [0–1], ``1 − exp(−count / cameras_for_63pct)``.
        cameras_for_63pct: Cameras in a cell that cover 63 % of it [cameras per cell]
            (``policing.camera_density_for_63pct`` × a cell's area).
        alarms: Chance an unreported offence in a cell is detected by alarms [0–1].
        walk_in_share: Share of non-urgent requests in a cell served at a walk-in desk
            instead of becoming a call [0–1].
        type_deterrence: Perceived risk added per crime type [risk units] (campaigns).
        clearance_odds: Odds multiplier of clearing an offence, per crime type [×] (campaigns).
        patrol_presence: Guardianship of patrol units on the street this hour, per cell
            [unit-equivalents]; set each hour from the fleet, not by interventions.
        disorder_factor: Relative rate of public-order incidents behind non-crime calls, per
            cell [×], from prevention other than visible police (home visits); 1: none prevented.
            Visible presence (``posts``, ``patrol_presence``) acts on top of it, through
            :class:`sim.mechanisms.calls.CallParams`' prevention elasticities.
        offender_propensity: Offending propensity of each motivated offender [×], in the order
            of ``Residents.offenders``; 1: as drawn (special-population management lowers it).
            Offending reads this array itself, so change it in place.
        watched_live: Cells whose cameras a monitoring centre watches live (offences seen there
            are called in, :meth:`watch_live`); None: every camera only records.
        live_call_delay_min: Minutes from an offence seen live to the operators' call.
    """

    posts: np.ndarray
    extra_guardians: np.ndarray
    type_guardians: np.ndarray
    visible_guardians: np.ndarray
    camera_count: np.ndarray
    cameras: np.ndarray
    cameras_for_63pct: float
    alarms: np.ndarray
    walk_in_share: np.ndarray
    type_deterrence: np.ndarray
    clearance_odds: np.ndarray
    patrol_presence: np.ndarray
    disorder_factor: np.ndarray
    offender_propensity: np.ndarray
    watched_live: np.ndarray | None = None
    live_call_delay_min: float = 0.0

    @classmethod
    def at_rest(cls, n_cells: int, n_types: int, cameras_for_63pct: float, n_offenders: int = 0) -> Levers:
        """Levers with nothing in place: no posts, guardians, cameras, alarms or desks; odds and factors 1;
        no camera watched live."""
        return cls(
            posts=np.zeros(n_cells), extra_guardians=np.zeros(n_cells),
            type_guardians=np.zeros((n_types, n_cells)), visible_guardians=np.zeros(n_cells),
            camera_count=np.zeros(n_cells), cameras=np.zeros(n_cells), cameras_for_63pct=cameras_for_63pct,
            alarms=np.zeros(n_cells), walk_in_share=np.zeros(n_cells), type_deterrence=np.zeros(n_types),
            clearance_odds=np.ones(n_types), patrol_presence=np.zeros(n_cells),
            disorder_factor=np.ones(n_cells), offender_propensity=np.ones(n_offenders),
        )

    def add_cameras(self, counts: np.ndarray) -> None:
        """Install cameras (counts per cell) and update coverage."""
        self.camera_count += counts
        self.cameras = 1 - np.exp(-self.camera_count / self.cameras_for_63pct)

    def watch_live(self, cells: np.ndarray, delay_min: float) -> None:
        """Watch the cameras of ``cells`` live: offences they detect become calls ``delay_min`` later.

        Passive recording (the default) finds an unreported offence only afterwards, so it is cleared,
        if at all, from footage (``ClearanceParams.video_only_delay_h``). A monitoring centre that
        watches live calls it in like a witness, and a unit is dispatched (active monitoring).
        """
        if self.watched_live is None:
            self.watched_live = np.zeros(len(self.cameras), dtype=bool)
        self.watched_live[cells] = True
        self.live_call_delay_min = delay_min
