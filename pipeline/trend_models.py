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
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning
from statsmodels.tsa.seasonal import STL

from pipeline.months import month_label, month_range, shift_month

MIN_MONTHS = 24  # two years, so every month of the year is seen at least twice
MIN_MEAN_PER_MONTH = 3.0  # sparser series are shown as counts only
XMR_CONSTANT = 2.66
METHOD_NOTE = (
    "Trends: a quasi-Poisson regression (statsmodels GLM) of monthly counts on a linear time trend and "
    "month-of-year terms, over the usable months only; the trend is the annual rate ratio with a 95% "
    "confidence interval. Forecasts: the same model's expected counts for the next 12 months, with 80% and "
    "95% prediction intervals from a normal approximation combining over-dispersed Poisson variation and "
    "uncertainty in the mean. Exceptions: XmR control chart, limits at the mean plus or minus 2.66 times "
    "the mean moving range. Decomposition: STL (seasonal-trend decomposition using LOESS). Series shorter "
    f"than {MIN_MONTHS} usable months or averaging fewer than {MIN_MEAN_PER_MONTH:g} a month are shown as "
    "counts only. Police recorded crime reflects recording and reporting practice as well as crime."
)


def _month_index(months: list[str] | pd.Index, origin: str) -> np.ndarray:
    return np.array([(int(m[:4]) - int(origin[:4])) * 12 + int(m[5:7]) - int(origin[5:7]) for m in months], dtype=float)


def _design(months: list[str] | pd.Index, origin: str) -> np.ndarray:
    t = _month_index(months, origin)
    month_of_year = np.array([int(m[5:7]) for m in months])
    dummies = np.column_stack([(month_of_year == k).astype(float) for k in range(2, 13)])
    return np.column_stack([np.ones(len(t)), t, dummies])


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

    @property
    def verdict(self) -> str:
        """Plain words: 'rising about 6% a year (95% CI 2% to 10%)' or 'no clear trend ...'."""
        if self.status != "fitted":
            return f"not modelled: series {self.status}"
        change = 100 * (self.annual_ratio - 1)
        interval = f"95% CI {100 * (self.ci_low - 1):+.0f}% to {100 * (self.ci_high - 1):+.0f}% a year"
        if self.p_value < 0.05:
            direction = "rising" if change > 0 else "falling"
            return f"{direction} about {abs(change):.0f}% a year ({interval})"
        return f"no clear trend ({interval})"


def fit_trend(series: pd.Series) -> TrendFit:
    """Fit the seasonal quasi-Poisson trend model to monthly counts indexed by 'YYYY-MM'.

    ``series`` holds usable months only. Returns a ``TrendFit`` whose status says why no
    model was fitted when the series is too short or too sparse.
    """
    series = series.sort_index()
    n = len(series)
    if n < MIN_MONTHS:
        return TrendFit("too short", n)
    if series.mean() < MIN_MEAN_PER_MONTH:
        return TrendFit("too sparse", n)
    origin = series.index[0]
    design = _design(series.index, origin)
    model = sm.GLM(series.to_numpy(dtype=float), design, family=sm.families.Poisson())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        first = model.fit()
        dispersion = max(1.0, first.pearson_chi2 / first.df_resid)
        fit = model.fit(scale=dispersion, use_t=True)
    slope, se = fit.params[1], fit.bse[1]
    critical = stats.t.ppf(0.975, fit.df_resid)
    return TrendFit(
        "fitted",
        n,
        float(np.exp(12 * slope)),
        float(np.exp(12 * (slope - critical * se))),
        float(np.exp(12 * (slope + critical * se))),
        float(fit.pvalues[1]),
        float(dispersion),
        origin,
        np.asarray(fit.params),
        np.asarray(fit.cov_params()),
    )


