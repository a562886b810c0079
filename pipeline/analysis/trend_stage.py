"""The trends stage's tables: each crime type's change, trend and published forecast, the
charted series' forecasts, control limits, exceptions, decomposition and latest months, and
every published forecast's back-test when the data runs past the window.

Trend models are ``trend_models``; forecasts, chosen by out-of-sample evidence, are
``forecasting``: this module puts the two together for the report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.analysis.forecasting import Forecast, forecast_series
from pipeline.analysis.trend_models import (
    Period,
    TrendFit,
    exceptions,
    fit_trend,
    holm_verdicts,
    latest_against_expected,
    stl_decomposition,
    stl_usable,
    xmr_limits,
)
from pipeline.months import assessment_window, month_range, shift_month


def back_test(published: Forecast, later: pd.Series) -> tuple[pd.DataFrame, dict[str, float]]:
    """Last year's published forecast (``forecasting.Forecast``) against what then happened,
    month by month and in total, over the usable months after the window it covers.

    Returns the months (month, actual, expected, low95, high95, position) and the total:
    actual, expected, low95, high95.
    """
    later = later.sort_index()
    months = [m for m in later.index if m in set(published.months["month"])]
    frame = published.months.set_index("month").loc[months, ["expected", "low95", "high95"]].reset_index()
    frame.insert(1, "actual", later.loc[months].to_numpy())
    frame["position"] = np.where(
        frame["low95"].isna(),
        "not tested",
        np.where(
            frame["actual"] > frame["high95"], "above", np.where(frame["actual"] < frame["low95"], "below", "within")
        ),
    )
    expected, low, high = published.total(months)
    total = {"actual": float(later.loc[months].sum()), "expected": expected, "low95": low, "high95": high}
    return frame, total


def direction_summary(
    monthly: pd.DataFrame,
    comparison: pd.DataFrame,
    period_end: str,
    disruptions: tuple[Period, ...] = (),
    total_label: str = "All crime (excluding ASB)",
) -> tuple[pd.DataFrame, dict[str, TrendFit], dict[str, Any]]:
    """One row per crime type: volume, like-for-like change, trend verdict, and the published
    forecast for the same calendar months a year after the assessment window's usable months.

    ``monthly`` is the area's usable monthly counts (all history up to the window's end)
    and ``comparison`` the window comparison. Trends are Holm-adjusted across the crime types
    (``total_label`` alone, as for the change). The forecast (``forecasting.forecast_series``)
    covers exactly the months the window count covers, moved on a year, and the 12 months
    after the series, so the count and the forecast can be set side by side. Sorted by the
    window count. Columns: crime_type, window_count, window_months, pct_change,
    change_verdict, annual_ratio, trend_ci_low, trend_ci_high, trend, trend_p,
    forecast_total, forecast_low95, forecast_high95, forecast_method, forecast_reason,
    forecast_mase. Returns the table, the trend fits and the published forecasts by type.
    """
    by_type = comparison.set_index("crime_type")
    window = [m for m in assessment_window(period_end) if m in set(monthly.index)]
    ahead = [shift_month(m, 12) for m in window]
    fits = {crime_type: fit_trend(monthly[crime_type], disruptions) for crime_type in monthly.columns}
    holm_verdicts(fits, alone=(total_label,))
    rows, forecasts = [], {}
    for crime_type in monthly.columns:
        fit, series = fits[crime_type], monthly[crime_type]
        known = crime_type in by_type.index
        row = {
            "crime_type": crime_type,
            "window_count": int(by_type.loc[crime_type, "window_count"]) if known else np.nan,
            "window_months": len(window),
            "pct_change": by_type.loc[crime_type, "pct_change"] if known else np.nan,
            "change_verdict": by_type.loc[crime_type, "verdict"] if known else "",
            "annual_ratio": fit.annual_ratio if fit.has_trend else np.nan,
            "trend_ci_low": fit.ci_low if fit.has_trend else np.nan,
            "trend_ci_high": fit.ci_high if fit.has_trend else np.nan,
            "trend": fit.verdict,
            "trend_p": fit.p_value if fit.has_trend else np.nan,
        }
        # A forecast for every series the trend model could take (enough months and crimes a month).
        if fit.status == "fitted" and ahead:
            after = month_range(shift_month(series.index.max(), 1), shift_month(series.index.max(), 12))
            made = forecasts[crime_type] = forecast_series(series, sorted(set(ahead) | set(after)), disruptions)
            total, low, high = made.total(ahead)
            row.update(
                forecast_total=total,
                forecast_low95=low,
                forecast_high95=high,
                forecast_method=made.choice.method,
                forecast_reason=made.choice.reason,
                forecast_mase=made.choice.mase.get(made.choice.method, np.nan),
            )
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("window_count", ascending=False, na_position="last")
    return table.reset_index(drop=True), fits, forecasts


def stage_tables(
    monthly: pd.DataFrame,
    comparison: pd.DataFrame,
    first: str,
    last: str,
    chart_types: list[str],
    disruptions: tuple[Period, ...] = (),
    later: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Everything the report needs from the trend models and forecasts, as tables.

    ``monthly``: usable months (rows) by crime type, up to ``last`` (the window's end);
    ``chart_types``: the series that get forecast charts, exceptions and STL detail (the rest
    appear in the summary only); ``later``: usable months after the window, by crime type,
    for the back-test of every published forecast (None or empty when the data ends with
    the window). ``comparison`` (``trends.compare_windows`` of ``monthly``) is among the
    tables, so the report reads the window comparison this stage tested rather than fitting
    it again.
    """
    summary, fits, published = direction_summary(monthly, comparison, last, disruptions)
    forecasts, limits, exception_rows, stl_rows, latest_rows, backtest_rows, backtest_totals = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for crime_type in monthly.columns:
        series = monthly[crime_type]
        control = xmr_limits(series)
        limits.append(
            {
                "crime_type": crime_type,
                "centre": control.centre,
                "lower": control.lower,
                "upper": control.upper,
                "points": control.points,
            }
        )
        exception_rows.append(exceptions(series).assign(crime_type=crime_type))
        if crime_type in published and later is not None and len(later) and crime_type in later.columns:
            # Every published forecast meets what was recorded after it, where the data has it.
            months, total = back_test(published[crime_type], later[crime_type])
            backtest_rows.append(months.assign(crime_type=crime_type))
            backtest_totals.append(
                {
                    "crime_type": crime_type,
                    **total,
                    "within": int((months["position"] == "within").sum()),
                    "method": published[crime_type].choice.method,
                }
            )
        if crime_type in chart_types and crime_type in published:
            ahead = month_range(shift_month(series.index.max(), 1), shift_month(series.index.max(), 12))
            made = published[crime_type]
            forecasts.append(
                made.months.set_index("month")
                .loc[ahead]
                .reset_index()
                .assign(crime_type=crime_type, method=made.choice.method)
            )
            latest_rows.append(latest_against_expected(series, disruptions=disruptions).assign(crime_type=crime_type))
            if stl_usable(series, first, last):
                stl_rows.append(stl_decomposition(series, first, last).assign(crime_type=crime_type))

    def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
        kept = [f for f in frames if len(f)]
        if kept:
            return pd.concat(kept, ignore_index=True)
        # No rows (e.g. no month outside the control limits): keep the columns, so the
        # report can still select from the table.
        columns = list(dict.fromkeys(["crime_type", *(c for f in frames for c in f.columns)]))
        return pd.DataFrame({c: pd.Series(dtype=str if c in ("crime_type", "month") else float) for c in columns})

    return {
        "comparison": comparison,
        "summary": summary,
        "forecasts": stack(forecasts),
        "limits": pd.DataFrame(limits),
        "exceptions": stack(exception_rows),
        "stl": stack(stl_rows),
        "latest": stack(latest_rows),
        "backtest": stack(backtest_rows),
        "backtest_totals": pd.DataFrame(backtest_totals)
        if backtest_totals
        else pd.DataFrame({"crime_type": pd.Series(dtype=str)}),
    }
