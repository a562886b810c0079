"""The action owners' quarterly update sheet: written from the delivery plan (one row per
action, a drop-down for its status, only the input cells unlocked) and read back, checked,
with every problem at once (file, sheet, row, column, value and what was expected).

The sheet records the plan's financial year and the quarter it is for; the plan republishes
with each update sheet the params list, applied in quarter order, and a change log.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError, list_problems, repeated
from pipeline.inputs.delivery_plan import STATUSES, Action, DeliveryPlan
from pipeline.inputs.spreadsheets import open_workbook, xlsx_problem

SHEET = "Actions"
HEADERS = (
    "Action ID",
    "Priority",
    "Strand",
    "Action",
    "Owner",
    "Due",
    "Status now",
    "New status",
    "Update",
    "New due date",
)
INPUT_COLUMNS = ("New status", "Update", "New due date")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
_HEADER_ROW = 5  # rows 1-4: title, plan year, quarter, how to fill it in


@dataclass(frozen=True)
class Change:
    """One change an update sheet made to one action."""

    quarter: str
    action_id: str
    action: str
    what: str  # "status", "due date" or "update"
    was: Any  # a status or an update (text), or a due date (a date; None if none was set)
    now: Any


@dataclass
class Updates:
    """An update sheet read back: its quarter and what each row changes."""

    path: Path
    quarter: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # action id -> new status / update / due


def plan_actions(plan: DeliveryPlan, priorities: list[str]) -> list[tuple[str, Action]]:
    """Every action of the agreed ``priorities`` (in their order), with its priority."""
    rows = []
    for threat in priorities:
        response = plan.responses.get(threat)
        rows += [(threat, action) for action in (response.actions if response else [])]
    return rows


def write_update_sheet(
    plan: DeliveryPlan, priorities: list[str], quarter: str, path: Path, title: str, sample: bool = False
) -> Path:
    """Write the owners' update sheet for ``quarter`` (Q1-Q4 of the plan's financial year):
    one row per action of the agreed priorities, a drop-down of ``STATUSES`` for its new
    status, free text for its update and a date check on a new due date; every other cell
    is locked (the sheet is protected without a password, to prevent slips, not to secure it)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    if quarter not in QUARTERS:
        raise InputDataError(f"--quarter {quarter!r}: use one of {', '.join(QUARTERS)}.")
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet["A1"] = title + (" (illustrative sample)" if sample else "")
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"], sheet["B2"] = "Financial year", plan.financial_year
    sheet["A3"], sheet["B3"] = "Quarter", quarter
    sheet["A4"] = (
        "Fill in the yellow cells only: New status (pick from the list), Update (a sentence on progress) and New "
        "due date (only if the date has moved). Leave a cell blank to keep what the plan says."
    )
    for column, header in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=_HEADER_ROW, column=column, value=header)
        cell.font = Font(bold=True)
    entry = PatternFill("solid", fgColor="FFF2CC")
    rows = plan_actions(plan, priorities)
    for offset, (threat, action) in enumerate(rows, start=1):
        r = _HEADER_ROW + offset
        values = (
            action.id,
            threat,
            plan.strand_of(threat, action),
            action.action,
            action.owner,
            action.due,
            action.status,
        )
        for column, value in enumerate(values, start=1):
            sheet.cell(row=r, column=column, value=value)
        sheet.cell(row=r, column=6).number_format = "yyyy-mm-dd"
        for column in range(8, 11):
            cell = sheet.cell(row=r, column=column)
            cell.protection = Protection(locked=False)
            cell.fill = entry
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row=r, column=10).number_format = "yyyy-mm-dd"
    last = _HEADER_ROW + max(len(rows), 1)
    status = DataValidation(
        type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=True, showErrorMessage=True
    )
    status.error = "Pick a status from the list: " + ", ".join(STATUSES) + "."
    status.add(f"H{_HEADER_ROW + 1}:H{last}")
    due = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True)
    due.showErrorMessage = True
    due.error = "Type a date, for example 2021-12-31."
    due.add(f"J{_HEADER_ROW + 1}:J{last}")
    sheet.add_data_validation(status)
    sheet.add_data_validation(due)
    for letter, width in zip("ABCDEFGHIJ", (10, 24, 12, 44, 26, 12, 12, 14, 50, 14)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{_HEADER_ROW + 1}"
    sheet.protection.sheet = True
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _as_date(value: Any) -> datetime.date | None:
    """A cell's date: a spreadsheet date, or text as 2021-12-31 or 31/12/2021; None if it is neither."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def read_update_sheet(path: Path, plan: DeliveryPlan) -> Updates:
    """Read an owners' update sheet back, checking every row against the plan: the sheet and
    its headers are there, it is for the plan's year and a quarter, each action id is one of
    the plan's and appears once, each new status is one of ``STATUSES`` and each new due date
    a date. Every problem is listed at once."""
    problem = xlsx_problem(Path(path))
    if problem:
        raise InputDataError(f"{path}: {problem}")
    book = open_workbook(Path(path))
    if SHEET not in book.sheetnames:
        raise InputDataError(
            f"{path}: no sheet named {SHEET!r} (found {', '.join(book.sheetnames)}). Write a new sheet with "
            "`python -m pipeline action-updates PARAMS --quarter Q1` and fill it in."
        )
    sheet = book[SHEET]
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    where = f"{path}, sheet {SHEET}"
    problems = []
    header = [
        str(v).strip() if v is not None else "" for v in (cells[_HEADER_ROW - 1] if len(cells) >= _HEADER_ROW else [])
    ]
    if tuple(header[: len(HEADERS)]) != HEADERS:
        raise InputDataError(
            f"{where}, row {_HEADER_ROW}: the headers are {header[: len(HEADERS)]}; expected {list(HEADERS)}. "
            "Fill in a sheet written by `python -m pipeline action-updates` without moving its columns."
        )
    year = str(cells[1][1]).strip() if len(cells) > 1 and cells[1][1] is not None else ""
    quarter = str(cells[2][1]).strip().upper() if len(cells) > 2 and cells[2][1] is not None else ""
    if year != plan.financial_year:
        problems.append(f"{where}, cell B2: financial year {year!r}; the plan is for {plan.financial_year}")
    if quarter not in QUARTERS:
        problems.append(f"{where}, cell B3: quarter {quarter!r}; expected one of {', '.join(QUARTERS)}")
    known = {a.id for r in plan.responses.values() for a in r.actions}
    updates = Updates(Path(path), quarter)
    column = {name: HEADERS.index(name) for name in HEADERS}
    for number, row in enumerate(cells[_HEADER_ROW:], start=_HEADER_ROW + 1):
        row = list(row) + [None] * (len(HEADERS) - len(row))
        action_id = str(row[column["Action ID"]] or "").strip()
        inputs = [row[column[c]] for c in INPUT_COLUMNS]
        if not action_id:
            if any(v not in (None, "") for v in inputs):
                problems.append(f"{where}, row {number}, column Action ID: blank; a row with an update needs its id")
            continue
        if action_id not in known:
            problems.append(f"{where}, row {number}, column Action ID: {action_id!r} is not an action of the plan")
            continue
        if action_id in updates.rows:
            problems.append(f"{where}, row {number}, column Action ID: {action_id!r} is given twice")
            continue
        new: dict[str, Any] = {}
        status = str(row[column["New status"]] or "").strip().lower()
        if status:
            if status not in STATUSES:
                problems.append(
                    f"{where}, row {number}, column New status: {row[column['New status']]!r}; expected one of "
                    + ", ".join(STATUSES)
                )
            else:
                new["status"] = status
        text = str(row[column["Update"]] or "").strip()
        if text:
            new["update"] = re.sub(r"\s+", " ", text)
        due = row[column["New due date"]]
        if due not in (None, ""):
            parsed = _as_date(due)
            if parsed is None:
                problems.append(
                    f"{where}, row {number}, column New due date: {due!r}; expected a date such as 2021-12-31"
                )
            else:
                new["due"] = parsed
        if new:
            updates.rows[action_id] = new
    if problems:
        raise InputDataError(list_problems(f"Problems in the action owners' update sheet {path}:", problems))
    return updates


def apply_updates(plan: DeliveryPlan, sheets: list[Updates]) -> tuple[DeliveryPlan, list[Change]]:
    """The plan with each update sheet applied in quarter order, and the change log: one
    entry per status, due date or update that changed."""
    ordered = sorted(sheets, key=lambda u: QUARTERS.index(u.quarter))
    twice = repeated(u.quarter for u in ordered)
    if twice:
        files = "; ".join(str(u.path) for u in ordered if u.quarter in twice)
        raise InputDataError(f"Two update sheets are for {', '.join(twice)} ({files}): list one per quarter.")
    changes: list[Change] = []
    responses = dict(plan.responses)
    for sheet in ordered:
        for threat, response in list(responses.items()):
            actions = []
            for action in response.actions:
                new = sheet.rows.get(action.id, {})
                for key, label in (("status", "status"), ("due", "due date"), ("update", "update")):
                    if key in new and new[key] != getattr(action, key):
                        was = getattr(action, key)
                        changes.append(Change(sheet.quarter, action.id, action.action, label, was, new[key]))
                actions.append(action.model_copy(update=new) if new else action)
            responses[threat] = response.model_copy(update={"actions": actions})
    return plan.model_copy(update={"responses": responses}), changes


def updated_plan(plan: DeliveryPlan, paths: list[Path]) -> tuple[DeliveryPlan, list[Change]]:
    """The plan with the update sheets at ``paths`` read, checked and applied; the change log."""
    return apply_updates(plan, [read_update_sheet(Path(path), plan) for path in paths])
