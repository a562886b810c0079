"""Reference figures the package ships: ONS mid-year population estimates by district, and
the district each LSOA name prefix belongs to (``pipeline/data``, built by
``scripts/build_population.py``; ONS, Open Government Licence v3.0).

With them a params file needs no typed population: an area named by its districts (the
names that start police.uk's ``LSOA name``) takes the sum of their estimates for the year a
window falls in, or the nearest year held, and says which.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

ENGLAND_AND_WALES = "K04000001"


def _read(name: str) -> list[dict[str, str]]:
    data = resources.files("pipeline").joinpath("data", name).read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(data).decode("utf-8"))))


@lru_cache(maxsize=1)
def district_populations() -> dict[str, dict[int, tuple[int, str, str]]]:
    """By district code, by year: (population, district name, source)."""
    table: dict[str, dict[int, tuple[int, str, str]]] = {}
    for row in _read("district-population.csv.gz"):
        table.setdefault(row["lad_code"], {})[int(row["year"])] = (
            int(row["population"]),
            row["lad_name"],
            row["source"],
        )
    return table


@lru_cache(maxsize=1)
def district_of_name() -> dict[str, dict[str, str]]:
    """Each district name as it starts a 2011 or 2021 LSOA name -> {vintage: district code}
    (2011 names on 2020 districts, 2021 names on 2024 districts)."""
    names: dict[str, dict[str, str]] = {}
    for row in _read("lsoa-name-district.csv.gz"):
        names.setdefault(row["name"], {})[row["vintage"]] = row["lad_code"]
    return names


def districts_named(names: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The district codes of ``names`` (LSOA name prefixes) for each LSOA vintage that has them
    all ("2011", "2021"), and the names no district has."""
    known = district_of_name()
    unknown = [name for name in names if name not in known]
    by_vintage = {
        vintage: sorted({known[name][vintage] for name in names})
        for vintage in ("2011", "2021")
        if names and not unknown and all(vintage in known[name] for name in names)
    }
    return by_vintage, unknown


def population_of(districts: dict[str, list[str]], year: int) -> tuple[int, int, str] | None:
    """The summed ONS estimate of an area's districts (``districts_named``'s codes, by vintage)
    for ``year``, or for the nearest year held for every district of one vintage (the earlier
    of two equally near): (population, year used, source); None when none is held."""
    table = district_populations()
    best = None
    for codes in districts.values():
        if not codes or any(code not in table for code in codes):
            continue
        years = set.intersection(*(set(table[code]) for code in codes))
        for used in years:
            key = (abs(used - year), used)
            if best is None or key < best[0]:
                best = (key, codes, used)
    if best is None:
        return None
    _, codes, used = best
    names = " and ".join(sorted(table[code][used][1] for code in codes))
    sources = {table[code][used][2] for code in codes}
    source = f"{'; '.join(sorted(sources))}: {names}"
    if used != year:
        gap = abs(used - year)
        source += f" (the nearest year held to {year}, {gap} year{'s' if gap != 1 else ''} away)"
    return sum(table[code][used][0] for code in codes), used, source


@lru_cache(maxsize=1)
def lsoa_geography() -> dict[str, list[dict[str, str]]]:
    """The bundled LSOA -> district -> Community Safety Partnership -> force lookups, by LSOA
    vintage: "2011" (ONS, December 2019) and "2021" (December 2024). Rows of lsoa_code, area
    (the partnership; blank for the 2024 districts split between partnerships), csp_code,
    lad_code, lad_name, force_code, force."""
    return {"2011": _read("lsoa11-csp19-pfa19.csv.gz"), "2021": _read("lsoa21-csp24-pfa24.csv.gz")}


def partnership_names() -> list[str]:
    """Every Community Safety Partnership in the bundled lookups, as ONS names it."""
    return sorted({row["area"] for rows in lsoa_geography().values() for row in rows if row["area"]})


def force_names() -> list[str]:
    """Every police force area in the bundled lookups, as ONS names it."""
    return sorted({row["force"] for rows in lsoa_geography().values() for row in rows})


def district_names() -> dict[str, str]:
    """Every district in the bundled lookups: name and code, each -> its code."""
    names = {}
    for rows in lsoa_geography().values():
        for row in rows:
            names[row["lad_name"]] = names[row["lad_code"]] = row["lad_code"]
    return names


def official_area_lsoas(
    partnership: str | None, districts: list[str], force: str | None = None
) -> tuple[set[str], dict[str, list[str]]]:
    """The LSOA codes of a partnership, of districts (names or codes) or of a force, 2011 and
    2021 LSOAs together (police.uk files before 2023 use the first, after the second), and
    their district codes by vintage (for the population)."""
    names = district_names()
    wanted = {names[d] for d in districts if d in names} | {d for d in districts if d in names.values()}
    codes: set[str] = set()
    by_vintage: dict[str, list[str]] = {}
    for vintage, rows in lsoa_geography().items():
        if partnership is not None:
            chosen = [row for row in rows if row["area"] == partnership]
        elif force is not None:
            chosen = [row for row in rows if row["force"] == force]
        else:
            chosen = [row for row in rows if row["lad_code"] in wanted or row["lad_name"] in districts]
        codes |= {row["lsoa_code"] for row in chosen}
        if chosen:
            by_vintage[vintage] = sorted({row["lad_code"] for row in chosen})
    return codes, by_vintage


