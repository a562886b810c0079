from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.analysis.delivery import (
    ACHIEVED,
    MARGIN,
    NO_TARGET,
    NOT_ACHIEVED,
    NOT_AVAILABLE,
    assess,
    final_priorities,
    grant_summary,
    performance_table,
    register_table,
    risk_band,
    verdict_text,
)
from pipeline.errors import InputDataError
from pipeline.inputs.delivery_plan import Grant, check_grant, load_plan, load_register, parse_target, pounds

ROOT = Path(__file__).resolve().parent.parent
REAL_REGISTER = ROOT / "data/raw/delivery/risk-register-2018-19.yaml"
REAL_PLAN = ROOT / "data/raw/delivery/delivery-plan-2021-22.yaml"


def test_real_2021_22_grant_arithmetic():
    plan = load_plan(REAL_PLAN)
    table, totals = grant_summary(plan.grant, ["Domestic abuse", "Drug offences (other than cannabis)"])
    assert totals.total == 92_680
    assert table["Amount (£)"].tolist() == [20_705, 19_275, 28_000]
    assert totals.allocated == 67_980  # as published: TOTAL £67,980
    assert totals.remaining == 24_700  # "a further £24,700 available to commission"
    assert totals.not_priorities == []
    assert pounds(totals.remaining) == "£24,700"


def test_allocating_more_than_the_grant_is_an_error_and_non_priorities_are_flagged():
    grant = Grant(
        total=1000,
        allocations=[
            {"priority": "A", "service": "One", "amount": 700},
            {"priority": "B", "service": "Two", "amount": 400.5},
        ],
    )
    with pytest.raises(
        InputDataError, match="add up to £1,100.50, more than the grant of £1,000 \\(over by £100.50\\)"
    ):
        check_grant(grant, "plan.yaml")
    ok = Grant(
        total=1000,
        allocations=[
            {"priority": "A", "service": "One", "amount": 700},
            {"priority": "Z", "service": "Two", "amount": 300},
        ],
    )
    table, totals = grant_summary(ok, ["A"])
    assert totals.remaining == 0 and totals.not_priorities == ["Two"]
    assert table["Is a priority"].tolist() == ["Yes", "No - not a priority this year"]


def test_pounds_formatting():
    assert pounds(92680) == "£92,680"
    assert pounds(1234.5) == "£1,234.50"
    assert pounds(-20) == "-£20"


@pytest.mark.parametrize(
    "text, kind, low, high",
    [
        ("<10%", "below", 10, 10),
        ("<= 10%", "at_most", 10, 10),
        (">= 75%", "at_least", 75, 75),
        ("> 75", "above", 75, 75),
        ("28%-40%", "range", 28, 40),
        ("28% to 40%", "range", 28, 40),
        ("65.2%", "at_least", 65.2, 65.2),
        ("Same as last year", "same_as_last_year", None, None),
        ("No target set \u2013 results compared to those elsewhere", "compared_elsewhere", None, None),
        ("First year of monitoring. Baseline to be set.", "baseline", None, None),
    ],
)
def test_target_forms(text, kind, low, high):
    target = parse_target(text)
    assert (target.kind, target.low, target.high) == (kind, low, high)


def test_unknown_target_form():
    with pytest.raises(ValueError, match="not a form this tool reads"):
        parse_target("better than Bristol")


