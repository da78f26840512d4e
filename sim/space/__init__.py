"""Space: the synthetic city and the presets shaped like the seed cities."""

from sim.space.city import City, CityParams, LandUse, build_city
from sim.space.presets import PRESETS, preset_names

__all__ = ["City", "CityParams", "LandUse", "build_city", "PRESETS", "preset_names"]
