"""The places sections: hotspot LSOAs and map points, maps, wards, deprivation and persistent hotspots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.analysis import hotspots, places, trends
from pipeline.analysis.police import ALL_CRIME_EXCL_ASB
from pipeline.documents import charts, maps, place_tables
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.formats import short_headers, windows_caption
from pipeline.documents.fragments import bullet_list, heading, paragraph
from pipeline.months import month_label, shift_month


def lsoa_hotspots(a: Assessment) -> list[Any]:
    """The LSOAs with most crime and ASB: the concentration sentences and the two tables, from
    the hotspots stage."""
    windows, threshold, found = a.windows, a.p.suppression_threshold, a.hotspots
    shown = [paragraph(found.meta["rates_note"])]
    sentences = []
    for label, name in (("crime (excluding ASB)", "crime"), ("ASB", "asb")):
        held = found.meta["concentration"][name]
        if held["total"]:
            # With fewer than ten LSOAs "the top 10%" is one LSOA, more than a tenth of them: say which it is.
            where = (
                f"the top 10% of LSOAs ({held['top']} of {held['lsoas']})"
                if held["lsoas"] >= 10
                else f"the busiest of its {held['lsoas']} LSOAs"
            )
            sentences.append(
                f"{100 * held['share']:.0f}% of {label} in {windows['window_text']} was recorded in {where}."
            )
    shown.append(bullet_list(sentences))
    note = hotspots.suppression_note(threshold)
    for counts, name, what in ((found.crime, "crime", "crime (excluding ASB)"), (found.asb, "asb", "ASB")):
        table = place_tables.top_lsoas_table(counts, 10, threshold, windows["window_text"])
        shown.append(
            a.tables.show(
                table,
                f"hotspots-lsoas-{name}",
                f"LSOAs with the most {what}, {windows['window_text']}",
                note=note,
                headers=short_headers(table.columns, windows),
            )
        )
    return shown


# The largest rises are picked from many LSOAs, so some are chance: regression to the mean.
RISES_CAVEAT = (
    "Read with care: picking the largest rises among many LSOAs picks some that rose by chance, and an LSOA whose "
    "count "
    "was unusually low the year before tends to rise back (regression to the mean). A rise of a few crimes in one "
    "LSOA is within ordinary variation: two years' counts of about 10 differ by up to 9 either way by chance alone "
    "(Poisson: 95% of differences within 1.96 x the square root of 20)."
)


def hotspots_by_type(a: Assessment) -> list[Any]:
    """The top LSOAs of each crime type, and where crime rose most."""
    windows, threshold = a.windows, a.p.suppression_threshold
    note = hotspots.suppression_note(threshold)
    types = [
        t for t in a.comparison.sort_values("window_count", ascending=False)["crime_type"] if t != ALL_CRIME_EXCL_ASB
    ]
    shown = [
        a.tables.show(
            place_tables.top_lsoas_by_type(a.hotspots.by_type, types, 3, threshold, windows["window_text"]),
            "hotspots-by-type",
            f"The three LSOAs with most of each crime type, {windows['window_text']}",
            note=note,
        )
    ]
    if a.compared:
        shown.append(
            a.tables.show(
                place_tables.rises_table(a.hotspots.rises, threshold, windows),
                "hotspots-rises",
                f"LSOAs where crime (excluding ASB) rose most, like-for-like months ({windows['after_text']} against "
                f"{windows['before_text']})",
                note=RISES_CAVEAT + " " + note,
            )
        )
    else:
        shown.append(
            paragraph(
                "Rises by LSOA are not shown: no month of the window has usable data a year earlier to compare with."
            )
        )
    return shown


def repeat_locations(a: Assessment) -> list[Any]:
    """The map points with most ASB and most violence."""
    shown, threshold, period = [], a.p.suppression_threshold, a.windows["window_text"]
    for label, name, table in (
        ("anti-social behaviour", "anti-social", "asb"),
        ("violence and sexual offences", "violence", "violence"),
    ):
        frame = place_tables.repeat_locations_table(a.hotspots.points[table], threshold, period)
        shown.append(
            a.tables.show(
                frame,
                f"hotspots-points-{name}",
                f"Map points with the most {label}, {period}",
                note=hotspots.suppression_note(threshold),
                headers=short_headers(frame.columns, a.windows),
            )
        )
    return shown


@dataclass
class Places:
    """The places stage's results, and the map layers drawn from them (None without boundaries)."""

    table: pd.DataFrame
    meta: dict[str, Any]
    layers: Any = None
    shaped: pd.DataFrame | None = None
    ward_of: dict[str, str] | None = None


