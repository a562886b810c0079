"""The crime sections: title, key findings, crime by type, monthly trend, trends and forecasts,
financial years, comparisons with other areas, and the monthly counts appendix."""

from __future__ import annotations

from typing import Any

from pipeline.analysis import trend_models, trends
from pipeline.analysis.police import ALL_CRIME_EXCL_ASB
from pipeline.documents import charts, crime_tables, trend_tables
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.formats import slug, windows_caption
from pipeline.documents.fragments import bullet_list, heading, on_landscape_pages, paragraph
from pipeline.months import describe_months, month_label, plural
from pipeline.reference import ENGLAND_AND_WALES_NAME


def title(a: Assessment) -> list[Any]:
    """The document's title (the cover under it names the area and the window; the sources are
    in About this assessment and the annex's methods)."""
    return [heading(a.p.title, 1)]


# Sentences that report no change worth a member's attention, left to the sections below.
_NOT_A_FINDING = ("no trend given", "were within what the model expected")
MAX_FINDINGS = 5


def key_findings(a: Assessment) -> Any:
    """The changes that matter most (at most ``MAX_FINDINGS``, in the order the tables give
    them), generated from the comparison and trend tables; a sentence that finds nothing (no
    trend could be given; the latest months were as expected) is left to its section, and the
    note on the months compared follows the list."""
    from IPython.display import HTML

    latest = a.trend_tables["latest"]
    total_latest = latest.query("crime_type == @ALL_CRIME_EXCL_ASB") if len(latest) else latest
    found = trends.key_findings(a.p.area.name, a.comparison, a.area_rates, a.windows) + trend_models.trend_findings(
        a.trend_tables["summary"], total_latest, ALL_CRIME_EXCL_ASB
    )
    notes = [f for f in found if f.startswith("Like-for-like comparisons cover")]
    findings = [f for f in found if f not in notes and not any(words in f for words in _NOT_A_FINDING)]
    shown = bullet_list(findings[:MAX_FINDINGS]).data
    shown += "".join(paragraph(note, "note").data for note in notes)
    return HTML(shown)


def context_notes(a: Assessment) -> list[Any]:
    """The params' notes on the period, if any."""
    return [bullet_list(a.p.context_notes)] if a.p.context_notes else []


def crime_in_window(a: Assessment) -> list[Any]:
    """Crime by type in the window, with the like-for-like change and rates; short headers,
    the windows stated once in the caption (the CSV names them in every column)."""
    p, windows = a.p, a.windows
    months_counted = len(a.assessment_months)
    scaled = "" if months_counted == 12 else f", scaled up to a year from {months_counted} months"
    shown = [
        paragraph(
            "Each crime type's count over every usable month of the assessment window. "
            + (
                "The change compares the same calendar months in both years (like for like). It is called "
                "significant only when it is larger than normal month-to-month variation would explain, allowing "
                "for testing every crime type at once (the tests are in the technical annex). "
                if a.compared
                else "No change on the year before is shown: none of these months has usable data a year earlier, "
                "and a change needs the same calendar months in both years (at least 2 such months to test it). "
            )
            + f"Rates per 1,000 residents a year use the same months as the count{scaled}."
        )
    ]
    table, formats = crime_tables.comparison_table(a.comparison, a.rates.iloc[0], windows)
    population = p.area.population_for(a.window)
    headers = crime_tables.short_headers(table.columns, windows)
    # The page leaves out the change in crimes, the rate ratio and the p values (in the CSV, and in the annex).
    columns = [column for column in table.columns if column in headers or column == "Crime type"]
    shown.append(
        a.tables.show(
            table,
            "crime-by-type",
            f"Police recorded crime by type, {p.area.name}. {windows_caption(windows, a.compared)}",
            formats,
            note=f"Rates use the population estimate for {population.year} ({population.value:,}; "
            f"{population.source}). " + crime_tables.repeat_note(a.summary),
            display_columns=columns,
            headers=headers,
        )
    )
    return shown


