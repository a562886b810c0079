"""Trend models for monthly crime counts: trend, seasonality, forecast, exceptions.

Model: a quasi-Poisson GLM (statsmodels; Poisson family, dispersion from the Pearson
chi-squared, never below 1) of the monthly count on a linear time trend and
month-of-year terms. Only usable months enter the fit: a missing month is left out,
never zero-filled, and the time index keeps the true spacing of the months. With one
population figure for the whole period, a population exposure term would be a constant
and is left out.

- Trend: the annual rate ratio exp(12 x slope) with its 95% interval (t-distribution).
- Forecast: the next 12 months' expected counts with 80% and 95% prediction intervals,
  by a normal approximation whose variance adds the over-dispersed Poisson variation
  (dispersion x mean) to the uncertainty in the mean (delta method).
- Latest months: the model is refitted without the last three months and their
  actual counts are compared with its 95% prediction intervals.
- Exceptions: an XmR (individuals and moving range) chart, as police analysts use:
  centre = mean, limits = mean +/- 2.66 x mean moving range, moving ranges only between
  consecutive usable months.
- Decomposition: STL. STL needs a gap-free series, so for that chart alone a missing
  month is filled by linear interpolation, and the chart says which.

Why one module: the models, forecasts, back-tests, control limits and decomposition of a
series are fitted and written together by the trends stage, and share its series and
its handling of unusable months and declared disruptions.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.months import month_label, month_range, shift_month

# statsmodels and scipy are imported by the functions that fit, not here: the report imports
# this module for its sentences and tables, and importing them cost its kernel about 1.3 s
# before a rerun after a moderation edit, which fits nothing.

MIN_MONTHS = 24  # two years, so every month of the year is seen at least twice
MIN_MEAN_PER_MONTH = 3.0  # sparser series are shown as counts only
XMR_CONSTANT = 2.66
METHOD_NOTE = (
    "Trends: a quasi-Poisson regression (statsmodels GLM) of monthly counts on a linear time trend and "
    "month-of-year terms, over the usable months only, with a level-shift term for each declared period of "
    "disruption (its months keep their own level, so the trend is the underlying one and a forecast does not "
    "carry the disruption forward); the trend is the annual rate ratio with a 95% confidence interval. Standard "
    "errors are inflated for autocorrelation: the quasi-Poisson variance is multiplied by (1 + r) / (1 - r), where r "
    "is the lag-1 autocorrelation of the Pearson residuals (the AR(1) variance inflation factor). Forecasts: the "
    "same model's expected counts for the same calendar months a year after the assessment window, with 95% "
    "prediction intervals from a normal approximation combining over-dispersed Poisson variation (correlated "
    "between months as AR(1) with the same r) and uncertainty in the mean (delta method). When the data runs past "
    "the window, a back-test sets that forecast against what was then recorded. Exceptions: XmR control chart, "
    "limits at the mean plus or minus 2.66 times the mean moving range. Decomposition: STL (seasonal-trend "
    "decomposition using LOESS). Series shorter "
    f"than {MIN_MONTHS} usable months or averaging fewer than {MIN_MEAN_PER_MONTH:g} a month are shown as "
    "counts only. Police recorded crime reflects recording and reporting practice as well as crime."
)


def _month_index(months: list[str] | pd.Index, origin: str) -> np.ndarray:
    return np.array([(int(m[:4]) - int(origin[:4])) * 12 + int(m[5:7]) - int(origin[5:7]) for m in months], dtype=float)


Period = tuple[str, str, str]  # (name, first month, last month) of a declared disruption


def _design(months: list[str] | pd.Index, origin: str, disruptions: tuple[Period, ...] = ()) -> np.ndarray:
    """Intercept, months since ``origin``, 11 month-of-year terms, and one level shift per disruption."""
    t = _month_index(months, origin)
    month_of_year = np.array([int(m[5:7]) for m in months])
    dummies = np.column_stack([(month_of_year == k).astype(float) for k in range(2, 13)])
    shifts = [np.array([1.0 if first <= m <= last else 0.0 for m in months]) for _, first, last in disruptions]
    return np.column_stack([np.ones(len(t)), t, dummies, *shifts])


def lag1_autocorrelation(months: list[str] | pd.Index, residuals: np.ndarray) -> float:
    """Lag-1 autocorrelation of residuals over pairs of consecutive months (gaps skipped), floored at 0."""
    index = _month_index(months, months[0])
    consecutive = np.flatnonzero(np.diff(index) == 1)
    if len(consecutive) < 3:
        return 0.0
    centred = residuals - residuals.mean()
    rho = float(np.sum(centred[consecutive] * centred[consecutive + 1]) / np.sum(centred**2))
    return min(max(rho, 0.0), 0.9)


@dataclass
class TrendFit:
    """A fitted seasonal trend model for one series, or the reason there is none."""

    status: str  # "fitted", "too short" or "too sparse"
    months_used: int
    annual_ratio: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan
    dispersion: float = math.nan
    origin: str = ""
    params: np.ndarray | None = None
    covariance: np.ndarray | None = None
    autocorrelation: float = 0.0  # lag-1, of the Pearson residuals
    disruptions: tuple[Period, ...] = ()  # the declared disruptions with a level of their own in this fit
    disruption_ratios: dict[str, float] | None = None  # each disruption's level against the trend

    @property
    def verdict(self) -> str:
        """Plain words: 'rising about 6% a year (95% CI 2% to 10%)' or 'no clear trend ...'."""
        if self.status != "fitted":
            return f"not modelled: {self.reason}"
        change = 100 * (self.annual_ratio - 1)
        interval = f"95% CI {_signed_percent(self.ci_low)} to {_signed_percent(self.ci_high)} a year"
        from pipeline.analysis.trends import and_list

        allowing = f", allowing for {and_list([name for name, _, _ in self.disruptions])}" if self.disruptions else ""
        if self.p_value < 0.05:
            direction = "rising" if change > 0 else "falling"
            return f"{direction} about {abs(change):.0f}% a year ({interval}{allowing})"
        return f"no clear trend ({interval}{allowing})"

    @property
    def reason(self) -> str:
        """Why no model was fitted, with what it would need."""
        if self.status == "too short":
            return (
                f"{self.months_used} usable month{'s' if self.months_used != 1 else ''}, and a seasonal trend "
                f"needs at least {MIN_MONTHS}"
            )
        if self.status == "too sparse":
            return f"fewer than {MIN_MEAN_PER_MONTH:g} a month on average, too few for a trend"
        return ""


def _signed_percent(ratio: float) -> str:
    """A rate ratio as a signed whole percentage change, never '-0%'."""
    value = round(100 * (ratio - 1))
    return "0%" if value == 0 else f"{value:+d}%"


def _usable_disruptions(months: list[str], disruptions: tuple[Period, ...]) -> tuple[Period, ...]:
    """The disruptions that can have a level of their own: some months inside, and enough outside."""
    usable = []
    for period in disruptions:
        _, first, last = period
        inside = sum(first <= m <= last for m in months)
        if inside and len(months) - inside >= MIN_MONTHS // 2 + 1:
            usable.append(period)
    return tuple(usable)


def fit_trend(series: pd.Series, disruptions: tuple[Period, ...] = ()) -> TrendFit:
    """Fit the seasonal quasi-Poisson trend model to monthly counts indexed by 'YYYY-MM'.

    ``series`` holds usable months only. Each declared disruption (name, first, last)
    with months in the series gets a level-shift term, so the trend is the underlying
    one. Standard errors are the quasi-Poisson ones inflated for lag-1 autocorrelation of
    the Pearson residuals by the AR(1) factor (1 + rho) / (1 - rho) on the variance.
    Returns a ``TrendFit`` whose status says why no model was fitted when the series is
    too short or too sparse.
    """
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    series = series.sort_index()
    n = len(series)
    if n < MIN_MONTHS:
        return TrendFit("too short", n)
    if series.mean() < MIN_MEAN_PER_MONTH:
        return TrendFit("too sparse", n)
    origin = series.index[0]
    periods = _usable_disruptions(list(series.index), tuple(disruptions))
    design = _design(series.index, origin, periods)
    counts = series.to_numpy(dtype=float)
    model = sm.GLM(counts, design, family=sm.families.Poisson())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        first = model.fit()
        dispersion = max(1.0, first.pearson_chi2 / first.df_resid)
        fit = model.fit(scale=dispersion, use_t=True)
    rho = lag1_autocorrelation(list(series.index), (counts - first.mu) / np.sqrt(first.mu))
    inflation = (1 + rho) / (1 - rho)
    covariance = np.asarray(fit.cov_params()) * inflation
    slope, se = fit.params[1], math.sqrt(covariance[1, 1])
    critical = stats.t.ppf(0.975, fit.df_resid)
    p_value = float(2 * stats.t.sf(abs(slope / se), fit.df_resid))
    ratios = {name: float(np.exp(fit.params[13 + k])) for k, (name, _, _) in enumerate(periods)}
    return TrendFit(
        "fitted",
        n,
        float(np.exp(12 * slope)),
        float(np.exp(12 * (slope - critical * se))),
        float(np.exp(12 * (slope + critical * se))),
        p_value,
        float(dispersion),
        origin,
        np.asarray(fit.params),
        covariance,
        rho,
        periods,
        ratios,
    )


def predict(fit: TrendFit, months: list[str]) -> pd.DataFrame:
    """Expected counts with 80% and 95% prediction intervals for the given months.

    A month inside a declared disruption gets that disruption's level. Columns: month,
    expected, low80, high80, low95, high95 (lower bounds floored at 0).
    """
    from scipy import stats

    if fit.status != "fitted":
        raise ValueError("no model was fitted for this series")
    design = _design(months, fit.origin, fit.disruptions)
    eta = design @ fit.params
    eta_variance = np.einsum("ij,jk,ik->i", design, fit.covariance, design)
    mean = np.exp(eta)
    sd = np.sqrt(fit.dispersion * mean + mean**2 * eta_variance)
    frame = pd.DataFrame({"month": months, "expected": mean})
    for level, z in ((80, stats.norm.ppf(0.90)), (95, stats.norm.ppf(0.975))):
        frame[f"low{level}"] = np.maximum(0.0, mean - z * sd)
        frame[f"high{level}"] = mean + z * sd
    return frame


def forecast(series: pd.Series, horizon: int = 12, disruptions: tuple[Period, ...] = ()) -> pd.DataFrame:
    """The next ``horizon`` months after the series' last month (empty if no model can be fitted)."""
    fit = fit_trend(series, disruptions)
    if fit.status != "fitted":
        return pd.DataFrame(columns=["month", "expected", "low80", "high80", "low95", "high95"])
    last = series.sort_index().index[-1]
    return predict(fit, month_range(shift_month(last, 1), shift_month(last, horizon)))


