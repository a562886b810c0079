"""Tables and sentences for the strategic assessment, built from the stages' results.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pandas as pd

from pipeline.months import month_label
from pipeline.params import Params
from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB, ScanSummary


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    return f"{int(value):,}"


def percent_change(value: Any) -> str:
    """A signed percentage to one decimal place, or n/a."""
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.1f}%"


def one_decimal(value: Any) -> str:
    """A number to one decimal place."""
    return f"{value:,.1f}"


def _order_types(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Crime types alphabetically, with ASB and the all-crime total last."""
    rank = frame[column].map({ASB: 1, ALL_CRIME_EXCL_ASB: 2}).fillna(0)
    return frame.assign(_rank=rank).sort_values(["_rank", column]).drop(columns="_rank")


def p_value(value: Any) -> str:
    """A p-value as printed: '<0.001' or three decimals; blank text when no test was made."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not tested"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def rate_header(what: str, windows_text: str, months: int) -> str:
    """A rate column's header naming the months behind it and whether they were scaled up."""
    scaled = "" if months == 12 else f", scaled up to 12 months from {months}"
    return f"{what} per 1,000 residents a year, {windows_text}{scaled}"


def comparison_table(
    comparison: pd.DataFrame, rates: pd.Series, windows: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """The main crime table: the full-window count, the like-for-like pair, change, significance, rate.

    Every count column names the months it covers. ``rates`` is the assessed area's row
    of ``trends.window_rates``. When no month can be compared like for like, the
    comparison columns are left out (the report says why) rather than shown as 0.
    """
    frame = _order_types(comparison, "crime_type")
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


def repeat_note(summary: ScanSummary) -> str:
    """What the repeated Crime IDs look like and the rule applied, for the notes under count tables."""
    profile = summary.repeat_profile or {}
    if not profile.get("ids"):
        return "No Crime ID is repeated within an area in this data."
    return (
        f"{profile['extra_rows']:,} rows repeat a Crime ID already counted in the same area ({profile['ids']:,} IDs) and are "
        f"counted once, because a Crime ID stands for one crime reference. Of those IDs, {profile.get('several_lsoas', 0):,} "
        f"appear in more than one LSOA, {profile.get('several_outcomes', 0):,} with different outcomes, "
        f"{profile.get('several_months', 0):,} in more than one month and {profile.get('identical', 0):,} as identical rows; "
        "the first row is the one counted."
    )


def financial_year_table(fy_counts: pd.DataFrame) -> pd.DataFrame:
    """Counts per complete financial year, one row per crime type; each header names its months."""
    from pipeline.months import financial_year_months

    frame = fy_counts.reset_index().rename(columns={"crime_type": "Crime type"})
    frame.columns = [
        c if c == "Crime type" else f"{c} ({month_label(financial_year_months(c)[0])} to {month_label(financial_year_months(c)[-1])})"
        for c in frame.columns
    ]
    return _order_types(frame, "Crime type").reset_index(drop=True)


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
        population = next(p for p in areas[r["area"]].populations if p.year == r["population_year"])
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
            + "), so the rates are not strictly like for like; a small difference between areas should not be read as real."
        )
    target = mid_window_year(window)
    off_year = [f"{name} ({p.year})" for name, p in used.items() if p.year != target]
    if off_year:
        notes.append(
            f"The window's year is {target}, but the nearest population estimate given is for another year for: "
            + ", ".join(off_year) + ". Add the estimate for " + str(target) + " to the params file's population list."
        )
    illustrative = [name for name, p in used.items() if p.illustrative]
    if illustrative:
        notes.append(
            "Population figures for " + ", ".join(illustrative) + " are marked illustrative in the params file: "
            "they were not checked against their source, so those rates are indicative only."
        )
    return notes


def coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """The months that are missing or partial, with the reason, for each area."""
    gaps = coverage[coverage["status"] != "present"]
    return pd.DataFrame(
        {
            "Area": gaps["area"],
            "Month": gaps["month"].map(month_label),
            "Status": gaps["status"],
            "Rows": gaps["rows"],
            "Why": gaps["note"],
        }
    ).reset_index(drop=True)


