"""Write the synthetic sample resident survey used by the default run.

No real respondent-level survey data can be published, so the default run uses this
SYNTHETIC SAMPLE: invented respondents whose answers are drawn from the true
proportions below, with a fixed seed so the file is the same every time. Every output
that shows it is labelled "synthetic sample".

Design: three survey years (2018, 2019, 2020), about 1,000 respondents a year.
Priority neighbourhoods are over-sampled (30% of respondents, 12% of residents), and
weights correct for that and for an age-sex imbalance, so weights are unequal.

True proportion answering positively = base for the year + the offsets of the
respondent's groups (percentage points):

| indicator        | 2018 | 2019 | 2020 | priority nbhd | men  | 65 and over |
|------------------|------|------|------|---------------|------|-------------|
| safe_after_dark  | 69   | 70   | 73   | -12           | +8   | -5          |
| asb_problem      | 7    | 8    | 11   | +8            | 0    | -2          |
| police_dealing   | 33   | 43   | 41   | -4            | -7   | +4          |
| get_on_well      | 65   | 64   | 65   | 0             | 0    | 0           |
| respect_problem  | 8    | 8    | 9    | +8            | 0    | -3          |

About 5% answer "Don't know" and 2% leave a question blank. A few answers are written
with different case, extra spaces or a curly apostrophe, as real extracts are, to show
the cleaning at work.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20210119
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "data/raw/survey/sample-resident-survey-2018-2020.csv"
YEARS = (2018, 2019, 2020)
TRUTH = {
    # indicator: ({year: base %}, priority offset, men offset, 65+ offset)
    "safe_after_dark": ({2018: 69, 2019: 70, 2020: 73}, -12, 8, -5),
    "asb_problem": ({2018: 7, 2019: 8, 2020: 11}, 8, 0, -2),
    "police_dealing": ({2018: 33, 2019: 43, 2020: 41}, -4, -7, 4),
    "get_on_well": ({2018: 65, 2019: 64, 2020: 65}, 0, 0, 0),
    "respect_problem": ({2018: 8, 2019: 8, 2020: 9}, 8, 0, -3),
}
SCALES = {
    # indicator: (question column, positive answers, negative answers, other excluded answers)
    "safe_after_dark": ("q_safe_after_dark", ["Very safe", "Fairly safe"], ["Fairly unsafe", "Very unsafe"], []),
    "asb_problem": (
        "q_asb_problem",
        ["Very big problem", "Fairly big problem"],
        ["Not a very big problem", "Not a problem at all"],
        [],
    ),
    "police_dealing": (
        "q_police_dealing",
        ["Strongly agree", "Tend to agree"],
        ["Neither agree nor disagree", "Tend to disagree", "Strongly disagree"],
        [],
    ),
    "get_on_well": (
        "q_get_on_well",
        ["Definitely agree", "Tend to agree"],
        ["Tend to disagree", "Definitely disagree"],
        ["Too few people in local area", "All same backgrounds"],
    ),
    "respect_problem": (
        "q_respect_problem",
        ["Very big problem", "Fairly big problem"],
        ["Not a very big problem", "Not a problem at all"],
        [],
    ),
}
PRIORITY, REST = "Priority neighbourhood", "Rest of district"


def true_proportion(indicator: str, year: int, priority: bool, man: bool, older: bool) -> float:
    """The documented true proportion (0-1) for a respondent."""
    base, d_priority, d_men, d_older = TRUTH[indicator]
    return (base[year] + d_priority * priority + d_men * man + d_older * older) / 100


def _messy(answer: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.02:
        return answer.upper()
    if roll < 0.04:
        return f"  {answer} "
    return answer


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for year in YEARS:
        n = int(rng.integers(960, 1040))
        for i in range(n):
            priority = rng.random() < 0.30
            man = rng.random() < 0.44  # men under-respond: 44% of respondents, about 49% of residents
            older = rng.random() < 0.38  # over-65s over-respond: 38% of respondents, about 20% of residents
            design = (0.12 / 0.30) if priority else (0.88 / 0.70)
            age_sex = (0.49 / 0.44 if man else 0.51 / 0.56) * (0.20 / 0.38 if older else 0.80 / 0.62)
            weight = design * age_sex * float(rng.lognormal(0, 0.15))
            row = {
                "respondent_id": f"VP{year}-{i + 1:04d}",
                "year": year,
                "weight": f"{weight:.4f}",
                "neighbourhood": PRIORITY if priority else REST,
                "sex": "Male" if man else "Female",
                "age_group": "65 and over" if older else "16-64",
            }
            for indicator, (column, positive, negative, other) in SCALES.items():
                roll = rng.random()
                if roll < 0.02:
                    answer = ""
                elif roll < 0.07:
                    answer = "Don\u2019t know" if rng.random() < 0.3 else "Don't know"
                elif other and roll < 0.10:
                    answer = str(rng.choice(other))
                elif rng.random() < true_proportion(indicator, year, priority, man, older):
                    answer = _messy(str(rng.choice(positive)), rng)
                else:
                    answer = _messy(str(rng.choice(negative)), rng)
                row[column] = answer
            rows.append(row)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with open(TARGET, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} synthetic sample respondents to {TARGET}")


if __name__ == "__main__":
    main()
