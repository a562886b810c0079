"""Tables in the published documents: accessible HTML tables, and every table shown also
written as CSV (text a spreadsheet would run as a formula neutralised, symbols as words).

Text is escaped, so values from input files cannot inject markup."""

from __future__ import annotations

import html
import logging
import os
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.safe_text import neutralise_formula

log = logging.getLogger(__name__)


# Symbols the HTML uses beside a word: spreadsheets may garble them, so CSVs keep the word only.
# (The action statuses' too: ○ ● ▲ ↻.)
_VERDICT_SYMBOL = re.compile("^[\u2713\u2717\u2248?\u2013\u25cb\u25cf\u25b2\u21bb] ")
_CSV_CHARACTERS = str.maketrans(
    {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2248": "about ", "\u2713": "yes", "\u2717": "no"}
)


def csv_text(value: Any) -> Any:
    """A text cell as a CSV holds it: symbols written as words, formulas neutralised."""
    if isinstance(value, str):
        value = _VERDICT_SYMBOL.sub("", value).translate(_CSV_CHARACTERS)
    return neutralise_formula(value)


def _whole_numbers_as_integers(column: pd.Series) -> pd.Series:
    """A float column whose values are all whole numbers (counts with a gap) written without '.0'."""
    if column.dtype.kind == "f" and column.notna().any() and (column.dropna() % 1 == 0).all():
        return column.astype("Int64")
    return column


def _csv_column(column: pd.Series) -> list[Any] | None:
    """A column's cells as ``write_csv`` writes them, as pandas' ``to_csv`` would write them
    (blank for missing, floats as numpy prints them, anything else as ``str`` gives it); None
    for a kind of column this does not handle (dates, categories), which pandas then writes."""
    if column.dtype == object:
        values = np.array([csv_text(v) for v in column.tolist()], dtype=object)
    else:
        column = _whole_numbers_as_integers(column)
        kind = column.dtype.kind
        if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and kind in "iub":  # Int64 and friends
            values = np.asarray(column.array.astype(object))
        elif isinstance(column.dtype, np.dtype) and kind == "f":
            values = column.to_numpy().astype(str).astype(object)  # as pandas does: numpy's shortest form
        elif isinstance(column.dtype, np.dtype) and kind in "iub":
            values = np.array(column.to_numpy(), dtype=object)
        else:
            return None
    values[pd.isna(column.to_numpy()) if column.dtype != object else pd.isna(values)] = ""
    return values.tolist()


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV (with BOM, so Excel reads £ and accents): symbols as words,
    counts as integers, formulas neutralised in cells and headers.

    Written with the csv module, cell for cell what pandas' ``to_csv`` writes (a test
    compares them): for the report's 60-odd small tables pandas' column-by-column work took
    some 0.4 s a run."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [_csv_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if columns and all(c is not None for c in columns):
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator=os.linesep)
            # Headers can come from inputs too (a crime type becomes a column of the monthly table).
            writer.writerow([csv_text(str(c)) for c in frame.columns])
            writer.writerows(zip(*columns))
        return path
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(csv_text)
        else:
            safe[column] = _whole_numbers_as_integers(safe[column])
    # Headers can come from inputs too (a crime type becomes a column of the monthly table).
    safe.columns = [csv_text(str(c)) for c in safe.columns]
    safe.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _cell(value: Any, formatter: Callable[[Any], str] | None) -> tuple[str, bool]:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "", numeric
    text = formatter(value) if formatter else (f"{value:,}" if isinstance(value, int) else str(value))
    return html.escape(text), numeric


# A table whose columns need more than this many characters side by side goes on a
# landscape page in print. A4 portrait holds about 130 characters of 8 pt table text side by
# side; the estimate counts long cells at 40 characters though they wrap, hence the margin.
WIDE_TABLE_CHARACTERS = 155
# A table needing no more than this many characters fits a 320-375 px phone without scrolling.
PHONE_TABLE_CHARACTERS = 40


def estimated_width(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]] | None = None) -> int:
    """The characters a table needs side by side: per column, the longer of its longest cell and
    its header (headers wrap, so counted up to 16 characters), plus 2 for padding."""
    formats = formats or {}
    total = 0
    for column in frame.columns:
        cells = [_cell(v, formats.get(column))[0] for v in frame[column]]
        longest = max((len(html.unescape(c)) for c in cells), default=0)
        total += max(min(len(str(column)), 16), min(longest, 40)) + 2
    return total