def test_every_verdict():
    below10 = parse_target("<10%")
    # Point values (no interval).
    assert assess(below10, 8.0) == ACHIEVED
    assert assess(below10, 10.0) == NOT_ACHIEVED  # "<10" is strict
    assert assess(parse_target("<=10%"), 10.0) == ACHIEVED
    # The annual report's case worked by hand: 8.4% with 95% CI 6.4% to 10.4% against <10%.
    # The interval straddles 10, so the target is neither clearly met nor missed.
    assert assess(below10, 8.4, 6.4, 10.4) == MARGIN
    assert assess(below10, 8.4, 6.4, 9.9) == ACHIEVED
    assert assess(below10, 12.0, 10.5, 13.5) == NOT_ACHIEVED
    band = parse_target("28%-40%")
    assert assess(band, 9.0) == NOT_ACHIEVED  # MARAC repeat rate 9% against 28%-40%
    assert assess(band, 35.0, 30.0, 39.0) == ACHIEVED
    assert assess(band, 30.0, 26.0, 34.0) == MARGIN
    same = parse_target("same as last year")
    # Different backgrounds get on well: 65.2% last year, 64.4% (61.0 to 67.8) this year -> margin of error.
    assert assess(same, 64.4, 61.0, 67.8, previous=65.2) == MARGIN
    assert assess(same, 70.0, 67.0, 73.0, previous=65.2) == ACHIEVED
    assert assess(same, 7.0, previous=8.0, higher_is_better=False) == ACHIEVED
    assert assess(same, 70.0) == NOT_AVAILABLE  # no previous result to hold
    # Last year's figure is an estimate too: 66.4% against 62.1%, change +4.3 points with a
    # 95% interval of -0.6 to +9.2 that straddles no change, is within the margin of error.
    assert assess(same, 66.4, 63.0, 69.7, previous=62.1, change_ci=(-0.6, 9.2)) == MARGIN
    assert assess(same, 66.4, 63.0, 69.7, previous=62.1, change_ci=(0.4, 9.2)) == ACHIEVED
    assert assess(same, 58.0, 55.0, 61.0, previous=62.1, change_ci=(-8.0, -0.2)) == NOT_ACHIEVED
    assert assess(same, 12.0, previous=9.0, higher_is_better=False, change_ci=(1.0, 5.0)) == NOT_ACHIEVED
    assert assess(parse_target(">= 75%"), None) == NOT_AVAILABLE
    assert assess(parse_target("no target - compared with elsewhere"), 61.2) == NO_TARGET
    assert assess(parse_target("baseline to be set"), 76.8) == NO_TARGET
    assert assess(None, 5.0) == NO_TARGET
    assert verdict_text(ACHIEVED) == "\u2713 achieved" and verdict_text(MARGIN) == "\u2248 within the margin of error"


def test_every_row_of_the_real_2018_19_register():
    # (ref, impact, likelihood, score, band), read from the published register.
    expected = [
        ("S1", 3, 2, 6, "Medium"),
        ("S1b", 1, 2, 2, "Low"),
        ("S2", 2, 1, 2, "Low"),
        ("S3", 3, 1, 3, "Low"),
        ("S4", 1, 3, 3, "Low"),
        ("P1", 3, 2, 6, "Medium"),
        ("P2", 3, 1, 3, "Low"),
        ("P3", 3, 2, 6, "Medium"),
        ("P5", 3, 2, 6, "Medium"),
        ("P6", 3, 3, 9, "High"),
        ("L1", 3, 1, 3, "Low"),
        ("R1", 3, 3, 9, "High"),
        ("R2", 3, 3, 9, "High"),
        ("R3", 3, 1, 3, "Low"),
        ("Pe1", 3, 1, 3, "Low"),
        ("Pe2", 3, 3, 9, "High"),
    ]
    title, risks = load_register(REAL_REGISTER)
    assert title == "Safer and Stronger Communities Partnership Risk Register 2018/19"
    table = register_table(risks).set_index("Ref")
    assert len(table) == 16
    for ref, impact, likelihood, score, band in expected:
        assert table.loc[ref, ["Impact", "Likelihood", "Score", "Band"]].tolist() == [impact, likelihood, score, band]
    ordered = register_table(risks)
    assert ordered["Ref"].tolist()[:4] == ["P6", "Pe2", "R1", "R2"]  # score 9 first, then by reference
    assert ordered["Score"].is_monotonic_decreasing
    assert [risk_band(s) for s in (1, 3, 4, 6, 7, 9)] == ["Low", "Low", "Medium", "Medium", "High", "High"]


