"""The strategic assessment's sections on the partnership's threats, from a force extract.

Turns ``threat_profiles`` tables into published tables and sentences: a count always
names its months, small counts below whole-area level are suppressed
(``hotspots.suppress``), and a threat the extract cannot evidence says why.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pandas as pd

from pipeline.analysis.hotspots import protected, suppress
from pipeline.analysis.threat_profiles import ALL_EXTRACT_CRIME, TIME_METHODS, ThreatProfiles
from pipeline.documents.formats import count, one_decimal, p_value, percent_change
from pipeline.documents.place_tables import top_lsoas_table
from pipeline.documents.trend_tables import short_trend
from pipeline.months import month_label


def sample_label(profiles: ThreatProfiles) -> str:
    """' (synthetic sample)' for a sample extract, else ''."""
    return " (synthetic sample)" if profiles.summary.sample else ""


def threats_to_show(
    profiles: ThreatProfiles, priorities: list[str] | None
) -> tuple[list[str], list[str], pd.DataFrame]:
    """Which threats get a section: the proposed priorities the extract evidences (in
    priority order), then the other threats it evidences; and every threat it cannot
    evidence (threat, priority, note). With no priorities, every threat counts as one."""
    statuses = profiles.tables["statuses"].set_index("threat")
    evidenced = [t for t in statuses.index if statuses.at[t, "evidenced"]]
    wanted = priorities if priorities is not None else list(statuses.index)
    first = [t for t in wanted if t in evidenced]
    others = [t for t in evidenced if t not in first]
    missing = [t for t in [*wanted, *statuses.index] if t not in evidenced]
    missing = list(dict.fromkeys(missing))
    notes = [
        statuses.at[t, "note"] if t in statuses.index else "it is not among the threats defined for the extract"
        for t in missing
    ]
    return first, others, pd.DataFrame({"threat": missing, "priority": [t in wanted for t in missing], "note": notes})


def overview_table(
    profiles: ThreatProfiles, threats: list[str], windows: dict[str, str]
) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """One row per threat (and the whole extract): window count, like-for-like counts and
    change with its Holm-adjusted test, trend, and harm against volume."""
    change = profiles.tables["change"].set_index("threat")
    harm = profiles.tables["harm"].set_index("threat")
    rows = [*threats, ALL_EXTRACT_CRIME]
    before, after = f"Like for like: {windows['before_text']}", f"Like for like: {windows['after_text']}"
    table = pd.DataFrame(
        {
            "Threat": rows,
            f"Crimes, {windows['window_text']}": [change.at[t, "window_count"] for t in rows],
            before: [change.at[t, "comparison_count"] for t in rows],
            after: [change.at[t, "assessment_count"] for t in rows],
            "Change (%)": [change.at[t, "pct_change"] for t in rows],
            "p (Holm)": [change.at[t, "p_holm"] for t in rows],
            "Verdict": [change.at[t, "verdict"] for t in rows],
            "Trend (seasonal model)": [short_trend(change.at[t, "trend"]) for t in rows],
            "Crime Severity Score a year (ONS scale)": [harm.at[t, "css"] for t in rows],
            "Share of the area's crimes (%)": [harm.at[t, "volume_share"] for t in rows],
            "Share of the area's harm (%)": [harm.at[t, "harm_share"] for t in rows],
        }
    )
    if not int(profiles.tables["change"]["months_compared"].max() or 0):
        table = table.drop(columns=[before, after, "Change (%)", "p (Holm)", "Verdict"])
    formats = {
        "Change (%)": percent_change,
        "p (Holm)": p_value,
        "Crime Severity Score a year (ONS scale)": lambda v: "not available" if pd.isna(v) else f"{v:,.2f}",
        "Share of the area's crimes (%)": one_decimal,
        "Share of the area's harm (%)": one_decimal,
    }
    return table, formats


def threat_sentences(profiles: ThreatProfiles, threat: str, windows: dict[str, str], area: str) -> list[str]:
    """What the figures say about one threat, in words; every count names its months."""
    change = profiles.tables["change"].set_index("threat").loc[threat]
    harm = profiles.tables["harm"].set_index("threat")
    statuses = profiles.tables["statuses"].set_index("threat").loc[threat]
    area_css = harm.at[ALL_EXTRACT_CRIME, "css"]
    lines = [
        f"What is counted: {statuses['description'].strip()}"
        + (f" Note: {statuses['note']}." if statuses["partial"] else ""),
        f"In {windows['window_text']}, the extract records "
        f"{count(change['window_count']) if change['window_count'] else 'no'} "
        f"crime{'' if change['window_count'] == 1 else 's'} of this kind in {area}.",
    ]
    if int(change["months_compared"]):
        pct = change["pct_change"]
        movement = (
            "no change"
            if change["assessment_count"] == change["comparison_count"]
            else (f"{'up' if pct > 0 else 'down'} {abs(pct):.0f}%" if not math.isnan(pct) else "from none")
        )
        lines.append(
            f"Like for like, {count(change['assessment_count'])} in {windows['after_text']} against "
            f"{count(change['comparison_count'])} a year earlier: {movement}; {change['verdict']} (Holm-adjusted p "
            f"{p_value(change['p_holm'])})."
        )
    else:
        lines.append(
            "No month of the window has usable extract data a year earlier, so no change can be given or tested."
        )
    lines.append(f"Trend: {change['trend']}.")
    if change["window_count"] and not pd.isna(harm.at[threat, "css"]):
        lines.append(
            f"Harm: a Crime Severity Score of {harm.at[threat, 'css']:,.2f} a year (ONS's scale: severity weights "
            f"per resident), against {area_css:,.2f} for all crime in the extract; "
            f"{harm.at[threat, 'harm_share']:.1f}% of the area's harm "
            "from "
            f"{harm.at[threat, 'volume_share']:.1f}% of its crimes."
        )
    return lines


def crimes_in_window(profiles: ThreatProfiles, threat: str) -> int:
    """The threat's full-window count."""
    return int(profiles.tables["change"].set_index("threat").at[threat, "window_count"])


