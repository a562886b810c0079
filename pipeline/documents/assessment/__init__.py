"""The strategic assessment, section by section, from what the stages wrote.

``load_assessment`` reads every stage's results once into an ``Assessment`` (the windows,
the counts, the trend tables, the places, the survey, the MoRiLE ranking and the threat
profiles); each section function takes it and returns what the section shows, in order
(headings, paragraphs, tables, charts), for the report notebook to display. The notebook's
markdown cells hold the fixed text; the sentences here are those built from the numbers."""

from pipeline.documents.assessment.annex import annex_section, annex_title, glossary, see_annex
from pipeline.documents.assessment.commentary import commentary, recommendations
from pipeline.documents.assessment.context import Assessment, load_assessment
from pipeline.documents.assessment.crime import (
    benchmarks,
    compared_with_elsewhere,
    context_notes,
    crime_in_window,
    crime_tests,
    exceptional_months,
    financial_years,
    key_findings,
    monthly_counts,
    monthly_trend,
    seasonal_pattern,
    series_charts,
    title,
    trends_summary,
)
from pipeline.documents.assessment.evidence import priority_evidence
from pipeline.documents.assessment.partner_data import partner_indicator_series, partner_indicators
from pipeline.documents.assessment.partners import (
    Threats,
    executive_summary,
    prioritisation,
    summary_caveats,
    survey_indicators,
    survey_section,
    threat_harm_and_months,
    threat_profiles_section,
    threats_overview,
)
from pipeline.documents.assessment.places import (
    Places,
    deprivation_section,
    hotspots_by_type,
    lsoa_hotspots,
    maps_section,
    persistent_hotspots,
    repeat_locations,
    wards_section,
)
from pipeline.documents.assessment.quality import data_quality, extract_quality, methods, missing_months

__all__ = [
    "priority_evidence",
    "partner_indicators",
    "partner_indicator_series",
    "annex_section",
    "annex_title",
    "glossary",
    "see_annex",
    "crime_tests",
    "threat_harm_and_months",
    "benchmarks",
    "Assessment",
    "load_assessment",
    "commentary",
    "recommendations",
    "executive_summary",
    "summary_caveats",
    "title",
    "key_findings",
    "context_notes",
    "crime_in_window",
    "monthly_trend",
    "trends_summary",
    "series_charts",
    "seasonal_pattern",
    "exceptional_months",
    "financial_years",
    "compared_with_elsewhere",
    "monthly_counts",
    "lsoa_hotspots",
    "hotspots_by_type",
    "repeat_locations",
    "Places",
    "maps_section",
    "wards_section",
    "deprivation_section",
    "persistent_hotspots",
    "survey_section",
    "survey_indicators",
    "prioritisation",
    "Threats",
    "threats_overview",
    "threat_profiles_section",
    "data_quality",
    "missing_months",
    "extract_quality",
    "methods",
]