def crime_tests(a: Assessment) -> list[Any]:
    """The annex's statistics behind the crime table's verdicts: rate ratios, unadjusted and
    Holm-adjusted p values (nothing when no month could be compared)."""
    if not a.compared:
        return []
    windows = a.windows
    table, formats = crime_tables.comparison_table(a.comparison, a.rates.iloc[0], windows)
    columns = [
        "Crime type",
        "Change (like for like)",
        "Rate ratio (95% CI)",
        "p (unadjusted)",
        "p (Holm-adjusted)",
        "Significance (Holm-adjusted; the total unadjusted)",
    ]
    return [
        paragraph(
            "The tests behind the verdicts in the crime table: the like-for-like months are paired (quasi-Poisson "
            "regression of the monthly counts on the year, with a term for each calendar month), the rate ratio is "
            "this year's count over the year before's, and p values are Holm-adjusted across the crime types so "
            "that testing 14 at once does not produce false alarms. The all-crime total is a single test, so it "
            "is not adjusted."
        ),
        a.tables.show(
            table[columns],
            "crime-by-type-tests",
            f"Like-for-like tests by crime type, {a.p.area.name}: {windows['after_text']} against "
            f"{windows['before_text']}",
            {k: v for k, v in formats.items() if k in columns},
        ),
    ]


def monthly_trend(a: Assessment) -> list[Any]:
    """The main crime types month by month."""
    main_types = list(a.comparison.query("crime_type != @ALL_CRIME_EXCL_ASB").nlargest(6, "window_count")["crime_type"])
    return [
        a.charts.show(
            charts.monthly_small_multiples,
            a.monthly,
            a.first_month,
            a.p.period_end,
            a.window,
            a.p.area.name,
            [ALL_CRIME_EXCL_ASB] + main_types[:5],
            caption=f"Monthly police recorded crime, {a.p.area.name}, {month_label(a.first_month)} to "
            f"{month_label(a.p.period_end)}.",
        )
    ]


def trends_summary(a: Assessment) -> Any:
    """Each crime type's trend and forecast (its count and change are in the crime table)."""
    table, formats = trend_tables.trend_summary_table(a.trend_tables["summary"], a.windows, a.forecast_text)
    forecast = next(c for c in table.columns if c.startswith("Forecast, "))
    headers = {
        "Trend (seasonal model)": "Trend",
        forecast: "Forecast",
        "Forecast 95% interval": "Likely range (95%)",
        "Forecast method": "How forecast",
    }
    return a.tables.show(
        table,
        "trends-summary",
        f"Crime types by volume: trend and forecast, {a.p.area.name}. Forecast: {a.forecast_text}",
        formats,
        note="The forecast covers the same calendar months as the assessment window, a year later, so the two "
        "compare directly. A trend is given only for a series of at least 36 usable months: with fewer, it cannot "
        "be told apart from the year-on-year change. A forecast is made by a model only where that model beat "
        "simply repeating last year's months when tested on the months already recorded (technical annex).",
        display_columns=["Crime type", *headers],
        headers=headers,
    )


def forecast_back_tests(a: Assessment) -> list[Any]:
    """Every published forecast against what was recorded since, when the data runs past the window."""
    totals, tested = a.trend_tables["backtest_totals"], a.trend_tables["backtest"]
    if not len(totals):
        return []
    months = sorted(set(tested["month"]))
    span = describe_months(months)
    inside = totals.dropna(subset=["low95"])
    held = int(((inside["actual"] >= inside["low95"]) & (inside["actual"] <= inside["high95"])).sum())
    return [
        heading("Last year's forecasts against what was recorded", 3),
        paragraph(
            "The data runs past the window, so each forecast published with the data up to "
            f"{month_label(a.p.period_end)} "
            f"can be checked against the {plural(len(months), 'month')} recorded since ({span}): "
            f"{held} of {len(inside)} forecast totals held within their 95% intervals."
        ),
        a.tables.show(
            trend_tables.back_tests_table(totals, span),
            "forecast-back-tests",
            f"Forecasts published with the data up to {month_label(a.p.period_end)} against what was recorded, "
            f"{a.p.area.name}",
        ),
    ]


