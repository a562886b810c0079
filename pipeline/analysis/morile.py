"""MoRiLE stage: the prioritisation workshop, from scoring sheet to ranked priorities.

The scoring model is data (a YAML file): factor groups, each factor's ordered scale,
how a group aggregates (sum, mean or max) and whether it makes up the risk score,
weights it, or is only shown beside it. The cycle:

1. ``write_template`` writes an xlsx scoring sheet: one row per threat, drop-downs of
   the scale labels, evidence from the crime data, only the cells to fill unlocked.
2. ``read_scoring_sheet`` validates a filled sheet and lists every bad cell at once.
3. ``combine_scores`` merges partners' sheets (median by default), keeping the spread.
4. ``read_moderation`` / ``apply_moderation`` record the agreed values and reasons.
5. ``score_threats`` scores, ranks (ties kept), bands and proposes priorities.
6. ``sensitivity`` finds the ranks each threat could take if one factor moved one step.

Why one module: the six steps above share the MoRiLE model (its factors, scales and
bands) and the sheet layout that the template writes and the reader reads back; keeping
them together keeps the template and its reader in step.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.analysis.survey import normalise_answer
from pipeline.errors import InputDataError, ParamsError, list_problems
from pipeline.params import MorileSettings, PrioritySelection, Threat
from pipeline.safe_text import neutralise_formula

log = logging.getLogger(__name__)

SCORES_SHEET = "Scores"
MODERATION_SHEET = "Moderation"
HEADER_ROW = 6  # the scoring sheet's column headings; threats start on the next row
SCORER_CELL, ORGANISATION_CELL = "B2", "B3"
EVIDENCE_HEADERS = [
    "Crimes in assessment window",
    "% change (like for like)",
    "Rate per 1,000",
    "Trend (seasonal model)",
]
FIRST_FACTOR_COLUMN = 2 + len(EVIDENCE_HEADERS)  # column A is the threat
MODERATION_HEADERS = ["Threat", "Factor", "Agreed level", "Reason"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    label: str = Field(min_length=1)
    value: float


class Factor(_Strict):
    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    scale: str = Field(min_length=1)


class Group(_Strict):
    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    aggregate: Literal["sum", "mean", "max"]
    role: Literal["score", "weight", "shown"]
    factors: list[Factor] = Field(min_length=1)


class ScoringModel(_Strict):
    """A scoring model as read from its YAML file."""

    name: str = Field(min_length=1)
    note: str = ""
    scales: dict[str, list[Level]]
    groups: list[Group] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "ScoringModel":
        problems = []
        for name, levels in self.scales.items():
            values = [level.value for level in levels]
            if len(levels) < 2:
                problems.append(f"scale {name!r} needs at least two levels")
            if values != sorted(values) or len(set(values)) != len(values):
                problems.append(f"scale {name!r}: values must rise from the first level to the last, without repeats")
            labels = [normalise_answer(level.label) for level in levels]
            if len(set(labels)) != len(labels):
                problems.append(f"scale {name!r}: two levels have the same label")
        for kind, ids in (("factor", [f.id for f in self.factors]), ("group", [g.id for g in self.groups])):
            problems += [
                f"{kind} id {i!r} is used more than once" for i in sorted({i for i in ids if ids.count(i) > 1})
            ]
        reserved = {"threat", "score", "rank", "band", "priority"} & {g.id for g in self.groups}
        problems += [f"group id {i!r} is reserved; choose another" for i in sorted(reserved)]
        for group in self.groups:
            problems += [
                f"factor {f.id!r} uses scale {f.scale!r}, which is not defined under scales"
                for f in group.factors
                if f.scale not in self.scales
            ]
        if not any(g.role == "score" for g in self.groups):
            problems.append("at least one group needs role: score")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def factors(self) -> list[Factor]:
        return [f for g in self.groups for f in g.factors]

    def column_header(self, factor: Factor) -> str:
        """The factor's column heading in the scoring sheet, e.g. 'Harm: Physical'."""
        group = next(g for g in self.groups if factor in g.factors)
        return f"{group.label}: {factor.label}"

    def levels(self, factor: Factor) -> list[Level]:
        return self.scales[factor.scale]

    def value_of(self, factor: Factor, label: str) -> float | None:
        """The value of a level label (matched ignoring case, spaces and curly quotes), or None."""
        wanted = normalise_answer(label)
        for level in self.levels(factor):
            if normalise_answer(level.label) == wanted:
                return level.value
        return None

    def label_of(self, factor: Factor, value: float) -> str:
        """The label of the level with this value, or the value itself if it falls between levels."""
        for level in self.levels(factor):
            if math.isclose(level.value, value):
                return level.label
        return f"{value:g} (between levels)"


