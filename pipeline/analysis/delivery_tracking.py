"""Managing delivery: the plan's actions as a register (owner, dates, milestones, status), by
priority and by strand; last year's plan reviewed (each action's outcome, each measure's result
against its target and this year's); and the grant-funded projects' quarterly monitoring."""

from __future__ import annotations

import math

import pandas as pd

from pipeline.analysis.delivery import assess, verdict_text
from pipeline.inputs.action_updates import Change, plan_actions
from pipeline.inputs.delivery_plan import DeliveryPlan, Grant, parse_target
from pipeline.inputs.delivery_review import PlanReview

# Each status with the symbol shown beside its word (never colour alone).
STATUS_SYMBOLS = {
    "not started": "\u25cb",  # ○
    "on track": "\u25cf",  # ●
    "at risk": "\u25b2",  # ▲
    "off track": "\u2717",  # ✗
    "complete": "\u2713",  # ✓
    "carried over": "\u21bb",  # ↻
}
OUTCOME_SYMBOLS = {"achieved": "\u2713", "not achieved": "\u2717", "carried over": "\u21bb"}


def status_text(status: str) -> str:
    """A status as symbol and word: '▲ at risk'."""
    return f"{STATUS_SYMBOLS[status]} {status}"


def status_classes() -> dict[str, str]:
    """The CSS class of each status and outcome as shown ("▲ at risk" -> "status status-at-risk")."""
    shown = {status_text(s): s for s in STATUS_SYMBOLS}
    shown |= {f"{symbol} {outcome}": outcome for outcome, symbol in OUTCOME_SYMBOLS.items()}
    return {text: "status status-" + word.replace(" ", "-") for text, word in shown.items()}


def _date(value: object) -> str:
    return f"{value.day} {value:%b %Y}" if value is not None else "not set"  # type: ignore[attr-defined]


def actions_table(plan: DeliveryPlan, priorities: list[str]) -> pd.DataFrame:
    """One row per action of the agreed priorities, in their order: id, priority, strand,
    action, owner, partners, start, due, milestones, status (symbol and word) and the latest
    update. A missing owner or date says so rather than leaving a blank."""
    rows = []
    for threat, action in plan_actions(plan, priorities):
        rows.append(
            {
                "ID": action.id,
                "Priority": threat,
                "Strand": plan.strand_of(threat, action),
                "Action": action.action,
                "Owner": action.owner or "not set",
                "Partners": ", ".join(action.partners),
                "Start": _date(action.start),
                "Due": _date(action.due),
                "Milestones": "; ".join(action.milestones),
                "Status": status_text(action.status),
                "Update": action.update,
                "status": action.status,
            }
        )
    columns = ["ID", "Priority", "Strand", "Action", "Owner", "Partners", "Start", "Due", "Milestones", "Status"]
    return pd.DataFrame(rows, columns=[*columns, "Update", "status"])


def status_counts(actions: pd.DataFrame) -> dict[str, int]:
    """How many actions have each status, in the order of ``STATUS_SYMBOLS`` (zeros left out)."""
    counts = actions["status"].value_counts() if len(actions) else pd.Series(dtype=int)
    return {s: int(counts[s]) for s in STATUS_SYMBOLS if counts.get(s, 0)}


def priorities_by_strand(plan: DeliveryPlan, priorities: list[str]) -> dict[str, list[str]]:
    """Each strand (in the plan's order) with the agreed priorities it holds or has actions in."""
    held: dict[str, list[str]] = {strand: [] for strand in plan.strands}
    for threat in priorities:
        strands = {plan.strand_of(threat)}
        response = plan.responses.get(threat)
        strands |= {plan.strand_of(threat, a) for a in (response.actions if response else [])}
        for strand in plan.strands:
            if strand in strands:
                held[strand].append(threat)
    return held


