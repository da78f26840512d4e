"""What a planner reads from a study: the front with intervals, packages in words, robustness.

* **The front**: packages within budget that no other package beats on every chosen objective
  (each scored as the study's ``score``: mean or pessimistic quantile), with 95 % intervals.
* **The city's actual package** (the scenario as written) placed against the front, and the best
  front package costing no more than it: what the same money could have bought instead.
* **Robustness**: for each front package and the first simulated objective, its pessimistic
  quantile over posterior draws and its **regret across draws**: the share of draws in which
  another front package costing no more does better, and the mean shortfall from the best such
  package, draw by draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.csv_output import write_csv
from sim.optimise.evaluate import HIGHER_IS_BETTER, SIMULATED

if TYPE_CHECKING:
    from sim.optimise.study import Package, Study

__all__ = ["StudyResult", "package_words", "non_dominated"]

_NAMES = {"street_police_stations": "street police stations", "rapid_response_points": "rapid-response points",
          "video": "cameras", "hot_spot_patrol": "hot spots on patrol"}


def non_dominated(values: np.ndarray, higher: list[bool]) -> np.ndarray:
    """True for rows no other row beats on every column (at least as good, better on one)."""
    v = np.where(np.array(higher)[None, :], values, -values)  # all "higher is better"
    keep = np.ones(len(v), dtype=bool)
    for i in range(len(v)):
        better = (v >= v[i]).all(axis=1) & (v > v[i]).any(axis=1)
        keep[i] = not better.any()
    return keep


def package_words(levers: dict[str, Any], siting: dict[str, str]) -> str:
    """A package's contents in words: "10 street police stations (mclp), 12 000 cameras (villages)..."."""
    parts = []
    heads = dict.fromkeys(k.partition(".")[0] for k in levers)
    for head in heads:
        own = {k.partition(".")[2]: v for k, v in levers.items() if k.startswith(head + ".")}
        if own.get("enabled") is False:
            continue
        sizes = {f: v for f, v in own.items() if f not in ("enabled", "siting")}
        if sizes and all(v == 0 for v in sizes.values() if isinstance(v, int | float) and not isinstance(v, bool)) \
                and any(isinstance(v, int | float) and not isinstance(v, bool) for v in sizes.values()):
            continue
        rule = siting.get(head, own.get("siting", ""))
        rule = rule.split(" (")[0] if rule else ""
        name = _NAMES.get(head, head.replace("_", " "))
        numbers = [v for f, v in sizes.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        size = f"{numbers[0]:,.0f} ".replace(",", " ") if len(numbers) == 1 else ""
        extra = ", ".join(f"{f} {v:g}" if isinstance(v, float) else f"{f} {v}" for f, v in sizes.items()
                          if len(numbers) != 1 or not isinstance(v, int | float))
        where = f" ({rule})" if rule and rule != "scenario" else (" (the scenario's siting)" if rule else "")
        parts.append(f"{size}{name}{where}" + (f" [{extra}]" if extra else ""))
    return ", ".join(parts) if parts else "nothing"


@dataclass
class StudyResult:
    """A study's scored packages, its front and the scenario's own package."""

    study: Study
    packages: list[Package]
    actual: Package | None = None

    @property
    def objectives(self) -> list[str]:
        return self.study.objectives

    def scored(self) -> list[Package]:
        """Scored packages within budget, each content once (the first trial that asked for it)."""
        seen: dict[str, Package] = {}
        for p in self.packages:
            if p.feasible and p.scores:
                seen.setdefault(p.content, p)
        return list(seen.values())

    def front(self) -> list[Package]:
        """The non-dominated packages within budget, cheapest first."""
        pkgs = self.scored()
        if not pkgs:
            return []
        kind = self.study.settings.spec.score
        values = np.array([[p.cost if o == "cost" else p.scores[o].value(kind) for o in self.objectives]
                           for p in pkgs])
        keep = non_dominated(values, [HIGHER_IS_BETTER[o] for o in self.objectives])
        return sorted((p for p, k in zip(pkgs, keep, strict=True) if k), key=lambda p: (p.cost, p.number))

    def primary(self) -> str:
        """The first simulated objective: the one robustness and "best at the same cost" refer to."""
        return next(o for o in self.objectives if o in SIMULATED)

    def best_within(self, cost: float) -> Package | None:
        """The front package doing best on the primary objective (mean) at no more than ``cost``."""
        o = self.primary()
        sign = 1 if HIGHER_IS_BETTER[o] else -1
        within = [p for p in self.front() if p.cost <= cost * (1 + 1e-9)]
        return max(within, key=lambda p: (sign * p.scores[o].mean, -p.cost)) if within else None

    def table(self, packages: list[Package] | None = None) -> pd.DataFrame:
        """One row per package: number, contents, cost, and each simulated objective with its interval."""
        rows = []
        for p in packages if packages is not None else self.scored():
            row = {"package": p.number, "contents": package_words(p.levers, p.siting),
                   "cost_yuan_per_year": p.cost, "within_budget": p.feasible}
            for o, s in p.scores.items():
                row.update({o: s.mean, f"{o}_lo": s.lo, f"{o}_hi": s.hi, f"{o}_pessimistic": s.pessimistic})
            row.update({f"lever:{k}": v for k, v in p.levers.items()})
            row.update({f"siting:{k}": v for k, v in p.siting.items()})
            row.update({f"sites:{k}": " ".join(map(str, v)) for k, v in p.sites.items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def robustness(self) -> pd.DataFrame:
        """For each front package: the primary objective's mean, pessimistic quantile and regret across draws."""
        front = self.front()
        o = self.primary()
        sign = 1 if HIGHER_IS_BETTER[o] else -1
        rows = []
        for p in front:
            rivals = [r for r in front if r is not p and r.cost <= p.cost * (1 + 1e-9)]
            mine = sign * p.scores[o].by_draw
            if rivals:
                best = np.max([sign * r.scores[o].by_draw for r in rivals], axis=0)
                beaten = float(np.mean(best > mine))
                regret = float(np.mean(np.maximum(best - mine, 0.0)))
            else:
                beaten, regret = 0.0, 0.0
            rows.append({"package": p.number, "cost_yuan_per_year": p.cost, "objective": o,
                         "mean": p.scores[o].mean, "pessimistic": p.scores[o].pessimistic,
                         "worst_draw": float(sign * np.min(mine)), "beaten_share_of_draws": beaten,
                         "mean_regret": regret, "draws": len(mine)})
        return pd.DataFrame(rows)

    def write(self, out: str | Path) -> None:
        """``packages.csv``, ``front.csv`` and ``robustness.csv`` in ``out``."""
        out = Path(out)
        write_csv(self.table(), out / "packages.csv", float_format="%.10g")
        write_csv(self.table(self.front()), out / "front.csv", float_format="%.10g")
        write_csv(self.robustness(), out / "robustness.csv", float_format="%.10g")
        if self.actual is not None:
            write_csv(self.table([self.actual]), out / "actual.csv", float_format="%.10g")

    def text(self) -> str:
        """The command line's summary."""
        s = self.study.settings
        lines = [f"budget {s.budget:,.0f} yuan per year (running + set-up over {s.spec.amortisation_years:g} years, "
                 f"full scale); {len(self.scored())} packages within budget scored over "
                 f"{s.spec.posterior_draws} posterior draws × {s.spec.replicates} replicates at scale {s.scale:g}",
                 "", "Pareto front (mean [95 % interval]; pessimistic = "
                 f"{s.spec.quantile:g} quantile over draws):"]
        for p in self.front():
            lines.append(self._line(p))
        if self.actual is not None:
            lines += ["", "the city's actual package:", self._line(self.actual)]
            best = self.best_within(self.actual.cost)
            if best is not None:
                lines += [f"best front package at no more than its cost (package {best.number}):", self._line(best)]
                for key, cells in best.sites.items():
                    lines.append(f"    {key} sites (cells): {' '.join(map(str, cells))}")
        rob = self.robustness()
        if len(rob):
            lines += ["", f"robustness ({self.primary()}): share of draws where a cheaper-or-equal front package "
                      "does better, and the mean shortfall"]
            for _, r in rob.iterrows():
                lines.append(f"  package {int(r.package):4d}  {r.cost_yuan_per_year / 1e6:8.1f} M"
                             f"  mean {r['mean']:8.1f}  pessimistic {r.pessimistic:8.1f}"
                             f"  beaten in {r.beaten_share_of_draws:4.0%} of draws"
                             f"  regret {r.mean_regret:6.1f}")
        return "\n".join(lines)

    def _line(self, p: Package) -> str:
        scores = "  ".join(f"{o} {sc.mean:+.1f} [{sc.lo:+.1f}, {sc.hi:+.1f}] (pess. {sc.pessimistic:+.1f})"
                           for o, sc in p.scores.items() if o in self.objectives)
        label = "actual" if p.number < 0 else f"{p.number:4d}"
        return f"  {label}  {p.cost / 1e6:8.1f} M yuan/yr  {scores}\n        {package_words(p.levers, p.siting)}"
