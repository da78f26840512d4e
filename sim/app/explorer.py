"""The explorer page (Panel): choose a city scenario, set a package, run it, compare.

One :class:`Explorer` per browser session. The left column holds the controls: the city
scenario, the baseline, replicates, scale and seed, and one block per intervention of the
scenario schema (its switch, its sizes, and its other scalar parameters folded away). Every
value is checked on the server as the page sends it, by the scenario loader and the command
line's own checks (:func:`sim.app.session.run_settings`), whatever the browser allowed: a bad
value shows the loader's message and Run stays off. "Run package" starts a
:class:`sim.app.session.PackageRun` on a background thread; a periodic callback on the page's
event loop polls it, moves the progress bar and, when it ends, shows the headline changes
against the baseline with 95 % intervals and their flags, the difference map, the time series
and the cost–effect plot of every package saved in the session. Tables are the rows of
:mod:`sim.presentation` and figures those of :mod:`sim.plots`, as ``pingan compare`` prints them
and the HTML report shows them. The "Open results" tab reads a folder written by ``pingan
run``/``compare``/``sweep`` or a results store; a study folder written by ``pingan optimise``
opens in the Packages tab (:class:`sim.app.study.StudyPanel`), which shows its front.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pandas as pd
import panel as pn

from sim.app.session import (
    BASELINES,
    MAX_REPLICATES,
    METRIC_LABELS,
    EditableField,
    PackageRun,
    ResultsFileError,
    SavedPackage,
    Session,
    SettingsError,
    baseline_scenario,
    editable_fields,
    headline_view,
    open_results,
    package_scenario,
    run_settings,
)
from sim.app.session import rows_frame as _frame
from sim.app.study import StudyPanel, study_folder_of
from sim.experiments.packages import package_table
from sim.experiments.summary import FLAGS
from sim.interventions import REGISTRY
from sim.plots import difference_map_of, map_caption, pareto, time_series
from sim.presentation import MIN_RATE_SCALE, figure, package_rows, scale_warning
from sim.scenario import ScenarioError, builtin_scenarios, load_scenario

__all__ = ["Explorer", "DEFAULT_SCENARIO", "DEFAULT_SCALE", "DEFAULT_REPLICATES", "POLL_MS"]

DEFAULT_SCENARIO = "suizhou_2022"
#: The smallest scale at which rates per 100 000 agree with full scale (README): 4 runs take tens of seconds.
DEFAULT_SCALE = MIN_RATE_SCALE
DEFAULT_REPLICATES = 2
#: How often the page asks the background run for progress [ms].
POLL_MS = 300

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NO_RUN = ("**No run yet.** Set a package on the left and press **Run package**: {what} appears here. "
           "To look at earlier results, use **Open results**.")
_ASK = "(choose the baseline)"
#: The position of the Packages tab (where an opened optimiser study is shown).
PACKAGES_TAB = 3


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def switch_label(key: str, on: bool) -> str:
    """The label of an intervention's switch: it says whether the intervention is in the package."""
    return f"{_title(key)}: {'on' if on else 'off'}"


def _bounds(f: EditableField) -> str:
    if f.lower is None and f.upper is None:
        return ""
    lo = figure(f.lower) if f.lower is not None else "…"
    hi = figure(f.upper) if f.upper is not None else "…"
    return f" Allowed: {lo} to {hi}."


def _widget(f: EditableField, value: Any) -> pn.widgets.Widget:
    """A widget for one schema field, described by the schema.

    Numbers carry no bounds in the browser, which would silently put an out-of-range value back:
    every value reaches the server, where the scenario loader checks it and says what is wrong.
    """
    css = [f"pingan-{f.key}-{f.name}"]  # a stable handle for tests and style sheets
    if f.kind == "bool":
        label = switch_label(f.key, bool(value)) if f.name == "enabled" else _title(f.name)
        return pn.widgets.Checkbox(label=label, value=bool(value), margin=(8, 10, 2, 10), css_classes=css)
    if f.kind == "choice":
        return pn.widgets.Select(label=_title(f.name), options=list(f.choices), value=value,
                                 description=f.description, css_classes=css)
    cls = pn.widgets.IntInput if f.kind == "int" else pn.widgets.FloatInput
    kwargs: dict[str, Any] = {}
    if f.kind == "float":
        kwargs["step"] = 0.05 if f.upper is not None and f.upper <= 1 else 1.0
    placeholder = "scenario default" if f.optional else ""
    return cls(label=_title(f.name), value=value, description=f.description + _bounds(f), placeholder=placeholder,
               css_classes=css, **kwargs)