def load_model(path: Path) -> ScoringModel:
    """Read and validate a scoring model YAML file; a malformed file gets one clear message."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ScoringModel.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ParamsError(f"The MoRiLE model {path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(the model)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ParamsError(list_problems(f"The MoRiLE model {path} has problems:", problems)) from None


# --- the scoring sheet -------------------------------------------------------------------


def evidence_headers(windows: dict[str, str] | None) -> list[str]:
    """The scoring sheet's evidence column headings, naming the months each figure covers."""
    if windows is None:
        return list(EVIDENCE_HEADERS)
    months = int(windows["months_compared"])
    change = (
        f"% change, like for like ({windows['after_text']} against a year earlier)"
        if months
        else "% change (no month comparable)"
    )
    return [
        f"Crimes, {windows['window_text']}",
        change,
        f"Rate per 1,000 a year, {windows['window_text']}",
        "Trend (seasonal model)",
    ]


def threat_evidence(
    threats: list[Threat],
    comparison: pd.DataFrame,
    rates: pd.Series,
    monthly: pd.DataFrame | None = None,
    disruptions: tuple = (),
) -> pd.DataFrame:
    """Evidence for each threat from the crime data: count, % change, rate per 1,000, trend.

    ``comparison`` is ``trends.compare_windows`` for the area, ``rates`` its row of
    ``trends.window_rates`` and ``monthly`` its usable monthly counts (for the trend, the
    seasonal model fitted to the summed series, allowing for ``disruptions``). A threat
    with several crime types sums them; a threat with none mapped (most police.uk
    categories do not isolate, say, domestic abuse) has blank evidence. The count is over
    every usable month of the assessment window (the same months as the rate); the %
    change is over the like-for-like months, and is blank when none could be compared.
    """
    from pipeline.analysis.trend_models import fit_trend, holm_verdicts

    by_type = comparison.set_index("crime_type")
    records = []
    for threat in threats:
        types = [t for t in threat.crime_types if t in by_type.index]
        if not types:
            records.append(
                {"threat": threat.name, "count": np.nan, "pct_change": np.nan, "rate_per_1000": np.nan, "trend": ""}
            )
            continue
        window = by_type.loc[types, "window_count"].sum()
        now = by_type.loc[types, "assessment_count"].sum()
        before = by_type.loc[types, "comparison_count"].sum()
        compared = int(by_type.loc[types[0], "months_compared"]) > 0
        records.append(
            {
                "threat": threat.name,
                "count": int(window),
                "pct_change": 100 * (now - before) / before if compared and before else np.nan,
                "rate_per_1000": float(sum(rates.get(f"{t} rate", 0.0) for t in types)),
                "trend": fit_trend(monthly[types].sum(axis=1), disruptions) if monthly is not None else "",
            }
        )
    # One policy for every trend verdict: the threats' trends are tested together, Holm-adjusted.
    fits = {r["threat"]: r["trend"] for r in records if not isinstance(r["trend"], str)}
    holm_verdicts(fits)
    for record in records:
        record["trend"] = record["trend"] if isinstance(record["trend"], str) else record["trend"].verdict
    return pd.DataFrame(records)


