import numpy as np
import pandas as pd
import pytest

from pipeline.analysis.trend_models import (
    exceptions,
    fit_trend,
    forecast,
    latest_against_expected,
    latest_months_sentence,
    stl_decomposition,
    trend_findings,
    xmr_limits,
)
from pipeline.months import month_range

MONTHS = month_range("2017-01", "2020-12")  # 48 months


def _simulated(
    annual_ratio: float, amplitude: float = 0.25, level: float = 200, seed: int = 1, months=MONTHS
) -> pd.Series:
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
    assert fit.status == "too sparse"
    assert fit.verdict == "not modelled: fewer than 3 a month on average, too few for a trend"
    short = fit_trend(_simulated(1.0, months=MONTHS[:4]))
    assert short.verdict == "not modelled: 4 usable months, and a seasonal trend needs at least 24"
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
    # Sum 157 over 12 months, mean 13.0833; moving ranges 2,1,2,1,1,1,2,1,2,1,18: 32/11 = 2.90909;
    # limits 13.0833 -/+ 2.66 x 2.90909 = 5.34512 and 20.82155.
    series = pd.Series([10, 12, 11, 13, 12, 11, 10, 12, 11, 13, 12, 30], index=month_range("2020-01", "2020-12"))
    limits = xmr_limits(series)
    assert limits.centre == pytest.approx(13.083333, abs=1e-5) and limits.points == 12
    assert limits.mean_moving_range == pytest.approx(2.909091, abs=1e-5)
    assert (limits.lower, limits.upper) == (pytest.approx(5.34512, abs=1e-4), pytest.approx(20.82155, abs=1e-4))
    flagged = exceptions(series)
    assert flagged[["month", "count", "side"]].values.tolist() == [["2020-12", 30, "above"]]


def test_xmr_lower_limit_is_never_below_zero_and_needs_a_year_of_points():
    # Mean 23/12 = 1.9167; ranges ten 0s and 11: mean 1.0; 1.9167 - 2.66 = -0.74, floored at 0; upper 4.5767.
    series = pd.Series([1] * 11 + [12], index=month_range("2020-01", "2020-12"))
    limits = xmr_limits(series)
    assert limits.lower == 0.0 and limits.upper == pytest.approx(4.576667, abs=1e-5)
    short = xmr_limits(series.iloc[:11])
    assert short.points == 11 and np.isnan(short.lower) and np.isnan(short.upper)
    assert exceptions(series.iloc[:11]).empty  # no limits, so no month is called exceptional


def test_xmr_moving_ranges_skip_gaps():
    # Mar 2020 is missing: no moving range between Feb (20) and Apr (10). Ranges: |20-10| = 10, |12-10| = 2,
    # then eight of 0 (May 2020 to Jan 2021 at 12): 12 / 10 = 1.2 (2.0 if the gap were bridged: 22 / 11).
    months = ["2020-01", "2020-02", *month_range("2020-04", "2021-01")]
    series = pd.Series([10, 20, 10] + [12] * 9, index=months)
    assert xmr_limits(series).mean_moving_range == pytest.approx(1.2)


def test_latest_months_against_expected():
    series = _simulated(1.0, seed=8)
    series.iloc[-1] = series.iloc[-1] * 3  # a spike the model cannot have expected
    latest = latest_against_expected(series)
    assert list(latest["month"]) == ["2020-10", "2020-11", "2020-12"]
    assert latest["position"].iloc[-1] == "above"


LATEST = pd.DataFrame(
    {
        "month": ["2020-11", "2020-12"],
        "actual": [1250.0, 900.0],
        "expected": [1100.4, 1080.0],
        "low95": [1010.2, 985.6],
        "high95": [1195.0, 1180.3],
        "position": ["above", "below"],
    }
)


def test_latest_months_sentence_gives_counts_and_the_95_percent_range():
    assert latest_months_sentence(LATEST) == (
        "Latest months against what the model expected from the months before: "
        "Nov 2020 1,250 (expected 1,100, 95% range 1,010 to 1,195: above); "
        "Dec 2020 900 (expected 1,080, 95% range 986 to 1,180: below)."
    )
    assert latest_months_sentence(LATEST.iloc[0:0]) == ""


