"""Managing delivery: actions with owners, dates and status by strand; the owners' quarterly
update sheet (written, filled, read back, applied, and through LibreOffice); last year's plan
reviewed; the grant-funded projects' quarterly monitoring."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, libreoffice_ready
from openpyxl import load_workbook

from pipeline.analysis.delivery_tracking import (
    actions_table,
    change_log_table,
    priorities_by_strand,
    project_monitoring,
    review_actions_table,
    review_measures_table,
    status_counts,
)
from pipeline.errors import InputDataError
from pipeline.inputs.action_updates import apply_updates, read_update_sheet, updated_plan, write_update_sheet
from pipeline.inputs.delivery_plan import load_plan
from pipeline.inputs.delivery_review import load_review


def _plan(tmp_path: Path, **extra) -> Path:
    plan = {
        "financial_year": "2021/22",
        "strands": ["Prevention", "Protection", "Response"],
        "responses": {
            "Domestic abuse": {
                "strand": "Protection",
                "actions": [
                    {
                        "action": "Write the strategy",
                        "owner": "DA Partnership",
                        "start": "2021-04-01",
                        "due": "2022-03-31",
                        "milestones": ["Draft by October"],
                    },
                    "Recommission the refuge",  # plain text, as older plans write an action
                ],
            },
            "Anti-social behaviour": {
                "strand": "Prevention",
                "actions": [{"action": "Review neighbour disputes", "strand": "Response", "status": "at risk"}],
            },
        },
        **extra,
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def test_actions_get_ids_strands_and_a_status_and_read_by_priority_or_by_strand(tmp_path):
    plan = load_plan(_plan(tmp_path))
    table = actions_table(plan, ["Domestic abuse", "Anti-social behaviour"])
    assert table[["ID", "Priority", "Strand", "Owner", "Start", "Due", "Status"]].values.tolist() == [
        ["DA-1", "Domestic abuse", "Protection", "DA Partnership", "1 Apr 2021", "31 Mar 2022", "\u25cb not started"],
        ["DA-2", "Domestic abuse", "Protection", "not set", "not set", "not set", "\u25cb not started"],
        ["ASB-1", "Anti-social behaviour", "Response", "not set", "not set", "not set", "\u25b2 at risk"],
    ]
    assert status_counts(table) == {"not started": 2, "at risk": 1}
    # Anti-social behaviour is a Prevention priority with a Response action: it is read under both.
    assert priorities_by_strand(plan, ["Domestic abuse", "Anti-social behaviour"]) == {
        "Prevention": ["Anti-social behaviour"],
        "Protection": ["Domestic abuse"],
        "Response": ["Anti-social behaviour"],
    }


def test_a_plan_with_bad_strands_repeated_ids_or_dates_out_of_order_is_refused_with_every_problem(tmp_path):
    path = _plan(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["responses"]["Domestic abuse"]["strand"] = "Enforcement"
    raw["responses"]["Domestic abuse"]["actions"][0]["id"] = "X-1"
    raw["responses"]["Anti-social behaviour"]["actions"][0]["id"] = "X-1"
    raw["responses"]["Domestic abuse"]["actions"][0]["due"] = "2021-01-01"
    raw["responses"]["Anti-social behaviour"]["actions"][0]["status"] = "done"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        load_plan(path)
    message = str(caught.value)
    assert "due 2021-01-01 is before start 2021-04-01" in message
    assert "status" in message and "'done'" in message
    raw["responses"]["Domestic abuse"]["actions"][0]["due"] = "2022-01-01"
    raw["responses"]["Anti-social behaviour"]["actions"][0]["status"] = "on track"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        load_plan(path)
    message = str(caught.value)
    assert "responses.Domestic abuse.strand: 'Enforcement' is not one of the strands" in message
    assert "'X-1' is also the id of an action of Anti-social behaviour" in message


def _fill(path: Path, rows: dict[int, tuple]) -> None:
    """Type into the update sheet's input columns (H, I, J) as an owner would, with openpyxl."""
    book = load_workbook(path)
    sheet = book["Actions"]
    for row, values in rows.items():
        for column, value in zip((8, 9, 10), values):
            sheet.cell(row=row, column=column, value=value)
    book.save(path)


