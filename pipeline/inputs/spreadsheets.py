"""Opening the spreadsheets partners send, with messages a non-programmer can act on.

Partners save scoring sheets and registers from Excel, LibreOffice or Google Sheets; a
file in another format, or renamed, must get a message that says how to save it as
``.xlsx``, not a library's exception.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError

OTHER_FORMATS = {
    ".xls": "an Excel 97-2003 workbook (.xls)",
    ".ods": "an OpenDocument spreadsheet (.ods, from LibreOffice or OpenOffice)",
    ".numbers": "an Apple Numbers file",
    ".csv": "a CSV file",
    ".xlsm": "a macro-enabled workbook (.xlsm)",
}
SAVE_AS = (
    "Open it in Excel and choose File > Save As > 'Excel Workbook (*.xlsx)' (in LibreOffice: File > Save As, "
    "file type 'Excel 2007-365 (.xlsx)'), then list the .xlsx file in the params file."
)


def workbook_kind(start: bytes) -> str | None:
    """What kind of workbook a file is from its first bytes, or None if it is not one.

    ``PK\\x03\\x04`` opens a zip container (xlsx, xlsm, ods, numbers); ``D0 CF 11 E0`` an OLE2
    compound file (Excel 97-2003 .xls). A CSV file starts with neither."""
    if start.startswith(b"PK\x03\x04"):
        return "a spreadsheet workbook (an Excel .xlsx or similar, which is a zip container)"
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        return "an Excel 97-2003 workbook (.xls)"
    return None


def xlsx_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an xlsx workbook, in plain words, or None if it can be opened."""
    suffix = path.suffix.lower()
    if suffix != ".xlsx":
        kind = OTHER_FORMATS.get(suffix, f"a {suffix or 'file without an extension'} file")
        return f"{path}: is {kind}; an .xlsx workbook is needed. {SAVE_AS}"
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            start = handle.read(8)
        if start.startswith(b"\xd0\xcf\x11\xe0"):
            kind = "an Excel 97-2003 (.xls) workbook renamed to .xlsx"
        else:
            kind = "not an Excel workbook although its name ends .xlsx (perhaps a CSV or another file renamed)"
        return f"{path}: is {kind}. {SAVE_AS}"
    return None


def open_workbook(path: Path, formulas: bool = False) -> Any:
    """Open an xlsx workbook with openpyxl; raise ``InputDataError`` with a how-to-fix message.

    ``formulas=True`` returns formulas as their text (``=SUM(A1:A3)``) instead of the value
    Excel last calculated, so a formula where a typed value belongs can be reported.
    """
    from openpyxl import load_workbook

    problem = xlsx_problem(path)
    if problem:
        raise InputDataError(problem)
    try:
        return load_workbook(path, data_only=not formulas)
    except Exception:  # openpyxl raises several types for a damaged workbook
        raise InputDataError(f"{path}: the workbook is damaged or not a real .xlsx file. {SAVE_AS}") from None


def is_formula(value: Any) -> bool:
    """True for a cell value that is a formula (as read with ``formulas=True``)."""
    return isinstance(value, str) and value.startswith("=")
