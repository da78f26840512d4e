"""The package explorer page (Panel): choose a city scenario, set a package, run it, compare.

One :class:`Explorer` per browser session. The left column holds the controls: the city
scenario, the baseline, replicates, scale and seed, and one block per intervention of the
scenario schema (its switch, its sizes, and its other scalar parameters folded away). "Run
package" starts a :class:`sim.app.session.PackageRun` on a background thread; a periodic
callback on the page's event loop polls it, moves the progress bar and, when it ends, shows
the headline changes against the baseline with 95 % intervals, the difference map, the time
series and the cost–effect plot of every package saved in the session (drawn by
:mod:`sim.plots`, like the HTML report's). The "Open results"
tab reads a folder written by ``pingan run``/``compare``/``sweep`` or a results store.
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from sim.app.session import (
    BASELINES,
    METRIC_LABELS,
    EditableField,
    PackageRun,
    ResultsFileError,
    SavedPackage,
    Session,
    baseline_scenario,
    editable_fields,
    headline_table,
    open_results,
    package_scenario,
)
from sim.experiments.packages import package_table
from sim.interventions import REGISTRY
from sim.plots import difference_map_of, pareto, time_series
from sim.scenario import ScenarioError, builtin_scenarios, load_scenario

__all__ = ["Explorer", "DEFAULT_SCENARIO", "DEFAULT_SCALE", "DEFAULT_REPLICATES", "POLL_MS"]

DEFAULT_SCENARIO = "suizhou_2022"
#: Quick runs by default: 4 runs of a 0.05-scale city take seconds (rates drift below 0.1; see README).
DEFAULT_SCALE = 0.05
DEFAULT_REPLICATES = 2
#: How often the page asks the background run for progress [ms].
POLL_MS = 300

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _widget(f: EditableField, value: Any) -> pn.widgets.Widget:
    """A widget for one schema field, bounded by the schema and described by its docstring."""
    label = _title(f.name) if f.name != "enabled" else f"{_title(f.key)}: switched on"
    css = [f"pingan-{f.key}-{f.name}"]  # a stable handle for tests and style sheets
    if f.kind == "bool":
        return pn.widgets.Checkbox(label=label, value=bool(value), margin=(8, 10, 2, 10), css_classes=css)
    if f.kind == "choice":
        return pn.widgets.Select(label=label, options=list(f.choices), value=value, description=f.description,
                                 css_classes=css)
    cls = pn.widgets.IntInput if f.kind == "int" else pn.widgets.FloatInput
    kwargs: dict[str, Any] = {k: v for k, v in (("start", f.lower), ("end", f.upper)) if v is not None}
    if f.kind == "float":
        kwargs["step"] = 0.05 if f.upper is not None and f.upper <= 1 else 1.0
    placeholder = "scenario default" if f.optional else ""
    return cls(label=label, value=value, description=f.description, placeholder=placeholder, css_classes=css,
               **kwargs)


def _interval(mean: float, lo: float, hi: float, digits: str = ".4g", unit: str = "") -> str:
    if not np.isfinite(mean):
        return "–"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{mean:+{digits}}{unit}"
    return f"{mean:+{digits}}{unit} [{lo:+{digits}}, {hi:+{digits}}]"


def headline_display(table: pd.DataFrame) -> pd.DataFrame:
    """The headline table as the page shows it: labels and formatted intervals."""
    if table.empty:
        return pd.DataFrame({"metric": ["no common replicates and years to compare"]})
    year = int(table["year"].iloc[0])
    return pd.DataFrame({
        "metric": table["label"],
        f"baseline {year}": table["base_mean"].map(lambda v: f"{v:.4g}"),
        f"package {year}": table["package_mean"].map(lambda v: f"{v:.4g}"),
        "change [95 % interval]": [_interval(r.difference, r.difference_lo, r.difference_hi)
                                   for r in table.itertuples()],
        "change % [95 % interval]": [_interval(r.relative_pct, r.relative_pct_lo, r.relative_pct_hi, ".1f", " %")
                                     for r in table.itertuples()],
        "replicates": table["replicates"].astype(int),
    })


def packages_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`package_table` as the page shows it."""
    if table.empty:
        return pd.DataFrame({"package": ["no packages yet"]})
    return pd.DataFrame({
        "rank": table["rank"],
        "package": table["package"],
        "preventable cases prevented [95 %]": [_interval(r.prevented, r.prevented_lo, r.prevented_hi, ".1f")
                                               for r in table.itertuples()],
        "extra cost, M yuan [95 %]": [_interval(r.extra_cost_yuan / 1e6, r.extra_cost_lo / 1e6,
                                                r.extra_cost_hi / 1e6, ".2f") for r in table.itertuples()],
        "yuan per prevented case": table["cost_per_prevented_yuan"].map(
            lambda v: f"{v:,.0f}" if np.isfinite(v) else "not estimable"),
        "Pareto": table["pareto"].map(lambda v: "yes" if v else ""),
    })


