"""Forecasts chosen by how well they did out of sample, not by how well they fit.

For each monthly series three forecasts are tried by rolling-origin evaluation over the
usable months: from every month with at least ``MIN_TRAIN`` usable months before it, each
method forecasts the next 1 to 12 months from what was known then, and its errors on the
usable months that followed are recorded.

- **Seasonal naive**: each month as it was a year before (two or three years before when
  that month has no usable data). The simple alternative every forecast must beat.
- **Damped ETS**: Holt-Winters exponential smoothing with a damped additive trend and
  additive seasonality (statsmodels), fitted to the series with any missing month filled
  by linear interpolation for the fit only.
- **Seasonal quasi-Poisson, trend held**: the trend model of ``trend_models`` (month-of-year
  terms and a level for each declared disruption), with its trend held at the level of the
  last month: a fitted log-linear trend is never extrapolated.

The method with the smallest mean absolute scaled error (MASE: its mean absolute error
over the mean absolute error of seasonal naive on the same months) is published only when
its MASE is below 1, that is when it beat seasonal naive out of sample; otherwise the
published forecast is seasonal naive, and the report says that repeating last year's months
is the best guide. A series with too little history to test any method gets seasonal naive
and says so.

Intervals are empirical (split-conformal): the 95% interval is the forecast plus or minus
the 95th percentile of the chosen method's rolling-origin errors, each scaled by the square
root of its forecast (counts vary more when they are larger). A total over several months
adds the months' half-widths as if the errors were correlated as AR(1), with the lag-1
correlation of successive errors from the same origin.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.analysis.trend_models import Period, fit_trend, predict
from pipeline.months import month_range, shift_month

SEASONAL_NAIVE, DAMPED_ETS, QUASI_POISSON = "seasonal naive", "damped ETS", "seasonal quasi-Poisson (trend held)"
COMBINED = "average of the three"
METHODS = (SEASONAL_NAIVE, DAMPED_ETS, QUASI_POISSON, COMBINED)
ORIGIN_STEP = 2  # months between rolling origins, counted back from the last usable month
MAX_ORIGINS = 6  # the most recent origins only: the months nearest the forecast tell most about it
# A model replaces seasonal naive only when it beat it clearly: its MASE at most this, and a
# lower mean absolute error than seasonal naive from every origin tested (so that one good
# stretch cannot carry it).
MASE_MARGIN = 0.9
# Below this many a month, ordinary Poisson variation (a standard deviation of at least a third
# of the count) swamps any model's advantage over a few origins: such series repeat last year.
MIN_MODEL_MEAN = 10.0
MIN_TRAIN = 24  # usable months a forecast is made from: two of each calendar month
HORIZON = 12
MIN_PAIRS = 12  # rolling-origin (forecast, actual) pairs needed to judge a method
COVERAGE = 0.95
METHOD_NOTE = (
    "Forecasts: three methods are tried on each series by rolling-origin evaluation over its usable months "
    f"(from every month with at least {MIN_TRAIN} usable months before it, forecasts 1 to {HORIZON} months ahead "
    "are set against what was then recorded): seasonal naive (each month as it was a year before), exponential "
    "smoothing with a damped trend and additive seasonality (statsmodels Holt-Winters), and the seasonal "
    "quasi-Poisson model with its trend held at its latest level (no fitted trend is extrapolated). A method's "
    "forecast is published only when its mean absolute scaled error (MASE, against seasonal naive on the same "
    "months) is below 1; otherwise the forecast repeats last year's months. 95% intervals are empirical: the "
    "forecast plus or minus the 95th percentile of the method's own rolling-origin errors (scaled by the square "
    "root of the forecast)."
)


def seasonal_naive(series: pd.Series, months: list[str]) -> np.ndarray:
    """Each month's count as it was 12 months before (24 or 36 when that month is not in
    ``series``, which holds usable months only); NaN when none of the three is."""
    known = series.to_dict()
    out = []
    for month in months:
        value = next((known[m] for m in (shift_month(month, -12 * k) for k in (1, 2, 3)) if m in known), math.nan)
        out.append(float(value))
    return np.array(out)


def damped_ets(series: pd.Series, months: list[str]) -> np.ndarray:
    """Holt-Winters forecasts (damped additive trend, additive seasonality, period 12) for
    ``months`` after the series' last month, floored at 0. A missing month inside the series
    is filled by linear interpolation for the fit only."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    series = series.sort_index()
    full = series.reindex(month_range(series.index[0], series.index[-1])).astype(float).interpolate()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(
            full.to_numpy(),
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=12,
            initialization_method="estimated",
        ).fit(use_brute=False)
        steps = [len(month_range(series.index[-1], m)) - 1 for m in months]
        path = fit.forecast(max(steps))
    return np.maximum(0.0, np.array([path[s - 1] for s in steps], dtype=float))


