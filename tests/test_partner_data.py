"""Partner agencies' data: the catalogue and long-format files read and checked, periods, the
methods by kind of indicator (against published worked examples), suppression, the threats'
evidence, and the collection workbook round trip (openpyxl and LibreOffice)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, libreoffice_ready
from openpyxl import load_workbook

from pipeline.analysis.partner_indicators import analyse, evidence_sentences, share_estimate, would_evidence
from pipeline.analysis.survey import difference
from pipeline.errors import InputDataError
from pipeline.inputs.partner_data import (
    load_catalogue,
    parse_period,
    read_partner_data,
    template_periods,
    write_template,
)


def _catalogue(tmp_path: Path, **changes) -> Path:
    indicators = [
        {
            "id": "cases",
            "label": "Cases",
            "agency": "Agency A",
            "theme": "Theme",
            "definition": "Cases in the period.",
            "unit": "count",
            "higher_is_better": False,
            "threats": ["Domestic abuse"],
        },
        {
            "id": "repeats",
            "label": "Repeat share",
            "agency": "Agency A",
            "theme": "Theme",
            "definition": "Share of cases that repeat.",
            "unit": "proportion",
            "higher_is_better": True,
            "target": "28%-40%",
            "threats": ["Domestic abuse"],
        },
        {
            "id": "fires",
            "label": "Fires",
            "agency": "Fire service",
            "theme": "ASB",
            "definition": "Deliberate fires.",
            "unit": "count",
            "frequency": "monthly",
            "higher_is_better": False,
            "disclosure_threshold": 2,
        },
    ]
    for key, value in changes.items():
        indicators[0][key] = value
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump({"indicators": indicators}), encoding="utf-8")
    return path


def _csv(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("indicator,period,value,numerator,denominator\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text, start, months, label",
    [
        ("2020-04", "2020-04", 1, "Apr 2020"),
        ("2020/21 Q1", "2020-04", 3, "2020/21 Q1"),
        ("2020/21 Q4", "2021-01", 3, "2020/21 Q4"),
        ("2021 Q1", "2021-01", 3, "2020/21 Q4"),  # a calendar quarter, labelled as the financial one it is
        ("2020/21", "2020-04", 12, "2020/21"),
    ],
)
def test_periods_a_partner_writes(text, start, months, label):
    period = parse_period(text)
    assert (period.start, period.months, period.label) == (start, months, label)


def test_a_period_in_no_known_form_says_which_forms_are_read():
    for bad in ("2020/22", "April 2020", "2020-13", "2020/21 Q5"):
        with pytest.raises(ValueError, match="2020/21 Q1"):
            parse_period(bad)


def test_template_periods_end_with_the_one_holding_the_last_month():
    assert [p.label for p in template_periods(3, "2020-12", 3)] == ["2020/21 Q1", "2020/21 Q2", "2020/21 Q3"]
    assert [p.label for p in template_periods(12, "2021-02", 2)] == ["2019/20", "2020/21"]
    assert [p.start for p in template_periods(1, "2020-02", 3)] == ["2019-12", "2020-01", "2020-02"]


def test_bad_partner_files_get_every_problem_at_once_with_file_row_column_and_value(tmp_path):
    catalogue = load_catalogue(_catalogue(tmp_path))
    data = _csv(
        tmp_path,
        "partners.csv",
        [
            "cases,2020/21 Q1,12,,",
            "casez,2020/21 Q1,12,,",  # unknown indicator
            "cases,Spring 2020,12,,",  # bad period
            "cases,2020/21 Q2,twelve,,",  # not a number
            "cases,2020/21 Q3,-1,,",  # a count below 0
            "repeats,2020/21 Q1,,9,",  # a proportion without its denominator
            "repeats,2020/21 Q2,,12,10",  # numerator above denominator
            "repeats,2020/21 Q3,0.5,9,41",  # value disagrees with 9/41
            "cases,2020/21 Q1,13,,",  # the same indicator and period twice
            "fires,2020-04,3,,",
            "fires,2020/21 Q2,3,,",  # a monthly indicator given a quarter too
        ],
    )
    with pytest.raises(InputDataError) as caught:
        read_partner_data([data], catalogue)
    message = str(caught.value)
    for expected in (
        "partners.csv, row 3, column indicator: 'casez' is not in the catalogue (its ids: cases, fires, repeats)",
        "partners.csv, row 4, column period: 'Spring 2020' is not a period this tool reads",
        "partners.csv, row 5, column value: 'twelve' is not a number",
        "partners.csv, row 6, column value: -1; a count is a whole number, 0 or more",
        "partners.csv, row 7: repeats is a proportion; give its numerator and denominator",
        "partners.csv, row 8, columns numerator and denominator: 12 of 10",
        "partners.csv, row 9, column value: 0.5 is not 9/41 (0.220, or 22.0%)",
        "partners.csv, row 10: cases for 2020/21 Q1 is also given in partners.csv, row 2",
        "fires: periods of different lengths (months, quarters)",
    ):
        assert expected in message
    missing = tmp_path / "no-columns.csv"
    missing.write_text("what,when\nx,y\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"no-columns.csv, row 1: no column indicator, period, value"):
        read_partner_data([missing], catalogue)


def test_the_intervals_match_newcombes_published_worked_examples():
    # Newcombe (1998), Statistics in Medicine 17: 857-872 (single proportion): 81/263, Wilson 0.2553 to 0.3662.
    share = share_estimate(81, 263)
    assert (round(share.ci_low, 4), round(share.ci_high, 4)) == (0.2553, 0.3662)
    # Newcombe (1998), Statistics in Medicine 17: 873-890, method 10: 56/70 - 48/80, 0.0524 to 0.3339,
    # by the survey's own difference (the partner shares reuse it).
    change = difference(share_estimate(56, 70), share_estimate(48, 80))
    assert (round(change.ci_low, 4), round(change.ci_high, 4)) == (0.0524, 0.3339)


def test_counts_and_proportions_are_tested_as_what_they_are(tmp_path):
    catalogue = load_catalogue(_catalogue(tmp_path))
    rows = [
        f"cases,{q},{v},,"
        for q, v in zip(["2019/20 Q1", "2019/20 Q2", "2019/20 Q3", "2019/20 Q4", "2020/21 Q1"], [100, 90, 95, 105, 120])
    ]
    rows += ["repeats,2019/20 Q1,,48,80", "repeats,2020/21 Q1,,56,70"]
    rows += ["fires,2020-05,2,,", "fires,2019-05,4,,"]
    data = read_partner_data([_csv(tmp_path, "d.csv", rows)], catalogue)
    results = analyse(data, catalogue, 5, "2020-06").set_index("indicator")
    cases = results.loc["cases"]
    # 120 against 100 a year before: z = ln(1.2) / sqrt(1/120 + 1/100) = 1.3465, p = 0.178; 5 quarters
    # are too few for a trend, so the dispersion is taken as 1 (Poisson).
    assert cases["comparison_period"] == "2019/20 Q1" and cases["change_percent"] == pytest.approx(20.0)
    assert cases["change_p"] == pytest.approx(0.178, abs=0.001)
    assert cases["trend_note"] == "not given: 5 quarters, fewer than the 12 a trend needs"
    repeats = results.loc["repeats"]
    # 56/70 against 48/80: 20.0 points, Newcombe 5.2 to 33.4. The score test at no difference: the
    # pooled z, 0.2 / sqrt(104/150 x 46/150 x (1/70 + 1/80)) = 2.6502, times sqrt(149/150)
    # (Miettinen and Nurminen's correction) = 2.6413, p = 0.00826.
    assert repeats["change_points"] == pytest.approx(20.0)
    assert (round(repeats["change_low"], 1), round(repeats["change_high"], 1)) == (5.2, 33.4)
    assert repeats["change_p"] == pytest.approx(0.00826, abs=0.00002)
    # Holm across the two tested changes: 0.00826 x 2 = 0.0165 (significant), 0.178 stays 0.178.
    assert repeats["change_p_holm"] == pytest.approx(2 * repeats["change_p"])
    assert repeats["change_verdict"] == "significant rise (better)"
    assert cases["change_verdict"] == "no significant change"
    # Fires: 2 with the indicator's own threshold of 2 is suppressed, and so is its change.
    fires = results.loc["fires"]
    assert bool(fires["latest_suppressed"]) and bool(fires["change_suppressed"])
    # As the report shows them: words first (no cell starts with a sign), suppression as *.
    from pipeline.documents.partner_tables import summary_table

    shown = summary_table(results.reset_index()).set_index("Indicator")
    assert shown.loc["Cases", "Change"] == "up 20% on 2019/20 Q1"
    assert shown.loc["Repeat share", "Latest"] == "80.0% (69.2% to 87.7%), 2020/21 Q1"
    assert shown.loc["Repeat share", "Change"] == "up 20.0 points (+5.2 to +33.4) on 2019/20 Q1"
    assert shown.loc["Fires", "Latest"] == "* (May 2020)" and shown.loc["Fires", "Change"] == "* (on May 2019)"


def test_a_trend_is_the_rate_ratio_a_year_of_a_quasi_poisson_fit(tmp_path):
    catalogue = load_catalogue(_catalogue(tmp_path))
    # Doubling every year exactly: the fitted rate ratio is 2.
    rows = [f"cases,{y}/{(y + 1) % 100:02d},{v},," for y, v in zip(range(2016, 2020), [100, 200, 400, 800])]
    data = read_partner_data([_csv(tmp_path, "y.csv", rows)], catalogue)
    cases = analyse(data, catalogue, 5, "2020-03").set_index("indicator").loc["cases"]
    assert cases["trend_ratio"] == pytest.approx(2.0, rel=1e-6)
    assert cases["trend_verdict"] == "significant rise (worse)"  # higher is not better for this indicator
    assert cases["comparison_period"] == "2018/19"  # yearly figures compare with the year before
    # Periods ending after the window are not used.
    later = analyse(data, catalogue, 5, "2019-03").set_index("indicator").loc["cases"]
    assert later["periods"] == 3 and later["latest_period"] == "2018/19"
    assert not later["before_window"]
    # A latest figure older than the 12 months assessed says so where it is shown.
    from pipeline.documents.partner_tables import summary_table

    stale = analyse(data, catalogue, 5, "2022-12")
    assert stale.set_index("indicator").loc["cases", "before_window"]
    shown = summary_table(stale).set_index("Indicator")
    assert shown.loc["Cases", "Latest"] == "800, 2019/20 (before the assessment window)"


def test_a_threats_evidence_names_its_partner_indicators_and_what_would_evidence_the_rest(tmp_path):
    catalogue = load_catalogue(_catalogue(tmp_path))
    rows = ["cases,2019/20 Q1,100,,", "cases,2020/21 Q1,120,,"]
    data = read_partner_data([_csv(tmp_path, "e.csv", rows)], catalogue)
    lines = evidence_sentences(analyse(data, catalogue, 5, "2020-06"), sample=True)
    assert lines == {
        "Domestic abuse": [
            "Cases (Agency A) (synthetic sample): 120 in 2020/21 Q1, +20% on 2019/20 Q1 (no significant change)"
        ]
    }
    assert would_evidence("Serious organised crime").startswith(
        "a partner indicator such as organised crime group disruptions"
    )
    assert "threats: [Serious organised crime]" in would_evidence("Serious organised crime")


def _fill_template(path: Path, sheet: str, cells: dict[str, object]) -> None:
    book = load_workbook(path)
    for cell, value in cells.items():
        book[sheet][cell] = value
    book.save(path)


def test_the_collection_workbook_round_trips_into_the_long_format(tmp_path):
    catalogue = load_catalogue(_catalogue(tmp_path))
    workbook = write_template(catalogue, tmp_path / "template.xlsx", "2020-12", "Partner data")
    book = load_workbook(workbook)
    assert book.sheetnames == ["About", "Agency A", "Fire service"]
    agency = book["Agency A"]
    assert [c.value for c in agency[3]] == ["period", "cases", "repeats:numerator", "repeats:denominator"]
    # 12 quarters, enough for a trend: 2017/18 Q4 to 2020/21 Q3 (the quarter holding Dec 2020).
    assert agency["A5"].value == "2017/18 Q4" and agency["A16"].value == "2020/21 Q3"
    assert agency.protection.sheet and not agency["B5"].protection.locked and agency["A5"].protection.locked
    _fill_template(workbook, "Agency A", {"B15": 90, "B16": 120, "C16": 30, "D16": 120})
    data = read_partner_data([workbook], catalogue)
    assert data[["indicator", "period_start", "value"]].values.tolist() == [
        ["cases", "2020-07", 90.0],
        ["cases", "2020-10", 120.0],
        ["repeats", "2020-10", 0.25],
    ]
    assert data["numerator"].isna().tolist() == [True, True, False] and data["denominator"].iloc[2] == 120
    _fill_template(workbook, "Agency A", {"C15": 40, "D15": 30})
    with pytest.raises(
        InputDataError, match=r"template.xlsx, sheet Agency A, row 15, columns numerator and denominator"
    ):
        read_partner_data([workbook], catalogue)


@pytest.mark.skipif(
    not libreoffice_ready(),
    reason="needs LibreOffice and python3-uno (apt-get install libreoffice-calc-nogui python3-uno); CI's .ci/run "
    "installs them",
)
def test_the_collection_workbook_filled_and_saved_in_libreoffice_reads_back(tmp_path):
    catalogue = load_catalogue(_catalogue(tmp_path))
    workbook = write_template(catalogue, tmp_path / "template.xlsx", "2020-12", "Partner data")
    saved = tmp_path / "returned.xlsx"
    subprocess.run(
        [
            "/usr/bin/python3",
            str(ROOT / "scripts/libreoffice_fill.py"),
            str(workbook),
            str(saved),
            "Agency A",
            "B16=120",
            "C16=30",
            "D16=120",
            "B12=95",
        ],
        check=True,
        timeout=120,
    )
    data = read_partner_data([saved], catalogue)
    assert data[["indicator", "period_start", "value"]].values.tolist() == [
        ["cases", "2019-10", 95.0],
        ["cases", "2020-10", 120.0],
        ["repeats", "2020-10", 0.25],
    ]
    assert load_workbook(saved)["Agency A"].protection.sheet


def test_the_bundled_sample_reads_and_evidences_child_exploitation_and_fraud():
    catalogue = load_catalogue(ROOT / "data/raw/partners/catalogue.yaml")
    data = read_partner_data(
        [
            ROOT / "data/raw/partners/sample-partner-data-monthly.csv",
            ROOT / "data/raw/partners/sample-partner-data-quarterly.xlsx",
        ],
        catalogue,
    )
    assert {i.id for i in catalogue.indicators} == set(data["indicator"])
    kinds = data.groupby("indicator")["months"].first()
    assert set(kinds) == {1, 3} and kinds["marac_repeats"] == 3
    lines = evidence_sentences(analyse(data, catalogue, 5, "2020-12"))
    assert "Child exploitation" in lines and "Fraud and cyber crime" in lines
    # Council ASB cases are thinned from the bundled police.uk ASB counts, so they have the same
    # months: 36 less July 2019, which police.uk lacks for the area.
    asb = data[data["indicator"] == "council_asb_cases"]
    assert len(asb) == 35 and "2019-07" not in set(asb["period_start"])


def test_a_partner_chart_leaves_suppressed_periods_as_gaps_and_says_which(tmp_path):
    from pipeline.documents.charts import partner_series
    from pipeline.documents.partner_tables import chart_series

    catalogue = load_catalogue(_catalogue(tmp_path))
    rows = ["fires,2020-04,7,,", "fires,2020-05,2,,", "fires,2020-06,0,,", "fires,2020-07,9,,"]
    data = read_partner_data([_csv(tmp_path, "c.csv", rows)], catalogue)
    periods, values, hidden = chart_series(data, catalogue.by_id()["fires"], 5, "2020-06")
    # Fires' own threshold is 2: the 2 is hidden, 0 and 7 are not; July is after the window.
    assert (periods, values, hidden) == (["Apr 2020", "May 2020", "Jun 2020"], [7.0, None, 0.0], ["May 2020"])
    _, alt = partner_series(periods, values, "Fires", "count", hidden, sample=True)
    assert alt == (
        "Line chart of Fires (synthetic sample) by period: Apr 2020: 7; Jun 2020: 0. Not shown (small numbers, "
        "suppressed): May 2020."
    )
