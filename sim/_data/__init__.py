"""The files that ship with the package: built-in scenarios, sweeps and calibration inputs.

Their editable sources stay at the top of the repository (``scenarios/``, ``calibration/``);
``setup.py`` maps them into this package, so a wheel holds them under ``sim/_data/``. A
source checkout (an editable install, or running from the repository) has no copies here and
reads the top-level folders directly. Either way :func:`data_folder` returns a real folder.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

__all__ = ["DATA_FOLDERS", "data_folder", "data_file", "source_checkout", "install_hint", "posterior_file",
           "SHIPPED_POSTERIOR"]

#: Shipped folders, as named in the repository and under ``sim/_data/`` in a wheel.
DATA_FOLDERS = ("scenarios", "calibration")
#: The committed calibration's posterior, as named in the repository; it ships with the package
#: (``setup.py``), so ``--posterior`` works after a wheel install.
SHIPPED_POSTERIOR = "calibration/results/main/posterior.csv"
#: The short name of :data:`SHIPPED_POSTERIOR` on the command line (``--posterior main``).
SHIPPED_POSTERIOR_NAME = "main"


def data_folder(name: str) -> Path:
    """The folder of shipped files ``name`` (``"scenarios"``, ``"scenarios/sweeps"``, ``"calibration"``).

    Args:
        name: A folder of :data:`DATA_FOLDERS`, or a sub-folder of one (``/``-separated).

    Returns:
        The packaged copy (an installed wheel) or else the repository's folder (a source
        checkout). The path may not exist only if the package was installed without its data.

    Raises:
        ValueError: If ``name`` is not a shipped folder.
    """
    if name.split("/")[0] not in DATA_FOLDERS:
        raise ValueError(f"{name!r} is not a shipped folder; expected one of {DATA_FOLDERS}")
    packaged = resources.files(__name__).joinpath(*name.split("/"))
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2].joinpath(*name.split("/"))


def data_file(folder: str, name: str) -> Path:
    """A shipped file, e.g. ``data_file("calibration", "targets.csv")``; see :func:`data_folder`."""
    return data_folder(folder) / name


def source_checkout() -> Path | None:
    """The repository this copy of ``sim`` runs from (an editable install or a checkout), or None for a wheel."""
    if resources.files(__name__).joinpath("scenarios").is_dir():  # a wheel's packaged copies
        return None
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def _extra_requirements(extra: str) -> list[str]:
    """The installed distribution's requirements of ``extra`` (from its metadata), e.g. ``['panel<2,>=1.9']``."""
    try:
        requires = metadata.requires("pingan") or []
    except metadata.PackageNotFoundError:
        return []
    out = []
    for line in requires:
        req, _, marker = line.partition(";")
        if f'extra == "{extra}"' in marker.replace("'", '"'):
            out.append(req.strip())
    return out


def install_hint(extra: str) -> str:
    """The command that adds the optional dependencies ``extra`` (``app``, ``dask``, …) to this installation.

    A source checkout gets the editable form (``pip install -e '.[app]'`` in the repository); an
    installed wheel gets ``pip install 'pingan[app]'``, and the extra's own packages for when
    pingan came from a wheel file rather than an index.
    """
    root = source_checkout()
    if root is not None:
        return f"pip install -e '.[{extra}]' (in {root})"
    reqs = _extra_requirements(extra)
    direct = f" (or, if pingan was installed from a wheel file: pip install {' '.join(repr(r) for r in reqs)})"
    return f"pip install 'pingan[{extra}]'" + (direct if reqs else "")


def posterior_file(given: str | Path) -> Path:
    """The posterior file ``--posterior`` names: a path, or ``main`` for the committed calibration's.

    ``main`` and the committed calibration's own path (:data:`SHIPPED_POSTERIOR`) find the copy
    that ships with the package when the working folder has no such file (a wheel install, or a
    run from another folder); a file in the working folder wins. Other paths are taken as given.
    """
    text = str(given)
    if text in (SHIPPED_POSTERIOR_NAME, SHIPPED_POSTERIOR) and not Path(text).is_file():
        return data_folder("calibration") / SHIPPED_POSTERIOR.removeprefix("calibration/")
    return Path(text)