def series_charts(a: Assessment) -> list[Any]:
    """Each charted series: its trend, latest months, forecast chart and back-test."""
    t, p, shown = a.trend_tables, a.p, []
    trend_summary = t["summary"].set_index("crime_type")
    limits = t["limits"].set_index("crime_type")
    backtest_totals = t["backtest_totals"].set_index("crime_type") if len(t["backtest_totals"]) else None
    shown += forecast_back_tests(a)
    for crime_type in t["forecasts"]["crime_type"].unique() if len(t["forecasts"]) else []:
        shown += [heading(crime_type, 3), paragraph(f"Trend: {trend_summary.loc[crime_type, 'trend']}.")]
        latest = trend_models.latest_months_sentence(t["latest"].query("crime_type == @crime_type"))
        if latest:
            shown.append(paragraph(latest))
        ahead = t["forecasts"].query("crime_type == @crime_type")
        # Only months the chart shows (from the trend charts' first month) can be circled.
        flagged = [m for m in t["exceptions"].query("crime_type == @crime_type")["month"] if m >= a.first_month]
        shown.append(
            a.charts.show(
                charts.trend_forecast,
                a.monthly[crime_type],
                a.first_month,
                ahead,
                limits.loc[crime_type],
                flagged,
                a.window,
                crime_type,
                p.area.name,
                caption=f"{crime_type}: recorded per month, control limits and 12-month forecast.",
            )
        )
        if backtest_totals is not None and crime_type in backtest_totals.index:
            tested = t["backtest"].query("crime_type == @crime_type")
            total = backtest_totals.loc[crime_type]
            shown.append(
                paragraph(trend_models.back_test_sentence(total, list(tested["month"]), crime_type, p.period_end))
            )
            shown.append(
                a.tables.show(
                    trend_tables.back_test_table(tested),
                    f"backtest-{slug(crime_type)}",
                    f"{crime_type}: forecast made at {month_label(p.period_end)} against what was recorded",
                )
            )
    return shown


def seasonal_pattern(a: Assessment) -> list[Any]:
    """The seasonal-trend decomposition of all crime, where the trend stage made one."""
    stl = a.trend_tables["stl"]
    stl = stl.query("crime_type == @ALL_CRIME_EXCL_ASB") if len(stl) else stl
    if not len(stl):
        return []
    return [
        heading("Seasonal pattern", 3),
        a.charts.show(
            charts.stl_panels,
            stl.reset_index(drop=True),
            ALL_CRIME_EXCL_ASB,
            a.p.area.name,
            caption="Seasonal-trend decomposition of all crime excluding ASB.",
        ),
    ]


def exceptional_months(a: Assessment) -> list[Any]:
    """Months outside the control limits."""
    shown = [
        heading("Exceptional months", 3),
        paragraph(
            "Months outside the XmR control limits (mean plus or minus 2.66 times the average month-to-month change) "
            "for any "
            "crime type: worth a look for a cause, such as an operation, a recording change or an event. Seasonal "
            "peaks can also appear here."
        ),
    ]
    exceptions = a.trend_tables["exceptions"]
    if len(exceptions):
        shown.append(
            a.tables.show(
                trend_tables.exceptions_table(exceptions),
                "trends-exceptions",
                f"Months outside control limits, {a.p.area.name}",
            )
        )
    else:
        shown.append(paragraph("No month fell outside the control limits."))
    return shown


def financial_years(a: Assessment) -> list[Any]:
    """Counts for each financial year the data covers completely."""
    fy_counts, incomplete = trends.financial_year_counts(a.monthly)
    shown = []
    if incomplete:
        shown.append(
            paragraph(
                "Not shown, because the data does not cover all 12 months: "
                + ", ".join(f"{year} ({plural(n, 'month')})" for year, n in incomplete.items())
                + "."
            )
        )
    if fy_counts.shape[1]:
        shown.append(
            a.tables.show(
                crime_tables.financial_year_table(fy_counts),
                "financial-years",
                f"Police recorded crime by financial year, {a.p.area.name}",
                note=crime_tables.repeat_note(a.summary),
            )
        )
    else:
        shown.append(paragraph("No complete financial year is available in the data."))
    return shown


def benchmarks(a: Assessment) -> list[Any]:
    """Rates by crime type with intervals, the funnel plot, similar partnerships and England and Wales."""
    from pipeline.analysis import benchmarks as bench

    p, shared, rates = a.p, a.shared_months, a.area_rates
    shown: list[Any] = []
    if len(rates) and len(shared):
        table = crime_tables.rates_with_intervals(rates, len(shared))
        shown.append(heading("Rates with their uncertainty", 3))
        shown.append(
            a.tables.show(
                table,
                "benchmark-rates",
                f"Rates per 1,000 residents a year with 95% intervals, {describe_months(shared)}",
                note="Intervals: exact Poisson (Garwood). Where two areas' intervals do not overlap, the difference is "
                "more "
                "than chance; where they overlap, it may still be.",
            )
        )
        if len(rates) > 1:
            shown.append(
                a.charts.show(
                    charts.funnel_plot,
                    rates,
                    f"{ALL_CRIME_EXCL_ASB} rate",
                    ALL_CRIME_EXCL_ASB,
                    len(shared),
                    p.area.name,
                    caption=f"Funnel plot: crimes excluding ASB per 1,000 residents a year against residents, "
                    f"{describe_months(shared)}. With counts this large the limits are narrow: areas differ for "
                    "reasons beyond chance (who lives there, what is there), so a point outside them is a question, "
                    "not a verdict.",
                )
            )
    partnership = p.area.partnership or (p.area.name if p.area.name in set(bench.csp_indicators()["csp"]) else None)
    if p.benchmarks.similar and partnership:
        similar = bench.similar_partnerships(partnership, p.benchmarks.similar)
        listed = {r["area"]: r for _, r in rates.iterrows()}
        shown.append(heading("Partnerships like this one", 3))
        shown.append(
            a.tables.show(
                crime_tables.similar_table(similar, listed, f"{ALL_CRIME_EXCL_ASB} rate"),
                "similar-partnerships",
                f"The {len(similar)} partnerships most like {partnership}",
                note="Similar: nearest on residents (log) and the share of LSOAs in the nation's two most deprived "
                "IMD 2019 deciles, both standardised over the nation's partnerships. A rate is given where the "
                "partnership is a comparator in this assessment's police data.",
            )
        )
    shown += _england_and_wales(a)
    return shown


