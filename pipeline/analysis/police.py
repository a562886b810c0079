"""Police stage: the tidy crime table for a partnership's areas, its month coverage and the
files the stage writes for the later stages.

Reading and checking the police.uk files is ``pipeline.inputs.police_scan`` (pyarrow alone),
and reading them once per set of files and areas is ``pipeline.inputs.police_reads``; the
names most stages use from them are available here too. See those modules for the rules on
how the police data is treated.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.errors import InputDataError
from pipeline.inputs.police_reads import TEXT, crimes_frame, kept_crimes, read_police_data, write_crimes
from pipeline.inputs.police_scan import ALL_CRIME_EXCL_ASB, ASB, ScanSummary
from pipeline.months import month_range

# The crime-type names and the summary are used by every stage with the crime table.
__all__ = [
    "ALL_CRIME_EXCL_ASB",
    "ASB",
    "ScanSummary",
    "TEXT",
    "count_crimes",
    "coverage_for_areas",
    "crimes_frame",
    "kept_crimes",
    "month_coverage",
    "read_later_coverage",
    "read_police_data",
    "read_counts",
    "read_crimes",
    "read_processed",
    "usable_months",
    "write_crimes",
    "write_processed",
]

COUNT_KEYS = ["area", "month", "crime_type"]


def count_crimes(crimes: pd.DataFrame | Path) -> pd.DataFrame:
    """Crimes and ASB incidents per area, month and crime type: columns area, month,
    crime_type (text) and count (rows of the tidy table), sorted by the first three; only
    combinations with at least one row.

    ``crimes``: the tidy crimes, or a file ``write_crimes`` wrote, of which only the three
    columns are read. Counted by Arrow: a force's half a million rows take some 0.01 s, where
    every partnership's report grouping them in pandas took 0.4 s (``monthly_counts`` and
    ``window_rates`` give the same from the counts as from the rows)."""
    import pyarrow.parquet as pq

    if isinstance(crimes, Path):
        table = pq.read_table(crimes, columns=COUNT_KEYS, read_dictionary=COUNT_KEYS)
    else:
        table = pa.Table.from_pandas(crimes[COUNT_KEYS], preserve_index=False)
    counted = table.group_by(COUNT_KEYS).aggregate([([], "count_all")]).rename_columns([*COUNT_KEYS, "count"])
    frame = counted.cast(
        pa.schema([pa.field(k, pa.string()) for k in COUNT_KEYS] + [pa.field("count", pa.int64())])
    ).to_pandas()
    return frame.sort_values(COUNT_KEYS, ignore_index=True)


def rows_by_month(crimes: pd.DataFrame, area: str) -> pd.Series:
    """One area's rows per month (months with none left out), from the tidy rows or from
    their ``count_crimes`` (a ``count`` column)."""
    # Only the columns counted are taken: the input check passes the whole frame of a
    # force's rows, and taking every column of an area's rows cost it 0.2 s an area.
    if "count" in crimes.columns:
        return crimes.loc[crimes["area"] == area, ["month", "count"]].groupby("month")["count"].sum()
    return crimes.loc[crimes["area"] == area, "month"].value_counts()


def month_coverage(
    crimes: pd.DataFrame, area: str, first: str, last: str, months_in_input: list[str], threshold: float = 0.5
) -> pd.DataFrame:
    """Which months from ``first`` to ``last`` an area has usable data for.

    Each month is ``present``, ``missing`` (no rows for the area: no file for the
    month, or the area absent from it) or ``partial`` (fewer rows than ``threshold``
    times the median of the present months within three months either side).
    Missing and partial months are left out of every count and comparison: a missing
    month is never a zero. ``crimes``: the tidy rows, or their ``count_crimes``.
    Columns: month, rows, status, note.
    """
    counts = rows_by_month(crimes, area)
    in_input = set(months_in_input)
    records = []
    months = month_range(first, last)
    rows = [int(counts.get(m, 0)) for m in months]
    for i, month in enumerate(months):
        if rows[i] == 0:
            note = "no rows for the area" if month in in_input else "no data for this month in the inputs"
            records.append((month, 0, "missing", note))
            continue
        neighbours = [rows[j] for j in range(max(0, i - 3), min(len(months), i + 4)) if j != i and rows[j] > 0]
        median = float(np.median(neighbours)) if neighbours else float("nan")
        if neighbours and rows[i] < threshold * median:
            note = f"{rows[i]:,} rows against a median of {median:,.0f} in the months around it"
            records.append((month, rows[i], "partial", note))
        else:
            records.append((month, rows[i], "present", ""))
    return pd.DataFrame(records, columns=["month", "rows", "status", "note"])


def usable_months(coverage: pd.DataFrame, area: str | None = None) -> list[str]:
    """The months with usable (``present``) data in a :func:`month_coverage` table, in order.

    Give ``area`` when the table holds several areas (it then has an ``area`` column).
    Missing and partial months are not usable: they are left out, never counted as zero.
    """
    rows = coverage if area is None else coverage[coverage["area"] == area]
    return list(rows.loc[rows["status"] == "present", "month"])


def write_processed(
    crimes: pd.DataFrame | Path,
    coverage: pd.DataFrame,
    summary: ScanSummary,
    folder: Path,
    later: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
) -> None:
    """Write the police stage's outputs: crimes.parquet, counts.parquet (``count_crimes``),
    coverage.parquet, summary.json and, when the data runs past the window,
    coverage_later.parquet (the months after it, for the back-test).
    ``crimes``: the tidy crimes (``write_crimes``), or a file ``write_crimes`` wrote
    (``kept_crimes``), copied. ``counts``: their ``count_crimes``, if already made."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(crimes, Path):
        shutil.copyfile(crimes, folder / "crimes.parquet")
    else:
        write_crimes(crimes, folder / "crimes.parquet")
    (counts if counts is not None else count_crimes(crimes)).to_parquet(folder / "counts.parquet", index=False)
    coverage.to_parquet(folder / "coverage.parquet", index=False)
    (folder / "summary.json").write_text(json.dumps(asdict(summary), indent=2), encoding="utf-8")
    later_path = folder / "coverage_later.parquet"
    if later is not None and len(later):
        later.to_parquet(later_path, index=False)
    elif later_path.exists():
        later_path.unlink()  # a stale file from an earlier run with a different window


