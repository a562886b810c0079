import math

import pandas as pd
import pytest

from pipeline.analysis.hotspots import (
    SUPPRESSED,
    biggest_rises,
    concentration,
    counts_by_type,
    lsoa_counts,
    rates_note,
    read_lsoa_population,
    repeat_locations,
    suppress,
    with_rates,
)
from pipeline.documents.place_tables import top_lsoas_by_type, top_lsoas_table
from pipeline.errors import InputDataError


def _crimes(rows):
    return pd.DataFrame(rows, columns=["area", "month", "lsoa_code", "lsoa_name", "crime_type", "location"])


def test_primary_suppression_of_small_counts_but_not_zero():
    table = pd.DataFrame({"LSOA": ["a", "b", "c", "d"], "Count": [0, 1, 5, 6]})
    out = suppress(table, ["Count"], threshold=5)
    assert out["Count"].tolist() == [0, SUPPRESSED, SUPPRESSED, 6]


def test_secondary_suppression_when_a_total_would_reveal_a_count():
    table = pd.DataFrame(
        {"Area": ["x", "y", "z"], "ASB": [3, 10, 2], "Burglary": [20, 12, 4], "Drugs": [8, 9, 0], "Total": [31, 31, 6]}
    )
    out = suppress(table, ["ASB", "Burglary", "Drugs"], threshold=5, total_column="Total")
    # Row x: ASB 3 is small; with the total shown, 31 - 20 - 8 = 3 would reveal it, so the
    # smallest other non-zero count (Drugs 8) is suppressed too.
    assert out.loc[0, ["ASB", "Burglary", "Drugs", "Total"]].tolist() == [SUPPRESSED, 20, SUPPRESSED, 31]
    # Row y: nothing small, nothing suppressed.
    assert out.loc[1, ["ASB", "Burglary", "Drugs"]].tolist() == [10, 12, 9]
    # Row z: two small counts already protect each other.
    assert out.loc[2, ["ASB", "Burglary", "Drugs", "Total"]].tolist() == [SUPPRESSED, SUPPRESSED, 0, 6]


def test_a_lone_small_count_with_only_zeros_beside_it_hides_the_total():
    table = pd.DataFrame({"A": [4], "B": [0], "Total": [4]})
    out = suppress(table, ["A", "B"], threshold=5, total_column="Total")
    assert out.loc[0, ["A", "B", "Total"]].tolist() == [SUPPRESSED, 0, SUPPRESSED]


def test_derived_figures_are_suppressed_with_their_sources():
    table = pd.DataFrame({"Before": [3, 20], "After": [12, 30], "Rise": [9, 10]})
    out = suppress(table, ["Before", "After"], threshold=5, derived={"Rise": ["Before", "After"]})
    assert out["Rise"].tolist() == [SUPPRESSED, 10]  # 12 - 9 would give the suppressed 3


def test_lsoa_counts_include_lsoas_with_none_in_the_window_and_concentration():
    rows = [
        ("A", "2020-01", f"L{i}", f"Area {i}", "Burglary", "On or near X") for i in range(10)
    ]  # every LSOA seen once in Jan
    rows += [("A", "2020-02", "L0", "Area 0", "Burglary", "On or near X")] * 45
    rows += [("A", "2020-02", "L1", "Area 1", "Burglary", "On or near Y")] * 5
    rows += [("B", "2020-02", "L99", "Elsewhere", "Burglary", "On or near Z")] * 100
    counts = lsoa_counts(_crimes(rows), "A", ["2020-02"])
    assert len(counts) == 10 and counts["count"].tolist()[:3] == [45, 5, 0]
    share, n_top, n_all = concentration(counts)
    assert (n_top, n_all) == (1, 10)
    assert share == pytest.approx(45 / 50)
    assert concentration(counts, top_share=0.25)[1] == 3  # ceil(2.5)


def test_biggest_rises_like_for_like():
    rows = [("A", "2019-01", "L1", "One", "Burglary", "x")] * 2 + [("A", "2020-01", "L1", "One", "Burglary", "x")] * 9
    rows += [("A", "2019-01", "L2", "Two", "Burglary", "x")] * 8 + [("A", "2020-01", "L2", "Two", "Burglary", "x")] * 3
    rows += [("A", "2020-02", "L2", "Two", "Burglary", "x")] * 50  # outside the compared months
    rises = biggest_rises(_crimes(rows), "A", ["2019-01"], ["2020-01"])
    assert rises[["lsoa_code", "before", "after", "change"]].values.tolist() == [["L1", 2, 9, 7]]


def test_repeat_locations_count_map_points_within_lsoas():
    rows = [("A", "2020-01", "L1", "One", "Anti-social behaviour", "On or near Park")] * 4
    rows += [("A", "2020-01", "L2", "Two", "Anti-social behaviour", "On or near Park")] * 3  # same street, other LSOA
    rows += [("A", "2020-01", "L1", "One", "Burglary", "On or near Park")] * 10  # other type
    table = repeat_locations(_crimes(rows), "A", ["2020-01"], ["Anti-social behaviour"])
    assert table.values.tolist() == [["On or near Park", "One", 4], ["On or near Park", "Two", 3]]