def data_quality_facts(summary: ScanSummary, coverage: pd.DataFrame, area: str, areas: list[Any] | None = None) -> list[str]:
    """Sentences on what was read and what could not be used.

    ``areas`` are the run's area definitions. When they are all named by local authority
    and the data holds located rows for no other authority, the inputs are not the
    force's whole files, and the no-location share is said to be of the rows read only;
    with another authority present it is force-wide; otherwise (areas by lookup) it is
    said to be of the rows read, no more.
    """
    own = coverage[coverage["area"] == area]
    present = own[own["status"] == "present"]
    facts = [
        f"{summary.force_rows:,} rows were read from {len(summary.files)} police.uk file(s), "
        f"covering {len(summary.months_in_input)} months "
        f"({month_label(summary.months_in_input[0])} to {month_label(summary.months_in_input[-1])})."
        if summary.months_in_input
        else "No months were found in the inputs.",
        f"{area} has usable data for {len(present)} of the {len(own)} months from "
        f"{month_label(own['month'].iloc[0])} to {month_label(own['month'].iloc[-1])}.",
    ]
    share = f"{100 * summary.unlocated_share:.1f}%"
    named = [n for a in areas or [] for n in a.lsoa_name_prefixes]
    by_authority = bool(areas) and all(a.lsoa_name_prefixes for a in areas)
    if by_authority and not set(summary.authority_rows) - set(named):
        whose = (
            f"{share} of the rows read; the inputs hold located rows only for this assessment's areas, so this is not the "
            "force-wide share, which needs the force's whole files"
        )
    elif by_authority:
        whose = f"{share} of the rows read, force-wide"
    else:
        whose = f"{share} of the rows read"
    facts.append(
        f"{summary.unlocated_rows:,} rows ({whose}) have no location "
        "and cannot be attributed to any area; they are left out of every count, so counts for the area "
        "are slightly lower than the crimes its residents reported."
    )
    if summary.unlocated_repeat_rows:
        facts.append(
            f"{summary.unlocated_repeat_rows:,} further rows with no location repeat the Crime ID of a located "
            "row in the same file and were not counted twice."
        )
    if summary.lsoa_codes_recovered or summary.lsoa_name_without_code:
        facts.append(
            f"{summary.lsoa_codes_recovered + summary.lsoa_name_without_code:,} rows named an LSOA but had no LSOA code: "
            f"{summary.lsoa_codes_recovered:,} were given the code other rows of the same file pair with that name; "
            f"{summary.lsoa_name_without_code:,} could not be and are counted as having no location."
        )
    if summary.lsoa_names_recovered:
        facts.append(
            f"{summary.lsoa_names_recovered:,} rows had an LSOA code but no LSOA name and were given the name other rows "
            "of the same file pair with that code."
        )
    if summary.bad_coordinates:
        facts.append(
            f"{summary.bad_coordinates:,} rows had a longitude or latitude that is not a number or lies outside the UK; "
            "their map points are left blank (their LSOA counts are unaffected)."
        )
    facts.append(
        repeat_note(summary)
        + " Rows without a Crime ID (anti-social behaviour) are never removed as duplicates: separate incidents can share a map point."
    )
    if summary.legacy_labels:
        mapped = ", ".join(f"'{k}' ({v:,} rows)" for k, v in sorted(summary.legacy_labels.items()))
        facts.append(f"Legacy crime-type labels were mapped to current police.uk categories: {mapped}.")
    else:
        facts.append("No legacy crime-type labels were found; all crime types are as currently published.")
    if summary.unknown_crime_types:
        listed = ", ".join(f"'{k}' ({v:,} rows)" for k, v in sorted(summary.unknown_crime_types.items()))
        facts.append(f"Crime types not in the police.uk list were kept as published: {listed}.")
    return facts