def test_trend_findings_name_rising_and_falling_types_and_latest_months():
    summary = pd.DataFrame(
        {
            "crime_type": ["All crime", "Burglary", "Drugs", "Robbery"],
            "trend": [
                "no clear trend",
                "rising about 12% a year (95% CI 4% to 21%)",
                "falling about 20% a year (95% CI 9% to 30%)",
                "no clear trend",
            ],
            "annual_ratio": [1.01, 1.12, 0.80, 0.98],
            # Holm over the three types: 0.001 x 3 = 0.003, 0.02 x 2 = 0.04, 0.6 x 1 = 0.6.
            "trend_p": [0.5, 0.001, 0.02, 0.6],
            # The like-for-like changes run the same way as the significant trends.
            "pct_change": [1.0, 8.0, -15.0, -2.0],
        }
    )
    findings = trend_findings(summary, LATEST, "All crime")
    assert findings == [
        "Underlying trend of all crime over the months modelled: no clear trend.",
        "Rising trends once seasonality and any declared disruption are allowed for, and allowing for 3 types tested "
        "at once (Holm): Burglary (about 12% a year).",
        "Falling trends once seasonality and any declared disruption are allowed for, and allowing for 3 types "
        "tested at once (Holm): Drugs (about 20% a year).",
        "Latest months of all crime outside what the model expected: Nov 2020 (above), Dec 2020 (below).",
    ]
    # Drugs at p = 0.03 becomes 0.06 after Holm: no longer listed.
    assert not any(
        f.startswith("Falling")
        for f in trend_findings(summary.assign(trend_p=[0.5, 0.001, 0.03, 0.6]), LATEST, "All crime")
    )
    asb_label = trend_findings(
        summary.replace("All crime", "All crime (excluding ASB)"), LATEST, "All crime (excluding ASB)"
    )
    assert asb_label[0] == "Underlying trend of all crime (excluding ASB) over the months modelled: no clear trend."
    within = LATEST.assign(position="within")
    assert trend_findings(summary, within, "All crime")[-1] == (
        "The latest 2 months of all crime were within what the model expected from the months before."
    )
    # Burglary's trend rises while its like-for-like change fell: not headlined as a rise; listed apart, with why.
    against = trend_findings(summary.assign(pct_change=[1.0, -14.8, -15.0, -2.0]), LATEST, "All crime")
    assert not any("Burglary" in f and f.startswith("Rising") for f in against)
    apart = [f for f in against if f.startswith("Trends that run against the window's change")]
    assert apart and "Burglary (trend rising about 12% a year; like for like -14.8%)" in apart[0]
    assert "a level of their own, so it describes the months outside the disruption" in apart[0]
    short = summary.assign(trend=["not modelled: 4 usable months, and a seasonal trend needs at least 24"] * 4)
    assert trend_findings(short, LATEST.iloc[0:0], "All crime")[0] == (
        "All crime was not modelled: 4 usable months, and a seasonal trend needs at least 24."
    )


COVID = (("COVID-19 restrictions", "2020-03", "2021-03"),)


FOUR_YEARS = month_range("2017-01", "2020-12")


