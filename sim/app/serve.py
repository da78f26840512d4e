"""Start the explorer's web server (``pingan serve``), offline and on localhost by default.

Panel is imported here, lazily: without the ``app`` extra, :func:`require_panel` raises an
:class:`AppUnavailable` whose message says what to install (for a source checkout or a wheel).
Panel serves its JavaScript and CSS from the installed package (resource mode ``server``, which
this module pins), so the page needs no network beyond the machine it runs on.

The page talks to the server over a websocket. Browsers always send an ``Origin`` header, and
Bokeh refuses origins other than the server's own; but Tornado lets a connection *without* the
header through (it takes it for a non-browser client), so from another machine, when the server
listens beyond localhost, a script could drive a page. :func:`require_origin` refuses such
connections: every websocket must name an allowed origin.

When it starts, the server compiles the simulation's hourly kernels on a background thread
(:func:`warm_up_kernels`): on a machine that has not run pingan yet, that takes tens of seconds,
which the planner would otherwise wait through on the first **Run package**.
"""

from __future__ import annotations

import errno
import socket
import sys
import threading
from pathlib import Path

from sim._data import install_hint

__all__ = ["AppUnavailable", "CannotListen", "require_panel", "require_origin", "warm_up_kernels", "free_port",
           "serve", "DEFAULT_HOST", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5006
#: The kernels' warm-up: this many simulated hours of a city at this scale call every hourly
#: kernel (patrol, guarding, offending, dispatch, decay) with the types a real run uses.
WARM_UP_HOURS = 72
WARM_UP_SCALE = 0.02
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class AppUnavailable(RuntimeError):
    """The ``app`` extra (Panel) is not installed."""


class CannotListen(RuntimeError):
    """The server cannot listen at the address and port asked for (a bad --host, a port in use)."""


def _check_listen(host: str, port: int) -> None:
    """Bind the address as the server will (SO_REUSEADDR, as Tornado does), or raise :class:`CannotListen`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError) as e:
        raise CannotListen(f"--host {host}: not an address of this machine ({getattr(e, 'strerror', None) or e}); "
                           "expected e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise CannotListen(f"--port {port}: already in use on {host} (another pingan serve?); give "
                                   "another --port, or --port 0 for a free one") from None
            raise CannotListen(f"--host {host} --port {port}: cannot listen there ({e.strerror})") from None


def require_panel():
    """Import and return ``panel``, or raise :class:`AppUnavailable` saying how to install it."""
    try:
        import panel
    except ImportError as e:
        raise AppUnavailable(f"pingan serve needs the app extra (Panel): {install_hint('app')} ({e})") from None
    return panel


def require_origin() -> None:
    """Make the server refuse websocket connections that carry no ``Origin`` header, or one not allowed.

    Replaces Panel's websocket handler (in Bokeh's per-application routes, which every server
    started afterwards in this process uses) by one that checks the header before the handshake.
    """
    from bokeh.server.urls import per_app_patterns
    from panel.io.server import WSHandler
    from tornado.web import HTTPError

    if any(getattr(handler, "requires_origin", False) for _, handler, *_ in per_app_patterns):
        return

    class OriginRequired(WSHandler):
        requires_origin = True

        async def prepare(self):
            origin = self.request.headers.get("Origin")
            if origin is None or not self.check_origin(origin):
                raise HTTPError(403, reason="a websocket needs an allowed Origin header")
            await super().prepare()

    per_app_patterns[:] = [(route, OriginRequired if handler is WSHandler else handler, *rest)
                           for route, handler, *rest in per_app_patterns]


def warm_up_kernels(scenario: str = "suizhou_2022") -> threading.Thread:
    """Compile (or load from numba's cache) every hourly kernel on a daemon thread, and return the thread.

    A few simulated days of a small city, thrown away. The kernels are compiled once per
    process and cached on disk, so the first run of the page, on its thread or in worker
    processes, no longer compiles them. A failure only means that run compiles them itself.
    """

    def work() -> None:
        try:
            from sim.model import PinganModel
            from sim.scenario import load_scenario

            model = PinganModel(load_scenario(scenario, ["run.warmup_days=0"]), seed=0, scale=WARM_UP_SCALE)
            for _ in range(WARM_UP_HOURS):
                model.step()
        except Exception as e:  # noqa: BLE001 - a warm-up must never stop the server
            print(f"pingan: note: the kernels' warm-up failed ({type(e).__name__}: {e}); the first run compiles "
                  "them", file=sys.stderr)

    thread = threading.Thread(target=work, name="pingan-warm-up", daemon=True)
    thread.start()
    return thread


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port free on ``host`` now (the operating system's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, jobs: int = 1, store: Path | None = None,
          scenario: str | None = None, show: bool = False, threaded: bool = False):
    """Serve the explorer at ``http://host:port/`` until stopped (or on a thread, with ``threaded``).

    Args:
        host: Address to listen on; 127.0.0.1 keeps the explorer on this machine.
        port: TCP port; 0 picks a free one.
        jobs: Worker processes per run (1: on each page's background thread).
        store: A results store to commit every run to, or None.
        scenario: Scenario selected when a page opens.
        show: Open a browser tab.
        threaded: Start the server on a thread and return it (``.stop()`` ends it).

    Returns:
        With ``threaded``, the server thread; otherwise returns when the server stops.
    """
    pn = require_panel()
    from bokeh.settings import settings

    from sim.app.explorer import DEFAULT_SCENARIO, Explorer

    # JS and CSS from the installed packages, served by this server, whatever BOKEH_RESOURCES says:
    # never a CDN (government networks are often offline).
    settings.resources.set_value("server")
    _check_listen(host, port)
    require_origin()
    warm_up_kernels(scenario or DEFAULT_SCENARIO)
    if port == 0:
        port = free_port(host)
    origins = sorted({f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"})

    def page():
        pn.extension(design="native", sizing_mode="stretch_width")
        return Explorer(jobs=jobs, store=store, scenario=scenario or DEFAULT_SCENARIO).view()

    url = f"http://{host}:{port}/"
    if host not in LOOPBACK:
        print(f"pingan: warning: listening on {host}: anyone who can reach it can run simulations here and open "
              "any results folder this account can read", file=sys.stderr)
    print(f"pingan explorer at {url} (Ctrl-C stops it)", flush=True)
    try:
        return pn.serve({"/": page}, address=host, port=port, websocket_origin=origins, show=show,
                        threaded=threaded, title="Pingan package explorer", verbose=False)
    except OSError as e:  # taken between the check and now
        raise CannotListen(f"--host {host} --port {port}: cannot listen there ({e.strerror or e})") from None
