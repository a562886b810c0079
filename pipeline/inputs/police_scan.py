"""Reading police.uk street-level crime files for a partnership's areas, with pyarrow alone.

Inputs are read as an analyst downloads them: one CSV, a ``.csv.gz``, a folder of
``YYYY-MM/YYYY-MM-<force>-street.csv`` files, or the police.uk zip archive. Files are
scanned side by side (one per core, ``READ_WORKERS``) with pyarrow, and only the rows
inside the requested areas are kept, so memory grows with the areas' rows, not the
force's. The result is an Arrow table; the police stage (``pipeline.analysis.police``) makes the
pandas frame the later stages use.

Rules (see docs/methods.md, "How the numbers are made"):
- An area is a set of LSOAs, picked by local authority name or by a lookup CSV.
- Rows with no LSOA cannot be attributed to any area; they are counted, not guessed.
- A row with an LSOA name but no code gets the code other rows of its file pair with that
  name; if none does, it has no location (and the reverse for a code with no name).
- A non-empty Crime ID seen more than once within an area is counted once there (the
  first row). Rows without a Crime ID (anti-social behaviour) are never de-duplicated:
  separate incidents can share a row at the same map point.
- A row found, value for value, in two different input files means the inputs overlap:
  that is an error, never a double count.
- Crime types are kept as published; legacy labels are mapped by ``crime_types.csv``.

Why one module: it is the one reader of police.uk files, and its checks (columns, months,
coordinates, repeats, overlaps) run together in one pass over every row with pyarrow;
split, each check would read the rows again or pass half-built tables between modules.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import zipfile
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.errors import InputDataError, ParamsError, list_problems
from pipeline.params import AreaDefinition

log = logging.getLogger(__name__)

POLICE_UK_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
ASB = "Anti-social behaviour"
ALL_CRIME_EXCL_ASB = "All crime (excluding ASB)"
MONTH_REGEX = r"^\d{4}-(0[1-9]|1[0-2])$"
# 2011 LSOA names are "<local authority> <3 digits><letter>", e.g. "Bristol 032A".
LSOA_SUFFIX_REGEX = r"\s+\d{3}[A-Z]$"
# Each tidy column but crime_type (the current label, mapped from the published one) and the
# police.uk column it is taken from.
TIDY_SOURCES = {
    "area": "area",
    "month": "Month",
    "crime_id": "Crime ID",
    "crime_type_published": "Crime type",
    "lsoa_code": "LSOA code",
    "lsoa_name": "LSOA name",
    "location": "Location",
    "longitude": "Longitude",
    "latitude": "Latitude",
    "last_outcome_category": "Last outcome category",
}
TIDY_COLUMNS = [
    "area",
    "month",
    "crime_id",
    "crime_type",
    "crime_type_published",
    "lsoa_code",
    "lsoa_name",
    "location",
    "longitude",
    "latitude",
    "last_outcome_category",
]


@dataclass(frozen=True)
class StreetFile:
    """One police.uk street-level CSV, wherever it lives."""

    label: str  # as named in messages: a path, or "archive.zip!2020-03/2020-03-x-street.csv"
    opener: Callable[[], BinaryIO]


def _is_street_name(name: str) -> bool:
    return name.endswith("-street.csv") or name.endswith("-street.csv.gz")


def _open_path(path: Path) -> Callable[[], BinaryIO]:
    if path.name.endswith(".gz"):
        return lambda: gzip.open(path, "rb")
    return lambda: open(path, "rb")


def _zip_members(path: Path) -> list[StreetFile]:
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if _is_street_name(Path(n).name))

    def opener(member: str) -> Callable[[], BinaryIO]:
        def open_member() -> BinaryIO:
            archive = zipfile.ZipFile(path)
            raw = archive.open(member)
            return gzip.GzipFile(fileobj=raw) if member.endswith(".gz") else raw

        return open_member

    return [StreetFile(f"{path}!{n}", opener(n)) for n in names]


def find_street_files(paths: Iterable[Path]) -> list[StreetFile]:
    """List the street-level files in the given inputs, in a stable order.

    A file named directly is read whatever its name; inside a folder or a zip only
    files named ``*-street.csv`` or ``*-street.csv.gz`` are read, so police.uk's
    outcomes and stop-and-search files downloaded alongside are skipped.
    """
    files: list[StreetFile] = []
    problems: list[str] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _is_street_name(p.name))
            found_files = [StreetFile(str(p), _open_path(p)) for p in found]
        elif path.suffix == ".zip":
            try:
                found_files = _zip_members(path)
            except zipfile.BadZipFile:
                problems.append(f"{path}: not a readable zip archive (download it again)")
                continue
        elif path.is_file():
            found_files = [StreetFile(str(path), _open_path(path))]
        else:
            problems.append(f"{path}: not found")
            continue
        if not found_files:
            problems.append(f"{path}: no police.uk street-level files (names ending '-street.csv') inside")
        files.extend(found_files)
    if problems:
        raise InputDataError(list_problems("Problems with the police data inputs:", problems))
    return files


def read_csv_columns(path: Path, columns: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a small CSV (UTF-8, BOM allowed; gzipped if named .gz) as (file line number, {column:
    stripped text}).

    Raises ``InputDataError`` naming the file and ``what`` it should be if a column is missing.
    """
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)  # the bundled partnership lookup is compressed
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Saved from Excel as "CSV" (Windows-1252): LSOA codes and numbers read the same.
        text = data.decode("cp1252")
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if any(c not in header for c in columns):
            wanted = " and ".join(f"'{c}'" for c in columns)
            raise InputDataError(f"{path}: {what} needs columns {wanted}; found {', '.join(header) or 'no header'}.")
        return [(line, {c: (row.get(c) or "").strip() for c in columns}) for line, row in enumerate(reader, start=2)]