def write_template(
    model: ScoringModel,
    threats: list[Threat],
    evidence: pd.DataFrame,
    path: Path,
    title: str,
    headers: list[str] | None = None,
    partner_evidence: dict[str, list[str]] | None = None,
) -> Path:
    """Write the xlsx scoring sheet partners fill in at the workshop.

    Only the scorer's name, organisation, score and rationale cells are unlocked; each
    score cell has a drop-down of its scale's labels. Text we write is neutralised
    against formula injection. ``partner_evidence``: each threat's lines from partners' data
    (``partner_indicators.evidence_sentences``), in the Evidence sheet and pointed to from a
    threat the crime data cannot measure.
    """
    partner_evidence = partner_evidence or {}
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    fill = PatternFill("solid", fgColor="FFF2CC")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SCORES_SHEET
    sheet["A1"] = neutralise_formula(title)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"], sheet["A3"] = "Scorer name", "Organisation"
    for cell in (SCORER_CELL, ORGANISATION_CELL):
        sheet[cell].protection = Protection(locked=False)
        sheet[cell].fill = fill
    sheet["A4"] = (
        "Choose a level from the drop-down in each yellow cell and give your rationale. Other cells are locked."
    )
    factors = model.factors
    headers = (
        ["Threat"] + (headers or list(EVIDENCE_HEADERS)) + [model.column_header(f) for f in factors] + ["Rationale"]
    )
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = 34 if column == 1 else 16
    with_extract = "source" in evidence.columns and bool((evidence["source"] != "police.uk").any())
    absent = "not in police.uk data or the extract" if with_extract else "not in police.uk data"
    evidence = evidence.set_index("threat")
    first_factor_column = FIRST_FACTOR_COLUMN
    for offset, threat in enumerate(threats):
        row = HEADER_ROW + 1 + offset
        sheet.cell(row=row, column=1, value=neutralise_formula(threat.name))
        facts = evidence.loc[threat.name] if threat.name in evidence.index else None
        mapped = facts is not None and not pd.isna(facts["count"])
        for k, key in enumerate(("count", "pct_change", "rate_per_1000")):
            value = None if facts is None or pd.isna(facts[key]) else round(float(facts[key]), 1)
            missing = (
                "not computed: no month comparable"
                if mapped
                else f"{absent}; see partner indicators (Evidence sheet)"
                if threat.name in partner_evidence
                else absent
            )
            sheet.cell(row=row, column=2 + k, value=value if value is not None else missing)
        trend = facts.get("trend", "") if facts is not None else ""
        sheet.cell(row=row, column=2 + len(EVIDENCE_HEADERS) - 1, value=neutralise_formula(trend) or absent)
        for column in range(first_factor_column, first_factor_column + len(factors) + 1):
            cell = sheet.cell(row=row, column=column)
            cell.protection = Protection(locked=False)
            cell.fill = fill
    last_row = HEADER_ROW + len(threats)
    for k, factor in enumerate(factors):
        letter = get_column_letter(first_factor_column + k)
        labels = ",".join(level.label for level in model.levels(factor))
        validation = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True, showErrorMessage=True)
        validation.error = "Choose one of: " + labels.replace(",", ", ")
        validation.add(f"{letter}{HEADER_ROW + 1}:{letter}{last_row}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    sheet.protection.sheet = True
    scales = workbook.create_sheet("Scales")
    scales.append(["Factor", "Level", "Value"])
    for factor in factors:
        for level in model.levels(factor):
            scales.append([model.column_header(factor), level.label, level.value])
    scales.protection.sheet = True
    if "source" in evidence.columns:
        # Where each threat's evidence comes from, with harm where a force extract gives it.
        from pipeline.analysis.partner_indicators import would_evidence

        sources = workbook.create_sheet("Evidence")
        sources.append(
            [
                "Threat",
                "Source of the evidence",
                "Crime Severity Score a year (ONS scale)",
                "Share of the area's crimes (%)",
                "Share of the area's harm (%)",
                "Partner indicators",
            ]
        )
        for threat in threats:
            facts = evidence.loc[threat.name] if threat.name in evidence.index else None
            partners = "; ".join(partner_evidence.get(threat.name, [])) or None
            if facts is None or pd.isna(facts["count"]):
                source = (
                    "partner data only: neither police.uk nor the force extract isolates this threat"
                    if partners
                    else "none: neither police.uk, the force extract nor a partner indicator measures this threat; "
                    + would_evidence(threat.name)
                )
                sources.append(
                    [neutralise_formula(threat.name), source, None, None, None, neutralise_formula(partners)]
                )
                continue
            harm = [
                None if pd.isna(facts.get(k, np.nan)) else round(float(facts[k]), 2 if k == "css" else 1)
                for k in ("css", "volume_share", "harm_share")
            ]
            sources.append(
                [
                    neutralise_formula(threat.name),
                    neutralise_formula(str(facts["source"])),
                    *harm,
                    neutralise_formula(partners),
                ]
            )
        sources.protection.sheet = True
    about = workbook.create_sheet("About")
    about.append(["Model", model.name])
    about.append(["Note", model.note])
    about.protection.sheet = True
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


@dataclass
class ScoringSheet:
    """One partner's validated scores."""

    path: Path
    scorer: str
    organisation: str
    scores: pd.DataFrame  # threat, factor (id), label, value
    rationale: dict[str, str]


def read_scoring_sheet(path: Path, model: ScoringModel, threats: list[Threat]) -> ScoringSheet:
    """Read and validate one filled scoring sheet.

    Raises ``InputDataError`` listing every problem with file, sheet, cell, value and
    the allowed values: unknown or missing threats, blank scores, numbers where a level
    label belongs, labels not on the factor's scale, a missing scorer name.
    """
    from openpyxl.utils import get_column_letter

    from pipeline.inputs.spreadsheets import is_formula, open_workbook

    workbook = open_workbook(path, formulas=True)
    if SCORES_SHEET not in workbook.sheetnames:
        raise InputDataError(
            f"{path}: has no sheet named {SCORES_SHEET!r} (sheets found: {', '.join(workbook.sheetnames)}); "
            "partners should fill in the sheet written by the morile-template command."
        )
    sheet = workbook[SCORES_SHEET]
    where = f"{path}, sheet {SCORES_SHEET!r}"
    problems: list[str] = []
    scorer = str(sheet[SCORER_CELL].value or "").strip()
    organisation = str(sheet[ORGANISATION_CELL].value or "").strip()
    if not scorer:
        problems.append(f"{where}, cell {SCORER_CELL} (Scorer name): blank; enter the scorer's name")
    headers = {str(c.value).strip(): c.column for c in sheet[HEADER_ROW] if c.value is not None}
    columns: dict[str, int] = {}
    for factor in model.factors:
        header = model.column_header(factor)
        if header not in headers:
            problems.append(f"{where}, row {HEADER_ROW}: no column headed {header!r}")
        else:
            columns[factor.id] = headers[header]
    known = {t.name for t in threats}
    seen: set[str] = set()
    records, rationale = [], {}
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        name = sheet.cell(row=row, column=1).value
        name = str(name).strip() if name is not None else ""
        if not name:
            continue
        if name not in known:
            problems.append(f"{where}, cell A{row}: threat {name!r} is not in the params file's threat list")
            continue
        if name in seen:
            problems.append(f"{where}, cell A{row}: threat {name!r} appears twice")
            continue
        seen.add(name)
        for factor in model.factors:
            if factor.id not in columns:
                continue
            column = columns[factor.id]
            cell = f"{get_column_letter(column)}{row}"
            value = sheet.cell(row=row, column=column).value
            allowed = ", ".join(level.label for level in model.levels(factor))
            label = f"{where}, cell {cell} ({name}, {model.column_header(factor)})"
            if is_formula(value):
                problems.append(
                    f"{label}: holds the formula {value!r}; a score must be a level chosen from the drop-down: one "
                    f"of {allowed}"
                )
            elif value is None or str(value).strip() == "":
                problems.append(f"{label}: missing score; choose one of {allowed}")
            elif isinstance(value, (int, float)):
                problems.append(f"{label}: {value!r} is a number where a level label belongs; choose one of {allowed}")
            elif model.value_of(factor, str(value)) is None:
                problems.append(f"{label}: {str(value)!r} is not on the scale; choose one of {allowed}")
            else:
                records.append(
                    {
                        "threat": name,
                        "factor": factor.id,
                        "label": str(value).strip(),
                        "value": model.value_of(factor, str(value)),
                    }
                )
        note = sheet.cell(row=row, column=headers.get("Rationale", 0) or sheet.max_column).value
        rationale[name] = str(note).strip() if note else ""
    problems += [
        f"{where}: threat {t.name!r} has no row; add it or remove it from the params file"
        for t in threats
        if t.name not in seen
    ]
    if problems:
        raise InputDataError(list_problems(f"The scoring sheet {path.name} has problems:", problems))
    return ScoringSheet(path, scorer, organisation, pd.DataFrame(records), rationale)


def read_scoring_sheets(paths: list[Path], model: ScoringModel, threats: list[Threat]) -> list[ScoringSheet]:
    """Read every partner's sheet, collecting the problems of all sheets into one error."""
    sheets, problems = [], []
    for path in paths:
        try:
            sheets.append(read_scoring_sheet(path, model, threats))
        except InputDataError as exc:
            problems.append(str(exc))
    if problems:
        raise InputDataError("\n".join(problems))
    if not sheets:
        raise InputDataError(
            "No scoring sheets were given: list the filled sheets under morile.scores in the params file."
        )
    return sheets


def combine_scores(sheets: list[ScoringSheet], how: Literal["median", "mean"] = "median") -> pd.DataFrame:
    """One value per threat and factor across partners, with the spread kept.

    Columns: threat, factor, value (the median or mean), min, max, spread (max - min),
    scorers (how many sheets scored it).
    """
    stacked = pd.concat([s.scores.assign(scorer=s.scorer) for s in sheets], ignore_index=True)
    grouped = stacked.groupby(["threat", "factor"], sort=False)["value"]
    combined = grouped.agg(value=how, min="min", max="max", scorers="count").reset_index()
    combined["spread"] = combined["max"] - combined["min"]
    return combined[["threat", "factor", "value", "min", "max", "spread", "scorers"]]


def read_moderation(path: Path, model: ScoringModel, threats: list[Threat]) -> pd.DataFrame:
    """Read the moderation sheet: threat, factor, agreed level and reason on each row.

    Factors may be named by their column heading (e.g. 'Harm: Physical') or id.
    Returns columns threat, factor (id), label, value, reason; raises ``InputDataError``
    listing every bad cell.
    """
    from pipeline.inputs.spreadsheets import is_formula, open_workbook

    workbook = open_workbook(path, formulas=True)
    if MODERATION_SHEET not in workbook.sheetnames:
        raise InputDataError(
            f"{path}: has no sheet named {MODERATION_SHEET!r} (sheets found: {', '.join(workbook.sheetnames)}); "
            f"rename the sheet holding the agreed scores to {MODERATION_SHEET!r}."
        )
    sheet = workbook[MODERATION_SHEET]
    where = f"{path}, sheet {MODERATION_SHEET!r}"
    header = [str(c.value).strip() if c.value is not None else "" for c in sheet[1]][:4]
    if header != MODERATION_HEADERS:
        raise InputDataError(
            f"{where}, row 1: expected headings {', '.join(MODERATION_HEADERS)}; found {', '.join(header)}"
        )
    by_name = {model.column_header(f): f for f in model.factors} | {f.id: f for f in model.factors}
    known = {t.name for t in threats}
    problems, records = [], []
    for row in range(2, sheet.max_row + 1):
        threat, factor_name, level, reason = (sheet.cell(row=row, column=c).value for c in range(1, 5))
        if all(v in (None, "") for v in (threat, factor_name, level, reason)):
            continue
        threat, factor_name = str(threat or "").strip(), str(factor_name or "").strip()
        if threat not in known:
            problems.append(f"{where}, cell A{row}: threat {threat!r} is not in the params file's threat list")
        factor = by_name.get(factor_name)
        if factor is None:
            problems.append(f"{where}, cell B{row}: {factor_name!r} is not a factor of the model")
            continue
        allowed = ", ".join(lv.label for lv in model.levels(factor))
        if is_formula(level):
            problems.append(f"{where}, cell C{row}: holds the formula {level!r}; type one of {allowed}")
            continue
        if level is None or isinstance(level, (int, float)) or model.value_of(factor, str(level)) is None:
            problems.append(
                f"{where}, cell C{row}: {level!r} is not a level of {factor_name!r}; choose one of {allowed}"
            )
            continue
        if not str(reason or "").strip():
            problems.append(f"{where}, cell D{row}: a moderated score needs a reason")
            continue
        records.append(
            {
                "threat": threat,
                "factor": factor.id,
                "label": str(level).strip(),
                "value": model.value_of(factor, str(level)),
                "reason": str(reason).strip(),
            }
        )
    if problems:
        raise InputDataError(list_problems(f"The moderation sheet {path.name} has problems:", problems))
    return pd.DataFrame(records, columns=["threat", "factor", "label", "value", "reason"])


def apply_moderation(combined: pd.DataFrame, moderation: pd.DataFrame) -> pd.DataFrame:
    """Combined values with the moderated ones put in; adds ``moderated`` (bool) and ``reason``."""
    result = combined.copy()
    result["moderated"] = False
    result["reason"] = ""
    for _, change in moderation.iterrows():
        mask = (result["threat"] == change["threat"]) & (result["factor"] == change["factor"])
        result.loc[mask, ["value", "moderated", "reason"]] = [change["value"], True, change["reason"]]
    return result


# --- scores, ranks, bands, priorities -------------------------------------------------------


def _aggregate(values: pd.Series, how: str) -> float:
    return float({"sum": values.sum, "mean": values.mean, "max": values.max}[how]())


def group_scores(values: pd.DataFrame, model: ScoringModel) -> pd.DataFrame:
    """Each threat's aggregate per group, from a frame with threat, factor, value."""
    wide = values.pivot(index="threat", columns="factor", values="value")
    return pd.DataFrame(
        {
            g.id: wide[[f.id for f in g.factors]].apply(lambda r, how=g.aggregate: _aggregate(r, how), axis=1)
            for g in model.groups
        }
    )


def threat_risk_score(factor_values: dict[str, float], model: ScoringModel) -> float:
    """One threat's risk score from its factor values (factor id -> value), the same rule as
    ``group_scores`` then ``risk_scores``: each group aggregated, score and weight groups multiplied.

    Plain Python, because the sensitivity check scores each threat once per one-step move
    of each factor (hundreds of single-threat scorings), where building frames dominated."""
    score = 1.0
    for group in model.groups:
        if group.role not in ("score", "weight"):
            continue
        values = [float(factor_values[f.id]) for f in group.factors]
        score *= {"sum": sum, "max": max, "mean": lambda v: sum(v) / len(v)}[group.aggregate](values)
    return score


def risk_scores(groups: pd.DataFrame, model: ScoringModel) -> pd.Series:
    """Risk score: the product of the score groups (harm x likelihood), times any weight groups."""
    multiplied = [g.id for g in model.groups if g.role in ("score", "weight")]
    return groups[multiplied].prod(axis=1)


def rank_scores(scores: pd.Series) -> pd.Series:
    """Competition ranks, highest score first: equal scores share a rank (1, 2, 2, 4)."""
    return scores.rank(method="min", ascending=False).astype(int)


def band_of(score: float, bands: list[Any]) -> str:
    """The band a score falls in (bands listed highest first, each with min_score)."""
    for band in bands:
        if score >= band.min_score:
            return band.label
    return "Below lowest band"


def is_priority(rank: int, band: str, rule: PrioritySelection) -> bool:
    """Whether a ranked threat is proposed as a priority (top N includes ties at N)."""
    if rule.top is not None:
        return rank <= rule.top
    return band in (rule.bands or [])


def score_threats(values: pd.DataFrame, model: ScoringModel, settings: MorileSettings) -> pd.DataFrame:
    """Score, rank, band and propose priorities.

    Returns one row per threat, highest score first and ties ordered by threat name:
    threat, one column per group, score, rank, band, priority.
    """
    groups = group_scores(values, model)
    table = groups.assign(score=risk_scores(groups, model))
    table["rank"] = rank_scores(table["score"])
    table["band"] = [band_of(s, settings.bands) for s in table["score"]]
    table["priority"] = [is_priority(r, b, settings.priorities) for r, b in zip(table["rank"], table["band"])]
    table = table.reset_index().rename(columns={"index": "threat"})
    return table.sort_values(["score", "threat"], ascending=[False, True]).reset_index(drop=True)


def _step(model: ScoringModel, factor: Factor, value: float, direction: int) -> float | None:
    levels = [lv.value for lv in model.levels(factor)]
    candidates = [v for v in levels if (v > value if direction > 0 else v < value)]
    if not candidates:
        return None
    return min(candidates) if direction > 0 else max(candidates)


def sensitivity(values: pd.DataFrame, model: ScoringModel, settings: MorileSettings) -> pd.DataFrame:
    """How far each threat's rank could move if any one of its factor scores moved one step.

    For each threat and factor, the value moves to the next level up and down (from a
    value between levels, to the nearest level each side), the threat is re-scored and
    re-ranked against the others as they are (rank = 1 + the number of other threats
    scoring higher). Returns threat, rank, best_rank, worst_rank, priority,
    priority_can_change (True where one step of one score would put the threat in or
    out of the priorities), and deciding_moves (the moves that would).
    """
    base = score_threats(values, model, settings).set_index("threat")
    wide = values.pivot(index="threat", columns="factor", values="value")
    records = []
    for threat in base.index:
        others = base["score"].drop(threat).to_numpy()
        current_values = {f: float(v) for f, v in wide.loc[threat].items()}
        ranks = [int(base.loc[threat, "rank"])]
        flips = []
        for factor in model.factors:
            current = float(wide.loc[threat, factor.id])
            for direction in (1, -1):
                moved = _step(model, factor, current, direction)
                if moved is None:
                    continue
                score = threat_risk_score({**current_values, factor.id: moved}, model)
                rank = 1 + int((others > score).sum())
                ranks.append(rank)
                if is_priority(rank, band_of(score, settings.bands), settings.priorities) != bool(
                    base.loc[threat, "priority"]
                ):
                    flips.append(
                        f"{model.column_header(factor)} {'up' if direction > 0 else 'down'} to "
                        f"{model.label_of(factor, moved)}"
                    )
        records.append(
            {
                "threat": threat,
                "rank": int(base.loc[threat, "rank"]),
                "best_rank": min(ranks),
                "worst_rank": max(ranks),
                "priority": bool(base.loc[threat, "priority"]),
                "priority_can_change": bool(flips),
                "deciding_moves": "; ".join(flips),
            }
        )
    return pd.DataFrame(records).sort_values(["rank", "threat"]).reset_index(drop=True)


def moderation_changes(
    before: pd.DataFrame, after: pd.DataFrame, moderated: pd.DataFrame, model: ScoringModel
) -> pd.DataFrame:
    """Per moderated threat: score and rank before and after moderation, and the reasons."""
    b, a = before.set_index("threat"), after.set_index("threat")
    records = []
    for threat, rows in moderated[moderated["moderated"]].groupby("threat", sort=False):
        changes = "; ".join(
            f"{model.column_header(next(f for f in model.factors if f.id == r['factor']))}: {r['reason']}"
            for _, r in rows.iterrows()
        )
        records.append(
            {
                "threat": threat,
                "score_before": b.loc[threat, "score"],
                "rank_before": int(b.loc[threat, "rank"]),
                "score_after": a.loc[threat, "score"],
                "rank_after": int(a.loc[threat, "rank"]),
                "reasons": changes,
            }
        )
    return pd.DataFrame(
        records, columns=["threat", "score_before", "rank_before", "score_after", "rank_after", "reasons"]
    )


@dataclass
class WorkshopResult:
    """Everything the MoRiLE stage produces."""

    model: ScoringModel
    sheets: list[ScoringSheet]
    combined: pd.DataFrame
    moderated: pd.DataFrame
    before: pd.DataFrame
    ranking: pd.DataFrame
    changes: pd.DataFrame
    sensitivity: pd.DataFrame


def run_workshop(settings: MorileSettings) -> WorkshopResult:
    """Read the sheets, combine, moderate, score, rank and test sensitivity."""
    model = load_model(settings.model)
    sheets = read_scoring_sheets(settings.scores, model, settings.threats)
    combined = combine_scores(sheets, settings.combine)
    before = score_threats(combined, model, settings)
    moderation = (
        read_moderation(settings.moderation, model, settings.threats)
        if settings.moderation
        else pd.DataFrame(columns=["threat", "factor", "label", "value", "reason"])
    )
    moderated = apply_moderation(combined, moderation)
    ranking = score_threats(moderated, model, settings)
    log.info(
        "MoRiLE: %d threats scored by %d partner(s), %d moderated value(s)", len(ranking), len(sheets), len(moderation)
    )
    return WorkshopResult(
        model,
        sheets,
        combined,
        moderated,
        before,
        ranking,
        moderation_changes(before, ranking, moderated, model),
        sensitivity(moderated, model, settings),
    )


def write_processed(result: WorkshopResult, folder: Path) -> None:
    """Write the ranking (with sensitivity) for the report and the delivery plan appendix."""
    folder.mkdir(parents=True, exist_ok=True)
    ranking = result.ranking.merge(
        result.sensitivity[["threat", "best_rank", "worst_rank", "priority_can_change"]], on="threat"
    )
    ranking.to_parquet(folder / "morile_ranking.parquet", index=False)


def read_processed(folder: Path) -> pd.DataFrame:
    """Read the ranking written by ``write_processed``."""
    path = folder / "morile_ranking.parquet"
    if not path.is_file():
        raise InputDataError(f"{folder}: the MoRiLE stage's output is missing ({path.name}); run it first.")
    return pd.read_parquet(path)