def latest_against_expected(series: pd.Series, last_n: int = 3, disruptions: tuple[Period, ...] = ()) -> pd.DataFrame:
    """The last ``last_n`` usable months against a model fitted without them.

    Columns: month, actual, expected, low95, high95, position ('above', 'below' or
    'within' the 95% prediction interval). Empty if the shorter series cannot be modelled.
    """
    series = series.sort_index()
    held_out = series.iloc[-last_n:]
    fit = fit_trend(series.iloc[:-last_n], disruptions)
    if fit.status != "fitted":
        return pd.DataFrame(columns=["month", "actual", "expected", "low95", "high95", "position"])
    frame = predict(fit, list(held_out.index))[["month", "expected", "low95", "high95"]]
    frame.insert(1, "actual", held_out.to_numpy())
    frame["position"] = np.where(
        frame["actual"] > frame["high95"], "above", np.where(frame["actual"] < frame["low95"], "below", "within")
    )
    return frame


def back_test(fit: TrendFit, later: pd.Series) -> tuple[pd.DataFrame, dict[str, float]]:
    """Last year's forecast against what then happened, month by month and in total.

    ``fit`` is the model fitted up to the end of the assessment window; ``later`` the
    actual counts of the usable months after it (up to 12). Returns the months (month,
    actual, expected, low95, high95, position) and the total: actual, expected, low95,
    high95 (autocorrelation allowed for).
    """
    months = list(later.sort_index().index)
    frame = predict(fit, months)[["month", "expected", "low95", "high95"]]
    frame.insert(1, "actual", later.sort_index().to_numpy())
    frame["position"] = np.where(
        frame["actual"] > frame["high95"], "above", np.where(frame["actual"] < frame["low95"], "below", "within")
    )
    expected, sd = _total_interval(fit, months)
    total = {
        "actual": float(later.sum()),
        "expected": expected,
        "low95": max(0.0, expected - 1.96 * sd),
        "high95": expected + 1.96 * sd,
    }
    return frame, total


