"""Threat profiles: time apportioning, Crime Severity Score, reconciliation, and the bundled
sample's consistency with the real police.uk data, all against figures worked out by hand."""

import csv
import gzip
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis.threat_profiles import (
    ALL_EXTRACT_CRIME,
    crime_severity_score,
    harm_table,
    monthly_threat_counts,
    reconcile,
    time_cells,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data/raw/force-extract/south-gloucestershire-crime-extract-sample-2018-01_2021-09.csv.gz"


def t(text):
    return np.datetime64(text, "m")


NAT = np.datetime64("NaT", "m")
# 2020-01-06 was a Monday, 2020-01-07 a Tuesday.
FROM = np.array([t("2020-01-06T00:30"), t("2020-01-07T10:30"), t("2020-01-07T23:30"), NAT, t("2020-01-06T00:00")])
TO = np.array([NAT, t("2020-01-07T12:30"), t("2020-01-08T00:30"), NAT, t("2020-01-16T00:00")])
TUESDAY = 24


def test_aoristic_shares_each_range_by_the_minutes_in_each_hour():
    cells, counts = time_cells(FROM, TO, "aoristic", longest_hours=168)
    # Monday 00:30, one time: all of it in Monday 00:00. Tuesday 10:30-12:30: 30, 60 and 30
    # minutes of 120 in hours 10, 11, 12. Tuesday 23:30 to Wednesday 00:30: half each.
    assert cells[0] == 1
    assert (
        cells[TUESDAY + 10] == pytest.approx(0.25)
        and cells[TUESDAY + 11] == pytest.approx(0.5)
        and cells[TUESDAY + 12] == pytest.approx(0.25)
    )
    assert cells[TUESDAY + 23] == pytest.approx(0.5) and cells[48] == pytest.approx(0.5)
    assert cells.sum() == pytest.approx(3)
    # The fourth has no time; the fifth spans ten days, longer than a week.
    assert counts == {"placed": 3, "exact": 1, "ranged": 2, "no_time": 1, "too_long": 1}


def test_from_and_midpoint_place_each_range_whole():
    start, _ = time_cells(FROM, TO, "from")
    assert start[TUESDAY + 10] == 1 and start[TUESDAY + 23] == 1
    middle, _ = time_cells(FROM, TO, "midpoint")
    # 10:30 + 1h is 11:30; 23:30 + 30 minutes is Wednesday 00:00.
    assert middle[TUESDAY + 11] == 1 and middle[48] == 1 and middle.sum() == 3


def test_crime_severity_score_on_the_ons_scale_by_hand():
    # 1,000 days over 6 months is 2,000 a year; over 2,000 residents, 1.0 per resident (ONS's scale).
    assert crime_severity_score(1000, 2000, 6) == pytest.approx(1.0)
    assert np.isnan(crime_severity_score(1000, 2000, 0))


def test_harm_shares_and_scores_by_hand():
    crimes = pd.DataFrame(
        {"month": ["2020-01", "2020-01", "2020-02", "2019-12"], "severity_weight": [10.0, 30.0, np.nan, 500.0]}
    )
    masks = {"Threat": np.array([True, False, False, True])}
    table = harm_table(crimes, masks, ["2020-01", "2020-02"], population=1000).set_index("threat")
    # Window: three crimes weighing 10 + 30 (+ one unknown code). Threat: the first, 10.
    assert table.loc["Threat", "crimes"] == 1 and table.loc["Threat", "severity_weight_sum"] == 10
    # ONS's scale: 10 days over 2 months, x 12 / 2 for a year, over 1,000 residents: 0.06 per resident.
    assert table.loc["Threat", "css"] == pytest.approx(10 * 6 / 1000)
    assert table.loc["Threat", "harm_share"] == pytest.approx(25) and table.loc[
        "Threat", "volume_share"
    ] == pytest.approx(100 / 3)
    assert table.loc[ALL_EXTRACT_CRIME, "unweighted"] == 1 and table.loc[ALL_EXTRACT_CRIME, "css"] == pytest.approx(
        40 * 6 / 1000
    )


def test_monthly_counts_leave_uncovered_months_out():
    crimes = pd.DataFrame({"month": ["2020-01", "2020-01", "2020-03"]})
    table = monthly_threat_counts(crimes, {"A": np.array([True, False, True])}, ["2020-01", "2020-02", "2020-03"])
    assert table.to_dict("index") == {
        "2020-01": {"A": 1, ALL_EXTRACT_CRIME: 2},
        "2020-02": {"A": 0, ALL_EXTRACT_CRIME: 0},
        "2020-03": {"A": 1, ALL_EXTRACT_CRIME: 1},
    }


def test_reconciliation_by_type_and_month():
    crimes = pd.DataFrame(
        {
            "month": ["2020-01", "2020-01", "2020-02", "2020-02"],
            "police_uk_category": pd.Categorical(["Burglary", "Burglary", "Drugs", None]),
        }
    )
    police = pd.DataFrame(
        {"Burglary": [3, 0], "Drugs": [0, 1], "Anti-social behaviour": [9, 9], "All crime (excluding ASB)": [3, 1]},
        index=pd.Index(["2020-01", "2020-02"], name="month"),
    )
    table = reconcile(crimes, police, ["2020-01", "2020-02"]).set_index(["crime_type", "month"])
    assert table.loc[("Burglary", "2020-01")].tolist() == [2, 3, -1]
    assert table.loc[("Drugs", "2020-02")].tolist() == [1, 1, 0]
    assert table.loc[("Unknown offence code", "2020-02")].tolist() == [1, 0, 1]
    assert "Anti-social behaviour" not in table.index.get_level_values(0)


def _sample_counts() -> Counter:
    lookup = {}
    with open(ROOT / "pipeline/data/offence_codes.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            lookup[row["offence_code"]] = row["police_uk_category"]
    counts = Counter()
    with gzip.open(SAMPLE, "rt", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day, month, year = row["Date Recorded"][:10].split("/")
            counts[(lookup[row["HOCode"]], f"{year}-{month}")] += 1
    return counts


def test_the_sample_extract_equals_police_uk_for_every_type_and_month():
    from pipeline.analysis.police import read_police_data
    from pipeline.params import load_params

    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    crimes, _ = read_police_data(params.inputs.police, [params.area])
    crimes = crimes[crimes["crime_type"] != "Anti-social behaviour"]
    police = Counter(zip(crimes["crime_type"], crimes["month"]))
    sample = _sample_counts()
    assert sample == police
    assert {month for _, month in sample} == {
        f"{y}-{m:02d}"
        for y in (2018, 2019, 2020, 2021)
        for m in range(1, 13)
        if (y, m) <= (2021, 9) and (y, m) != (2019, 7)
    }
    # The force published nothing for July 2019 on police.uk, so the sample has nothing either.


def test_the_sample_is_made_by_its_script_with_a_fixed_seed():
    spec = importlib.util.spec_from_file_location("make_sample_extract", ROOT / "scripts/make_sample_extract.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt = module.build(module.police_crimes()).to_csv(index=False, lineterminator="\n")
    assert rebuilt == gzip.decompress(SAMPLE.read_bytes()).decode("utf-8")


def test_sample_flags_follow_the_rates_the_script_states():
    with gzip.open(SAMPLE, "rt", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    aggravated = [r for r in rows if r["HOCode"] in {"8P", "105B", "8M", "58J", "9B"}]
    assert aggravated and all(r["Hate Flag"] == "Y" for r in aggravated)
    blades = [r for r in rows if r["HOCode"] == "10D"]
    assert blades and all(r["Knife Flag"] == "Y" for r in blades)
    assists = [r for r in rows if r["HOCode"] == "8N"]
    share = sum(r["DA Flag"] == "Y" for r in assists) / len(assists)
    assert 0.30 < share < 0.42  # stated rate 36% for violence with injury
