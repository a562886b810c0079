"""Shared helpers: police.uk rows written by hand, and the tiny end-to-end fixture."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

from pipeline.inputs.police_scan import POLICE_UK_COLUMNS
from pipeline.params import AreaDefinition, Population

ROOT = Path(__file__).resolve().parent.parent
SHARED_ZIP = ROOT.parent / "shared/data/police-uk/avon-and-somerset-street-2018-01_2021-09.zip"


def street_row(
    month: str,
    lsoa_name: str = "Alphaton 001A",
    crime_type: str = "Burglary",
    crime_id: str = "",
    lsoa_code: str | None = None,
    location: str = "On or near High Street",
) -> list[str]:
    """One police.uk street-level row. An empty ``lsoa_name`` makes a 'No Location' row."""
    if not lsoa_name:
        return [crime_id, month, "Test Police", "Test Police", "", "", "No Location", "", "", crime_type, "", ""]
    code = lsoa_code if lsoa_code is not None else "E0" + str(abs(hash(lsoa_name)) % 10**7).zfill(7)
    return [
        crime_id,
        month,
        "Test Police",
        "Test Police",
        "-2.5",
        "51.5",
        location,
        code,
        lsoa_name,
        crime_type,
        "",
        "",
    ]


def street_csv_text(rows: list[list[str]], header: tuple[str, ...] = POLICE_UK_COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_street_csv(path: Path, rows: list[list[str]], header: tuple[str, ...] = POLICE_UK_COLUMNS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = street_csv_text(rows, header)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def area(
    name: str, prefixes: list[str] | None = None, lookup: Path | None = None, population: int = 10000
) -> AreaDefinition:
    return AreaDefinition(
        name=name,
        lsoa_name_prefixes=prefixes or ([] if lookup else [name]),
        lsoa_lookup=lookup,
        population=Population(value=population, year=2020, source="test"),
    )


TINY_AREA_CODES = {
    # Five South Gloucestershire and five Bristol LSOAs, cut from the bundled real data.
    "Tiny South Glos": ["E01014862", "E01014863", "E01014864", "E01014865", "E01014866"],
    "Tiny Bristol": ["E01014485", "E01014486", "E01014487", "E01014488", "E01014489"],
}


@pytest.fixture(scope="session")
def tiny_police_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real rows for ten LSOAs, laid out as police.uk month folders.

    Cut from the bundled default data, so it has the real gap (July 2019 is missing):
    the five South Gloucestershire LSOAs from 2018-01, the five Bristol ones (from the
    comparator file) from 2019-01, both to 2020-12.
    """
    folder = tmp_path_factory.mktemp("police-tiny")
    codes = {c for cs in TINY_AREA_CODES.values() for c in cs}
    by_month: dict[str, list[list[str]]] = {}
    for name in ("south-gloucestershire-street-2018-01_2021-09.csv.gz", "comparators-street-2019-01_2020-12.csv.gz"):
        with gzip.open(ROOT / "data/raw/police-uk" / name, "rt", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                if row[7] in codes and "2018-01" <= row[1] <= "2020-12":
                    by_month.setdefault(row[1], []).append(row)
    for month, rows in by_month.items():
        write_street_csv(folder / month / f"{month}-test-street.csv", rows)
    lookup = folder / "lookup.csv"
    lookup.write_text(
        "lsoa_code,area\n" + "".join(f"{c},{a}\n" for a, cs in TINY_AREA_CODES.items() for c in cs), encoding="utf-8"
    )
    return folder


def libreoffice_ready() -> bool:
    """Whether a real LibreOffice can be driven here (soffice, and the system Python's uno
    module), for the spreadsheet round-trip tests (scripts/libreoffice_fill.py)."""
    import shutil
    import subprocess

    if not shutil.which("soffice") or not Path("/usr/bin/python3").exists():
        return False
    return subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode == 0
