import numpy as np
import pandas as pd
import pytest

from pipeline.months import month_range
from pipeline.trend_models import (
    exceptions,
    fit_trend,
    forecast,
    latest_against_expected,
    latest_months_sentence,
    stl_decomposition,
    trend_findings,
    xmr_limits,
)

MONTHS = month_range("2017-01", "2020-12")  # 48 months


def _simulated(annual_ratio: float, amplitude: float = 0.25, level: float = 200, seed: int = 1, months=MONTHS) -> pd.Series:
    """Poisson counts with a set annual trend and a sine-wave seasonal pattern (peak in spring)."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(months))
    season = np.exp(amplitude * np.sin(2 * np.pi * (t % 12) / 12))
    mean = level * annual_ratio ** (t / 12) * season
    return pd.Series(rng.poisson(mean), index=months)


def test_a_set_trend_is_recovered():
    fit = fit_trend(_simulated(1.10))
    assert fit.status == "fitted" and fit.months_used == 48
    assert fit.annual_ratio == pytest.approx(1.10, abs=0.03)
    assert fit.ci_low < 1.10 < fit.ci_high
    assert fit.verdict.startswith("rising about")


def test_no_trend_gives_no_clear_trend_and_falling_is_named():
    flat = fit_trend(_simulated(1.0, seed=3))
    assert flat.ci_low < 1.0 < flat.ci_high
    assert flat.verdict.startswith("no clear trend (95% CI")
    assert fit_trend(_simulated(0.85, seed=4)).verdict.startswith("falling about")


def test_seasonality_is_modelled_so_the_forecast_keeps_the_pattern():
    series = _simulated(1.0, amplitude=0.4, seed=5)
    ahead = forecast(series)
    assert list(ahead["month"]) == month_range("2021-01", "2021-12")
    # Peak near April (sin peaks at month index 3), trough near October.
    expected = ahead.set_index("month")["expected"]
    assert expected["2021-04"] > 1.5 * expected["2021-10"]
    assert (ahead["low95"] <= ahead["low80"]).all() and (ahead["high80"] <= ahead["high95"]).all()
    assert (ahead["low80"] < ahead["expected"]).all() and (ahead["low95"] >= 0).all()


def test_missing_months_are_left_out_not_zero_filled():
    series = _simulated(1.10, seed=2)
    gapped = series.drop(["2019-07", "2019-08"])
    fit = fit_trend(gapped)
    assert fit.months_used == 46
    assert fit.annual_ratio == pytest.approx(fit_trend(series).annual_ratio, abs=0.01)
    zero_filled = fit_trend(series.copy().where(~series.index.isin(["2019-07", "2019-08"]), 0))
    assert abs(zero_filled.annual_ratio - 1.10) > abs(fit.annual_ratio - 1.10)  # zeros would distort it


def test_short_and_sparse_series_are_not_modelled():
    assert fit_trend(_simulated(1.0, months=MONTHS[:20])).status == "too short"
    sparse = pd.Series([0, 1, 0, 2] * 9, index=MONTHS[:36])
    fit = fit_trend(sparse)
    assert fit.status == "too sparse" and fit.verdict == "not modelled: series too sparse"
    assert forecast(sparse).empty


def test_overdispersion_widens_the_trend_interval():
    rng = np.random.default_rng(7)
    t = np.arange(48)
    mean = 100 * 1.05 ** (t / 12)
    overdispersed = pd.Series(rng.negative_binomial(5, 5 / (5 + mean)), index=MONTHS)
    poisson = pd.Series(rng.poisson(mean), index=MONTHS)
    wide, narrow = fit_trend(overdispersed), fit_trend(poisson)
    assert wide.dispersion > 3
    assert (wide.ci_high - wide.ci_low) > 2 * (narrow.ci_high - narrow.ci_low)


def test_xmr_limits_by_hand():
    # Mean 99/7 = 14.1429; moving ranges 2,1,2,1,1,19, mean 26/6 = 4.3333;
    # limits 14.1429 -/+ 2.66 x 4.3333 = 2.6162 and 25.6695.
    series = pd.Series([10, 12, 11, 13, 12, 11, 30], index=month_range("2020-01", "2020-07"))
    limits = xmr_limits(series)
    assert limits.centre == pytest.approx(14.142857, abs=1e-5)
    assert limits.mean_moving_range == pytest.approx(4.333333, abs=1e-5)
    assert (limits.lower, limits.upper) == (pytest.approx(2.61619, abs=1e-4), pytest.approx(25.66952, abs=1e-4))
    flagged = exceptions(series)
    assert flagged[["month", "count", "side"]].values.tolist() == [["2020-07", 30, "above"]]


def test_xmr_moving_ranges_skip_gaps():
    # Mar 2020 is missing: no moving range between Feb (20) and Apr (10). Ranges: |20-10| = 10, |12-10| = 2.
    series = pd.Series([10, 20, 10, 12], index=["2020-01", "2020-02", "2020-04", "2020-05"])
    assert xmr_limits(series).mean_moving_range == pytest.approx(6.0)


def test_latest_months_against_expected():
    series = _simulated(1.0, seed=8)
    series.iloc[-1] = series.iloc[-1] * 3  # a spike the model cannot have expected
    latest = latest_against_expected(series)
    assert list(latest["month"]) == ["2020-10", "2020-11", "2020-12"]
    assert latest["position"].iloc[-1] == "above"


LATEST = pd.DataFrame({
    "month": ["2020-11", "2020-12"],
    "actual": [1250.0, 900.0],
    "expected": [1100.4, 1080.0],
    "low95": [1010.2, 985.6],
    "high95": [1195.0, 1180.3],
    "position": ["above", "below"],
})


def test_latest_months_sentence_gives_counts_and_the_95_percent_range():
    assert latest_months_sentence(LATEST) == (
        "Latest months against what the model expected from the months before: "
        "Nov 2020 1,250 (expected 1,100, 95% range 1,010 to 1,195: above); "
        "Dec 2020 900 (expected 1,080, 95% range 986 to 1,180: below)."
    )
    assert latest_months_sentence(LATEST.iloc[0:0]) == ""


def test_trend_findings_name_rising_and_falling_types_and_latest_months():
    summary = pd.DataFrame({
        "crime_type": ["All crime", "Burglary", "Drugs", "Robbery"],
        "trend": ["no clear trend", "rising about 12% a year (95% CI 4% to 21%)", "falling about 20% a year (95% CI 9% to 30%)", "no clear trend"],
        "annual_ratio": [1.01, 1.12, 0.80, 0.98],
    })
    findings = trend_findings(summary, LATEST, "All crime")
    assert findings == [
        "Over the months modelled, all crime shows no clear trend.",
        "Rising trends once seasonality is allowed for: Burglary (about 12% a year).",
        "Falling trends once seasonality is allowed for: Drugs (about 20% a year).",
        "Latest months of all crime outside what the model expected: Nov 2020 (above), Dec 2020 (below).",
    ]
    asb_label = trend_findings(summary.replace("All crime", "All crime (excluding ASB)"), LATEST, "All crime (excluding ASB)")
    assert asb_label[0] == "Over the months modelled, all crime (excluding ASB) shows no clear trend."
    within = LATEST.assign(position="within")
    assert trend_findings(summary, within, "All crime")[-1] == (
        "The latest 2 months of all crime were within what the model expected from the months before."
    )


def test_stl_fills_gaps_for_the_chart_only_and_says_so():
    series = _simulated(1.05, seed=9).drop("2019-07")
    stl = stl_decomposition(series, "2017-01", "2020-12")
    assert len(stl) == 48
    assert stl.loc[stl["filled"], "month"].tolist() == ["2019-07"]
    row = stl.set_index("month")
    assert row.loc["2019-07", "observed"] == pytest.approx((series["2019-06"] + series["2019-08"]) / 2)
    assert np.allclose(stl["trend"] + stl["seasonal"] + stl["remainder"], stl["observed"])
