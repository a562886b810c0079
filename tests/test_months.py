from pipeline.months import (
    assessment_window,
    comparison_window,
    financial_year,
    financial_year_months,
    history_start,
    month_label,
    month_range,
    shift_month,
)


def test_shift_month_crosses_year_boundaries():
    assert shift_month("2020-12", 1) == "2021-01"
    assert shift_month("2020-01", -1) == "2019-12"
    assert shift_month("2020-06", -24) == "2018-06"


def test_windows_are_the_twelve_months_ending_at_period_end_and_the_twelve_before():
    assert assessment_window("2020-12") == month_range("2020-01", "2020-12")
    assert comparison_window("2020-12") == month_range("2019-01", "2019-12")
    assert assessment_window("2021-03")[0] == "2020-04"
    assert comparison_window("2021-03") == month_range("2019-04", "2020-03")


def test_history_start_counts_whole_years_before_the_window():
    assert history_start("2020-12", 2) == "2018-01"
    assert history_start("2021-03", 1) == "2019-04"


def test_financial_years_run_april_to_march():
    assert financial_year("2020-03") == "2019/20"
    assert financial_year("2020-04") == "2020/21"
    assert financial_year("1999-12") == "1999/00"
    assert financial_year_months("2020/21") == month_range("2020-04", "2021-03")


def test_month_label():
    assert month_label("2019-07") == "Jul 2019"
    assert month_range("2020-03", "2020-01") == []


def test_describe_months_names_the_months_and_any_left_out():
    from pipeline.months import describe_months, plural

    year = month_range("2020-01", "2020-12")
    assert describe_months(year) == "Jan 2020 to Dec 2020 (12 months)"
    assert describe_months([m for m in year if m != "2020-07"]) == "Jan 2020 to Dec 2020 (11 months; Jul 2020 left out)"
    assert describe_months(["2024-03"]) == "Mar 2024 (1 month)"
    assert describe_months([]) == "no months"
    assert (
        plural(1, "month") == "1 month" and plural(11, "month") == "11 months" and plural(1200, "row") == "1,200 rows"
    )
