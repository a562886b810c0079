"""The partner agencies' indicators in the strategic assessment: a table by theme in the body,
every period of every indicator in the technical annex."""

from __future__ import annotations

from typing import Any

from pipeline.documents import charts as charts_module
from pipeline.documents import partner_tables
from pipeline.documents.assessment.annex import annex_section, see_annex
from pipeline.documents.assessment.commentary import commentary
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.fragments import heading, paragraph
from pipeline.inputs.partner_data import load_catalogue

SECTION = "Partner agencies' data"


def _label(a: Assessment) -> str:
    return " (synthetic sample)" if a.p.partners is not None and a.p.partners.sample else ""


def partner_indicators(a: Assessment) -> list[Any]:
    """The body's section: what partners supplied, how each kind of figure is tested, and the
    table of indicators by theme (nothing without partner data)."""
    if a.partners is None:
        return []
    _, results = a.partners
    label = _label(a)
    shown = [heading(f"{SECTION}{label}", 2), *commentary(a, SECTION)]
    if a.p.partners.sample:
        shown.append(
            paragraph(
                "Synthetic sample: these figures are invented test data made by scripts/make_sample_partners.py, "
                "not any agency's real figures (those that overlap police.uk data are drawn from it). Replace them "
                "with your partners' returns.",
                "sample",
            )
        )
    agencies = sorted(set(results["agency"]))
    shown.append(
        paragraph(
            f"{len(results)} indicators from {len(agencies)} partner agencies, each against the same period a year "
            "before. Counts are tested as crime is (allowing for each series' own variation); shares have 95% "
            "intervals and their change is tested as a difference of two proportions. Changes, and trends, are "
            "each allowed for testing every indicator at once. A trend needs at least three years of periods, as for "
            f"crime. Counts from 1 to {a.p.suppression_threshold} (or an indicator's own threshold) are shown as *."
        )
    )
    table = partner_tables.summary_table(results)
    shown.append(
        a.tables.show(
            table,
            "partner-indicators",
            f"Partner agencies' indicators by theme{label}: latest period against the same period a year before",
            note="Change for a share: percentage points with its 95% interval (Newcombe). Trend: the change a year "
            "from a quasi-Poisson (counts) or quasi-binomial (shares) regression with a term for each month or "
            "quarter of the year. Verdicts are Holm-adjusted across the indicators.",
        )
    )
    shown.append(see_annex("partners", "Every period of every indicator, and each indicator's definition"))
    return shown


def partner_indicator_series(a: Assessment) -> list[Any]:
    """The annex's section: each indicator's definition with its chart (suppressed periods
    left as gaps), then every period given as a table (nothing without partner data)."""
    if a.partners is None:
        return []
    from pipeline.documents.fragments import detail_blocks

    data, results = a.partners
    catalogue = load_catalogue(a.p.partners.catalogue)
    definitions = results[["label", "agency", "unit", "threats"]].rename(
        columns={"label": "Indicator", "agency": "Agency", "unit": "Unit", "threats": "Evidences"}
    )
    definitions["Definition"] = [i.definition for i in catalogue.indicators]
    shown = list(annex_section("partners"))
    for row, spec in enumerate(catalogue.indicators):
        shown.append(
            detail_blocks(definitions.iloc[[row]], "Indicator", ["Agency", "Unit", "Definition", "Evidences"], level=3)
        )
        periods, values, hidden = partner_tables.chart_series(data, spec, a.p.suppression_threshold, a.p.period_end)
        if periods:
            shown.append(
                a.charts.show(
                    charts_module.partner_series,
                    periods,
                    values,
                    spec.label,
                    spec.unit,
                    hidden,
                    a.p.partners.sample,
                    caption=f"{spec.label} ({spec.agency}), {periods[0]} to {periods[-1]}{_label(a)}.",
                )
            )
    shown.append(
        a.tables.show(
            partner_tables.series_table(data, catalogue, a.p.suppression_threshold, a.p.period_end),
            "partner-indicator-series",
            f"Partner agencies' indicators, every period given{_label(a)}",
            note="* = a count from 1 to the indicator's disclosure threshold, suppressed to protect the people "
            "involved, or a share from which one could be worked out.",
        )
    )
    return shown