def read_processed(
    folder: Path, columns: list[str] | None = None, areas: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, ScanSummary]:
    """Read what ``write_processed`` wrote (the later-months coverage: see ``read_later_coverage``);
    of the crimes, only ``columns`` if given (a force's half a million rows as Python
    strings take some 0.1 s a column), and only the rows of ``areas`` if given (in the
    order written, numbered from 0)."""
    summary = _processed_summary(folder)
    return read_crimes(folder, columns, areas), pd.read_parquet(folder / "coverage.parquet"), summary


def read_counts(folder: Path, areas: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, ScanSummary]:
    """Like ``read_processed``, with the crimes' ``count_crimes`` (of ``areas`` only, if given)
    in place of their rows: all a stage needs that counts by area, month and crime type."""
    summary = _processed_summary(folder)
    filters = [("area", "in", list(areas))] if areas is not None else None
    return (
        pd.read_parquet(folder / "counts.parquet", filters=filters),
        pd.read_parquet(folder / "coverage.parquet"),
        summary,
    )


def _processed_summary(folder: Path) -> ScanSummary:
    """The police stage's summary, once every file it writes is found in ``folder``."""
    missing = [
        n
        for n in ("crimes.parquet", "counts.parquet", "coverage.parquet", "summary.json")
        if not (folder / n).is_file()
    ]
    if missing:
        raise InputDataError(f"{folder}: the police stage's outputs are missing ({', '.join(missing)}); run it first.")
    return ScanSummary(**json.loads((folder / "summary.json").read_text(encoding="utf-8")))


def read_crimes(folder: Path, columns: list[str] | None = None, areas: list[str] | None = None) -> pd.DataFrame:
    """The police stage's crimes (``read_processed``): only ``columns`` and the rows of ``areas``,
    if given. Every area's run holds its comparators' rows too (a force's partnerships, each
    compared with all the others); a stage that looks at its own area's rows reads only
    those, so its reading does not grow with the number of comparators."""
    filters = [("area", "in", list(areas))] if areas is not None else None
    return pd.read_parquet(folder / "crimes.parquet", columns=columns, filters=filters)


def read_later_coverage(folder: Path) -> pd.DataFrame:
    """Coverage of the months after the assessment window (empty when the data ends with the window)."""
    path = folder / "coverage_later.parquet"
    if not path.is_file():
        return pd.DataFrame(columns=["area", "month", "rows", "status", "note"])
    return pd.read_parquet(path)


def coverage_for_areas(
    crimes: pd.DataFrame, areas: list[str], first: str, last: str, months_in_input: list[str], threshold: float = 0.5
) -> pd.DataFrame:
    """``month_coverage`` for several areas, stacked, with an ``area`` column first."""
    frames = [month_coverage(crimes, area, first, last, months_in_input, threshold).assign(area=area) for area in areas]
    stacked = pd.concat(frames, ignore_index=True)
    return stacked[["area", "month", "rows", "status", "note"]]