def read_lsoa_lookup(path: Path) -> dict[str, str]:
    """Read a lookup CSV with columns ``lsoa_code`` and ``area``: LSOA code to area name.

    Kept per file (path, size and modification time): a force's partnerships share one
    lookup of 34,753 LSOAs, read once rather than once per area."""
    stat = Path(path).stat()
    return dict(_read_lsoa_lookup(Path(path).resolve(), stat.st_size, stat.st_mtime_ns))


@lru_cache(maxsize=4)
def _read_lsoa_lookup(path: Path, size: int, modified: int) -> dict[str, str]:
    lookup: dict[str, str] = {}
    problems = []
    for line, row in read_csv_columns(path, ("lsoa_code", "area"), "an LSOA lookup"):
        code, area = row["lsoa_code"], row["area"]
        if not code or not area:
            problems.append(f"row {line}: lsoa_code {code!r}, area {area!r}: both are needed")
        elif code in lookup and lookup[code] != area:
            problems.append(f"row {line}: LSOA {code} is given to both {lookup[code]!r} and {area!r}")
        else:
            lookup[code] = area
    if problems:
        raise InputDataError(list_problems(f"Problems in the LSOA lookup {path}:", problems))
    return lookup


class AreaSelector:
    """Decides which area, if any, each row belongs to, from its LSOA."""

    def __init__(self, areas: list[AreaDefinition]) -> None:
        self.by_authority: dict[str, str] = {}
        self.by_code: dict[str, str] = {}
        # Areas that contain others (a force beside its partnerships): their rows are kept a
        # second time under their own name, so they may overlap the rest.
        self.containing: dict[str, pa.Array] = {}
        overlaps = []
        for area in areas:
            if area.force is not None or area.nation is not None:
                self.containing[area.name] = pa.array(sorted(area.official_lsoas), pa.string())
                continue
            for name in area.lsoa_name_prefixes:
                if name in self.by_authority:
                    overlaps.append(f"'{name}' is in both {self.by_authority[name]} and {area.name}")
                self.by_authority[name] = area.name
            if area.lsoa_lookup is not None or area.official_lsoas:
                if area.lsoa_lookup is not None:
                    codes = [c for c, a in read_lsoa_lookup(area.lsoa_lookup).items() if a == area.name]
                else:
                    codes = sorted(area.official_lsoas)
                if not codes:
                    overlaps.append(f"the lookup {area.lsoa_lookup} has no rows with area '{area.name}'")
                for code in codes:
                    if code in self.by_code:
                        overlaps.append(f"LSOA {code} is in both {self.by_code[code]} and {area.name}")
                    self.by_code[code] = area.name
        if overlaps:
            raise ParamsError(list_problems("The area definitions in the params file overlap or are empty:", overlaps))

    def assign(self, table: pa.Table) -> pa.ChunkedArray:
        """The area name for each row of a police.uk table; null where the row is in none."""
        result = pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
        if self.by_authority:
            result = by_value(
                table["LSOA name"],
                lambda names: _lookup(
                    pc.replace_substring_regex(names, pattern=LSOA_SUFFIX_REGEX, replacement=""), self.by_authority
                ),
            )
        if self.by_code:
            by_code = by_value(table["LSOA code"], lambda codes: _lookup(codes, self.by_code))
            result = pc.coalesce(by_code, result)
        return result


def _lookup(keys: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> pa.Array:
    index = pc.index_in(keys, value_set=pa.array(list(mapping.keys()), pa.string()))
    return pc.take(pa.array(list(mapping.values()), pa.string()), index)


@dataclass
class ScanSummary:
    """What was read, force-wide, and what could not be attributed."""

    files: list[str] = field(default_factory=list)
    force_rows: int = 0
    unlocated_rows: int = 0  # no LSOA, and not a repeat of a located row's Crime ID
    unlocated_repeat_rows: int = 0  # no LSOA, but repeating a located row's Crime ID (not counted)
    repeated_id_rows: int = 0  # rows in the areas repeating a Crime ID already counted
    repeated_ids: int = 0  # distinct Crime IDs that were repeated
    months_in_input: list[str] = field(default_factory=list)
    legacy_labels: dict[str, int] = field(default_factory=dict)
    unknown_crime_types: dict[str, int] = field(default_factory=dict)
    # Rows with an LSOA name but no code (or a code but no name): the missing half is
    # recovered from other rows of the same file that carry both; otherwise the row is unlocated.
    lsoa_codes_recovered: int = 0
    lsoa_names_recovered: int = 0
    lsoa_name_without_code: int = 0  # not recoverable: counted as unlocated
    bad_coordinates: int = 0  # rows whose longitude/latitude is not a number or lies outside the UK
    bad_coordinate_examples: list[str] = field(default_factory=list)
    authority_rows: dict[str, int] = field(default_factory=dict)  # rows by local authority (LSOA name prefix)
    # What the repeated Crime IDs look like, so the report can say why they are counted once.
    repeat_profile: dict[str, int] = field(default_factory=dict)

    @property
    def unlocated_share(self) -> float:
        """Share (0-1) of the rows read that have no location (force-wide when whole force files are read)."""
        return self.unlocated_rows / self.force_rows if self.force_rows else float("nan")


# Every column is read as plain text, which the CSV parser makes fastest, except the map
# point, read as numbers. Columns tested value by value are dictionary-encoded afterwards
# only where that pays (``_scan_file``: the LSOA name, ~1,000 distinct in ~14,000 rows).
COORDINATE_COLUMNS = ("Longitude", "Latitude")
# Files read side by side are parsed in small blocks: the parser's working memory, which the
# allocator keeps once freed, grows with the block (the Avon and Somerset archive read in
# 16 MB blocks peaked about 25 MB higher than in 256 kB blocks, and under 10% faster). The
# blocks are joined after parsing, so that each file's checks run on one chunk.
SIDE_BY_SIDE_BLOCK_BYTES = 256 << 10


def _read_table(street_file: StreetFile, numbers: bool = False, threads: bool = True) -> pa.Table:
    """One file as a table of text; with ``numbers``, the coordinates parsed as numbers (blank
    is null; the file is read again as text if any value is not a plain number inside the UK,
    for ``bad_coordinates`` to report it as written). ``threads``: let pyarrow split the file
    over the cores (worth it when files are not already read side by side)."""
    read = pacsv.ReadOptions(use_threads=threads, **({} if threads else {"block_size": SIDE_BY_SIDE_BLOCK_BYTES}))
    if numbers:
        types = {c: pa.float64() if c in COORDINATE_COLUMNS else pa.string() for c in POLICE_UK_COLUMNS}
        convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=[""])
        try:
            with street_file.opener() as handle:
                table = pacsv.read_csv(handle, read_options=read, convert_options=convert)
            if all(
                pc.all(_inside_uk(table[c], c)).as_py() is not False
                for c in COORDINATE_COLUMNS
                if c in table.column_names
            ):
                return table if threads else table.combine_chunks()
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile):
            pass  # read as text below: that read names the problem, or bad_coordinates reports the values as written
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in POLICE_UK_COLUMNS}, strings_can_be_null=False)
    with street_file.opener() as handle:
        try:
            table = pacsv.read_csv(handle, read_options=read, convert_options=convert)
            table.column_names  # noqa: B018  (pyarrow reads a header that is not UTF-8; naming its columns fails)
            return table if threads else table.combine_chunks()
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise InputDataError(_unreadable(street_file, exc)) from None


