"""Partners' own figures: an indicator catalogue (YAML) and any number of data files (CSV or
xlsx) in one long format, read and checked with every problem at once (file, row, column,
value and what was expected).

Catalogue::

    indicators:
      - id: marac_repeats
        label: MARAC repeat referrals
        agency: Domestic Abuse Partnership
        theme: Domestic abuse
        definition: Cases heard at MARAC that had been heard in the previous 12 months.
        unit: proportion          # count | proportion | rate | number
        frequency: quarterly      # monthly | quarterly | yearly: the collection template's rows
        higher_is_better: false
        target: "28%-40%"         # optional, in the delivery plan's target forms
        disclosure_threshold: 5   # optional: counts from 1 to this are suppressed (default: the run's)
        threats: [Domestic abuse] # the MoRiLE threats it evidences

Data (one row per indicator and period)::

    indicator,period,value,numerator,denominator
    marac_cases,2020/21 Q1,41,,
    marac_repeats,2020/21 Q1,0.22,9,41

A period is a month (``2020-04``), a financial quarter (``2020/21 Q1``: April to June), a
calendar quarter (``2020 Q2``: April to June) or a financial year (``2020/21``). A
proportion needs its numerator and denominator (its value, if given, must agree).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import InputDataError, list_problems, repeated
from pipeline.inputs.delivery_plan import TargetText
from pipeline.inputs.spreadsheets import open_workbook, workbook_kind
from pipeline.inputs.yaml_files import read_yaml_model

UNITS = ("count", "proportion", "rate", "number")
DATA_COLUMNS = ("indicator", "period", "value", "numerator", "denominator")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartnerIndicator(_Strict):
    """One indicator a partner agency supplies."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Lower case letters, digits and underscores.")
    label: str = Field(min_length=1)
    agency: str = Field(min_length=1)
    theme: str = Field(min_length=1, description="The heading it is reported under, e.g. Domestic abuse.")
    definition: str = Field(min_length=1)
    unit: Literal["count", "proportion", "rate", "number"]
    higher_is_better: bool
    target: TargetText | None = None
    disclosure_threshold: int | None = Field(default=None, ge=0)
    threats: list[str] = Field(default_factory=list)
    frequency: Literal["monthly", "quarterly", "yearly"] = Field(
        default="quarterly", description="How often the agency reports it: the collection template's rows."
    )


class Catalogue(_Strict):
    indicators: list[PartnerIndicator] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _unique_ids(cls, indicators: list[PartnerIndicator]) -> list[PartnerIndicator]:
        twice = repeated(i.id for i in indicators)
        if twice:
            raise ValueError(f"indicator id {', '.join(twice)} is used more than once")
        return indicators

    def by_id(self) -> dict[str, PartnerIndicator]:
        return {i.id: i for i in self.indicators}

    def targets(self) -> dict[str, str]:
        """Each indicator's target, where the catalogue gives one (a delivery measure's default)."""
        return {i.id: i.target for i in self.indicators if i.target}


