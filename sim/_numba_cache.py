"""Where numba keeps the compiled hourly kernels: a writable folder, however pingan was installed.

The kernels (``sim/agents/patrol.py``, ``sim/mechanisms/offending/kernel.py``, …) are compiled with
``cache=True``: the first run on a machine compiles them (tens of seconds), every later run and
worker process loads them. numba writes the cache next to the source (``sim/**/__pycache__``)
or, where that is read-only (a wheel installed system-wide), in the user's cache folder
(``~/.cache/numba``). Where neither is writable (a read-only container, an account without a
home), numba refused to define the kernels and ``import sim`` failed ("cannot cache function …:
no locator available"). :func:`ensure_writable_cache` then points numba at a folder in the
temporary directory, through ``NUMBA_CACHE_DIR`` so that worker processes use it too. It runs
when ``sim`` is imported, before any kernel is defined; a ``NUMBA_CACHE_DIR`` set by the user is
left alone.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path

__all__ = ["ensure_writable_cache"]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # the test numba itself makes
    except OSError:
        return False
    return True


def _user_cache() -> Path:
    try:
        from numba.misc.appdirs import AppDirs

        return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    except ImportError:  # numba's helper moved: its documented default
        return Path.home() / ".cache" / "numba"


def ensure_writable_cache() -> Path | None:
    """Give numba a writable cache folder when neither the package's nor the user's is.

    Returns:
        The fallback folder now in use, or None when numba's own choice is writable (or
        ``NUMBA_CACHE_DIR`` was set, or no folder at all can be written).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    if _writable(Path(__file__).resolve().parent / "__pycache__") or _writable(_user_cache()):
        return None
    user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    fallback = Path(tempfile.gettempdir()) / f"pingan-numba-cache-{user}"
    if not _writable(fallback):
        return None
    import numba

    numba.config.CACHE_DIR = str(fallback)
    os.environ["NUMBA_CACHE_DIR"] = str(fallback)  # inherited by worker processes
    return fallback
