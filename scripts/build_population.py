"""Build the bundled ONS population figures the pipeline uses when a params file gives none
(maintainers only: needs ../shared/reference-data beside the checkout).

Writes pipeline/data/district-population.csv.gz (lad_code, lad_name, year, population,
source): ONS mid-year estimates by local authority district for mid-2017 (derived from the
LSOA estimates), mid-2019 and mid-2020 on 2020 boundaries (with the 2019 districts that 2020
merged), and mid-2021 to mid-2023 on 2023 boundaries; England and Wales totals as K04000001.
And pipeline/data/lsoa-name-district.csv.gz (name, lad_code, vintage): each district name as it
starts a 2011 or 2021 LSOA name (police.uk's "LSOA name"), with its district code.
And pipeline/data/lsoa-population.csv.gz (lsoa_code, vintage, year, population): ONS small-area
estimates for 2011 LSOAs (mid-2017, mid-2019, mid-2020) and Census 2021 usual residents (TS021)
for 2021 LSOAs, for rates per 1,000 by LSOA when a params file gives no LSOA figures.
Source: ONS, Open Government Licence v3.0 (see pipeline/data/README.md).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/reference-data"
OUT = ROOT / "pipeline/data"
SUFFIX = re.compile(r" \d{3}[A-Z]$")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write_gz(path: Path, header: list[str], records: list[list[object]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    # mtime 0: the same bytes on every rebuild.
    path.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), mtime=0))


def csp_indicators(population: dict[tuple[str, int], list[object]]) -> list[list[object]]:
    """Each Community Safety Partnership (December 2019): its nation, mid-2019 residents (its
    districts' ONS estimates), 2011 LSOAs, and the share of them in its nation's two most
    deprived IMD 2019 deciles (England's IMD, Wales's WIMD): what ``benchmarks.similar_partnerships``
    compares partnerships on."""
    import math

    lookup = list(
        csv.DictReader(io.StringIO(gzip.decompress((OUT / "lsoa11-csp19-pfa19.csv.gz").read_bytes()).decode()))
    )
    ranks = {}
    for path, code, rank in (
        ("imd2019-lsoa11-england.csv", "LSOA11CD", "IMD19"),
        ("imd2019-lsoa11-wales.csv", "lsoa11cd", "wimd_2019"),
    ):
        table = rows(SHARED / "geography" / path)
        for r in table:
            ranks[r[code]] = math.ceil(10 * int(r[rank]) / len(table))
    by_csp: dict[str, dict] = {}
    for r in lookup:
        entry = by_csp.setdefault(
            r["area"],
            {
                "lads": set(),
                "lsoas": 0,
                "deprived": 0,
                "nation": "Wales" if r["lsoa_code"].startswith("W") else "England",
            },
        )
        entry["lads"].add(r["lad_code"])
        entry["lsoas"] += 1
        entry["deprived"] += ranks.get(r["lsoa_code"], 99) <= 2
    out = []
    for name, entry in sorted(by_csp.items()):
        residents = sum(int(population[(lad, 2019)][3]) for lad in entry["lads"])
        out.append([name, entry["nation"], residents, entry["lsoas"], round(entry["deprived"] / entry["lsoas"], 4)])
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=OUT, help="the folder to write to (default: pipeline/data)")
    target = parser.parse_args(argv).target
    if not SHARED.is_dir():
        print(f"{SHARED} is not there: put ../shared beside the checkout.")
        return 2
    population: dict[tuple[str, int], list[object]] = {}
    mye = rows(SHARED / "population/lad-population-ew-mye.csv")
    for geography in ("LAD2019", "LAD2020"):  # 2020 boundaries win where both have a district
        for r in mye:
            if r["lad_geography"] == geography and r["year"] in ("2017", "2019", "2020"):
                how = "derived from the mid-2017 LSOA estimates" if r["year"] == "2017" else "mid-year estimate"
                population[(r["lad_code"], int(r["year"]))] = [
                    r["lad_code"],
                    r["lad_name"],
                    int(r["year"]),
                    int(r["population"]),
                    f"ONS {how}, mid-{r['year']}",
                ]
    for r in rows(SHARED / "population/ew-totals.csv"):
        year = int(r["year"])
        population[("K04000001", year)] = [
            "K04000001",
            "England and Wales",
            year,
            int(r["england_and_wales"]),
            f"ONS mid-year estimate, mid-{year}",
        ]
    for r in rows(SHARED / "population/lad-population-mye-2021-2023.csv"):
        if r["AREACD"][:3] in ("E06", "E07", "E08", "E09", "W06", "K04"):
            for year in (2021, 2022, 2023):
                name = "England and Wales" if r["AREACD"] == "K04000001" else r["AREANM"]
                population[(r["AREACD"], year)] = [
                    r["AREACD"],
                    name,
                    year,
                    int(r[f"POP_MID{year}"]),
                    f"ONS mid-year estimate, mid-{year} (2023 boundaries)",
                ]
    write_gz(
        target / "district-population.csv.gz",
        ["lad_code", "lad_name", "year", "population", "source"],
        sorted(population.values(), key=lambda r: (r[0], r[2])),
    )
    names: dict[tuple[str, str], str] = {}
    for r in rows(SHARED / "population/lsoa11-lad19-lad20-lad21.csv"):
        names[(SUFFIX.sub("", r["lsoa11nm"]), "2011")] = r["lad20cd"]
    for r in rows(SHARED / "geography/lsoa21-ward24-lad24.csv"):
        names[(SUFFIX.sub("", r["LSOA21NM"]), "2021")] = r["LAD24CD"]
    write_gz(
        target / "lsoa-name-district.csv.gz",
        ["name", "vintage", "lad_code"],
        sorted([n, v, c] for (n, v), c in names.items()),
    )
    lsoas = [
        [r["lsoa11cd"], 2011, int(r["year"]), int(r["population"])]
        for r in rows(SHARED / "population/lsoa11-population-ew-2017-2019-2020.csv")
    ]
    lsoas += [
        [r["LSOA21CD"], 2021, 2021, int(r["USUAL_RESIDENTS_CENSUS2021_TS021"])]
        for r in rows(SHARED / "population/lsoa21-population-census2021.csv")
    ]
    write_gz(target / "lsoa-population.csv.gz", ["lsoa_code", "vintage", "year", "population"], sorted(lsoas))
    indicators = csp_indicators(population)
    write_gz(
        target / "csp-indicators.csv.gz", ["csp", "nation", "population_2019", "lsoas", "deprived_share"], indicators
    )
    print(f"{len(population)} district-years, {len(names)} LSOA name prefixes, {len(indicators)} partnerships")
    return 0


if __name__ == "__main__":
    sys.exit(main())