def predict(fit: TrendFit, months: list[str]) -> pd.DataFrame:
    """Expected counts with 80% and 95% prediction intervals for the given months.

    Columns: month, expected, low80, high80, low95, high95 (lower bounds floored at 0).
    """
    if fit.status != "fitted":
        raise ValueError("no model was fitted for this series")
    design = _design(months, fit.origin)
    eta = design @ fit.params
    eta_variance = np.einsum("ij,jk,ik->i", design, fit.covariance, design)
    mean = np.exp(eta)
    sd = np.sqrt(fit.dispersion * mean + mean**2 * eta_variance)
    frame = pd.DataFrame({"month": months, "expected": mean})
    for level, z in ((80, stats.norm.ppf(0.90)), (95, stats.norm.ppf(0.975))):
        frame[f"low{level}"] = np.maximum(0.0, mean - z * sd)
        frame[f"high{level}"] = mean + z * sd
    return frame


def forecast(series: pd.Series, horizon: int = 12) -> pd.DataFrame:
    """The next ``horizon`` months after the series' last month (empty if no model can be fitted)."""
    fit = fit_trend(series)
    if fit.status != "fitted":
        return pd.DataFrame(columns=["month", "expected", "low80", "high80", "low95", "high95"])
    last = series.sort_index().index[-1]
    return predict(fit, month_range(shift_month(last, 1), shift_month(last, horizon)))


def latest_against_expected(series: pd.Series, last_n: int = 3) -> pd.DataFrame:
    """The last ``last_n`` usable months against a model fitted without them.

    Columns: month, actual, expected, low95, high95, position ('above', 'below' or
    'within' the 95% prediction interval). Empty if the shorter series cannot be modelled.
    """
    series = series.sort_index()
    held_out = series.iloc[-last_n:]
    fit = fit_trend(series.iloc[:-last_n])
    if fit.status != "fitted":
        return pd.DataFrame(columns=["month", "actual", "expected", "low95", "high95", "position"])
    frame = predict(fit, list(held_out.index))[["month", "expected", "low95", "high95"]]
    frame.insert(1, "actual", held_out.to_numpy())
    frame["position"] = np.where(
        frame["actual"] > frame["high95"], "above", np.where(frame["actual"] < frame["low95"], "below", "within")
    )
    return frame


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
        {"month": m, "count": int(v), "side": "above" if v > limits.upper else "below", "limit": limits.upper if v > limits.upper else limits.lower}
        for m, v in series.sort_index().items()
        if v > limits.upper or v < limits.lower
    ]
    return pd.DataFrame(rows, columns=["month", "count", "side", "limit"])


def stl_decomposition(series: pd.Series, first: str, last: str) -> pd.DataFrame:
    """STL trend, seasonal and remainder for every month from ``first`` to ``last``.

    Missing months are filled by linear interpolation for this decomposition only;
    column ``filled`` marks them. Needs at least 24 months.
    """
    months = month_range(first, last)
    full = series.reindex(months).astype(float)
    filled = full.isna()
    values = full.interpolate(limit_direction="both").to_numpy()
    # With only a few years, each calendar month has a handful of points: a long seasonal
    # smoother keeps the seasonal pattern close to fixed instead of chasing single months.
    result = STL(values, period=12, seasonal=35, robust=False).fit()
    return pd.DataFrame(
        {"month": months, "observed": values, "trend": result.trend, "seasonal": result.seasonal, "remainder": result.resid, "filled": filled.to_numpy()}
    )


def direction_summary(monthly: pd.DataFrame, comparison: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, TrendFit]]:
    """One row per crime type: volume, like-for-like change, trend verdict, next 12 months' forecast.

    ``monthly`` is the area's usable monthly counts (all history up to the window's end)
    and ``comparison`` the window comparison. Sorted by volume in the assessment window.
    Columns: crime_type, assessment_count, pct_change, change_verdict, annual_ratio,
    trend_ci_low, trend_ci_high, trend, forecast_next_12, forecast_low95, forecast_high95.
    """
    by_type = comparison.set_index("crime_type")
    rows, fits = [], {}
    for crime_type in monthly.columns:
        series = monthly[crime_type]
        fit = fit_trend(series)
        fits[crime_type] = fit
        row = {
            "crime_type": crime_type,
            "assessment_count": int(by_type.loc[crime_type, "assessment_count"]) if crime_type in by_type.index else np.nan,
            "pct_change": by_type.loc[crime_type, "pct_change"] if crime_type in by_type.index else np.nan,
            "change_verdict": by_type.loc[crime_type, "verdict"] if crime_type in by_type.index else "",
            "annual_ratio": fit.annual_ratio,
            "trend_ci_low": fit.ci_low,
            "trend_ci_high": fit.ci_high,
            "trend": fit.verdict,
        }
        if fit.status == "fitted":
            last = series.sort_index().index[-1]
            ahead = predict(fit, month_range(shift_month(last, 1), shift_month(last, 12)))
            total, sd = _total_interval(fit, list(ahead["month"]))
            row.update(forecast_next_12=total, forecast_low95=max(0.0, total - 1.96 * sd), forecast_high95=total + 1.96 * sd)
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("assessment_count", ascending=False, na_position="last")
    return table.reset_index(drop=True), fits


