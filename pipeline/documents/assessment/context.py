"""The report's inputs, read once: ``load_assessment`` reads every stage's results into an ``Assessment``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.analysis import hotspots, partner_indicators, threat_profiles, trend_models, trends
from pipeline.analysis.police import ScanSummary, read_counts, usable_months
from pipeline.documents.chart_cache import ChartCache
from pipeline.documents.tables import ReportTables
from pipeline.inputs.commentary import Commentary, read_commentary
from pipeline.months import describe_months, shift_month
from pipeline.params import Params, validate_params


@dataclass
class Assessment:
    """What the report shows, read once from the stages' results (see ``load_assessment``)."""

    p: Params
    tables: ReportTables
    charts: ChartCache
    counts: pd.DataFrame
    coverage: pd.DataFrame
    summary: ScanSummary
    usable: dict[str, list[str]]
    monthly: pd.DataFrame
    trend_tables: dict[str, pd.DataFrame]
    before: list[str]
    after: list[str]
    windows: dict[str, Any]
    assessment_months: list[str]
    rates: pd.DataFrame
    shared_months: list[str]
    area_rates: pd.DataFrame
    hotspots: hotspots.HotspotTables  # the hotspots stage's tables
    forecast_text: str
    processed: Path
    commentary: Commentary | None  # the analyst's words (params ``commentary``), read once
    # The partners stage's (data, results), if the params have partner data.
    partners: tuple[pd.DataFrame, pd.DataFrame] | None = None
    # The extract stage's threat profiles, if the params have a force extract (read once: the
    # executive summary and the threats section both use them).
    threat_profiles: threat_profiles.ThreatProfiles | None = None

    @property
    def window(self) -> list[str]:
        return self.p.windows.assessment

    @property
    def first_month(self) -> str:
        return self.p.windows.history_start

    @property
    def comparison(self) -> pd.DataFrame:
        return self.trend_tables["comparison"]

    @property
    def compared(self) -> bool:
        return len(self.after) > 0


def load_assessment(params: dict[str, Any], run_dir: str, processed_dir: str) -> Assessment:
    """Everything the report reads, from the run's processed folder (``processed_dir``); its
    tables are written under ``run_dir``. The trend stage tested the window comparison
    (quasi-Poisson rate ratios, Holm-adjusted): read, not fitted again."""
    p = validate_params(params, source="the injected params")
    processed = Path(processed_dir)
    # Every area's crimes counted by month and crime type, for the rates compared; the places
    # only of the area's own rows (a force's half a million rows as text take some 0.1 s a column).
    counts, coverage, summary = read_counts(processed)
    usable = {a: usable_months(coverage, a) for a in coverage["area"].unique()}
    monthly = trends.monthly_counts(counts, p.area.name, usable[p.area.name])
    before, after = trends.like_for_like_months(p.period_end, list(monthly.index))
    assessment_months = [m for m in p.windows.assessment if m in set(usable[p.area.name])]
    # The area's own rate uses every usable month of the window; the comparison with other
    # areas uses only the months every area has, so it is like for like.
    shared_months = trends.common_months({a.name: usable.get(a.name, []) for a in p.all_areas}, p.period_end)
    return Assessment(
        p=p,
        tables=ReportTables(run_dir),
        charts=ChartCache(processed_dir),  # charts drawn by an earlier run from the same data are reused
        counts=counts,
        coverage=coverage,
        summary=summary,
        usable=usable,
        monthly=monthly,
        trend_tables=trend_models.read_processed(processed),
        before=before,
        after=after,
        windows=trends.comparison_windows_text(p.period_end, before, after, list(monthly.index)),
        assessment_months=assessment_months,
        rates=trends.window_rates(counts, [p.area], usable, p.period_end),
        shared_months=shared_months,
        area_rates=trends.window_rates(counts, p.all_areas, {a.name: shared_months for a in p.all_areas}, p.period_end),
        hotspots=hotspots.read_processed(processed),
        forecast_text=describe_months([shift_month(m, 12) for m in assessment_months]),
        processed=processed,
        commentary=read_commentary(p.commentary.path) if p.commentary is not None else None,
        partners=partner_indicators.read_processed(processed) if p.partners is not None else None,
        threat_profiles=threat_profiles.read_processed(processed) if p.force_extract is not None else None,
    )
