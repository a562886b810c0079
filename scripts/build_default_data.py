"""Cut the bundled default data from the real force archive in ../shared/data.

Maintainers run this (``make default-data``) to rebuild ``data/raw/police-uk/``; the
pipeline itself only reads the result. It uses the pipeline's own reader and area
filter, so the bundle holds exactly the rows the pipeline would keep from the archive.

Three files, all in the police.uk street-level layout (gzip, fixed timestamp so the
bytes are reproducible):
- South Gloucestershire: every row located in it, all months, as published.
- Comparators (Bristol, Bath and North East Somerset, North Somerset): the 24 months
  the default comparison uses. Repeated Crime IDs are removed first, then the Crime ID
  column is emptied: the comparison needs counts only, and the 64-character IDs would
  treble the file's size.
- The force's rows with no location, all months, less those repeating a located row's
  Crime ID in the same month (the reader would drop them anyway); Crime IDs emptied.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.inputs.police_scan import (
    POLICE_UK_COLUMNS,
    AreaSelector,
    find_street_files,
    street_tables,
    unlocated_repeats,
)
from pipeline.orchestration.run import sha256_of
from pipeline.params import AreaDefinition, Population

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared/data/police-uk/avon-and-somerset-street-2018-01_2021-09.zip"
TARGET = ROOT / "data/raw/police-uk"
AREA = "South Gloucestershire"
COMPARATORS = ["Bristol", "Bath and North East Somerset", "North Somerset"]
COMPARATOR_MONTHS = ("2019-01", "2020-12")


def _write(tables: list[pa.Table], path: Path) -> int:
    table = pa.concat_tables(tables).select(list(POLICE_UK_COLUMNS))
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, write_options=pacsv.WriteOptions(quoting_style="needed"))
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buffer.getvalue())
    return table.num_rows


def _area(name: str) -> AreaDefinition:
    # Population is not used for cutting; the reader's area definition needs one.
    return AreaDefinition(name=name, lsoa_name_prefixes=[name], population=Population(value=1, year=2020, source="-"))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    target = args.target
    selector = AreaSelector([_area(AREA)] + [_area(c) for c in COMPARATORS])
    area_rows, comparator_rows, unlocated_rows = [], [], []
    seen_ids: set[str] = set()
    for _, table in street_tables(find_street_files([args.source])):
        area = selector.assign(table)
        located = pc.not_equal(table["LSOA code"], "")
        area_rows.append(table.filter(pc.equal(area, AREA)))
        month = table["Month"][0].as_py() if table.num_rows else ""
        if COMPARATOR_MONTHS[0] <= month <= COMPARATOR_MONTHS[1]:
            rows = table.filter(pc.is_in(area, value_set=pa.array(COMPARATORS)))
            ids = rows["Crime ID"].to_pylist()
            keep = []
            for crime_id in ids:
                keep.append(crime_id == "" or crime_id not in seen_ids)
                seen_ids.add(crime_id)
            rows = rows.filter(pa.array(keep))
            comparator_rows.append(rows.set_column(0, "Crime ID", pa.array([""] * rows.num_rows, pa.string())))
        unlocated = table.filter(pc.and_(pc.invert(located), pc.invert(unlocated_repeats(table, located))))
        unlocated_rows.append(unlocated.set_column(0, "Crime ID", pa.array([""] * unlocated.num_rows, pa.string())))
    target.mkdir(parents=True, exist_ok=True)
    counts = {
        "south-gloucestershire-street-2018-01_2021-09.csv.gz": _write(
            area_rows, target / "south-gloucestershire-street-2018-01_2021-09.csv.gz"
        ),
        "comparators-street-2019-01_2020-12.csv.gz": _write(
            comparator_rows, target / "comparators-street-2019-01_2020-12.csv.gz"
        ),
        "no-location-street-2018-01_2021-09.csv.gz": _write(
            unlocated_rows, target / "no-location-street-2018-01_2021-09.csv.gz"
        ),
    }
    manifest = {
        "source": args.source.name,
        "source_sha256": sha256_of(args.source),
        "rows": counts,
        "sha256": {name: sha256_of(target / name) for name in counts},
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(manifest, indent=2))
    return manifest


if __name__ == "__main__":
    main()
