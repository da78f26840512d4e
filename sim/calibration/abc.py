"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), batch by batch.

The sampler is ABC population Monte Carlo (Beaumont, Cornuet, Marin & Robert 2009,
Biometrika 96:983) with an adaptive tolerance (Del Moral, Doucet & Jasra 2012; the median
schedule of pyabc): generation 0 draws the priors (a Latin hypercube), each later generation
sets its tolerance ε to a quantile of the previous population's distances, proposes particles
by perturbing resampled ones with a Gaussian kernel of twice the population's weighted
covariance, keeps those whose simulated distance is ≤ ε, and weights them by prior over
proposal density.

Why not pyabc's sampler: its samplers own the parallel loop — each worker draws, simulates and
accepts a particle inside a closure — which would bypass the experiment runner (and with it
the Dask backend's configuration, the results store and resumption at the level of single
simulations) or force a second parallel runner beside ours. Here every batch of proposals is
handed to a ``simulate`` callback (the calibration runs it on
:func:`sim.experiments.runner.run_tasks`), and every random draw comes from a stream named by
generation and batch, so a restarted calibration proposes exactly the same particles, finds
their simulations already in the store, and goes on from the first one it lacks.

Sampling stops when the budget is spent, when a generation's acceptance rate falls below
``min_acceptance``, after ``max_generations``, or — if asked (``eps_rtol``, ``mean_shift_tol``) —
when ε and the posterior means have stopped moving between two generations, or — if asked
(``min_epsilon``) — after the generation whose tolerance reached ``min_epsilon``: ABC with a
uniform kernel of width ε is exact inference under an error uniform within ε (Wilkinson 2013,
Stat. Appl. Genet. Mol. Biol. 12:129), so when ε is in the data's own tolerances the sampler has
nothing to gain by going below them but a posterior narrower than the data allow.

Parameters live in the unit cube: each prior is uniform there (``Prior.from_unit`` maps a
log-uniform prior too), so the prior density is constant on the support and a proposal that
leaves the cube is redrawn without simulating it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import qmc

from sim.rng import stream

__all__ = ["Population", "ABCResult", "abc_smc", "weighted_quantile"]

#: simulate(u, first) -> distances: u is a batch of particles (rows, unit cube), ``first`` the
#: global index of the batch's first simulation (for the simulations' seeds).
Simulate = Callable[[np.ndarray, int], np.ndarray]


@dataclass
class Population:
    """One generation's accepted particles.

    Attributes:
        generation: 0 for the prior sample.
        epsilon: The tolerance the particles met (inf in generation 0).
        u: Particles × parameters, in the unit cube.
        weights: Normalised importance weights.
        distances: Each particle's simulated distance.
        index: Each particle's global simulation index (to find its simulation again).
        proposed: Particles simulated in the generation (accepted or not).
    """

    generation: int
    epsilon: float
    u: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    index: np.ndarray
    proposed: int

    @property
    def ess(self) -> float:
        """Effective sample size of the weights."""
        return float(1.0 / np.sum(self.weights**2))

    @property
    def acceptance(self) -> float:
        return len(self.u) / self.proposed if self.proposed else math.nan

    @property
    def mean(self) -> np.ndarray:
        """Weighted posterior mean of each parameter, in the unit cube."""
        return self.weights @ self.u

    @property
    def sd(self) -> np.ndarray:
        """Weighted posterior sd of each parameter, in the unit cube."""
        return np.sqrt(self.weights @ (self.u - self.mean) ** 2)

    def mean_shift(self, prev: Population) -> float:
        """Largest move of a parameter's posterior mean since ``prev``, in prior widths."""
        return float(np.max(np.abs(self.mean - prev.mean)))


