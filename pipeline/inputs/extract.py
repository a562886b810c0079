"""Force crime extract: read an offence-level extract (CSV or xlsx) through a column mapping.

Any force's extract works by editing ``force_extract.columns`` in the params file: each
field names the extract's own heading. The reader checks every cell it uses and reports
every bad one at once (file, row, column, value, what was expected), then classifies each
crime by its Home Office offence code (``pipeline.inputs.offences``).

Rules (docs/params.md, "Force crime extract"):
- Row numbers count the heading as row 1, as a spreadsheet shows them.
- A crime belongs to the month it was recorded (as police.uk counts it); committed dates
  and times are used only for the time-of-day and day-of-week chart.
- A crime reference seen more than once is counted once (its first row); the repeats are
  reported.
- Unknown offence codes, committed dates after the recorded date, rows with no location,
  rows outside the area and rows outside the months are counted and reported, never
  guessed. Crimes with an unknown code stay in totals by month but in no threat.
- A location is the LSOA code; without one, coordinates are placed in an LSOA only when
  LSOA boundaries are given (``geography.lsoa_boundaries``).

Why one module: the extract's reader applies every rule above in one pass over the rows,
listing every bad cell at once; its helpers (dates, flags, codes, places) serve only it.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.errors import InputDataError, list_problems
from pipeline.inputs.offences import offence_codes, read_code_map, resolve_codes
from pipeline.params import AreaDefinition, ForceExtract

log = logging.getLogger(__name__)

EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
LSOA_PATTERN = r"^[EW]0[0-9]{7}$"
NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
EXAMPLES_PER_COLUMN = 8
DESCRIPTIVE = ("victim_age_band", "victim_sex", "outcome", "offence_description", "hate_strand")
# A plausible UK box for each kind of coordinate.
EXTENTS = {"easting": (0, 700_000), "northing": (0, 1_300_000), "latitude": (49.5, 61.0), "longitude": (-8.7, 2.0)}


@dataclass
class ExtractSummary:
    """What reading the extract found, for the report's data-quality section."""

    file: str
    name: str
    sample: bool
    rows_read: int = 0
    duplicate_references: int = 0
    duplicate_examples: list[str] = field(default_factory=list)
    unknown_codes: dict[str, int] = field(default_factory=dict)
    committed_after_recorded: int = 0
    committed_from_after_to: int = 0
    no_location: int = 0
    located_from_points: int = 0
    outside_area: int = 0
    outside_months: int = 0
    used: int = 0
    flags: list[str] = field(default_factory=list)
    rows_by_month: dict[str, int] = field(default_factory=dict)  # the whole extract, before any row is set aside
    months: list[str] = field(default_factory=list)  # the months used: the run's months the extract covers in full
    partial_months: list[str] = field(default_factory=list)
    in_partial_months: int = 0  # crimes in the area recorded in a partial month (not counted)


def _mapped(settings: ForceExtract) -> dict[str, str]:
    """Field name -> the extract's heading, for every field mapped (flags as flag_<name>)."""
    fields = {k: v for k, v in settings.columns.model_dump().items() if v is not None}
    for name in ("domestic_abuse", "hate_crime", "alcohol", "knife"):
        fields.pop(name, None)
    fields.update({f"flag_{name}": heading for name, heading in settings.flag_columns.items()})
    return fields