def _grouped_head(columns: list[Any]) -> str:
    """Two header rows for columns named "Group: name": each run of one group's columns under
    a single group header; a column with no group spans both rows."""
    top, bottom = [], []
    i = 0
    while i < len(columns):
        group, _, name = str(columns[i]).partition(": ")
        if not name:
            top.append(f'<th scope="col" rowspan="2">{html.escape(group)}</th>')
            i += 1
            continue
        span = 1
        while i + span < len(columns) and str(columns[i + span]).partition(": ")[0] == group:
            span += 1
        top.append(f'<th scope="colgroup" colspan="{span}">{html.escape(group)}</th>')
        for column in columns[i : i + span]:
            bottom.append(f'<th scope="col">{html.escape(str(column).partition(": ")[2])}</th>')
        i += span
    return f"<tr>{''.join(top)}</tr><tr>{''.join(bottom)}</tr>"


def table_html(
    frame: pd.DataFrame,
    caption: str,
    formats: dict[str, Callable[[Any], str]] | None = None,
    row_headers: bool = True,
    note: str | None = None,
    grouped: bool = False,
) -> str:
    """An accessible HTML table: caption, ``<th scope="col">`` headers, the first column as row headers.

    Text is escaped, so values from input files cannot inject markup. Numbers are right
    aligned; ``formats`` maps column names to functions giving each cell's text. With
    ``grouped``, headers written "Group: name" are shown in two rows, each group once over
    its columns (``scope="colgroup"``), so a table of many factors fits the page.
    """
    formats = dict(formats or {})
    for column in frame.columns:
        # A year is a label, not a quantity: 2020, never "2,020".
        if str(column).lower().endswith("year") and column not in formats:
            formats[column] = lambda v: str(v)
    head = (
        _grouped_head(list(frame.columns))
        if grouped
        else "<tr>" + "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns) + "</tr>"
    )
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for i, (column, value) in enumerate(zip(frame.columns, record)):
            text, numeric = _cell(value, formats.get(column))
            css = ' class="num"' if numeric else ""
            if i == 0 and row_headers:
                cells.append(f'<th scope="row"{css}>{text}</th>')
            else:
                cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # A wide table scrolls inside its own focusable region rather than the whole page, and is
    # printed on a landscape page.
    shown_names = {c: str(c).split(": ", 1)[-1] for c in frame.columns} if grouped else {}
    width = estimated_width(frame.rename(columns=shown_names), {shown_names.get(k, k): f for k, f in formats.items()})
    wide = " wide" if width > WIDE_TABLE_CHARACTERS else ""
    # Only a table that can scroll (on a phone, or wider than the page) is a keyboard stop;
    # one that fits a phone's width never scrolls and needs no focus. No script can tell at
    # reading time, so the table's own width decides.
    region = (
        f' role="region" tabindex="0" aria-label="{html.escape(caption, quote=True)}"'
        if width > PHONE_TABLE_CHARACTERS
        else ""
    )
    table = (
        f'<div class="table-wrap{wide}"{region}>'
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    if note:
        table += f'<p class="table-note">{html.escape(note)}</p>'
    return table


class ReportTables:
    """Shows tables in a report notebook and writes each one as CSV under ``tables/``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.folder = Path(run_dir) / "tables"
        self.names: list[str] = []

    def show(
        self,
        frame: pd.DataFrame,
        name: str,
        caption: str,
        formats: dict[str, Callable[[Any], str]] | None = None,
        note: str | None = None,
        row_headers: bool = True,
        display_columns: list[str] | None = None,
        headers: dict[str, str] | None = None,
        grouped: bool = False,
    ) -> Any:
        """Write ``tables/<name>.csv`` and return the table for display in the notebook.

        ``display_columns`` shows only some columns on the page (the CSV has them all);
        the caption then says the CSV holds the rest. ``headers`` gives columns a short
        header on the page (the CSV keeps the full one, which names its months): the caption
        must then state the windows the short headers leave out. ``grouped``: see ``table_html``.
        """
        from IPython.display import HTML

        if name in self.names:
            raise ValueError(f"table name {name!r} is used twice in this report")
        self.names.append(name)
        write_csv(frame, self.folder / f"{name}.csv")
        shown = frame if display_columns is None else frame[display_columns]
        if headers:
            shown = shown.rename(columns=headers)
            formats = {headers.get(column, column): f for column, f in (formats or {}).items()}
        if display_columns is not None:
            extra = "All columns are in the CSV file tables/" + name + ".csv."
            note = f"{note} {extra}" if note else extra
        return HTML(table_html(shown, caption, formats, row_headers, note, grouped))


def tag_cells(table: Any, classes: dict[str, str]) -> Any:
    """A shown table (``ReportTables.show``'s result) with each cell whose whole text is a key
    of ``classes`` wrapped in a span of that CSS class: a status shown by colour as well as by
    its symbol and word, never by colour alone."""
    from IPython.display import HTML

    markup = table.data
    for text, css in classes.items():
        cell = html.escape(text)
        markup = markup.replace(f">{cell}</td>", f'><span class="{css}">{cell}</span></td>')
    return HTML(markup)
