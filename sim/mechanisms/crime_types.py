"""The crime types, in the order every per-type array uses: a bottom-level module anything may import.

Burglary (入室盗窃), theft (盗窃), robbery (抢劫/抢夺), vehicle crime (盗窃机动车/车内财物), fraud
(诈骗) and assault (故意伤害). The first four are the seeds' preventable cases (可防性案件).
"""

from __future__ import annotations

__all__ = ["CRIME_TYPES", "PREVENTABLE", "BURGLARY", "THEFT", "ROBBERY", "VEHICLE", "FRAUD", "ASSAULT"]

CRIME_TYPES: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime", "fraud", "assault")
PREVENTABLE: tuple[str, ...] = ("burglary", "theft", "robbery", "vehicle_crime")
#: Index of each crime type in :data:`CRIME_TYPES`.
BURGLARY, THEFT, ROBBERY, VEHICLE, FRAUD, ASSAULT = range(6)
