"""The calibration pipeline: screening, design, inference, posterior-predictive check, attribution,
leave-one-out — each stage a module, run in order by :class:`Calibration`.

:class:`Calibration` ties the targets table and the priors to the experiment runner. Its state
(the configuration, the targets and scenarios, the results store, what the stages found) is
:class:`sim.calibration.state.CalibrationState`; its stages are:

1. **Screening** (:mod:`sim.calibration.screening`, Morris elementary effects): which candidate
   priors move the targets enough to be estimated; the rest keep their documented defaults.
2. **Design** (:mod:`sim.calibration.design`, emulator method): a Latin-hypercube design
   simulated once per point in every compared scenario, and a Gaussian-process emulator per
   target (:mod:`sim.calibration.emulator`).
3. **Inference** (:mod:`sim.calibration.inference`, :func:`sim.calibration.abc.abc_smc`): ABC-SMC on
   the emulators until ε and the posterior means stop moving (emulator method), or on the model
   itself, one simulation per particle and scenario (simulator method); every simulation goes to
   the calibration's results store, so a restarted calibration reuses every finished one.
4. **Posterior-predictive check and tension report** (:mod:`sim.calibration.predictive`): fresh
   simulations of posterior draws against every target, held-out city included; how close any
   simulation inside the priors came to each target, and which parameter moves it most.
5. **Attribution** (:mod:`sim.calibration.attribution`): per city, how much of the simulated change
   each intervention accounts for (switched off in turn, common random numbers, the same draws).
6. **Leave one city out** (:mod:`sim.calibration.leave_one_out`, emulator method): each city
   predicted by a calibration that never saw its targets (its own screening, and its own design
   where that screening estimates other parameters).
7. **Scores** (:mod:`sim.calibration.scoring`): the predictive samples of the shipped defaults, the
   prior, the posterior and leave-one-out, each scored against every target (PIT, inside the
   50 %/90 % intervals, interval score, CRPS), side by side.
8. **Simulation-based calibration** (:mod:`sim.calibration.sbc`, emulator method, if asked): prior
   draws simulated and inferred back; does each posterior cover its truth at the nominal rates?

With the emulator method, targets that no design simulation came within tolerance of are left out of
the fit (still predicted and scored), and a second inference with them reports how the posterior
moves (:func:`sim.calibration.inference.with_unreachable`, ``unreachable.csv``).

Distances, hits and the configuration are described in :mod:`sim.calibration.state`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.calibration import attribution, design, inference, leave_one_out, predictive, sbc, scoring, screening
from sim.calibration.abc import ABCResult
from sim.calibration.state import CalibrationConfig, CalibrationState, target_spread
from sim.experiments.store import model_version

__all__ = ["Calibration", "CalibrationConfig"]


class Calibration(CalibrationState):
    """One calibration: its configuration, results folder and store, and its stages in order.

    Args: as :class:`sim.calibration.state.CalibrationState`.
    """

    def screen(self) -> pd.DataFrame:
        """Stage 1, :func:`sim.calibration.screening.screen`: ``screening.csv``; sets :attr:`params`."""
        return screening.screen(self)

    def simulate_design(self) -> np.ndarray:
        """Stage 2, :func:`sim.calibration.design.simulate_design` (emulator method)."""
        return design.simulate_design(self)

    def fit_emulators(self) -> pd.DataFrame:
        """Stage 2, :func:`sim.calibration.design.fit_emulators` (emulator method): ``emulator.csv``."""
        return design.fit_emulators(self)

    def infer(self) -> ABCResult:
        """Stage 3, :func:`sim.calibration.inference.infer`: ``populations.csv``, ``diagnostics.csv``,
        ``posterior.csv``."""
        return inference.infer(self)

    def predict(self, scenarios: list[str] | None = None) -> pd.DataFrame:
        """Stage 4, :func:`sim.calibration.predictive.predict`: ``predictive.csv``."""
        return predictive.predict(self, scenarios)

    def tension(self) -> pd.DataFrame:
        """Stage 4, :func:`sim.calibration.predictive.tension`: ``tension.csv``."""
        return predictive.tension(self)

    def attribute(self) -> pd.DataFrame:
        """Stage 5, :func:`sim.calibration.attribution.attribute`: ``attribution.csv``."""
        return attribution.attribute(self)

    def leave_one_out(self) -> pd.DataFrame:
        """Stage 6, :func:`sim.calibration.leave_one_out.leave_one_out`: ``holdout-<city>/``, ``leave_one_out.csv``."""
        return leave_one_out.leave_one_out(self)

    def score(self) -> pd.DataFrame:
        """Stage 7, :mod:`sim.calibration.scoring`: ``predictive_samples.csv``, ``scores.csv``,
        ``scores_summary.csv`` (defaults, prior, posterior and leave-one-out side by side)."""
        scoring.predictive_samples(self)
        _, summary = scoring.score_files(self.out, self.targets, self.scales)
        self.scores_summary = summary
        return summary

    def check_inference(self) -> pd.DataFrame:
        """Stage 8, :func:`sim.calibration.sbc.sbc` (emulator method): ``sbc.csv``, ``sbc_summary.csv``."""
        return sbc.sbc(self, self.config.sbc_truths, self.config.sbc_particles)

    def run(self, plots: bool = True) -> dict:
        """Screen, infer, predict, report; returns the summary also written to ``summary.json``."""
        started = time.time()
        stages: dict[str, float] = {}

        def timed(name: str, fn: Callable[[], object]) -> None:
            t0 = time.time()
            fn()
            stages[name] = round(time.time() - t0, 1)

        self.write_config()
        timed("screening", self.screen)
        if self.config.method == "emulator":
            timed("design", self.simulate_design)
            timed("emulator", self.fit_emulators)
        timed("abc", self.infer)
        if self.unreachable.any():
            timed("abc_with_unreachable", lambda: inference.with_unreachable(self))
        timed("predictive", self.predict)
        self.tension()
        if self.config.attribution_replicates >= 2:
            timed("attribution", self.attribute)
        if self.config.leave_one_out:
            timed("leave_one_out", self.leave_one_out)
        timed("scores", self.score)
        if self.config.sbc_truths:
            timed("sbc", self.check_inference)
        if plots:
            from sim.calibration.plots import plot_all

            periods = self.targets.set_index("target_id")["period"]
            predictive = self.predictive.assign(period=self.predictive["target_id"].map(periods))
            plot_all(self.out, self.posterior(), self.params, predictive, target_spread(self.targets),
                     self.result.populations)
        pred = self.predictive
        compared = pred[pred["compared"]]
        summary = {
            "wall_seconds": round(time.time() - started, 1),
            "stage_seconds": stages,  # simulations found in the store cost next to nothing
            "simulations": dict(self.sims, total=sum(self.sims.values())),
            "generations": len(self.result.populations), "stopped": self.result.stopped,
            "min_acceptance": self.config.acceptance_floor,
            "left_out_of_fit": self.targets.loc[self.unreachable, "target_id"].tolist(),
            "left_out_as_noise": self.targets.loc[self.quiet, "target_id"].tolist(),
            "final_epsilon": self.result.posterior.epsilon if math.isfinite(self.result.posterior.epsilon) else None,
            "parameters": [p.key for p in self.params],
            "hits": int(compared["hit"].astype(bool).sum()), "targets_compared": int(len(compared)),
            "held_out": self.config.hold_out,
            "held_out_hits": int(compared.loc[compared["held_out"], "hit"].astype(bool).sum()),
            "held_out_targets": int(compared["held_out"].sum()),
            "scales": self.scales, "model_version": model_version(),
            "method": self.config.method,
        }
        if self.config.method == "emulator":
            summary.update(inference.emulator_summary(self))
        if self.config.leave_one_out:
            t = self.leave_one_out_table
            summary["leave_one_out"] = {c: {"hits": int(g["hit"].astype(bool).sum()), "targets": int(len(g))}
                                        for c, g in t.groupby("city")}
        summary["scores"] = self.scores_summary.to_dict(orient="records")
        other = getattr(self, "with_unreachable_result", None)
        if other is not None:
            eps = other.posterior.epsilon
            summary["with_unreachable"] = {"generations": len(other.populations), "stopped": other.stopped,
                                           "final_epsilon": eps if math.isfinite(eps) else None}
        if self.config.sbc_truths:
            row = pd.read_csv(self.out / "sbc_summary.csv").iloc[-1]
            summary["sbc"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
        self.log(f"calibration done in {summary['wall_seconds']:.0f} s: {summary['hits']} of "
                 f"{summary['targets_compared']} targets hit; {summary['simulations']['total']} simulations")
        return summary