@dataclass(frozen=True)
class ControlLimits:
    centre: float
    lower: float
    upper: float
    mean_moving_range: float


def xmr_limits(series: pd.Series) -> ControlLimits:
    """XmR chart limits: mean +/- 2.66 x mean moving range (ranges between consecutive months only)."""
    series = series.sort_index()
    index = _month_index(series.index, series.index[0])
    values = series.to_numpy(dtype=float)
    consecutive = np.diff(index) == 1
    ranges = np.abs(np.diff(values))[consecutive]
    mean_range = float(ranges.mean()) if len(ranges) else math.nan
    centre = float(values.mean())
    return ControlLimits(centre, centre - XMR_CONSTANT * mean_range, centre + XMR_CONSTANT * mean_range, mean_range)


def exceptions(series: pd.Series) -> pd.DataFrame:
    """Months outside the XmR control limits: month, count, side ('above' or 'below'), limit."""
    limits = xmr_limits(series)
    rows = [
        {
            "month": m,
            "count": int(v),
            "side": "above" if v > limits.upper else "below",
            "limit": limits.upper if v > limits.upper else limits.lower,
        }
        for m, v in series.sort_index().items()
        if v > limits.upper or v < limits.lower
    ]
    return pd.DataFrame(rows, columns=["month", "count", "side", "limit"])


