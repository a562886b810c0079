"""A check that no suppressed cell of a published table can be worked back out.

An attacker holds every published table. A cell shown as ``*`` (a count from 1 to the
threshold) is *recoverable* when:

- **subtraction**: it is the one unknown in a line whose total is known: a row with a
  ``Total`` column, a column with a ``Total`` (or ``All ...``) row, or a column whose rows
  split a total published elsewhere (every ward, decile or LSOA of the area; every outcome
  or victim of a threat). Cells worked out this way become known in turn, so the check
  repeats until nothing more can be worked out (as an attacker would);
- **a derived figure**: a share, rate or change in the same row is shown although it was
  computed from the suppressed count.

``check_run`` applies it to every CSV table of a published run, knowing which tables split
a published total (``COMPLETE``); ``recoverable_cells`` to one table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.analysis.hotspots import SUPPRESSED

# Derived columns: a visible one beside a suppressed count in its row reveals the count.
DERIVED = re.compile(r"share|rate|per 1,000|per lsoa|% ?change|change \(%\)|change in", re.I)
TOTAL_LABEL = re.compile(r"^(total|all\b)", re.I)


def _number(value: object) -> float | None:
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def _count_columns(table: pd.DataFrame) -> list[str]:
    """Columns of whole numbers and ``*`` only that hold a ``*``, and a whole-number ``Total``
    column beside them (a total of the others, suppressed or not)."""
    columns = []
    for column in table.columns:
        cells = table[column].astype(str)
        numbers = [_number(v) for v in cells if v != SUPPRESSED]
        whole = all(n is not None and float(n).is_integer() for n in numbers)
        named_total = str(column).strip().lower() == "total"
        if whole and ((cells == SUPPRESSED).any() or named_total) and not DERIVED.search(str(column)):
            columns.append(column)
    return columns if any((table[c].astype(str) == SUPPRESSED).any() for c in columns) else []


SUBJECTS = re.compile(r"\b(asb|crimes?|count|victims?)\b", re.I)


def _derived_from(derived: str, count: str, counts: list[str]) -> bool:
    """Whether a derived column (a share, rate or change) is worked out from ``count``: they name
    the same subject (crimes, ASB), or the table has one count column and the derived column names
    no other subject (a share of LSOAs is not a share of crime)."""
    subject = {w.lower().rstrip("s") for w in SUBJECTS.findall(str(derived))}
    if subject:
        return bool(subject & {w.lower().rstrip("s") for w in SUBJECTS.findall(str(count))})
    return len(counts) == 1 and "lsoa" not in str(derived).lower()


def recoverable_cells(table: pd.DataFrame, splits_published_total: bool = False, threshold: int = 5) -> list[str]:
    """Every suppressed cell of ``table`` (as published: text, ``*`` for suppressed) that can
    be worked out, each as "row N, column: how", and every count from 1 to ``threshold``
    shown in a suppressed table's count columns (totals included). ``splits_published_total``:
    the rows split a total published elsewhere, so each count column's sum is known."""
    table = table.reset_index(drop=True).astype(object)
    counts = _count_columns(table)
    if not counts:
        return []
    small = [
        f"row {i + 1}, {c}: a count of {table.at[i, c]} is shown"
        for c in counts
        for i in table.index
        if table.at[i, c] != SUPPRESSED and 1 <= (_number(table.at[i, c]) or 0) <= threshold
    ]
    label = table.columns[0]
    total_rows = [i for i in table.index if TOTAL_LABEL.match(str(table.at[i, label]))]
    total_column = next((c for c in counts if str(c).strip().lower() == "total"), None)
    body = [i for i in table.index if i not in total_rows]
    known = {(i, c): table.at[i, c] != SUPPRESSED for i in table.index for c in counts}
    found: list[str] = []
    # Lines whose total an attacker knows: (cells, the total cell or None when published elsewhere).
    lines: list[tuple[list[tuple[int, str]], tuple[int, str] | None]] = []
    parts = [c for c in counts if c != total_column]
    if total_column:
        lines += [([(i, c) for c in parts], (i, total_column)) for i in table.index]
    for c in counts:
        if total_rows:
            lines.append(([(i, c) for i in body], (total_rows[0], c)))
        elif splits_published_total:
            lines.append(([(i, c) for i in body], None))
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            unknown = [cell for cell in cells if not known[cell]]
            if len(unknown) == 1 and (total is None or known[total]):
                row, column = unknown[0]
                how = (
                    "the column's published total"
                    if total is None
                    else f"its {'row' if total[0] == row else 'column'} total"
                )
                found.append(f"row {row + 1}, {column}: by subtraction from {how}")
                known[unknown[0]] = True
                changed = True
            elif total is not None and not known[total] and not unknown:
                known[total] = True  # a total of known cells is known
                changed = True
    derived = [c for c in table.columns if DERIVED.search(str(c)) and c not in counts]
    for i in table.index:
        for count in [c for c in counts if table.at[i, c] == SUPPRESSED]:
            shown = [
                c
                for c in derived
                if _derived_from(c, count, counts)
                and table.at[i, c] not in (SUPPRESSED, "", None)
                and not pd.isna(table.at[i, c])
            ]
            if shown:
                found.append(f"row {i + 1}, {count}: from {shown[0]} ({table.at[i, shown[0]]}) in the same row")
    return small + found


# Tables whose rows split a total published elsewhere: name pattern -> how many rows a complete
# listing has at most (None: always complete). The area's crime and ASB counts are in the crime table;
# a threat's crimes in the threats overview.
COMPLETE = {
    r"^wards$": None,
    r"^deprivation-deciles$": None,
    r"^hotspots-lsoas-(crime|asb)$": 9,  # the top 10 lists every LSOA when fewer rows are shown
    r"^threat-.*-outcomes$": None,
    r"^threat-.*-victims$": None,
    r"^threat-.*-lsoas$": 4,  # the top 5
}


def check_run(folder: Path, threshold: int = 5) -> list[str]:
    """Every recoverable suppressed cell, and every small count shown beside suppressed ones, in
    the published run's CSV tables (``folder/tables``); ``threshold``: the run's suppression
    threshold."""
    problems = []
    for path in sorted((Path(folder) / "tables").glob("*.csv")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if path.stem == "hotspots-by-type":
            # Each type's top 3 lists all its LSOAs when it has fewer rows; its total is in the crime table.
            groups = [(g.reset_index(drop=True), len(g) < 3) for _, g in table.groupby("Crime type", sort=False)]
        else:
            limit = next((v for k, v in COMPLETE.items() if re.match(k, path.stem)), "no")
            complete = limit is None or (limit != "no" and len(table) <= limit)
            groups = [(table, complete)]
        for group, complete in groups:
            problems += [f"{path.name}: {p}" for p in recoverable_cells(group, complete, threshold)]
    return problems