@dataclass
class ABCResult:
    """Every completed generation, the last being the posterior, and why sampling stopped."""

    populations: list[Population]
    simulated: int  # particles simulated in all, including those of an unfinished last generation
    stopped: str
    all_u: np.ndarray = field(repr=False)  # every simulated particle, in simulation order
    all_distances: np.ndarray = field(repr=False)

    @property
    def posterior(self) -> Population:
        return self.populations[-1]


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``x`` under weights ``w`` (inverse of the weighted ECDF)."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    return float(x[order][min(np.searchsorted(cw, q * cw[-1]), len(x) - 1)])


def _kernel_cov(pop: Population) -> np.ndarray:
    u, w = pop.u, pop.weights
    d = u - pop.mean
    cov = 2.0 * (d.T * w) @ d / max(1e-12, 1.0 - np.sum(w**2))
    # A floor keeps the kernel proper when a parameter has collapsed onto one value.
    return cov + np.eye(u.shape[1]) * 1e-6


def _density(u: np.ndarray, centres: np.ndarray, weights: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Mixture density sum_j w_j N(u; centre_j, cov) at each row of ``u``."""
    chol = np.linalg.cholesky(cov)
    k = u.shape[1]
    log_norm = -0.5 * k * math.log(2 * math.pi) - np.log(np.diag(chol)).sum()
    out = np.empty(len(u))
    for i in range(len(u)):
        z = np.linalg.solve(chol, (u[i] - centres).T)
        out[i] = np.sum(weights * np.exp(log_norm - 0.5 * np.sum(z**2, axis=0)))
    return out


def _propose(rng: np.random.Generator, pop: Population, cov: np.ndarray, n: int) -> np.ndarray:
    chol = np.linalg.cholesky(cov)
    out = np.empty((0, pop.u.shape[1]))
    while len(out) < n:
        m = 2 * (n - len(out))
        pick = rng.choice(len(pop.u), size=m, p=pop.weights)
        cand = pop.u[pick] + rng.standard_normal((m, pop.u.shape[1])) @ chol.T
        inside = np.all((cand >= 0) & (cand <= 1), axis=1)
        out = np.vstack([out, cand[inside]])
    return out[:n]


def _converged(prev: Population, pop: Population, eps_rtol: float, mean_shift_tol: float) -> bool:
    """ε fell by less than ``eps_rtol`` of itself and no posterior mean moved ``mean_shift_tol`` or more."""
    return bool(prev.epsilon - pop.epsilon <= eps_rtol * prev.epsilon and pop.mean_shift(prev) < mean_shift_tol)


def abc_smc(simulate: Simulate, n_params: int, n_particles: int, budget: int, seed: int, *,
            quantile: float = 0.5, max_generations: int = 12, min_acceptance: float = 0.02,
            batch: int | None = None, on_generation: Callable[[Population], None] | None = None,
            eps_rtol: float | None = None, mean_shift_tol: float | None = None,
            min_epsilon: float | None = None) -> ABCResult:
    """Sample an ABC posterior.

    Args:
        simulate: Returns the distance of each particle of a batch (see :data:`Simulate`).
        n_params: Parameters (columns of the unit cube).
        n_particles: Particles per generation.
        budget: Particles that may be simulated in all (generation 0 takes ``n_particles``).
        seed: Seeds every draw (streams ``abc.<generation>.<batch>``).
        quantile: Each tolerance is this quantile of the previous generation's distances.
        max_generations: Stop after this many generations (generation 0 included).
        min_acceptance: Stop when a generation's acceptance rate falls below this.
        batch: Particles simulated per batch in later generations; default: what the previous
            acceptance rate says will complete the generation (one batch when it holds).
        on_generation: Called with each completed population (for checkpoints and progress).
        eps_rtol, mean_shift_tol: Convergence stop (off unless both are given): stop with
            ``stopped="converged"`` once, between two consecutive generations after the prior
            sample, ε fell by less than ``eps_rtol`` (relative) and no parameter's posterior mean
            moved by ``mean_shift_tol`` prior widths (the unit cube) or more.
        min_epsilon: Tolerance floor (off unless given): a generation whose quantile ε falls to it
            or below runs at ``min_epsilon`` instead and is the last (``stopped="min_epsilon"``,
            whatever its acceptance rate).

    Returns:
        Every completed generation. A generation the budget cut short is dropped (its
        particles count in ``simulated``): the posterior is the last complete one. ``stopped``
        is ``"max_generations"``, ``"budget"``, ``"acceptance"``, ``"converged"`` or ``"min_epsilon"``.
    """
    if (eps_rtol is None) != (mean_shift_tol is None):
        raise ValueError("eps_rtol and mean_shift_tol: give both (the convergence stop) or neither")
    if min_epsilon is not None and not 0 < min_epsilon < math.inf:
        raise ValueError(f"min_epsilon: expected a tolerance > 0, got {min_epsilon}")
    if n_particles < 2 or budget < n_particles:
        raise ValueError(f"need n_particles >= 2 and budget >= n_particles, got {n_particles} and {budget}")
    all_u: list[np.ndarray] = []
    all_d: list[np.ndarray] = []

    def run(u: np.ndarray) -> np.ndarray:
        first = sum(len(x) for x in all_u)
        d = np.asarray(simulate(u, first), dtype=float)
        all_u.append(u)
        all_d.append(d)
        return d

    lhs = qmc.LatinHypercube(d=n_params, seed=stream(seed, "abc.0.0"))
    u0 = lhs.random(n_particles)
    d0 = run(u0)
    pops = [Population(0, math.inf, u0, np.full(n_particles, 1.0 / n_particles), d0, np.arange(n_particles),
                       n_particles)]
    if on_generation:
        on_generation(pops[0])
    stopped = "max_generations"
    rate = 0.5
    for t in range(1, max_generations):
        prev = pops[-1]
        finite = np.isfinite(prev.distances)
        eps = weighted_quantile(prev.distances[finite], prev.weights[finite], quantile)
        at_floor = min_epsilon is not None and eps <= min_epsilon
        if at_floor:
            eps = min_epsilon
        cov = _kernel_cov(prev)
        acc_u, acc_d, acc_i = [], [], []
        proposed = 0
        b = 0
        while sum(len(x) for x in acc_u) < n_particles:
            left = budget - sum(len(x) for x in all_u)
            if left <= 0:
                break
            need = n_particles - sum(len(x) for x in acc_u)
            size = batch or math.ceil(1.2 * need / max(rate, min_acceptance))
            size = int(min(left, max(size, 1)))
            u = _propose(stream(seed, f"abc.{t}.{b}"), prev, cov, size)
            first = sum(len(x) for x in all_u)
            d = run(u)
            ok = np.flatnonzero(d <= eps)
            acc_u.append(u[ok])
            acc_d.append(d[ok])
            acc_i.append(first + ok)
            proposed += size
            b += 1
            rate = max(sum(len(x) for x in acc_u) / proposed, min_acceptance / 2)
        n_acc = sum(len(x) for x in acc_u)
        if n_acc < n_particles:
            stopped = "budget"
            break
        u = np.vstack(acc_u)[:n_particles]  # the first n in proposal order: the same on every rerun
        d = np.concatenate(acc_d)[:n_particles]
        idx = np.concatenate(acc_i)[:n_particles]
        w = 1.0 / _density(u, prev.u, prev.weights, cov)
        pops.append(Population(t, eps, u, w / w.sum(), d, idx, proposed))
        if on_generation:
            on_generation(pops[-1])
        if at_floor:  # the sampler reached what it was asked for, whatever the acceptance
            stopped = "min_epsilon"
            break
        if pops[-1].acceptance < min_acceptance:
            stopped = "acceptance"
            break
        if eps_rtol is not None and t >= 2 and _converged(pops[-2], pops[-1], eps_rtol, mean_shift_tol):
            stopped = "converged"
            break
        if sum(len(x) for x in all_u) >= budget:
            stopped = "budget"
            break
    return ABCResult(pops, sum(len(x) for x in all_u), stopped, np.vstack(all_u), np.concatenate(all_d))
