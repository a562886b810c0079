import math

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB
from pipeline.analysis.trends import (
    change_significance,
    common_months,
    compare_windows,
    comparison_windows_text,
    financial_year_counts,
    holm_adjust,
    key_findings,
    like_for_like_months,
    monthly_counts,
    rate_per_1000,
    window_rates,
)
from pipeline.months import month_range


def test_change_without_overdispersion_matches_the_hand_worked_paired_case():
    # Months paired (one term per pair). The rate ratio is 60/40 = 1.5; every pair totals 25,
    # so the fitted values are 10 before and 15 after. Pearson chi-squared = 0.8 + 0.533 = 1.33
    # on 2 x 4 - 5 = 3 df: dispersion 0.44, floored at 1. Conditioning on each pair's total,
    # SE(log ratio) = sqrt(1/40 + 1/60) = 0.20412; t = ln(1.5)/0.20412 = 1.9864 on 3 df.
    result = change_significance([10, 12, 8, 10], [15, 13, 17, 15])
    assert result.rate_ratio == pytest.approx(1.5)
    assert result.dispersion == 1.0
    assert result.p_value == pytest.approx(0.14118, abs=1e-4)
    assert result.ci_low == pytest.approx(0.78337, abs=1e-4)  # exp(ln 1.5 - 3.18245 x 0.20412)
    assert result.ci_high == pytest.approx(2.87220, abs=1e-4)
    assert result.verdict == "no significant change"


def test_pairing_removes_the_seasonal_pattern_both_windows_share():
    # Both windows swing 5/15 and 10/30: the pair terms fit that swing exactly, so the
    # doubling is tested against no residual variation: SE = sqrt(1/40 + 1/80) = 0.19365,
    # t = ln 2 / 0.19365 = 3.579 on 3 df. Unpaired, the swing would count as noise.
    result = change_significance([5, 15, 5, 15], [10, 30, 10, 30])
    assert result.dispersion == pytest.approx(1.0)
    assert result.rate_ratio == pytest.approx(2.0)
    assert result.verdict == "significant increase"


def test_overdispersion_widens_the_interval():
    # Before 10,10,10,10; after 10,30,10,30. Ratio 80/40 = 2; pair totals 20,40,20,40 give
    # fitted 6.67/13.33 before and 13.33/26.67 after. Pearson chi-squared = 5.0 + 2.5 = 7.5 on
    # 3 df: dispersion 2.5. SE = sqrt(2.5 x (1/40 + 1/80)) = 0.30619; t = ln 2 / 0.30619 =
    # 2.2638 on 3 df, p = 0.1085. A plain Poisson test of 40 against 80 would call this significant.
    result = change_significance([10, 10, 10, 10], [10, 30, 10, 30])
    assert result.dispersion == pytest.approx(2.5)
    assert result.rate_ratio == pytest.approx(2.0)
    assert result.p_value == pytest.approx(0.10854, abs=1e-4)
    assert result.ci_low == pytest.approx(0.75482, abs=1e-4)
    assert result.ci_high == pytest.approx(5.29927, abs=1e-3)
    assert result.verdict == "no significant change"


