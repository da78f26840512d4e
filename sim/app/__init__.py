"""The planner's workbench: ``pingan serve``, an interactive package explorer in the browser.

Needs the ``app`` extra (Panel: ``pip install 'pingan[app]'``, or ``pip install -e '.[app]'`` in a
checkout). The page works offline: Panel serves its JavaScript and CSS from the installed Python
package, and the server listens on 127.0.0.1 unless told otherwise. Only :mod:`sim.app.explorer`
and :mod:`sim.app.serve` import Panel; :mod:`sim.app.session` works without it. The figures are
:mod:`sim.plots` and the tables :mod:`sim.presentation`, shared with the command line and the HTML
report.
"""

__all__ = ["explorer", "serve", "session"]
