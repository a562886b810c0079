"""Delivery stage: the appendix the partnership votes on.

Statutory Instrument 2007 No 1830 requires a CSP's partnership plan to set out the
priorities from the strategic assessment, the steps to meet them, how resources are
allocated and how success will be measured. This module builds each part: priorities
(from the MoRiLE stage, with facilitator overrides), the Police and Crime Grant,
performance measures against targets, and the risk register.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from pipeline.errors import InputDataError, list_problems
from pipeline.inputs.delivery_plan import DeliveryPlan, Grant, Response, Risk, Source, Target, parse_target

log = logging.getLogger(__name__)

ACHIEVED, NOT_ACHIEVED, MARGIN, NOT_AVAILABLE, NO_TARGET = (
    "achieved",
    "not achieved",
    "within the margin of error",
    "not available",
    "no target",
)
SYMBOLS = {ACHIEVED: "\u2713", NOT_ACHIEVED: "\u2717", MARGIN: "\u2248", NOT_AVAILABLE: "?", NO_TARGET: "\u2013"}
RISK_BANDS = ((7, "High"), (4, "Medium"), (1, "Low"))  # score from: Low 1-3, Medium 4-6, High 7-9


# --- priorities -------------------------------------------------------------------------


def final_priorities(ranking: pd.DataFrame | None, plan: DeliveryPlan) -> pd.DataFrame:
    """The priorities: proposed by MoRiLE (or listed in the plan), with facilitator overrides applied.

    Columns: threat, rank (MoRiLE rank, blank without MoRiLE), proposed (by MoRiLE),
    priority (after overrides), override_reason and override_decided (who took the decision
    and when, in words). Only threats that are priorities, or
    were proposed and then removed, are returned, in rank order.
    """
    if ranking is not None:
        table = ranking[["threat", "rank", "priority"]].rename(columns={"priority": "proposed"}).copy()
    else:
        table = pd.DataFrame({"threat": plan.priorities, "rank": pd.NA, "proposed": True})
    table["priority"] = table["proposed"]
    table["override_reason"] = ""
    table["override_decided"] = ""
    problems = []
    for override in plan.overrides:
        mask = table["threat"] == override.threat
        if not mask.any():
            problems.append(f"overrides: threat {override.threat!r} is not among the threats scored")
            continue
        table.loc[mask, ["priority", "override_reason", "override_decided"]] = [
            override.priority,
            override.reason,
            override.decided(),
        ]
    if problems:
        raise InputDataError(list_problems("Problems with the priority overrides:", problems))
    shown = table[table["priority"] | (table["proposed"] != table["priority"])]
    return shown.reset_index(drop=True)


def priorities_table(priorities: pd.DataFrame, plan: DeliveryPlan) -> pd.DataFrame:
    """Each priority with its MoRiLE rank, any override, and the response, lead, actions and partners."""
    rows = []
    for _, p in priorities.iterrows():
        response = plan.responses.get(p["threat"], Response())
        if p["priority"] and not p["proposed"]:
            status = f"Added by {p['override_decided']}: {p['override_reason']}"
        elif not p["priority"]:
            status = f"Removed by {p['override_decided']}: {p['override_reason']}"
        else:
            status = "Proposed by the prioritisation workshop"
        rows.append(
            {
                "Threat": p["threat"],
                "MoRiLE rank": "" if pd.isna(p["rank"]) else int(p["rank"]),
                "Priority": "Yes" if p["priority"] else "No",
                "How it was chosen": status,
                "Response": response.response,
                "Lead": response.lead,
                "Strand": plan.strand_of(p["threat"]),
                "Actions": "; ".join(f"{a.id}: {a.action}" for a in response.actions),
                "Partners": ", ".join(response.partners),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class GrantSummary:
    total: float
    allocated: float
    remaining: float
    not_priorities: list[str]  # services allocated to something that is not a priority


def grant_summary(grant: Grant, priorities: list[str]) -> tuple[pd.DataFrame, GrantSummary]:
    """The allocation table (in pounds) and its totals; allocations to non-priorities are flagged."""
    rows = [
        {
            "Priority": a.priority,
            "Service": a.service,
            "Provider": a.provider,
            "Description": a.description,
            "Amount (£)": int(a.amount) if float(a.amount).is_integer() else a.amount,
            "Is a priority": "Yes" if a.priority in priorities else "No - not a priority this year",
        }
        for a in grant.allocations
    ]
    allocated = sum(a.amount for a in grant.allocations)
    flagged = [a.service for a in grant.allocations if a.priority not in priorities]
    return pd.DataFrame(rows), GrantSummary(grant.total, allocated, grant.total - allocated, flagged)


def assess(
    target: Target | None,
    actual: float | None,
    ci_low: float | None = None,
    ci_high: float | None = None,
    previous: float | None = None,
    higher_is_better: bool = True,
    change_ci: tuple[float, float] | None = None,
) -> str:
    """The verdict for a measure: achieved, not achieved, within the margin of error, not available or no target.

    With a 95% interval for the actual, the target is achieved only when the whole
    interval meets it, not achieved when the whole interval misses it, and within the
    margin of error when the interval straddles it. Without an interval the point value
    decides. 'Same as last year' means no worse than the previous result: with the 95%
    interval of the change since last year (``change_ci``, in the measure's units), it is
    achieved when the whole interval is on the better side of no change, not achieved
    when the whole interval is on the worse side, and within the margin of error when it
    straddles no change, because last year's figure is an estimate too.
    """
    if target is None or target.kind in ("compared_elsewhere", "baseline"):
        return NO_TARGET
    if actual is None or (isinstance(actual, float) and math.isnan(actual)):
        return NOT_AVAILABLE
    kind, low, high = target.kind, target.low, target.high
    if kind == "same_as_last_year":
        if previous is None or math.isnan(previous):
            return NOT_AVAILABLE
        if change_ci is not None and not any(math.isnan(v) for v in change_ci):
            better = (lambda x: x > 0) if higher_is_better else (lambda x: x < 0)
            worse = (lambda x: x < 0) if higher_is_better else (lambda x: x > 0)
            if better(change_ci[0]) and better(change_ci[1]):
                return ACHIEVED
            if worse(change_ci[0]) and worse(change_ci[1]):
                return NOT_ACHIEVED
            return MARGIN
        kind, low, high = ("at_least" if higher_is_better else "at_most"), previous, previous
    has_interval = ci_low is not None and ci_high is not None and not (math.isnan(ci_low) or math.isnan(ci_high))
    lo, hi = (ci_low, ci_high) if has_interval else (actual, actual)

    def meets(x: float) -> bool:
        return {
            "below": x < low,
            "at_most": x <= low,
            "above": x > low,
            "at_least": x >= low,
            "range": low <= x <= high,
        }[kind]

    if kind == "range":
        if low <= lo and hi <= high:
            return ACHIEVED
        if hi < low or lo > high:
            return NOT_ACHIEVED
        return MARGIN
    if meets(lo) and meets(hi):
        return ACHIEVED
    if not meets(lo) and not meets(hi):
        return NOT_ACHIEVED
    return MARGIN


def verdict_text(verdict: str) -> str:
    """A verdict with its symbol and its word (never colour alone): '✓ achieved'."""
    return f"{SYMBOLS[verdict]} {verdict}"


@dataclass(frozen=True)
class Figure:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    unit: str = ""
    note: str = ""
    change_ci: tuple[float, float] | None = None  # 95% interval of the change since the previous figure
    names_period: bool = False  # the note names the period the figure covers, so the cell shows it


def _survey_figure(
    results: pd.DataFrame | None, indicator: str, which: Literal["latest", "previous"], sample: bool = False
) -> Figure:
    if results is None:
        return Figure(None, note="no survey stage in this run")
    rows = results[(results["indicator"] == indicator)].sort_values("year")
    if rows.empty:
        return Figure(None, note=f"survey indicator {indicator!r} not found")
    if which == "previous":
        if len(rows) < 2:
            return Figure(None)
        rows = rows.iloc[:-1]
    row = rows.iloc[-1]
    if bool(row["suppressed"]):
        return Figure(None, unit="%", note=f"{int(row['year'])} result suppressed (small base)")
    label = f"{'synthetic sample ' if sample else ''}survey {int(row['year'])}"
    change = (
        (float(row["change_ci_low"]), float(row["change_ci_high"]))
        if "change_ci_low" in row and not pd.isna(row["change_ci_low"])
        else None
    )
    return Figure(float(row["percent"]), float(row["ci_low"]), float(row["ci_high"]), "%", label, change)


def _crime_figure(rates: pd.DataFrame | None, crime_types: list[str], which: Literal["latest", "previous"]) -> Figure:
    if rates is None:
        return Figure(None, note="no crime figures in this run")
    row = rates.loc[which]
    if int(row["months_present"]) == 0:
        return Figure(None, note=f"{row['label']}: no usable police data for those months")
    missing = [t for t in crime_types if f"{t} rate" not in row or pd.isna(row[f"{t} rate"])]
    if missing:
        return Figure(None, note="no rate for " + ", ".join(missing))
    return Figure(float(sum(row[f"{t} rate"] for t in crime_types)), unit=" per 1,000 a year", note=str(row["label"]))


def _partner_figure(
    results: pd.DataFrame | None, indicator: str, which: Literal["latest", "previous"], sample: bool = False
) -> Figure:
    """A partner indicator's latest figure (a share in %, with its Wilson interval) or the one
    it is compared with (the same period a year before), naming its period."""
    if results is None:
        return Figure(None, note="no partner data in this run")
    rows = results[results["indicator"] == indicator]
    if rows.empty or not int(rows.iloc[0]["periods"]):
        return Figure(None, note=f"no partner figure for {indicator!r}")
    row = rows.iloc[0]
    label = "synthetic sample " if sample else ""
    share = row["unit"] == "proportion"
    if which == "latest":
        if bool(row["latest_suppressed"]):
            return Figure(None, note=f"{row['latest_period']} suppressed (a small number)")
        value, period = float(row["latest_value"]), row["latest_period"]
    else:
        if not isinstance(row.get("comparison_period"), str):
            return Figure(None)
        if bool(row.get("change_suppressed")):
            return Figure(None, note=f"{row['comparison_period']} suppressed (a small number)")
        value, period = float(row["comparison_value"]), row["comparison_period"]
    if not share:
        return Figure(value, note=f"{label}{period}", names_period=True)
    low, high = (row["latest_low"], row["latest_high"]) if which == "latest" else (None, None)
    change = (
        (float(row["change_low"]), float(row["change_high"]))
        if which == "latest" and "change_low" in row and not pd.isna(row["change_low"])
        else None
    )
    return Figure(
        100 * value,
        None if low is None else 100 * float(low),
        None if high is None else 100 * float(high),
        "%",
        f"{label}{period}",
        change,
        names_period=True,
    )


def figure_for(
    source: Source | None,
    survey_results: pd.DataFrame | None,
    crime_rates: pd.DataFrame | None,
    which: Literal["latest", "previous"],
    survey_is_sample: bool = False,
    partner_results: pd.DataFrame | None = None,
    partners_sample: bool = False,
) -> Figure:
    """A measure's actual (``which='latest'``) or previous figure from its source."""
    if source is None:
        return Figure(None)
    if source.value is not None:
        return Figure(source.value, unit=source.unit)
    if source.survey is not None:
        return _survey_figure(survey_results, source.survey, which, survey_is_sample)
    if source.partner is not None:
        return _partner_figure(partner_results, source.partner, which, partners_sample)
    return _crime_figure(crime_rates, source.crime or [], which)


def _names_its_months(figure: Figure) -> bool:
    # A crime rate's or a partner figure's period goes in the cell itself: a count or rate never
    # leaves its months unsaid.
    return (figure.unit.startswith(" per 1,000") or figure.names_period) and bool(figure.note)


def _show(figure: Figure) -> str:
    if figure.value is None:
        return f"not available: {figure.note}" if figure.note else "not available"
    # A count (no unit, a whole number) is shown whole: 8, not 8.0.
    whole = not figure.unit and float(figure.value).is_integer()
    text = f"{figure.value:,.0f}" if whole else f"{figure.value:.1f}{figure.unit}"
    if figure.ci_low is not None:
        text += f" (95% CI {figure.ci_low:.1f} to {figure.ci_high:.1f})"
    if _names_its_months(figure):
        text += f" ({figure.note})"
    return text


def performance_table(
    plan: DeliveryPlan,
    survey_results: pd.DataFrame | None,
    crime_rates: pd.DataFrame | None,
    survey_targets: dict[str, str] | None = None,
    survey_is_sample: bool = False,
    partner_results: pd.DataFrame | None = None,
    partner_targets: dict[str, str] | None = None,
    partners_sample: bool = False,
) -> pd.DataFrame:
    """Indicator, previous result, target, actual, whether achieved, comments.

    ``crime_rates`` has rows 'latest' (assessment window) and 'previous' (the window
    before) with ``<type> rate`` columns and a ``label``. A survey or partner measure
    with no target of its own takes its indicator's target (``survey_targets``,
    ``partner_targets``).
    """
    rows = []
    for measure in plan.performance_measures:
        actual = figure_for(
            measure.actual, survey_results, crime_rates, "latest", survey_is_sample, partner_results, partners_sample
        )
        previous_source = measure.previous or (
            measure.actual if measure.actual and measure.actual.value is None else None
        )
        previous = figure_for(
            previous_source, survey_results, crime_rates, "previous", survey_is_sample, partner_results, partners_sample
        )
        target_text = measure.target
        if target_text is None and measure.actual and measure.actual.survey and survey_targets:
            target_text = survey_targets.get(measure.actual.survey)
        if target_text is None and measure.actual and measure.actual.partner and partner_targets:
            target_text = partner_targets.get(measure.actual.partner)
        target = parse_target(target_text) if target_text else None
        verdict = assess(
            target,
            actual.value,
            actual.ci_low,
            actual.ci_high,
            previous.value,
            measure.higher_is_better,
            actual.change_ci,
        )
        actual_note = "" if _names_its_months(actual) or actual.value is None else actual.note
        comments = "; ".join(c for c in (measure.comments, actual_note) if c)
        rows.append(
            {
                "Indicator": measure.indicator,
                "Previous result": _show(previous),
                "Target": target_text or "none set",
                "Actual": _show(actual),
                "Whether achieved": verdict_text(verdict),
                "Comments": comments,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def risk_band(score: int) -> str:
    """Low 1-3, Medium 4-6, High 7-9, as in the partnership's register."""
    return next(label for minimum, label in RISK_BANDS if score >= minimum)


def register_table(risks: list[Risk], previous: list[Risk] | None = None) -> pd.DataFrame:
    """The register sorted by score (highest first, then reference), with band and movement."""
    before = {r.ref: r.impact * r.likelihood for r in previous or []}
    rows = []
    for risk in risks:
        score = risk.impact * risk.likelihood
        if previous is None:
            movement = "no previous register"
        elif risk.ref not in before:
            movement = "new"
        elif score > before[risk.ref]:
            movement = f"up from {before[risk.ref]}"
        elif score < before[risk.ref]:
            movement = f"down from {before[risk.ref]}"
        else:
            movement = "no change"
        rows.append(
            {
                "Ref": risk.ref,
                "Risk": risk.risk,
                "Triggered by": "; ".join(risk.triggers),
                "Consequences": "; ".join(risk.consequences),
                "Impact": risk.impact,
                "Likelihood": risk.likelihood,
                "Score": score,
                "Band": risk_band(score),
                "Mitigations": "; ".join(risk.mitigations),
                "Further action": "; ".join(risk.further_action),
                "Owner": risk.owner,
                "Review": risk.review,
                "Movement": movement,
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(["Score", "Ref"], ascending=[False, True], kind="stable").reset_index(drop=True)


def closed_risks(risks: list[Risk], previous: list[Risk] | None) -> list[str]:
    """References in last year's register that are no longer in this year's."""
    current = {r.ref for r in risks}
    return [r.ref for r in previous or [] if r.ref not in current]


def crime_rates_for_measures(crimes: pd.DataFrame, coverage: pd.DataFrame, area: Any, period_end: str) -> pd.DataFrame:
    """Rates per 1,000 a year for the assessment window ('latest') and the 12 months before ('previous').

    ``area`` is the assessed ``AreaDefinition`` (each window uses the population estimate
    for its own year). Each row's ``label`` names the months behind the rate and says
    when fewer than 12 were scaled up to a year.
    """
    from pipeline.analysis.police import usable_months
    from pipeline.analysis.trends import window_rates
    from pipeline.months import assessment_window, describe_months, shift_month

    usable = {area.name: usable_months(coverage, area.name)}
    rows = []
    for key, end in (("latest", period_end), ("previous", shift_month(period_end, -12))):
        row = window_rates(crimes, [area], usable, end).iloc[0]
        months = [m for m in assessment_window(end) if m in set(usable[area.name])]
        scaled = "" if len(months) in (0, 12) else f", scaled up to a year from {len(months)} months"
        row["label"] = (
            f"police.uk, {describe_months(months) if months else describe_months(assessment_window(end))}{scaled}"
        )
        rows.append(row.rename(key))
    return pd.DataFrame(rows)