def test_holm_adjustment_by_hand():
    # Sorted p: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06, kept monotone), 0.5 (x1).
    assert holm_adjust([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    adjusted = holm_adjust([0.01, math.nan, 0.04])
    assert adjusted[0] == pytest.approx(0.02) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    # Capped at 1, and tied p-values get the same adjusted value whatever their order.
    assert holm_adjust([0.4, 0.6, 0.01, 0.01]) == pytest.approx([0.8, 0.8, 0.04, 0.04])
    assert holm_adjust([0.9, 0.8]) == [1.0, 1.0]  # 0.8 x 2 = 1.6, capped; 0.9 x 1 kept monotone
    assert holm_adjust([]) == [] and all(math.isnan(v) for v in holm_adjust([math.nan, math.nan]))


def test_holm_adjustment_agrees_with_statsmodels():
    """statsmodels' multipletests is the reference the hand-written step-down is checked against."""
    import numpy as np
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(15)
    for size in (1, 2, 5, 14, 40):
        p = rng.uniform(0, 0.2, size).round(3)  # rounded, so that some are tied
        assert holm_adjust(list(p)) == pytest.approx(list(multipletests(p, method="holm")[1]))


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
    from conftest import area

    from pipeline.params import Population

    crimes = _crimes(
        [("A", m, "Burglary") for m in month_range("2020-01", "2020-12") for _ in range(2)]
        + [("B", m, "Burglary") for m in month_range("2020-01", "2020-11")]
    )
    usable = {"A": month_range("2020-01", "2020-12"), "B": month_range("2020-01", "2020-11")}
    rates = window_rates(crimes, [area("A", population=4000), area("B", population=1000)], usable, "2020-12").set_index(
        "area"
    )
    assert rates.loc["A", "Burglary rate"] == pytest.approx(24 / 4000 * 1000)
    assert rates.loc["B", "months_present"] == 11
    assert rates.loc["B", "Burglary rate"] == pytest.approx(12.0)  # 11 crimes in 11 months -> 12 a year per 1,000
    # Population by year: each window uses the estimate for its own year.
    by_year = area("A").model_copy(
        update={
            "population": [
                Population(value=4000, year=2019, source="t"),
                Population(value=5000, year=2020, source="t"),
                Population(value=6000, year=2021, source="t"),
            ]
        }
    )
    rates_2020 = window_rates(crimes, [by_year], usable, "2020-12").set_index("area")
    assert rates_2020.loc["A", "population_year"] == 2020
    assert rates_2020.loc["A", "Burglary rate"] == pytest.approx(24 / 5000 * 1000)
    # A financial-year window (Apr 2020 to Mar 2021) centres on Sep 2020: the 2020 estimate.
    assert by_year.population_for(month_range("2020-04", "2021-03")).year == 2020
    assert by_year.population_for(month_range("2021-04", "2022-03")).year == 2021
    assert by_year.population_for(month_range("2025-01", "2025-12")).year == 2021  # nearest given


def test_window_rates_count_each_area_alone_whichever_areas_are_in_the_data():
    from conftest import area

    # Rows of two areas interleaved, and a third area with no rows at all: A has 3 thefts in
    # Jan and 1 in Feb, B 2 in Jan; C's usable months hold nothing, so it counts 0, not B's rows.
    crimes = _crimes(
        [
            ("A", "2020-01", "Theft"),
            ("B", "2020-01", "Theft"),
            ("A", "2020-01", "Theft"),
            ("B", "2020-01", "Theft"),
            ("A", "2020-02", "Theft"),
            ("A", "2020-01", "Theft"),
        ]
    )
    usable = {"A": ["2020-01", "2020-02"], "B": ["2020-01"], "C": ["2020-01", "2020-02"]}
    rates = window_rates(
        crimes, [area("A", population=1000), area("B", population=1000), area("C", population=1000)], usable, "2020-12"
    )
    rates = rates.set_index("area")
    assert rates.loc["A", "Theft"] == 4 and rates.loc["A", "Theft rate"] == pytest.approx(
        4 * 6
    )  # 2 months scaled to 12
    assert rates.loc["B", "Theft"] == 2 and rates.loc["B", "Theft rate"] == pytest.approx(2 * 12)
    assert rates.loc["C", ALL_CRIME_EXCL_ASB] == 0 and math.isnan(rates.loc["C", "Theft"])
    alone = window_rates(crimes, [area("B", population=1000)], usable, "2020-12").set_index("area")
    assert alone.loc["B", "Theft"] == 2


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
    def row(crime_type, window, before, after, verdict, p):
        return {
            "crime_type": crime_type,
            "window_count": window,
            "comparison_count": before,
            "assessment_count": after,
            "change": after - before,
            "pct_change": 100 * (after - before) / before,
            "verdict": verdict,
            "p_value": p,
        }

    comparison = pd.DataFrame(
        [
            row("Burglary", 160, 100, 150, "significant increase", 0.001),
            row("Drugs", 65, 80, 60, "no significant change", 0.3),
            row(ASB, 290, 300, 270, "significant decrease", 0.01),
            row(ALL_CRIME_EXCL_ASB, 225, 180, 210, "no significant change", 0.2),
        ]
    )
    rates = pd.DataFrame(
        {
            "area": ["Alphaton", "Betaville", "Gamma"],
            f"{ALL_CRIME_EXCL_ASB} rate": [21.0, 30.5, 12.25],
            "months_present": 12,
        }
    )
    windows = comparison_windows_text("2020-12", month_range("2019-01", "2019-11"), month_range("2020-01", "2020-11"))
    findings = key_findings("Alphaton", comparison, rates, windows)
    text = "\n".join(findings)
    assert "Like-for-like comparisons cover 11 months of the 12: Dec 2020 left out" in text
    # The full window's count comes first, with its months; the like-for-like pair follows, with its own.
    assert (
        "In Jan 2020 to Dec 2020 (12 months), police recorded 225 crimes (excluding anti-social behaviour) in "
        "Alphaton. "
        "Over the 11 months with data in both years, 210 were recorded, up 16.7% on the same months of the year "
        "before (180): "
        "within normal month-to-month variation (not statistically significant)."
    ) in text
    assert (
        "police recorded 290 anti-social behaviour incidents in Alphaton. Over the 11 months with data in both "
        "years, 270 were recorded, down 10.0%" in text
    )
    assert "a statistically significant decrease" in text
    assert (
        "Statistically significant increases, allowing for 3 types tested at once (Holm): Burglary (+50.0%, 100 to "
        "150)." in text
    )
    assert (
        "No crime type showed a statistically significant decrease once allowance is made for testing 3 types at "
        "once (Holm)." in text
    )
    assert (
        "Burglary is the largest category of crime: 71% of crimes excluding ASB in Jan 2020 to Dec 2020 (12 months)."
        in text
    )
    assert (
        "rate of 21.0 crimes (excluding ASB) per 1,000 residents a year in Jan 2020 to Dec 2020 is lower than "
        "Betaville (30.5), and higher than or equal to Gamma (12.2)." in text
    )
    # Comparator data covering only part of the window: the rates are over the shared months, and the sentence says so.
    three_months = rates.assign(area=["Alphaton", "Betaville", "Delta"], months_present=3)
    three_months.loc[2, f"{ALL_CRIME_EXCL_ASB} rate"] = 25.0
    text = "\n".join(key_findings("Alphaton", comparison, three_months, windows))
    assert (
        "rate of 21.0 crimes (excluding ASB) per 1,000 residents a year in Jan 2020 to Dec 2020 (over the 3 months "
        "with data for every area, scaled to a year) is lower than Betaville (30.5) and Delta (25.0)."
    ) in text
    one_month = rates.assign(months_present=1)
    assert "over the 1 month with data for every area" in "\n".join(
        key_findings("Alphaton", comparison, one_month, windows)
    )
    no_shared = rates.assign(months_present=[12, 0, 0])
    text = "\n".join(key_findings("Alphaton", comparison, no_shared, windows))
    assert (
        "No month of Jan 2020 to Dec 2020 has data for Alphaton and every comparator area, so rates are not compared."
        in text
    )
    assert "per 1,000 residents a year in" not in text


def test_key_findings_with_no_comparable_month_say_so_and_never_print_zero():
    # Four months of data (Jan-Apr 2024) and a window ending Apr 2024: nothing a year earlier.
    comparison = pd.DataFrame(
        [
            {
                "crime_type": ASB,
                "window_count": 812,
                "comparison_count": 0,
                "assessment_count": 0,
                "change": 0,
                "pct_change": math.nan,
                "verdict": "too few months to test",
                "p_value": math.nan,
            },
            {
                "crime_type": ALL_CRIME_EXCL_ASB,
                "window_count": 3020,
                "comparison_count": 0,
                "assessment_count": 0,
                "change": 0,
                "pct_change": math.nan,
                "verdict": "too few months to test",
                "p_value": math.nan,
            },
        ]
    )
    rates = pd.DataFrame({"area": ["Alphaton"], f"{ALL_CRIME_EXCL_ASB} rate": [50.0], "months_present": 4})
    windows = comparison_windows_text("2024-04", [], [], month_range("2024-01", "2024-04"))
    text = "\n".join(key_findings("Alphaton", comparison, rates, windows))
    assert (
        "In Jan 2024 to Apr 2024 (4 months), police recorded 3,020 crimes (excluding anti-social behaviour) in "
        "Alphaton." in text
    )
    assert (
        "No month of May 2023 to Apr 2024 has usable data a year earlier as well, so no change on the year before "
        "can be given or tested" in text
    )
    assert " 0 crimes" not in text and "0 of the 12" not in text and "nan" not in text.lower()
    assert "statistically significant" not in text


def test_compare_windows_gives_the_full_window_and_holm_across_types():
    months = [m for m in month_range("2019-01", "2020-12") if m != "2019-07"]
    rng = np.random.default_rng(3)
    monthly = pd.DataFrame(
        {
            "Burglary": rng.poisson(50, len(months)),
            "Drugs": rng.poisson(20, len(months)),
            ASB: rng.poisson(80, len(months)),
        },
        index=pd.Index(months, name="month"),
    )
    monthly[ALL_CRIME_EXCL_ASB] = monthly["Burglary"] + monthly["Drugs"]
    table = compare_windows(monthly, "2020-12").set_index("crime_type")
    year = month_range("2020-01", "2020-12")
    # The full window counts all 12 months of 2020; the like-for-like pair leaves out July.
    assert table.loc["Burglary", "window_count"] == monthly.loc[year, "Burglary"].sum()
    assert table.loc["Burglary", "window_months"] == 12 and table.loc["Burglary", "months_compared"] == 11
    assert (
        table.loc["Burglary", "assessment_count"] == monthly.loc[[m for m in year if m != "2020-07"], "Burglary"].sum()
    )
    family = ["Burglary", "Drugs", ASB]
    assert table.loc[family, "p_holm"].tolist() == pytest.approx(holm_adjust(table.loc[family, "p_value"].tolist()))
    assert table.loc[ALL_CRIME_EXCL_ASB, "p_holm"] == table.loc[ALL_CRIME_EXCL_ASB, "p_value"]  # the headline test
