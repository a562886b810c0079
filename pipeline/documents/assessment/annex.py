"""The strategic assessment's two documents: the body members read (at most 20 A4 pages) and
the technical annex analysts read (models, control charts, back-tests, detailed hotspots,
survey detail, threat profiles, data quality, methods and monthly counts).

The annex is a document of its own (``technical-annex.html``, from the same notebook's cells
tagged ``annex``), not a section at the end of the body: a committee paper goes out at the
body's length, and the annex is circulated or linked beside it rather than printed with it.
This module holds the annex's section headings, the body's pointers to them, and the
glossary of the terms the body keeps."""

from __future__ import annotations

from html import escape as escape_html
from typing import Any

from pipeline.documents.assessment.context import Assessment
from pipeline.documents.fragments import heading, paragraph

BODY_FILE = "strategic-assessment.html"
ANNEX_FILE = "technical-annex.html"

# Each annex section: its heading and what it holds (the heading's words make its anchor).
ANNEX_SECTIONS = {
    "crime-tests": ("Crime by type: the tests behind the verdicts", ""),
    "trends": (
        "Trends and forecasts in detail",
        "For the main series: the trend, the latest months against the control limits, the forecast chart, and "
        "last year's forecasts against what was recorded since; the seasonal pattern; and every month outside "
        "the control limits.",
    ),
    "hotspots": (
        "Hotspots in detail",
        "The LSOAs with most crime of each type, the ASB and change maps, crime by how deprived each "
        "neighbourhood is, and the hotspots that persist from year to year.",
    ),
    "financial-years": (
        "Financial years",
        "Counts for each financial year (April to March) the data covers "
        "completely. A year with a missing or partial month is not shown, because its total would "
        "be too low to compare.",
    ),
    "benchmarks": (
        "Rates with their uncertainty and similar partnerships",
        "Each crime type's rate with its 95% interval beside the comparators, the funnel plot, and the "
        "partnerships most like this one.",
    ),
    "survey": (
        "Resident survey in detail",
        "Each indicator by year, with its chart and the groups of residents who differed from the rest of the area.",
    ),
    "partners": (
        "Partner agencies' indicators in detail",
        "Each indicator's definition and owning agency, the threats it evidences, and every period given.",
    ),
    "threats": (
        "Threats in detail",
        "Offence groups by share of crimes and of harm, the threats by calendar month, and a profile of each "
        "threat: when, where, who and with what outcome.",
    ),
    "data-quality": ("Data quality", "What was read, what could not be used, and why."),
    "methods": ("Methods and sources", ""),
    "monthly-counts": (
        "Monthly counts",
        "Every usable month, by crime type, for analysts who want to check or reuse the figures. Months with no "
        "usable data are left out, not shown as zero.",
    ),
}

# The commentary sections (pipeline.inputs.commentary.SECTIONS) published in the annex.
ANNEX_COMMENTARY = {"Financial years", "Data quality", "Methods and sources"}


def anchor(heading_text: str) -> str:
    """The id the published page gives a heading (as ``pipeline.documents.export._slug``
    makes it, for a heading that is the first of its words)."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", heading_text.lower()).strip("-") or "section"


def section_link(section: str) -> str:
    """The link to a commentary section's heading, in the body or in the annex."""
    return (ANNEX_FILE if section in ANNEX_COMMENTARY else "") + "#" + anchor(section)


def annex_title(a: Assessment) -> list[Any]:
    """The annex's title and what it is for."""
    from IPython.display import HTML

    return [
        heading(f"Technical annex: {a.p.title}", 1),
        HTML(
            "<p>The detail behind the strategic assessment "
            f'(<a href="{BODY_FILE}">{escape_html(BODY_FILE)}</a>), for analysts and for anyone checking a '
            "figure: the statistical tests, models and control charts, forecasts against what was recorded, "
            "detailed hotspot, survey and threat tables, data quality and methods. Every table is also a CSV file "
            "in tables/.</p>"
        ),
    ]


def annex_section(key: str) -> list[Any]:
    """An annex section's heading and what it holds."""
    title, about = ANNEX_SECTIONS[key]
    return [heading(title, 2)] + ([paragraph(about)] if about else [])


def see_annex(key: str, what: str) -> Any:
    """A body paragraph pointing to an annex section: "``what``: in the technical annex"."""
    from IPython.display import HTML

    title = ANNEX_SECTIONS[key][0]
    return HTML(
        f'<p class="see-annex">{escape_html(what)}: in the technical annex, '
        f'<a href="{ANNEX_FILE}#{anchor(title)}">{escape_html(title)}</a>.</p>'
    )


# The terms the body keeps, in plain words.
GLOSSARY = (
    (
        "Anti-social behaviour (ASB)",
        "Incidents reported to the police as nuisance, disorder or environmental "
        "anti-social behaviour. police.uk counts them apart from crimes; 'crime (excluding ASB)' leaves them out.",
    ),
    ("Assessment window", "The 12 months this assessment describes, named on the cover."),
    (
        "Like for like",
        "A comparison of the same calendar months in both years, leaving out any month without "
        "usable data in either year, so a missing month cannot look like a fall.",
    ),
    (
        "Significant change",
        "A change larger than normal month-to-month variation would explain, allowing for "
        "testing many crime types at once. 'No significant change' means the change could be chance, not that "
        "nothing changed.",
    ),
    (
        "Trend",
        "The longer-term direction once the usual seasonal pattern is allowed for, given only with at "
        "least three years of monthly data.",
    ),
    (
        "Forecast and likely range",
        "The expected count for the same months a year on. The likely range holds the "
        "actual count 95 times in 100 if future months vary as past ones did. A model is used only where it beat "
        "repeating last year's months on the months already recorded.",
    ),
    (
        "Rate per 1,000",
        "Count per 1,000 residents a year (ONS mid-year population), so areas of different size compare.",
    ),
    (
        "LSOA",
        "Lower layer super output area: a neighbourhood of about 1,500 residents, the smallest area "
        "police.uk data is given for.",
    ),
    ("Ward", "An electoral ward, made up of LSOAs."),
    (
        "Deprivation decile",
        "Which tenth of the nation's neighbourhoods an LSOA falls in on the Index of Multiple "
        "Deprivation; decile 1 is the most deprived 10%.",
    ),
    (
        "Suppressed (*)",
        "A count from 1 to the disclosure threshold, or a figure it could be worked out from, "
        "hidden to protect the people involved.",
    ),
    (
        "Confidence interval",
        "The range the true value is likely to lie in, given that a survey asks only some residents.",
    ),
    (
        "MoRiLE",
        "Management of Risk in Law Enforcement: partners score each threat's harm and likelihood; their "
        "product is the risk score, and its band ranks it.",
    ),
    ("Threat", "A kind of crime or harm the partnership scores and may make a priority, such as domestic abuse."),
    (
        "Crime Severity Score",
        "The Office for National Statistics' measure of harm: each crime weighted by the "
        "average sentence given for its offence, per resident.",
    ),
    (
        "Force extract",
        "The police force's own record of each crime, with its offence code, flags and times, "
        "which police.uk does not publish.",
    ),
)


def glossary() -> list[Any]:
    """The glossary of the terms the body keeps, as a definition list."""
    from IPython.display import HTML

    items = "".join(f"<dt>{escape_html(term)}</dt><dd>{escape_html(text)}</dd>" for term, text in GLOSSARY)
    return [heading("Glossary", 2), HTML(f'<dl class="blocks glossary">{items}</dl>')]
