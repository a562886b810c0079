"""The strategic assessment's body and technical annex: which cells go where, the short table
headers whose windows the caption states, the survey summary, and the links between them."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest
from conftest import ROOT

from pipeline.documents.assessment.annex import ANNEX_COMMENTARY, ANNEX_SECTIONS, anchor, section_link
from pipeline.documents.export import _slug, _strip_for_publication
from pipeline.documents.formats import short_headers, windows_caption
from pipeline.documents.survey_tables import survey_summary_table
from pipeline.inputs.commentary import SECTIONS
from pipeline.orchestration.stages import STAGES

WINDOWS = {
    "window_text": "Jan 2020 to Dec 2020 (12 months)",
    "before_text": "Jan 2019 to Dec 2019 (11 months; Jul 2019 left out)",
    "after_text": "Jan 2020 to Dec 2020 (11 months; Jul 2020 left out)",
}


def test_the_report_stage_publishes_a_body_and_an_annex_and_the_others_one_document():
    stages = {s.name: s for s in STAGES}
    assert stages["report"].documents() == [("strategic-assessment.html", "body"), ("technical-annex.html", "annex")]
    assert stages["delivery"].documents() == [("delivery-plan-appendix.html", None)]
    assert stages["police"].documents() == []


def _notebook():
    cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("## Body section"),
        nbformat.v4.new_markdown_cell("## Annex section", metadata={"tags": ["annex"]}),
        nbformat.v4.new_code_cell("show(y)", metadata={"tags": ["annex", "remove"]}),
        nbformat.v4.new_code_cell("show(z)"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_cells_tagged_annex_go_to_the_annex_only_and_the_rest_to_the_body():
    body = _strip_for_publication(_notebook(), "body")
    annex = _strip_for_publication(_notebook(), "annex")
    everything = _strip_for_publication(_notebook())
    assert [c.source for c in body.cells] == ["## Body section", "show(z)"]
    assert [c.source for c in annex.cells] == ["## Annex section", "show(y)"]
    assert len(everything.cells) == 4  # the parameters cell never appears


def test_the_committed_report_notebook_puts_models_and_methods_in_the_annex():
    notebook = json.loads((ROOT / "notebooks/10_strategic_assessment.ipynb").read_text(encoding="utf-8"))
    annex = {c["id"] for c in notebook["cells"] if "annex" in c.get("metadata", {}).get("tags", [])}
    sources = {c["id"]: "".join(c["source"]) for c in notebook["cells"]}
    for call in ("series_charts", "seasonal_pattern", "exceptional_months", "threat_profiles_section", "methods"):
        holding = [i for i, s in sources.items() if f"sections.{call}(" in s]
        assert holding and set(holding) <= annex, call
    for call in ("executive_summary", "recommendations", "crime_in_window", "prioritisation", "glossary"):
        holding = [i for i, s in sources.items() if f"sections.{call}(" in s]
        assert holding and not set(holding) & annex, call


def test_short_headers_drop_the_windows_the_caption_states():
    columns = [
        "Ward",
        "Crimes (excl. ASB), Jan 2020 to Dec 2020 (12 months)",
        "Crimes per 1,000 residents a year",
        "Crimes, like for like: Jan 2019 to Dec 2019 (11 months; Jul 2019 left out)",
        "Like for like: Jan 2020 to Dec 2020 (11 months; Jul 2020 left out)",
        "Count, Jan 2020 to Dec 2020 (12 months)",
    ]
    assert short_headers(columns, WINDOWS) == {
        "Crimes (excl. ASB), Jan 2020 to Dec 2020 (12 months)": "Crimes (excl. ASB)",
        "Crimes per 1,000 residents a year": "Crimes per 1,000 a year",
        "Crimes, like for like: Jan 2019 to Dec 2019 (11 months; Jul 2019 left out)": "Crimes, year before",
        "Like for like: Jan 2020 to Dec 2020 (11 months; Jul 2020 left out)": "This year",
        "Count, Jan 2020 to Dec 2020 (12 months)": "Count",
    }
    assert windows_caption(WINDOWS, compared=True) == (
        "Counts and rates: Jan 2020 to Dec 2020 (12 months). Like for like: Jan 2020 to Dec 2020 (11 months; "
        "Jul 2020 left out) (this year) against Jan 2019 to Dec 2019 (11 months; Jul 2019 left out) (year before)."
    )
    assert windows_caption(WINDOWS, compared=False) == "Counts and rates: Jan 2020 to Dec 2020 (12 months)."


def test_the_survey_summary_gives_each_indicators_latest_year_and_says_why_one_is_not_published():
    results = pd.DataFrame(
        {
            "indicator": ["safe", "safe", "asb", "asb"],
            "year": [2019, 2020, 2019, 2020],
            "percent": [70.0, 74.3, 20.0, float("nan")],
            "ci_low": [67.0, 71.0, 17.0, float("nan")],
            "ci_high": [73.0, 77.5, 23.0, float("nan")],
            "change_points": [float("nan"), 4.3, float("nan"), float("nan")],
            "verdict": [
                "no previous year",
                "significant rise",
                "no previous year",
                "suppressed: base of 40 is below 50",
            ],
            "suppressed": [False, False, False, True],
        }
    )
    table, _ = survey_summary_table(results, {"safe": "Feel safe", "asb": "ASB a problem", "none": "Not asked"})
    assert table.to_dict("records") == [
        {
            "Indicator": "Feel safe",
            "Year": "2020",
            "Weighted %": "74.3%",
            "95% interval": "71.0% to 77.5%",
            "Change since the year before (points)": "+4.3",
            "Verdict": "significant rise",
        },
        {
            "Indicator": "ASB a problem",
            "Year": "2020",
            "Weighted %": "not published",
            "95% interval": "",
            "Change since the year before (points)": "",
            "Verdict": "suppressed: base of 40 is below 50",
        },
    ]


@pytest.mark.parametrize("title", [t for t, _ in ANNEX_SECTIONS.values()] + list(SECTIONS))
def test_links_to_sections_use_the_ids_the_published_page_gives_their_headings(title):
    assert anchor(title) == _slug(title, set())


def test_a_recommendations_evidence_link_goes_to_the_document_holding_its_section():
    assert section_link("Hotspots") == "#hotspots"
    assert "Methods and sources" in ANNEX_COMMENTARY
    assert section_link("Methods and sources") == "technical-annex.html#methods-and-sources"


def test_grouped_headers_put_each_group_once_over_its_columns():
    from pipeline.documents.tables import table_html

    frame = pd.DataFrame(
        {"Threat": ["A"], "Harm: Physical": [1.0], "Harm: Financial": [2.0], "Likelihood: Frequency": [3.0]}
    )
    page = table_html(frame, "Scores", grouped=True)
    assert (
        '<thead><tr><th scope="col" rowspan="2">Threat</th><th scope="colgroup" colspan="2">Harm</th>'
        '<th scope="colgroup" colspan="1">Likelihood</th></tr><tr><th scope="col">Physical</th>'
        '<th scope="col">Financial</th><th scope="col">Frequency</th></tr></thead>'
    ) in page


def test_the_factor_scores_split_into_harm_and_the_rest_each_with_the_threat():
    from pipeline.documents.morile_tables import factor_score_parts

    frame = pd.DataFrame(columns=["Threat", "Harm: Physical", "Likelihood: Frequency", "Confidence: Evidence"])
    parts = factor_score_parts(frame)
    assert [(name, list(part.columns)) for name, _, part in parts] == [
        ("harm", ["Threat", "Harm: Physical"]),
        ("likelihood-and-position", ["Threat", "Likelihood: Frequency", "Confidence: Evidence"]),
    ]


def test_each_priority_says_why_with_the_evidence_behind_it():
    from pipeline.documents.morile_tables import priority_reasons, threat_evidence_text

    words = threat_evidence_text(
        {"Domestic abuse": (2379, 5.04, "no significant change"), "Burglary": (915, None, "")},
        {"Domestic abuse": 20.4},
        {
            "Domestic abuse": ["MARAC cases heard: 110 in 2020/21 Q3"],
            "Child exploitation": ["Referrals: 15 in Dec 2020"],
        },
        "Jan 2020 to Dec 2020 (12 months)",
    )
    assert words == {
        "Domestic abuse": "2,379 recorded in Jan 2020 to Dec 2020 (12 months) (+5.0% like for like, no significant "
        "change); 20% of the area's crime harm; partners' data: MARAC cases heard: 110 in 2020/21 Q3",
        "Burglary": "915 recorded in Jan 2020 to Dec 2020 (12 months)",
        "Child exploitation": "partners' data: Referrals: 15 in Dec 2020",
    }
    ranking = pd.DataFrame(
        {"threat": ["Domestic abuse", "Organised crime"], "rank": [1, 2], "score": [84.0, 60.0], "band": ["High"] * 2}
    )
    agreed = pd.DataFrame(
        {
            "threat": ["Domestic abuse", "Organised crime"],
            "priority": [True, True],
            "proposed": [True, True],
            "override_reason": ["", ""],
            "override_decided": ["", ""],
        }
    )
    assert priority_reasons(ranking, agreed, words) == [
        "Domestic abuse: MoRiLE rank 1 of 2, risk score 84 (High). Evidence: " + words["Domestic abuse"] + ".",
        "Organised crime: MoRiLE rank 2 of 2, risk score 60 (High). No data source measures it yet (see Threats no "
        "data source measures).",
    ]