def _csv_header(path: Path) -> list[str]:
    from pipeline.inputs.spreadsheets import workbook_kind

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            kind = workbook_kind(handle.read(8))
    except (OSError, EOFError):  # not gzip after all: the text read below says what it is
        kind = None
    if kind:
        raise InputDataError(
            f"{path}: is {kind} with a CSV file's name, not CSV text. Give the workbook its true name "
            "(.xlsx; the extract can be read from an .xlsx workbook directly) in force_extract.path, "
            "or save the sheet again as 'CSV UTF-8' (Excel: File > Save As)."
        )
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise InputDataError(
            f"{path}: the extract is not UTF-8 text. Save it again as 'CSV UTF-8' (Excel: File > Save As), or as .xlsx."
        ) from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(settings: ForceExtract, headings: list[str]) -> tuple[list[str], pa.Table]:
    from openpyxl import load_workbook

    from pipeline.inputs.spreadsheets import xlsx_problem

    problem = xlsx_problem(settings.path)
    if problem:
        raise InputDataError(problem)
    book = load_workbook(settings.path, read_only=True, data_only=True)
    try:
        if settings.sheet is not None and settings.sheet not in book.sheetnames:
            raise InputDataError(
                f"{settings.path}: no sheet named {settings.sheet!r} (force_extract.sheet); the sheets are: "
                f"{', '.join(book.sheetnames)}."
            )
        sheet = book[settings.sheet] if settings.sheet else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_cell_text(v).strip() for v in next(rows, ())]
        wanted = [h for h in headings if h in header]
        positions = [header.index(h) for h in wanted]
        columns: list[list[str]] = [[] for _ in wanted]
        for row in rows:
            if row is None or all(v is None for v in row):
                continue
            for out, pos in zip(columns, positions):
                out.append(_cell_text(row[pos]) if pos < len(row) else "")
    finally:
        book.close()
    return header, pa.table({h: pa.array(c, pa.string()) for h, c in zip(wanted, columns)})


def _read_csv(settings: ForceExtract, headings: list[str]) -> tuple[list[str], pa.Table]:
    header = [h.strip() for h in _csv_header(settings.path)]
    wanted = [h for h in headings if h in header]
    try:
        # Streamed in 4 MB blocks: the reader's buffers stay small beside the columns kept.
        table = pacsv.open_csv(
            settings.path,
            read_options=pacsv.ReadOptions(encoding="utf8", block_size=1 << 22),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={h: pa.string() for h in wanted},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        ).read_all()
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputDataError(
            f"{settings.path}: cannot be read as CSV ({str(exc).splitlines()[0]}). Check it was saved as CSV, "
            "with every row holding as many cells as the heading row."
        ) from None
    return header, table


def read_raw(settings: ForceExtract) -> pa.Table:
    """The mapped columns as text, renamed to field names; missing headings are an error."""
    mapped = _mapped(settings)
    headings = list(dict.fromkeys(mapped.values()))
    is_xlsx = settings.path.suffix.lower() in {".xlsx", ".xlsm", ".xls", ".ods", ".numbers"}
    header, table = (_read_xlsx if is_xlsx else _read_csv)(settings, headings)
    missing = [f"{field} -> {heading!r}" for field, heading in mapped.items() if heading not in header]
    if missing:
        raise InputDataError(
            f"{settings.path}: the column mapping (force_extract.columns / flags) names headings the extract does "
            "not have: "
            + "; ".join(missing)
            + ". Its headings are: "
            + ", ".join(repr(h) for h in header if h)
            + ". Edit the mapping in the params file to match."
        )
    return pa.table({field: table.column(heading) for field, heading in mapped.items()})


def _trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_trim_whitespace(column)


def _shared_strings(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Text as an object array in which equal values share one Python string (blank: None).

    Built from Arrow's dictionary encoding, so a column with few distinct values (LSOA
    codes, map points) costs a pointer a row rather than a string a row.
    """
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    encoded = pc.dictionary_encode(array)
    dictionary = np.asarray([v if v else None for v in encoded.dictionary.to_pylist()] + [None], dtype=object)
    return dictionary[encoded.indices.fill_null(len(dictionary) - 1).to_numpy(zero_copy_only=False)]


def _category(values: pa.ChunkedArray) -> pd.Categorical:
    """Text as a pandas categorical (blank: missing), by Arrow's dictionary encoding."""
    encoded = pc.dictionary_encode(values.combine_chunks())
    distinct = encoded.dictionary.to_pylist()
    return _from_distinct([v if v else None for v in distinct], encoded.indices.to_numpy(zero_copy_only=False))


def _from_distinct(per_distinct: list, index: np.ndarray) -> pd.Categorical:
    """A categorical from one value per distinct input (None: missing) and each row's distinct index."""
    categories = sorted({v for v in per_distinct if v is not None})
    position = {c: i for i, c in enumerate(categories)}
    codes = np.array([position.get(v, -1) for v in per_distinct], dtype=np.int32)
    return pd.Categorical.from_codes(codes[index] if len(codes) else np.full(len(index), -1), categories)


