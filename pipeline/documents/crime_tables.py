"""The crime sections of the strategic assessment: crime by type with the like-for-like change, financial
years, comparisons with other areas and the population caveats.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pandas as pd

from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB, ScanSummary
from pipeline.documents.formats import count, order_types, p_value, percent_change, rate_header
from pipeline.months import month_label
from pipeline.params import Params


def comparison_table(
    comparison: pd.DataFrame, rates: pd.Series, windows: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """The main crime table: the full-window count, the like-for-like pair, change, significance, rate.

    Every count column names the months it covers. ``rates`` is the assessed area's row
    of ``trends.window_rates``. When no month can be compared like for like, the
    comparison columns are left out (the report says why) rather than shown as 0.
    """
    frame = order_types(comparison, "crime_type")
    window_column = f"Count, {windows['window_text']}"
    columns: dict[str, Any] = {"Crime type": frame["crime_type"], window_column: frame["window_count"]}
    formats: dict[str, Callable[[Any], str]] = {window_column: count}
    if int(windows["months_compared"]):
        before, after = f"Like for like: {windows['before_text']}", f"Like for like: {windows['after_text']}"

        def interval(row: pd.Series) -> str:
            if math.isnan(row["rate_ratio"]):
                return "not tested"
            return f"{row['rate_ratio']:.2f} ({row['ci_low']:.2f} to {row['ci_high']:.2f})"

        columns.update(
            {
                before: frame["comparison_count"],
                after: frame["assessment_count"],
                "Change (like for like)": frame["change"],
                "% change (like for like)": frame["pct_change"].round(1),
                "Rate ratio (95% CI)": frame.apply(interval, axis=1),
                "p (unadjusted)": frame["p_value"].round(4),
                "p (Holm-adjusted)": frame["p_holm"].round(4),
                "Significance (Holm-adjusted; the total unadjusted)": frame["verdict"],
            }
        )
        formats.update(
            {
                before: count,
                after: count,
                "Change (like for like)": lambda v: f"{int(v):+,}",
                "% change (like for like)": percent_change,
                "p (unadjusted)": p_value,
                "p (Holm-adjusted)": p_value,
            }
        )
    months = int(rates.get("months_present", 0))
    rate_column = rate_header("Rate", windows["window_text"], months)
    columns[rate_column] = [round(rates.get(f"{t} rate", math.nan), 2) for t in frame["crime_type"]]
    formats[rate_column] = lambda v: f"{v:.2f}"
    return pd.DataFrame(columns).reset_index(drop=True), formats


def short_headers(columns: Any, windows: dict[str, str]) -> dict[str, str]:
    """Short page headers for ``comparison_table``'s count, change, verdict and rate columns
    (the caption states the windows they leave out; the CSV keeps the full headers)."""
    short = {
        f"Count, {windows['window_text']}": "Count",
        f"Like for like: {windows['before_text']}": "Year before",
        f"Like for like: {windows['after_text']}": "This year",
        "% change (like for like)": "Change",
        "Significance (Holm-adjusted; the total unadjusted)": "Verdict",
    }
    short.update({c: "Rate per 1,000 a year" for c in columns if str(c).startswith("Rate per 1,000")})
    return {c: short[c] for c in columns if c in short}


def repeat_note(summary: ScanSummary) -> str:
    """What the repeated Crime IDs look like and the rule applied, for the notes under count tables."""
    profile = summary.repeat_profile or {}
    if not profile.get("ids"):
        return "No Crime ID is repeated within an area in this data."
    return (
        f"{profile['extra_rows']:,} rows repeat a Crime ID already counted in the same area ({profile['ids']:,} IDs) "
        "and are counted once, because a Crime ID stands for one crime reference. Of those IDs, "
        f"{profile.get('several_lsoas', 0):,} "
        f"appear in more than one LSOA, {profile.get('several_outcomes', 0):,} with different outcomes, "
        f"{profile.get('several_months', 0):,} in more than one month and {profile.get('identical', 0):,} as "
        "identical rows; "
        "the first row is the one counted."
    )


def financial_year_table(fy_counts: pd.DataFrame) -> pd.DataFrame:
    """Counts per complete financial year, one row per crime type; each header names its months."""
    from pipeline.months import financial_year_months

    frame = fy_counts.reset_index().rename(columns={"crime_type": "Crime type"})
    frame.columns = [
        c
        if c == "Crime type"
        else f"{c} ({month_label(financial_year_months(c)[0])} to {month_label(financial_year_months(c)[-1])})"
        for c in frame.columns
    ]
    return order_types(frame, "Crime type").reset_index(drop=True)


def comparator_table(rates: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Rates per 1,000 for the assessed area and its comparators over the same months, with each population's source."""
    from pipeline.months import describe_months

    areas = {a.name: a for a in params.all_areas}
    months = list(rates.iloc[0]["months"]) if len(rates) else []
    text, n = describe_months(months), len(months)
    crime_column = rate_header("Crimes excluding ASB", text, n)
    asb_column = rate_header("ASB incidents", text, n)
    rows = []
    for _, r in rates.iterrows():
        # The figure the rate was worked out with (window_rates records its year).
        population = areas[r["area"]].population_for(params.windows.assessment)  # as window_rates chose it
        source = f"{population.source} ({population.year})"
        if population.illustrative:
            source += " - illustrative, not checked against the source"
        rows.append(
            {
                "Area": r["area"],
                crime_column: round(r.get(f"{ALL_CRIME_EXCL_ASB} rate", math.nan), 1),
                asb_column: round(r.get(f"{ASB} rate", math.nan), 1),
                "Months of data": int(r["months_present"]),
                "Population": int(population.value),
                "Population year": int(population.year),
                "Population source": source,
            }
        )
    return pd.DataFrame(rows)