def test_the_update_sheet_round_trips_and_its_changes_are_logged(tmp_path):
    plan = load_plan(_plan(tmp_path))
    sheet = write_update_sheet(plan, ["Domestic abuse", "Anti-social behaviour"], "Q2", tmp_path / "q2.xlsx", "T")
    book = load_workbook(sheet)
    actions = book["Actions"]
    assert actions.protection.sheet and not actions["H6"].protection.locked and actions["D6"].protection.locked
    assert [actions.cell(row=r, column=1).value for r in (6, 7, 8)] == ["DA-1", "DA-2", "ASB-1"]
    assert actions["B3"].value == "Q2"
    _fill(sheet, {6: ("on track", "Draft written.", None), 8: ("Complete ", None, datetime.datetime(2022, 5, 1))})
    updates = read_update_sheet(sheet, plan)
    assert updates.quarter == "Q2"
    assert updates.rows == {
        "DA-1": {"status": "on track", "update": "Draft written."},
        "ASB-1": {"status": "complete", "due": datetime.date(2022, 5, 1)},
    }
    updated, changes = apply_updates(plan, [updates])
    table = actions_table(updated, ["Domestic abuse", "Anti-social behaviour"]).set_index("ID")
    assert table.loc["DA-1", "Status"] == "\u25cf on track" and table.loc["DA-1", "Update"] == "Draft written."
    assert table.loc["ASB-1", "Due"] == "1 May 2022"
    log = change_log_table(changes)
    assert log[["Quarter", "ID", "What changed", "Was", "Now"]].values.tolist() == [
        # In the plan's order (its YAML lists Anti-social behaviour first), status, due date, update.
        ["Q2", "ASB-1", "status", "\u25b2 at risk", "\u2713 complete"],
        ["Q2", "ASB-1", "due date", "not set", "1 May 2022"],
        ["Q2", "DA-1", "status", "\u25cb not started", "\u25cf on track"],
        ["Q2", "DA-1", "update", "", "Draft written."],
    ]
    # Two sheets for one quarter are refused; sheets apply in quarter order whatever order given.
    with pytest.raises(InputDataError, match="Two update sheets are for Q2"):
        apply_updates(plan, [updates, updates])


