"""The resident survey section: indicators by year with their intervals, and subgroups.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd


def survey_table(results: pd.DataFrame, indicator_id: str) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """One indicator's results by year: weighted %, 95% CI, bases, change and verdict."""
    rows = results[results["indicator"] == indicator_id].sort_values("year")

    def interval(low: float, high: float, unit: str = "%") -> str:
        # A true minus sign: reads correctly, and a spreadsheet cannot take the text for a formula.
        def signed(v: float) -> str:
            return f"{v:.1f}".replace("-", "\u2212")

        return "" if pd.isna(low) else f"{signed(low)}{unit} to {signed(high)}{unit}"

    table = pd.DataFrame(
        {
            "Year": rows["year"].astype(str),
            "Weighted %": rows["percent"].round(1),
            "95% confidence interval": [interval(lo, hi) for lo, hi in zip(rows["ci_low"], rows["ci_high"])],
            "Base (respondents)": rows["base"],
            "Effective base": rows["effective_base"].round(0),
            "Change since previous year (points)": rows["change_points"].round(1),
            "95% CI of change": [
                interval(lo, hi, " pts") for lo, hi in zip(rows["change_ci_low"], rows["change_ci_high"])
            ],
            "Verdict": rows["verdict"],
        }
    )
    formats = {
        "Weighted %": lambda v: f"{v:.1f}%",
        "Effective base": lambda v: f"{v:,.0f}",
        "Change since previous year (points)": lambda v: f"{v:+.1f}",
    }
    return table.reset_index(drop=True), formats


def subgroup_table(
    comparisons: pd.DataFrame, indicator_id: str
) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Every subgroup comparison made for one indicator, with raw and Holm-adjusted p-values."""
    rows = comparisons[comparisons["indicator"] == indicator_id]
    table = pd.DataFrame(
        {
            "Group": rows["who"],
            "Group %": rows["group_percent"].round(1),
            "Rest of district %": rows["rest_percent"].round(1),
            "Difference (points)": rows["difference_points"].round(1),
            "p (Holm-adjusted)": rows["p_holm"].round(4),
            "Significant at 5%": [
                "yes" if s else ("" if n else "no") for s, n in zip(rows["significant"], rows["note"].fillna(""))
            ],
            "Bases (group / rest)": [f"{g:,} / {r:,}" for g, r in zip(rows["group_base"], rows["rest_base"])],
            "Note": rows["note"].fillna(""),
        }
    )
    formats = {
        "Group %": lambda v: f"{v:.1f}%",
        "Rest of district %": lambda v: f"{v:.1f}%",
        "Difference (points)": lambda v: f"{v:+.1f}",
        "p (Holm-adjusted)": lambda v: "<0.001" if v < 0.001 else f"{v:.3f}",
    }
    return table.reset_index(drop=True), formats


def survey_summary_table(
    results: pd.DataFrame, labels: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Each indicator's latest survey year in one row: weighted %, its 95% interval, the change
    in percentage points since the year before and the verdict on it. ``labels`` maps
    indicator ids to labels, in the order to show. A suppressed year shows why, not a number."""
    rows = []
    for indicator_id, label in labels.items():
        found = results[results["indicator"] == indicator_id].sort_values("year")
        if not len(found):
            continue
        latest = found.iloc[-1]
        suppressed = bool(latest.get("suppressed", False))
        rows.append(
            {
                "Indicator": label,
                "Year": str(latest["year"]),
                "Weighted %": "not published" if suppressed else f"{latest['percent']:.1f}%",
                "95% interval": ""
                if suppressed or pd.isna(latest["ci_low"])
                else f"{latest['ci_low']:.1f}% to {latest['ci_high']:.1f}%",
                "Change since the year before (points)": ""
                if pd.isna(latest.get("change_points"))
                else f"{latest['change_points']:+.1f}".replace("-", "\u2212"),
                "Verdict": latest["verdict"],
            }
        )
    return pd.DataFrame(rows), {}