def population_caveats(params: Params) -> list[str]:
    """Warnings about the population figures behind the rates, for the report."""
    from pipeline.months import assessment_window
    from pipeline.params import mid_window_year

    window = assessment_window(params.period_end)
    used = {a.name: a.population_for(window) for a in params.all_areas}
    notes = []
    years = sorted({p.year for p in used.values()})
    if len(years) > 1:
        notes.append(
            "The population estimates are for different years ("
            + ", ".join(f"{name} {p.year}" for name, p in used.items())
            + "), so the rates are not strictly like for like; a small difference between areas should not be read "
            "as real."
        )
    target = mid_window_year(window)
    off_year = [f"{name} ({p.year})" for name, p in used.items() if p.year != target]
    if off_year:
        notes.append(
            f"The window's year is {target}, but the nearest population estimate given is for another year for: "
            + ", ".join(off_year)
            + (
                ". Add the estimate for " + str(target) + " to the params file's population list."
                if any(a.population for a in params.all_areas)
                else ": the bundled ONS estimates go no nearer."
            )
        )
    illustrative = [name for name, p in used.items() if p.illustrative]
    if illustrative:
        notes.append(
            "Population figures for " + ", ".join(illustrative) + " are marked illustrative in the params file: "
            "they were not checked against their source, so those rates are indicative only."
        )
    return notes


def rates_with_intervals(rates: pd.DataFrame, months: int) -> pd.DataFrame:
    """Each area's count and rate per 1,000 residents a year by crime type (all crime and ASB
    first), with its exact 95% Poisson interval: one row per crime type and area."""
    from pipeline.analysis.benchmarks import rate_interval

    types = [c[: -len(" rate")] for c in rates.columns if str(c).endswith(" rate")]
    types = [t for t in (ALL_CRIME_EXCL_ASB, ASB) if t in types] + sorted(
        t for t in types if t not in (ALL_CRIME_EXCL_ASB, ASB)
    )
    rows = []
    for crime_type in types:
        for _, r in rates.iterrows():
            count = int(r[crime_type])
            low, high = rate_interval(count, float(r["population"]), months)
            rows.append(
                {
                    "Crime type": crime_type,
                    "Area": r["area"],
                    "Count": count,
                    "Rate per 1,000 a year": round(float(r[f"{crime_type} rate"]), 1),
                    "95% interval": f"{low:,.1f} to {high:,.1f}",
                }
            )
    return pd.DataFrame(rows)


def similar_table(similar: pd.DataFrame, listed: dict[str, Any], rate_column: str) -> pd.DataFrame:
    """Similar partnerships with why they are similar and, where in the police data, their rate."""
    return pd.DataFrame(
        {
            "Partnership": similar["csp"],
            "Residents (mid-2019)": similar["population_2019"],
            "LSOAs in the nation's most deprived 20% (%)": (100 * similar["deprived_share"]).round(1),
            "Distance (standardised)": similar["distance"].round(2),
            "Crimes excl. ASB per 1,000 a year": [
                round(float(listed[name][rate_column]), 1) if name in listed else "not in this assessment's police data"
                for name in similar["csp"]
            ],
        }
    )
