"""The delivery plan appendix's managing sections, each returning what it shows in order
(headings, paragraphs, tables) for the notebook to display: the actions by priority and by
strand, the change log of the owners' updates, the grant's project monitoring, and last
year's plan reviewed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.analysis import delivery_tracking
from pipeline.documents.fragments import detail_blocks, heading, paragraph
from pipeline.documents.tables import ReportTables, tag_cells
from pipeline.inputs.action_updates import Change
from pipeline.inputs.delivery_plan import DeliveryPlan, pounds

_COLUMNS = ["ID", "Priority", "Action", "Owner", "Due", "Status"]


def actions_by_priority(
    tables: ReportTables, plan: DeliveryPlan, priorities: list[str], changes: list[Change]
) -> tuple[pd.DataFrame, list[Any]]:
    """How many actions have each status, the actions table (status by colour, symbol and
    word) and each action's details; returns the actions table too, for ``actions_by_strand``."""
    actions = delivery_tracking.actions_table(plan, priorities)
    counts = delivery_tracking.status_counts(actions)
    summary = (
        f"{len(actions)} actions: "
        + (", ".join(f"{n} {delivery_tracking.status_text(s)}" for s, n in counts.items()) or "none recorded")
        + "."
    )
    if changes:
        summary += f" Updated from the owners' returns for {', '.join(sorted({c.quarter for c in changes}))}."
    shown = [
        paragraph(summary),
        heading("By priority", 3),
        tag_cells(
            tables.show(
                actions.drop(columns="status"),
                "actions",
                f"Actions by priority, {plan.financial_year}",
                display_columns=_COLUMNS,
            ),
            delivery_tracking.status_classes(),
        ),
        detail_blocks(
            actions.assign(Heading=actions["ID"] + ": " + actions["Action"]),
            "Heading",
            ["Strand", "Partners", "Start", "Due", "Milestones", "Update"],
            level=4,
        ),
    ]
    return actions, shown


def actions_by_strand(
    tables: ReportTables, plan: DeliveryPlan, priorities: list[str], actions: pd.DataFrame
) -> list[Any]:
    """Each strand with the priorities it holds and a table of its actions."""
    shown = [heading("By strand", 3)]
    for strand, held in delivery_tracking.priorities_by_strand(plan, priorities).items():
        rows = actions[actions["Strand"] == strand]
        shown.append(
            paragraph(
                f"{strand}: "
                + (f"priorities {', '.join(held)}; " if held else "no priority; ")
                + (f"{len(rows)} action(s)." if len(rows) else "no action.")
            )
        )
        if len(rows):
            shown.append(
                tag_cells(
                    tables.show(
                        rows[_COLUMNS],
                        f"actions-{strand.lower().replace(' ', '-')}",
                        f"{strand}: actions, {plan.financial_year}",
                    ),
                    delivery_tracking.status_classes(),
                )
            )
    return shown


def change_log(tables: ReportTables, plan: DeliveryPlan, changes: list[Change]) -> list[Any]:
    """What the owners' update sheets changed (nothing without update sheets)."""
    if not changes:
        return []
    return [
        heading("Changes from the quarterly updates", 3),
        tag_cells(
            tables.show(
                delivery_tracking.change_log_table(changes),
                "actions-change-log",
                f"What the owners' update sheets changed, {plan.financial_year}",
            ),
            delivery_tracking.status_classes(),
        ),
    ]


def project_monitoring(tables: ReportTables, plan: DeliveryPlan) -> list[Any]:
    """The grant-funded projects' spend against an even profile (nothing without returns)."""
    if plan.grant is None or not any(a.quarters for a in plan.grant.allocations):
        return []
    monitoring = delivery_tracking.project_monitoring(plan.grant)
    return [
        heading("Project monitoring", 3),
        paragraph(
            "Each funded project's spend by quarter and to date against an even profile (a quarter of its "
            "allocation each quarter): a negative variance is spend behind profile. Outputs as each project "
            "reported them."
        ),
        tables.show(
            monitoring,
            "grant-monitoring",
            f"{plan.grant.name}: project monitoring, {plan.financial_year}",
            {c: pounds for c in monitoring.columns if c.endswith("(£)")},
        ),
    ]


def last_year_review(tables: ReportTables, path: Path | None, plan: DeliveryPlan, measures: pd.DataFrame) -> list[Any]:
    """Last year's plan reviewed (``delivery.last_year``): every action's outcome and every
    measure's result against its target and this year's (``measures``, the performance table)."""
    if path is None:
        return []
    from pipeline.inputs.delivery_review import load_review

    review = load_review(path)
    reviewed = delivery_tracking.review_actions_table(review)
    outcomes = reviewed["Outcome"].value_counts()
    return [
        heading(f"Last year's plan reviewed ({review.financial_year})", 2),
        paragraph(
            f"{len(reviewed)} actions in the {review.financial_year} plan: "
            + ", ".join(f"{n} {o}" for o, n in outcomes.items())
            + ". An action carried over is in this year's actions too."
        ),
        tag_cells(
            tables.show(reviewed, "review-actions", f"Actions of the {review.financial_year} plan and their outcomes"),
            delivery_tracking.status_classes(),
        ),
        tables.show(
            delivery_tracking.review_measures_table(review, plan, measures),
            "review-measures",
            f"Measures of the {review.financial_year} plan: last year's result against its target, and this year's",
            note="Last year's results are judged on the figure as reported (no interval was given with them).",
        ),
    ]
