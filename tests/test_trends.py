import math

import numpy as np
import pandas as pd
import pytest

from pipeline.months import month_range
from pipeline.police import ALL_CRIME_EXCL_ASB, ASB
from pipeline.trends import (
    change_significance,
    compare_windows,
    common_months,
    comparison_windows_text,
    financial_year_counts,
    key_findings,
    like_for_like_months,
    monthly_counts,
    rate_per_1000,
    window_rates,
)


def test_change_without_overdispersion_matches_the_hand_worked_poisson_case():
    # Means 10 and 15 a month; Pearson dispersion 0.22 is floored at 1, so
    # SE(log ratio) = sqrt(1/40 + 1/60) = 0.20412; t = ln(1.5)/0.20412 = 1.986 on 6 df.
    result = change_significance([10, 12, 8, 10], [15, 13, 17, 15])
    assert result.rate_ratio == pytest.approx(1.5)
    assert result.dispersion == 1.0
    assert result.p_value == pytest.approx(0.09419, abs=1e-4)
    assert result.ci_low == pytest.approx(0.91027, abs=1e-4)
    assert result.ci_high == pytest.approx(2.47178, abs=1e-4)
    assert result.verdict == "no significant change"


def test_overdispersion_widens_the_interval():
    # Pearson chi-squared = (4 x 25)/10 + (4 x 100)/20 = 30 on 6 df: dispersion 5.
    # SE = sqrt(5 x (1/40 + 1/80)) = 0.43301; t = ln 2 / 0.43301 = 1.601 on 6 df, p = 0.1605.
    # A plain Poisson test of 40 against 80 would call this significant (p = 0.0003).
    result = change_significance([5, 15, 5, 15], [10, 30, 10, 30])
    assert result.dispersion == pytest.approx(5.0)
    assert result.rate_ratio == pytest.approx(2.0)
    assert result.p_value == pytest.approx(0.16055, abs=1e-4)
    assert result.ci_low == pytest.approx(0.69323, abs=1e-4)
    assert result.ci_high == pytest.approx(5.77011, abs=1e-3)
    assert result.verdict == "no significant change"


def test_clear_changes_are_significant_in_the_right_direction():
    up = change_significance([100] * 12, [130] * 12)
    down = change_significance([130] * 12, [100] * 12)
    assert up.verdict == "significant increase" and up.p_value < 0.001
    assert down.verdict == "significant decrease"


def test_too_little_to_test():
    assert change_significance([0, 0, 0], [1, 2, 0]).verdict == "too few crimes to test"
    assert change_significance([3], [4]).verdict == "too few months to test"
    assert math.isnan(change_significance([0, 0], [0, 0]).rate_ratio)


def test_like_for_like_drops_a_month_missing_from_either_window():
    usable = [m for m in month_range("2019-01", "2020-12") if m not in ("2019-07", "2020-02")]
    before, after = like_for_like_months("2020-12", usable)
    assert len(before) == len(after) == 10
    assert "2020-07" not in after and "2020-02" not in after
    assert "2019-02" not in before and "2019-07" not in before
    assert before[0] == "2019-01" and after[0] == "2020-01"


def _crimes(rows):
    return pd.DataFrame(rows, columns=["area", "month", "crime_type"])


def test_monthly_counts_leave_out_unusable_months_and_total_excludes_asb():
    crimes = _crimes(
        [("A", "2020-01", "Burglary")] * 3
        + [("A", "2020-01", ASB)] * 5
        + [("A", "2020-02", "Drugs")] * 2
        + [("A", "2020-03", "Burglary")] * 9  # March is not usable: must not appear
        + [("B", "2020-01", "Burglary")] * 4
    )
    table = monthly_counts(crimes, "A", ["2020-01", "2020-02"])
    assert list(table.index) == ["2020-01", "2020-02"]
    assert table.loc["2020-01", "Burglary"] == 3
    assert table.loc["2020-02", "Burglary"] == 0  # a usable month with no burglaries is a real zero
    assert table.loc["2020-01", ALL_CRIME_EXCL_ASB] == 3
    assert table.loc["2020-02", ALL_CRIME_EXCL_ASB] == 2


def test_compare_windows_counts_like_for_like_months_only():
    months = [m for m in month_range("2019-01", "2020-12") if m != "2019-07"]
    monthly = pd.DataFrame({"Burglary": [10] * 11 + [20] * 12}, index=pd.Index(months, name="month"))
    row = compare_windows(monthly, "2020-12").iloc[0]
    assert row["months_compared"] == 11
    assert row["comparison_count"] == 110
    assert row["assessment_count"] == 220  # July 2020 left out: 11 x 20, not 12 x 20
    assert row["pct_change"] == pytest.approx(100.0)
    assert row["verdict"] == "significant increase"


def test_rate_per_1000_annualises_when_months_are_missing():
    assert rate_per_1000(600, 200_000, 12) == pytest.approx(3.0)
    assert rate_per_1000(550, 200_000, 11) == pytest.approx(3.0)  # 550 x 12/11 = 600
    assert math.isnan(rate_per_1000(0, 1000, 0))