def _register(tmp_path: Path, risks: list[dict], name: str = "register.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"title": "Test register", "risks": risks}), encoding="utf-8")
    return path


def test_register_validation_lists_every_problem(tmp_path):
    path = _register(
        tmp_path,
        [
            {"ref": "A1", "risk": "Off the scale", "impact": 4, "likelihood": 0, "owner": "Chair"},
            {"ref": "A2", "risk": "Wrong score", "impact": 2, "likelihood": 3, "score": 5, "owner": "Chair"},
            {"ref": "A3", "risk": "No owner", "impact": 1, "likelihood": 1},
            {"ref": "A3", "risk": "Repeated ref", "impact": 1, "likelihood": 1, "owner": "SOG"},
        ],
    )
    with pytest.raises(InputDataError) as caught:
        load_register(path)
    message = str(caught.value)
    assert "risk 1 (A1): impact 4 is off the scale; use 1, 2 or 3" in message
    assert "risk 1 (A1): likelihood 0 is off the scale" in message
    assert "risk 2 (A2): score 5 disagrees with impact x likelihood = 2 x 3 = 6" in message
    assert "risk 3 (A3): no risk owner" in message
    assert "reference 'A3' is used more than once" in message


def test_register_movement_and_xlsx_input(tmp_path):
    from openpyxl import Workbook

    previous = _register(
        tmp_path,
        [
            {"ref": "A1", "risk": "Funding", "impact": 3, "likelihood": 2, "owner": "Chair"},
            {"ref": "A2", "risk": "Data", "impact": 2, "likelihood": 2, "owner": "SOG"},
            {"ref": "A9", "risk": "Closed", "impact": 1, "likelihood": 1, "owner": "SOG"},
        ],
        "previous.yaml",
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Ref", "Risk", "Triggers", "Impact", "Likelihood", "Score", "Owner", "Review"])
    sheet.append(["A1", "Funding", "Cuts\nRestructuring", 3, 3, 9, "Chair", "Annual"])
    sheet.append(["A2", "Data", None, 1, 2, 2, "SOG", "Quarterly"])
    sheet.append(["A3", "New risk", None, 2, 2, 4, "SOG", "Annual"])
    path = tmp_path / "register.xlsx"
    workbook.save(path)
    _, risks = load_register(path)
    _, before = load_register(previous)
    table = register_table(risks, before).set_index("Ref")
    assert table.loc["A1", "Movement"] == "up from 6"
    assert table.loc["A2", "Movement"] == "down from 4"
    assert table.loc["A3", "Movement"] == "new"
    assert table.loc["A1", "Triggered by"] == "Cuts; Restructuring"
    from pipeline.analysis.delivery import closed_risks

    assert closed_risks(risks, before) == ["A9"]


def test_priorities_with_overrides(tmp_path):
    ranking = pd.DataFrame(
        {"threat": ["A", "B", "C", "D"], "rank": [1, 2, 3, 4], "priority": [True, True, False, False]}
    )
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text(
        yaml.safe_dump(
            {
                "financial_year": "2021/22",
                "overrides": [
                    {"threat": "C", "priority": True, "reason": "Community concern", "date": "2021-01-19"},
                    {
                        "threat": "B",
                        "priority": False,
                        "reason": "Covered elsewhere",
                        "date": "2021-02-04",
                        "decided_by": "the partnership board",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    plan = load_plan(plan_path)
    priorities = final_priorities(ranking, plan)
    assert priorities["threat"].tolist() == ["A", "B", "C"]  # D: neither proposed nor added
    assert priorities["priority"].tolist() == [True, False, True]
    from pipeline.analysis.delivery import priorities_table

    table = priorities_table(priorities, plan).set_index("Threat")
    assert table.loc["C", "How it was chosen"] == "Added by the facilitators, 19 January 2021: Community concern"
    assert table.loc["B", "How it was chosen"] == "Removed by the partnership board, 4 February 2021: Covered elsewhere"
    bad = plan.model_copy(update={"overrides": [plan.overrides[0].model_copy(update={"threat": "Nope"})]})
    with pytest.raises(InputDataError, match="threat 'Nope' is not among the threats scored"):
        final_priorities(ranking, bad)
    # The assessment states the same agreed list as the delivery plan, with each departure and its reason.
    from pipeline.documents.morile_tables import agreed_priorities_sentences

    sentences = agreed_priorities_sentences(priorities)
    assert sentences == [
        "Agreed priorities (2), the same list as the delivery plan's: A, C.",
        "B was proposed by the ranking but removed by the partnership board, 4 February 2021: Covered elsewhere",
        "C was added to the MoRiLE ranking's proposal by the facilitators, 19 January 2021: Community concern",
    ]
    from pipeline.documents.morile_tables import priority_reasons

    scored = ranking.assign(score=[90.0, 72.4, 40.0, 12.0], band=["High", "High", "Medium", "Low"])
    assert priority_reasons(scored, priorities) == [
        "A: MoRiLE rank 1 of 4, risk score 90 (High).",
        "C: MoRiLE rank 3 of 4, risk score 40 (Medium); added by the facilitators, 19 January 2021: Community concern",
    ]
    # A decision without its date is refused, naming the setting.
    undated = tmp_path / "undated.yaml"
    undated.write_text(
        yaml.safe_dump(
            {"financial_year": "2021/22", "overrides": [{"threat": "C", "priority": True, "reason": "Concern"}]}
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputDataError, match=r"overrides.*date"):
        load_plan(undated)
    unchanged = final_priorities(ranking, plan.model_copy(update={"overrides": []}))
    assert agreed_priorities_sentences(unchanged)[-1] == "The agreed list is the MoRiLE ranking's proposal, unchanged."


def test_plan_validation(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "financial_year": "2021",
                "performance_measures": [
                    {"indicator": "X", "target": "better than Bristol", "actual": {"survey": "a", "value": 3}}
                ],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as caught:
        load_plan(path)
    message = str(caught.value)
    assert "financial_year" in message
    assert "not a form this tool reads" in message
    assert "give exactly one of survey" in message


def test_performance_measures_from_survey_and_crime_stages(tmp_path):
    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text(
        yaml.safe_dump(
            {
                "financial_year": "2021/22",
                "performance_measures": [
                    {
                        "indicator": "ASB a problem",
                        "actual": {"survey": "asb"},
                        "target": "<10%",
                        "higher_is_better": False,
                    },
                    {"indicator": "Burglary rate", "actual": {"crime": ["Burglary"]}, "target": "<= 3.5"},
                    {"indicator": "Feel safe", "actual": {"survey": "safe"}},
                ],
            }
        ),
        encoding="utf-8",
    )
    survey_results = pd.DataFrame(
        {
            "indicator": ["asb", "asb", "safe", "safe"],
            "year": [2019, 2020, 2019, 2020],
            "percent": [8.0, 8.4, 70.0, 74.0],
            "ci_low": [6.0, 6.4, 66.0, 71.0],
            "ci_high": [10.0, 10.4, 74.0, 77.0],
            "suppressed": [False] * 4,
        }
    )
    crime_rates = pd.DataFrame(
        {
            "Burglary rate": [3.3, 4.1],
            "months_present": [12, 11],
            "label": [
                "police.uk, Jan 2020 to Dec 2020 (12 months)",
                "police.uk, Jan 2019 to Dec 2019 (11 months; Jul 2019 left out), scaled up to a year from 11 months",
            ],
        },
        index=["latest", "previous"],
    )
    table = performance_table(
        load_plan(plan_path), survey_results, crime_rates, {"safe": ">= 70%"}, survey_is_sample=True
    )
    assert table["Previous result"].tolist() == [
        "8.0% (95% CI 6.0 to 10.0)",
        "4.1 per 1,000 a year (police.uk, Jan 2019 to Dec 2019 (11 months; Jul 2019 left out), scaled up to a year "
        "from 11 months)",
        "70.0% (95% CI 66.0 to 74.0)",
    ]
    assert table["Actual"].iloc[1] == "3.3 per 1,000 a year (police.uk, Jan 2020 to Dec 2020 (12 months))"
    assert table["verdict"].tolist() == [MARGIN, ACHIEVED, ACHIEVED]
    assert table["Target"].tolist()[2] == ">= 70%"  # taken from the indicator definition
    assert "synthetic sample survey 2020" in table["Comments"].iloc[0]