def quasi_poisson_held(series: pd.Series, months: list[str], disruptions: tuple[Period, ...] = ()) -> np.ndarray:
    """The seasonal quasi-Poisson model's expected counts for ``months``, its trend held at
    the series' last month (NaN when the model cannot be fitted)."""
    fit = fit_trend(series, disruptions, min_months=MIN_TRAIN)
    if fit.status != "fitted":
        return np.full(len(months), math.nan)
    return predict(fit, months, hold_trend_at=series.sort_index().index[-1])["expected"].to_numpy()


def _forecasts(series: pd.Series, months: list[str], disruptions: tuple[Period, ...]) -> dict[str, np.ndarray]:
    made = {
        SEASONAL_NAIVE: seasonal_naive(series, months),
        DAMPED_ETS: damped_ets(series, months),
        QUASI_POISSON: quasi_poisson_held(series, months, disruptions),
    }
    # An equal-weight combination: forecast errors of different methods partly cancel.
    made[COMBINED] = np.mean([made[SEASONAL_NAIVE], made[DAMPED_ETS], made[QUASI_POISSON]], axis=0)
    return made


def rolling_origin(series: pd.Series, disruptions: tuple[Period, ...] = (), horizon: int = HORIZON) -> pd.DataFrame:
    """Every method's forecasts from every origin with ``MIN_TRAIN`` usable months behind it,
    set against the usable months that followed within ``horizon`` months.

    Columns: origin, month, horizon (months ahead), actual, and one column per method.
    Only pairs where every method gave a forecast are kept, so the methods are compared on
    the same months."""
    series = series.sort_index()
    months = list(series.index)
    rows = []
    for k in list(range(len(months) - 2, MIN_TRAIN - 2, -ORIGIN_STEP))[:MAX_ORIGINS]:
        origin = months[k]
        targets = [m for m in months[k + 1 :] if m <= shift_month(origin, horizon)]
        if not targets:
            continue
        made = _forecasts(series.iloc[: k + 1], targets, disruptions)
        for j, month in enumerate(targets):
            row = {"origin": origin, "month": month, "horizon": len(month_range(origin, month)) - 1}
            row["actual"] = float(series[month])
            row.update({method: float(values[j]) for method, values in made.items()})
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["origin", "month", "horizon", "actual", *METHODS])
    return frame.dropna(subset=list(METHODS)).reset_index(drop=True)


@dataclass
class Choice:
    """The method published for a series, and the evidence for it."""

    method: str
    mase: dict[str, float] = field(default_factory=dict)  # each method's MASE (seasonal naive: 1)
    pairs: int = 0  # rolling-origin pairs the MASE is worked out on
    scaled_q95: float = math.nan  # 95th percentile of |error| / sqrt(forecast), the chosen method's
    error_correlation: float = 0.0  # lag-1 correlation of successive errors from one origin
    reason: str = ""

    @property
    def beats_naive(self) -> bool:
        return self.method != SEASONAL_NAIVE


def choose(evaluation: pd.DataFrame, monthly_mean: float = math.inf) -> Choice:
    """The method with the lowest MASE, if it clearly beat seasonal naive; otherwise seasonal
    naive (see the module and ``MASE_MARGIN``). ``monthly_mean``: the series' mean count a
    month (below ``MIN_MODEL_MEAN``, seasonal naive)."""
    if monthly_mean < MIN_MODEL_MEAN:
        choice = Choice(
            SEASONAL_NAIVE,
            pairs=len(evaluation),
            reason=f"fewer than {MIN_MODEL_MEAN:g} a month on average, too few for a model to show it does better, "
            "so the forecast repeats last year's months",
        )
    elif len(evaluation) < MIN_PAIRS:
        choice = Choice(
            SEASONAL_NAIVE,
            pairs=len(evaluation),
            reason=f"too little history to test a model ({len(evaluation)} rolling-origin forecasts; "
            f"{MIN_PAIRS} are needed), so the forecast repeats last year's months",
        )
    else:
        naive_error = float(np.mean(np.abs(evaluation["actual"] - evaluation[SEASONAL_NAIVE])))
        mase = {}
        for method in METHODS:
            error = float(np.mean(np.abs(evaluation["actual"] - evaluation[method])))
            mase[method] = error / naive_error if naive_error > 0 else (1.0 if error == 0 else math.inf)
        best = min((m for m in METHODS if m != SEASONAL_NAIVE), key=lambda m: mase[m])
        by_origin = (
            evaluation.assign(
                model=(evaluation["actual"] - evaluation[best]).abs(),
                naive=(evaluation["actual"] - evaluation[SEASONAL_NAIVE]).abs(),
            )
            .groupby("origin")[["model", "naive"]]
            .mean()
        )
        wins = int((by_origin["model"] < by_origin["naive"]).sum())
        if mase[best] <= MASE_MARGIN and wins == len(by_origin):
            choice = Choice(
                best,
                mase,
                len(evaluation),
                reason=f"its forecasts beat last year's months out of sample "
                f"(MASE {mase[best]:.2f}; better from {wins} of {len(by_origin)} origins)",
            )
        else:
            choice = Choice(
                SEASONAL_NAIVE,
                mase,
                len(evaluation),
                reason="no model clearly beat last year's months out of "
                f"sample (best: {best}, MASE {mase[best]:.2f}, better from {wins} of {len(by_origin)} origins), "
                "so the forecast repeats last year's months",
            )
    choice.scaled_q95, choice.error_correlation = _error_scale(evaluation, choice.method)
    return choice