def given(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a text column is not blank (a length test: comparing each value with "" is
    a hundred times slower)."""
    return by_value(column, lambda values: pc.greater(pc.binary_length(values), 0))


def _inside_uk(values: pa.ChunkedArray, column: str) -> pa.ChunkedArray:
    """True where a longitude or latitude (``column``) lies inside the UK box; null where blank
    (NaN is not inside)."""
    low, high = UK_BOX[column]
    return pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))


def by_value(column: pa.ChunkedArray, function: Callable[[pa.Array], pa.Array]) -> pa.ChunkedArray:
    """Apply an element-wise ``function`` to a column, once per distinct value if it is dictionary-encoded."""
    if pa.types.is_dictionary(column.type):
        if column.num_chunks:
            return pa.chunked_array([pc.take(function(chunk.dictionary), chunk.indices) for chunk in column.chunks])
        column = column.cast(pa.string())
    result = function(column)
    return result if isinstance(result, pa.ChunkedArray) else pa.chunked_array([result])


def decoded(table: pa.Table) -> pa.Table:
    """The table with every dictionary-encoded column as plain text (what the rest of the pipeline reads)."""
    return table.cast(
        pa.schema([pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f for f in table.schema])
    )


def _unreadable(street_file: StreetFile, exc: Exception) -> str:
    """Say where and why a police file could not be read: a spreadsheet saved as .csv, the first
    line that is not UTF-8, the first row with the wrong number of values, or the parser's words."""
    try:
        with street_file.opener() as handle:
            start = handle.read(8)
        if start.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            return (
                f"{street_file.label}: is a spreadsheet (Excel or similar), not a CSV file; police.uk files are CSV. "
                "Use the file as downloaded from data.police.uk, or save the sheet as 'CSV UTF-8'."
            )
        with street_file.opener() as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as bad:
                    byte = line[bad.start : bad.start + 1].hex()
                    return (
                        f"{street_file.label}, row {number}: byte 0x{byte} is not UTF-8 text (the file was probably "
                        "saved as Windows-1252 / ANSI by a spreadsheet); police.uk files are UTF-8: use the file as "
                        "downloaded, or save it again as 'CSV UTF-8'."
                    )
    except (OSError, EOFError, zipfile.BadZipFile) as again:
        return f"{street_file.label}: the file is damaged or not a CSV file ({again}); download it again."
    with street_file.opener() as handle:
        rows = csv.reader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline=""))
        for number, row in enumerate(rows, start=1):
            if len(row) != len(POLICE_UK_COLUMNS):
                return (
                    f"{street_file.label}, row {number}: has {len(row)} values ({','.join(row)[:80]!r}); expected the "
                    f"{len(POLICE_UK_COLUMNS)} police.uk columns. The file may have been edited or cut short: "
                    "download it again."
                )
    detail = str(exc).splitlines()[0]
    return (
        f"{street_file.label}: could not be read as a police.uk CSV file ({detail}); expected 12 comma-separated "
        "columns per row. Download it again."
    )


def _header_problem(label: str, names: list[str]) -> str | None:
    names = [n.lstrip("\ufeff").strip() for n in names]
    if tuple(names) == POLICE_UK_COLUMNS:
        return None
    return (
        f"{label}: the header is not the police.uk street-level layout.\n"
        f"      expected: {','.join(POLICE_UK_COLUMNS)}\n"
        f"      found:    {','.join(names)}"
    )


def _bad_months(label: str, months: pa.ChunkedArray) -> list[str]:
    """One message per row whose month is not written YYYY-MM (a file holds one or two distinct
    months, so each distinct value is tested once and rows are looked up only if one fails)."""
    distinct = pc.unique(months)
    wrong = pc.filter(distinct, pc.invert(pc.match_substring_regex(distinct, MONTH_REGEX)))
    if len(wrong) == 0:
        return []
    rows = np.flatnonzero(pc.is_in(months, value_set=wrong).to_numpy(zero_copy_only=False))
    return [
        f"{label}, row {r + 2}, column 'Month': {months[int(r)].as_py()!r} is not a month written YYYY-MM" for r in rows
    ]