def stl_decomposition(series: pd.Series, first: str, last: str) -> pd.DataFrame:
    """STL trend, seasonal and remainder for every month from ``first`` to ``last``.

    Missing months are filled by linear interpolation for this decomposition only;
    column ``filled`` marks them. Needs at least 24 months.
    """
    from statsmodels.tsa.seasonal import STL

    months = month_range(first, last)
    full = series.reindex(months).astype(float)
    filled = full.isna()
    values = full.interpolate(limit_direction="both").to_numpy()
    # With only a few years, each calendar month has a handful of points: a long seasonal
    # smoother keeps the seasonal pattern close to fixed instead of chasing single months.
    result = STL(values, period=12, seasonal=35, robust=False).fit()
    return pd.DataFrame(
        {
            "month": months,
            "observed": values,
            "trend": result.trend,
            "seasonal": result.seasonal,
            "remainder": result.resid,
            "filled": filled.to_numpy(),
        }
    )


def direction_summary(
    monthly: pd.DataFrame, comparison: pd.DataFrame, period_end: str, disruptions: tuple[Period, ...] = ()
) -> tuple[pd.DataFrame, dict[str, TrendFit]]:
    """One row per crime type: volume, like-for-like change, trend verdict, and the forecast
    for the same calendar months a year after the assessment window's usable months.

    ``monthly`` is the area's usable monthly counts (all history up to the window's end)
    and ``comparison`` the window comparison. The forecast covers exactly the months the
    window count covers, moved on a year, so the two can be set side by side. Sorted by
    the window count. Columns: crime_type, window_count, window_months, pct_change,
    change_verdict, annual_ratio, trend_ci_low, trend_ci_high, trend, trend_p,
    forecast_total, forecast_low95, forecast_high95.
    """
    from pipeline.months import assessment_window

    by_type = comparison.set_index("crime_type")
    window = [m for m in assessment_window(period_end) if m in set(monthly.index)]
    ahead = [shift_month(m, 12) for m in window]
    rows, fits = [], {}
    for crime_type in monthly.columns:
        fit = fit_trend(monthly[crime_type], disruptions)
        fits[crime_type] = fit
        known = crime_type in by_type.index
        row = {
            "crime_type": crime_type,
            "window_count": int(by_type.loc[crime_type, "window_count"]) if known else np.nan,
            "window_months": len(window),
            "pct_change": by_type.loc[crime_type, "pct_change"] if known else np.nan,
            "change_verdict": by_type.loc[crime_type, "verdict"] if known else "",
            "annual_ratio": fit.annual_ratio,
            "trend_ci_low": fit.ci_low,
            "trend_ci_high": fit.ci_high,
            "trend": fit.verdict,
            "trend_p": fit.p_value,
        }
        if fit.status == "fitted" and ahead:
            total, sd = _total_interval(fit, ahead)
            row.update(
                forecast_total=total, forecast_low95=max(0.0, total - 1.96 * sd), forecast_high95=total + 1.96 * sd
            )
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("window_count", ascending=False, na_position="last")
    return table.reset_index(drop=True), fits


