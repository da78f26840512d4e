"""Size presets shaped like the four seed cities.

Populations are the approximate 2020-census figures quoted in ``shared/seed-facts.md``;
county lists, urban shares and areas are approximate public figures (assumed, rounded).
Town counts are chosen so that towns plus urban streets come close to the number of
police stations (one 派出所 per town or street); Xing'an League's 99 stations are from
``004_d1fb0e0d9599ba9c.txt``, the other totals are assumed. Jincheng's grids
(3 212 village/community + 937 dedicated) are from ``001_b31210ca73dc4a0f.txt``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "preset_names"]

#: Each preset is a mapping of :class:`sim.space.city.CityParams` fields.
PRESETS: dict[str, dict[str, Any]] = {
    "suizhou": {
        "population": 2_050_000,
        "area_km2": 9_636.0,
        "urban_share": 0.53,
        "counties": [
            {"name": "Zengdu", "population_share": 0.36, "main_urban_area": True},
            {"name": "Sui County", "population_share": 0.30},
            {"name": "Guangshui", "population_share": 0.34},
        ],
        "towns_per_county": 15,
        "residents_per_grid": 700,
    },
    "daqing": {
        "population": 2_780_000,
        "area_km2": 21_219.0,
        "urban_share": 0.70,
        "counties": [
            {"name": "Sartu", "population_share": 0.30, "main_urban_area": True},
            {"name": "Ranghulu", "population_share": 0.24},
            {"name": "Longfeng", "population_share": 0.12},
            {"name": "Zhaozhou", "population_share": 0.12},
            {"name": "Zhaoyuan", "population_share": 0.12},
            {"name": "Lindian", "population_share": 0.10},
        ],
        "towns_per_county": 10,
        "residents_per_grid": 700,
    },
    "jincheng": {
        "population": 2_190_000,
        "area_km2": 9_484.0,
        "urban_share": 0.63,
        "counties": [
            {"name": "Chengqu", "population_share": 0.25, "main_urban_area": True},
            {"name": "Gaoping", "population_share": 0.22},
            {"name": "Zezhou", "population_share": 0.20},
            {"name": "Yangcheng", "population_share": 0.16},
            {"name": "Qinshui", "population_share": 0.09},
            {"name": "Lingchuan", "population_share": 0.08},
        ],
        "towns_per_county": 11,
        # 3 212 village/community grids for ~2.19 M residents (001_b31210ca73dc4a0f.txt).
        "residents_per_grid": 682,
        "dedicated_grids": 937,
    },
    "xingan": {
        "population": 1_420_000,
        "area_km2": 59_806.0,
        "urban_share": 0.52,
        "counties": [
            {"name": "Ulanhot", "population_share": 0.25, "main_urban_area": True},
            {"name": "Arxan", "population_share": 0.04},
            {"name": "Horqin Right Front", "population_share": 0.24},
            {"name": "Horqin Right Middle", "population_share": 0.18},
            {"name": "Jalaid", "population_share": 0.22},
            {"name": "Tuquan", "population_share": 0.07},
        ],
        "towns_per_county": 15,
        "residents_per_grid": 700,
    },
}


def preset_names() -> list[str]:
    """Names of the built-in city presets."""
    return sorted(PRESETS)
