"""The partner indicators as tables: one row per indicator (latest value, change, trend) and
every period of every indicator, with small numbers suppressed by each indicator's own
threshold."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pipeline.analysis.partner_indicators import SUPPRESSED, shown_value
from pipeline.inputs.partner_data import Catalogue, Period


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _latest(row: Any) -> str:
    if not row.periods:
        return "no figures given up to the window's end"
    stale = " (before the assessment window)" if not _missing(row.before_window) and bool(row.before_window) else ""
    if row.latest_suppressed:
        return f"{SUPPRESSED} ({row.latest_period}){stale}"
    text = shown_value(row.unit, row.latest_value)
    if row.unit == "proportion" and not _missing(row.latest_low):
        text += f" ({100 * row.latest_low:.1f}% to {100 * row.latest_high:.1f}%)"
    return f"{text}, {row.latest_period}{stale}"


def _signed(value: float, unit: str = "%") -> str:
    """+4%, -9%; 0% for a change that rounds to nothing (never -0%)."""
    text = f"{value:+.0f}"
    return ("0" if text in ("+0", "-0") else text) + unit


def _direction(value: float, unit: str, decimals: int = 0) -> str:
    """'up 4%', 'down 32%', 'no change': words first, so no cell starts with a sign."""
    size = round(abs(value), decimals)
    if size == 0:
        return "no change"
    return f"{'up' if value > 0 else 'down'} {size:.{decimals}f}{unit}"


def _change(row: Any) -> str:
    if not row.periods:
        return "not computed: no figures given"
    if _missing(getattr(row, "comparison_period", None)):
        return "not computed: " + (row.change_note if isinstance(row.change_note, str) else "no earlier period")
    if row.change_suppressed:
        return f"{SUPPRESSED} (on {row.comparison_period})"
    if row.unit == "proportion":
        return (
            f"{_direction(row.change_points, ' points', 1)} ({row.change_low:+.1f} to {row.change_high:+.1f}) on "
            f"{row.comparison_period}"
        )
    if _missing(row.change_percent):
        return f"up from 0 on {row.comparison_period}"
    return f"{_direction(row.change_percent, '%')} on {row.comparison_period}"


def _trend(row: Any) -> str:
    if isinstance(row.trend_note, str) and row.trend_note:
        return row.trend_note
    if _missing(row.trend_ratio):
        return "not given"
    what = "odds" if row.unit == "proportion" else "rate"
    change = 100 * (row.trend_ratio - 1)
    low, high = 100 * (row.trend_low - 1), 100 * (row.trend_high - 1)
    return f"{row.trend_verdict}: {what} {_signed(change)} a year ({_signed(low)} to {_signed(high)})"


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator, by theme: agency, latest value (a share with its 95% interval),
    change on the comparison period with its verdict, and the trend a year."""
    for column in (
        "comparison_period",
        "change_note",
        "trend_note",
        "change_low",
        "change_high",
        "latest_low",
        "latest_high",
        "trend_low",
        "trend_high",
        "change_suppressed",
        "latest_suppressed",
    ):
        if column not in results:
            results = results.assign(**{column: math.nan})
    rows = []
    for row in results.sort_values(["theme", "label"], kind="stable").itertuples():
        rows.append(
            {
                "Theme": row.theme,
                "Indicator": row.label,
                "Agency": row.agency,
                "Latest": _latest(row),
                "Change": _change(row),
                "Verdict": (row.change_verdict or "not tested") if row.periods else "",
                "Trend": _trend(row) if row.periods else "",
            }
        )
    return pd.DataFrame(rows)


def series_table(data: pd.DataFrame, catalogue: Catalogue, threshold: int, period_end: str) -> pd.DataFrame:
    """Every period of every indicator up to ``period_end``: value (and a proportion's numerator
    and denominator), with counts from 1 to the indicator's threshold, and the figures they
    could be worked out from, shown as the suppression mark."""
    specs = catalogue.by_id()
    rows = []
    for record in data.itertuples():
        spec = specs[record.indicator]
        period = Period(record.period_start, int(record.months))
        if period.end > period_end:
            continue
        limit = threshold if spec.disclosure_threshold is None else spec.disclosure_threshold
        if spec.unit == "proportion":
            hidden = any(1 <= v <= limit for v in (record.numerator, record.denominator - record.numerator))
            rows.append(
                {
                    "Indicator": spec.label,
                    "Period": period.label,
                    "Value": SUPPRESSED if hidden else shown_value(spec.unit, record.value),
                    "Numerator": SUPPRESSED if hidden else f"{record.numerator:,.0f}",
                    "Denominator": SUPPRESSED if hidden else f"{record.denominator:,.0f}",
                }
            )
        else:
            hidden = spec.unit == "count" and 1 <= record.value <= limit
            rows.append(
                {
                    "Indicator": spec.label,
                    "Period": period.label,
                    "Value": SUPPRESSED if hidden else shown_value(spec.unit, record.value),
                    "Numerator": "",
                    "Denominator": "",
                }
            )
    return pd.DataFrame(rows, columns=["Indicator", "Period", "Value", "Numerator", "Denominator"])


def chart_series(
    data: pd.DataFrame, spec: Any, threshold: int, period_end: str
) -> tuple[list[str], list[float | None], list[str]]:
    """One indicator's periods up to ``period_end`` for its chart: labels, values (None where
    suppressed by the indicator's own threshold, or the run's) and the suppressed periods."""
    limit = threshold if spec.disclosure_threshold is None else spec.disclosure_threshold
    rows = data[data["indicator"] == spec.id].sort_values("period_start")
    periods, values, hidden = [], [], []
    for record in rows.itertuples():
        period = Period(record.period_start, int(record.months))
        if period.end > period_end:
            continue
        if spec.unit == "proportion":
            small = any(1 <= v <= limit for v in (record.numerator, record.denominator - record.numerator))
        else:
            small = spec.unit == "count" and 1 <= record.value <= limit
        periods.append(period.label)
        values.append(None if small else float(record.value))
        if small:
            hidden.append(period.label)
    return periods, values, hidden