def _total_interval(fit: TrendFit, months: list[str]) -> tuple[float, float]:
    """Expected total over several months and its predictive standard deviation.

    Observation variance: dispersion x mean per month, correlated between months as an
    AR(1) process with the fit's lag-1 autocorrelation; parameter variance by the delta
    method.
    """
    design = _design(months, fit.origin, fit.disruptions)
    mean = np.exp(design @ fit.params)
    gradient = mean @ design  # d(sum of means)/d(params)
    parameter_variance = float(gradient @ fit.covariance @ gradient)
    sd = np.sqrt(fit.dispersion * mean)
    index = _month_index(months, months[0])
    correlation = fit.autocorrelation ** np.abs(index[:, None] - index[None, :])
    observation_variance = float(sd @ correlation @ sd)
    return float(mean.sum()), math.sqrt(observation_variance + parameter_variance)


def trend_findings(summary: pd.DataFrame, latest: pd.DataFrame, total_label: str) -> list[str]:
    """Short sentences for the report's summary: the overall trend, significant trends, the latest months.

    Rising and falling trends of the individual types are listed only when significant
    after Holm's adjustment across every type modelled, since they are tested together.
    """
    from pipeline.analysis.trends import holm_adjust

    by_type = summary.set_index("crime_type")
    # Lower-case only the first letter, so "All crime (excluding ASB)" keeps "ASB".
    name = total_label[:1].lower() + total_label[1:]
    sentences = []
    if total_label in by_type.index:
        trend = by_type.loc[total_label, "trend"]
        if trend.startswith("not modelled"):
            sentences.append(f"{total_label} was {trend}.")
        else:
            sentences.append(f"Underlying trend of {name} over the months modelled: {trend}.")
    types = summary[summary["crime_type"] != total_label].copy()
    p_values = types["trend_p"] if "trend_p" in types else pd.Series(np.nan, index=types.index)
    types["p_holm"] = holm_adjust(list(p_values))
    tested = int(p_values.notna().sum())
    significant = types[types["p_holm"] < 0.05]
    for label, rows in (
        ("Rising", significant[significant["annual_ratio"] > 1]),
        ("Falling", significant[significant["annual_ratio"] < 1]),
    ):
        if len(rows):
            listed = "; ".join(
                f"{r.crime_type} (about {abs(100 * (r.annual_ratio - 1)):.0f}% a year)" for r in rows.itertuples()
            )
            sentences.append(
                f"{label} trends once seasonality and any declared disruption are allowed for, and allowing for "
                f"{tested} types tested at once (Holm): {listed}."
            )
    if len(latest):
        outside = latest[latest["position"] != "within"]
        if outside.empty:
            sentences.append(
                f"The latest {len(latest)} months of {name} were within what the model expected from the months before."
            )
        else:
            listed = ", ".join(f"{month_label(r.month)} ({r.position})" for r in outside.itertuples())
            sentences.append(f"Latest months of {name} outside what the model expected: {listed}.")
    return sentences