def checked_table(
    street_file: StreetFile, numbers: bool = False, threads: bool = True
) -> tuple[pa.Table | None, list[str]]:
    """One file read (see ``_read_table``) and checked: (table with the police.uk column
    names, []) or (None, the problems: a wrong header, a header but no rows, rows whose
    month is not ``YYYY-MM``). A file that cannot be read at all raises ``InputDataError``."""
    table = _read_table(street_file, numbers, threads)
    header = _header_problem(street_file.label, table.column_names)
    if header:
        return None, [header]
    if table.num_rows == 0:
        return None, [f"{street_file.label}: has the police.uk header but no rows; download the file again."]
    table = table.rename_columns(list(POLICE_UK_COLUMNS))
    bad_months = _bad_months(street_file.label, table["Month"])
    return (None, bad_months) if bad_months else (table, [])


def _listed_twice(street_file: StreetFile) -> str:
    return (
        f"{street_file.label}: listed twice in inputs.police (directly or inside a folder or zip also listed); "
        "list it once."
    )


def _first_listings(files: list[StreetFile]) -> list[bool]:
    """For each file, whether it is the first listing of its label (a later one is a mistake)."""
    seen: set[str] = set()
    firsts = []
    for street_file in files:
        firsts.append(street_file.label not in seen)
        seen.add(street_file.label)
    return firsts


def street_tables(files: list[StreetFile], numbers: bool = False) -> Iterator[tuple[str, pa.Table]]:
    """Yield (label, table) for each file whose header and months are valid (``checked_table``),
    one file at a time.

    Problems (those of ``checked_table`` and the same file listed twice) are collected over
    all files and raised together as one ``InputDataError`` after the last file; no table
    is yielded after the first problem.
    """
    problems: list[str] = []
    for street_file, first in zip(files, _first_listings(files)):
        if not first:
            problems.append(_listed_twice(street_file))
            continue
        table, found = checked_table(street_file, numbers)
        problems.extend(found)
        if table is not None and not problems:
            yield street_file.label, table
    if problems:
        raise InputDataError(list_problems("The police data has problems; nothing was changed:", problems))


# A box around the United Kingdom (with a margin): police.uk map points outside it are errors.
UK_LONGITUDE = (-9.0, 2.5)
UK_LATITUDE = (49.5, 61.0)
UK_BOX = {"Longitude": UK_LONGITUDE, "Latitude": UK_LATITUDE}


def recover_lsoa(table: pa.Table) -> tuple[pa.Table, int, int, int]:
    """Fill a blank ``LSOA code`` from the ``LSOA name`` (and the reverse) using the file's other rows.

    2011 LSOA names and codes correspond one to one, so a row that names its LSOA but has
    lost the code (or the reverse) is given the code (name) that other rows of the same
    file pair with it. A name seen with no code anywhere in the file stays unattributed:
    the row is treated as having no location, like any row without an LSOA code.
    Returns (table, codes recovered, names recovered, names left without a code).
    """
    code_given = given(table["LSOA code"])
    name_given = given(table["LSOA name"])
    if pc.all(pc.equal(code_given, name_given)).as_py() is not False:
        return table, 0, 0, 0  # every row has both halves or neither: nothing to recover
    codes, names = table["LSOA code"].cast(pa.string()), table["LSOA name"].cast(pa.string())
    both = pc.and_(pc.not_equal(codes, ""), pc.not_equal(names, ""))
    pairs = (
        pa.table({"code": pc.filter(codes, both), "name": pc.filter(names, both)})
        .group_by(["name", "code"])
        .aggregate([])
    )
    code_missing = pc.and_(pc.equal(codes, ""), pc.not_equal(names, ""))
    name_missing = pc.and_(pc.not_equal(codes, ""), pc.equal(names, ""))
    n_code_missing = pc.sum(code_missing).as_py() or 0
    n_name_missing = pc.sum(name_missing).as_py() or 0
    if not n_code_missing and not n_name_missing:
        return table, 0, 0, 0
    # Only names (codes) paired with exactly one code (name) are used.
    name_counts = pairs.group_by("name").aggregate([("code", "count")])
    unique_names = pc.filter(name_counts["name"], pc.equal(name_counts["code_count"], 1))
    by_name = pairs.filter(pc.is_in(pairs["name"], value_set=unique_names))
    code_counts = pairs.group_by("code").aggregate([("name", "count")])
    unique_codes = pc.filter(code_counts["code"], pc.equal(code_counts["name_count"], 1))
    by_code = pairs.filter(pc.is_in(pairs["code"], value_set=unique_codes))
    found_code = pc.take(by_name["code"], pc.index_in(names, value_set=by_name["name"]))
    found_name = pc.take(by_code["name"], pc.index_in(codes, value_set=by_code["code"]))
    new_codes = pc.if_else(pc.and_(code_missing, pc.is_valid(found_code)), found_code, codes)
    new_names = pc.if_else(pc.and_(name_missing, pc.is_valid(found_name)), found_name, names)
    recovered_codes = pc.sum(pc.and_(code_missing, pc.is_valid(found_code))).as_py() or 0
    recovered_names = pc.sum(pc.and_(name_missing, pc.is_valid(found_name))).as_py() or 0
    table = table.set_column(table.schema.get_field_index("LSOA code"), "LSOA code", new_codes)
    table = table.set_column(table.schema.get_field_index("LSOA name"), "LSOA name", new_names)
    return table, recovered_codes, recovered_names, n_code_missing - recovered_codes


def _plain_decimals(text: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Text as float64 (null where blank) in one cast, as police.uk writes plain decimals;
    None if any value is not a plain number, for the caller's value-by-value path."""
    try:
        return pc.cast(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text), pa.float64())
    except pa.ArrowInvalid:
        return None