def _shocked(annual_ratio: float, shift: float, seed: int, months: list[str] = FOUR_YEARS) -> pd.Series:
    """Poisson counts with a set trend, seasonality and a level shift (x ``shift``) from Mar 2020."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(months))
    season = np.exp(0.2 * np.sin(2 * np.pi * (t % 12) / 12))
    during = np.array([1.0 if m >= "2020-03" else 0.0 for m in months])
    mean = 400 * annual_ratio ** (t / 12) * season * shift**during
    return pd.Series(rng.poisson(mean), index=months)


def test_a_declared_disruption_is_modelled_so_the_underlying_trend_is_recovered():
    # Rising 7% a year, then a 30% drop from March 2020 (as all crime in lockdown).
    for seed in (11, 12, 13):
        series = _shocked(1.07, 0.7, seed)
        allowed = fit_trend(series, COVID)
        assert allowed.annual_ratio == pytest.approx(1.07, abs=0.02)
        assert allowed.verdict.startswith("rising about") and "allowing for COVID-19 restrictions" in allowed.verdict
        assert allowed.disruption_ratios["COVID-19 restrictions"] == pytest.approx(0.7, abs=0.04)
        # The straight line through the shock cannot see the rise.
        straight = fit_trend(series)
        assert abs(straight.annual_ratio - 1.07) > 0.05


def test_a_forecast_after_the_disruption_returns_to_the_trend():
    series = _shocked(1.0, 1.5, seed=14)  # a surge (as ASB in lockdown) that ends in March 2021
    fit = fit_trend(series, COVID)
    ahead = forecast(series, disruptions=COVID).set_index("month")["expected"]
    straight = forecast(series).set_index("month")["expected"]
    # Jan-Mar 2021 are still inside the declared period: they keep the surge (x 1.5 against
    # the same calendar month a year later, seasonality aside); from April it is not carried
    # forward, where the straight line carries part of it.
    season = lambda k: np.exp(0.2 * np.sin(2 * np.pi * k / 12))  # noqa: E731 - months since January
    assert ahead["2021-02"] / season(1) == pytest.approx(1.5 * ahead["2021-08"] / season(7), rel=0.1)
    assert ahead["2021-06"] < straight["2021-06"]
    assert fit.disruption_ratios["COVID-19 restrictions"] == pytest.approx(1.5, abs=0.08)


def test_autocorrelated_residuals_widen_the_interval():
    from pipeline.analysis.trend_models import lag1_autocorrelation

    months = month_range("2017-01", "2020-12")
    # Residuals that follow each other: lag-1 autocorrelation by hand for 1, 2, 3, 4 (mean 2.5):
    # sum of (-1.5)(-0.5) + (-0.5)(0.5) + (0.5)(1.5) = 1.25 over sum of squares 5 = 0.25.
    assert lag1_autocorrelation(months[:4], np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.25)
    # A gap breaks the chain: only pairs of consecutive months count.
    gapped = [months[0], months[1], months[3], months[4], months[5]]
    values = np.array([1.0, 2.0, 10.0, 3.0, 4.0])
    centred = values - values.mean()
    by_hand = (centred[0] * centred[1] + centred[2] * centred[3] + centred[3] * centred[4]) / np.sum(centred**2)
    assert lag1_autocorrelation(gapped, values) == pytest.approx(max(0.0, by_hand))
    # Runs of high and low months: the trend interval is the quasi-Poisson one, worked out
    # here with statsmodels directly, widened by sqrt((1 + r) / (1 - r)) with r by hand.
    import statsmodels.api as sm
    from scipy import stats

    rng = np.random.default_rng(21)
    noise = np.zeros(48)
    for i in range(1, 48):
        noise[i] = 0.8 * noise[i - 1] + rng.normal(0, 0.08)
    series = pd.Series(rng.poisson(300 * np.exp(noise)), index=months)
    t = np.arange(48.0)
    design = np.column_stack([np.ones(48), t] + [(t % 12 == k).astype(float) for k in range(1, 12)])
    poisson = sm.GLM(series.to_numpy(float), design, family=sm.families.Poisson()).fit()
    dispersion = max(1.0, poisson.pearson_chi2 / poisson.df_resid)
    quasi_se = poisson.bse[1] * np.sqrt(dispersion)
    residuals = (series.to_numpy(float) - poisson.mu) / np.sqrt(poisson.mu)
    centred = residuals - residuals.mean()
    r = np.sum(centred[:-1] * centred[1:]) / np.sum(centred**2)
    assert r > 0.4
    se = quasi_se * np.sqrt((1 + r) / (1 - r))
    critical = stats.t.ppf(0.975, 48 - 13)
    fit = fit_trend(series)
    assert fit.autocorrelation == pytest.approx(r)
    assert fit.ci_low == pytest.approx(np.exp(12 * (poisson.params[1] - critical * se)), rel=1e-6)
    assert fit.ci_high == pytest.approx(np.exp(12 * (poisson.params[1] + critical * se)), rel=1e-6)


def test_back_test_sets_the_published_forecast_against_what_happened():
    from pipeline.analysis.forecasting import forecast_series
    from pipeline.analysis.trend_models import back_test_sentence
    from pipeline.analysis.trend_stage import back_test

    history = _shocked(1.0, 1.0, seed=15)
    later_months = month_range("2021-01", "2021-03")
    published = forecast_series(history, later_months)
    ahead = published.months.set_index("month")
    later = pd.Series(
        [int(ahead.loc["2021-01", "expected"]), 0, int(ahead.loc["2021-03", "high95"]) + 50], index=later_months
    )
    months, total = back_test(published, later)
    assert list(months["position"]) == ["within", "below", "above"]
    assert total["actual"] == later.sum()
    assert total["expected"] == pytest.approx(ahead["expected"].sum())
    total["within"] = int((months["position"] == "within").sum())
    total["method"] = "seasonal naive"
    sentence = back_test_sentence(total, later_months, "All crime (excluding ASB)", "2020-12")
    assert sentence.startswith(
        "Back-test: the forecast published with the data up to Dec 2020, made by repeating the same months of the "
        "year before, was "
    )
    assert "1 of 3 months fell within their monthly 95% intervals." in sentence
    assert " crimes for Jan 2021 to Mar 2021 (95% interval " in sentence


def test_stl_fills_gaps_for_the_chart_only_and_says_so():
    series = _simulated(1.05, seed=9).drop("2019-07")
    stl = stl_decomposition(series, "2017-01", "2020-12")
    assert len(stl) == 48
    assert stl.loc[stl["filled"], "month"].tolist() == ["2019-07"]
    row = stl.set_index("month")
    assert row.loc["2019-07", "observed"] == pytest.approx((series["2019-06"] + series["2019-08"]) / 2)
    assert np.allclose(stl["trend"] + stl["seasonal"] + stl["remainder"], stl["observed"])


def test_a_table_with_no_rows_keeps_its_columns_through_the_processed_files(tmp_path):
    """A steady series has no month outside its control limits: the exceptions table is empty
    but still has its month column, so the report can select from it (it failed on such data)."""
    from pipeline.analysis.trend_models import read_processed, write_processed
    from pipeline.analysis.trend_stage import stage_tables
    from pipeline.analysis.trends import compare_windows

    months = month_range("2019-01", "2020-12")
    monthly = pd.DataFrame({"Burglary": [8] * 24}, index=pd.Index(months, name="month"))
    tables = stage_tables(monthly, compare_windows(monthly, "2020-12"), "2019-01", "2020-12", ["Burglary"])
    write_processed(tables, tmp_path)
    exceptions = read_processed(tmp_path)["exceptions"]
    assert len(exceptions) == 0
    assert list(exceptions.query("crime_type == 'Burglary'")["month"]) == []


def test_the_report_reads_back_the_window_comparison_the_trend_stage_tested(tmp_path):
    """The report takes the window comparison from the trend stage's files instead of fitting
    it again: what it reads is, value for value, what ``compare_windows`` gave (parquet keeps
    float64 exactly), including the NaN of a type with no crimes in one window."""
    from pipeline.analysis.trend_models import read_processed, write_processed
    from pipeline.analysis.trend_stage import stage_tables
    from pipeline.analysis.trends import compare_windows

    months = month_range("2019-01", "2020-12")
    burglary = [5, 9, 7, 6, 8, 10, 4, 7, 9, 6, 5, 8, 3, 4, 6, 2, 5, 4, 3, 6, 4, 5, 2, 3]
    monthly = pd.DataFrame({"Burglary": burglary, "Arson": [0] * 12 + [1] * 12}, index=pd.Index(months, name="month"))
    comparison = compare_windows(monthly, "2020-12")
    write_processed(stage_tables(monthly, comparison, "2019-01", "2020-12", ["Burglary"]), tmp_path)
    read = read_processed(tmp_path)["comparison"]
    pd.testing.assert_frame_equal(read, comparison)
    # Worked by hand: 2020 against 2019, like for like over all twelve months.
    assert read.set_index("crime_type").loc[
        "Burglary", ["comparison_count", "assessment_count", "change"]
    ].tolist() == [84, 47, -37]
    assert np.isnan(read.set_index("crime_type").loc["Arson", "pct_change"])