def _flag_notes(rows: list[dict[str, str]]) -> str:
    """The meaning of each flag the rows carry (as the report's Notes)."""
    used = {code for r in rows for code in r.get("note", "").split("; ") if code in FLAGS}
    return "\n".join(f"- **{code}**: {FLAGS[code]}" for code in FLAGS if code in used)


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
        self.problem: str | None = None

        names = list(builtin_scenarios())
        self.scenario = pn.widgets.Select(label="City scenario", options=names, css_classes=["pingan-scenario"],
                                          value=scenario if scenario in names else names[0])
        self.baseline = pn.widgets.Select(label="Compare against", options={v: k for k, v in BASELINES.items()},
                                          value="none")
        self.replicates = pn.widgets.IntInput(label="Replicates", value=DEFAULT_REPLICATES,
                                              css_classes=["pingan-replicates"],
                                              description="Paired replicates: replicate r has the same seed "
                                              f"in the package and the baseline (common random numbers); 2 to "
                                              f"{MAX_REPLICATES}.")
        self.scale = pn.widgets.FloatInput(label="Scale", value=DEFAULT_SCALE, step=0.05, css_classes=["pingan-scale"],
                                           description=f"Fraction of the city simulated, 0 < scale ≤ 1. Use ≥ "
                                           f"{MIN_RATE_SCALE:g} for rates per 100 000 that agree with full scale; "
                                           "counts and costs are the sample's.")
        self.seed = pn.widgets.IntInput(label="Seed", value=1, css_classes=["pingan-seed"])
        self.scale_note = pn.pane.Markdown("", css_classes=["pingan-scale-note"])
        self.package_name = pn.widgets.TextInput(label="Package name", value="", css_classes=["pingan-package-name"])
        self.run_button = pn.widgets.Button(label="Run package", color="primary", css_classes=["pingan-run"])
        self.progress = pn.indicators.Progress(value=0, max=100, visible=False,
                                               sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("Choose a scenario and a package, then **Run package**.",
                                       css_classes=["pingan-status"])
        self.fields: dict[tuple[str, str], pn.widgets.Widget] = {}
        self.intervention_box = pn.Column(sizing_mode="stretch_width")

        self.headline_title = pn.pane.Markdown("### Against the baseline\n" + _NO_RUN.format(
            what="each headline metric of the package against its baseline, with its 95 % interval,"),
            css_classes=["pingan-headline-title"])
        self.headline = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                          css_classes=["pingan-headline"])
        self.headline_notes = pn.pane.Markdown("")
        self.map_hint = pn.pane.Markdown(_NO_RUN.format(what="the map of the package minus its baseline"),
                                         css_classes=["pingan-map-hint"])
        self.map_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                           max_width=800, visible=False, css_classes=["pingan-map"])
        # What the map shows in words: the real districts by name and the sample, or a synthetic city.
        self.map_caption = pn.pane.Markdown("", css_classes=["pingan-map-caption"], visible=False)
        self.series_hint = pn.pane.Markdown(_NO_RUN.format(what="the daily series of the package and its baseline"),
                                            css_classes=["pingan-series-hint"])
        self.series_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                              max_width=900, visible=False)
        self.packages_title = pn.pane.Markdown("### Packages saved in this session (same baseline)\n" + _NO_RUN.format(
            what="each package's contents, prevented cases, cost and cost per prevented case") +
            " A study written by `pingan optimise` opens below, with its front.")
        self.pareto_pane = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                              max_width=800, visible=False)
        self.packages = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                          css_classes=["pingan-packages"])

        self.open_path = pn.widgets.TextInput(label="Results folder or store", placeholder="results/suizhou_2022",
                                              css_classes=["pingan-open-path"])
        self.open_button = pn.widgets.Button(label="Open results", css_classes=["pingan-open"])
        self.open_base = pn.widgets.Select(label="Baseline", options=[], disabled=True,
                                           css_classes=["pingan-open-base"])
        self.open_package = pn.widgets.Select(label="Package", options=[], disabled=True,
                                              css_classes=["pingan-open-package"])
        self.open_status = pn.pane.Markdown("", css_classes=["pingan-open-status"])
        self.open_headline = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                               css_classes=["pingan-open-headline"])
        self.open_packages = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                               css_classes=["pingan-open-packages"])
        self.open_pareto = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                              max_width=800, visible=False)
        self._opened = None
        self._updating = False
        self.study = StudyPanel()
        self.tabs: pn.Tabs | None = None

        self.scenario.param.watch(lambda e: self._load(e.new), "value")
        self.run_button.on_click(lambda e: self.start())
        self.open_button.on_click(lambda e: self.open())
        self.open_base.param.watch(lambda e: self._show_opened(), "value")
        self.open_package.param.watch(lambda e: self._show_opened(), "value")
        for w in (self.replicates, self.scale, self.seed, self.baseline):
            w.param.watch(lambda e: self.check(), "value")
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
        self.check()

    def _make(self, f: EditableField, value: Any) -> pn.widgets.Widget:
        w = _widget(f, value)
        self.fields[(f.key, f.name)] = w
        if f.name == "enabled":
            w.param.watch(lambda e, key=f.key, w=w: setattr(w, "label", switch_label(key, bool(e.new))), "value")
        w.param.watch(lambda e: self.check(), "value")
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

    def _validated(self):
        """The package, its baseline and the run settings, checked on the server; raises with the message to show."""
        if self.scenario.value not in builtin_scenarios():  # a value the browser was not offered
            raise ScenarioError(f"explorer: scenario {self.scenario.value!r} is not a built-in scenario")
        replicates, seed, scale = run_settings(self.replicates.value, self.seed.value, self.scale.value)
        # The package's name is checked on its own (start); the scenario under a placeholder name.
        package = package_scenario(self.loaded, self.settings(), "package")
        base = baseline_scenario(self.loaded, self.baseline.value)
        return package, base, replicates, seed, scale

    def check(self) -> str | None:
        """Validate every value now (on each change): show the loader's message and keep Run off while one is bad.

        Returns:
            The problem's message, or None when everything is valid.
        """
        what = "Invalid package"
        try:
            self._validated()
        except (ScenarioError, SettingsError, ValueError) as e:
            self.problem = str(e)
            what = "Invalid run settings" if isinstance(e, SettingsError) else what
        else:
            self.problem = None
        scale = self.scale.value
        note = scale_warning(scale) if isinstance(scale, (int, float)) and 0 < scale <= 1 else ""
        self.scale_note.object = f"**Note:** {note}." if note else ""
        if self.problem is not None:
            self.status.object = f"**{what}:**\n\n```\n{self.problem}\n```"
        elif self.status.object.startswith("**Invalid"):
            self.status.object = "Ready: press **Run package**."
        self._run_button_state()
        return self.problem

    def _run_button_state(self) -> None:
        self.run_button.disabled = self.problem is not None or (self.job is not None and self.job.running)

    # ------------------------------------------------------------------ running
    def start(self) -> PackageRun | None:
        """Validate the package and the run settings on the server, then start both runs on a background thread."""
        if self.job is not None and self.job.running:
            self.status.object = "A run is going on; wait for it to finish."
            return None
        name = (self.package_name.value or "").strip()
        if not _NAME.match(name):
            self.status.object = (f"**Package name {name!r}:** use letters, digits, `_`, `-` or `.` "
                                  "(up to 64 characters, starting with a letter or digit).")
            return None
        if self.check() is not None:
            return None
        try:
            package, base, replicates, seed, scale = self._validated()
            package = package.model_copy(update={"name": name})
        except (ScenarioError, SettingsError, ValueError) as e:  # checked just above; kept for safety
            self.status.object = f"**Invalid package:**\n\n```\n{e}\n```"
            return None
        if base.name == name:
            self.status.object = f"**Package name {name!r}** is the baseline's name; choose another."
            return None
        self._job_settings = self.settings()
        self.job = PackageRun(base, package, replicates, seed, scale, self.jobs, self.store).start()
        self.progress.value, self.progress.visible = 0, True
        self._run_button_state()
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
        self._run_button_state()
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
        sample = saved.sample
        year, rows = headline_view(saved.metrics, saved.base, saved.name, sample)
        n = saved.metrics.loc[saved.metrics["scenario"] == saved.name, "replicate"].nunique()
        warning = scale_warning(saved.scale) if saved.scale is not None else ""
        self.headline_title.object = (
            f"### {saved.name} against {saved.base}, {year}\n"
            f"**{saved.name} contains:** {saved.contents}\n\n"
            f"Mean over {n} paired replicates with its 95 % interval, in the rows `pingan compare` prints and its "
            f"report shows. **{sample.caption()}**" + (f"\n\n**Note:** {warning}." if warning else ""))
        self.headline.object = _frame(rows, "no common replicates and years to compare")
        self.headline_notes.object = _flag_notes(rows)
        base = {r.replicate: r for r in saved.results if r.scenario == saved.base}
        alt = {r.replicate: r for r in saved.results if r.scenario == saved.name}
        common = sorted(set(base) & set(alt))
        if common:
            # The same replicates of both: the map's difference of means is the mean paired difference.
            base_runs, alt_runs = [base[k] for k in common], [alt[k] for k in common]
            fig = difference_map_of(
                base_runs, alt_runs, sample=sample, layers=saved.layers,
                title=f"{saved.name} − {saved.base}, {year}: recorded offences per cell\n"
                      f"(mean of {len(common)} paired replicates; sites of replicate {common[0]})")
            caption = map_caption(saved.layers, saved.city_name.capitalize())
            # One update, so the figure is drawn once; the image's alt text says what the caption says.
            self.map_pane.param.update(object=fig, alt_text=f"Map of {saved.name} minus {saved.base}. {caption}")
            self.map_caption.param.update(object=caption, visible=True)
            self.series_pane.object = time_series({saved.base: base_runs, saved.name: alt_runs}, saved.first_year,
                                                  start=saved.starts, figsize=(9, 5.8), sample=sample)
            self.map_pane.visible = self.series_pane.visible = True
            self.map_hint.visible = self.series_hint.visible = False
        peers = self.session.cost_effect(saved.name)
        self.packages_title.object = (f"### Packages saved in this session against {saved.base}\n"
                                      f"{sample.caption()}")
        self.pareto_pane.object = pareto(peers, title=f"Packages of this session against {saved.base}", sample=sample)
        self.pareto_pane.visible = True
        contents = {p.name: p.contents for p in self.session.comparable(saved.name)}
        self.packages.object = _frame(package_rows(peers, sample, contents), "no packages yet")

    # ------------------------------------------------------------------ opening results
    def _clear_opened(self) -> None:
        self._opened = None
        self.open_base.param.update(options=[], value=None, disabled=True)
        self.open_package.param.update(options=[], value=None, disabled=True)
        self.open_headline.object = pd.DataFrame()
        self.open_packages.object = pd.DataFrame()
        self.open_pareto.object = None
        self.open_pareto.visible = False

    def open(self) -> None:
        """Read the folder or store in the path box: compare against the baseline it names, or ask for one.

        One scenario (``pingan run`` of a scenario alone) shows its year-on-year change, as the command printed it.
        A failed open clears what an earlier one showed.
        """
        self._clear_opened()
        study = study_folder_of(self.open_path.value.strip()) if isinstance(self.open_path.value, str) else None
        if study is not None:  # its store holds every package's runs under one name: show the study instead
            shown = self.study.open(str(study))
            self.open_status.object = (f"**{study}** is a study written by `pingan optimise`: "
                                       + ("its front is shown in the **Packages** tab." if shown is not None else
                                          "it cannot be shown (see the **Packages** tab)."))
            if self.tabs is not None:
                self.tabs.active = PACKAGES_TAB
            return
        try:
            opened = open_results(self.open_path.value.strip())
        except ResultsFileError as e:
            self.open_status.object = f"**Cannot open:** {e}"
            return
        self._opened = opened
        names = opened.scenarios
        where = f"Opened **{opened.source}**" + (f" ({opened.note})" if opened.note else "")
        if len(names) < 2:
            y = opened.metrics["year"]
            self.open_status.object = (f"{where}: one scenario, **{names[0]}**, {int(y.max())} against "
                                       f"{int(y.min()) if y.nunique() > 1 else int(y.max())}, year on year as "
                                       f"`pingan run` prints a scenario run alone. {opened.sample.caption()}")
            self.open_headline.object = _frame(opened.year_on_year(names[0]), "a single counted year: nothing "
                                               "to compare it with")
            return
        if opened.baseline is None:
            self.open_base.param.update(options=[_ASK, *names], value=_ASK, disabled=False)
            self.open_status.object = (f"{where}: {len(names)} scenarios. These results do not say which is the "
                                       "baseline: **choose the baseline**.")
            return
        self.open_base.param.update(options=names, value=opened.baseline, disabled=False)
        self.open_status.object = (f"{where}: {len(names)} scenarios, against the baseline **{opened.baseline}** "
                                   f"({opened.baseline_from}). {opened.sample.caption()}")
        self._show_opened()

    def _show_opened(self) -> None:
        opened = self._opened
        if opened is None or self._updating or self.open_base.value in (None, _ASK):
            return
        df, base = opened.metrics, self.open_base.value
        others = [s for s in opened.scenarios if s != base]
        if list(self.open_package.options) != others or self.open_package.value not in others:
            self._updating = True  # the package list follows the baseline; draw once, below
            try:
                self.open_package.param.update(options=others, value=others[0], disabled=False)
            finally:
                self._updating = False
        _, rows = headline_view(df, base, self.open_package.value, opened.sample)
        self.open_headline.object = _frame(rows, "no common replicates and years to compare")
        try:
            table = package_table(df, base)
        except KeyError as e:
            self.open_packages.object = pd.DataFrame({"package": [f"no cost–effect table: missing column {e}"]})
            return
        self.open_packages.object = _frame(package_rows(table, opened.sample, opened.contents or None), "no packages")
        self.open_pareto.object = pareto(table, title=f"{opened.source}: packages against {base}",
                                         sample=opened.sample)
        self.open_pareto.visible = True

    # ------------------------------------------------------------------ layout
    def view(self) -> pn.viewable.Viewable:
        """The page."""
        controls = pn.Column(
            pn.pane.Markdown("## Pingan package explorer"),
            self.scenario, self.baseline,
            pn.Row(self.replicates, self.scale, self.seed, sizing_mode="stretch_width"), self.scale_note,
            self.package_name, self.run_button, self.progress, self.status,
            pn.pane.Markdown("### Interventions\nSwitches and sizes (at full scale) from the scenario file; "
                             "fold out *more* for each intervention's other parameters."),
            self.intervention_box,
            width=420, scroll=True, height_policy="max",
        )
        labels = ", ".join(METRIC_LABELS[m].split(" [")[0].split(" (")[0] for m in METRIC_LABELS)
        results = pn.Tabs(
            ("Against baseline", pn.Column(self.headline_title, self.headline, self.headline_notes,
                                           pn.pane.Markdown(f"Headline metrics: {labels}."))),
            ("Map", pn.Column(self.map_hint, self.map_pane, self.map_caption)),
            ("Time series", pn.Column(self.series_hint, self.series_pane)),
            ("Packages", pn.Column(self.packages_title, self.packages, self.pareto_pane, pn.layout.Divider(),
                                   self.study.view())),
            ("Open results", pn.Column(pn.Row(self.open_path, self.open_button), self.open_status,
                                       pn.Row(self.open_base, self.open_package), self.open_headline,
                                       self.open_packages, self.open_pareto)),
            dynamic=False, sizing_mode="stretch_width",
        )
        self.tabs = results
        return pn.Row(controls, results, sizing_mode="stretch_both")
