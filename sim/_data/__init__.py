"""The files that ship with the package: built-in scenarios, sweeps and calibration inputs.

Their editable sources stay at the top of the repository (``scenarios/``, ``calibration/``);
``setup.py`` maps them into this package, so a wheel holds them under ``sim/_data/``. A
source checkout (an editable install, or running from the repository) has no copies here and
reads the top-level folders directly. Either way :func:`data_folder` returns a real folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["DATA_FOLDERS", "data_folder", "data_file"]

#: Shipped folders, as named in the repository and under ``sim/_data/`` in a wheel.
DATA_FOLDERS = ("scenarios", "calibration")


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