def survey_table(results: pd.DataFrame, indicator_id: str) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """One indicator's results by year: weighted %, 95% CI, bases, change and verdict."""
    rows = results[results["indicator"] == indicator_id].sort_values("year")

    def interval(low: float, high: float, unit: str = "%") -> str:
        # A true minus sign: reads correctly, and a spreadsheet cannot take the text for a formula.
        def signed(v: float) -> str:
            return f"{v:.1f}".replace("-", "\u2212")

        return "" if pd.isna(low) else f"{signed(low)}{unit} to {signed(high)}{unit}"

    table = pd.DataFrame(
        {
            "Year": rows["year"].astype(str),
            "Weighted %": rows["percent"].round(1),
            "95% confidence interval": [interval(lo, hi) for lo, hi in zip(rows["ci_low"], rows["ci_high"])],
            "Base (respondents)": rows["base"],
            "Effective base": rows["effective_base"].round(0),
            "Change since previous year (points)": rows["change_points"].round(1),
            "95% CI of change": [
                interval(lo, hi, " pts") for lo, hi in zip(rows["change_ci_low"], rows["change_ci_high"])
            ],
            "Verdict": rows["verdict"],
        }
    )
    formats = {
        "Weighted %": lambda v: f"{v:.1f}%",
        "Effective base": lambda v: f"{v:,.0f}",
        "Change since previous year (points)": lambda v: f"{v:+.1f}",
    }
    return table.reset_index(drop=True), formats


def subgroup_table(comparisons: pd.DataFrame, indicator_id: str) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Every subgroup comparison made for one indicator, with raw and Holm-adjusted p-values."""
    rows = comparisons[comparisons["indicator"] == indicator_id]
    table = pd.DataFrame(
        {
            "Group": rows["who"],
            "Group %": rows["group_percent"].round(1),
            "Rest of district %": rows["rest_percent"].round(1),
            "Difference (points)": rows["difference_points"].round(1),
            "p (Holm-adjusted)": rows["p_holm"].round(4),
            "Significant at 5%": ["yes" if s else ("" if n else "no") for s, n in zip(rows["significant"], rows["note"].fillna(""))],
            "Bases (group / rest)": [f"{g:,} / {r:,}" for g, r in zip(rows["group_base"], rows["rest_base"])],
            "Note": rows["note"].fillna(""),
        }
    )
    formats = {
        "Group %": lambda v: f"{v:.1f}%",
        "Rest of district %": lambda v: f"{v:.1f}%",
        "Difference (points)": lambda v: f"{v:+.1f}",
        "p (Holm-adjusted)": lambda v: "<0.001" if v < 0.001 else f"{v:.3f}",
    }
    return table.reset_index(drop=True), formats


def morile_ranking_table(ranking: pd.DataFrame, model: Any) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Ranked threats: rank (ties share a rank), group scores, risk score, band, proposed priority."""
    # The threat names the row (it is the row header); the rank is a value like the scores.
    columns: dict[str, Any] = {"Threat": ranking["threat"], "Rank": ranking["rank"]}
    for group in model.groups:
        columns[group.label + ("" if group.role != "shown" else " (shown, not scored)")] = ranking[group.id].round(2)
    columns["Risk score"] = ranking["score"].round(2)
    columns["Band"] = ranking["band"]
    columns["Proposed priority"] = ["Yes" if p else "No" for p in ranking["priority"]]
    if "best_rank" in ranking:
        columns["Rank if one score moved one step"] = [
            f"{b} to {w}" for b, w in zip(ranking["best_rank"], ranking["worst_rank"])
        ]
    formats = {name: one_decimal for name in columns if name not in ("Rank", "Threat", "Band", "Proposed priority", "Rank if one score moved one step")}
    return pd.DataFrame(columns).reset_index(drop=True), formats


def morile_spread_table(combined: pd.DataFrame, model: Any, minimum_spread: float = 0.0) -> pd.DataFrame:
    """Partners' scores per threat and factor: combined value, lowest and highest, as level labels."""
    factors = {f.id: f for f in model.factors}
    rows = combined[combined["spread"] >= minimum_spread]
    return pd.DataFrame(
        {
            "Threat": rows["threat"],
            "Factor": [model.column_header(factors[f]) for f in rows["factor"]],
            "Combined": [model.label_of(factors[f], v) for f, v in zip(rows["factor"], rows["value"])],
            "Lowest score": [model.label_of(factors[f], v) for f, v in zip(rows["factor"], rows["min"])],
            "Highest score": [model.label_of(factors[f], v) for f, v in zip(rows["factor"], rows["max"])],
            "Scorers": rows["scorers"],
        }
    ).reset_index(drop=True)


