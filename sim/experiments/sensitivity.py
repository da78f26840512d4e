"""Global sensitivity analysis of a finished sweep: which factors move which outputs, and how much.

Two designs can be analysed (both with SALib, on the sweep's own design points):

* **Sobol'** (``design.kind: sobol``) — variance-based indices. ``S1`` (first order) is the
  share of the output's variance explained by the factor alone, averaging over the others;
  ``ST`` (total order) is the share that would vanish if the factor were fixed, including
  all its interactions. ``ST − S1`` measures interactions; ``ST ≈ 0`` means the factor can be
  fixed anywhere in its range without changing the output. ``S2`` (optional,
  ``second_order: true``) is the share explained by a pair's interaction alone. ``*_conf``
  are half-widths of 95 % bootstrap intervals; indices need enough base samples to be
  stable (intervals narrower than the indices themselves).
* **Morris** (``design.kind: morris``) — elementary-effects screening. An elementary effect
  is the change of the output when one factor takes one grid step, divided by the step as a
  fraction of the factor's range — roughly "the change across the whole range", in the
  output's units. ``mu_star`` is the mean absolute effect (the factor's importance; compare
  factors within an output, not across outputs), ``mu`` the signed mean (its direction) and
  ``sigma`` their spread: ``sigma`` large against ``mu_star`` means the effect depends on
  the other factors (interactions) or on where in the range it is taken (non-linearity).
  ``mu_star_conf`` is a 95 % bootstrap half-width of ``mu_star``.

What is analysed: for each scenario and each output metric of the sweep file, one number
per design point — the metric in ``output_year`` (default: the last counted year) as a
``level``, or its ``change_pct`` against the year before (computed per replicate first).
Replicates of a point are **averaged before the analysis**, so the indices describe the
expected output (common random numbers make the replicate noise shared by all points; what
remains shows up in the bootstrap intervals, not as a factor).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.sweep import SweepError, SweepSpec, design_matrix, salib_problem

__all__ = ["analyse", "point_outputs", "plot", "SOBOL_COLUMNS", "MORRIS_COLUMNS"]

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "sigma", "mu")


def point_outputs(spec: SweepSpec, frame: pd.DataFrame, n_points: int) -> pd.DataFrame:
    """One value per scenario × design point × output: the replicate mean of what is analysed.

    Args:
        spec: The sweep (``outputs``, ``output_year``, ``output``).
        frame: Results with columns scenario, point_id, replicate, year and the metrics.
        n_points: Points of the design; every one must have results.

    Returns:
        Index (scenario, point_id) in design order, one column per output.

    Raises:
        SweepError: Missing points, years or metrics, or an output that is undefined at a point.
    """
    if "sweep" in frame.columns:
        frame = frame[frame["sweep"] == spec.name]
    need = {"scenario", "point_id", "replicate", "year", *spec.outputs}
    missing = sorted(need - set(frame.columns))
    if missing:
        raise SweepError(f"{spec.label}: the results have no column {', '.join(missing)}")
    if frame.empty:
        raise SweepError(f"{spec.label}: no results of sweep {spec.name!r}; run `pingan sweep` first")
    out = []
    for scen, g in frame.groupby("scenario", sort=False):
        have = set(g["point_id"].unique())
        lacking = sorted(set(range(n_points)) - have)
        if lacking:
            raise SweepError(f"{spec.label}: scenario {scen!r} has results for {len(have)} of {n_points} design "
                             f"points (missing e.g. {lacking[:5]}); finish the sweep before the analysis")
        years = sorted(g["year"].unique())
        year = spec.output_year if spec.output_year is not None else years[-1]
        if year not in years:
            raise SweepError(f"{spec.label}: key 'output_year': {year} is not a counted year of {scen!r} "
                             f"({years[0]}–{years[-1]})")
        now = g[g["year"] == year].set_index(["point_id", "replicate"])[list(spec.outputs)].astype(float)
        if spec.output == "change_pct":
            if year - 1 not in years:
                raise SweepError(f"{spec.label}: key 'output': change_pct needs the year before {year}, "
                                 f"which {scen!r} did not count; run at least two years")
            before = g[g["year"] == year - 1].set_index(["point_id", "replicate"])[list(spec.outputs)].astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                values = 100.0 * (now - before) / before
            values = values.replace([np.inf, -np.inf], np.nan)
        else:
            values = now
        means = values.groupby(level="point_id").mean().sort_index()
        bad = means.columns[means.isna().any()].tolist()
        if bad:
            raise SweepError(f"{spec.label}: key 'outputs': {', '.join(bad)} undefined (NaN) at some design "
                             f"points of {scen!r} (e.g. a rate with nothing to divide, or change from zero); "
                             "drop it from outputs")
        means.index = pd.MultiIndex.from_product([[scen], means.index], names=["scenario", "point_id"])
        out.append(means)
    return pd.concat(out)


def analyse(spec: SweepSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices of every output to every factor, per scenario.

    Replicates of each design point are averaged first; the design's point order is the
    sweep's (``point_id``). See the module docstring for what the indices mean.

    Args:
        spec: A sweep with ``design.kind`` sobol or morris.
        frame: Its results (the store's frame: point_id, replicate, year, factor and metric columns).

    Returns:
        One row per scenario × output × factor. Sobol: S1, S1_conf, ST, ST_conf (and, with
        ``second_order``, extra rows whose factor is ``"a × b"`` with S2, S2_conf). Morris:
        mu_star, mu_star_conf, sigma, mu.

    Raises:
        SweepError: Another design kind, or results that do not match the design.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    kind = spec.design.kind
    if kind not in ("sobol", "morris"):
        raise SweepError(f"{spec.label}: key 'design.kind': sensitivity indices need a sobol or morris design, "
                         f"got {kind}")
    if "sweep" in frame.columns:
        frame = frame[frame["sweep"] == spec.name]
    problem = salib_problem(spec)
    X = design_matrix(spec)
    _check_points(spec, frame)
    Y = point_outputs(spec, frame, len(X))
    names = problem["names"]
    rows = []
    for scen in Y.index.get_level_values("scenario").unique():
        for output in spec.outputs:
            y = Y.loc[scen, output].to_numpy(dtype=float)
            base = {"scenario": scen, "output": output}
            if np.ptp(y) == 0:  # a constant output has no variance to apportion
                warnings.warn(f"{scen}: {output} is the same at every design point; its indices are NaN",
                              stacklevel=2)
                cols = SOBOL_COLUMNS if kind == "sobol" else MORRIS_COLUMNS
                rows += [{**base, "factor": n, **dict.fromkeys(cols, np.nan)} for n in names]
                continue
            if kind == "sobol":
                res = sobol_analyze.analyze(problem, y, calc_second_order=spec.design.calc_second_order,
                                            seed=spec.design.seed)
                for i, n in enumerate(names):
                    rows.append({**base, "factor": n, **{c: float(res[c][i]) for c in SOBOL_COLUMNS}})
                if spec.design.calc_second_order:
                    for i, j in zip(*np.triu_indices(len(names), 1), strict=True):
                        rows.append({**base, "factor": f"{names[i]} × {names[j]}",
                                     "S2": float(res["S2"][i, j]), "S2_conf": float(res["S2_conf"][i, j])})
            else:
                res = morris_analyze.analyze(problem, X, y, num_levels=spec.design.morris_levels,
                                             seed=spec.design.seed)
                for i, n in enumerate(names):
                    rows.append({**base, "factor": n, **{c: float(res[c][i]) for c in MORRIS_COLUMNS}})
    return pd.DataFrame(rows)


def _check_points(spec: SweepSpec, frame: pd.DataFrame) -> None:
    """Refuse results whose factor values are not the design's (the sweep file changed since)."""
    from sim.experiments.sweep import design_points

    points = design_points(spec)
    for key in spec.factors:
        if key not in frame.columns:
            continue
        got = frame.groupby("point_id")[key].first()
        want = pd.Series([p[key] for p in points], index=range(len(points)))
        common = got.index.intersection(want.index)
        if len(got.index.difference(want.index)) or not np.allclose(
                got.loc[common].astype(float), want.loc[common].astype(float), rtol=1e-9, atol=0):
            raise SweepError(f"{spec.label}: the results' values of {key} are not this design's points; "
                             "was the sweep file changed after the runs? (re-run, or analyse with the old file)")