def test_lsoa_population_file_errors_are_listed_together(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text('\ufefflsoa_code,population\nL1,"1,500"\nL2,1200\n', encoding="utf-8")
    assert read_lsoa_population(good) == {"L1": 1500, "L2": 1200}
    bad = tmp_path / "bad.csv"
    bad.write_text("lsoa_code,population\nL1,1500\n,900\nL2,abc\nL3,0\nL4,-5\nL1,1600\n", encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        read_lsoa_population(bad)
    message = str(caught.value)
    assert f"Problems in the LSOA population file {bad}:" in message
    for expected in (
        "row 3: lsoa_code is blank",
        "row 4, LSOA L2: population 'abc' is not a positive whole number",
        "row 5, LSOA L3: population '0' is not a positive whole number",
        "row 6, LSOA L4: population '-5' is not a positive whole number",
        "row 7: LSOA L1 is given twice",
    ):
        assert expected in message
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,residents\nL1,1500\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="needs columns 'lsoa_code' and 'population'; found code, residents"):
        read_lsoa_population(wrong)


def test_lsoa_rates_by_hand_scaled_for_missing_months():
    counts = pd.DataFrame({"lsoa_code": ["L1", "L2", "L3"], "lsoa_name": ["One", "Two", "Three"], "count": [30, 3, 12]})
    populations = {"L1": 1500, "L2": 1200}
    full_year = with_rates(counts, populations, 12)
    assert full_year["rate_per_1000"].tolist()[:2] == pytest.approx(
        [20.0, 2.5]
    )  # 30 / 1,500 x 1,000; 3 / 1,200 x 1,000
    assert math.isnan(full_year["rate_per_1000"].iloc[2])  # no population: no rate, not a guess
    ten_months = with_rates(counts, populations, 10)
    assert ten_months["rate_per_1000"].iloc[0] == pytest.approx(24.0)  # 30 x 12/10 / 1,500 x 1,000
    table = top_lsoas_table(full_year, 3, threshold=5, period="Jan 2020 to Dec 2020 (12 months)")
    count = "Count, Jan 2020 to Dec 2020 (12 months)"  # every count names its months
    assert table.columns.tolist() == [
        "LSOA",
        "LSOA code",
        count,
        "Share of the area (%)",
        "Residents",
        "Rate per 1,000 residents",
    ]
    assert table.iloc[0].tolist() == ["One", "L1", 30, 66.7, 1500, 20.0]
    # Three crimes in L2 are suppressed, and so are the share and the rate that would give them away.
    assert table.iloc[1][[count, "Share of the area (%)", "Residents", "Rate per 1,000 residents"]].tolist() == [
        SUPPRESSED,
        SUPPRESSED,
        1200,
        SUPPRESSED,
    ]
    assert rates_note(populations, ["L1", "L2", "L3"], "ONS mid-2019").endswith(
        "no figure for 1 of the area's LSOAs, so they have no rate: L3."
    )
    assert "without rates: LSOA population figures were not among" in rates_note(None, ["L1"])


def test_top_lsoas_by_type_with_rates():
    rows = (
        [("A", "2020-01", "L1", "One", "Burglary", "x")] * 8
        + [("A", "2020-01", "L3", "Three", "Burglary", "x")] * 7
        + [("A", "2020-01", "L4", "Four", "Burglary", "x")] * 6
        + [("A", "2020-01", "L2", "Two", "Burglary", "x")] * 2
    )
    populations = {"L1": 2000, "L2": 1000, "L3": 1000, "L4": 1000}
    by_type = with_rates(counts_by_type(_crimes(rows), "A", ["2020-01"]), populations, 1)
    table = top_lsoas_by_type(by_type, ["Burglary"], 3, 5)
    assert table.values.tolist() == [
        ["Burglary", "One", "L1", 8, 2000, 48.0],  # 8 in one month, x 12 / 2,000 x 1,000
        ["Burglary", "Three", "L3", 7, 1000, 84.0],
        ["Burglary", "Four", "L4", 6, 1000, 72.0],
    ]


def test_a_type_whose_lsoas_are_all_listed_hides_a_second_count_so_its_total_reveals_none():
    # Burglary in two LSOAs only (8 and 2): both are listed, and the area's burglary total (10) is
    # published in the crime table, so 10 - 8 would reveal the 2: the 8 is suppressed as well.
    rows = [("A", "2020-01", "L1", "One", "Burglary", "x")] * 8 + [("A", "2020-01", "L2", "Two", "Burglary", "x")] * 2
    by_type = with_rates(counts_by_type(_crimes(rows), "A", ["2020-01"]), {"L1": 2000, "L2": 1000}, 1)
    table = top_lsoas_by_type(by_type, ["Burglary"], 3, 5)
    assert table.values.tolist() == [
        ["Burglary", "One", "L1", SUPPRESSED, 2000, SUPPRESSED],
        ["Burglary", "Two", "L2", SUPPRESSED, 1000, SUPPRESSED],
    ]


def test_top_lsoas_by_type_order_ties_limit_and_types_with_none():
    """Worked by hand: per type, most first and ties by LSOA code; at most n; only the area's
    rows in the months given; a type with no crimes there lists nothing."""
    rows = (
        [("A", "2020-01", "L3", "Three", "Burglary", "x")] * 7
        + [("A", "2020-01", "L2", "Two", "Burglary", "x")] * 7
        + [("A", "2020-01", "L1", "One", "Burglary", "x")] * 6
        + [("A", "2020-01", "L4", "Four", "Burglary", "x")] * 9
        + [("A", "2020-01", "L1", "One", "Drugs", "x")] * 6
        + [("A", "2019-12", "L1", "One", "Drugs", "x")] * 20  # outside the months
        + [("B", "2020-01", "M1", "Other", "Drugs", "x")] * 30  # another area
    )
    table = top_lsoas_by_type(counts_by_type(_crimes(rows), "A", ["2020-01"]), ["Drugs", "Burglary", "Arson"], 3, 5)
    assert table.values.tolist() == [
        ["Drugs", "One", "L1", 6],
        ["Burglary", "Four", "L4", 9],
        ["Burglary", "Two", "L2", 7],  # tied with L3: the lower code first
        ["Burglary", "Three", "L3", 7],
    ]
