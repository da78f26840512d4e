"""The explorer's view of an optimiser study (in the Packages tab): the front a planner reads.

A folder written by ``pingan optimise`` is read with :func:`sim.optimise.summary.read_study`
(read-only, without Optuna) and shown as the command line prints it and its report shows it:
the front with 95 % intervals and pessimistic quantiles (table and plot), the city's actual
package against the front with the best front package at no more than its cost (what the same
money could have bought instead), each package's contents in words and a map of its sites, and
the robustness table across posterior draws. Tables are the rows of :mod:`sim.presentation`,
figures those of :mod:`sim.plots`.

Every value the page sends — the folder typed, the package chosen for the map — is checked here
on the server, whatever the browser allowed: a folder that is not a finished study is refused with
the file and what was expected, and a package that is not one of the study's is refused by name.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import panel as pn

from sim.app.session import rows_frame as _frame
from sim.optimise.report import front_figure, package_label
from sim.optimise.sites import city_at
from sim.optimise.summary import StudyFolderError, StudyTables, facility_name, is_study_folder, read_study
from sim.plots import site_map
from sim.presentation import figure, front_rows, objective_label, robustness_rows

__all__ = ["StudyPanel", "study_folder_of"]

#: What the panel says before a study is opened.
HINT = ("**Optimiser study.** Type the folder a `pingan optimise` study wrote (its `--out`, by default "
        "`results/optimise/SCENARIO`) and press **Open study**: its front, what each package contains and where "
        "its sites are, the city's actual package against the front, and the robustness across posterior draws "
        "appear here.")


def study_folder_of(path: str | Path) -> Path | None:
    """The study folder ``path`` is, or holds a file of (its ``store.sqlite``, ``front.csv``...), or None."""
    p = Path(path).expanduser()
    for folder in (p, p.parent):
        if folder.is_dir() and is_study_folder(folder):
            return folder
    return None


def _escape(text: object) -> str:
    """Text from a file, safe in a Markdown pane (no HTML of its own)."""
    return html.escape(str(text), quote=False)


class StudyPanel:
    """The optimiser-study part of the explorer's Packages tab (one per browser session)."""

    def __init__(self) -> None:
        self.path = pn.widgets.TextInput(label="Optimiser study folder", placeholder="results/optimise/suizhou_2022",
                                         css_classes=["pingan-study-path"])
        self.open_button = pn.widgets.Button(label="Open study", css_classes=["pingan-study-open"])
        self.status = pn.pane.Markdown(HINT, css_classes=["pingan-study-status"])
        self.caption = pn.pane.Markdown("", css_classes=["pingan-study-caption"])
        self.front = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                       css_classes=["pingan-study-front"])
        self.front_plot = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                             max_width=800, visible=False)
        self.actual_title = pn.pane.Markdown("", css_classes=["pingan-study-actual-title"])
        self.actual = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                        css_classes=["pingan-study-actual"])
        self.member = pn.widgets.Select(label="Package to map", options=[], disabled=True,
                                        css_classes=["pingan-study-member"])
        self.member_words = pn.pane.Markdown("", css_classes=["pingan-study-member-words"])
        self.member_map = pn.pane.Matplotlib(None, dpi=96, tight=True, format="png", sizing_mode="scale_width",
                                             max_width=700, visible=False)
        self.robustness_title = pn.pane.Markdown("", css_classes=["pingan-study-robustness-title"])
        self.robustness = pn.pane.DataFrame(pd.DataFrame(), index=False, sizing_mode="stretch_width",
                                            css_classes=["pingan-study-robustness"])
        self.tables: StudyTables | None = None
        self._packages: dict[str, pd.Series] = {}
        self._city = None
        self.open_button.on_click(lambda e: self.open())
        self.member.param.watch(lambda e: self.show_package(), "value")

    def clear(self) -> None:
        """Forget the study shown (a failed open leaves nothing of an earlier one on screen)."""
        self.tables, self._packages, self._city = None, {}, None
        self.caption.object = self.actual_title.object = self.member_words.object = self.robustness_title.object = ""
        for pane in (self.front, self.actual, self.robustness):
            pane.object = pd.DataFrame()
        self.front_plot.object = self.member_map.object = None
        self.front_plot.visible = self.member_map.visible = False
        self.member.param.update(options=[], value=None, disabled=True)

    def open(self, path: object = None) -> StudyTables | None:
        """Read the study folder in the path box (or ``path``) and show it; say what is wrong if it cannot.

        Returns:
            The study's tables, or None when the folder was refused.
        """
        value = self.path.value if path is None else path
        self.clear()
        if not isinstance(value, str | Path) or not str(value).strip():
            self.status.object = "**Cannot open the study:** give the folder a `pingan optimise` study wrote."
            return None
        try:
            tables = read_study(str(value).strip())
            city = city_at(tables.scenario, tables.scale)
        except StudyFolderError as e:
            self.status.object = f"**Cannot open the study:** {_escape(e)}"
            return None
        except Exception as e:  # a scenario whose city cannot be built here: say so rather than fail silently
            self.status.object = f"**Cannot open the study:** {type(e).__name__}: {_escape(e)}"
            return None
        self.tables, self._city = tables, city
        self._show(tables)
        return tables

    def _show(self, t: StudyTables) -> None:
        sample = t.sample
        self.status.object = (f"Opened the study **{_escape(t.source)}**: {_escape(t.scenario.name)}, budget "
                              f"{figure(t.budget / 1e6)} million yuan per year for the whole city; "
                              f"{len(t.packages)} packages scored within budget, {len(t.front)} on the front.")
        self.caption.object = f"#### The front\n{_escape(t.caption())}"
        self.front.object = _frame(front_rows(t.front, t.objectives, sample), "no package within budget was scored")
        self.front_plot.object = front_figure(t)
        self.front_plot.visible = True
        packages: dict[str, pd.Series] = {}
        actual, instead, best = t.against_actual()
        if actual:
            what = ("no front package costs no more than it." if best is None else
                    f"what the same money could have bought instead is package {int(best['package'])}, the best front "
                    "package at no more than its cost (second row).")
            self.actual_title.object = f"#### The city's actual package against the front\nFirst row; {what}"
            self.actual.object = _frame(actual + instead, "")
            packages[package_label(t.actual_row())] = t.actual_row()
        for _, row in t.front.iterrows():
            packages[package_label(row)] = row
        self._packages = packages
        if len(t.robustness):
            self.robustness_title.object = (
                f"#### Robustness across posterior draws\nFor {_escape(objective_label(t.primary(), sample))}; "
                "pessimistic, worst draw and regret in the units of the mean. Beaten in: the share of draws in "
                "which another front package costing no more does better; mean regret: the mean shortfall from the "
                "best such package, draw by draw.")
            self.robustness.object = _frame(robustness_rows(t.robustness, t.front, sample), "")
        if packages:
            first = package_label(best) if best is not None else next(iter(packages))
            self.member.param.update(options=list(packages), value=first, disabled=False)
            self.show_package()

    def show_package(self) -> None:
        """Show the chosen package's contents in words and the map of its sites (refusing a package not offered)."""
        t, choice = self.tables, self.member.value
        if t is None or choice is None:
            return
        row = self._packages.get(choice) if isinstance(choice, str) else None
        if row is None:  # a value the page was not offered, sent over the websocket
            self.member_words.object = f"**Not a package of this study:** {_escape(repr(choice))}"
            self.member_map.object, self.member_map.visible = None, False
            return
        try:
            sites = t.sites(row, self._city.n_cells)
        except StudyFolderError as e:
            self.member_words.object = f"**Cannot map {_escape(choice)}:** {_escape(e)}"
            self.member_map.object, self.member_map.visible = None, False
            return
        placed = ", ".join(f"{facility_name(key)} {len(cells)}" for key, cells in sites.items())
        self.member_words.object = (f"**{_escape(choice)} contains:** {_escape(row['contents'])}\n\n"
                                    f"Cells with sites on the simulated {t.sample.short}: {placed or 'none'} (sites "
                                    "the scenario's own rules place are those of the package's first run).")
        self.member_map.object = site_map(self._city, sites, title=f"{choice}: where its sites are")
        self.member_map.visible = True

    def view(self) -> pn.viewable.Viewable:
        """The panel's layout."""
        return pn.Column(pn.pane.Markdown("### Optimiser study"), pn.Row(self.path, self.open_button), self.status,
                         self.caption, self.front, self.front_plot, self.actual_title, self.actual, self.member,
                         self.member_words, self.member_map, self.robustness_title, self.robustness,
                         sizing_mode="stretch_width")