def plot(indices: pd.DataFrame, path: str | Path) -> None:
    """A bar chart of sensitivity indices with their 95 % intervals, one panel per scenario × output.

    Sobol: S1 and ST side by side per factor. Morris: mu_star per factor (sigma as a second bar).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sobol = "S1" in indices.columns
    first = indices.dropna(subset=["S1" if sobol else "mu_star"], how="all") if len(indices) else indices
    first = first[~first["factor"].str.contains(" × ", regex=False)] if len(first) else first
    panels = list(first.groupby(["scenario", "output"], sort=False))
    if not panels:
        raise ValueError("no indices to plot")
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    n_factors = first["factor"].nunique()
    fig, axes = plt.subplots(nrows, ncols, figsize=(max(4.5, 1.1 * n_factors + 2) * ncols, 3.6 * nrows),
                             squeeze=False)
    bars = [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")] if sobol else \
        [("mu_star", "mu_star_conf", "μ* (mean |effect|)"), ("sigma", None, "σ (spread of effects)")]
    width = 0.8 / len(bars)
    for ax, ((scen, output), g) in zip(axes.flat, panels, strict=False):
        x = np.arange(len(g))
        for k, (col, err, label) in enumerate(bars):
            yerr = g[err].to_numpy() if err else None
            ax.bar(x + (k - (len(bars) - 1) / 2) * width, g[col].to_numpy(), width, yerr=yerr, capsize=3,
                   label=label)
        ax.set_xticks(x)
        short = [f.split(".")[-1] for f in g["factor"]]
        labels = short if len(set(short)) == len(short) else list(g["factor"])
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{scen}: {output}", fontsize=9)
        ax.axhline(0, color="grey", lw=0.5)
        if sobol:
            ends = np.concatenate([g[c] + sign * g[f"{c}_conf"] for c in ("S1", "ST") for sign in (-1, 1)])
            ax.set_ylim(min(-0.05, float(np.nanmin(ends)) - 0.02), max(1.05, float(np.nanmax(ends)) + 0.02))
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Sobol' indices (95 % intervals)" if sobol else "Morris screening (95 % interval of μ*)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