def bad_coordinates(table: pa.Table) -> pa.ChunkedArray:
    """True for rows whose longitude or latitude is present but is not a number or lies outside the UK."""
    flags = []
    for column in COORDINATE_COLUMNS:
        text = table[column]
        if pa.types.is_floating(text.type):  # read as numbers (blank is null)
            present, value = pc.is_valid(text), text
        else:
            present, value = pc.not_equal(text, ""), _plain_decimals(text)
        if value is None:  # something that is not a plain number: test each value
            present, value = pc.not_equal(pc.utf8_trim_whitespace(text), ""), _decimals(text)
        inside = _inside_uk(value, column)
        flags.append(pc.and_(present, pc.invert(pc.fill_null(inside, False))))
    return pc.or_(flags[0], flags[1])


def _row_texts(table: pa.Table) -> pa.Array:
    """Each row's 12 police.uk values joined into one string (a unit separator between them),
    to find rows that two inputs both hold. ``table`` is as ``_plain`` makes it: a coordinate
    is compared as the text of its number, so "-2.5" and "-2.50" are the same point."""
    columns = [
        pc.fill_null(table[c].cast(pa.string()), "") if c in COORDINATE_COLUMNS else table[c] for c in POLICE_UK_COLUMNS
    ]
    joined = pc.binary_join_element_wise(*columns, "\x1f")
    return pa.concat_arrays(joined.chunks) if joined.num_chunks else pa.array([], pa.string())


class _OverlapFinder:
    """Finds rows that appear, value for value, in two different input files.

    Within one police.uk file identical rows are real (two incidents at one map point in
    one month). The same row in two files means the inputs overlap (a file listed twice,
    or the same force-month through a zip and a folder) and would be counted twice.
    A row holds its month and force, so only files naming a (month, force) pair in common
    are compared: a force's archive has one file per month, and none are. Rows are compared
    as the tidy table holds them (a map point outside the UK counts as blank), as whole
    rows of text: no hash, so no two different rows can be taken for one.

    A file's rows with no location (a tenth of a force's rows, and not otherwise kept) are
    held only if it shares a pair with an earlier file; the earlier file's are then read
    again (``unlocated_again``), which happens only when the inputs overlap, an error.
    """

    def __init__(self, unlocated_again: Callable[[StreetFile], pa.Table]) -> None:
        self.files: list[StreetFile] = []
        self.keys: list[set[tuple[str, str]]] = []
        self.unlocated: list[pa.Table | None] = []
        self.rows: list[pa.Table] = []
        self.seen: set[tuple[str, str]] = set()
        self.unlocated_again = unlocated_again

    def add(self, street_file: StreetFile, keys: set[tuple[str, str]], unlocated: pa.Table, rows: pa.Table) -> None:
        """Note one file's (month, force) pairs and the rows of it that count: those with no
        location and those in an area, as ``_plain`` makes them (joined into text only if
        another file shares a pair)."""
        self.files.append(street_file)
        self.keys.append(keys)
        self.unlocated.append(unlocated if keys & self.seen else None)
        self.seen |= keys
        self.rows.append(rows)

    def _unlocated(self, index: int) -> pa.Table:
        if self.unlocated[index] is None:
            self.unlocated[index] = self.unlocated_again(self.files[index])
        return self.unlocated[index]

    def problems(self) -> list[str]:
        """One message per pair of files sharing rows, the later file first, in input order."""
        holders: dict[tuple[str, str], list[int]] = {}
        for index, keys in enumerate(self.keys):
            for key in keys:
                holders.setdefault(key, []).append(index)
        compared = sorted({i for files in holders.values() if len(files) > 1 for i in files})
        if not compared:
            return []
        texts = {i: pa.concat_arrays([_row_texts(self._unlocated(i)), _row_texts(self.rows[i])]) for i in compared}
        # Each distinct row becomes a number (its place in one dictionary of every compared
        # file's rows); one sort of each file's distinct numbers finds the rows held by more than
        # one file (comparing each file with every earlier one grew with the square of the files).
        numbers = pc.dictionary_encode(pa.concat_arrays([texts[i] for i in compared])).indices.to_numpy(
            zero_copy_only=False
        )
        ends = np.cumsum([len(texts[i]) for i in compared])
        row_numbers = dict(zip(compared, np.split(numbers.astype(np.int64), ends[:-1])))
        distinct = [np.unique(row_numbers[i]) for i in compared]
        values = np.concatenate(distinct)
        owners = np.concatenate([np.full(len(d), i, np.int64) for i, d in zip(compared, distinct)])
        order = np.argsort(values, kind="stable")
        values, owners = values[order], owners[order]
        repeated = np.flatnonzero(values[1:] == values[:-1])
        shared: dict[tuple[int, int], set[int]] = {}
        for value in np.unique(values[repeated]):
            owned = owners[np.searchsorted(values, value, "left") : np.searchsorted(values, value, "right")]
            for later in range(1, len(owned)):
                for earlier in range(later):
                    shared.setdefault((int(owned[later]), int(owned[earlier])), set()).add(int(value))
        problems = []
        for (later, earlier), found in sorted(shared.items()):
            rows = np.isin(row_numbers[later], np.fromiter(found, np.int64))
            months = pa.chunked_array(
                [*self._unlocated(later)["Month"].chunks, *self.rows[later]["Month"].chunks], pa.string()
            )
            in_both = sorted(set(pc.filter(months, pa.array(rows)).to_pylist()))
            span = in_both[0] if len(in_both) == 1 else f"{in_both[0]} to {in_both[-1]}"
            problems.append(
                f"{self.files[later].label} and {self.files[earlier].label} both hold the same {len(found):,} row(s) "
                f"(months {span}): the inputs overlap, "
                "so those crimes would be counted twice. Remove one of them (or the months they share) from "
                "inputs.police."
            )
        return problems