def _england_and_wales(a: Assessment) -> list[Any]:
    from pipeline.analysis.benchmarks import missing_forces

    setting = a.p.benchmarks.england_and_wales
    if setting is None:
        return []
    if setting == "from police data":
        missing = missing_forces(a.summary.files)
        if missing:
            return [
                paragraph(
                    f"No England and Wales figure is given: the police files lack {len(missing)} territorial force(s) ("
                    + trends.and_list(missing)
                    + "), so a national rate from them would be too low.",
                    "note",
                )
            ]
        row = a.area_rates[a.area_rates["area"] == ENGLAND_AND_WALES_NAME]
        if not len(row):
            return []
        rate, own = row.iloc[0][f"{ALL_CRIME_EXCL_ASB} rate"], a.rates.iloc[0][f"{ALL_CRIME_EXCL_ASB} rate"]
        return [
            paragraph(
                f"England and Wales, from every territorial force's police.uk files: {rate:,.1f} crimes (excluding "
                f"ASB) per 1,000 residents a year in {describe_months(a.shared_months)}, against {own:,.1f} in "
                f"{a.p.area.name}. Rows police.uk could not place in an LSOA are in neither figure."
            )
        ]
    own = a.rates.iloc[0]
    return [
        paragraph(
            f"England and Wales: {setting.value:,.1f} crimes (excluding ASB) per 1,000 residents a year, "
            f"{setting.period} "
            f"({setting.source}), against {own[f'{ALL_CRIME_EXCL_ASB} rate']:,.1f} in {a.p.area.name} in "
            f"{a.windows['window_text']}. The periods differ unless they are the same year: compare with care."
        )
    ]


def compared_with_elsewhere(a: Assessment) -> list[Any]:
    """Rates per 1,000 residents beside the comparator areas, over the months every area has."""
    p, shared = a.p, a.shared_months
    shown = []
    if p.comparators and len(shared) < 12:
        left_out = [month_label(m) for m in a.window if m not in shared]
        shown.append(
            paragraph(
                f"Like for like: these rates use the {len(shared)} months of the window with data for every area, "
                "scaled to a "
                f"full year; left out: {', '.join(left_out)}. {p.area.name}'s rate elsewhere in this report uses all "
                "its own "
                "months, so it can differ.",
                "note",
            )
        )
    shown.append(
        a.tables.show(
            crime_tables.comparator_table(a.area_rates, p),
            "comparator-rates",
            f"Rates per 1,000 residents a year, {describe_months(shared)}",
        )
    )
    shown += [paragraph(caveat, "note") for caveat in crime_tables.population_caveats(p)]
    if len(a.area_rates) > 1 and len(shared):
        shown.append(
            a.charts.show(
                charts.comparator_bars,
                a.area_rates,
                f"{ALL_CRIME_EXCL_ASB} rate",
                "Crimes excluding ASB per 1,000 residents",
                p.area.name,
                caption=f"Crimes excluding ASB per 1,000 residents a year, {describe_months(shared)}.",
            )
        )
    return shown


def monthly_counts(a: Assessment, heading_items: list[Any] | None = None) -> Any:
    """Every usable month by crime type, for analysts; with ``heading_items`` (its section's
    heading and preface) printed on the same landscape pages as the table."""
    table = a.monthly.reset_index().rename(columns={"month": "Month"})
    shown = a.tables.show(
        table, "monthly-counts", f"Police recorded crime per month by type, {a.p.area.name} (usable months only)"
    )
    return on_landscape_pages([*heading_items, shown]) if heading_items else shown
