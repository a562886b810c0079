"""Report tables and sentences: headers that name their months, wording that does not round away a result."""

from pathlib import Path

import pandas as pd

from pipeline.analysis.police import ScanSummary
from pipeline.documents.crime_tables import repeat_note
from pipeline.documents.formats import rate_header
from pipeline.documents.quality_tables import data_quality_facts
from pipeline.documents.trend_tables import exceptions_table


def test_an_exception_shows_its_limit_to_one_decimal():
    # 40.4 against a limit of 40.2: rounding both to whole numbers would print "40, above the limit of 40".
    table = exceptions_table(
        pd.DataFrame(
            {"crime_type": ["Drugs"], "month": ["2020-05"], "count": [40], "side": ["above"], "limit": [40.24]}
        )
    )
    assert table.iloc[0].tolist() == ["Drugs", "May 2020", 40, "above the limit of 40.2"]


def test_rate_headers_say_when_a_part_year_was_scaled_up():
    assert (
        rate_header("Rate", "Jan 2020 to Dec 2020 (12 months)", 12)
        == "Rate per 1,000 residents a year, Jan 2020 to Dec 2020 (12 months)"
    )
    assert rate_header("Rate", "Jan 2021 to Apr 2021 (4 months)", 4) == (
        "Rate per 1,000 residents a year, Jan 2021 to Apr 2021 (4 months), scaled up to 12 months from 4"
    )


def _coverage():
    return pd.DataFrame({"area": "A", "month": ["2020-01", "2020-02"], "rows": [5, 5], "status": "present", "note": ""})


def test_the_no_location_share_says_whose_rows_it_is_a_share_of(tmp_path):
    summary = ScanSummary(
        files=["f.csv"],
        force_rows=1000,
        unlocated_rows=85,
        months_in_input=["2020-01", "2020-02"],
        authority_rows={"Alphaton": 600, "Betaville": 315},
    )
    from conftest import area

    # Only the run's own authorities are in the data: the share is of the rows read, not force-wide.
    own_only = " ".join(data_quality_facts(summary, _coverage(), "A", [area("Alphaton"), area("Betaville")]))
    assert (
        "85 rows (8.5% of the rows read; the inputs hold located rows only for this assessment's areas, so this is "
        "not the force-wide share" in own_only
    )
    # Other authorities are present too: whole force files, so the share is force-wide.
    whole = " ".join(data_quality_facts(summary, _coverage(), "A", [area("Alphaton")]))
    assert "85 rows (8.5% of the rows read, force-wide) have no location" in whole
    # Areas by lookup: which authorities they cover is unknown, so no claim either way.
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("lsoa_code,area\nE01000001,Alphaton\n", encoding="utf-8")
    by_lookup = " ".join(data_quality_facts(summary, _coverage(), "A", [area("Alphaton", lookup=lookup)]))
    assert "85 rows (8.5% of the rows read) have no location" in by_lookup


def test_repeat_note_reports_what_the_repeats_look_like():
    summary = ScanSummary(
        repeat_profile={
            "ids": 376,
            "extra_rows": 389,
            "identical": 43,
            "several_lsoas": 183,
            "several_outcomes": 227,
            "several_months": 0,
            "several_types": 7,
        }
    )
    assert repeat_note(summary) == (
        "389 rows repeat a Crime ID already counted in the same area (376 IDs) and are counted once, because a Crime "
        "ID "
        "stands for one crime reference. Of those IDs, 183 appear in more than one LSOA, 227 with different outcomes, "
        "0 in more than one month and 43 as identical rows; the first row is the one counted."
    )
    assert repeat_note(ScanSummary()) == "No Crime ID is repeated within an area in this data."


def test_heatmap_numbers_are_legible_on_every_shade():
    import numpy as np

    from pipeline.documents.charts import HEATMAP_COLOURS, contrast_ratio, text_colour_for

    for share in np.linspace(0, 1, 257):
        background = HEATMAP_COLOURS(float(share))
        text = (0.043, 0.047, 0.047) if text_colour_for(background) == "#0b0c0c" else (1.0, 1.0, 1.0)
        assert contrast_ratio(background, text) >= 4.5, share
    # WCAG's own example: black on white is 21:1.
    assert contrast_ratio((0, 0, 0), (1, 1, 1)) == 21.0