def maps_section(a: Assessment) -> tuple[Places | None, list[Any]]:
    """Maps of crime and ASB by LSOA, and of the like-for-like change (with geography)."""
    p, windows = a.p, a.windows
    if not p.geography:
        return None, []
    place_table, lsoa_shapes, ward_shapes, place_meta = places.read_processed(a.processed)
    found = Places(place_table, place_meta)
    shown = [
        heading("Maps and wards", 3),
        paragraph(
            f"Where crime and ASB were recorded in {windows['window_text']}, by LSOA and by ward. Disclosure control "
            "applies to the maps as to the tables: an LSOA with 1 to "
            f"{p.suppression_threshold} is hatched, not shaded by its count."
        ),
    ]
    if place_meta.get("vintage_note"):
        shown.append(paragraph(place_meta["vintage_note"], "note"))
    if lsoa_shapes is None:
        shown.append(
            paragraph(
                f"No map is shown: the boundary files given do not include {p.area.name}'s LSOAs. "
                "The ward and deprivation tables below do not need them.",
                "note",
            )
        )
        return found, shown
    found.layers = maps.MapLayers(lsoa_shapes, ward_shapes, p.geography.attribution)
    shaped = found.shaped = place_table.set_index("lsoa_code").loc[lsoa_shapes["lsoa_code"]].reset_index()
    ward_of = found.ward_of = dict(zip(shaped["lsoa_code"], shaped["ward_name"]))
    use_rates = bool(shaped["population"].notna().all())
    if not use_rates:
        shown.append(
            paragraph(
                "The maps shade counts, not rates: LSOA population figures were not among this assessment's inputs. "
                "LSOAs hold "
                "similar numbers of residents (about 1,500), so counts compare roughly.",
                "note",
            )
        )
    for label, column, unit in (("Crime (excluding ASB)", "crime", "crimes"), ("ASB", "asb", "incidents")):
        values = places.lsoa_rates(shaped, column, len(a.assessment_months)) if use_rates else shaped[column]
        shown.append(
            a.charts.show(
                maps.level_map,
                found.layers,
                values,
                shaped[column],
                p.suppression_threshold,
                label,
                f"{unit} per 1,000 residents a year" if use_rates else unit,
                windows["window_text"],
                ward_of,
                caption=f"{label} by LSOA, {windows['window_text']}. {p.geography.attribution}",
            )
        )
    if a.compared:
        shown.append(
            a.charts.show(
                maps.change_map,
                found.layers,
                shaped["crime_before"],
                shaped["crime_after"],
                p.suppression_threshold,
                "Crime (excluding ASB)",
                f"like for like, {windows['after_text']} against {windows['before_text']}",
                ward_of,
                caption=f"Like-for-like change in crime (excluding ASB) by LSOA: {windows['after_text']} against "
                f"{windows['before_text']}. A change of a few crimes in one LSOA is within normal variation. "
                f"{p.geography.attribution}",
            )
        )
    return found, shown


def wards_section(a: Assessment, found: Places | None) -> list[Any]:
    """Crime and ASB by ward (with a ward lookup)."""
    p, windows = a.p, a.windows
    if not (p.geography and p.geography.lsoa_wards) or found is None:
        return []
    wards = places.ward_summary(found.table, len(a.assessment_months))
    named = wards[wards["ward_name"] != places.NO_WARD]
    busiest = named.nlargest(3, "crime")
    return [
        heading("By ward", 3),
        paragraph(
            f"{p.area.name}'s {len(found.table)} LSOAs fall in {len(named)} wards (best-fit lookup: each LSOA is "
            "given to the "
            "ward holding most of its residents). "
            + (
                f"The wards with most crime (excluding ASB) in {windows['window_text']} were "
                f"{trends.and_list(list(busiest['ward_name']))}."
                if busiest["crime"].sum()
                else ""
            )
        ),
        a.tables.show(
            table := place_tables.ward_table(wards, p.suppression_threshold, windows, a.compared),
            "wards",
            f"Crime and ASB by ward, {p.area.name}. {windows_caption(windows, a.compared)}",
            note=hotspots.suppression_note(p.suppression_threshold),
            headers=short_headers(table.columns, windows),
        ),
    ]