def _total_interval(fit: TrendFit, months: list[str]) -> tuple[float, float]:
    """Expected total over several months and its predictive standard deviation (delta method)."""
    design = _design(months, fit.origin)
    mean = np.exp(design @ fit.params)
    gradient = mean @ design  # d(sum of means)/d(params)
    parameter_variance = float(gradient @ fit.covariance @ gradient)
    return float(mean.sum()), math.sqrt(fit.dispersion * mean.sum() + parameter_variance)


def trend_findings(summary: pd.DataFrame, latest: pd.DataFrame, total_label: str) -> list[str]:
    """Short sentences for the report's summary: the overall trend, significant trends, the latest months."""
    by_type = summary.set_index("crime_type")
    # Lower-case only the first letter, so "All crime (excluding ASB)" keeps "ASB".
    name = total_label[:1].lower() + total_label[1:]
    sentences = []
    if total_label in by_type.index:
        sentences.append(f"Over the months modelled, {name} shows {by_type.loc[total_label, 'trend']}.")
    rising = summary[summary["trend"].str.startswith("rising") & (summary["crime_type"] != total_label)]
    falling = summary[summary["trend"].str.startswith("falling") & (summary["crime_type"] != total_label)]
    for label, rows in (("Rising", rising), ("Falling", falling)):
        if len(rows):
            listed = "; ".join(f"{r.crime_type} (about {abs(100 * (r.annual_ratio - 1)):.0f}% a year)" for r in rows.itertuples())
            sentences.append(f"{label} trends once seasonality is allowed for: {listed}.")
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
        f"{month_label(r.month)} {r.actual:,.0f} (expected {r.expected:,.0f}, 95% range {r.low95:,.0f} to {r.high95:,.0f}: {r.position})"
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


def stage_tables(monthly: pd.DataFrame, comparison: pd.DataFrame, first: str, last: str, chart_types: list[str]) -> dict[str, pd.DataFrame]:
    """Everything the report needs from the trend models, as tables.

    ``monthly``: usable months (rows) by crime type; ``chart_types``: the series that get
    forecast, exception and STL detail (the rest appear in the summary only).
    """
    summary, fits = direction_summary(monthly, comparison)
    forecasts, limits, exception_rows, stl_rows, latest_rows = [], [], [], [], []
    for crime_type in monthly.columns:
        series = monthly[crime_type]
        control = xmr_limits(series)
        limits.append({"crime_type": crime_type, "centre": control.centre, "lower": control.lower, "upper": control.upper})
        exception_rows.append(exceptions(series).assign(crime_type=crime_type))
        if crime_type in chart_types and fits[crime_type].status == "fitted":
            forecasts.append(forecast(series).assign(crime_type=crime_type))
            latest_rows.append(latest_against_expected(series).assign(crime_type=crime_type))
            if len(month_range(first, last)) >= MIN_MONTHS:
                stl_rows.append(stl_decomposition(series, first, last).assign(crime_type=crime_type))

    def stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"crime_type": pd.Series(dtype=str)})

    return {
        "summary": summary,
        "forecasts": stack(forecasts),
        "limits": pd.DataFrame(limits),
        "exceptions": stack(exception_rows),
        "stl": stack(stl_rows),
        "latest": stack(latest_rows),
    }