def time_sentence(profiles: ThreatProfiles, threat: str, period: str) -> str:
    """How the threat's crimes in ``period`` were placed in time, and how many could not be."""
    placement = profiles.tables["time_placement"].set_index("threat").loc[threat]
    text = (
        f"{count(placement['placed'])} of the {count(placement['crimes'])} crimes in {period} placed by their "
        "committed time "
        f"({count(placement['exact'])} with one time, {count(placement['ranged'])} with a from-to range). "
        + TIME_METHODS[profiles.method]
    )
    left = int(placement["no_time"]) + int(placement["too_long"])
    if left:
        text += (
            f" Not placed: {count(placement['no_time'])} with no committed time and "
            f"{count(placement['too_long'])} whose range is too long to say."
        )
    return text


def lsoa_table(profiles: ThreatProfiles, threat: str, n: int, threshold: int, period: str) -> pd.DataFrame:
    """The threat's ``n`` top LSOAs over the window, small counts suppressed."""
    counts = profiles.tables["lsoas"]
    counts = counts[counts["threat"] == threat][["lsoa_code", "lsoa_name", "count"]].reset_index(drop=True)
    return top_lsoas_table(counts, n, threshold, period)


def repeat_sentence(profiles: ThreatProfiles, threat: str, threshold: int, period: str) -> str:
    """Repeat locations in ``period`` as a share of the threat, never as places (a point can be a home)."""
    row = profiles.tables["repeats"].set_index("threat").loc[threat]
    if not row["located"]:
        return "The extract gives no map point for these crimes, so repeat locations cannot be counted."
    if not row["repeat_points"]:
        return f"In {period}, no map point had more than one of these crimes."
    shown = row["repeat_points"] if row["repeat_points"] > threshold else f"a few (fewer than {threshold + 1})"
    return (
        f"Repeat locations: in {period}, {shown} map points each had two or more of these crimes, together "
        f"{100 * row['crimes_at_repeats'] / row['located']:.0f}% of the crimes with a map point. The points are not "
        "listed: for offences like these a point can be someone's home."
    )


def people_table(profiles: ThreatProfiles, threat: str, threshold: int, period: str) -> pd.DataFrame:
    """Victims by age band (rows) and sex (columns) for the threat, small counts suppressed,
    with any figure that would reveal one."""
    people = profiles.tables["people"]
    people = people[people["threat"] == threat]
    if people.empty:
        return pd.DataFrame()
    wide = people.pivot_table(
        index="victim_age_band", columns="victim_sex", values="count", aggfunc="sum", fill_value=0
    )
    order = sorted(wide.index, key=lambda band: (band == "Not recorded", band != "Under 18", band))
    wide = wide.reindex(order)
    sexes = list(wide.columns)
    wide["Total"] = wide[sexes].sum(axis=1)
    table = wide.reset_index().rename(
        columns={"victim_age_band": f"Victim age band, {period}", "F": "Female", "M": "Male"}
    )
    counts = [{"F": "Female", "M": "Male"}.get(s, s) for s in sexes]
    table.columns.name = None
    return protected(suppress(table, counts, threshold, total_column="Total", column_totals=True))