class Explorer:
    """The explorer page of one browser session.

    Args:
        jobs: Worker processes per run (1: runs on the page's background thread).
        store: A results store to commit every run to, or None to keep runs in memory only.
        scenario: The scenario selected at first.
    """

    def __init__(self, jobs: int = 1, store=None, scenario: str = DEFAULT_SCENARIO):
        self.jobs = jobs
        self.store = store
        self.session = Session()
        self.job: PackageRun | None = None
        self._job_settings: dict[str, dict[str, Any]] = {}
        self._poll = None

        names = list(builtin_scenarios())
        self.scenario = pn.widgets.Select(label="City scenario", options=names,
                                          value=scenario if scenario in names else names[0])
        self.baseline = pn.widgets.Select(label="Compare against", options={v: k for k, v in BASELINES.items()},
                                          value="none")
        self.replicates = pn.widgets.IntInput(label="Replicates", value=DEFAULT_REPLICATES, start=2, end=200,
                                              description="Paired replicates: replicate r has the same seed "
                                              "in the package and the baseline (common random numbers).")
        self.scale = pn.widgets.FloatInput(label="Scale", value=DEFAULT_SCALE, start=0.01, end=1.0, step=0.05,
                                           description="Fraction of the city simulated. 0.05 runs in seconds; "
                                           "use ≥ 0.1 for rates per 100 000 that agree with full scale.")
        self.seed = pn.widgets.IntInput(label="Seed", value=1, start=0)
        self.package_name = pn.widgets.TextInput(label="Package name", value="")
        self.run_button = pn.widgets.Button(label="Run package", color="primary", css_classes=["pingan-run"])
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False,
                                               sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("Choose a scenario and a package, then **Run package**.",
                                       css_classes=["pingan-status"])
        self.fields: dict[tuple[str, str], pn.widgets.Widget] = {}
        self.intervention_box = pn.Column(sizing_mode="stretch_width")

        self.headline_title = pn.pane.Markdown("### Against the baseline\nNo run yet.")
        self.headline = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                          css_classes=["pingan-headline"])
        self.map_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                           max_width=800)
        self.series_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                              max_width=900)
        self.pareto_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                              max_width=800)
        self.packages = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                          css_classes=["pingan-packages"])

        self.open_path = pn.widgets.TextInput(label="Results folder or store", placeholder="results/suizhou_2022")
        self.open_button = pn.widgets.Button(label="Open results")
        self.open_base = pn.widgets.Select(label="Baseline", options=[], disabled=True)
        self.open_package = pn.widgets.Select(label="Package", options=[], disabled=True)
        self.open_status = pn.pane.Markdown("", css_classes=["pingan-open-status"])
        self.open_headline = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width")
        self.open_packages = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width")
        self.open_pareto = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                              max_width=800)
        self._opened = None

        self.scenario.param.watch(lambda e: self._load(e.new), "value")
        self.run_button.on_click(lambda e: self.start())
        self.open_button.on_click(lambda e: self.open())
        self.open_base.param.watch(lambda e: self._show_opened(), "value")
        self.open_package.param.watch(lambda e: self._show_opened(), "value")
        self._load(self.scenario.value)

    # ------------------------------------------------------------------ controls
    def _load(self, name: str) -> None:
        """Set every intervention widget from the scenario file ``name``."""
        try:
            self.loaded = load_scenario(name)
        except ScenarioError as e:
            self.status.object = f"**Cannot load {name}:** {e}"
            return
        self.fields.clear()
        blocks = []
        for key in sorted(REGISTRY):
            params = getattr(self.loaded.interventions, key)
            main, more = [], []
            for f in editable_fields(key):
                w = self._make(f, getattr(params, f.name))
                (main if f.name == "enabled" or f.size else more).append(w)
            if more:
                main.append(pn.Card(*more, title=f"more: {_title(key).lower()}", collapsed=True,
                                    sizing_mode="stretch_width", margin=(0, 10, 6, 10)))
            blocks.append(pn.Column(*main, sizing_mode="stretch_width", margin=(0, 0, 6, 0)))
        self.intervention_box.objects = blocks
        self.package_name.value = self._next_name()

    def _make(self, f: EditableField, value: Any) -> pn.widgets.Widget:
        w = _widget(f, value)
        self.fields[(f.key, f.name)] = w
        return w

    def _next_name(self) -> str:
        taken = set(self.session.packages)
        n = 1
        while f"{self.scenario.value}_p{n}" in taken:
            n += 1
        return f"{self.scenario.value}_p{n}"

    def settings(self) -> dict[str, dict[str, Any]]:
        """The planner's intervention settings, ``{key: {field: value}}``."""
        out: dict[str, dict[str, Any]] = {}
        for (key, name), w in self.fields.items():
            out.setdefault(key, {})[name] = w.value
        return out

    # ------------------------------------------------------------------ running
    def start(self) -> PackageRun | None:
        """Validate the package and start it with its baseline on a background thread."""
        if self.job is not None and self.job.running:
            self.status.object = "A run is going on; wait for it to finish."
            return None
        name = (self.package_name.value or "").strip()
        if not _NAME.match(name):
            self.status.object = (f"**Package name {name!r}:** use letters, digits, `_`, `-` or `.` "
                                  "(up to 64 characters, starting with a letter or digit).")
            return None
        try:
            package = package_scenario(self.loaded, self.settings(), name)
            base = baseline_scenario(self.loaded, self.baseline.value)
        except ScenarioError as e:
            self.status.object = f"**Invalid package:**\n\n```\n{e}\n```"
            return None
        if base.name == name:
            self.status.object = f"**Package name {name!r}** is the baseline's name; choose another."
            return None
        replicates, scale = self.replicates.value, self.scale.value
        if not replicates or replicates < 2 or not scale or not 0 < scale <= 1:
            self.status.object = "**Replicates** must be at least 2 (for intervals) and **scale** in (0, 1]."
            return None
        self._job_settings = self.settings()
        self.job = PackageRun(base, package, replicates, int(self.seed.value or 0), float(scale), self.jobs,
                              self.store).start()
        self.run_button.disabled = True
        self.progress.value, self.progress.visible = 0, True
        self.status.object = f"Running **{name}** against **{base.name}**: 0 of {self.job.total} runs finished …"
        self._poll = pn.state.add_periodic_callback(self._check, period=POLL_MS)
        return self.job

    def _check(self) -> None:
        """Periodic callback on the page's event loop: progress, then the results."""
        job = self.job
        if job is None:
            return
        elapsed = time.monotonic() - job.started
        if job.running:
            self.progress.value = int(100 * job.done / job.total)
            self.status.object = (f"Running **{job.package.name}** against **{job.base.name}**: {job.done} of "
                                  f"{job.total} runs finished ({elapsed:.0f} s) …")
            return
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
        self.run_button.disabled = False
        self.progress.visible = False
        if job.error is not None or job.results is None:
            self.status.object = f"**Run failed:** {job.error}"
            return
        saved = self.session.save(job, self._job_settings)
        try:
            self.show(saved)
        except Exception as e:  # a figure or table that fails must not leave the page half-updated and silent
            self.status.object = f"**{saved.name}** finished, but showing it failed: {type(e).__name__}: {e}"
            return
        self.status.object = (f"**{saved.name}** finished: {job.total} runs in {job.finished - job.started:.1f} s "
                              f"(scale {job.scale:g}, {job.replicates} paired replicates).")
        self.package_name.value = self._next_name()

    # ------------------------------------------------------------------ results
    def show(self, saved: SavedPackage) -> None:
        """Show a saved package: headline table, map, time series and the session's cost–effect plot."""
        table = headline_table(saved.metrics, saved.base, saved.name)
        year = int(table["year"].iloc[0]) if len(table) else "?"
        self.headline_title.object = (f"### {saved.name} against {saved.base}, {year}\nMean over "
                                      f"{int(table['replicates'].iloc[0]) if len(table) else 0} paired replicates "
                                      "and its 95 % interval, as `pingan compare` reports them.")
        self.headline.object = headline_display(table)
        base = {r.replicate: r for r in saved.results if r.scenario == saved.base}
        alt = {r.replicate: r for r in saved.results if r.scenario == saved.name}
        common = sorted(set(base) & set(alt))
        if common:
            # The same replicates of both: the map's difference of means is the mean paired difference.
            base_runs, alt_runs = [base[k] for k in common], [alt[k] for k in common]
            self.map_pane.object = difference_map_of(
                base_runs, alt_runs, title=f"{saved.name} − {saved.base}, {year}: recorded offences per cell\n"
                                           f"(mean of {len(common)} paired replicates; sites of replicate {common[0]})")
            self.series_pane.object = time_series({saved.base: base_runs, saved.name: alt_runs}, saved.first_year,
                                                  start=saved.start_year, figsize=(9, 5.8))
        peers = self.session.cost_effect(saved.name)
        self.pareto_pane.object = pareto(peers, title=f"Packages of this session against {saved.base}")
        self.packages.object = packages_display(peers)

    # ------------------------------------------------------------------ opening results
    def open(self) -> None:
        """Read the folder or store in the path box and offer its scenarios."""
        try:
            self._opened = open_results(self.open_path.value.strip())
        except ResultsFileError as e:
            self.open_status.object = f"**Cannot open:** {e}"
            return
        names = self._opened.scenarios
        if len(names) < 2:
            self.open_status.object = f"{self._opened.source}: one scenario only ({names[0]}); nothing to compare."
            return
        self.open_base.param.update(options=names, value=names[0], disabled=False)
        self.open_package.param.update(options=names[1:], value=names[1], disabled=False)
        self.open_status.object = (f"Opened **{self._opened.source}**: {len(names)} scenarios"
                                   + (f" ({self._opened.note})" if self._opened.note else "") + ".")
        self._show_opened()

    def _show_opened(self) -> None:
        if self._opened is None or not self.open_base.value or not self.open_package.value:
            return
        df, base = self._opened.metrics, self.open_base.value
        others = [s for s in self._opened.scenarios if s != base]
        if self.open_package.options != others:
            self.open_package.param.update(options=others, value=others[0])
            return  # the watcher calls back with the new package
        self.open_headline.object = headline_display(headline_table(df, base, self.open_package.value))
        try:
            table = package_table(df, base)
        except KeyError as e:
            self.open_packages.object = pd.DataFrame({"package": [f"no cost–effect table: missing column {e}"]})
            return
        self.open_packages.object = packages_display(table)
        self.open_pareto.object = pareto(table, title=f"{self._opened.source}: packages against {base}")

    # ------------------------------------------------------------------ layout
    def view(self) -> pn.viewable.Viewable:
        """The page."""
        controls = pn.Column(
            pn.pane.Markdown("## Pingan package explorer"),
            self.scenario, self.baseline,
            pn.Row(self.replicates, self.scale, self.seed, sizing_mode="stretch_width"),
            self.package_name, self.run_button, self.progress, self.status,
            pn.pane.Markdown("### Interventions\nSwitches and sizes (at full scale) from the scenario file; "
                             "fold out *more* for each intervention's other parameters."),
            self.intervention_box,
            width=420, scroll=True, height_policy="max",
        )
        labels = ", ".join(METRIC_LABELS[m].split(" [")[0].split(" (")[0] for m in METRIC_LABELS)
        results = pn.Tabs(
            ("Against baseline", pn.Column(self.headline_title, self.headline,
                                           pn.pane.Markdown(f"Headline metrics: {labels}."))),
            ("Map", self.map_pane),
            ("Time series", self.series_pane),
            ("Packages", pn.Column(pn.pane.Markdown("### Packages saved in this session (same baseline)"),
                                   self.packages, self.pareto_pane)),
            ("Open results", pn.Column(pn.Row(self.open_path, self.open_button), self.open_status,
                                       pn.Row(self.open_base, self.open_package), self.open_headline,
                                       self.open_packages, self.open_pareto)),
            dynamic=False, sizing_mode="stretch_width",
        )
        return pn.Row(controls, results, sizing_mode="stretch_both")