def test_focus_indicator_has_3_to_1_on_every_background():
    from pipeline.documents.charts import contrast_ratio
    from pipeline.documents.export import _STYLESHEET

    def rgb(hex_colour):
        return tuple(int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    assert "box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c" in _STYLESHEET
    # The black bar under a focused link against the page and the contents box; the yellow fill against both.
    for background in ("#ffffff", "#f3f2f1"):
        assert contrast_ratio(rgb("#0b0c0c"), rgb(background)) >= 3
    assert contrast_ratio(rgb("#0b0c0c"), rgb("#ffdd00")) >= 4.5  # focused link text on its yellow fill


def test_morile_tables_use_the_threat_as_row_header_and_give_the_heatmap_numbers():
    from types import SimpleNamespace

    from pipeline.documents.morile_tables import morile_ranking_table, morile_scores_table

    factors = [SimpleNamespace(id="physical"), SimpleNamespace(id="frequency")]
    model = SimpleNamespace(
        groups=[],
        factors=factors,
        column_header=lambda f: {"physical": "Harm: Physical", "frequency": "Likelihood: Frequency"}[f.id],
    )
    ranking = pd.DataFrame(
        {
            "rank": [1, 2],
            "threat": ["ASB", "Burglary"],
            "score": [60.0, 30.0],
            "band": ["High", "Medium"],
            "priority": [True, False],
        }
    )
    table, _ = morile_ranking_table(ranking, model)
    assert list(table.columns[:2]) == ["Threat", "Rank"]
    values = pd.DataFrame(
        {
            "threat": ["ASB", "ASB", "Burglary", "Burglary"],
            "factor": ["physical", "frequency"] * 2,
            "value": [1.0, 4.0, 3.0, 2.0],
        }
    )
    scores = morile_scores_table(values, model, ["Burglary", "ASB"])
    assert scores.values.tolist() == [["Burglary", 3.0, 2.0], ["ASB", 1.0, 4.0]]
    assert list(scores.columns) == ["Threat", "Harm: Physical", "Likelihood: Frequency"]


def test_csvs_write_words_not_symbols_and_counts_as_integers(tmp_path):
    import csv

    from pipeline.documents.tables import write_csv

    frame = pd.DataFrame(
        {
            "Whether achieved": ["\u2713 achieved", "\u2248 within the margin of error", "\u2013 no target"],
            "95% CI of change": ["\u22120.6 pts to 9.2 pts", "1.0 pts to 2.0 pts", ""],
            "Count": [14810.0, float("nan"), 3.0],
            "Rate": [1.5, 2.25, 3.0],
        }
    )
    with open(write_csv(frame, tmp_path / "t.csv"), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1:] == [
        ["achieved", "'-0.6 pts to 9.2 pts", "14810", "1.5"],
        ["within the margin of error", "1.0 pts to 2.0 pts", "", "2.25"],
        ["no target", "", "3", "3.0"],
    ]


def test_comparator_table_shows_the_population_each_rate_was_worked_out_with():
    # Window Oct 2020 to Sep 2021 (its middle month is Mar 2021: the 2021 estimate), but the
    # comparator has data for Oct-Dec 2020 only, so the shared months sit in 2020. The table
    # must show the 2021 figure the rates used, not the 2020 one the shared months suggest.
    from conftest import area

    from pipeline.analysis.trends import common_months, window_rates
    from pipeline.documents.crime_tables import comparator_table
    from pipeline.months import month_range
    from pipeline.params import Population, validate_params

    def two_years(name: str):
        return area(name).model_copy(
            update={
                "population": [
                    Population(value=1000, year=2020, source="t"),
                    Population(value=2000, year=2021, source="t"),
                ]
            }
        )

    alpha, beta = two_years("Alpha"), two_years("Beta")
    crimes = pd.DataFrame(
        [(a, m, "Burglary") for a in ("Alpha", "Beta") for m in month_range("2020-10", "2020-12") for _ in range(4)],
        columns=["area", "month", "crime_type"],
    )
    usable = {"Alpha": month_range("2020-10", "2021-09"), "Beta": month_range("2020-10", "2020-12")}
    shared = common_months(usable, "2021-09")
    rates = window_rates(crimes, [alpha, beta], {"Alpha": shared, "Beta": shared}, "2021-09")
    params = validate_params(
        {
            "area": alpha.model_dump(),
            "comparators": [beta.model_dump()],
            "period_end": "2021-09",
            "inputs": {"police": [str(Path(__file__))]},
            "output_dir": "outputs/x",
        }
    )
    table = comparator_table(rates, params)
    assert table["Population"].tolist() == [2000, 2000] and table["Population year"].tolist() == [2021, 2021]
    # 12 crimes in 3 months, scaled to a year (48), per 2,000 residents x 1,000 = 24.0.
    assert table.iloc[0, 1] == 24.0


def test_a_published_crime_severity_score_is_set_beside_the_extracts():
    from types import SimpleNamespace

    from pipeline.documents.assessment.partners import published_score_note
    from pipeline.params import PublishedScore

    score = PublishedScore(value=7.2, period="year ending March 2021", source="ONS Crime Severity Score data tool")
    p = SimpleNamespace(
        area=SimpleNamespace(name="South Gloucestershire"),
        force_extract=SimpleNamespace(published_crime_severity=score),
    )
    assert published_score_note(p) == (
        " ONS published 7.20 for South Gloucestershire, year ending March 2021 (ONS Crime Severity Score data tool)."
    )
    assert published_score_note(SimpleNamespace(force_extract=None)) == ""