def morile_changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Moderation: each changed threat's score and rank before and after, with the reasons."""
    return pd.DataFrame(
        {
            "Threat": changes["threat"],
            "Score before": changes["score_before"].round(2),
            "Rank before": changes["rank_before"],
            "Score after": changes["score_after"].round(2),
            "Rank after": changes["rank_after"],
            "What changed and why": changes["reasons"],
        }
    )


def morile_sensitivity_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Rank ranges under a one-step change of any single score, and whether priority status hangs on it."""
    return pd.DataFrame(
        {
            "Threat": sensitivity["threat"],
            "Rank": sensitivity["rank"],
            "Best rank": sensitivity["best_rank"],
            "Worst rank": sensitivity["worst_rank"],
            "Proposed priority": ["Yes" if p else "No" for p in sensitivity["priority"]],
            "Priority status hangs on a single score": ["Yes" if c else "No" for c in sensitivity["priority_can_change"]],
            "One-step changes that would change it": sensitivity["deciding_moves"],
        }
    )


def trend_summary_table(summary: pd.DataFrame, windows: dict[str, str], forecast_text: str) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Crime types by volume with their full-window count, change, trend and forecast.

    The forecast covers the same calendar months as the count, a year later
    (``forecast_text`` names them), so the two can be compared directly.
    """
    window_column = f"Count, {windows['window_text']}"
    forecast_column = f"Forecast, {forecast_text}"
    months = int(windows["months_compared"])
    change_column = f"% change (like for like, {months} months)" if months else "% change"

    def interval(row: pd.Series) -> str:
        low, high = row.get("forecast_low95", math.nan), row.get("forecast_high95", math.nan)
        if pd.isna(low):
            return "not computed: no trend model (see trend)"
        return f"{low:,.0f} to {high:,.0f}"

    table = pd.DataFrame(
        {
            "Crime type": summary["crime_type"],
            window_column: summary["window_count"],
            change_column: summary["pct_change"].round(1) if months else "not computed: no month comparable",
            "Change verdict (Holm-adjusted)": summary["change_verdict"] if months else "not tested",
            "Trend (seasonal model)": summary["trend"],
            forecast_column: [
                "not computed" if pd.isna(v) else int(round(v))
                for v in (summary["forecast_total"] if "forecast_total" in summary else [math.nan] * len(summary))
            ],
            "Forecast 95% interval": summary.apply(interval, axis=1),
        }
    )
    formats = {window_column: count, forecast_column: lambda v: v if isinstance(v, str) else f"{v:,.0f}"}
    if months:
        formats[change_column] = percent_change
    return table, formats