def human_format(fmt: str) -> str:
    """A strftime format as people write it: '%d/%m/%Y %H:%M' -> 'dd/mm/yyyy hh:mm'."""
    for code, text in (("%d", "dd"), ("%m", "mm"), ("%Y", "yyyy"), ("%H", "hh"), ("%M", "mm"), ("%S", "ss")):
        fmt = fmt.replace(code, text)
    return fmt


def parse_times(values: pa.ChunkedArray, formats: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Date-times from text in any of ``formats`` or as Excel serial numbers.

    Returns (datetime64[s] with NaT for blanks and failures, a boolean mask of failures).
    Blank cells are not failures. Each format is tried only on the cells still unparsed.
    """
    text = _trimmed(values).combine_chunks()
    n = len(text)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    blank = pc.equal(text, "").to_numpy(zero_copy_only=False)
    todo = ~blank
    for fmt in formats:
        if not todo.any():
            break
        where = np.flatnonzero(todo)
        subset = text.take(pa.array(where))
        parsed = pc.strptime(subset, format=fmt, unit="s", error_is_null=True)
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        # Arrow rolls impossible dates over (31/02/2020 becomes 2 March), always onto day 1
        # to 3 of the next month: such a cell must read back as written, or, if written
        # without zero padding, pass pandas' strict check.
        if "%d" in fmt and ok.any():
            suspect = np.flatnonzero(ok & (pc.day(parsed).fill_null(99).to_numpy() <= 3))
            if len(suspect):
                text_back = pc.strftime(parsed.take(pa.array(suspect)), format=fmt).to_numpy(zero_copy_only=False)
                written = subset.take(pa.array(suspect)).to_numpy(zero_copy_only=False)
                differs = text_back != written
                if differs.any():
                    strict = pd.to_datetime(pd.Series(written[differs]), format=fmt, errors="coerce")
                    ok[suspect[differs][strict.isna().to_numpy()]] = False
                    parsed = pc.if_else(pa.array(ok), parsed, pa.nulls(len(parsed), parsed.type))
        out[where[ok]] = parsed.filter(parsed.is_valid()).to_numpy(zero_copy_only=False).astype("datetime64[s]")
        todo[where[ok]] = False
    if todo.any():
        where = np.flatnonzero(todo)
        subset = text.take(pa.array(where))
        numeric = pc.match_substring_regex(subset, NUMBER_PATTERN).to_numpy(zero_copy_only=False)
        if numeric.any():
            serial = pc.cast(subset.filter(pa.array(numeric)), pa.float64()).to_numpy()
            plausible = (serial >= 1) & (serial < 109_575)  # 1900 to 2199
            rows = where[numeric][plausible]
            out[rows] = EXCEL_EPOCH + np.round(serial[plausible] * 86_400).astype("timedelta64[s]")
            todo[rows] = False
    return out, todo


def _bad_cells(
    problems: list[str], path: Path, heading: str, bad: np.ndarray, values: pa.ChunkedArray, expected: str
) -> None:
    rows = np.flatnonzero(bad)
    if not len(rows):
        return
    shown = values.take(pa.array(rows[:EXAMPLES_PER_COLUMN])).to_pylist()
    for row, value in zip(rows[:EXAMPLES_PER_COLUMN], shown):
        problems.append(f"{path.name}, row {row + 2}, column {heading!r}: {value!r} is not {expected}")
    if len(rows) > EXAMPLES_PER_COLUMN:
        more = rows[EXAMPLES_PER_COLUMN:]
        listed = ", ".join(str(r + 2) for r in more[:10]) + (", ..." if len(more) > 10 else "")
        problems.append(f"{path.name}, column {heading!r}: {len(more):,} more row(s) like this (rows {listed})")


def _flag(raw: pa.ChunkedArray, settings: ForceExtract, problems: list[str], heading: str) -> np.ndarray:
    text = pc.utf8_upper(_trimmed(raw))
    true = pc.is_in(text, value_set=pa.array(settings.true_values)).to_numpy(zero_copy_only=False)
    false = pc.is_in(text, value_set=pa.array(settings.false_values)).to_numpy(zero_copy_only=False)
    expected = (
        "a flag value (true: "
        + ", ".join(settings.true_values)
        + "; false: "
        + ", ".join(v or "blank" for v in settings.false_values)
        + "); correct the cell, or add the value to force_extract.true_values or false_values"
    )
    _bad_cells(problems, settings.path, heading, ~(true | false), raw, expected)
    return true


def _numbers(raw: pa.ChunkedArray, kind: str, path: Path, heading: str, problems: list[str]) -> np.ndarray:
    text = _trimmed(raw)
    blank = pc.equal(text, "").to_numpy(zero_copy_only=False)
    numeric = pc.match_substring_regex(text, NUMBER_PATTERN).to_numpy(zero_copy_only=False)
    values = np.full(len(text), np.nan)
    if numeric.any():
        values[numeric] = pc.cast(text.filter(pa.array(numeric)), pa.float64()).to_numpy()
    low, high = EXTENTS[kind]
    outside = numeric & ((values < low) | (values > high))
    _bad_cells(problems, path, heading, ~blank & (~numeric | outside), raw, f"a {kind} in the UK ({low:,} to {high:,})")
    values[outside] = np.nan
    return values


def _points_to_lsoas(x: np.ndarray, y: np.ndarray, crs: str, boundaries: list[Path]) -> np.ndarray:
    """The LSOA code holding each point (None outside every polygon)."""
    import geopandas as gpd

    from pipeline.inputs.geography import read_lsoa_boundaries

    polygons = read_lsoa_boundaries(boundaries)
    ok = ~(np.isnan(x) | np.isnan(y))
    out = np.full(len(x), None, dtype=object)
    if not ok.any():
        return out
    points = gpd.GeoDataFrame({"row": np.flatnonzero(ok)}, geometry=gpd.points_from_xy(x[ok], y[ok]), crs=crs)
    joined = gpd.sjoin(
        points.to_crs(polygons.crs), polygons[["lsoa_code", "geometry"]], how="inner", predicate="within"
    )
    joined = joined.drop_duplicates("row")
    out[joined["row"].to_numpy()] = joined["lsoa_code"].to_numpy()
    return out


def read_extract(
    settings: ForceExtract,
    area_lsoas: set[str] | None = None,
    months: list[str] | None = None,
    boundaries: list[Path] | None = None,
) -> tuple[pd.DataFrame, ExtractSummary]:
    """Read, check and classify a force extract.

    ``area_lsoas``: the area's LSOA codes (rows elsewhere are counted as outside the area;
    None keeps every row). ``months``: the months the run uses (``YYYY-MM``; others are
    counted as outside the months). ``boundaries``: LSOA polygons, used only to place rows
    that have coordinates but no LSOA code.

    Returns one row per crime with: crime_reference, raw_code, offence_code, offence,
    ons_group, ons_subgroup, police_uk_category, severity_weight (days, NaN for unknown
    codes), recorded, month, committed_from, committed_to (datetime64, NaT if not given),
    lsoa_code, point (a location key for repeat locations, or None), flag_<name> (bool),
    and victim_age_band, victim_sex, outcome where mapped. Raises ``InputDataError``
    listing every bad cell.
    """
    table = read_raw(settings)
    path = settings.path
    mapped = _mapped(settings)
    n = table.num_rows
    # Columns are let go as soon as they are used, so a big extract's text is not held twice.
    raw = dict(zip(table.column_names, table.columns))
    del table
    pool = pa.default_memory_pool()
    summary = ExtractSummary(file=str(path), name=settings.name, sample=settings.sample, rows_read=n)
    summary.flags = sorted(settings.flag_columns)
    if n == 0:
        raise InputDataError(f"{path}: the extract has a heading row but no crimes.")
    problems: list[str] = []
    # Descriptive text (offence description, outcome, victim fields) becomes small integer
    # codes at once, so its text is not held while the rest is checked.
    described = {name: _category(_trimmed(raw.pop(name))) for name in DESCRIPTIVE if name in raw}
    pool.release_unused()

    reference = _trimmed(raw["crime_reference"]).combine_chunks()
    _bad_cells(
        problems,
        path,
        mapped["crime_reference"],
        pc.equal(reference, "").to_numpy(zero_copy_only=False),
        raw.pop("crime_reference"),
        "a crime reference (it is blank)",
    )

    code_text = _trimmed(raw["offence_code"]).combine_chunks()
    _bad_cells(
        problems,
        path,
        mapped["offence_code"],
        pc.equal(code_text, "").to_numpy(zero_copy_only=False),
        raw.pop("offence_code"),
        "a Home Office offence code (it is blank)",
    )

    recorded, bad = parse_times(raw["recorded"], settings.date_formats)
    expected_date = (
        "a real date in one of the formats "
        + ", ".join(human_format(f) for f in settings.date_formats)
        + " or an Excel serial number; correct the cell, or add its format to force_extract.date_formats"
    )
    _bad_cells(problems, path, mapped["recorded"], bad, raw["recorded"], expected_date)
    _bad_cells(
        problems,
        path,
        mapped["recorded"],
        np.isnat(recorded) & ~bad,
        raw.pop("recorded"),
        "a date (the recorded date is blank)",
    )

    times = {}
    for name in ("committed_from", "committed_to"):
        if name in raw:
            times[name], bad = parse_times(raw[name], settings.date_formats)
            _bad_cells(problems, path, mapped[name], bad, raw.pop(name), expected_date)
        else:
            times[name] = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")

    pool.release_unused()  # Arrow's allocator keeps freed blocks; give them back between steps
    flags = {}
    for name in settings.flag_columns:
        flags[f"flag_{name}"] = _flag(raw.pop(f"flag_{name}"), settings, problems, mapped[f"flag_{name}"])

    lsoa = np.full(n, None, dtype=object)
    if "lsoa_code" in raw:
        text = pc.utf8_upper(_trimmed(raw["lsoa_code"]))
        blank = pc.equal(text, "").to_numpy(zero_copy_only=False)
        valid = pc.match_substring_regex(text, LSOA_PATTERN).to_numpy(zero_copy_only=False)
        _bad_cells(
            problems,
            path,
            mapped["lsoa_code"],
            ~blank & ~valid,
            raw.pop("lsoa_code"),
            "an LSOA code (E01... or W01..., 9 characters)",
        )
        lsoa = _shared_strings(text)
        lsoa[~valid] = None
        del text
    coordinates = {}
    for kind in ("easting", "northing", "latitude", "longitude"):
        if kind in raw:
            coordinates[kind] = _numbers(raw[kind], kind, path, mapped[kind], problems)

    if problems:
        raise InputDataError(
            list_problems(f"{path}: {len(problems)} problem(s) in the force extract:", problems, limit=80)
        )
    pool.release_unused()

    point = np.full(n, None, dtype=object)
    pair = (
        ("easting", "northing")
        if "easting" in coordinates
        else ("latitude", "longitude")
        if "latitude" in coordinates
        else None
    )
    if pair:
        a, b = coordinates[pair[0]], coordinates[pair[1]]
        ok = ~(np.isnan(a) | np.isnan(b))
        # A map point is the coordinates as written: the same point is written the same way.
        point = _shared_strings(
            pc.binary_join_element_wise(_trimmed(raw.pop(pair[0])), _trimmed(raw.pop(pair[1])), ",")
        )
        point[~ok] = None
        unplaced = pd.isna(lsoa) & ok
        if unplaced.any() and boundaries:
            crs = "EPSG:27700" if pair[0] == "easting" else "EPSG:4326"
            x, y = (a, b) if pair[0] == "easting" else (b, a)
            rows = np.flatnonzero(unplaced)
            found = _points_to_lsoas(x[rows], y[rows], crs, boundaries)
            lsoa[rows] = found
            summary.located_from_points = int(pd.notna(found).sum())

    coordinates.clear()
    month_numbers = recorded.astype("datetime64[M]")
    labels, inverse = np.unique(month_numbers, return_inverse=True)
    month = np.asarray(np.datetime_as_string(labels, unit="M"), dtype=object)[inverse]
    summary.rows_by_month = {
        str(m): int(c) for m, c in zip(np.datetime_as_string(labels, unit="M"), np.bincount(inverse))
    }

    # Which rows are kept, every reason counted; the frame is built once, from them only.
    references = pc.dictionary_encode(reference).indices.to_numpy(zero_copy_only=False)
    duplicated = np.ones(n, dtype=bool)
    duplicated[np.unique(references, return_index=True)[1]] = False  # the first row of each reference
    del references
    summary.duplicate_references = int(duplicated.sum())
    summary.duplicate_examples = reference.filter(pa.array(duplicated)).slice(0, 5).to_pylist()
    keep = ~duplicated
    # A committed time after the crime was recorded, or a range that ends before it starts,
    # cannot be placed in time: it is left out of the time chart (and counted).
    after = keep & (times["committed_from"] > recorded)
    reversed_range = keep & (times["committed_to"] < times["committed_from"])
    summary.committed_after_recorded = int(after.sum())
    summary.committed_from_after_to = int(reversed_range.sum())
    for name in ("committed_from", "committed_to"):
        times[name][after | reversed_range] = np.datetime64("NaT")
    located = pd.notna(lsoa)
    summary.no_location = int((keep & ~located).sum())
    if area_lsoas is not None:
        inside = located & pd.Series(lsoa).isin(area_lsoas).to_numpy()
        summary.outside_area = int((keep & located & ~inside).sum())
        keep &= inside
    if months is not None:
        within = pd.Series(month).isin(months).to_numpy()
        summary.outside_months = int((keep & ~within).sum())
        keep &= within
    rows = np.flatnonzero(keep)
    pool.release_unused()

    columns = {
        # Arrow-backed text: a million references cost megabytes, not a Python object each.
        "crime_reference": pd.arrays.ArrowExtensionArray(reference.take(pa.array(rows))),
        "recorded": recorded[rows],
        "month": month[rows],
        "committed_from": times["committed_from"][rows],
        "committed_to": times["committed_to"][rows],
        "lsoa_code": lsoa[rows],
        "point": point[rows],
        **{name: values[rows] for name, values in flags.items()},
    }
    del recorded, month, times, lsoa, point, flags
    columns.update({name: values[rows] for name, values in described.items()})

    code_map = read_code_map(settings.code_map) if settings.code_map else None
    encoded = pc.dictionary_encode(code_text)
    distinct = encoded.dictionary.to_pylist()
    index = encoded.indices.to_numpy(zero_copy_only=False)
    resolved = resolve_codes(distinct, code_map)
    unknown = [i for i, code in enumerate(resolved) if code is None]
    if unknown:
        rows_per_code = np.bincount(index[~duplicated], minlength=len(distinct))
        summary.unknown_codes = {
            distinct[i]: int(rows_per_code[i])
            for i in sorted(unknown, key=lambda i: -rows_per_code[i])
            if rows_per_code[i]
        }
    index = index[rows]
    lookup = offence_codes()
    columns["raw_code"] = pd.Categorical.from_codes(index, distinct)
    columns["offence_code"] = _from_distinct(resolved, index)
    for column in ("offence", "ons_group", "ons_subgroup", "police_uk_category"):
        columns[column] = _from_distinct([lookup.at[c, column] if c else None for c in resolved], index)
    columns["severity_weight"] = np.array(
        [lookup.at[c, "severity_weight"] if c else np.nan for c in resolved], dtype=float
    )[index]
    # One frame built once: adding columns one by one would copy the others each time.
    frame = pd.DataFrame(columns, copy=False)
    del columns
    summary.used = len(frame)
    del raw, reference, code_text
    pool.release_unused()
    log.info("force extract %s: %s rows read, %s used", path, f"{n:,}", f"{len(frame):,}")
    return frame, summary


def area_lsoas(area: AreaDefinition, police_lsoas: set[str]) -> set[str]:
    """The LSOA codes that make up an area: its lookup's codes when it is defined by one,
    otherwise ``police_lsoas``, every LSOA the police.uk data places in it."""
    if area.lsoa_lookup is not None:
        from pipeline.inputs.police_scan import read_lsoa_lookup

        return {code for code, name in read_lsoa_lookup(area.lsoa_lookup).items() if name == area.name}
    if area.official_lsoas:
        return set(area.official_lsoas)
    return set(police_lsoas)


def read_area_extract(
    settings: ForceExtract,
    area: AreaDefinition,
    police_lsoas: set[str],
    period_end: str,
    trend_years: int,
    partial_month_threshold: float,
    boundaries: list[Path] | None = None,
) -> tuple[pd.DataFrame, ExtractSummary]:
    """The extract's crimes in ``area`` over the run's months that it covers in full.

    The run's months are those of the trends (``trend_years`` before the window ending
    ``period_end``). A month the extract holds only part of is left out and its crimes are
    counted (``summary.in_partial_months``); ``summary.months`` lists the months used.
    """
    from pipeline.months import history_start, month_range

    run_months = month_range(history_start(period_end, trend_years), period_end)
    crimes, summary = read_extract(settings, area_lsoas(area, police_lsoas), run_months, boundaries)
    covered, partial = covered_months(summary, partial_month_threshold)
    summary.months = [m for m in run_months if m in set(covered)]
    summary.partial_months = [m for m in run_months if m in set(partial)]
    used = crimes["month"].isin(summary.months).to_numpy()
    summary.in_partial_months = int((~used).sum())
    summary.used = int(used.sum())
    return crimes[used].reset_index(drop=True), summary


def covered_months(summary: ExtractSummary, threshold: float) -> tuple[list[str], list[str]]:
    """The months the extract covers, and the months it holds only part of.

    A month is covered when the extract has rows recorded in it. A month with fewer rows
    than ``threshold`` times the median month (an extract cut part way through a month,
    for example) is partial: it is treated as missing, as partial police.uk months are.
    """
    counts = pd.Series(summary.rows_by_month, dtype=float)
    if counts.empty:
        return [], []
    partial = sorted(counts[counts < threshold * counts.median()].index)
    return sorted(m for m in counts.index if m not in partial), partial


def quality_facts(summary: ExtractSummary, area: str) -> list[str]:
    """Data-quality sentences about the extract, each naming its count (and the months used)."""
    from pipeline.months import describe_months, month_label

    used = describe_months(summary.months) if summary.months else "no month"
    facts = [
        f"{summary.name}{' (synthetic sample)' if summary.sample else ''}: {summary.rows_read:,} rows read from "
        f"{Path(summary.file).name}; {summary.used:,} crimes in {area} in the months used, {used}."
    ]
    if summary.duplicate_references:
        facts.append(
            f"{summary.duplicate_references:,} row(s) repeated a crime reference already seen (for example "
            f"{', '.join(summary.duplicate_examples[:3])}); each crime is counted once."
        )
    if summary.unknown_codes:
        listed = ", ".join(f"{code!r} ({count:,})" for code, count in list(summary.unknown_codes.items())[:10])
        facts.append(
            f"{sum(summary.unknown_codes.values()):,} crime(s) have an offence code not in the Home Office lookup: "
            f"{listed}. "
            "They count in totals but in no threat and carry no severity weight; map them with force_extract.code_map."
        )
    if summary.in_partial_months:
        partial = ", ".join(month_label(m) for m in summary.partial_months)
        facts.append(
            f"{summary.in_partial_months:,} crime(s) in {area} were recorded in {partial}, which the extract holds "
            "only part of; those months are left out, not counted short."
        )
    counted = (
        (
            summary.committed_after_recorded,
            "crime(s) have a committed date after the date they were recorded; they are left out of the time charts.",
        ),
        (
            summary.committed_from_after_to,
            "crime(s) have a committed-to date before the committed-from date; they are left out of the time charts.",
        ),
        (
            summary.located_from_points,
            "crime(s) with coordinates but no LSOA code were placed in an LSOA from the LSOA boundaries.",
        ),
        (
            summary.no_location,
            f"row(s) have no usable location, so cannot be placed in {area} or any other area; they are not counted.",
        ),
        (summary.outside_area, f"row(s) are in LSOAs outside {area}; they are not counted."),
        (
            summary.outside_months,
            f"row(s) in {area} were recorded outside the months this assessment looks at; they are not counted.",
        ),
    )
    facts.extend(f"{count:,} {text}" for count, text in counted if count)
    return facts
