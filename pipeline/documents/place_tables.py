"""The places sections: hotspot LSOAs and map points, rises, wards, deprivation deciles and persistent hotspots.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


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
    from pipeline.analysis.hotspots import protected, suppress

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
    # A table listing every LSOA of the area splits the area's total, which is published: one
    # suppressed count could be worked out from it, so a second is suppressed (column totals).
    complete = len(counts) <= n
    return protected(suppress(table, [column], threshold, derived=derived, column_totals=complete))


def top_lsoas_by_type(
    by_type: pd.DataFrame, crime_types: list[str], n: int, threshold: int, period: str = ""
) -> pd.DataFrame:
    """For each crime type, its ``n`` top LSOAs, with residents and rates when ``by_type`` has
    them, small counts suppressed.

    ``by_type``: the hotspots stage's counts by type and LSOA (``hotspots.counts_by_type``:
    most first within each type, ties by LSOA code; rates from ``hotspots.with_rates``)."""
    from pipeline.analysis.hotspots import protected, suppress

    parts = []
    column = f"Count, {period}" if period else "Count"
    rates = "rate_per_1000" in by_type.columns
    for crime_type in crime_types:
        rows = by_type[by_type["crime_type"] == crime_type]
        top = rows.head(n).reset_index(drop=True)
        table = pd.DataFrame(
            {"Crime type": crime_type, "LSOA": top["lsoa_name"], "LSOA code": top["lsoa_code"], column: top["count"]}
        )
        table = _lsoa_rate_columns(table, top)
        # When a type's LSOAs are all listed (n or fewer have any), the rows split its published total.
        complete = len(rows) <= n
        derived = {"Rate per 1,000 residents": [column]} if rates else None
        # A type with one small count in one LSOA cannot be listed without revealing it: left out.
        parts.append(protected(suppress(table, [column], threshold, derived=derived, column_totals=complete)))
    columns = ["Crime type", "LSOA", "LSOA code", column] + (["Residents", "Rate per 1,000 residents"] if rates else [])
    return pd.concat(parts, ignore_index=True).reindex(columns=columns) if parts else pd.DataFrame(columns=columns)


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
    table = pd.DataFrame(
        {"Map point": locations["location"], "LSOA": locations["lsoa_name"], column: locations["count"]}
    )
    return suppress(table, [column], threshold)


def ward_table(wards: pd.DataFrame, threshold: int, windows: dict[str, str], compared: bool) -> pd.DataFrame:
    """Crime and ASB by ward (``places.ward_summary``): counts for the window, rates where every
    LSOA of the ward has a population, and the like-for-like change in crime. Every count's
    header names its months; small counts are suppressed with whatever would reveal them,
    down each column too (the wards add up to the area total)."""
    from pipeline.analysis.hotspots import suppress

    crime, asb = f"Crimes (excl. ASB), {windows['window_text']}", f"ASB, {windows['window_text']}"
    table = pd.DataFrame(
        {
            "Ward": wards["ward_name"],
            "Ward code": wards["ward_code"],
            "LSOAs": wards["lsoas"],
            crime: wards["crime"],
            asb: wards["asb"],
        }
    )
    derived: dict[str, list[str]] = {}
    if wards["population"].notna().any():
        table["Residents"] = wards["population"]
        table["Crimes per 1,000 residents a year"] = wards["crime_rate"].round(1)
        table["ASB per 1,000 residents a year"] = wards["asb_rate"].round(1)
        derived.update({"Crimes per 1,000 residents a year": [crime], "ASB per 1,000 residents a year": [asb]})
    counts = [crime, asb]
    if compared:
        before, after = (
            f"Crimes, like for like: {windows['before_text']}",
            f"Crimes, like for like: {windows['after_text']}",
        )
        table[before], table[after] = wards["crime_before"], wards["crime_after"]
        change = (
            100
            * (wards["crime_after"] - wards["crime_before"])
            / wards["crime_before"].where(wards["crime_before"] > 0)
        )
        table["Change in crimes (%)"] = change.round(1)
        counts += [before, after]
        derived["Change in crimes (%)"] = [before, after]
    return suppress(table, counts, threshold, derived=derived, column_totals=True)


def decile_label(decile: Any) -> str:
    """'1 (most deprived 10%)', ..., '10 (least deprived 10%)', or 'No rank in the index'."""
    if pd.isna(decile):
        return "No rank in the index"
    decile = int(decile)
    return (
        f"{decile} (most deprived 10%)"
        if decile == 1
        else f"{decile} (least deprived 10%)"
        if decile == 10
        else str(decile)
    )


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
        f"{count} of {area}'s {ranked:,} ranked LSOAs {verb} among the 20% most deprived in {nation} ({index_name}): "
        "the "
        f"partnership's measure of neighbourhoods in the worst 20% nationally."
    ]
    if n and small_counts:
        lines.append(
            "Their share of crime and ASB is not given: a count in one of those deciles is small and suppressed."
        )
    elif n:
        base = (
            f"{100 * summary['population_share']:.0f}% of its residents"
            if not math.isnan(summary["population_share"])
            else f"{100 * summary['lsoa_share']:.0f}% of its LSOAs (LSOA populations were not among the inputs, so "
            "the share of residents cannot be given)"
        )
        lines.append(
            f"In {period} those LSOAs recorded {100 * summary['crime_share']:.0f}% of the area's crime (excluding "
            "ASB) and "
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
    table = pd.DataFrame(
        {"LSOA": rows["lsoa_name"], "LSOA code": rows["lsoa_code"], "Ward": rows["ward_name"].fillna("")}
    )
    headers = []
    for index, months in enumerate(windows):
        header = f"Count, {describe_months(months)}" if months else f"Count, year {index + 1} (no usable months)"
        table[header] = rows[f"{column}_year_{index}"].to_numpy()
        headers.append(header)
    table["Status"] = rows[f"{column}_status"].to_numpy()
    return suppress(table.reset_index(drop=True), headers, threshold)