def exceptions_table(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Months outside the XmR control limits, by crime type (limits to one decimal, so 40.4 > 40.2 shows)."""
    rows = exceptions.sort_values(["crime_type", "month"])
    return pd.DataFrame(
        {
            "Crime type": rows["crime_type"],
            "Month": rows["month"].map(month_label),
            "Recorded": rows["count"],
            "Outside": rows["side"] + " the limit of " + rows["limit"].map(lambda v: f"{v:,.1f}"),
        }
    ).reset_index(drop=True)


def _lsoa_rate_columns(table: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Add residents and the rate per 1,000 when ``rows`` carry them (see ``hotspots.with_rates``)."""
    if "rate_per_1000" in rows.columns:
        table["Residents"] = rows["population"].to_numpy()
        table["Rate per 1,000 residents"] = rows["rate_per_1000"].round(1).to_numpy()
    return table


def top_lsoas_table(counts: pd.DataFrame, n: int, threshold: int, period: str) -> pd.DataFrame:
    """The ``n`` LSOAs with most crime, their share of the area's total and, when LSOA
    populations were given, their rate per 1,000 residents; small counts suppressed with
    every figure worked out from them."""
    from pipeline.analysis.hotspots import suppress

    total = counts["count"].sum()
    top = counts.head(n)
    column = f"Count, {period}"
    table = pd.DataFrame(
        {
            "LSOA": top["lsoa_name"],
            "LSOA code": top["lsoa_code"],
            column: top["count"],
            "Share of the area (%)": (100 * top["count"] / total).round(1) if total else math.nan,
        }
    )
    table = _lsoa_rate_columns(table, top)
    derived = {c: [column] for c in ("Share of the area (%)", "Rate per 1,000 residents") if c in table.columns}
    return suppress(table, [column], threshold, derived=derived)


def top_lsoas_by_type(
    crimes: pd.DataFrame,
    area: str,
    months: list[str],
    crime_types: list[str],
    n: int,
    threshold: int,
    populations: dict[str, int] | None = None,
    period: str = "",
) -> pd.DataFrame:
    """For each crime type, its ``n`` top LSOAs (with rates when ``populations`` is given), small counts suppressed."""
    from pipeline.analysis.hotspots import suppress, with_rates

    parts = []
    column = f"Count, {period}" if period else "Count"
    # The area's crimes in the months, counted by type and LSOA once rather than once per type
    # (only LSOAs with a crime of the type are listed, so the LSOAs with none are not needed).
    # Each LSOA is named as first written in these rows, as ``hotspots.lsoa_counts`` names it.
    own = crimes[(crimes["area"] == area) & crimes["month"].isin(months)]
    names = own.drop_duplicates("lsoa_code").set_index("lsoa_code")["lsoa_name"]
    by_type = own.groupby(["crime_type", "lsoa_code"]).size().rename("count").reset_index()
    by_type = by_type.sort_values(["crime_type", "count", "lsoa_code"], ascending=[True, False, True])
    for crime_type in crime_types:
        top = by_type[by_type["crime_type"] == crime_type].head(n)
        top = pd.DataFrame({"lsoa_code": top["lsoa_code"].to_numpy(), "lsoa_name": names.loc[top["lsoa_code"]].to_numpy(), "count": top["count"].to_numpy()})
        if populations is not None:
            top = with_rates(top, populations, len(months))
        table = pd.DataFrame({"Crime type": crime_type, "LSOA": top["lsoa_name"], "LSOA code": top["lsoa_code"], column: top["count"]})
        parts.append(_lsoa_rate_columns(table, top))
    columns = ["Crime type", "LSOA", "LSOA code", column] + (["Residents", "Rate per 1,000 residents"] if populations is not None else [])
    table = pd.concat(parts, ignore_index=True).reindex(columns=columns) if parts else pd.DataFrame(columns=columns)
    derived = {"Rate per 1,000 residents": [column]} if populations is not None else None
    return suppress(table, [column], threshold, derived=derived)


def rises_table(rises: pd.DataFrame, threshold: int, windows: dict[str, str]) -> pd.DataFrame:
    """LSOAs with the biggest like-for-like rises, each count headed with its months; a
    change is suppressed whenever either count is."""
    from pipeline.analysis.hotspots import suppress

    before, after = f"Like for like: {windows['before_text']}", f"Like for like: {windows['after_text']}"
    table = pd.DataFrame(
        {
            "LSOA": rises["lsoa_name"],
            "LSOA code": rises["lsoa_code"],
            before: rises["before"],
            after: rises["after"],
            "Rise": rises["change"],
        }
    )
    return suppress(table, [before, after], threshold, derived={"Rise": [before, after]})


def repeat_locations_table(locations: pd.DataFrame, threshold: int, period: str) -> pd.DataFrame:
    """The busiest map points, small counts suppressed; the count's header names its months."""
    from pipeline.analysis.hotspots import suppress

    column = f"Count, {period}"
    table = pd.DataFrame({"Map point": locations["location"], "LSOA": locations["lsoa_name"], column: locations["count"]})
    return suppress(table, [column], threshold)


def slug(text: str) -> str:
    """A file-name-safe version of a label: 'All crime (excluding ASB)' -> 'all-crime-excluding-asb'."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def back_test_table(months: pd.DataFrame) -> pd.DataFrame:
    """The back-test month by month: recorded against the forecast and its 95% interval."""
    return pd.DataFrame(
        {
            "Month": months["month"].map(month_label),
            "Recorded": months["actual"].astype(int),
            "Forecast": months["expected"].round(0).astype(int),
            "95% interval": [f"{lo:,.0f} to {hi:,.0f}" for lo, hi in zip(months["low95"], months["high95"])],
            "Recorded against the interval": months["position"],
        }
    ).reset_index(drop=True)


def morile_scores_table(values: pd.DataFrame, model: Any, order: list[str]) -> pd.DataFrame:
    """The heatmap's numbers as a table: one row per threat (in rank order), one column per factor."""
    factors = model.factors
    wide = values.pivot(index="threat", columns="factor", values="value").reindex(index=order, columns=[f.id for f in factors])
    table = wide.rename(columns={f.id: model.column_header(f) for f in factors}).reset_index().rename(columns={"threat": "Threat"})
    table.columns.name = None
    return table


def ward_table(wards: pd.DataFrame, threshold: int, windows: dict[str, str], compared: bool) -> pd.DataFrame:
    """Crime and ASB by ward (``places.ward_summary``): counts for the window, rates where every
    LSOA of the ward has a population, and the like-for-like change in crime. Every count's
    header names its months; small counts are suppressed with whatever would reveal them,
    down each column too (the wards add up to the area total)."""
    from pipeline.analysis.hotspots import suppress

    crime, asb = f"Crimes (excl. ASB), {windows['window_text']}", f"ASB, {windows['window_text']}"
    table = pd.DataFrame({"Ward": wards["ward_name"], "Ward code": wards["ward_code"], "LSOAs": wards["lsoas"], crime: wards["crime"], asb: wards["asb"]})
    derived: dict[str, list[str]] = {}
    if wards["population"].notna().any():
        table["Residents"] = wards["population"]
        table["Crimes per 1,000 residents a year"] = wards["crime_rate"].round(1)
        table["ASB per 1,000 residents a year"] = wards["asb_rate"].round(1)
        derived.update({"Crimes per 1,000 residents a year": [crime], "ASB per 1,000 residents a year": [asb]})
    counts = [crime, asb]
    if compared:
        before, after = f"Crimes, like for like: {windows['before_text']}", f"Crimes, like for like: {windows['after_text']}"
        table[before], table[after] = wards["crime_before"], wards["crime_after"]
        change = 100 * (wards["crime_after"] - wards["crime_before"]) / wards["crime_before"].where(wards["crime_before"] > 0)
        table["Change in crimes (%)"] = change.round(1)
        counts += [before, after]
        derived["Change in crimes (%)"] = [before, after]
    return suppress(table, counts, threshold, derived=derived, column_totals=True)


def decile_label(decile: Any) -> str:
    """'1 (most deprived 10%)', ..., '10 (least deprived 10%)', or 'No rank in the index'."""
    if pd.isna(decile):
        return "No rank in the index"
    decile = int(decile)
    return f"{decile} (most deprived 10%)" if decile == 1 else f"{decile} (least deprived 10%)" if decile == 10 else str(decile)


def deprivation_table(deciles: pd.DataFrame, threshold: int, period: str, index_name: str) -> pd.DataFrame:
    """Crime and ASB by national deprivation decile (``places.decile_summary``): LSOAs, residents
    and rates where known, otherwise counts per LSOA; each decile's share of the area's
    crime and ASB beside its share of the area's LSOAs. Small counts are suppressed with
    their shares and rates, down each column too (the deciles add up to the area total)."""
    from pipeline.analysis.hotspots import suppress

    crime, asb = f"Crimes (excl. ASB), {period}", f"ASB, {period}"
    table = pd.DataFrame(
        {
            f"Decile ({index_name})": [decile_label(d) for d in deciles["imd_decile"]],
            "LSOAs": deciles["lsoas"],
            "Share of the area's LSOAs (%)": (100 * deciles["lsoas_share"]).round(1),
            crime: deciles["crime"],
            "Share of crime (%)": (100 * deciles["crime_share"]).round(1),
            asb: deciles["asb"],
            "Share of ASB (%)": (100 * deciles["asb_share"]).round(1),
        }
    )
    derived = {"Share of crime (%)": [crime], "Share of ASB (%)": [asb]}
    if deciles["population"].notna().any():
        table["Residents"] = deciles["population"]
        table["Crimes per 1,000 residents a year"] = deciles["crime_rate"].round(1)
        table["ASB per 1,000 residents a year"] = deciles["asb_rate"].round(1)
        derived.update({"Crimes per 1,000 residents a year": [crime], "ASB per 1,000 residents a year": [asb]})
    else:
        table["Crimes per LSOA"] = deciles["crime_per_lsoa"].round(1)
        table["ASB per LSOA"] = deciles["asb_per_lsoa"].round(1)
        derived.update({"Crimes per LSOA": [crime], "ASB per LSOA": [asb]})
    return suppress(table, [crime, asb], threshold, derived=derived, column_totals=True)


def deprivation_suppressed(table: pd.DataFrame, deciles: pd.DataFrame) -> tuple[dict[str, pd.Series], bool]:
    """Which deciles' crime and ASB counts ``deprivation_table`` suppressed, as
    ``{"crime_share": rows, "asb_share": rows}`` (the chart leaves those bars out), and whether
    any of them is in the worst 20% (deciles 1 and 2: the sentences then give no shares)."""
    from pipeline.analysis.hotspots import SUPPRESSED

    crime = next(c for c in table.columns if c.startswith("Crimes (excl. ASB)"))
    asb = next(c for c in table.columns if c.startswith("ASB,"))
    hidden = {"crime_share": table[crime] == SUPPRESSED, "asb_share": table[asb] == SUPPRESSED}
    worst = deciles["imd_decile"].le(2).fillna(False).to_numpy()
    worst_hidden = bool(((hidden["crime_share"] | hidden["asb_share"]).to_numpy() & worst).any())
    return hidden, worst_hidden


def deprivation_sentences(
    summary: dict[str, float], area: str, period: str, index_name: str, nation: str, small_counts: bool = False
) -> list[str]:
    """The deprivation findings in words, from ``places.most_deprived`` for the worst 20%.

    ``small_counts``: a decile of the worst 20% has a suppressed count, so its shares are
    not given (with the other decile's, they would reveal it)."""
    n, ranked = summary["lsoas"], summary["ranked_lsoas"]
    count = "None" if n == 0 else f"{n:,}"
    verb = "are" if n > 1 else "is"
    lines = [
        f"{count} of {area}'s {ranked:,} ranked LSOAs {verb} among the 20% most deprived in {nation} ({index_name}): the "
        f"partnership's measure of neighbourhoods in the worst 20% nationally."
    ]
    if n and small_counts:
        lines.append("Their share of crime and ASB is not given: a count in one of those deciles is small and suppressed.")
    elif n:
        base = (
            f"{100 * summary['population_share']:.0f}% of its residents" if not math.isnan(summary["population_share"])
            else f"{100 * summary['lsoa_share']:.0f}% of its LSOAs (LSOA populations were not among the inputs, so the share of residents cannot be given)"
        )
        lines.append(
            f"In {period} those LSOAs recorded {100 * summary['crime_share']:.0f}% of the area's crime (excluding ASB) and "
            f"{100 * summary['asb_share']:.0f}% of its ASB, against {base}."
        )
    if summary["unranked_lsoas"]:
        lines.append(f"{summary['unranked_lsoas']} LSOAs have no rank in the index and are left out of these shares.")
    return lines


def hotspot_status_table(places: pd.DataFrame, column: str, windows: list[list[str]], threshold: int) -> pd.DataFrame:
    """The persistent and new hotspots of ``column`` ("crime" or "asb"): LSOA, ward, the count in
    each year (headed with its months) and the status; small counts suppressed."""
    from pipeline.analysis.hotspots import suppress
    from pipeline.months import describe_months

    rows = places[places[f"{column}_status"] != ""].copy()
    rows["_order"] = rows[f"{column}_status"].map({"Persistent": 0, "New": 1})
    rows = rows.sort_values(["_order", f"{column}_year_{len(windows) - 1}"], ascending=[True, False])
    table = pd.DataFrame({"LSOA": rows["lsoa_name"], "LSOA code": rows["lsoa_code"], "Ward": rows["ward_name"].fillna("")})
    headers = []
    for index, months in enumerate(windows):
        header = f"Count, {describe_months(months)}" if months else f"Count, year {index + 1} (no usable months)"
        table[header] = rows[f"{column}_year_{index}"].to_numpy()
        headers.append(header)
    table["Status"] = rows[f"{column}_status"].to_numpy()
    return suppress(table.reset_index(drop=True), headers, threshold)
