"""Build the Home Office offence code lookup shipped inside the package.

Maintainers run this (``make offence-codes``) to rebuild ``pipeline/data/offence_codes.csv``
from ``../shared/reference-data/offence-codes/policeuk-ons-code-join.csv``; the pipeline
only reads the result, and ``tests/test_offences.py`` checks that a rebuild matches it.

Columns written, one row per Home Office offence code:

- ``offence_code``: the code as ONS counts it (``8N``, ``105A``, ``92D``, ``37.2``).
- ``offence``: ONS's description.
- ``ons_group``: ONS offence group (``violence against the person``, ...), from the source.
- ``ons_subgroup``: ONS offence subgroup (``violence with injury``, ``rape``, ...). The
  source has no subgroup column, so it is assigned here from the offence list in ONS's
  "User guide to crime statistics for England and Wales" (section 5, police recorded
  crime classifications); ``SUBGROUPS`` below is that list, code by code.
- ``police_uk_category``: the police.uk crime type the offence is published under, spelt
  as police.uk spells it today.
- ``severity_weight``: the ONS Crime Severity Score weight (days of custody equivalent).
  Where several codes share one ONS severity offence (murder, manslaughter, infanticide
  and corporate manslaughter), they share its weight, as in the source.
- ``home_office_class``: the Home Office class/subclass (``56/1``) where the source gives
  it for exactly one code. The source's column was saved through Excel at some point:
  values such as ``44062`` are class/subclass pairs turned into date serials and cannot
  be recovered, so they are dropped, as are pairs shared by several codes (``58``).

Source: M-O-P-D "Police-Supply-Demand" project (Dan Birks and Andrew P Smith, MIT licence),
compiled from ONS and Home Office publications; the figures are ONS / Home Office data under
the Open Government Licence v3.0. See ``pipeline/data/README.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared/reference-data/offence-codes/policeuk-ons-code-join.csv"
TARGET = ROOT / "pipeline/data/offence_codes.csv"

# police.uk crime types as published today (the source capitalises every word).
POLICE_UK = {
    "Bicycle Theft": "Bicycle theft",
    "Burglary": "Burglary",
    "Criminal Damage and Arson": "Criminal damage and arson",
    "Drugs": "Drugs",
    "Other Crime": "Other crime",
    "Other Theft": "Other theft",
    "Possession of Weapons": "Possession of weapons",
    "Public Order": "Public order",
    "Robbery": "Robbery",
    "Shoplifting": "Shoplifting",
    "Theft from the Person": "Theft from the person",
    "Vehicle Crime": "Vehicle crime",
    "Violence and Sexual Offences": "Violence and sexual offences",
}

# ONS offence subgroups (User guide to crime statistics, section 5), code by code.
_SUBGROUP_CODES = {
    "homicide": "1 4.1 4.2 4.10",
    "death or serious injury caused by unlawful driving": "4.4 4.6 4.8 4.9 37.1",
    "violence with injury": "2 4.3 4.7 5D 5E 8N 8P 8S",
    "violence without injury": "3A 3B 11A 13 14 36 104 105A 105B 106",
    "stalking and harassment": "8L 8M 8Q 8R",
    "rape": "19C 19D 19E 19F 19G 19H 19J 19K",
    "other sexual offences": "17A 17B 20A 20B 21 22A 22B 23 70 71 72 73 88A 88C 88D 88E",
    "robbery of business property": "34A",
    "robbery of personal property": "34B",
    "domestic burglary": "28A 28B 28C 28D 28E 28F 28G 28H 29 29A",
    "non-domestic burglary": "30A 30B 30C 30D 31 31A",
    "vehicle offences": "37.2 45 48 126",
    "theft from the person": "39",
    "bicycle theft": "44",
    "shoplifting": "46",
    "all other theft offences": "35 40 41 42 43 47 49 49A",
    "arson": "56A 56B",
    "criminal damage": "58A 58B 58C 58D 58J",
    "trafficking of drugs": "92A",
    "possession of drugs": "92C 92D 92E",
    "possession of weapons offences": "10A 10B 10C 10D 81 90",
    "public order offences": "9A 9B 62A 66",
    "miscellaneous crimes against society": "15 24 26 27 33 33A 38 54 59 60 61 61A 67 69 76 79 80 83 86 95 96 99 802 "
    "814",
}
SUBGROUPS = {code: subgroup for subgroup, codes in _SUBGROUP_CODES.items() for code in codes.split()}

COLUMNS = [
    "offence_code",
    "offence",
    "ons_group",
    "ons_subgroup",
    "police_uk_category",
    "severity_weight",
    "home_office_class",
]
_CLASS = re.compile(r"^\d{1,3}(/\d{1,2})?$")


def build(source: Path = SOURCE) -> str:
    """The lookup as CSV text (rows sorted by code), from the source file."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    classes = Counter(r["POLICE_UK_CAT_MAP_code"].strip() for r in rows)
    out = []
    for row in rows:
        code = row["ONS_COUNTS_code"].strip()
        if "/" in code:
            continue  # "1/4.1/4.10/4.2" is ONS's homicide total, not an offence a crime is recorded under
        if code not in SUBGROUPS:
            raise SystemExit(
                f"{source}: offence code {code!r} has no ONS subgroup in SUBGROUPS; add it from the ONS user guide"
            )
        category = row["POLICE_UK_CAT_MAP_category"].strip()
        if category not in POLICE_UK:
            raise SystemExit(f"{source}: code {code}: unknown police.uk category {category!r}")
        office_class = row["POLICE_UK_CAT_MAP_code"].strip()
        # Serials from Excel (e.g. 44062) fail the pattern; shared pairs are ambiguous.
        if not _CLASS.match(office_class) or classes[office_class] > 1:
            office_class = ""
        out.append(
            {
                "offence_code": code,
                "offence": " ".join(row["ONS_COUNTS_description"].split()),
                "ons_group": row["ONS_COUNTS_category"].strip(),
                "ons_subgroup": SUBGROUPS[code],
                "police_uk_category": POLICE_UK[category],
                "severity_weight": f"{float(row['ONS_SEVERITY_weight']):.4f}",
                "home_office_class": office_class,
            }
        )
    unused = sorted(set(SUBGROUPS) - {r["offence_code"] for r in out})
    if unused:
        raise SystemExit(f"SUBGROUPS lists codes the source does not have: {', '.join(unused)}")
    out.sort(key=lambda r: r["offence_code"])
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(out)
    return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    args.target.parent.mkdir(parents=True, exist_ok=True)
    args.target.write_text(build(args.source), encoding="utf-8")
    print(f"wrote {args.target}")


if __name__ == "__main__":
    main()
