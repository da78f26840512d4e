"""Reading a geography: a built-in name, a JSON file of the shipped format, or a GeoPackage from GIS files.

Kept apart from :mod:`sim.space.geography` (what a geography is), because reading a GeoPackage needs
:mod:`sim.space.gis` and checking incident records beside a geography needs :mod:`sim.space.incidents`,
both of which build on :mod:`sim.space.geography`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from sim.space.geography import District, Geography, GeographyError, resolve_geography

__all__ = ["load_geography", "geography_fields"]


def load_geography(name: str) -> Geography:
    """Read a geography by built-in name or file path (cached: files are read once per process).

    Raises:
        GeographyError: The file is missing or malformed (the message names the file and the field).
    """
    path = resolve_geography(name)
    return _load(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path: str, _mtime: int) -> Geography:
    if path.lower().endswith(".gpkg"):
        from sim.space.gis import read_city_file

        return read_city_file(path)
    return _read_json(Path(path))


def _read_json(path: Path) -> Geography:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GeographyError(f"{path}: not a readable geography file ({e})") from None

    def need(obj: dict, key: str, where: str):
        if key not in obj:
            raise GeographyError(f"{path}: {where}: missing field '{key}'")
        return obj[key]

    districts = []
    for i, d in enumerate(need(data, "districts", "top level")):
        where = f"districts[{i}]"
        polys = [[np.asarray(ring, dtype=np.float64) for ring in poly] for poly in need(d, "polygons", where)]
        if not polys or any(len(ring) < 4 for poly in polys for ring in poly):
            raise GeographyError(f"{path}: {where}: field 'polygons': expected rings of at least 4 points")
        districts.append(District(
            code=str(need(d, "code", where)), name=str(need(d, "name", where)),
            population=int(need(d, "population", where)), area_km2=float(need(d, "area_km2", where)),
            polygons=polys, seat=tuple(float(v) for v in need(d, "seat", where)),
            main_urban_area=bool(d.get("main_urban_area", False)), name_zh=str(d.get("name_zh", "")),
            population_source=str(d.get("population_source", ""))))
    return Geography(name=str(data.get("name", path.stem)), crs=str(need(data, "crs", "top level")),
                     districts=districts, source=str(data.get("outline_source", "")), path=str(path))


def geography_fields(name: object, incidents: object = None) -> dict:
    """The ``CityParams`` fields a geography sets: ``population``, ``area_km2`` and ``counties``.

    Incident records given beside it are read and checked here, before any work.

    Raises:
        GeographyError: ``name`` is not a geography (the message names ``city.geography``), or the
            records are not valid (the message names the file, the field and the lines).
    """
    if not isinstance(name, str):
        raise GeographyError(f"city.geography: expected a built-in name or a file path, got {name!r}")
    geo = load_geography(name)
    if incidents is not None:
        from sim.space.incidents import read_incidents

        read_incidents(incidents, geo)
    return {"population": geo.population, "area_km2": round(geo.area_km2, 3), "counties": geo.counties()}