def outcome_table(profiles: ThreatProfiles, threat: str, threshold: int, period: str) -> pd.DataFrame:
    """The threat's crimes by outcome, small counts suppressed."""
    outcomes = profiles.tables["outcomes"]
    outcomes = outcomes[outcomes["threat"] == threat]
    column = f"Crimes, {period}"
    table = pd.DataFrame({"Outcome": outcomes["outcome"].to_numpy(), column: outcomes["count"].to_numpy()})
    return protected(suppress(table, [column], threshold, column_totals=True))


def month_of_year_tables(profiles: ThreatProfiles, threats: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Each threat's count by calendar month: for the last three 12-month windows (rows:
    threat and window; columns Jan..Dec), the latest window alone (for the page), and that
    window's label. A month the extract does not cover is 'no data', never 0. Whole-area
    counts: not suppressed."""
    table = profiles.tables["month_of_year"]
    table = table[table["threat"].isin(threats)]
    if table.empty:
        return pd.DataFrame(), pd.DataFrame(), ""
    wide = table.pivot_table(index=["threat", "window"], columns="calendar_month", values="crimes", aggfunc="sum")
    wide.columns = [month_label(f"2000-{m:02d}")[:3] for m in wide.columns]
    wide = wide.astype(object).map(lambda v: "no data" if pd.isna(v) else int(v))
    wide = wide.reset_index().rename(columns={"threat": "Threat", "window": "12 months"})
    wide["Threat"] = pd.Categorical(wide["Threat"], threats, ordered=True)
    three_years = wide.sort_values(["Threat", "12 months"], ascending=[True, False]).reset_index(drop=True)
    latest_label = three_years["12 months"].iloc[0]
    latest = three_years[three_years["12 months"] == latest_label].drop(columns="12 months").reset_index(drop=True)
    return three_years, latest, latest_label


def harm_groups_table(profiles: ThreatProfiles, period: str) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Every ONS offence group over ``period``: crimes, severity-weighted days and the
    shares of crimes and harm, highest harm first."""
    days = f"Severity-weighted days, {period}"
    table = profiles.tables["harm_groups"].rename(
        columns={
            "ons_group": "ONS offence group",
            "crimes": f"Crimes, {period}",
            "harm": days,
            "volume_share": "Share of crimes (%)",
            "harm_share": "Share of harm (%)",
        }
    )
    return table, {days: lambda v: f"{v:,.0f}", "Share of crimes (%)": one_decimal, "Share of harm (%)": one_decimal}


def reconciliation_monthly_table(profiles: ThreatProfiles) -> pd.DataFrame:
    """Extract against police.uk by police.uk crime type and month (every shared month)."""
    return profiles.tables["reconciliation"].rename(
        columns={
            "crime_type": "police.uk crime type",
            "month": "Month",
            "extract": "Force extract",
            "police_uk": "police.uk",
            "difference": "Difference",
        }
    )


def reconciliation_table(profiles: ThreatProfiles) -> pd.DataFrame:
    """Extract against police.uk by police.uk crime type, over the months both cover."""
    recon = profiles.tables["reconciliation"]
    if recon.empty:
        return pd.DataFrame()
    months = sorted(recon["month"].unique())
    period = f"{month_label(months[0])} to {month_label(months[-1])} ({len(months)} months)"
    totals = recon.groupby("crime_type")[["extract", "police_uk", "difference"]].sum().reset_index()
    return totals.rename(
        columns={
            "crime_type": "police.uk crime type",
            "extract": f"Force extract, {period}",
            "police_uk": f"police.uk, {period}",
            "difference": "Difference (extract minus police.uk)",
        }
    )


def reconciliation_sentences(profiles: ThreatProfiles) -> list[str]:
    """What the reconciliation shows, and why the two sources can differ."""
    recon = profiles.tables["reconciliation"]
    if recon.empty:
        return ["The extract and the police.uk data share no month, so they cannot be reconciled."]
    cells = len(recon)
    differing = recon[recon["difference"] != 0]
    lines = []
    if differing.empty:
        lines.append(f"The two sources agree in every one of the {cells:,} crime-type-and-month cells.")
    else:
        worst = differing.assign(size=differing["difference"].abs()).nlargest(3, "size")
        listed = "; ".join(
            f"{r.crime_type}, {month_label(r.month)}: {r.extract:,} against {r.police_uk:,}" for r in worst.itertuples()
        )
        lines.append(
            f"{len(differing):,} of {cells:,} crime-type-and-month cells differ; the largest: {listed}. The monthly "
            "figures are in the CSV."
        )
    lines.append(
        "Where they differ, the usual causes are: crimes reclassified or cancelled after police.uk took its monthly "
        "snapshot; crimes police.uk could not map to a location (they stay in the extract); offence codes whose "
        "police.uk crime type is not known to the lookup; and extracts cut on a different date field."
    )
    return lines
