"""Hotspots: where crime concentrates, by LSOA and by map point, with disclosure control.

Counts below whole-area level can identify victims when they are small, so every
published hotspot table passes through ``suppress``: a count from 1 to the threshold
(default 5) is replaced by a marker, and a figure that would let a reader work a
suppressed count back out (a total, or a change between two counts) is suppressed too.
Zero is not suppressed: it discloses nothing about a person.

Police.uk lists only LSOAs where something was recorded. The number of LSOAs used for
concentration is every LSOA of the area that appears anywhere in the data read, so an
LSOA with no crime in the window still counts as one of the area's LSOAs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.analysis.trends import rate_per_1000
from pipeline.errors import InputDataError, list_problems
from pipeline.inputs.police_scan import read_csv_columns

SUPPRESSED = "*"


def suppression_note(threshold: int) -> str:
    """The note printed under every suppressed table."""
    return (
        f"{SUPPRESSED} = a count from 1 to {threshold}, suppressed to protect the people involved, or a figure "
        "from which such a count could be worked out."
    )


def is_small(value: object, threshold: int) -> bool:
    """True for a count from 1 to ``threshold`` (the counts that are suppressed)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not pd.isna(value) and 1 <= value <= threshold


def suppress(
    frame: pd.DataFrame,
    count_columns: list[str],
    threshold: int,
    total_column: str | None = None,
    derived: dict[str, list[str]] | None = None,
    column_totals: bool = False,
) -> pd.DataFrame:
    """Replace small counts with ``*`` and protect them from being worked back out.

    - Primary: any count from 1 to ``threshold`` in ``count_columns``, and in
      ``total_column`` (a row total is a count too), is suppressed.
    - Secondary, across a row with a ``total_column``: a row whose total is published must not
      have exactly one suppressed count, or the total less the others would reveal it: the
      smallest other non-zero count is suppressed as well (or, with none, the total).
    - Secondary, down a column with ``column_totals``: when the rows split a total that is
      published (here or elsewhere: wards or deprivation deciles of the whole area, every LSOA
      of a small area, a threat's victims), one suppressed count in a column could be worked
      out from it, so the smallest other non-zero count in the column is suppressed as well;
      the row totals are one more such column.
    - The two are repeated until neither changes anything, as a cell suppressed for a column
      can leave its row with one suppressed count, and the other way round.
    - Derived: ``derived`` maps a column (e.g. a share or a change) to the counts it is computed
      from; it is suppressed whenever any of them is.
    Returns a new frame (object columns where anything was suppressed).
    """
    derived = derived or {}
    totals = [total_column] if total_column else []
    out = frame.copy().astype({c: object for c in count_columns + list(derived) + totals})
    checked = count_columns + totals
    hidden = pd.DataFrame(False, index=frame.index, columns=checked)
    for column in checked:
        hidden[column] = frame[column].map(lambda v: is_small(v, threshold))

    def hide_smallest(cells: pd.Series, rows_or_columns: list) -> bool:
        """Hide the smallest visible non-zero cell among ``rows_or_columns`` of ``cells``; False if none."""
        candidates = [(float(cells[k]), str(k), k) for k in rows_or_columns if cells[k] > 0]
        if not candidates:
            return False
        return min(candidates)[2]

    changed = True
    while changed:
        changed = False
        if total_column:
            for index in frame.index:
                row_hidden = hidden.loc[index, count_columns]
                if row_hidden.sum() == 1 and not hidden.at[index, total_column]:
                    visible = [c for c in count_columns if not row_hidden[c]]
                    pick = hide_smallest(frame.loc[index], visible)
                    hidden.at[index, pick if pick is not False else total_column] = True
                    changed = True
        if column_totals:
            for column in checked:
                if hidden[column].sum() == 1:
                    visible = list(frame.index[~hidden[column]])
                    pick = hide_smallest(frame[column], visible)
                    if pick is False and visible:
                        # Every other cell is 0: hiding the zeros too leaves the count's row unknown.
                        hidden.loc[visible, column] = True
                        changed = True
                    elif pick is not False:
                        hidden.at[pick, column] = True
                        changed = True
    for column in checked:
        out.loc[hidden[column], column] = SUPPRESSED
    for column, sources in derived.items():
        mask = hidden[sources].any(axis=1)
        out.loc[mask, column] = SUPPRESSED
    # A table of one row splitting a published total cannot hide its count: the caller must not show it.
    out.attrs["unprotected"] = bool(column_totals and any(hidden[c].sum() == 1 for c in checked) and len(frame) == 1)
    return out


