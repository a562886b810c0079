"""Report tables and sentences: headers that name their months, wording that does not round away a result."""

import pandas as pd

from pipeline.police import ScanSummary
from pipeline.report import data_quality_facts, exceptions_table, rate_header, repeat_note


def test_an_exception_shows_its_limit_to_one_decimal():
    # 40.4 against a limit of 40.2: rounding both to whole numbers would print "40, above the limit of 40".
    table = exceptions_table(pd.DataFrame({"crime_type": ["Drugs"], "month": ["2020-05"], "count": [40], "side": ["above"], "limit": [40.24]}))
    assert table.iloc[0].tolist() == ["Drugs", "May 2020", 40, "above the limit of 40.2"]


def test_rate_headers_say_when_a_part_year_was_scaled_up():
    assert rate_header("Rate", "Jan 2020 to Dec 2020 (12 months)", 12) == "Rate per 1,000 residents a year, Jan 2020 to Dec 2020 (12 months)"
    assert rate_header("Rate", "Jan 2021 to Apr 2021 (4 months)", 4) == (
        "Rate per 1,000 residents a year, Jan 2021 to Apr 2021 (4 months), scaled up to 12 months from 4"
    )


def _coverage():
    return pd.DataFrame({"area": "A", "month": ["2020-01", "2020-02"], "rows": [5, 5], "status": "present", "note": ""})


def test_the_no_location_share_says_whose_rows_it_is_a_share_of():
    summary = ScanSummary(files=["f.csv"], force_rows=1000, unlocated_rows=85, months_in_input=["2020-01", "2020-02"],
                          authority_rows={"Alphaton": 600, "Betaville": 315})
    # Only the run's own authorities are in the data: the share is of the rows read, not force-wide.
    own_only = " ".join(data_quality_facts(summary, _coverage(), "A", ["Alphaton", "Betaville"]))
    assert "85 rows (8.5% of the rows read; the inputs hold located rows only for this assessment's areas, so this is not the force-wide share" in own_only
    # Other authorities are present too: whole force files, so the share is force-wide.
    whole = " ".join(data_quality_facts(summary, _coverage(), "A", ["Alphaton"]))
    assert "85 rows (8.5% of the rows read, force-wide) have no location" in whole


def test_repeat_note_reports_what_the_repeats_look_like():
    summary = ScanSummary(repeat_profile={"ids": 376, "extra_rows": 389, "identical": 43, "several_lsoas": 183,
                                          "several_outcomes": 227, "several_months": 0, "several_types": 7})
    assert repeat_note(summary) == (
        "389 rows repeat a Crime ID already counted in the same area (376 IDs) and are counted once, because a Crime ID "
        "stands for one crime reference. Of those IDs, 183 appear in more than one LSOA, 227 with different outcomes, "
        "0 in more than one month and 43 as identical rows; the first row is the one counted."
    )
    assert repeat_note(ScanSummary()) == "No Crime ID is repeated within an area in this data."
