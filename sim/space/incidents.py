"""Incident records (警情/案件记录) as data: read, check, and aggregate to cells, districts and months.

A records file is a CSV with one row per police-recorded incident:

* ``time`` — when (ISO 8601 date or date-time, e.g. ``2021-03-04`` or ``2021-03-04T21:30``);
* where — ``lon`` and ``lat`` (WGS84 degrees; needs the ``[geo]`` extra to project them), or ``x`` and
  ``y`` in the city's own CRS (metres), or ``district`` (a district's code or name);
* ``type`` — one of the model's crime types (``burglary, theft, robbery, vehicle_crime, fraud,
  assault``) or any other label, which is kept as ``other`` and not compared with the model.

:func:`read_incidents` checks the whole file before any work and names the file, the line and the
field of every problem (an unparseable time, a record outside every district, an unknown district, a
missing column). :func:`aggregate` counts the records by calendar month, district and type, and those
with a point location by the model city's cell (the cell of the record's square, else the nearest
cell of the simulated town whose jurisdiction it is in): what :mod:`sim.calibration.incidents`
compares simulations with, and what :func:`attraction_from_records` turns into where crime
concentrates.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.mechanisms.crime_types import CRIME_TYPES
from sim.space.geography import Geography, GeographyError, point_cells

__all__ = ["IncidentRecords", "IncidentCounts", "read_incidents", "aggregate", "attraction_from_records",
           "OTHER", "MAX_RECORDS", "RECORDS_FOLDER"]

#: Incident records shipped with the package (see the README.md there).
RECORDS_FOLDER = Path(__file__).resolve().parent / "records"
#: Label of records whose type is not one of the model's crime types.
OTHER = "other"
#: Most records read from one file (a large city's ten years of recorded offences).
MAX_RECORDS = 5_000_000
_ERRORS_SHOWN = 10


@dataclass
class IncidentRecords:
    """Checked incident records.

    Attributes:
        month: Calendar month of each record, as ``YYYY-MM``.
        district: District index (into ``geography.districts``) of each record.
        crime_type: The model's crime type, or :data:`OTHER`.
        xy: Location in the city's CRS [m] (NaN where the record gives a district only).
        geography: The geography the records were checked against.
        path: The file.
    """

    month: np.ndarray
    district: np.ndarray
    crime_type: np.ndarray
    xy: np.ndarray
    geography: Geography
    path: str

    def __len__(self) -> int:
        return len(self.month)


@dataclass
class IncidentCounts:
    """Records aggregated to months, districts, types and cells.

    Attributes:
        monthly: Long table: ``month, district, type, count``.
        cells: Records with a point location per cell of the city (cells × crime types, in
            :data:`sim.mechanisms.crime_types.CRIME_TYPES` order), or None without point records.
        outside_sample: Point records of the model's crime types in a jurisdiction left out of the
            simulated sample (counted in ``monthly`` only).
    """

    monthly: pd.DataFrame
    cells: np.ndarray | None
    outside_sample: int = 0

    def by_district_type(self, districts: list[str]) -> np.ndarray:
        """Records per district and crime type (districts × :data:`CRIME_TYPES`), over the whole period."""
        out = np.zeros((len(districts), len(CRIME_TYPES)))
        for row in self.monthly.itertuples(index=False):
            if row.type in CRIME_TYPES:
                out[districts.index(row.district), CRIME_TYPES.index(row.type)] += row.count
        return out

    @property
    def n_months(self) -> int:
        return int(self.monthly["month"].nunique()) if len(self.monthly) else 0


def _problems(path: str, rows: np.ndarray, field: str, what: str, lines: list[str]) -> None:
    if len(rows):
        shown = ", ".join(str(int(r) + 2) for r in rows[:_ERRORS_SHOWN])  # +2: header, 1-based
        more = f" and {len(rows) - _ERRORS_SHOWN} more" if len(rows) > _ERRORS_SHOWN else ""
        lines.append(f"{path}: field '{field}': {what} (line {shown}{more})")


def read_incidents(path: str | Path, geography: Geography) -> IncidentRecords:
    """Read and check a records file against a city's geography (cached while the file is unchanged).

    Raises:
        GeographyError: Naming the file, the field and the lines of every problem found.
    """
    p = Path(path)
    if not p.is_file():
        raise GeographyError(f"{path}: records file not found")
    return _read_incidents(str(p.resolve()), p.stat().st_mtime_ns, geography)


@functools.lru_cache(maxsize=4)
def _read_incidents(path: str, _mtime: int, geography: Geography) -> IncidentRecords:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=MAX_RECORDS + 1)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise GeographyError(f"{path}: not a readable records file ({e})") from None
    if len(df) > MAX_RECORDS:
        raise GeographyError(f"{path}: more than {MAX_RECORDS:,} records; aggregate or split the file")
    cols = set(df.columns)
    has_lonlat, has_xy, has_district = {"lon", "lat"} <= cols, {"x", "y"} <= cols, "district" in cols
    missing = [c for c in ("time", "type") if c not in cols]
    if missing or not (has_lonlat or has_xy or has_district):
        where = [] if (has_lonlat or has_xy or has_district) else ["a location: lon and lat, x and y, or district"]
        raise GeographyError(f"{path}: missing column(s) {missing + where}; expected time, type and a location "
                             f"(have: {', '.join(df.columns)})")
    if df.empty:
        raise GeographyError(f"{path}: no records")
    lines: list[str] = []
    time = pd.to_datetime(df["time"], errors="coerce", format="ISO8601")
    _problems(path, np.flatnonzero(time.isna().to_numpy()), "time",
              "not a date or date-time (expected ISO 8601, e.g. 2021-03-04 or 2021-03-04T21:30)", lines)
    kinds = df["type"].str.strip().str.lower()
    _problems(path, np.flatnonzero((kinds == "").to_numpy()), "type", "empty", lines)
    crime_type = np.where(kinds.isin(CRIME_TYPES), kinds, OTHER)

    n = len(df)
    xy = np.full((n, 2), math.nan)
    district = np.full(n, -1, dtype=np.int64)
    names = [d.name for d in geography.districts]
    codes = [d.code for d in geography.districts]
    if has_district:
        label = df["district"].str.strip()
        known = {**{c: i for i, c in enumerate(codes)}, **{nm: i for i, nm in enumerate(names)}}
        district = label.map(known).fillna(-1).astype(np.int64).to_numpy()
    point = np.zeros(n, dtype=bool)
    if has_xy or has_lonlat:
        a, b = (df["x"], df["y"]) if has_xy else (df["lon"], df["lat"])
        u, v = pd.to_numeric(a, errors="coerce").to_numpy(), pd.to_numeric(b, errors="coerce").to_numpy()
        given = (a.str.strip() != "").to_numpy() | (b.str.strip() != "").to_numpy()
        _problems(path, np.flatnonzero(given & ~(np.isfinite(u) & np.isfinite(v))),
                  "x/y" if has_xy else "lon/lat", "not a number", lines)
        point = given & np.isfinite(u) & np.isfinite(v)
        if has_lonlat and not has_xy and point.any():
            u[point], v[point] = _project(geography, u[point], v[point])
        xy[point] = np.column_stack([u[point], v[point]])
        # A point decides the district (over a district column).
        inside = _district_of_points(geography, xy[point])
        from_point = np.full(n, -1, dtype=np.int64)
        from_point[point] = inside
        _problems(path, np.flatnonzero(point & (from_point < 0)), "lon/lat" if has_lonlat else "x/y",
                  f"outside every district of {geography.name}", lines)
        district = np.where(point, from_point, district)
    if has_district:
        named = (df["district"].str.strip() != "").to_numpy()
        _problems(path, np.flatnonzero(~point & named & (district < 0)), "district",
                  f"unknown district (expected a code or name of {geography.name}: {', '.join(names)})", lines)
        _problems(path, np.flatnonzero(~point & ~named), "district", "empty, and no point location either", lines)
    if lines:
        raise GeographyError("invalid records:\n  " + "\n  ".join(lines) if len(lines) > 1 else lines[0])
    return IncidentRecords(month=time.dt.strftime("%Y-%m").to_numpy(), district=district,
                           crime_type=crime_type.astype(str), xy=xy, geography=geography, path=path)


def _project(geo: Geography, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sim.space.gis import require_geo

    require_geo()
    import pyproj

    to = pyproj.Transformer.from_crs("EPSG:4326", geo.crs, always_xy=True)
    x, y = to.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _district_of_points(geo: Geography, xy: np.ndarray) -> np.ndarray:
    """Index of the district each point lies in (even-odd rule over its rings), -1 outside every one."""
    from matplotlib.path import Path as RingPath

    out = np.full(len(xy), -1, dtype=np.int64)
    for k, d in enumerate(geo.districts):
        todo = np.flatnonzero(out < 0)
        if len(todo) == 0:
            break
        inside = np.zeros(len(todo), dtype=bool)
        for poly in d.polygons:
            for ring in poly:
                inside ^= RingPath(ring).contains_points(xy[todo])
        out[todo[inside]] = k
    return out


def aggregate(records: IncidentRecords, city=None) -> IncidentCounts:
    """Count records by month, district and type, and those with a point by the city's cell.

    Args:
        records: Checked records.
        city: The model city built on the records' geography (:class:`sim.space.city.City` with
            ``map_layers``); without it, no cell counts.
    """
    names = [d.name for d in records.geography.districts]
    frame = pd.DataFrame({"month": records.month, "district": np.asarray(names)[records.district],
                          "type": records.crime_type})
    monthly = frame.groupby(["month", "district", "type"], sort=True).size().rename("count").reset_index()
    cells, outside = None, 0
    point = np.isfinite(records.xy[:, 0])
    if city is not None and point.any():
        layers = city.map_layers
        if layers is None:
            raise GeographyError("aggregate: the city has no real geography (city.geography is not set)")
        cells = np.zeros((city.n_cells, len(CRIME_TYPES)))
        cell = point_cells(city, records.xy[point])
        model_type = records.crime_type[point] != OTHER
        keep = (cell >= 0) & model_type
        np.add.at(cells, (cell[keep], [CRIME_TYPES.index(k) for k in records.crime_type[point][keep]]), 1.0)
        outside = int(((cell < 0) & model_type).sum())
    return IncidentCounts(monthly=monthly, cells=cells, outside_sample=outside)


def attraction_from_records(city, counts: IncidentCounts, weight: float) -> np.ndarray:
    """Attractor pull of each cell from where the records put crime: the cells' share of the records
    times ``weight`` times the cells' own attraction (the synthetic city's ``attractor_weight`` role).

    Returns:
        Pull per cell (zeros without point records in the sample).
    """
    if counts.cells is None or counts.cells.sum() <= 0:
        return np.zeros(city.n_cells)
    share = counts.cells.sum(axis=1) / counts.cells.sum()
    own = city.attraction - city.attractor
    return share * weight * own.sum()
