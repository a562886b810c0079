"""Write the ILLUSTRATIVE SAMPLE delivery inputs of the default run: last year's plan reviewed
(2020/21) and the action owners' quarterly update sheet for Q2 of 2021/22.

No partnership's action returns can be published, so both are made here with a fixed seed:

- the review's actions are the kind the 2020/21 plan carried, each given an outcome at random
  (achieved 60%, not achieved 20%, carried over 20%; one is always carried over, the action
  the 2021/22 sample plan lists as carried over);
- the review's survey measures take last year's result from the sample survey itself (its
  2019 weighted result, computed by the survey stage's own code), so the two agree where they
  overlap; the MARAC repeat rate is the 9% the real 2021/22 plan gives for the year before;
- the update sheet is the real one (``pipeline.inputs.action_updates.write_update_sheet``),
  filled in with openpyxl as an owner would: one action at risk (its due date moved two
  months), one complete, one off track and the rest on track, in a random order, each with a
  short update.

Every output that shows them is labelled "sample" (params: ``delivery.sample: true``).
Run: ``.venv/bin/python scripts/make_sample_delivery.py`` (rewrites both files).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import yaml
from openpyxl import load_workbook

from pipeline.analysis import survey
from pipeline.inputs.action_updates import write_update_sheet
from pipeline.inputs.delivery_plan import load_plan
from pipeline.params import load_params

SEED = 20210401  # the first day of the 2021/22 plan
ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "data/raw/delivery"
REVIEW = FOLDER / "sample-plan-review-2020-21.yaml"
UPDATES = FOLDER / "sample-action-updates-2021-22-Q2.xlsx"

LAST_YEAR_ACTIONS = [
    ("Domestic abuse", "Recommission the Freedom Programme for medium-risk victims", "Domestic Abuse Partnership"),
    (
        "Domestic abuse",
        "Meet the duty to provide safe accommodation support (Domestic Abuse Act 2021)",
        "Council housing service",
    ),
    (
        "Anti-social behaviour",
        "Agree a joint ASB case review procedure with housing providers",
        "Safe and Strong Communities",
    ),
    (
        "Anti-social behaviour",
        "Publish the Community Trigger procedure and its annual figures",
        "Safe and Strong Communities",
    ),
    ("Hate crime", "Train third-party hate crime reporting centres", "Community Cohesion Group"),
    (
        "Serious violence",
        "Map the local response to serious violence for the Violence Reduction Unit",
        "Violence Reduction Unit",
    ),
    (
        "Drug offences (other than cannabis)",
        "Refresh the county lines information-sharing protocol",
        "Violence Reduction Unit",
    ),
]
REASONS = {
    "not achieved": [
        "Delayed by COVID-19 restrictions; the partner's staff were redeployed.",
        "The funding bid was not successful.",
    ],
    "carried over": ["Started late; the new statutory guidance was not published until the year's end."],
}
UPDATES_TEXT = {
    "on track": "Milestones met so far.",
    "at risk": "Behind the first milestone; a recovery plan goes to the next board.",
    "complete": "Done; reported to the board.",
    "off track": "Stopped: the lead officer post is vacant.",
}


def _survey_2019(params_path: Path) -> dict[str, tuple[str, float]]:
    """Each survey indicator's label and 2019 weighted result from the sample survey."""
    params = load_params(params_path)
    indicators, results, _ = survey.run_survey(params.survey)
    labels = {i.id: i.label for i in indicators}
    rows = results[results["year"] == 2019]
    return {r.indicator: (labels[r.indicator], round(float(r.percent), 1)) for r in rows.itertuples()}


def write_review(rng: np.random.Generator, plan_targets: dict[str, tuple[str, bool]]) -> None:
    actions = []
    for priority, action, owner in LAST_YEAR_ACTIONS:
        if "safe accommodation" in action:
            outcome = "carried over"  # the 2021/22 sample plan carries it over
        else:
            outcome = str(rng.choice(["achieved", "not achieved", "carried over"], p=[0.6, 0.2, 0.2]))
        entry = {"priority": priority, "action": action, "owner": owner, "outcome": outcome}
        if outcome != "achieved":
            entry["reason"] = str(rng.choice(REASONS[outcome]))
        actions.append(entry)
    measures = []
    for label, result in _survey_2019(ROOT / "params/south-gloucestershire.yaml").values():
        if label not in plan_targets:
            continue
        target, higher_is_better = plan_targets[label]
        measures.append(
            {"indicator": label, "target": target, "result": result, "unit": "%", "higher_is_better": higher_is_better}
        )
    measures.append(
        {
            "indicator": "Repeat victimisation rate following a MARAC for vulnerable victims of domestic abuse",
            "target": "28%-40%",
            "result": 9.0,
            "unit": "%",
            "comments": "From the real 2021/22 plan's previous-year figure.",
        }
    )
    header = (
        "# ILLUSTRATIVE SAMPLE: last year's (2020/21) delivery plan reviewed, made by\n"
        "# scripts/make_sample_delivery.py with a fixed seed. Survey results are the sample survey's 2019\n"
        "# weighted results; the MARAC figure is the real plan's. Not a real partnership's review.\n"
    )
    body = yaml.safe_dump(
        {"financial_year": "2020/21", "actions": actions, "measures": measures},
        sort_keys=False,
        allow_unicode=True,
        width=110,
    )
    REVIEW.write_text(header + body, encoding="utf-8")


def write_updates(rng: np.random.Generator) -> None:
    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    plan = load_plan(params.delivery.plan)
    # Every action of every response: the sheet the pipeline would write for the agreed priorities
    # holds these, because each response with actions is an agreed priority in the sample.
    priorities = [t for t, r in plan.responses.items() if r.actions]
    write_update_sheet(plan, priorities, "Q2", UPDATES, f"Action updates: {plan.title}", sample=True)
    book = load_workbook(UPDATES)
    sheet = book["Actions"]
    rows = [r for r in range(6, sheet.max_row + 1) if sheet.cell(row=r, column=1).value]
    # One of each status an owner reports after a quarter, the rest on track, in a random order.
    mix = ["at risk", "complete", "off track"] + ["on track"] * max(0, len(rows) - 3)
    drawn = [str(s) for s in rng.permutation(mix)]
    moved = False
    for row, status in zip(rows, drawn):
        sheet.cell(row=row, column=8, value=status)
        sheet.cell(row=row, column=9, value=UPDATES_TEXT[status])
        if status == "at risk" and not moved:
            due = sheet.cell(row=row, column=6).value
            sheet.cell(row=row, column=10, value=(due + datetime.timedelta(days=61)))
            moved = True
    book.save(UPDATES)


def main() -> None:
    rng = np.random.default_rng(SEED)
    plan = load_plan(FOLDER / "delivery-plan-2021-22.yaml")
    write_review(rng, {m.indicator: (m.target, m.higher_is_better) for m in plan.performance_measures if m.target})
    write_updates(rng)
    print(f"Wrote {REVIEW.relative_to(ROOT)} and {UPDATES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