def test_window_rates_per_area():
    crimes = _crimes(
        [("A", m, "Burglary") for m in month_range("2020-01", "2020-12") for _ in range(2)]
        + [("B", m, "Burglary") for m in month_range("2020-01", "2020-11")]
    )
    usable = {"A": month_range("2020-01", "2020-12"), "B": month_range("2020-01", "2020-11")}
    rates = window_rates(crimes, {"A": 4000, "B": 1000}, usable, "2020-12").set_index("area")
    assert rates.loc["A", "Burglary rate"] == pytest.approx(24 / 4000 * 1000)
    assert rates.loc["B", "months_present"] == 11
    assert rates.loc["B", "Burglary rate"] == pytest.approx(12.0)  # 11 crimes in 11 months -> 12 a year per 1,000


def test_common_months_are_those_every_area_has_in_the_window():
    usable = {
        "A": month_range("2019-06", "2020-12"),
        "B": [m for m in month_range("2020-01", "2020-12") if m != "2020-07"],
        "C": month_range("2020-03", "2021-02"),
    }
    expected = [m for m in month_range("2020-03", "2020-12") if m != "2020-07"]
    assert common_months(usable, "2020-12") == expected
    assert common_months({"A": ["2019-01"]}, "2020-12") == []


def test_financial_years_only_when_complete():
    months = [m for m in month_range("2018-04", "2021-03") if m != "2019-07"]
    monthly = pd.DataFrame({"Drugs": np.ones(len(months), dtype=int)}, index=pd.Index(months, name="month"))
    table, incomplete = financial_year_counts(monthly)
    assert list(table.columns) == ["2018/19", "2020/21"]
    assert table.loc["Drugs", "2018/19"] == 12
    assert incomplete == {"2019/20": 11}


def test_key_findings_sentences_come_from_the_numbers():
    comparison = pd.DataFrame(
        [
            {"crime_type": "Burglary", "comparison_count": 100, "assessment_count": 150, "change": 50, "pct_change": 50.0, "verdict": "significant increase"},
            {"crime_type": "Drugs", "comparison_count": 80, "assessment_count": 60, "change": -20, "pct_change": -25.0, "verdict": "no significant change"},
            {"crime_type": ASB, "comparison_count": 300, "assessment_count": 270, "change": -30, "pct_change": -10.0, "verdict": "significant decrease"},
            {"crime_type": ALL_CRIME_EXCL_ASB, "comparison_count": 180, "assessment_count": 210, "change": 30, "pct_change": 16.6667, "verdict": "no significant change"},
        ]
    )
    rates = pd.DataFrame(
        {"area": ["Alphaton", "Betaville", "Gamma"], f"{ALL_CRIME_EXCL_ASB} rate": [21.0, 30.5, 12.25], "months_present": 12}
    )
    windows = comparison_windows_text("2020-12", month_range("2019-01", "2019-11"), month_range("2020-01", "2020-11"))
    findings = key_findings("Alphaton", comparison, rates, windows)
    text = "\n".join(findings)
    assert "Comparisons cover 11 of the 12 months: Dec 2020 left out" in text
    assert "police recorded 210 crimes (excluding anti-social behaviour) in Alphaton, up 16.7% on the same months of the year before (180): within normal month-to-month variation (not statistically significant)." in text
    assert "270 anti-social behaviour incidents in Alphaton, down 10.0%" in text
    assert "a statistically significant decrease" in text
    assert "Statistically significant increases: Burglary (+50.0%, 100 to 150)." in text
    assert "No crime type showed a statistically significant decrease." in text
    assert "Burglary is the largest category of crime: 71% of crimes excluding ASB." in text
    assert "rate of 21.0 crimes (excluding ASB) per 1,000 residents in Jan 2020 to Dec 2020 is lower than Betaville (30.5), and higher than or equal to Gamma (12.2)." in text
    # Comparator data covering only part of the window: the rates are over the shared months, and the sentence says so.
    three_months = rates.assign(area=["Alphaton", "Betaville", "Delta"], months_present=3)
    three_months.loc[2, f"{ALL_CRIME_EXCL_ASB} rate"] = 25.0
    text = "\n".join(key_findings("Alphaton", comparison, three_months, windows))
    assert (
        "rate of 21.0 crimes (excluding ASB) per 1,000 residents in Jan 2020 to Dec 2020 (over the 3 months with data "
        "for every area, scaled to a year) is lower than Betaville (30.5) and Delta (25.0)."
    ) in text
    no_shared = rates.assign(months_present=[12, 0, 0])
    text = "\n".join(key_findings("Alphaton", comparison, no_shared, windows))
    assert "No month of Jan 2020 to Dec 2020 has data for Alphaton and every comparator area, so rates are not compared." in text
    assert "per 1,000 residents in" not in text