def change_log_table(changes: list[Change]) -> pd.DataFrame:
    """The updates applied, one row per change, in quarter order; statuses with their symbol,
    dates as "2 Mar 2022"."""

    def shown(change: Change, value: object) -> str:
        if change.what == "status":
            return status_text(str(value))
        if change.what == "due date":
            return _date(value)
        return "" if value is None else str(value)

    return pd.DataFrame(
        [
            {
                "Quarter": c.quarter,
                "ID": c.action_id,
                "Action": c.action,
                "What changed": c.what,
                "Was": shown(c, c.was),
                "Now": shown(c, c.now),
            }
            for c in changes
        ],
        columns=["Quarter", "ID", "Action", "What changed", "Was", "Now"],
    )


def review_actions_table(review: PlanReview) -> pd.DataFrame:
    """Last year's actions: priority, action, owner, outcome (symbol and word) and why."""
    return pd.DataFrame(
        [
            {
                "Priority": a.priority,
                "Action": a.action,
                "Owner": a.owner,
                "Outcome": f"{OUTCOME_SYMBOLS[a.outcome]} {a.outcome}",
                "Reason": a.reason,
            }
            for a in review.actions
        ],
        columns=["Priority", "Action", "Owner", "Outcome", "Reason"],
    )


def _value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not supplied"
    return f"{value:g}{unit}"


def review_measures_table(review: PlanReview, plan: DeliveryPlan, this_year: pd.DataFrame | None) -> pd.DataFrame:
    """Last year's measures: result against last year's target (met or not, judged on the
    point value: last year's figures come without intervals), then this year's target and
    result for the same indicator (matched by its wording, from ``delivery.performance_table``)."""
    now = this_year.set_index("Indicator") if this_year is not None and len(this_year) else None
    targets = {m.indicator: m.target for m in plan.performance_measures}
    rows = []
    for m in review.measures:
        verdict = assess(parse_target(m.target) if m.target else None, m.result, higher_is_better=m.higher_is_better)
        known = now is not None and m.indicator in now.index
        rows.append(
            {
                "Indicator": m.indicator,
                "Last year's target": m.target or "none set",
                "Last year's result": _value(m.result, m.unit),
                "Last year": verdict_text(verdict),
                "This year's target": (targets.get(m.indicator) or "none set") if known else "not in this year's plan",
                "This year's result": now.loc[m.indicator, "Actual"] if known else "not in this year's plan",
                "This year": now.loc[m.indicator, "Whether achieved"] if known else "",
            }
        )
    return pd.DataFrame(rows)


def project_monitoring(grant: Grant, quarters_reported: int | None = None) -> pd.DataFrame:
    """Each grant-funded project's allocation, spend by quarter and to date, and its variance
    against an even profile (the allocation spread equally over the four quarters, so after
    two quarters half of it is expected spent): negative is underspend. Outputs by quarter as
    the project reported them. ``quarters_reported`` defaults to the latest quarter any
    project reported."""
    order = ("Q1", "Q2", "Q3", "Q4")
    if quarters_reported is None:
        reported = [order.index(q.quarter) + 1 for a in grant.allocations for q in a.quarters]
        quarters_reported = max(reported, default=0)
    rows = []
    for a in grant.allocations:
        by_quarter = {q.quarter: q for q in a.quarters}
        row: dict[str, object] = {"Project": a.service, "Priority": a.priority, "Allocation (£)": a.amount}
        for q in order[:quarters_reported]:
            row[f"{q} spend (£)"] = by_quarter[q].spend if q in by_quarter else math.nan
        spent = sum(q.spend for q in a.quarters)
        expected = a.amount * quarters_reported / 4
        row["Spend to date (£)"] = spent
        row["Expected by now (£)"] = expected
        row["Variance (£)"] = spent - expected
        row["Outputs"] = " ".join(
            f"{q}: {by_quarter[q].outputs}" for q in order if q in by_quarter and by_quarter[q].outputs
        )
        missing = [q for q in order[:quarters_reported] if q not in by_quarter]
        if missing:
            row["Outputs"] = (row["Outputs"] + " " if row["Outputs"] else "") + f"No return for {', '.join(missing)}."
        rows.append(row)
    return pd.DataFrame(rows)