def nearest(name: str, choices: list[str], n: int = 5) -> list[str]:
    """The ``n`` choices spelt nearest to ``name``."""
    import difflib

    return difflib.get_close_matches(name, choices, n=n, cutoff=0.0)


@lru_cache(maxsize=1)
def _lsoa_population_table() -> dict[tuple[str, int], int]:
    """(LSOA code, year) -> residents: 2011 LSOAs for 2017, 2019 and 2020; 2021 LSOAs for 2021 (Census)."""
    return {(row["lsoa_code"], int(row["year"])): int(row["population"]) for row in _read("lsoa-population.csv.gz")}


def lsoa_populations(codes: set[str], year: int) -> tuple[dict[str, int], str]:
    """Residents of each of ``codes`` for ``year``, from the bundled ONS figures, and where they
    come from: the small-area estimate of the nearest year held (2017, 2019, 2020) for a 2011
    LSOA, and Census 2021 for a 2021 LSOA. Where a code is both (unchanged by 2021), the figure
    nearer ``year`` is taken. Codes with no figure are left out."""
    table = _lsoa_population_table()
    years_2011 = (2017, 2019, 2020)
    estimate = min(years_2011, key=lambda y: (abs(y - year), y))
    found: dict[str, int] = {}
    used: set[str] = set()
    for code in codes:
        options = [(abs(y - year), -y, y) for y in (estimate, 2021) if (code, y) in table]
        if options:
            chosen = min(options)[2]
            found[code] = table[(code, chosen)]
            used.add("ONS Census 2021 usual residents" if chosen == 2021 else f"ONS mid-{chosen} small-area estimates")
    return found, " and ".join(sorted(used)) or "no bundled figure"


ENGLAND_AND_WALES_NAME = "England and Wales"
# police.uk's file names for the forces whose slug is not simply their ONS name in lower case.
POLICE_UK_SLUGS = {
    "Devon & Cornwall": "devon-and-cornwall",
    "London, City of": "city-of-london",
    "Metropolitan Police": "metropolitan",
}
FILE_FORCE = re.compile(r"\d{4}-\d{2}-([a-z\-]+?)-street\.csv")


def police_uk_slug(force: str) -> str:
    """A force's name as police.uk's file names spell it, e.g. 'avon-and-somerset'."""
    return POLICE_UK_SLUGS.get(force, re.sub(r"[^a-z]+", "-", force.lower()).strip("-"))


def missing_forces(file_names: list[str]) -> list[str]:
    """The territorial forces (ONS names) none of whose street-level files is among ``file_names``."""
    present = {m.group(1) for name in file_names for m in [FILE_FORCE.search(name)] if m}
    return [force for force in force_names() if police_uk_slug(force) not in present]


def input_file_names(paths: list[Path]) -> list[str]:
    """The file names police.uk inputs hold: a zip's members, a folder's files, or a file's name."""
    import zipfile

    names: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            names += [p.name for p in path.rglob("*") if p.is_file()]
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names += archive.namelist()
        else:
            names.append(path.name)
    return names


@lru_cache(maxsize=1)
def all_lsoas() -> frozenset[str]:
    """Every LSOA of England and Wales, 2011 and 2021 together."""
    return frozenset(row["lsoa_code"] for rows in lsoa_geography().values() for row in rows)


@lru_cache(maxsize=1)
def lsoa11_to_lsoa21() -> dict[str, tuple[str, str, str]]:
    """Each 2011 LSOA's 2021 LSOA (ONS exact-fit lookup): 2011 code -> (2021 code, 2021 name,
    change: U unchanged, M merged, S split, X irregular). A split or irregular 2011 LSOA goes
    to the 2021 part with most residents (Census 2021), so each 2011 code has one 2021 code."""
    residents = _lsoa_population_table()
    best: dict[str, tuple[int, str, str, str]] = {}
    for row in _read("lsoa11-lsoa21.csv.gz"):
        people = residents.get((row["lsoa21_code"], 2021), 0)
        key = (people, row["lsoa21_code"], row["lsoa21_name"], row["change"])
        if row["lsoa11_code"] not in best or key > best[row["lsoa11_code"]]:
            best[row["lsoa11_code"]] = key
    return {code: (new, name, change) for code, (_, new, name, change) in best.items()}


def lsoas_of_2021() -> frozenset[str]:
    """Every 2021 LSOA code."""
    return frozenset(row["lsoa_code"] for row in lsoa_geography()["2021"])
