"""Every published table in one xlsx workbook, for analysts who work in Excel."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)


def tables_workbook(folder: Path, path: Path) -> Path | None:
    """Every CSV table of a run in one xlsx workbook: a sheet per table, header row frozen and filtered.

    For analysts who work in Excel. The values are the CSVs' (symbols already written as
    words, text that a spreadsheet would run already neutralised). None if there are no tables.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    tables = sorted(folder.glob("*.csv"))
    if not tables:
        return None
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for csv_path in tables:
        frame = pd.read_csv(csv_path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        name, n = csv_path.stem[:31], 2
        while name.lower() in used:  # Excel sheet names: at most 31 characters, unique ignoring case
            name, n = f"{csv_path.stem[:28]}-{n}", n + 1
        used.add(name.lower())
        sheet = workbook.create_sheet(name)
        sheet.append([str(c) for c in frame.columns])
        for record in frame.itertuples(index=False, name=None):
            sheet.append(
                [
                    None if isinstance(v, float) and pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                    for v in record
                ]
            )
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    workbook.save(path)
    return path