def test_a_badly_filled_update_sheet_gets_every_problem_at_once_with_row_column_and_value(tmp_path):
    plan = load_plan(_plan(tmp_path))
    sheet = write_update_sheet(plan, ["Domestic abuse", "Anti-social behaviour"], "Q1", tmp_path / "q1.xlsx", "T")
    book = load_workbook(sheet)
    actions = book["Actions"]
    actions.protection.sheet = False  # as a user who unprotects it might
    actions["B2"] = "2020/21"
    actions["A7"] = "ZZ-9"
    actions["H7"] = "on track"
    actions["H6"] = "done"
    actions["J8"] = "next spring"
    actions["I10"] = "an update with no id"
    book.save(sheet)
    with pytest.raises(InputDataError) as caught:
        read_update_sheet(sheet, plan)
    message = str(caught.value)
    where = f"{sheet}, sheet Actions"
    for expected in (
        f"{where}, cell B2: financial year '2020/21'; the plan is for 2021/22",
        f"{where}, row 7, column Action ID: 'ZZ-9' is not an action of the plan",
        f"{where}, row 6, column New status: 'done'; expected one of not started, on track, at risk",
        f"{where}, row 8, column New due date: 'next spring'; expected a date such as 2021-12-31",
        f"{where}, row 10, column Action ID: blank; a row with an update needs its id",
    ):
        assert expected in message
    csv_instead = tmp_path / "q1.csv"
    csv_instead.write_text("Action ID,New status\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="q1.csv"):
        read_update_sheet(csv_instead, plan)


@pytest.mark.skipif(
    not libreoffice_ready(),
    reason="needs LibreOffice and python3-uno (apt-get install "
    "libreoffice-calc-nogui python3-uno); CI's scripts/check_documents.sh installs them",
)
def test_an_update_sheet_filled_and_saved_in_libreoffice_reads_back(tmp_path):
    plan = load_plan(_plan(tmp_path))
    sheet = write_update_sheet(plan, ["Domestic abuse", "Anti-social behaviour"], "Q3", tmp_path / "q3.xlsx", "T")
    saved = tmp_path / "q3-libreoffice.xlsx"
    subprocess.run(
        [
            "/usr/bin/python3",
            str(ROOT / "scripts/libreoffice_fill.py"),
            str(sheet),
            str(saved),
            "Actions",
            "H6=complete",
            "I6=Strategy adopted by the board.",
            "H8=off track",
            "J8=2022-06-30",
        ],
        check=True,
        timeout=120,
    )
    updated, changes = updated_plan(plan, [saved])
    table = actions_table(updated, ["Domestic abuse", "Anti-social behaviour"]).set_index("ID")
    assert (
        table.loc["DA-1", "Status"] == "\u2713 complete"
        and table.loc["DA-1", "Update"] == "Strategy adopted by the board."
    )
    assert table.loc["ASB-1", "Status"] == "\u2717 off track" and table.loc["ASB-1", "Due"] == "30 Jun 2022"
    assert len(changes) == 4
    # LibreOffice kept the protection and the drop-down.
    book = load_workbook(saved)
    assert book["Actions"].protection.sheet
    assert any("on track" in (v.formula1 or "") for v in book["Actions"].data_validations.dataValidation)


def test_project_monitoring_against_an_even_profile(tmp_path):
    raw = {
        "total": 40000,
        "allocations": [
            {
                "priority": "Domestic abuse",
                "service": "Refuge",
                "amount": 20000,
                "quarters": [
                    {"quarter": "Q1", "spend": 4000, "outputs": "9 women housed."},
                    {"quarter": "Q2", "spend": 6000},
                ],
            },
            {
                "priority": "Hate crime",
                "service": "Reporting centres",
                "amount": 8000,
                "quarters": [{"quarter": "Q1", "spend": 2000}],
            },
        ],
    }
    plan = load_plan(_plan(tmp_path, grant=raw))
    table = project_monitoring(plan.grant).set_index("Project")
    # Two quarters reported: half of each allocation expected spent.
    assert table.loc["Refuge", "Spend to date (£)"] == 10000 and table.loc["Refuge", "Expected by now (£)"] == 10000
    assert table.loc["Refuge", "Variance (£)"] == 0
    assert table.loc["Reporting centres", "Expected by now (£)"] == 4000
    assert table.loc["Reporting centres", "Variance (£)"] == -2000
    assert table.loc["Reporting centres", "Outputs"] == "No return for Q2."
    assert table.loc["Refuge", "Outputs"] == "Q1: 9 women housed."
    raw["allocations"][1]["quarters"].append({"quarter": "Q1", "spend": 1})
    with pytest.raises(InputDataError, match="quarter Q1 is given more than once"):
        load_plan(_plan(tmp_path, grant=raw))


def test_last_years_plan_reviewed_against_its_targets_and_this_years(tmp_path):
    import pandas as pd

    review_path = tmp_path / "review.yaml"
    review_path.write_text(
        yaml.safe_dump(
            {
                "financial_year": "2020/21",
                "actions": [
                    {"priority": "Domestic abuse", "action": "Recommission", "outcome": "achieved"},
                    {
                        "priority": "Hate crime",
                        "action": "Train centres",
                        "outcome": "not achieved",
                        "reason": "Funding bid failed.",
                    },
                ],
                "measures": [
                    {"indicator": "Feel safe", "target": ">= 70%", "result": 68.0, "unit": "%"},
                    {
                        "indicator": "ASB a problem",
                        "target": "<10%",
                        "result": 8.3,
                        "unit": "%",
                        "higher_is_better": False,
                    },
                    {"indicator": "Dropped", "target": "<10%"},
                ],
            }
        ),
        encoding="utf-8",
    )
    review = load_review(review_path)
    actions = review_actions_table(review)
    assert actions["Outcome"].tolist() == ["\u2713 achieved", "\u2717 not achieved"]
    plan = load_plan(_plan(tmp_path, performance_measures=[{"indicator": "Feel safe", "target": ">= 72%"}]))
    this_year = pd.DataFrame(
        {"Indicator": ["Feel safe"], "Actual": ["73.0% (71.0% to 75.0%)"], "Whether achieved": ["\u2713 achieved"]}
    )
    measures = review_measures_table(review, plan, this_year).set_index("Indicator")
    assert measures.loc["Feel safe", "Last year"] == "\u2717 not achieved"  # 68 < 70
    assert measures.loc["ASB a problem", "Last year"] == "\u2713 achieved"  # 8.3 < 10
    assert measures.loc["Dropped", "Last year's result"] == "not supplied"
    assert measures.loc["Dropped", "Last year"] == "? not available"
    assert measures.loc["Feel safe", "This year's target"] == ">= 72%"
    assert measures.loc["Feel safe", "This year"] == "\u2713 achieved"
    assert measures.loc["ASB a problem", "This year's result"] == "not in this year's plan"
    # An action not achieved needs its reason; an unknown outcome is named.
    raw = yaml.safe_load(review_path.read_text(encoding="utf-8"))
    raw["actions"][1].pop("reason")
    raw["actions"][0]["outcome"] = "partly"
    review_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputDataError, match=r"actions\.0\.outcome"):
        load_review(review_path)
    raw["actions"][0]["outcome"] = "achieved"
    review_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(InputDataError, match="actions.1.reason: the action 'Train centres' was not achieved"):
        load_review(review_path)


def test_the_bundled_sample_update_sheet_and_review_read_against_the_bundled_plan():
    plan = load_plan(ROOT / "data/raw/delivery/delivery-plan-2021-22.yaml")
    updated, changes = updated_plan(plan, [ROOT / "data/raw/delivery/sample-action-updates-2021-22-Q2.xlsx"])
    statuses = [a.status for r in updated.responses.values() for a in r.actions]
    # The sample script's mix: one each of at risk, complete and off track, the rest on track.
    assert sorted(statuses) == ["at risk", "complete", "off track", "on track", "on track"]
    assert {c.quarter for c in changes} == {"Q2"}
    review = load_review(ROOT / "data/raw/delivery/sample-plan-review-2020-21.yaml")
    carried = [a.action for a in review.actions if a.outcome == "carried over"]
    this_year = {a.action: a.status for r in plan.responses.values() for a in r.actions}
    assert any(this_year.get(action) == "carried over" for action in carried)