@dataclass
class _FileScan:
    """One file's share of a scan (``_scan_file``): its problems, or its counts and the rows it gives."""

    label: str
    problems: list[str] = field(default_factory=list)
    rows: int = 0
    months: set[str] = field(default_factory=set)
    codes_recovered: int = 0
    names_recovered: int = 0
    name_without_code: int = 0
    bad_coordinates: int = 0
    bad_coordinate_example: str | None = None
    unlocated: int = 0  # no LSOA, not counting repeats
    unlocated_repeats: int = 0
    names: pa.Table | None = None  # located rows per LSOA name (name, rows)
    kept: pa.Table | None = None  # rows in an area, as _plain makes them, with area and _order (place in this file)
    keys: set[tuple[str, str]] = field(default_factory=set)
    unlocated_rows: pa.Table | None = None  # rows with no LSOA, as _plain makes them, for _OverlapFinder


def _scan_file(street_file: StreetFile, selector: AreaSelector, threads: bool) -> _FileScan:
    """Read and check one file, count what the summary needs and keep its rows in the areas.
    Runs on a worker thread (pyarrow releases the interpreter while it computes)."""
    table, problems = checked_table(street_file, numbers=True, threads=threads)
    scan = _FileScan(street_file.label, problems)
    if table is None:
        return scan
    scan.rows = table.num_rows
    scan.months = set(pc.unique(table["Month"]).to_pylist())
    table, scan.codes_recovered, scan.names_recovered, scan.name_without_code = recover_lsoa(table)
    coordinates = bad_coordinates(table)
    scan.bad_coordinates = pc.sum(coordinates).as_py() or 0
    if scan.bad_coordinates:
        first = int(np.flatnonzero(coordinates.to_numpy(zero_copy_only=False))[0])
        scan.bad_coordinate_example = (
            f"{street_file.label}, row {first + 2}: longitude "
            f"{table['Longitude'][first].as_py()!r}, latitude "
            f"{table['Latitude'][first].as_py()!r}"
        )
    located = given(table["LSOA code"])
    # Each distinct LSOA name is counted and tested against the areas once, not once per row.
    table = table.set_column(
        table.schema.get_field_index("LSOA name"), "LSOA name", pc.dictionary_encode(table["LSOA name"])
    )
    scan.unlocated_repeats = pc.sum(unlocated_repeats(table, located)).as_py() or 0
    scan.unlocated = (pc.sum(pc.invert(located)).as_py() or 0) - scan.unlocated_repeats
    counts = pc.value_counts(pc.filter(table["LSOA name"], located))
    scan.names = pa.table({"name": counts.field("values").cast(pa.string()), "rows": counts.field("counts")})
    # A row with no LSOA code belongs to no area, whatever its name says.
    area = pc.if_else(located, selector.assign(table), pa.scalar(None, pa.string()))
    table = table.append_column("area", area).append_column("_order", pa.array(np.arange(table.num_rows)))
    scan.kept = _plain(table.filter(pc.is_valid(area)))
    for name, codes in selector.containing.items():
        inside = pc.and_(located, pc.is_in(table["LSOA code"], value_set=codes))
        again = table.filter(inside)
        again = again.set_column(
            again.schema.get_field_index("area"), "area", pa.array([name] * again.num_rows, pa.string())
        )
        scan.kept = pa.concat_tables([scan.kept, _plain(again)])
    scan.unlocated_rows = _plain(table.filter(pc.invert(located))).select(list(POLICE_UK_COLUMNS))
    scan.keys = _keys(scan.months, table)
    log.debug("read %s: %d rows, %d in the areas", street_file.label, scan.rows, scan.kept.num_rows)
    return scan


# Files read side by side: one per core, at most four (each holds one file's table in memory).
READ_WORKERS = max(1, min(4, os.cpu_count() or 1))


def scan_street_files(files: list[StreetFile], selector: AreaSelector) -> tuple[pa.Table, ScanSummary]:
    """Read every file, keep the rows in the selected areas, and count the rest.

    Files are read ``READ_WORKERS`` at a time (``_scan_file``) and their results taken in
    input order. Returns the kept rows, in input order (police.uk columns as text,
    coordinates as numbers, plus ``area`` and ``_order``, the row's position in the input)
    before de-duplication, and a force-wide summary.
    Raises ``InputDataError`` listing every file with a wrong header, every row with a
    malformed month and every pair of inputs that overlap, after reading all files.
    """
    summary = ScanSummary()
    problems: list[str] = []
    kept: list[pa.Table] = []
    months: set[str] = set()
    names: list[pa.Table] = []
    firsts = _first_listings(files)
    to_scan = [f for f, first in zip(files, firsts) if first]
    overlaps = _OverlapFinder(lambda street_file: _scan_file(street_file, selector, True).unlocated_rows)
    order = 0
    workers = min(READ_WORKERS, len(to_scan)) or 1
    # With one file at a time pyarrow splits each file over the cores itself.
    threads = workers == 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Each file's result is let go once taken: held in one list, every future kept its
        # file's kept and unlocated rows until the last file was read.
        scans = deque(pool.submit(_scan_file, f, selector, threads) for f in to_scan)
        try:
            for street_file, first in zip(files, firsts):
                if not first:
                    problems.append(_listed_twice(street_file))
                    continue
                scan = scans.popleft().result()
                problems.extend(scan.problems)
                if problems:
                    continue  # every file is still checked, so that all problems are named at once
                summary.files.append(scan.label)
                summary.force_rows += scan.rows
                months.update(scan.months)
                summary.lsoa_codes_recovered += scan.codes_recovered
                summary.lsoa_names_recovered += scan.names_recovered
                summary.lsoa_name_without_code += scan.name_without_code
                summary.bad_coordinates += scan.bad_coordinates
                if scan.bad_coordinate_example and len(summary.bad_coordinate_examples) < 5:
                    summary.bad_coordinate_examples.append(scan.bad_coordinate_example)
                summary.unlocated_repeat_rows += scan.unlocated_repeats
                summary.unlocated_rows += scan.unlocated
                names.append(scan.names)
                rows = scan.kept.set_column(
                    scan.kept.schema.get_field_index("_order"), "_order", pc.add(scan.kept["_order"], order)
                )
                order += scan.rows
                kept.append(rows)
                overlaps.add(street_file, scan.keys, scan.unlocated_rows, rows)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # an unreadable file: do not read the rest
            raise
    if problems:
        raise InputDataError(list_problems("The police data has problems; nothing was changed:", problems))
    summary.months_in_input = sorted(m for m in months if m)
    summary.authority_rows = _authority_rows(names)
    overlap_problems = overlaps.problems()
    if overlap_problems:
        raise InputDataError(list_problems("The police data inputs overlap; nothing was changed:", overlap_problems))
    if not kept:
        raise InputDataError("No police.uk street-level rows were read: check inputs.police in the params file.")
    return pa.concat_tables(kept), summary


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns as text and the coordinates as numbers, so that every file's
    rows share one schema. A map point is kept only if both numbers lie inside the UK;
    otherwise (blank, not a number, or outside) both are null."""
    table = decoded(table)
    values, inside = [], pa.scalar(True)
    for column in COORDINATE_COLUMNS:
        number = table[column]
        if not pa.types.is_floating(number.type):
            plain = _plain_decimals(number)
            number = plain if plain is not None else _decimals(number)
        values.append(number)
        inside = pc.and_(inside, pc.fill_null(_inside_uk(number, column), False))
    for column, number in zip(COORDINATE_COLUMNS, values):
        table = table.set_column(
            table.schema.get_field_index(column), column, pc.if_else(inside, number, pa.scalar(None, pa.float64()))
        )
    return table


def _decimals(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as float64, null where blank or not a decimal number (surrounding spaces allowed)."""
    text = pc.utf8_trim_whitespace(text)
    numeric = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    return pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())