def protected(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as ``suppress`` made it, or no rows when it could not be protected (a single
    row splitting a published total: its small count is the total)."""
    return table.iloc[0:0] if table.attrs.get("unprotected") else table


def lsoa_counts(
    crimes: pd.DataFrame, area: str, months: list[str], crime_types: list[str] | None = None
) -> pd.DataFrame:
    """Crimes per LSOA of the area over the given months (every LSOA of the area, zeros included).

    ``crime_types`` limits the count (None means every type). Columns: lsoa_code,
    lsoa_name, count; sorted by count, highest first, then LSOA code.
    """
    own = crimes[crimes["area"] == area]
    lsoas = own[["lsoa_code", "lsoa_name"]].drop_duplicates("lsoa_code")
    chosen = own[own["month"].isin(months)]
    if crime_types is not None:
        chosen = chosen[chosen["crime_type"].isin(crime_types)]
    counts = chosen.groupby("lsoa_code").size().rename("count")
    table = lsoas.merge(counts, left_on="lsoa_code", right_index=True, how="left").fillna({"count": 0})
    table["count"] = table["count"].astype(int)
    return table.sort_values(["count", "lsoa_code"], ascending=[False, True]).reset_index(drop=True)


def area_lsoa_populations(area: Any, lsoa_codes: set[str], year: int) -> tuple[dict[str, int], str]:
    """Residents of each of the area's LSOAs, and where the figures come from: the area's own
    file (``area.lsoa_population``) when it gives one, otherwise the bundled ONS figures for
    ``year`` (``pipeline.reference.lsoa_populations``)."""
    from pipeline.reference import lsoa_populations

    own = area.lsoa_population
    if own is not None:
        return read_lsoa_population(own.path), f"{own.source}, {own.year}"
    return lsoa_populations(set(lsoa_codes), year)


def read_lsoa_population(path: Path) -> dict[str, int]:
    """Read a CSV of ``lsoa_code`` and ``population`` (residents, a positive whole number).

    Every bad row is listed at once: a blank code, a population that is not a positive
    whole number (thousands separators are allowed), or a code given twice.
    """
    populations: dict[str, int] = {}
    problems = []
    for line, row in read_csv_columns(path, ("lsoa_code", "population"), "an LSOA population file"):
        code, text = row["lsoa_code"], row["population"]
        number = text.replace(",", "")
        if not code:
            problems.append(f"row {line}: lsoa_code is blank")
        elif not number.isdigit() or int(number) == 0:
            problems.append(f"row {line}, LSOA {code}: population {text!r} is not a positive whole number")
        elif code in populations:
            problems.append(f"row {line}: LSOA {code} is given twice")
        else:
            populations[code] = int(number)
    if problems:
        raise InputDataError(list_problems(f"Problems in the LSOA population file {path}:", problems))
    return populations


def with_rates(counts: pd.DataFrame, populations: dict[str, int], months_present: int) -> pd.DataFrame:
    """Add ``population`` and ``rate_per_1000`` (residents) to an :func:`lsoa_counts` table.

    The count covers ``months_present`` usable months of a 12-month window and is scaled
    to a full year as the whole-area rate is. An LSOA missing from ``populations`` gets
    no rate (NaN), never a guessed one.
    """
    table = counts.copy()
    table["population"] = table["lsoa_code"].map(populations)
    table["rate_per_1000"] = [
        rate_per_1000(n, int(pop), months_present) if not pd.isna(pop) else math.nan
        for n, pop in zip(table["count"], table["population"])
    ]
    return table


def rates_note(populations: dict[str, int] | None, lsoa_codes: list[str], source: str = "") -> str:
    """The sentence under the hotspot heading saying whether LSOA rates are shown, and on what base."""
    if populations is None:
        # A public document: the reader needs to know why there are no rates, not which setting adds them.
        return "Counts are shown without rates: LSOA population figures were not among this assessment's inputs."
    missing = sorted(set(lsoa_codes) - set(populations))
    note = f"Rates are per 1,000 residents ({source}), scaled to a full year if months are missing."
    if missing:
        listed = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        note += (
            f" The population file has no figure for {len(missing)} of the area's LSOAs, so they have no rate: "
            f"{listed}."
        )
    return note


def concentration(counts: pd.DataFrame, top_share: float = 0.10) -> tuple[float, int, int]:
    """Share (0-1) of crime in the top ``top_share`` of LSOAs: (share, LSOAs in the top, all LSOAs).

    The top group has ceil(top_share x number of LSOAs) members.
    """
    total = counts["count"].sum()
    n_top = max(1, math.ceil(top_share * len(counts)))
    top = counts.nlargest(n_top, "count")["count"].sum()
    return (top / total if total else math.nan), n_top, len(counts)


def biggest_rises(
    crimes: pd.DataFrame,
    area: str,
    before: list[str],
    after: list[str],
    crime_types: list[str] | None = None,
    n: int = 10,
) -> pd.DataFrame:
    """LSOAs whose count rose most from the comparison months to the assessment months (like for like).

    Columns: lsoa_code, lsoa_name, before, after, change. Only rises (change > 0).
    """
    was = lsoa_counts(crimes, area, before, crime_types).rename(columns={"count": "before"})
    now = lsoa_counts(crimes, area, after, crime_types)[["lsoa_code", "count"]].rename(columns={"count": "after"})
    table = was.merge(now, on="lsoa_code")
    table["change"] = table["after"] - table["before"]
    rises = table[table["change"] > 0].sort_values(["change", "lsoa_code"], ascending=[False, True])
    return rises.head(n).reset_index(drop=True)[["lsoa_code", "lsoa_name", "before", "after", "change"]]


def repeat_locations(
    crimes: pd.DataFrame, area: str, months: list[str], crime_types: list[str], n: int = 10
) -> pd.DataFrame:
    """The map points ('On or near ...') with the most incidents of the given types.

    A map point is the location text within its LSOA (police.uk snaps incidents to
    anonymised points, so the same street name in two LSOAs is two points).
    Columns: location, lsoa_name, count.
    """
    chosen = crimes[(crimes["area"] == area) & crimes["month"].isin(months) & crimes["crime_type"].isin(crime_types)]
    chosen = chosen[chosen["location"].str.len() > 0]
    counts = chosen.groupby(["location", "lsoa_name"]).size().rename("count").reset_index()
    return counts.sort_values(["count", "location"], ascending=[False, True]).head(n).reset_index(drop=True)


@dataclass
class HotspotTables:
    """What the hotspots stage works out for the report (see ``stage_tables``)."""

    crime: pd.DataFrame  # every LSOA of the area: lsoa_code, lsoa_name, count (and rates, with populations)
    asb: pd.DataFrame
    by_type: pd.DataFrame  # crime_type, lsoa_code, lsoa_name, count (rates too): every LSOA with a crime of the type
    rises: pd.DataFrame  # ``biggest_rises``; no rows when no month has a like-for-like pair
    points: dict[str, pd.DataFrame]  # ``repeat_locations`` of ASB ("asb") and violence ("violence")
    meta: dict[str, Any]  # rates_note, concentration of crime and ASB, the months counted

    FRAMES = ("crime", "asb", "by_type", "rises")


def counts_by_type(crimes: pd.DataFrame, area: str, months: list[str]) -> pd.DataFrame:
    """The area's crimes in ``months`` by crime type and LSOA (LSOAs with none of a type left
    out), most first within each type and ties by LSOA code; each LSOA named as first written
    in these rows, as ``lsoa_counts`` names it. Columns: crime_type, lsoa_code, lsoa_name, count."""
    own = crimes[(crimes["area"] == area) & crimes["month"].isin(months)]
    names = own.drop_duplicates("lsoa_code").set_index("lsoa_code")["lsoa_name"]
    by_type = own.groupby(["crime_type", "lsoa_code"]).size().rename("count").reset_index()
    by_type = by_type.sort_values(["crime_type", "count", "lsoa_code"], ascending=[True, False, True])
    by_type["lsoa_name"] = names.loc[by_type["lsoa_code"]].to_numpy()
    return by_type[["crime_type", "lsoa_code", "lsoa_name", "count"]].reset_index(drop=True)


def stage_tables(
    crimes: pd.DataFrame,
    area: str,
    months: list[str],
    before: list[str],
    after: list[str],
    crime_types: list[str],
    populations: dict[str, int] | None = None,
    population_source: str = "",
) -> HotspotTables:
    """Everything the report shows of hotspots, worked out once by the hotspots stage.

    ``months``: the usable months of the window; ``before``/``after``: the like-for-like pairs;
    ``crime_types``: the crime types (ASB apart) of the area's data. LSOA rates per 1,000
    residents when ``populations`` is given (``population_source`` names it)."""
    from pipeline.analysis.police import ASB

    crime = lsoa_counts(crimes, area, months, crime_types)
    asb = lsoa_counts(crimes, area, months, [ASB])
    meta: dict[str, Any] = {
        "rates_note": rates_note(populations, list(crime["lsoa_code"]), population_source),
        "population_source": population_source if populations is not None else "",
        "months": months,
        "concentration": {},
    }
    for name, counts in (("crime", crime), ("asb", asb)):
        share, n_top, n_all = concentration(counts)
        meta["concentration"][name] = {
            "share": share,
            "top": n_top,
            "lsoas": n_all,
            "total": int(counts["count"].sum()),
        }
    by_type = counts_by_type(crimes, area, months)
    if populations is not None:
        crime, asb = with_rates(crime, populations, len(months)), with_rates(asb, populations, len(months))
        by_type = with_rates(by_type, populations, len(months))
    rises = (
        biggest_rises(crimes, area, before, after, crime_types)
        if after
        else pd.DataFrame(columns=["lsoa_code", "lsoa_name", "before", "after", "change"])
    )
    points = {
        "asb": repeat_locations(crimes, area, months, [ASB]),
        "violence": repeat_locations(crimes, area, months, ["Violence and sexual offences"]),
    }
    return HotspotTables(crime, asb, by_type, rises, points, meta)


def write_processed(tables: HotspotTables, folder: Path) -> None:
    """Write the hotspots stage's tables under ``folder/hotspots/`` (parquet, and meta.json)."""
    target = folder / "hotspots"
    target.mkdir(parents=True, exist_ok=True)
    for name in HotspotTables.FRAMES:
        getattr(tables, name).to_parquet(target / f"{name}.parquet", index=False)
    for name, frame in tables.points.items():
        frame.to_parquet(target / f"points-{name}.parquet", index=False)
    (target / "meta.json").write_text(json.dumps(tables.meta, indent=2), encoding="utf-8")


def read_processed(folder: Path) -> HotspotTables:
    """Read what ``write_processed`` wrote."""
    target = folder / "hotspots"
    if not (target / "meta.json").is_file():
        raise InputDataError(f"{folder}: the hotspots stage's outputs are missing; run it first.")
    frames = {name: pd.read_parquet(target / f"{name}.parquet") for name in HotspotTables.FRAMES}
    points = {name: pd.read_parquet(target / f"points-{name}.parquet") for name in ("asb", "violence")}
    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    return HotspotTables(**frames, points=points, meta=meta)
