"""The analyst's commentary in the strategic assessment: their text above the generated
content of the sections its headings name, with references to published figures filled in
from this run, and the recommendations list in the executive summary."""

from __future__ import annotations

from html import escape as escape_html
from typing import Any

import pandas as pd

from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB
from pipeline.documents.assessment.annex import section_link
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.fragments import heading
from pipeline.inputs.commentary import fill_references


def commentary_figures(comparison: pd.DataFrame, rates: pd.DataFrame, windows: dict[str, str]) -> dict[str, str]:
    """The figures a commentary may refer to (``pipeline.inputs.commentary.FIGURES``), written
    as the report writes them. A figure this run could not compute (no like-for-like months,
    no population) is left out, so its reference says it is not available rather than 0."""
    figures = {"window": windows["window_text"]}
    by_type = comparison.set_index("crime_type") if len(comparison) else pd.DataFrame()
    for label, name in ((ALL_CRIME_EXCL_ASB, "crime"), (ASB, "asb")):
        if label not in by_type.index:
            continue
        row = by_type.loc[label]
        figures[f"{name}_count"] = f"{int(row['window_count']):,}"
        if int(windows["months_compared"]) and pd.notna(row.get("pct_change")):
            figures[f"{name}_change_percent"] = f"{row['pct_change']:+.1f}%"
    rate_column = f"{ALL_CRIME_EXCL_ASB} rate"
    if len(rates) and rate_column in rates and pd.notna(rates.iloc[0][rate_column]):
        figures["crime_rate_per_1000"] = f"{rates.iloc[0][rate_column]:.1f}"
    return figures


def _markdown_html(text: str) -> str:
    """The analyst's Markdown as HTML, with any raw HTML in it escaped (it is published)."""
    import mistune  # nbconvert's Markdown renderer, already installed

    return mistune.create_markdown(escape=True)(text)


def commentary(a: Assessment, section: str) -> list[Any]:
    """The analyst's text for ``section`` (empty without a commentary or text for it), marked
    as the analyst's and, for the bundled example, as a sample."""
    from IPython.display import HTML

    found = a.commentary
    if found is None or section not in found.sections:
        return []
    text = fill_references(found.sections[section], commentary_figures(a.comparison, a.area_rates, a.windows))
    label = "Analyst's commentary" + (" (sample text)" if a.p.commentary.sample else "")
    landmark = escape_html(f"{label}: {section}")  # unique per section, as landmarks must be
    return [
        HTML(
            f'<aside class="commentary" aria-label="{landmark}"><p><strong>{escape_html(label)}</strong></p>'
            f"{_markdown_html(text)}</aside>"
        )
    ]


def recommendations(a: Assessment) -> list[Any]:
    """The recommendations, each with its owner and a link to the section holding its evidence."""
    from IPython.display import HTML

    found = a.commentary
    if found is None or not found.recommendations:
        return []
    sample = " (sample text)" if a.p.commentary.sample else ""
    rows = "".join(
        f"<li>{escape_html(r.text)} <strong>Owner:</strong> {escape_html(r.owner)}. "
        f'<strong>Evidence:</strong> <a href="{section_link(r.section)}">{escape_html(r.section)}</a>.</li>'
        for r in found.recommendations
    )
    return [heading(f"Recommendations{sample}", 3), HTML(f"<ol>{rows}</ol>")]
