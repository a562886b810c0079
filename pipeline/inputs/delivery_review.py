"""Last year's delivery plan as an input: what became of each of its actions, and each of its
measures' results against their targets (YAML), read and validated with every problem at once.

Format::

    financial_year: 2020/21
    actions:
      - priority: Domestic abuse
        action: Recommission the Freedom Programme
        owner: Domestic Abuse Partnership
        outcome: achieved            # achieved | not achieved | carried over
        reason: Recommissioned from April 2020.
    measures:
      - indicator: "% residents feeling safe outside in their local area after dark"
        target: ">= 70%"
        result: 68.2
        unit: "%"
        higher_is_better: true

An action carried over should appear in this year's plan too (with status ``carried over``);
a measure is matched to this year's by its indicator's wording.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import InputDataError, list_problems
from pipeline.inputs.delivery_plan import TargetText
from pipeline.inputs.yaml_files import read_yaml_model

OUTCOMES = ("achieved", "not achieved", "carried over")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewedAction(_Strict):
    priority: str = Field(min_length=1)
    action: str = Field(min_length=1)
    owner: str = ""
    outcome: Literal["achieved", "not achieved", "carried over"]
    reason: str = Field(default="", description="Why, in a sentence; required unless achieved.")

    @field_validator("reason")
    @classmethod
    def _strip(cls, text: str) -> str:
        return text.strip()


class ReviewedMeasure(_Strict):
    indicator: str = Field(min_length=1)
    target: TargetText | None = None
    result: float | None = Field(default=None, description="Last year's result; blank if none was supplied.")
    unit: str = ""
    higher_is_better: bool = True
    comments: str = ""


class PlanReview(_Strict):
    """Last year's plan, reviewed."""

    financial_year: str = Field(pattern=r"^\d{4}/\d{2}$")
    actions: list[ReviewedAction] = Field(default_factory=list)
    measures: list[ReviewedMeasure] = Field(default_factory=list)


def load_review(path: Path) -> PlanReview:
    """Read and check last year's plan review, every problem at once: an outcome not in
    ``OUTCOMES``, a missing reason for an action not achieved, a target in no known form."""
    review = read_yaml_model(path, PlanReview, "last year's plan review")
    missing = [
        f"actions.{i}.reason: the action {a.action!r} was {a.outcome}; say why in a sentence"
        for i, a in enumerate(review.actions)
        if a.outcome != "achieved" and not a.reason
    ]
    if missing:
        raise InputDataError(list_problems(f"Problems in last year's plan review {path}:", missing))
    return review
