"""Build the shipped LSOA -> Community Safety Partnership -> police force lookup.

Reads two ONS lookups in ../shared/reference-data/geography (Open Government Licence v3.0):

- ``lsoa11-ward19-lad19.csv``: best-fit 2011 LSOA -> ward -> local authority (Dec 2019);
- ``lad19-csp19-pfa19.csv``: local authority -> Community Safety Partnership -> Police Force
  Area (Dec 2019), England and Wales.

and writes ``pipeline/data/lsoa11-csp19-pfa19.csv.gz`` with one row per 2011 LSOA:
``lsoa_code, area`` (the partnership's name, as ``area.lsoa_lookup`` reads it), ``csp_code``,
``lad_code``, ``lad_name``, ``force_code``, ``force``. The LSOA is placed by code, so a
partnership whose districts were renamed or merged after 2011 (Somerset West and Taunton,
whose LSOAs are still named Taunton Deane and West Somerset) gets all of its LSOAs.

Every LSOA's district must be in the partnership lookup and every district must have
LSOAs; the script stops otherwise.

It also writes ``pipeline/data/lsoa21-csp24-pfa24.csv.gz``, the same columns for 2021 LSOAs
(police.uk files from 2023 on) from ``lsoa21-ward24-lad24.csv`` and ``lad24-csp24-pfa24.csv``
(December 2024). Seven 2024 districts are split between several partnerships at a level below
the district, which a district lookup cannot place: their LSOAs get their force but a blank
partnership (an area of them is named by ``lsoa_lookup`` instead).

    .venv/bin/python scripts/build_csp_lookup.py      (or: make csp-lookup)
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared/reference-data/geography"
TARGET = ROOT / "pipeline/data/lsoa11-csp19-pfa19.csv.gz"
TARGET_2021 = ROOT / "pipeline/data/lsoa21-csp24-pfa24.csv.gz"
COLUMNS = ["lsoa_code", "area", "csp_code", "lad_code", "lad_name", "force_code", "force"]


def main() -> None:
    with open(SOURCE / "lad19-csp19-pfa19.csv", encoding="utf-8-sig", newline="") as handle:
        districts = {row["LAD19CD"]: row for row in csv.DictReader(handle)}
    rows, unplaced, used = [], [], set()
    with open(SOURCE / "lsoa11-ward19-lad19.csv", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            district = districts.get(row["LAD19CD"])
            if district is None:
                unplaced.append(f"{row['LSOA11CD']} ({row['LAD19CD']} {row['LAD19NM']})")
                continue
            used.add(row["LAD19CD"])
            rows.append(
                [
                    row["LSOA11CD"],
                    district["CSP19NM"],
                    district["CSP19CD"],
                    row["LAD19CD"],
                    row["LAD19NM"],
                    district["PFA19CD"],
                    district["PFA19NM"],
                ]
            )
    empty = sorted(set(districts) - used)
    if unplaced or empty:
        sys.exit(
            f"Lookups disagree: {len(unplaced)} LSOA(s) in no partnership (e.g. {unplaced[:3]}); districts with no "
            f"LSOA: {empty[:5]}"
        )
    rows.sort()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    # mtime=0: the same rows always give the same bytes, so the file only changes when they do.
    TARGET.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0))
    partnerships = {r[2] for r in rows}
    forces = {r[5] for r in rows}
    print(
        f"Wrote {TARGET.relative_to(ROOT)}: {len(rows):,} LSOAs in {len(partnerships)} partnerships of {len(forces)} "
        "forces"
    )


def write(path: Path, rows: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(sorted(rows))
    path.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0))


def main_2021() -> None:
    """The 2021 LSOA lookup (see the module docstring)."""
    with open(SOURCE / "lad24-csp24-pfa24.csv", encoding="utf-8-sig", newline="") as handle:
        by_district: dict[str, list[dict[str, str]]] = {}
        for row in csv.DictReader(handle):
            by_district.setdefault(row["LAD24CD"], []).append(row)
    rows = []
    with open(SOURCE / "lsoa21-ward24-lad24.csv", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            choices = by_district.get(row["LAD24CD"])
            if not choices:
                sys.exit(f"{row['LSOA21CD']}: district {row['LAD24CD']} is in no partnership")
            one = choices[0] if len(choices) == 1 else None
            rows.append(
                [
                    row["LSOA21CD"],
                    one["CSP24NM"] if one else "",
                    one["CSP24CD"] if one else "",
                    row["LAD24CD"],
                    row["LAD24NM"],
                    choices[0]["PFA24CD"],
                    choices[0]["PFA24NM"],
                ]
            )
    write(TARGET_2021, rows)
    print(f"Wrote {TARGET_2021.relative_to(ROOT)}: {len(rows):,} 2021 LSOAs")


def main_change() -> None:
    """2011 LSOA -> 2021 LSOA (ONS exact-fit lookup, with its change indicator): what a run whose
    window spans police.uk's switch maps its 2011 codes through (``pipeline.reference``)."""
    with open(SOURCE / "lsoa11-lsoa21-lad22.csv", encoding="utf-8-sig", newline="") as handle:
        rows = sorted(
            [r["LSOA11CD"], r["LSOA21CD"], r["LSOA21NM"].strip(), r["CHGIND"]] for r in csv.DictReader(handle)
        )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["lsoa11_code", "lsoa21_code", "lsoa21_name", "change"])
    writer.writerows(rows)
    target = ROOT / "pipeline/data/lsoa11-lsoa21.csv.gz"
    target.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0))
    print(f"Wrote {target.relative_to(ROOT)}: {len(rows):,} 2011 -> 2021 pairs")


if __name__ == "__main__":
    main()
    main_2021()
    main_change()
