"""Delivery plan inputs: the plan (YAML: facilitator overrides, responses, the grant,
performance measures) and the risk registers (YAML or xlsx), read and validated with every
problem listed at once."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputDataError, list_problems, repeated, validation_problems

# --- the grant ------------------------------------------------------------------------


def pounds(amount: float) -> str:
    """Money as council reports print it: £92,680 (pence shown only when there are any)."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    text = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    return f"{sign}\u00a3{text}"


def check_grant(grant: Grant, source: Path | str) -> None:
    """Raise ``InputDataError`` if the allocations add up to more than the grant."""
    allocated = sum(a.amount for a in grant.allocations)
    if allocated > grant.total + 1e-9:
        listed = "; ".join(f"{a.service} {pounds(a.amount)}" for a in grant.allocations)
        raise InputDataError(
            f"{source}: the {grant.name} allocations add up to {pounds(allocated)}, more than the grant of "
            f"{pounds(grant.total)} (over by {pounds(allocated - grant.total)}). Allocations: {listed}."
        )


# --- performance measures ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A target as the reports write it, parsed."""

    kind: Literal[
        "below", "at_most", "above", "at_least", "range", "same_as_last_year", "compared_elsewhere", "baseline"
    ]
    low: float | None = None
    high: float | None = None
    text: str = ""


_NUMBER = r"(\d+(?:\.\d+)?)\s*%?"


