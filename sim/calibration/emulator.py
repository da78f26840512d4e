"""Gaussian-process emulators of the simulator's target statistics, for emulator-based ABC.

One simulation of one city scenario costs most of a second; ABC-SMC with a few hundred
particles needs tens of thousands of them. Following Wilkinson (2014, "Accelerating ABC
methods using Gaussian processes", AISTATS) and Vernon, Goldstein & Bower (2010, Bayesian
Analysis 5:619, calibrating an ABM by emulation), the simulator is run once at each point of
a space-filling design, a Gaussian process is fitted per target statistic, and the ABC sampler
draws *synthetic simulations* from the emulators instead of running the model.

Each target's emulator (scikit-learn ``GaussianProcessRegressor``) has the kernel
``ConstantKernel × RBF(one length scale per parameter, ARD) + WhiteKernel``: the white-noise
term learns the simulation noise (one run differs from the next at the same parameters), so
:meth:`Emulators.predict` returns the predictive standard deviation of ONE NEW SIMULATION —
the emulator's uncertainty about the mean plus that noise. (scikit-learn's ``predict`` with
``return_std`` includes the ``WhiteKernel`` term: ``WhiteKernel.diag`` is the noise level at
any input.) Inputs are the unit cube of :mod:`sim.calibration.abc`; outputs are the target
statistics of :func:`sim.calibration.state.target_statistics`, with each target's NaN rows
(an undefined change) left out of its fit.

:meth:`Emulators.cross_validate` checks each emulator on held-out design points (K folds):
R², the share of held-out simulations inside their 90 % predictive interval (coverage; near
0.9 when the noise model is right) and the RMSE in the target's tolerances.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

__all__ = ["Emulators", "MIN_POINTS"]

#: Fewest finite design points a target's emulator is fitted on; with fewer it predicts NaN
#: (which the distance treats as the cap).
MIN_POINTS = 10
_Z90 = 1.6448536269514722  # the 95 % standard-normal quantile: a central 90 % interval


def _kernel(n_params: int):
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    # Bounds in the unit cube and in units of the (normalised) output: a length scale above 100
    # is a parameter with no effect, below 0.01 one that varies faster than any design resolves.
    return (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(length_scale=np.full(n_params, 0.5),
                                                    length_scale_bounds=(1e-2, 1e2))
            + WhiteKernel(0.1, (1e-6, 1e1)))


class Emulators:
    """A Gaussian-process emulator per column of a design's outputs.

    Args:
        seed: Seeds the optimizer restarts and the cross-validation folds.
        restarts: Extra optimizer starts (drawn from the hyperparameter bounds) per fit.
    """

    def __init__(self, seed: int = 0, restarts: int = 2):
        if restarts < 0:
            raise ValueError(f"restarts: expected 0 or more, got {restarts}")
        self.seed = int(seed)
        self.restarts = int(restarts)
        self.models: list = []
        self.points: list[int] = []
        self.groups: list[int] = []

    def _fit_one(self, u: np.ndarray, y: np.ndarray, kernel=None, restarts: int | None = None):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        gp = GaussianProcessRegressor(kernel=kernel if kernel is not None else _kernel(u.shape[1]),
                                      normalize_y=True,
                                      n_restarts_optimizer=self.restarts if restarts is None else restarts,
                                      random_state=self.seed)
        with warnings.catch_warnings():  # a hyperparameter at its bound is reported in emulator.csv instead
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(u, y)
        return gp

    def fit(self, u: np.ndarray, y: np.ndarray) -> Emulators:
        """Fit one emulator per column of ``y`` (design points × targets) on the rows where it is finite.

        Identical columns (two targets that are the same statistic, e.g. one count held to two
        reported changes) share one emulator; :attr:`groups` maps each column to the first of
        its kind, so that a synthetic simulation can give them the same noise draw too.
        """
        u, y = np.asarray(u, dtype=float), np.asarray(y, dtype=float)
        self.n_params = u.shape[1]
        self.models, self.points, self.groups = [], [], []
        for j in range(y.shape[1]):
            ok = np.isfinite(y[:, j])
            self.points.append(int(ok.sum()))
            same = next((i for i in range(j) if np.array_equal(y[:, i], y[:, j], equal_nan=True)), j)
            self.groups.append(same)
            if same != j:
                self.models.append(self.models[same])
            else:
                self.models.append(self._fit_one(u[ok], y[ok, j]) if ok.sum() >= MIN_POINTS else None)
        return self

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd of one new simulation at each row of ``u``: two arrays, points × targets.

        A target without an emulator (too few finite design points) is NaN.
        """
        u = np.atleast_2d(np.asarray(u, dtype=float))
        mean = np.full((len(u), len(self.models)), math.nan)
        sd = np.full_like(mean, math.nan)
        for j, gp in enumerate(self.models):
            if gp is not None:
                mean[:, j], sd[:, j] = gp.predict(u, return_std=True)
        return mean, sd

    def noise_sd(self) -> np.ndarray:
        """Each emulator's fitted simulation-noise sd, in the target's unit (NaN without an emulator)."""
        out = np.full(len(self.models), math.nan)
        for j, gp in enumerate(self.models):
            if gp is not None:
                out[j] = math.sqrt(gp.kernel_.k2.noise_level) * float(np.atleast_1d(gp._y_train_std)[0])
        return out

    def length_scales(self) -> np.ndarray:
        """Fitted ARD length scales, targets × parameters (unit cube; large = little effect)."""
        out = np.full((len(self.models), getattr(self, "n_params", 0)), math.nan)
        for j, gp in enumerate(self.models):
            if gp is not None:
                out[j] = gp.kernel_.k1.k2.length_scale
        return out

    def cross_validate(self, u: np.ndarray, y: np.ndarray, spread: np.ndarray, folds: int = 5) -> pd.DataFrame:
        """K-fold cross-validation of each column's emulator (call after :meth:`fit`).

        Each fold is refitted on the other folds, its optimizer starting from the full fit's
        hyperparameters (no restarts: the cost of a fit, not of ``restarts + 1`` fits).

        Args:
            u, y: The design and its outputs, as given to :meth:`fit`.
            spread: Each column's tolerance (RMSE is reported in these units).
            folds: Number of folds (seeded split).

        Returns:
            One row per column: ``points``, ``r2``, ``coverage_90``, ``rmse_tolerances``,
            ``noise_sd`` (the full fit's, in the target's unit), ``sd`` (of the design outputs).
        """
        u, y = np.asarray(u, dtype=float), np.asarray(y, dtype=float)
        rng = np.random.default_rng([self.seed, 15])
        noise = self.noise_sd()
        rows = []
        for j, gp in enumerate(self.models):
            ok = np.flatnonzero(np.isfinite(y[:, j]))
            row = {"points": len(ok), "r2": math.nan, "coverage_90": math.nan, "rmse_tolerances": math.nan,
                   "noise_sd": noise[j], "sd": float(np.std(y[ok, j])) if len(ok) else math.nan}
            if gp is not None and len(ok) >= max(folds, MIN_POINTS):
                fold = rng.permutation(len(ok)) % folds
                mean = np.empty(len(ok))
                sd = np.empty(len(ok))
                for f in range(folds):
                    tr, te = ok[fold != f], ok[fold == f]
                    m = self._fit_one(u[tr], y[tr, j], kernel=gp.kernel_, restarts=0)
                    mean[fold == f], sd[fold == f] = m.predict(u[te], return_std=True)
                obs = y[ok, j]
                ss = np.sum((obs - obs.mean()) ** 2)
                row["r2"] = float(1.0 - np.sum((obs - mean) ** 2) / ss) if ss > 0 else math.nan
                row["coverage_90"] = float(np.mean(np.abs(obs - mean) <= _Z90 * sd))
                row["rmse_tolerances"] = float(np.sqrt(np.mean((obs - mean) ** 2)) / spread[j])
            rows.append(row)
        return pd.DataFrame(rows)