def load_catalogue(path: Path) -> Catalogue:
    """Read and check the indicator catalogue, every problem at once."""
    return read_yaml_model(path, Catalogue, "the partner indicator catalogue")


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: its first month and its length in months (1, 3 or 12)."""

    start: str  # YYYY-MM
    months: int

    @property
    def kind(self) -> str:
        return {1: "month", 3: "quarter", 12: "year"}[self.months]

    @property
    def label(self) -> str:
        """As a partner writes it: May 2020, 2020/21 Q1 (financial quarters), 2020/21."""
        year, month = int(self.start[:4]), int(self.start[5:])
        if self.months == 1:
            return f"{pd.Timestamp(year=year, month=month, day=1):%b %Y}"
        fy = year if month >= 4 else year - 1
        if self.months == 12:
            return f"{fy}/{(fy + 1) % 100:02d}"
        quarter = ((month - 4) % 12) // 3 + 1
        return f"{fy}/{(fy + 1) % 100:02d} Q{quarter}"

    def shifted(self, months: int) -> Period:
        """The period ``months`` later (earlier if negative), of the same length."""
        year, month = int(self.start[:4]), int(self.start[5:])
        index = year * 12 + month - 1 + months
        return Period(f"{index // 12:04d}-{index % 12 + 1:02d}", self.months)

    @property
    def end(self) -> str:
        """Its last month, YYYY-MM."""
        return self.shifted(self.months - 1).start


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_FY_QUARTER = re.compile(r"^(\d{4})/(\d{2})\s*Q([1-4])$", re.I)
_CALENDAR_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.I)
_FY = re.compile(r"^(\d{4})/(\d{2})$")


def parse_period(text: Any) -> Period:
    """A period from a partner's text; raises ``ValueError`` naming the forms read."""
    value = str(text).strip()
    if isinstance(text, pd.Timestamp) or hasattr(text, "month") and hasattr(text, "year"):
        return Period(f"{text.year:04d}-{text.month:02d}", 1)
    if m := _MONTH.fullmatch(value):
        month = int(m.group(2))
        if 1 <= month <= 12:
            return Period(f"{int(m.group(1)):04d}-{month:02d}", 1)
    if (m := _FY_QUARTER.fullmatch(value)) and (int(m.group(1)) + 1) % 100 == int(m.group(2)):
        fy, quarter = int(m.group(1)), int(m.group(3))
        return Period(f"{fy:04d}-04", 3).shifted(3 * (quarter - 1))
    if m := _CALENDAR_QUARTER.fullmatch(value):
        return Period(f"{int(m.group(1)):04d}-{3 * (int(m.group(2)) - 1) + 1:02d}", 3)
    if (m := _FY.fullmatch(value)) and (int(m.group(1)) + 1) % 100 == int(m.group(2)):
        return Period(f"{int(m.group(1)):04d}-04", 12)
    raise ValueError(
        f"{value!r} is not a period this tool reads; write a month as 2020-04, a financial quarter as "
        "2020/21 Q1 (April to June), a calendar quarter as 2020 Q2, or a financial year as 2020/21"
    )


# --- data files ---------------------------------------------------------------------------