def latest_months_sentence(latest: pd.DataFrame) -> str:
    """One sentence on the latest months against the model's expectation (counts, 95% range).

    ``latest`` is :func:`latest_against_expected` output for one series; empty gives "".
    """
    if latest.empty:
        return ""
    listed = "; ".join(
        f"{month_label(r.month)} {r.actual:,.0f} (expected {r.expected:,.0f}, 95% range {r.low95:,.0f} to "
        f"{r.high95:,.0f}: {r.position})"
        for r in latest.itertuples()
    )
    return f"Latest months against what the model expected from the months before: {listed}."


def write_processed(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write the trend stage's tables as parquet files under ``folder/trends/``."""
    target = folder / "trends"
    target.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(target / f"{name}.parquet", index=False)


def read_processed(folder: Path) -> dict[str, pd.DataFrame]:
    """Read every table the trend stage wrote, by name."""
    from pipeline.errors import InputDataError

    target = folder / "trends"
    if not target.is_dir():
        raise InputDataError(f"{folder}: the trend stage's outputs are missing; run it first.")
    return {path.stem: pd.read_parquet(path) for path in sorted(target.glob("*.parquet"))}


def back_test_sentence(total: pd.Series | dict, months: list[str], crime_type: str, period_end: str) -> str:
    """One sentence: did the forecast made at the end of the window hold for the months since?

    ``total`` is a row of the stage's back-test totals (actual, expected, low95, high95,
    within: how many months fell inside their monthly 95% intervals).
    """
    from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB

    name = {ALL_CRIME_EXCL_ASB: "crimes", ASB: "incidents"}.get(crime_type, "offences")
    within = int(total["within"])
    span = f"{month_label(months[0])} to {month_label(months[-1])}" if len(months) > 1 else month_label(months[0])
    actual, low, high = total["actual"], total["low95"], total["high95"]
    verdict = "within" if low <= actual <= high else ("below" if actual < low else "above")
    return (
        f"Back-test: the model fitted to data up to {month_label(period_end)} forecast {total['expected']:,.0f} "
        f"{name} for "
        f"{span} (95% interval {low:,.0f} to {high:,.0f}); {actual:,.0f} were recorded, {verdict} the interval. "
        f"{within} of {len(months)} month{'s' if len(months) != 1 else ''} fell within their monthly 95% intervals."
    )


def stage_tables(
    monthly: pd.DataFrame,
    comparison: pd.DataFrame,
    first: str,
    last: str,
    chart_types: list[str],
    disruptions: tuple[Period, ...] = (),
    later: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Everything the report needs from the trend models, as tables.

    ``monthly``: usable months (rows) by crime type, up to ``last`` (the window's end);
    ``chart_types``: the series that get forecast, exception, STL and back-test detail
    (the rest appear in the summary only); ``later``: usable months after the window,
    by crime type, for the back-test (None or empty when the data ends with the window).
    ``comparison`` (``trends.compare_windows`` of ``monthly``) is among the tables, so the
    report reads the window comparison this stage tested rather than fitting it again.
    """
    summary, fits = direction_summary(monthly, comparison, last, disruptions)
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
            {"crime_type": crime_type, "centre": control.centre, "lower": control.lower, "upper": control.upper}
        )
        exception_rows.append(exceptions(series).assign(crime_type=crime_type))
        if crime_type in chart_types and fits[crime_type].status == "fitted":
            # The fit made for the summary gives the forecast: the same model, not fitted twice.
            ahead = month_range(shift_month(series.index.max(), 1), shift_month(series.index.max(), 12))
            forecasts.append(predict(fits[crime_type], ahead).assign(crime_type=crime_type))
            latest_rows.append(latest_against_expected(series, disruptions=disruptions).assign(crime_type=crime_type))
            if len(month_range(first, last)) >= MIN_MONTHS:
                stl_rows.append(stl_decomposition(series, first, last).assign(crime_type=crime_type))
            if later is not None and len(later) and crime_type in later.columns:
                months, total = back_test(fits[crime_type], later[crime_type])
                backtest_rows.append(months.assign(crime_type=crime_type))
                backtest_totals.append(
                    {"crime_type": crime_type, **total, "within": int((months["position"] == "within").sum())}
                )

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
