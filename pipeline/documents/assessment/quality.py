"""Data quality, methods and sources."""

from __future__ import annotations

from typing import Any

from pipeline.analysis import benchmarks, forecasting, places, survey, threat_profiles, trend_models, trends
from pipeline.documents import quality_tables, threat_report
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.assessment.partners import Threats
from pipeline.documents.fragments import bullet_list, heading, paragraph
from pipeline.inputs import extract, offences
from pipeline.months import month_label


def data_quality(a: Assessment) -> Any:
    """What was read, what could not be used, and why."""
    return bullet_list(quality_tables.data_quality_facts(a.summary, a.coverage, a.p.area.name, a.p.all_areas))


def missing_months(a: Assessment) -> list[Any]:
    """Months missing or partial, for the area, or for any area in the window."""
    window, area = a.window, a.p.area.name
    gaps = quality_tables.coverage_table(a.coverage[(a.coverage["area"] == area) | a.coverage["month"].isin(window)])
    if len(gaps):
        return [a.tables.show(gaps, "missing-months", "Months missing or partial, and why")]
    return [paragraph("Every month in the period has usable data for every area.")]


def extract_quality(a: Assessment, found: Threats | None) -> list[Any]:
    """The force extract's quality and its reconciliation with police.uk (with an extract)."""
    if found is None:
        return []
    profiles, label = found.profiles, found.label
    shown = [
        heading(f"Force extract{label}", 3),
        bullet_list(
            extract.quality_facts(profiles.summary, a.p.area.name) + threat_report.reconciliation_sentences(profiles)
        ),
    ]
    recon = threat_report.reconciliation_table(profiles)
    if len(recon):
        shown.append(
            a.tables.show(recon, "extract-reconciliation", f"Force extract against police.uk by crime type{label}")
        )
        a.tables.show(
            threat_report.reconciliation_monthly_table(profiles),
            "extract-reconciliation-monthly",
            "Force extract against police.uk by crime type and month",
        )
    return shown


def methods(a: Assessment) -> Any:
    """Every method and source the report used."""
    p = a.p
    population = p.area.population_for(a.window)
    notes = [
        trends.METHOD_NOTE,
        trend_models.METHOD_NOTE,
        forecasting.METHOD_NOTE,
        benchmarks.METHOD_NOTE,
        f"Disclosure control: below whole-area level, counts from 1 to {p.suppression_threshold} are suppressed, "
        "with any "
        "figure that would reveal them.",
        *([survey.METHOD_NOTE] if p.survey else []),
        "Like-for-like comparison: a calendar month is compared only when it has usable data in both windows.",
        "Areas are defined by their LSOAs (2011 Lower Layer Super Output Areas), not by the police force.",
        f"Population of {p.area.name}: {population.value:,} ({population.source}, {population.year}); each window's "
        "rates use "
        "the estimate for that window's year, or the nearest year given.",
    ]
    if p.disruptions:
        notes.append(
            "Declared disruptions allowed for in the trend models: "
            + "; ".join(f"{d.name}, {month_label(d.first)} to {month_label(d.last)}" for d in p.disruptions)
            + "."
        )
    if a.hotspots.meta.get("population_source"):
        notes.append(f"LSOA populations for the hotspot, map and decile rates: {a.hotspots.meta['population_source']}.")
    if p.geography:
        notes += [
            places.METHOD_NOTE,
            f"Deprivation: {p.geography.deprivation.citation}, national deciles by LSOA.",
            f"Geography files: {trends.and_list([path.name for path in p.geography.files])}. {p.geography.attribution}",
        ]
    if p.force_extract:
        definitions = [
            t for t in threat_profiles.extract_threats(p.morile.threats if p.morile else None) if t.definition
        ]
        notes += [
            f"Force crime extract{' (synthetic sample)' if p.force_extract.sample else ''}: {p.force_extract.name}, "
            f"{p.force_extract.path.name}. Offence codes are classified with the Home Office offence code lookup in "
            "pipeline/data/offence_codes.csv (ONS offence groups and subgroups, police.uk crime types and ONS Crime "
            "Severity Score weights; Open Government Licence v3.0).",
            offences.SEVERITY_METHOD,
            "Time of day and day of week: "
            + threat_profiles.TIME_METHODS[p.force_extract.time_method]
            + f" Ranges longer than {p.force_extract.longest_range_hours} hours are not placed.",
            "Threat definitions: " + "; ".join(f"{t.name}: {t.definition.description.strip()}" for t in definitions),
        ]
    notes += [
        "Crime data: data.police.uk street-level crime. Contains public sector information licensed under the Open "
        "Government Licence v3.0.",
        "Every table in this report is also published as a CSV file in the tables folder beside it.",
    ]
    return bullet_list(notes)