def parse_target(text: str) -> Target:
    """Parse '<10%', '>= 75%', '28%-40%', 'same as last year', 'no target - ...', 'baseline to be set'.

    A bare number ('65.2%') means 'at least' that value. Raises ``ValueError`` naming the
    accepted forms for anything else.
    """
    clean = text.strip().lower().replace("\u2264", "<=").replace("\u2265", ">=").replace("\u2013", "-")
    comparison = re.fullmatch(r"(<=|<|>=|>)\s*" + _NUMBER, clean)
    if comparison:
        kind = {"<": "below", "<=": "at_most", ">": "above", ">=": "at_least"}[comparison.group(1)]
        value = float(comparison.group(2))
        return Target(kind, value, value, text)
    between = re.fullmatch(_NUMBER + r"\s*(?:-|to)\s*" + _NUMBER, clean)
    if between:
        low, high = sorted((float(between.group(1)), float(between.group(2))))
        return Target("range", low, high, text)
    if re.fullmatch(_NUMBER, clean):
        value = float(re.fullmatch(_NUMBER, clean).group(1))
        return Target("at_least", value, value, text)
    if clean.startswith("same as last year"):
        return Target("same_as_last_year", text=text)
    if clean.startswith("no target"):
        return Target("compared_elsewhere", text=text)
    if "baseline" in clean:
        return Target("baseline", text=text)
    raise ValueError(
        f"target {text!r} is not a form this tool reads; use one of '<10%', '<= 10%', '>= 75%', '> 75%', "
        "'28%-40%', 'same as last year', 'no target - compared with elsewhere', 'baseline to be set'"
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """A decision that departs from the MoRiLE ranking: who took it, when, and why."""

    threat: str = Field(min_length=1)
    priority: bool
    reason: str = Field(min_length=1)
    date: datetime.date = Field(description="The day the decision was taken, e.g. 2021-01-19.")
    decided_by: str = Field(default="the facilitators", min_length=1, description="e.g. the partnership board")

    def decided(self) -> str:
        """Who decided and when, in words: "the partnership board, 19 January 2021"."""
        return f"{self.decided_by}, {self.date.day} {self.date:%B %Y}"


# An action's status, as the plan and the owners' update sheet write it.
STATUSES = ("not started", "on track", "at risk", "off track", "complete", "carried over")
DEFAULT_STRANDS = ("Prevention", "Protection", "Response")
_MINOR_WORDS = {"and", "of", "the", "other", "than", "or", "in", "on", "to"}


class Action(_Strict):
    """One action of the plan, as a thing to manage: who owns it, when it runs, where it stands."""

    id: str = Field(default="", description="A short reference, e.g. DA-1; made from the priority if not given.")
    action: str = Field(min_length=1)
    strand: str | None = Field(default=None, description="Default: its priority's strand.")
    owner: str = ""
    partners: list[str] = Field(default_factory=list)
    start: datetime.date | None = None
    due: datetime.date | None = None
    milestones: list[str] = Field(default_factory=list)
    status: Literal["not started", "on track", "at risk", "off track", "complete", "carried over"] = "not started"
    update: str = Field(default="", description="The latest short update from its owner.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        # An action written as plain text, as in plans before actions were managed.
        return {"action": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _dates_in_order(self) -> "Action":
        if self.start and self.due and self.due < self.start:
            raise ValueError(f"due {self.due} is before start {self.start}")
        return self


class Response(_Strict):
    response: str = ""
    lead: str = ""
    strand: str | None = Field(default=None, description="The priority's strand (one of the plan's strands).")
    actions: list[Action] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)


class QuarterReport(_Strict):
    """A funded project's return for one quarter of the financial year."""

    quarter: Literal["Q1", "Q2", "Q3", "Q4"]
    spend: float = Field(ge=0, description="Pounds spent in the quarter.")
    outputs: str = Field(default="", description="What the quarter delivered, e.g. '14 women completed the course'.")


class Allocation(_Strict):
    priority: str = Field(min_length=1)
    service: str = Field(min_length=1)
    provider: str = ""
    description: str = ""
    amount: float = Field(gt=0, description="Pounds.")
    quarters: list[QuarterReport] = Field(default_factory=list, description="Quarterly monitoring returns.")

    @field_validator("quarters")
    @classmethod
    def _each_quarter_once(cls, quarters: list[QuarterReport]) -> list[QuarterReport]:
        twice = repeated(q.quarter for q in quarters)
        if twice:
            raise ValueError(f"quarter {', '.join(twice)} is given more than once")
        return quarters


class Grant(_Strict):
    name: str = "Police and Crime Grant"
    total: float = Field(gt=0, description="Pounds.")
    allocations: list[Allocation] = Field(default_factory=list)


class Value(_Strict):
    value: float
    unit: str = ""


class Source(_Strict):
    """Where a measure's figure comes from: a survey indicator, crime types, a partner indicator
    (its id in the partner catalogue), or a value given here."""

    survey: str | None = None
    crime: list[str] | None = None
    partner: str | None = None
    value: float | None = None
    unit: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> "Source":
        if sum(x is not None for x in (self.survey, self.crime, self.partner, self.value)) != 1:
            raise ValueError(
                "give exactly one of survey (an indicator id), crime (crime types), partner (a partner indicator id) "
                "or value"
            )
        return self


def _target_form(text: str) -> str:
    parse_target(text)  # raises ValueError naming the forms it reads
    return text


# A target in one of the forms the reports use ('<10%', '28%-40%', 'same as last year'...).
TargetText = Annotated[str, AfterValidator(_target_form)]


class Measure(_Strict):
    indicator: str = Field(min_length=1)
    actual: Source | None = None
    previous: Source | None = None
    target: TargetText | None = None
    higher_is_better: bool = True
    comments: str = ""


class DeliveryPlan(_Strict):
    """The delivery plan input file."""

    financial_year: str = Field(pattern=r"^\d{4}/\d{2}$")
    title: str = "Delivery Plan Appendix"
    overrides: list[Override] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list, description="Used only when no MoRiLE stage runs.")
    responses: dict[str, Response] = Field(default_factory=dict)
    grant: Grant | None = None
    performance_measures: list[Measure] = Field(default_factory=list)
    strands: list[str] = Field(default_factory=lambda: list(DEFAULT_STRANDS), min_length=1)

    @model_validator(mode="after")
    def _strands_and_action_ids(self) -> "DeliveryPlan":
        """Every strand named is one of ``strands``; every action gets a unique id (its own, or
        the initials of its priority and its number there: Domestic abuse's second is DA-2)."""
        problems, seen = [], {}
        for threat, response in self.responses.items():
            where = f"responses.{threat}"
            if response.strand is not None and response.strand not in self.strands:
                problems.append(f"{where}.strand: {response.strand!r} is not one of the strands {self.strands}")
            words = [w for w in re.findall(r"[A-Za-z]+", threat) if w.lower() not in _MINOR_WORDS]
            initials = "".join(w[0].upper() for w in words)[:3] or "A"
            for n, action in enumerate(response.actions, start=1):
                if action.strand is not None and action.strand not in self.strands:
                    problems.append(
                        f"{where}.actions.{n - 1}.strand: {action.strand!r} is not one of the strands {self.strands}"
                    )
                if not action.id:
                    object.__setattr__(action, "id", f"{initials}-{n}")
                if action.id in seen:
                    problems.append(
                        f"{where}.actions.{n - 1}.id: {action.id!r} is also the id of an action of {seen[action.id]}; "
                        "give each action its own id"
                    )
                seen[action.id] = threat
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def strand_of(self, threat: str, action: Action | None = None) -> str:
        """An action's strand, else its priority's, else the first strand."""
        response = self.responses.get(threat)
        return (action.strand if action else None) or (response.strand if response else None) or self.strands[0]


def load_plan(path: Path) -> DeliveryPlan:
    """Read and validate the delivery plan input (YAML), listing every problem at once."""
    from pipeline.inputs.yaml_files import read_yaml_model

    plan = read_yaml_model(path, DeliveryPlan, "the delivery plan input")
    if plan.grant:
        check_grant(plan.grant, path)
    return plan


# --- risk register --------------------------------------------------------------------


class Risk(_Strict):
    ref: str = Field(min_length=1)
    category: str = ""
    risk: str = Field(min_length=1)
    triggers: list[str] = Field(default_factory=list)
    consequences: list[str] = Field(default_factory=list)
    impact: int
    likelihood: int
    score: int | None = None
    mitigations: list[str] = Field(default_factory=list)
    further_action: list[str] = Field(default_factory=list)
    owner: str = ""
    review: str = ""
    note: str = ""


def _register_rows(path: Path) -> tuple[str, list[dict[str, Any]]]:
    if path.suffix.lower() not in (".yaml", ".yml"):
        from pipeline.inputs.spreadsheets import open_workbook

        sheet = open_workbook(path).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        header = [str(h).strip().lower().replace(" ", "_") if h is not None else "" for h in values[0]]
        rows = []
        for record in values[1:]:
            if all(v in (None, "") for v in record):
                continue
            item = {}
            for key, value in zip(header, record):
                if not key or value is None:
                    continue
                if key in ("triggers", "consequences", "mitigations", "further_action"):
                    value = [line.strip() for line in str(value).splitlines() if line.strip()]
                item[key] = value
            rows.append(item)
        return sheet.title, rows
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("risks"), list):
        raise InputDataError(f"{path}: a risk register YAML needs a list of risks under the key 'risks'.")
    return str(raw.get("title", "Risk register")), raw["risks"]