def _error_scale(evaluation: pd.DataFrame, method: str) -> tuple[float, float]:
    """The 95th percentile of |actual - forecast| / sqrt(max(forecast, 1)) over the rolling
    origins, and the lag-1 correlation of successive scaled errors from the same origin."""
    if evaluation.empty:
        return math.nan, 0.0
    scale = np.sqrt(np.maximum(evaluation[method].to_numpy(), 1.0))
    scaled = (evaluation["actual"].to_numpy() - evaluation[method].to_numpy()) / scale
    q95 = float(np.quantile(np.abs(scaled), COVERAGE, method="higher"))
    frame = evaluation.assign(scaled=scaled).sort_values(["origin", "month"])
    pairs = [(a, b) for _, g in frame.groupby("origin") for a, b in zip(g["scaled"].iloc[:-1], g["scaled"].iloc[1:])]
    if len(pairs) < 3:
        return q95, 0.0
    x, y = np.array(pairs).T
    rho = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
    return q95, min(max(rho, 0.0), 0.95)


def _naive_scale(series: pd.Series) -> float:
    """Without enough rolling origins: the 95th percentile of |y - y a year before| / sqrt of
    the year-before value, over the series (the seasonal naive method's own errors)."""
    known = series.to_dict()
    scaled = [
        abs(v - known[shift_month(m, -12)]) / math.sqrt(max(known[shift_month(m, -12)], 1.0))
        for m, v in known.items()
        if shift_month(m, -12) in known
    ]
    return float(np.quantile(scaled, COVERAGE, method="higher")) if len(scaled) >= 6 else math.nan


@dataclass
class Forecast:
    """A published forecast for one series: the method, its monthly forecasts with 95%
    intervals, and the evidence it was chosen on."""

    choice: Choice
    months: pd.DataFrame  # month, expected, low95, high95
    q95: float

    def total(self, months: list[str]) -> tuple[float, float, float]:
        """Expected total over ``months`` (a subset of the forecast's) and its 95% interval."""
        rows = self.months.set_index("month").loc[months]
        expected = float(rows["expected"].sum())
        if not math.isfinite(self.q95):
            return expected, math.nan, math.nan
        root = np.sqrt(np.maximum(rows["expected"].to_numpy(), 1.0))
        lags = np.abs(np.arange(len(months))[:, None] - np.arange(len(months))[None, :])
        half = self.q95 * math.sqrt(float(root @ (self.choice.error_correlation**lags) @ root))
        return expected, max(0.0, expected - half), expected + half


def forecast_series(series: pd.Series, months: list[str], disruptions: tuple[Period, ...] = ()) -> Forecast:
    """The published forecast of ``series`` (usable months only) for ``months`` after it:
    the method chosen by rolling-origin evaluation, with empirical 95% intervals."""
    series = series.sort_index()
    if not months:
        raise ValueError("no months to forecast")
    # A series too sparse for a model gets seasonal naive whatever the evaluation says: not run.
    sparse = float(series.mean()) < MIN_MODEL_MEAN
    evaluation = rolling_origin(series.iloc[:0] if sparse else series, disruptions)
    choice = choose(evaluation, float(series.mean()))
    expected = _forecasts(series, months, disruptions)[choice.method]
    q95 = choice.scaled_q95 if math.isfinite(choice.scaled_q95) and choice.pairs >= MIN_PAIRS else _naive_scale(series)
    root = np.sqrt(np.maximum(expected, 1.0))
    frame = pd.DataFrame({"month": months, "expected": expected})
    frame["low95"] = np.maximum(0.0, expected - q95 * root)
    frame["high95"] = expected + q95 * root
    return Forecast(choice, frame, q95)
