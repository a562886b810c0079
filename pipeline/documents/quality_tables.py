"""The data-quality section: each month's coverage and the facts about the police data's gaps and repeats.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.analysis.police import ScanSummary
from pipeline.documents.crime_tables import repeat_note
from pipeline.months import month_label, plural


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


def district_rows(area: Any, authority_rows: dict[str, int]) -> dict[str, int]:
    """Located rows read per district of ``area`` (the names that start police.uk's LSOA names):
    its prefixes, or for an area named by official geography the LSOA-name districts whose
    district code is one of its own (by either LSOA vintage)."""
    from pipeline.reference import district_of_name, official_area_lsoas

    if area.lsoa_name_prefixes:
        return {name: int(authority_rows.get(name, 0)) for name in area.lsoa_name_prefixes}
    if area.partnership is None and not area.districts and area.force is None:
        return {}
    codes = {c for cs in official_area_lsoas(area.partnership, area.districts, area.force)[1].values() for c in cs}
    names = [n for n, by in district_of_name().items() if set(by.values()) & codes and n in authority_rows]
    return {name: int(authority_rows[name]) for name in sorted(names, key=lambda n: -authority_rows[n])}


def data_quality_facts(
    summary: ScanSummary, coverage: pd.DataFrame, area: str, areas: list[Any] | None = None
) -> list[str]:
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
        f"{plural(summary.force_rows, 'row')} were read from {len(summary.files)} police.uk file(s), "
        f"covering {len(summary.months_in_input)} months "
        f"({month_label(summary.months_in_input[0])} to {month_label(summary.months_in_input[-1])})."
        if summary.months_in_input
        else "No months were found in the inputs.",
        f"{area} has usable data for {len(present)} of the {len(own)} months from "
        f"{month_label(own['month'].iloc[0])} to {month_label(own['month'].iloc[-1])}.",
    ]
    own_area = next((a for a in areas or [] if a.name == area), None)
    districts = district_rows(own_area, summary.authority_rows) if own_area is not None else {}
    if len(districts) > 1:
        facts.append(
            f"Located rows read for {area}'s districts (as police.uk's LSOA names give them, every month read): "
            + ", ".join(f"{name} {rows:,}" for name, rows in districts.items())
            + ". A district with no rows would be named here with 0."
        )
    share = f"{100 * summary.unlocated_share:.1f}%"
    named = [n for a in areas or [] for n in a.lsoa_name_prefixes]
    by_authority = bool(areas) and all(a.lsoa_name_prefixes for a in areas)
    if by_authority and not set(summary.authority_rows) - set(named):
        whose = (
            f"{share} of the rows read; the inputs hold located rows only for this assessment's areas, so this is "
            "not the force-wide share, which needs the force's whole files"
        )
    elif by_authority:
        whose = f"{share} of the rows read, force-wide"
    else:
        whose = f"{share} of the rows read"
    facts.append(
        f"{plural(summary.unlocated_rows, 'row')} ({whose}) have no location "
        "and cannot be attributed to any area; they are left out of every count, so counts for the area "
        "are slightly lower than the crimes its residents reported."
    )
    if summary.unlocated_repeat_rows:
        facts.append(
            f"{plural(summary.unlocated_repeat_rows, 'further row')} with no location "
            f"{'repeats' if summary.unlocated_repeat_rows == 1 else 'repeat'} the Crime ID of a located "
            "row in the same file and were not counted twice."
        )
    if summary.lsoa_codes_recovered or summary.lsoa_name_without_code:
        facts.append(
            f"{plural(summary.lsoa_codes_recovered + summary.lsoa_name_without_code, 'row')} named an LSOA but had "
            "no LSOA code: "
            f"{summary.lsoa_codes_recovered:,} were given the code other rows of the same file pair with that name; "
            f"{summary.lsoa_name_without_code:,} could not be and are counted as having no location."
        )
    if summary.lsoa_names_recovered:
        facts.append(
            f"{plural(summary.lsoa_names_recovered, 'row')} had an LSOA code but no LSOA name and were given the "
            "name other rows "
            "of the same file pair with that code."
        )
    if summary.bad_coordinates:
        facts.append(
            f"{plural(summary.bad_coordinates, 'row')} had a longitude or latitude that is not a number or lies "
            "outside the UK; "
            "their map points are left blank (their LSOA counts are unaffected)."
        )
    facts.append(
        repeat_note(summary)
        + " Rows without a Crime ID (anti-social behaviour) are never removed as duplicates: separate incidents can "
        "share a map point."
    )
    if summary.legacy_labels:
        mapped = ", ".join(f"'{k}' ({plural(v, 'row')})" for k, v in sorted(summary.legacy_labels.items()))
        facts.append(f"Legacy crime-type labels were mapped to current police.uk categories: {mapped}.")
    else:
        facts.append("No legacy crime-type labels were found; all crime types are as currently published.")
    if summary.unknown_crime_types:
        listed = ", ".join(f"'{k}' ({plural(v, 'row')})" for k, v in sorted(summary.unknown_crime_types.items()))
        facts.append(f"Crime types not in the police.uk list were kept as published: {listed}.")
    return facts