def load_register(path: Path) -> tuple[str, list[Risk]]:
    """Read and validate a risk register (YAML with ``risks``, or xlsx with one row per risk).

    Every problem is listed at once, by row and reference: impact or likelihood off the
    1-3 scale, a score that disagrees with impact x likelihood, a missing owner.
    """
    title, rows = _register_rows(path)
    risks, problems = [], []
    for number, row in enumerate(rows, start=1):
        ref = str(row.get("ref", "")).strip() or f"(no reference, row {number})"
        where = f"risk {number} ({ref})"
        try:
            risk = Risk.model_validate(row)
        except ValidationError as exc:
            problems += [f"{where}: {p}" for p in validation_problems(exc)]
            continue
        for name in ("impact", "likelihood"):
            value = getattr(risk, name)
            if not 1 <= value <= 3:
                problems.append(f"{where}: {name} {value} is off the scale; use 1, 2 or 3")
        if risk.score is not None and risk.score != risk.impact * risk.likelihood:
            problems.append(
                f"{where}: score {risk.score} disagrees with impact x likelihood = {risk.impact} x {risk.likelihood} "
                f"= {risk.impact * risk.likelihood}"
            )
        if not risk.owner.strip():
            problems.append(f"{where}: no risk owner; every risk needs one")
        risks.append(risk)
    refs = [r.ref for r in risks]
    problems += [f"reference {r!r} is used more than once" for r in sorted({r for r in refs if refs.count(r) > 1})]
    if problems:
        raise InputDataError(list_problems(f"Problems in the risk register {path}:", problems))
    return title, risks