def deprivation_section(a: Assessment, found: Places | None) -> list[Any]:
    """Crime and ASB by national deprivation decile (with a deprivation file)."""
    p, windows = a.p, a.windows
    if not (p.geography and p.geography.deprivation) or found is None:
        return []
    index, place_table = p.geography.deprivation, found.table
    deciles = places.decile_summary(place_table, len(a.assessment_months))
    nations = sorted(set(place_table["nation"].dropna()))
    deprivation = place_tables.deprivation_table(deciles, p.suppression_threshold, windows["window_text"], index.name)
    hidden, worst_hidden = place_tables.deprivation_suppressed(deprivation, deciles)
    sentences = place_tables.deprivation_sentences(
        places.most_deprived(place_table),
        p.area.name,
        windows["window_text"],
        index.citation,
        " and ".join(nations) or "the nation",
        worst_hidden,
    )
    counts_note = (
        "Counts per LSOA stand in for rates, as LSOA populations were not among the inputs. "
        if place_table["population"].isna().any()
        else ""
    )
    return [
        heading("Crime and deprivation", 3),
        bullet_list(sentences),
        a.charts.show(
            charts.deprivation_shares,
            deciles,
            hidden,
            p.area.name,
            windows["window_text"],
            index.name,
            caption=f"Share of {p.area.name}'s LSOAs, crime and ASB in each national deprivation decile, "
            f"{windows['window_text']}.",
        ),
        a.tables.show(
            deprivation,
            "deprivation-deciles",
            f"Crime and ASB by national deprivation decile ({index.name}), {p.area.name}",
            note=(
                "Deciles are national: decile 1 holds the 10% most deprived LSOAs in the nation. "
                + counts_note
                + hotspots.suppression_note(p.suppression_threshold)
            ),
        ),
    ]


def persistent_hotspots(a: Assessment, found: Places | None) -> list[Any]:
    """LSOAs that were hotspots in each of the last three years, and new ones (with geography)."""
    p = a.p
    if not p.geography or found is None:
        return []
    hotspot_windows = found.meta["hotspot_windows"]
    years_text = f"{month_label(shift_month(p.period_end, -35))} to {month_label(p.period_end)}"
    shown = [
        heading("Persistent and new hotspots", 3),
        paragraph(
            "An LSOA is a hotspot in a year when it is among the top 10% of the area's LSOAs by count in that "
            "12-month window "
            "(ties at the edge included). Persistent: a hotspot in each of the last three years. New: a hotspot in "
            "the latest year "
            "and in neither of the two before. A persistent hotspot needs a lasting response; a new one, a look at "
            "what changed. The top-10% line is a count, not a test: an LSOA just below it one year and just above it "
            'the next can be "new" by ordinary year-to-year variation alone, so read a new hotspot with its counts.'
        ),
    ]
    for label, column in (("crime (excluding ASB)", "crime"), ("ASB", "asb")):
        missing_years = [i for i, months in enumerate(hotspot_windows[column]) if not months]
        if missing_years:
            ends = [
                f"the 12 months ending {month_label(shift_month(p.period_end, -12 * (2 - i)))}" for i in missing_years
            ]
            shown.append(
                paragraph(
                    f"Persistent and new hotspots of {label} cannot be found: the data has no usable month in "
                    + trends.and_list(ends)
                    + ".",
                    "note",
                )
            )
            continue
        status = found.table[f"{column}_status"]
        shown.append(
            paragraph(
                f"{label[:1].upper() + label[1:]}: {int((status == 'Persistent').sum())} persistent and "
                f"{int((status == 'New').sum())} new hotspot LSOAs."
            )
        )
        if column == "crime" and found.layers is not None:
            shown.append(
                a.charts.show(
                    maps.hotspot_map,
                    found.layers,
                    found.shaped["crime_status"],
                    "Crime (excluding ASB)",
                    years_text,
                    found.ward_of,
                    caption=f"Persistent and new hotspots of crime (excluding ASB), {years_text}. "
                    f"{p.geography.attribution}",
                )
            )
        shown.append(
            a.tables.show(
                place_tables.hotspot_status_table(
                    found.table, column, hotspot_windows[column], p.suppression_threshold
                ),
                f"hotspots-persistent-{column}",
                f"Persistent and new hotspots of {label}, {p.area.name}",
                note=hotspots.suppression_note(p.suppression_threshold),
            )
        )
    return shown
