"""Write the ILLUSTRATIVE SAMPLE MoRiLE workshop sheets used by the default run.

No real workshop scores can be published, so the default run uses three sample
partners' scoring sheets and a moderation sheet made here with a fixed seed. Each sheet
is the real template (``pipeline.analysis.morile.write_template``, with evidence from the
bundled police data) filled in with openpyxl, exactly as a partner would fill it.
Every output that shows these scores is labelled "sample".

The consensus values below are invented for illustration; each sample partner's score
is the consensus moved one step up or down with probability 0.25 per factor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from openpyxl import Workbook, load_workbook

from pipeline.analysis.morile import (
    FIRST_FACTOR_COLUMN,
    HEADER_ROW,
    MODERATION_HEADERS,
    SCORES_SHEET,
    load_model,
    threat_evidence,
    write_template,
)
from pipeline.analysis.trends import area_comparison
from pipeline.params import validate_params

SEED = 20210305  # the date of South Gloucestershire's 2021 priorities workshop
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "data/raw/morile"
FACTORS = [
    "physical",
    "psychological",
    "financial",
    "community",
    "environmental",
    "frequency",
    "trend",
    "capacity",
    "capability",
    "partnership_response",
    "public_expectation",
    "evidence_confidence",
]
CONSENSUS = {
    "Child exploitation": [4, 4, 1, 3, 0, 3, 3, 3, 3, 2, 3, 2],
    "Serious sexual offences": [4, 4, 1, 2, 0, 3, 2, 3, 3, 3, 3, 2],
    "Anti-social behaviour": [1, 3, 1, 4, 2, 5, 3, 2, 2, 2, 4, 3],
    "Domestic abuse": [4, 4, 2, 2, 0, 5, 3, 3, 2, 2, 3, 2],
    "Serious organised crime": [3, 3, 3, 3, 1, 3, 2, 3, 3, 2, 3, 1],
    "Serious violence": [4, 3, 1, 3, 0, 3, 2, 2, 2, 2, 4, 3],
    "Drug offences (other than cannabis)": [2, 2, 2, 3, 1, 3, 2, 2, 3, 2, 3, 3],
    "Hate crime": [2, 4, 0, 4, 0, 3, 4, 2, 2, 2, 3, 2],
    "Burglary": [1, 3, 3, 2, 0, 3, 1, 1, 1, 2, 3, 3],
    "Modern slavery": [4, 4, 3, 2, 0, 1, 3, 3, 3, 3, 2, 1],
    "Fraud and cyber crime": [0, 3, 4, 1, 0, 4, 3, 4, 3, 3, 2, 2],
    "Vehicle crime": [0, 1, 3, 1, 0, 4, 2, 1, 1, 1, 2, 3],
}
PARTNERS = [
    ("a", "Sample partner A", "Sample council (illustrative)"),
    ("b", "Sample partner B", "Sample police (illustrative)"),
    ("c", "Sample partner C", "Sample health (illustrative)"),
]
MODERATION = [
    (
        "Drug offences (other than cannabis)",
        "Likelihood: Direction of trend",
        "Rapidly increasing",
        "Sample reason: police intelligence reports growing county lines activity.",
    ),
    (
        "Anti-social behaviour",
        "Harm: Environmental",
        "Moderate",
        "Sample reason: fly-tipping and litter reports rose during lockdown.",
    ),
    (
        "Fraud and cyber crime",
        "Harm: Community",
        "Low",
        "Sample reason: partners agreed the community harm had been scored too low by one scorer.",
    ),
]


def main() -> None:
    settings = yaml.safe_load((ROOT / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))
    # The sheets this script writes are not there yet: validate the rest of the settings.
    settings["morile"]["scores"] = []
    settings["morile"].pop("moderation")
    params = validate_params(settings)
    model = load_model(params.morile.model)
    comparison, rates, monthly = area_comparison(params)
    evidence = threat_evidence(params.morile.threats, comparison, rates, monthly)
    rng = np.random.default_rng(SEED)
    factors = {f.id: f for f in model.factors}
    for key, scorer, organisation in PARTNERS:
        path = TARGET / f"sample-scores-partner-{key}.xlsx"
        title = f"MoRiLE scoring sheet: {params.area.name} (ILLUSTRATIVE SAMPLE)"
        write_template(model, params.morile.threats, evidence, path, title)
        workbook = load_workbook(path)
        sheet = workbook[SCORES_SHEET]
        sheet["B2"], sheet["B3"] = scorer, organisation
        for offset, threat in enumerate(params.morile.threats):
            row = HEADER_ROW + 1 + offset
            for k, factor_id in enumerate(FACTORS):
                levels = model.levels(factors[factor_id])
                values = [lv.value for lv in levels]
                index = values.index(CONSENSUS[threat.name][k])
                if rng.random() < 0.25:
                    index = int(np.clip(index + rng.choice([-1, 1]), 0, len(levels) - 1))
                sheet.cell(row=row, column=FIRST_FACTOR_COLUMN + k, value=levels[index].label)
            sheet.cell(row=row, column=FIRST_FACTOR_COLUMN + len(FACTORS), value="Sample rationale (illustrative).")
        workbook.save(path)
    moderation = Workbook()
    sheet = moderation.active
    sheet.title = "Moderation"
    sheet.append(MODERATION_HEADERS)
    for row in MODERATION:
        sheet.append(list(row))
    moderation.save(TARGET / "sample-moderation.xlsx")
    print(f"wrote {len(PARTNERS)} sample scoring sheets and a moderation sheet to {TARGET}")


if __name__ == "__main__":
    main()