def _rows_of(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number as a spreadsheet shows it, cells by lower-case header) of a long-format CSV
    or xlsx (its first sheet, or a sheet written by ``write_template``: see ``read_template``)."""
    if workbook_kind(path.read_bytes()[:8]) is not None:
        book = open_workbook(path)
        if TEMPLATE_MARKER in book.sheetnames:
            return read_template(path, book)
        sheet = book.worksheets[0]
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                cells = list(csv.reader(handle))
        except UnicodeDecodeError:
            raise InputDataError(f"{path}: not UTF-8 text; save the file as CSV UTF-8.") from None
    if not cells:
        raise InputDataError(f"{path}: the file is empty; expected a header row {', '.join(DATA_COLUMNS)}.")
    header = [str(h).strip().lower() if h is not None else "" for h in cells[0]]
    missing = [c for c in ("indicator", "period", "value") if c not in header]
    if missing:
        raise InputDataError(
            f"{path}, row 1: no column {', '.join(missing)} (found {', '.join(h for h in header if h) or 'none'}); "
            f"expected the columns {', '.join(DATA_COLUMNS)} (numerator and denominator only for proportions)."
        )
    rows = []
    for number, row in enumerate(cells[1:], start=2):
        record = {h: (row[i] if i < len(row) else None) for i, h in enumerate(header) if h}
        if all(v in (None, "") for v in record.values()):
            continue
        rows.append((number, record))
    return rows


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return float(str(value).strip().replace(",", ""))


def read_partner_data(paths: list[Path], catalogue: Catalogue) -> pd.DataFrame:
    """Every data file read and checked against the catalogue, every problem at once.

    Returns one row per indicator and period: indicator, period_start (YYYY-MM), months,
    value, numerator, denominator, source (file). A proportion's value is its numerator
    over its denominator."""
    known = catalogue.by_id()
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    seen: dict[tuple[str, Period], str] = {}
    lengths: dict[str, set[int]] = {}
    for path in paths:
        path = Path(path)
        try:
            rows = _rows_of(path)
        except InputDataError as exc:
            problems.append(str(exc))
            continue
        for number, row in rows:
            where = f"{path.name}, " + (f"sheet {row['sheet']}, " if row.get("sheet") else "") + f"row {number}"
            indicator = str(row.get("indicator") or "").strip()
            if indicator not in known:
                problems.append(
                    f"{where}, column indicator: {indicator!r} is not in the catalogue (its ids: "
                    + ", ".join(sorted(known))
                    + ")"
                )
                continue
            spec = known[indicator]
            try:
                period = parse_period(row.get("period"))
            except ValueError as exc:
                problems.append(f"{where}, column period: {exc}")
                continue
            values: dict[str, float | None] = {}
            bad = False
            for column in ("value", "numerator", "denominator"):
                try:
                    values[column] = _number(row.get(column))
                except ValueError:
                    problems.append(f"{where}, column {column}: {row.get(column)!r} is not a number")
                    bad = True
            if bad:
                continue
            value, numerator, denominator = values["value"], values["numerator"], values["denominator"]
            if spec.unit == "proportion":
                if numerator is None or denominator is None:
                    problems.append(
                        f"{where}: {indicator} is a proportion; give its numerator and denominator (found "
                        f"{row.get('numerator')!r} and {row.get('denominator')!r})"
                    )
                    continue
                if denominator <= 0 or numerator < 0 or numerator > denominator:
                    problems.append(
                        f"{where}, columns numerator and denominator: {numerator:g} of {denominator:g}; expected a "
                        "numerator from 0 to the denominator, and a denominator above 0"
                    )
                    continue
                share = numerator / denominator
                if value is not None and abs(value - share) > 0.005 and abs(value - 100 * share) > 0.5:
                    problems.append(
                        f"{where}, column value: {value:g} is not {numerator:g}/{denominator:g} ({share:.3f}, or "
                        f"{100 * share:.1f}%); leave value blank or make it agree"
                    )
                    continue
                value = share
            elif value is None:
                problems.append(f"{where}, column value: blank; expected a number")
                continue
            if spec.unit == "count" and (value < 0 or not float(value).is_integer()):
                problems.append(f"{where}, column value: {value:g}; a count is a whole number, 0 or more")
                continue
            key = (indicator, period)
            if key in seen:
                problems.append(f"{where}: {indicator} for {period.label} is also given in {seen[key]}")
                continue
            seen[key] = where
            lengths.setdefault(indicator, set()).add(period.months)
            records.append(
                {
                    "indicator": indicator,
                    "period_start": period.start,
                    "months": period.months,
                    "value": float(value),
                    "numerator": numerator,
                    "denominator": denominator,
                    "source": path.name,
                }
            )
    for indicator, found in lengths.items():
        if len(found) > 1:
            kinds = ", ".join(Period("2000-04", m).kind + "s" for m in sorted(found))
            problems.append(
                f"{indicator}: periods of different lengths ({kinds}); give one kind of period per indicator"
            )
    if problems:
        raise InputDataError(list_problems("Problems in the partner data:", problems))
    frame = pd.DataFrame(
        records, columns=[*["indicator", "period_start", "months"], "value", "numerator", "denominator", "source"]
    )
    return frame.sort_values(["indicator", "period_start"]).reset_index(drop=True)


# --- the collection template ----------------------------------------------------------------

TEMPLATE_MARKER = "About"  # a workbook written by write_template has this sheet
_TEMPLATE_HEADER_ROW = 4


def template_periods(kind_months: int, last_month: str, count: int) -> list[Period]:
    """The ``count`` periods of ``kind_months`` months ending with the one holding ``last_month``
    (financial quarters and years), oldest first."""
    year, month = int(last_month[:4]), int(last_month[5:])
    if kind_months == 1:
        last = Period(last_month, 1)
    elif kind_months == 3:
        last = Period(f"{year if month >= 4 else year - 1:04d}-04", 3).shifted(3 * (((month - 4) % 12) // 3))
    else:
        last = Period(f"{year if month >= 4 else year - 1:04d}-04", 12)
    return [last.shifted(-kind_months * k) for k in range(count - 1, -1, -1)]


def _sheet_name(agency: str, kind: str, mixed: bool) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", agency)[: 31 - (11 if mixed else 0)].strip()
    return f"{name} ({kind}ly)" if mixed else name


def write_template(catalogue: Catalogue, path: Path, last_month: str, title: str) -> Path:
    """Write the partners' collection workbook: one sheet per agency (per agency and kind of
    period when an agency reports monthly and quarterly), the periods as rows up to the one
    holding ``last_month`` (36 months, 12 quarters or 4 years, enough for a trend), a column per indicator (three
    for a proportion: numerator, denominator and the share, worked out by the run). Only the
    input cells are unlocked; each accepts a number of 0 or more."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    counts = {1: 36, 3: 12, 12: 4}  # enough periods for a trend (partner_indicators.MIN_TREND_PERIODS)
    book = Workbook()
    about = book.active
    about.title = TEMPLATE_MARKER
    about.append([title])
    about["A1"].font = Font(bold=True, size=13)
    about.append(["Fill in the yellow cells on each agency's sheet; leave a cell blank where there is no figure."])
    about.append(["Indicator id", "Label", "Agency", "Unit", "Definition"])
    for i in catalogue.indicators:
        about.append([i.id, i.label, i.agency, i.unit, i.definition])
    about.protection.sheet = True
    fill = PatternFill("solid", fgColor="FFF2CC")
    groups: dict[tuple[str, int], list[PartnerIndicator]] = {}
    for indicator in catalogue.indicators:
        groups.setdefault((indicator.agency, _kind_of(indicator)), []).append(indicator)
    agencies = [a for a, _ in groups]
    for (agency, months), indicators in groups.items():
        sheet = book.create_sheet(_sheet_name(agency, Period("2000-04", months).kind, agencies.count(agency) > 1))
        sheet["A1"] = f"{agency}: {Period('2000-04', months).kind}ly figures"
        sheet["A1"].font = Font(bold=True)
        sheet["A2"] = "Row 3: the indicator ids (do not change them). Yellow cells: your figures."
        ids, headers = ["period"], ["Period"]
        for indicator in indicators:
            if indicator.unit == "proportion":
                ids += [f"{indicator.id}:numerator", f"{indicator.id}:denominator"]
                headers += [f"{indicator.label}: numerator", f"{indicator.label}: denominator"]
            else:
                ids.append(indicator.id)
                headers.append(f"{indicator.label} ({indicator.unit})")
        for column, (key, header) in enumerate(zip(ids, headers), start=1):
            sheet.cell(row=3, column=column, value=key)
            cell = sheet.cell(row=_TEMPLATE_HEADER_ROW, column=column, value=header)
            cell.font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(column)].width = 14 if column == 1 else 24
        periods = template_periods(months, last_month, counts[months])
        validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        validation.showErrorMessage = True
        validation.error = "A number, 0 or more."
        for offset, period in enumerate(periods, start=1):
            row = _TEMPLATE_HEADER_ROW + offset
            sheet.cell(row=row, column=1, value=period.label)
            for column in range(2, len(ids) + 1):
                cell = sheet.cell(row=row, column=column)
                cell.protection = Protection(locked=False)
                cell.fill = fill
        last_row = _TEMPLATE_HEADER_ROW + len(periods)
        validation.add(f"B{_TEMPLATE_HEADER_ROW + 1}:{get_column_letter(len(ids))}{last_row}")
        sheet.add_data_validation(validation)
        sheet.freeze_panes = f"B{_TEMPLATE_HEADER_ROW + 1}"
        sheet.protection.sheet = True
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _kind_of(indicator: PartnerIndicator) -> int:
    """The months in each of an indicator's reporting periods."""
    return {"monthly": 1, "quarterly": 3, "yearly": 12}[indicator.frequency]


def read_template(path: Path, book: Any) -> list[tuple[int, dict[str, Any]]]:
    """The long-format rows of a filled collection workbook (``write_template``): one per
    filled cell (a proportion's numerator and denominator together). Row numbers are the
    sheet's, prefixed by its name through the ``period`` text for messages."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for sheet in book.worksheets:
        if sheet.title == TEMPLATE_MARKER:
            continue
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        if len(cells) < _TEMPLATE_HEADER_ROW:
            continue
        ids = [str(v).strip() if v is not None else "" for v in cells[2]]
        for number, row in enumerate(cells[_TEMPLATE_HEADER_ROW:], start=_TEMPLATE_HEADER_ROW + 1):
            period = row[0]
            if period in (None, ""):
                continue
            by_indicator: dict[str, dict[str, Any]] = {}
            for key, value in zip(ids[1:], row[1:]):
                if not key or value in (None, ""):
                    continue
                indicator, _, part = key.partition(":")
                by_indicator.setdefault(indicator, {})[part or "value"] = value
            for indicator, parts in by_indicator.items():
                rows.append((number, {"indicator": indicator, "period": period, "sheet": sheet.title, **parts}))
    return rows
