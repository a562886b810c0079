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
# An underlying trend needs three years: with two, the trend is only the second year against
# the first (13 parameters leave 11 degrees of freedom), which the like-for-like change says.
MIN_TREND_MONTHS = 36
MIN_MEAN_PER_MONTH = 3.0  # sparser series are shown as counts only
XMR_CONSTANT = 2.66
METHOD_NOTE = (
    "Trends: a quasi-Poisson regression (statsmodels GLM) of monthly counts on a linear time trend and "
    "month-of-year terms, over the usable months only, with a level-shift term for each declared period of "
    "disruption (its months keep their own level, so the trend is the underlying one); the trend is the annual rate "
    "ratio with a 95% confidence interval, given only for a series of at least "
    f"{MIN_TREND_MONTHS} usable months (with fewer, a trend cannot be told apart from the year-on-year change). "
    "Standard errors are inflated for autocorrelation: the quasi-Poisson variance is multiplied by (1 + r) / (1 - r), "
    "where r is the lag-1 autocorrelation of the Pearson residuals (the AR(1) variance inflation factor). The crime "
    "types' trends are tested together, so their p-values are Holm-adjusted (the all-crime total is tested alone), "
    "as the changes are. Exceptions: XmR control chart, limits at the mean plus or minus 2.66 times the mean moving "
    f"range (the lower limit at least 0), drawn only on at least {12} months. Decomposition: STL (seasonal-trend "
    "decomposition using LOESS), only on at least 24 usable months with at most 10% of them filled in. Series shorter "
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
    # The p-value the verdict uses when several trends are tested together (Holm-adjusted,
    # see ``holm_verdicts``); NaN: the trend was tested alone and ``p_value`` is used.
    p_adjusted: float = math.nan

    @property
    def has_trend(self) -> bool:
        """Whether the fit can give an underlying trend: fitted on ``MIN_TREND_MONTHS`` or more."""
        return self.status == "fitted" and self.months_used >= MIN_TREND_MONTHS

    @property
    def verdict(self) -> str:
        """Plain words: 'rising about 6% a year (95% CI 2% to 10%)' or 'no clear trend ...'."""
        if self.status != "fitted":
            return f"not modelled: {self.reason}"
        if not self.has_trend:
            return (
                f"no trend given: {self.months_used} usable months, too few to separate a trend from the "
                f"year-on-year change (at least {MIN_TREND_MONTHS} are needed)"
            )
        change = 100 * (self.annual_ratio - 1)
        interval = f"95% CI {_signed_percent(self.ci_low)} to {_signed_percent(self.ci_high)} a year"
        from pipeline.analysis.trends import and_list

        allowing = f", allowing for {and_list([name for name, _, _ in self.disruptions])}" if self.disruptions else ""
        adjusted = math.isfinite(self.p_adjusted)
        p = self.p_adjusted if adjusted else self.p_value
        holm = ", Holm-adjusted" if adjusted else ""
        if p < 0.05:
            direction = "rising" if change > 0 else "falling"
            return f"{direction} about {abs(change):.0f}% a year ({interval}{allowing}{holm})"
        return f"no clear trend ({interval}{allowing}{holm})"

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


def holm_verdicts(fits: dict[str, TrendFit], alone: tuple[str, ...] = ()) -> None:
    """Give every fit with a trend (except those named in ``alone``, such as the all-crime
    total) its Holm-adjusted p-value across all of them, as their trends are tested together:
    the one adjustment policy for every trend verdict (table, sections, key findings, threats)."""
    from pipeline.analysis.trends import holm_adjust

    tested = [name for name, fit in fits.items() if fit.has_trend and name not in alone]
    for name, p in zip(tested, holm_adjust([fits[name].p_value for name in tested])):
        fits[name].p_adjusted = float(p)


def fit_trend(series: pd.Series, disruptions: tuple[Period, ...] = (), min_months: int = MIN_MONTHS) -> TrendFit:
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
    if n < min_months:
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


def predict(fit: TrendFit, months: list[str], hold_trend_at: str | None = None) -> pd.DataFrame:
    """Expected counts with 80% and 95% prediction intervals for the given months.

    A month inside a declared disruption gets that disruption's level. With ``hold_trend_at``
    (a month), months after it keep that month's trend level and disruption levels: neither the
    trend nor the end of a disruption is extrapolated.
    Columns: month, expected, low80, high80, low95, high95 (lower bounds floored at 0).
    """
    from scipy import stats

    if fit.status != "fitted":
        raise ValueError("no model was fitted for this series")
    design = _design(months, fit.origin, fit.disruptions)
    if hold_trend_at is not None:
        # After the held month, the trend and each disruption's level stay as they were in that
        # month: the forecast assumes neither a trend going on nor a return to the level before.
        held = _design([hold_trend_at], fit.origin, fit.disruptions)[0]
        after = np.array([m > hold_trend_at for m in months])
        design[np.ix_(after, [1, *range(13, design.shape[1])])] = held[[1, *range(13, design.shape[1])]]
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
    # The trend and disruption levels are held at the last month fitted, as for a forecast.
    frame = predict(fit, list(held_out.index), hold_trend_at=series.index[-last_n - 1])[
        ["month", "expected", "low95", "high95"]
    ]
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
    points: int = 0  # the months the limits are worked out on


# An XmR chart needs a year of points for its limits to mean anything.
MIN_XMR_POINTS = 12


def xmr_limits(series: pd.Series) -> ControlLimits:
    """XmR chart limits: mean +/- 2.66 x mean moving range (ranges between consecutive months
    only), the lower limit floored at 0 (a count cannot be negative). With fewer than
    ``MIN_XMR_POINTS`` months the limits are NaN: too few points to set them."""
    series = series.sort_index()
    if len(series) < MIN_XMR_POINTS:
        return ControlLimits(
            float(series.mean()) if len(series) else math.nan, math.nan, math.nan, math.nan, len(series)
        )
    index = _month_index(series.index, series.index[0])
    values = series.to_numpy(dtype=float)
    consecutive = np.diff(index) == 1
    ranges = np.abs(np.diff(values))[consecutive]
    mean_range = float(ranges.mean()) if len(ranges) else math.nan
    centre = float(values.mean())
    lower = max(0.0, centre - XMR_CONSTANT * mean_range)
    return ControlLimits(centre, lower, centre + XMR_CONSTANT * mean_range, mean_range, len(series))


def exceptions(series: pd.Series) -> pd.DataFrame:
    """Months outside the XmR control limits: month, count, side ('above' or 'below'), limit
    (none when the limits could not be set)."""
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


# STL is drawn only on a series with this many usable months, at most this share of them filled in.
MIN_STL_MONTHS = 24
MAX_STL_FILLED = 0.10


def stl_usable(series: pd.Series, first: str, last: str) -> bool:
    """Whether the months ``first`` to ``last`` hold enough usable months of ``series`` for STL:
    at least ``MIN_STL_MONTHS``, and at most ``MAX_STL_FILLED`` of the span filled in."""
    span = month_range(first, last)
    present = sum(m in set(series.index) for m in span)
    return present >= MIN_STL_MONTHS and (len(span) - present) <= MAX_STL_FILLED * len(span)


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
    after Holm's adjustment across every type with a trend, since they are tested together
    (the same policy as the trend column). A trend whose direction runs against the window's
    like-for-like change is not headlined as a rise or fall: it is listed apart, with the
    reason the two can differ.
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
        elif trend.startswith("no trend given"):
            sentences.append(f"{total_label}: {trend}.")
        else:
            sentences.append(f"Underlying trend of {name} over the months modelled: {trend}.")
            against = _runs_against(by_type.loc[total_label])
            if against:
                sentences.append(f"{total_label}: {against}")
    types = summary[summary["crime_type"] != total_label].copy()
    p_values = types["trend_p"] if "trend_p" in types else pd.Series(np.nan, index=types.index)
    types["p_holm"] = holm_adjust(list(p_values))
    tested = int(p_values.notna().sum())
    significant = types[types["p_holm"] < 0.05]
    against = significant[[bool(_runs_against(r)) for _, r in significant.iterrows()]]
    agreeing = significant.drop(against.index)
    for label, rows in (
        ("Rising", agreeing[agreeing["annual_ratio"] > 1]),
        ("Falling", agreeing[agreeing["annual_ratio"] < 1]),
    ):
        if len(rows):
            listed = "; ".join(
                f"{r.crime_type} (about {abs(100 * (r.annual_ratio - 1)):.0f}% a year)" for r in rows.itertuples()
            )
            sentences.append(
                f"{label} trends once seasonality and any declared disruption are allowed for, and allowing for "
                f"{tested} types tested at once (Holm): {listed}."
            )
    if len(against):
        listed = "; ".join(
            f"{r.crime_type} (trend {'rising' if r.annual_ratio > 1 else 'falling'} about "
            f"{abs(100 * (r.annual_ratio - 1)):.0f}% a year; like for like {r.pct_change:+.1f}%)"
            for r in against.itertuples()
        )
        sentences.append(
            "Trends that run against the window's change, so neither is a headline: " + listed + ". " + AGAINST_REASON
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


AGAINST_REASON = (
    "The trend is fitted over every usable month with each declared disruption's months given a level of their own, "
    "so it describes the months outside the disruption; the like-for-like change compares the window's months with "
    "the same months a year before, disruption included."
)


def _runs_against(row: pd.Series) -> str:
    """Why a significant trend and the like-for-like change point opposite ways, or ""."""
    ratio, change = row.get("annual_ratio", np.nan), row.get("pct_change", np.nan)
    if pd.isna(ratio) or pd.isna(change) or change == 0 or (ratio > 1) == (change > 0):
        return ""
    return (
        f"the trend ({'rising' if ratio > 1 else 'falling'}) runs against the like-for-like change ({change:+.1f}%). "
        + AGAINST_REASON
    )


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
    """One sentence: did the forecast published at the end of the window hold for the months since?

    ``total`` is a row of the stage's back-test totals (actual, expected, low95, high95,
    within: how many months fell inside their monthly 95% intervals; method).
    """
    from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB

    name = {ALL_CRIME_EXCL_ASB: "crimes", ASB: "incidents"}.get(crime_type, "offences")
    within = int(total["within"])
    span = f"{month_label(months[0])} to {month_label(months[-1])}" if len(months) > 1 else month_label(months[0])
    actual, low, high = total["actual"], total["low95"], total["high95"]
    method = total.get("method", "") if hasattr(total, "get") else ""
    how = "by repeating the same months of the year before" if method == "seasonal naive" else f"by {method}"
    if pd.isna(low):
        verdict = f"{actual:,.0f} were recorded (no interval: too little history to measure forecast errors)."
    else:
        where = "within" if low <= actual <= high else ("below" if actual < low else "above")
        verdict = f"(95% interval {low:,.0f} to {high:,.0f}); {actual:,.0f} were recorded, {where} the interval."
    return (
        f"Back-test: the forecast published with the data up to {month_label(period_end)}, made {how}, was "
        f"{total['expected']:,.0f} {name} for {span} {verdict} "
        f"{within} of {len(months)} month{'s' if len(months) != 1 else ''} fell within their monthly 95% intervals."
    )
