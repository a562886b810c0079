"""The analyst's commentary: a Markdown file kept beside the params, whose text the strategic
assessment shows in the sections its headings name, above the generated content, so the
analyst's interpretation survives every rerun.

Format::

    ## Crime in the assessment window
    Free text. A published figure is written as a reference, {{asb_count}}, so a rerun with
    new data updates it.

    ## Recommendations
    - Fund a second ASB caseworker. Owner: ASB Partnership Group. Evidence: Hotspots

A heading must name a section of the assessment (``SECTIONS``) or be ``Recommendations``;
each recommendation names its owner and the section whose evidence it rests on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputDataError, list_problems

# The assessment's sections that carry commentary, as their headings read.
SECTIONS = (
    "Executive summary",
    "About this assessment",
    "Crime in the assessment window",
    "Monthly trend",
    "Trends and forecasts",
    "Hotspots",
    "Financial years",
    "Compared with elsewhere",
    "Partner agencies' data",
    "Data quality",
    "Methods and sources",
)
RECOMMENDATIONS = "Recommendations"

# The published figures a commentary can refer to, with what each is (all from the assessment window).
FIGURES = {
    "window": "the assessment window, e.g. Jan 2020 to Dec 2020",
    "crime_count": "crimes (excluding ASB) recorded in the window",
    "asb_count": "ASB incidents recorded in the window",
    "crime_change_percent": "like-for-like change in crime (excluding ASB) on the year before, e.g. -3.6%",
    "asb_change_percent": "like-for-like change in ASB incidents on the year before",
    "crime_rate_per_1000": "crimes (excluding ASB) per 1,000 residents a year",
}
REFERENCE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_RECOMMENDATION = re.compile(
    r"^\s*[-*]\s+(?P<text>.+?)\s+Owner:\s*(?P<owner>.+?)\.?\s+Evidence:\s*(?P<section>.+?)\.?\s*$"
)


@dataclass(frozen=True)
class Recommendation:
    """One recommendation: what to do, who owns it, and the section holding its evidence."""

    text: str
    owner: str
    section: str


@dataclass(frozen=True)
class Commentary:
    """The analyst's text by section heading, and the recommendations."""

    sections: dict[str, str] = field(default_factory=dict)
    recommendations: list[Recommendation] = field(default_factory=list)


def read_commentary(path: Path) -> Commentary:
    """Read and check a commentary file; every problem (a heading that names no section, a
    reference to no figure, a recommendation without owner or evidence) is reported at once,
    with its line number."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(f"Could not read the commentary file {path}: {exc}") from exc
    problems: list[str] = []
    texts: dict[str, list[str]] = {}
    recommendations: list[Recommendation] = []
    current: str | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("## "):
            heading = line[3:].strip()
            if heading != RECOMMENDATIONS and heading not in SECTIONS:
                problems.append(
                    f"line {number}: heading {heading!r} names no section of the assessment; "
                    f"expected one of: {', '.join(SECTIONS)}, or {RECOMMENDATIONS}"
                )
                current = ""  # its text is skipped: the heading's problem is already reported
                continue
            current = heading
            texts.setdefault(heading, [])
            continue
        for name in REFERENCE.findall(line):
            if name not in FIGURES:
                problems.append(
                    f"line {number}: {{{{{name}}}}} refers to no published figure; "
                    f"expected one of: {', '.join(FIGURES)}"
                )
        if current == RECOMMENDATIONS:
            if not line.strip():
                continue
            found = _RECOMMENDATION.match(line)
            if not found:
                problems.append(
                    f"line {number}: {line.strip()!r} is not a recommendation; expected "
                    "'- What to do. Owner: who. Evidence: section heading'"
                )
            elif found["section"] not in SECTIONS:
                problems.append(
                    f"line {number}: evidence section {found['section']!r} is not a section of the assessment; "
                    f"expected one of: {', '.join(SECTIONS)}"
                )
            else:
                recommendations.append(Recommendation(found["text"], found["owner"], found["section"]))
        elif current:
            texts[current].append(line)
        elif current == "":
            continue
        elif line.strip():
            problems.append(f"line {number}: text before the first '## Section' heading belongs to no section")
    if problems:
        raise InputDataError(list_problems(f"Problems in the commentary file {path}:", problems))
    sections = {name: "\n".join(body).strip() for name, body in texts.items() if name != RECOMMENDATIONS}
    return Commentary({k: v for k, v in sections.items() if v}, recommendations)


def fill_references(text: str, figures: dict[str, str]) -> str:
    """The text with each {{figure}} replaced by its published value; a figure this run could
    not compute is written as "(not available this run: <name>)", never as 0."""
    return REFERENCE.sub(lambda m: figures.get(m[1], f"(not available this run: {m[1]})"), text)
