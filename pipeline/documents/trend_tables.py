"""The trends section: the summary by crime type, exceptional months and forecast back-tests.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pandas as pd

from pipeline.documents.formats import count, percent_change
from pipeline.months import month_label


def trend_summary_table(
    summary: pd.DataFrame, windows: dict[str, str], forecast_text: str
) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Crime types by volume with their full-window count, change, trend and forecast.

    The forecast covers the same calendar months as the count, a year later
    (``forecast_text`` names them), so the two can be compared directly.
    """
    window_column = f"Count, {windows['window_text']}"
    forecast_column = f"Forecast, {forecast_text}"
    months = int(windows["months_compared"])
    change_column = f"% change (like for like, {months} months)" if months else "% change"

    def interval(row: pd.Series) -> str:
        low, high = row.get("forecast_low95", math.nan), row.get("forecast_high95", math.nan)
        if pd.isna(row.get("forecast_total", math.nan)):
            return "not computed: too few months or crimes for a forecast (see trend)"
        if pd.isna(low):
            return "not computed: too little history to measure forecast errors"
        return f"{low:,.0f} to {high:,.0f}"

    def method(row: pd.Series) -> str:
        chosen = row.get("forecast_method", "")
        if not isinstance(chosen, str) or not chosen:
            return "none"
        return "last year's months (seasonal naive)" if chosen == "seasonal naive" else chosen

    table = pd.DataFrame(
        {
            "Crime type": summary["crime_type"],
            window_column: summary["window_count"],
            change_column: summary["pct_change"].round(1) if months else "not computed: no month comparable",
            "Change verdict (Holm-adjusted)": summary["change_verdict"] if months else "not tested",
            "Trend (seasonal model)": summary["trend"].map(short_trend),
            forecast_column: [
                "not computed" if pd.isna(v) else int(round(v))
                for v in (summary["forecast_total"] if "forecast_total" in summary else [math.nan] * len(summary))
            ],
            "Forecast 95% interval": summary.apply(interval, axis=1),
            "Forecast method": summary.apply(method, axis=1),
        }
    )
    formats = {window_column: count, forecast_column: lambda v: v if isinstance(v, str) else f"{v:,.0f}"}
    if months:
        formats[change_column] = percent_change
    return table, formats


def short_trend(verdict: str) -> str:
    """A trend verdict for a table cell: "no trend given" and "not modelled" verdicts shortened
    to their reason's first clause (the table's note or the methods say more)."""
    if verdict.startswith("no trend given"):
        return "not given: fewer than 36 usable months"
    return verdict


def exceptions_table(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Months outside the XmR control limits, by crime type (limits to one decimal, so 40.4 > 40.2 shows)."""
    rows = exceptions.sort_values(["crime_type", "month"])
    return pd.DataFrame(
        {
            "Crime type": rows["crime_type"],
            "Month": rows["month"].map(month_label),
            "Recorded": rows["count"],
            "Outside": rows["side"] + " the limit of " + rows["limit"].map(lambda v: f"{v:,.1f}"),
        }
    ).reset_index(drop=True)


def back_tests_table(totals: pd.DataFrame, months_text: str) -> pd.DataFrame:
    """Every published forecast's back-test in one table: the forecast total for the months
    recorded since the window, its 95% interval, what was recorded, and last year's months."""
    rows = totals.sort_values("actual", ascending=False)
    return pd.DataFrame(
        {
            "Crime type": rows["crime_type"],
            "Forecast method": rows["method"].map(
                lambda m: "last year's months (seasonal naive)" if m == "seasonal naive" else m
            ),
            f"Forecast, {months_text}": rows["expected"].round(0).astype(int),
            "95% interval": [
                "not computed" if pd.isna(lo) else f"{lo:,.0f} to {hi:,.0f}"
                for lo, hi in zip(rows["low95"], rows["high95"])
            ],
            f"Recorded, {months_text}": rows["actual"].astype(int),
            "Recorded against the interval": [
                "not tested" if pd.isna(lo) else ("within" if lo <= a <= hi else ("below" if a < lo else "above"))
                for a, lo, hi in zip(rows["actual"], rows["low95"], rows["high95"])
            ],
        }
    ).reset_index(drop=True)


def back_test_table(months: pd.DataFrame) -> pd.DataFrame:
    """The back-test month by month: recorded against the forecast and its 95% interval."""
    return pd.DataFrame(
        {
            "Month": months["month"].map(month_label),
            "Recorded": months["actual"].astype(int),
            "Forecast": months["expected"].round(0).astype(int),
            "95% interval": [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in zip(months["low95"], months["high95"])],
            "Recorded against the interval": months["position"],
        }
    ).reset_index(drop=True)