def _keys(months: set[str], table: pa.Table) -> set[tuple[str, str]]:
    """The (month, force) pairs a file can share rows through: each of its ``months`` with every
    force named in it (a row holds both, so files without a pair in common share no row)."""
    forces = pc.unique(table["Falls within"]).to_pylist()
    return {(m, f) for m in months for f in forces}


def _authority_rows(names: list[pa.Table]) -> dict[str, int]:
    """Located rows per local authority (the LSOA name without its " 001A" suffix), most first,
    from each file's table of rows (``rows``) per LSOA name (``name``)."""
    if not names:
        return {}
    counts = pa.concat_tables(names)
    per_name = _sum_by(counts["name"], counts["rows"])
    authorities = pc.replace_substring_regex(per_name["key"], pattern=LSOA_SUFFIX_REGEX, replacement="")
    totals = _sum_by(authorities, per_name["total"])
    pairs = zip(totals["key"].to_pylist(), totals["total"].to_pylist())
    return dict(sorted(pairs, key=lambda pair: (-pair[1], pair[0])))


def _sum_by(keys: pa.Array | pa.ChunkedArray, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Sum of ``values`` per distinct key (columns ``key`` and ``total``), without Acero's
    group-by, whose first use loads pyarrow.dataset (tens of megabytes) into the process."""
    distinct = pc.unique(keys)
    position = pc.index_in(keys, value_set=distinct).to_numpy(zero_copy_only=False)
    totals = np.bincount(position, weights=values.to_numpy(zero_copy_only=False), minlength=len(distinct))
    return pa.table({"key": distinct, "total": totals.astype(np.int64)})


def unlocated_repeats(table: pa.Table, located: pa.ChunkedArray) -> pa.ChunkedArray:
    """True for rows with no LSOA that repeat the Crime ID of a located row in the same file.

    police.uk sometimes publishes a crime twice in one month's file, once located and
    once as 'No Location'; the located row is the one that counts.
    """
    ids = table["Crime ID"]
    unlocated = pc.invert(located)
    # Few rows lack a location: look up their IDs among the located rows, not the reverse.
    unlocated_ids = pc.unique(pc.filter(ids, pc.and_(unlocated, given(ids))))
    if len(unlocated_ids) == 0:
        return pc.and_(unlocated, pa.scalar(False))
    repeated_ids = pc.unique(pc.filter(ids, pc.and_(located, pc.is_in(ids, value_set=unlocated_ids))))
    if len(repeated_ids) == 0:
        return pc.and_(unlocated, pa.scalar(False))
    # Only the unlocated rows' IDs are looked up again; the answers go back to their rows.
    repeats = pc.is_in(pc.filter(ids, unlocated), value_set=repeated_ids)
    mask = unlocated.combine_chunks()
    return pa.chunked_array([pc.replace_with_mask(pc.and_(mask, pa.scalar(False)), mask, repeats.combine_chunks())])


@lru_cache(maxsize=1)
def crime_type_map() -> dict[str, str]:
    """Published crime-type label -> current police.uk label, from the documented ``crime_types.csv``."""
    text = resources.files("pipeline").joinpath("crime_types.csv").read_text(encoding="utf-8")
    return {row["published_label"]: row["current_label"] for row in csv.DictReader(io.StringIO(text))}


def current_crime_types() -> list[str]:
    """The police.uk crime types in use today, alphabetically."""
    return sorted(set(crime_type_map().values()))


PROFILE_COLUMNS = ("LSOA code", "Last outcome category", "Month", "Crime type")


def repeat_profile(repeated: pa.Table) -> dict[str, int]:
    """What rows repeating a Crime ID within an area look like, counted by distinct ID.

    ``repeated`` holds only rows whose non-empty Crime ID another row of the same area also
    has (``_repeated_id_rows``: a few thousand at most, so plain Python), with police.uk
    columns and ``area``. Keys: ids, extra_rows, identical (every value the same),
    several_lsoas, several_outcomes, several_months, several_types.
    """
    if repeated.num_rows == 0:
        return {"ids": 0, "extra_rows": 0}
    whole = list(zip(*(repeated[c].to_pylist() for c in (*POLICE_UK_COLUMNS, "area"))))
    groups: dict[tuple[str, str], list[tuple]] = {}
    id_at, area_at = POLICE_UK_COLUMNS.index("Crime ID"), len(POLICE_UK_COLUMNS)
    for row in whole:
        groups.setdefault((row[area_at], row[id_at]), []).append(row)
    at = [POLICE_UK_COLUMNS.index(c) for c in PROFILE_COLUMNS]
    distinct = [[len({row[i] for row in rows}) for i in at] for rows in groups.values()]
    return {
        "ids": len(groups),
        "extra_rows": len(whole) - len(groups),
        "identical": sum(len(set(rows)) == 1 for rows in groups.values()),
        "several_lsoas": sum(d[0] > 1 for d in distinct),
        "several_outcomes": sum(d[1] > 1 for d in distinct),
        "several_months": sum(d[2] > 1 for d in distinct),
        "several_types": sum(d[3] > 1 for d in distinct),
    }


def tidy_crimes(rows: pa.Table, summary: ScanSummary) -> pa.Table:
    """Turn kept rows into the tidy crime table (``TIDY_COLUMNS``): one row per crime or ASB incident.

    A non-empty Crime ID repeated within an area is counted once there (the first row in
    input order), because the ID stands for one crime reference. De-duplication is within
    each area, so an area's counts never depend on which other areas are in the run. The
    number dropped, the number of distinct repeated IDs and what the repeats look like
    are recorded in ``summary``. Legacy crime-type labels are mapped to current ones, and
    the mapping counts recorded. ``rows`` come from ``scan_street_files``: coordinates that
    are not numbers or lie outside the UK are already blank.
    """
    repeated = _repeated_id_rows(rows)
    seen: set[tuple[str, str]] = set()
    dropped: dict[str, list[int]] = {}
    # ``repeated`` is in input order, so the first row of each (area, ID) is the one kept.
    for key, order in zip(
        zip(repeated["area"].to_pylist(), repeated["Crime ID"].to_pylist()), repeated["_order"].to_pylist()
    ):
        if key in seen:
            dropped.setdefault(key[0], []).append(order)
        seen.add(key)
    summary.repeated_id_rows += sum(len(orders) for orders in dropped.values())
    summary.repeated_ids += len(seen)
    summary.repeat_profile = repeat_profile(repeated)
    if dropped:
        # A row is named by its area and its place in the input: a force beside its partnerships
        # holds a copy of their rows under its own name, with the same place.
        gone = np.zeros(rows.num_rows, dtype=bool)
        for area, orders in dropped.items():
            gone |= pc.and_(
                pc.equal(rows["area"], area), pc.is_in(rows["_order"], value_set=pa.array(orders, pa.int64()))
            ).to_numpy(zero_copy_only=False)
        # Only the columns the tidy table keeps are copied without the dropped rows.
        rows = rows.select(list(TIDY_SOURCES.values())).filter(pa.array(~gone))

    # A dozen labels among tens of thousands of rows: each distinct label is mapped once.
    type_map = crime_type_map()
    counts = pc.value_counts(rows["Crime type"])
    unknown: Counter[str] = Counter()
    legacy: Counter[str] = Counter()
    for label, n in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()):
        to = type_map.get(label.strip())
        if to is None:
            unknown[label.strip()] += n
        elif to != label.strip():
            legacy[label.strip()] += n
    summary.unknown_crime_types = dict(unknown)
    summary.legacy_labels = dict(legacy)
    published = rows["Crime type"]
    stripped = pc.utf8_trim_whitespace(published)
    # Unknown labels are kept as published (trimmed), and reported.
    current = pc.coalesce(_lookup(stripped, type_map), stripped)
    columns = {name: rows[source] for name, source in TIDY_SOURCES.items()}
    return pa.table({**columns, "crime_type": current}).select(TIDY_COLUMNS)


def _repeated_id_rows(rows: pa.Table) -> pa.Table:
    """The rows whose non-empty Crime ID another row of the same area also has, in input order
    (police.uk columns, ``area`` and ``_order``)."""
    chosen = np.zeros(rows.num_rows, dtype=bool)
    for area in pc.unique(rows["area"]).to_pylist():
        in_area = pc.equal(rows["area"], area)
        counts = pc.value_counts(pc.filter(rows["Crime ID"], in_area))
        ids = pc.filter(
            counts.field("values"),
            pc.and_(pc.greater(counts.field("counts"), 1), pc.not_equal(counts.field("values"), "")),
        )
        if len(ids):
            chosen |= pc.and_(in_area, pc.is_in(rows["Crime ID"], value_set=ids)).to_numpy(zero_copy_only=False)
    return rows.filter(pa.array(chosen)).select([*POLICE_UK_COLUMNS, "area", "_order"])


def read_police_table(inputs: list[Path], areas: list[AreaDefinition]) -> tuple[pa.Table, ScanSummary]:
    """Read police.uk inputs for the given areas: the tidy crime table (``tidy_crimes``) and a
    force-wide summary. Raises ``InputDataError`` naming every problem in the inputs."""
    files = find_street_files(inputs)
    log.info("Reading %d police.uk street-level file(s)", len(files))
    rows, summary = scan_street_files(files, AreaSelector(areas))
    crimes = tidy_crimes(rows, summary)
    log.info(
        "Kept %d rows in %d area(s) from %d force rows; %d rows had no location",
        crimes.num_rows,
        len(areas),
        summary.force_rows,
        summary.unlocated_rows,
    )
    return crimes, summary
