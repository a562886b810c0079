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
from functools import lru_cache
from importlib import resources

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
