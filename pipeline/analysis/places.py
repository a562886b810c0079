"""Places: crime by LSOA, ward and deprivation decile, and hotspots that persist.

Everything here counts the area's own police.uk rows by LSOA (``hotspots.lsoa_counts``,
so every LSOA of the area appears, zeros included) and adds them up by ward or by
deprivation decile. Nothing depends on other areas in the run.

Rates are per 1,000 residents a year, scaled up from the usable months as the
whole-area rate is; they are given only where every LSOA of a group has a population.
Without LSOA populations the tables give counts and counts per LSOA (LSOAs are built to
hold similar numbers of residents, about 1,500, so a count per LSOA is a rough stand-in
for a rate; the report says so).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.analysis.hotspots import lsoa_counts
from pipeline.analysis.trends import rate_per_1000
from pipeline.months import assessment_window, plural, shift_month

NO_WARD = "LSOAs not in the ward lookup"
MOST_DEPRIVED_DECILES = 2  # the "worst 20% nationally" of the partnership's own measure


def lsoa_profile(
    crimes: pd.DataFrame,
    area: str,
    assessment_months: list[str],
    before: list[str],
    after: list[str],
    crime_types: list[str],
    asb: str,
) -> pd.DataFrame:
    """Per LSOA of the area: crime (the ``crime_types``) and ASB in the assessment months,
    and both in the like-for-like months (``before`` a year earlier, ``after`` in the window).

    Columns: lsoa_code, lsoa_name, crime, asb, crime_before, crime_after, asb_before, asb_after.
    """
    table = lsoa_counts(crimes, area, assessment_months, crime_types).rename(columns={"count": "crime"})
    for column, months, types in (
        ("asb", assessment_months, [asb]),
        ("crime_before", before, crime_types),
        ("crime_after", after, crime_types),
        ("asb_before", before, [asb]),
        ("asb_after", after, [asb]),
    ):
        counts = lsoa_counts(crimes, area, months, types).set_index("lsoa_code")["count"]
        table[column] = table["lsoa_code"].map(counts).fillna(0).astype(int)
    return table.sort_values("lsoa_code").reset_index(drop=True)


def with_places(
    profile: pd.DataFrame,
    ward_lookup: pd.DataFrame | None,
    deprivation: pd.DataFrame | None,
    populations: dict[str, int] | None,
) -> pd.DataFrame:
    """Add ward_code and ward_name, imd_rank, imd_decile and nation, and population to an LSOA profile
    (missing values where an input is absent or lacks the LSOA; never guessed)."""
    table = profile.copy()
    if ward_lookup is not None:
        table = table.merge(ward_lookup[["lsoa_code", "ward_code", "ward_name"]], on="lsoa_code", how="left")
    else:
        table["ward_code"], table["ward_name"] = pd.NA, pd.NA
    if deprivation is not None:
        table = table.merge(deprivation[["lsoa_code", "imd_rank", "imd_decile", "nation"]], on="lsoa_code", how="left")
        table[["imd_rank", "imd_decile"]] = table[["imd_rank", "imd_decile"]].astype("Int64")
    else:
        table["imd_rank"], table["imd_decile"] = (
            pd.array([pd.NA] * len(table), dtype="Int64"),
            pd.array([pd.NA] * len(table), dtype="Int64"),
        )
        table["nation"] = pd.NA
    table["population"] = pd.array(
        [populations.get(code) if populations else None for code in table["lsoa_code"]], dtype="Int64"
    )
    return table


def _group_rate(count: int, population: object, months: int) -> float:
    return rate_per_1000(int(count), int(population), months) if not pd.isna(population) and population else math.nan


def _grouped(table: pd.DataFrame, keys: list[str], months: int) -> pd.DataFrame:
    """Counts summed over groups of LSOAs, with population only where every LSOA has one."""
    counts = ["crime", "asb", "crime_before", "crime_after", "asb_before", "asb_after"]
    grouped = table.groupby(keys, dropna=False, sort=False)
    out = grouped[counts].sum()
    out.insert(0, "lsoas", grouped.size())
    complete = grouped["population"].apply(lambda p: p.notna().all())
    out["population"] = grouped["population"].sum().where(complete).astype("Int64")
    out["crime_rate"] = [_group_rate(c, p, months) for c, p in zip(out["crime"], out["population"])]
    out["asb_rate"] = [_group_rate(c, p, months) for c, p in zip(out["asb"], out["population"])]
    return out.reset_index()


def ward_summary(places: pd.DataFrame, months: int) -> pd.DataFrame:
    """Crime and ASB by ward: LSOAs, counts in the window, like-for-like counts, population and
    rates where known. LSOAs without a ward form one row of their own, last.

    ``months`` is the number of usable months the window counts cover (rates are scaled to 12).
    """
    table = places.copy()
    table["ward_name"] = table["ward_name"].fillna(NO_WARD)
    table["ward_code"] = table["ward_code"].fillna("")
    out = _grouped(table, ["ward_code", "ward_name"], months)
    out["_last"] = out["ward_name"] == NO_WARD
    return out.sort_values(["_last", "ward_name"]).drop(columns="_last").reset_index(drop=True)


def decile_summary(places: pd.DataFrame, months: int) -> pd.DataFrame:
    """Crime and ASB by national deprivation decile of the LSOA (1 = most deprived 10%),
    every decile from 1 to 10 listed (zeros where the area has no LSOA in it); LSOAs
    without a rank form a last row with decile NA. Adds each decile's share of the
    area's LSOAs, crime and ASB (0-1), and counts per LSOA."""
    out = _grouped(places, ["imd_decile"], months).set_index("imd_decile")
    deciles = pd.Index(pd.array(range(1, 11), dtype="Int64"), name="imd_decile")
    ranked = out.reindex(deciles)
    ranked[["lsoas", "crime", "asb", "crime_before", "crime_after", "asb_before", "asb_after"]] = (
        ranked[["lsoas", "crime", "asb", "crime_before", "crime_after", "asb_before", "asb_after"]]
        .fillna(0)
        .astype(int)
    )
    unranked = out[out.index.isna()]
    table = pd.concat([ranked, unranked]).reset_index()
    for column, total in (("lsoas", places.shape[0]), ("crime", places["crime"].sum()), ("asb", places["asb"].sum())):
        table[f"{column}_share"] = table[column] / total if total else math.nan
    table["crime_per_lsoa"] = np.where(
        table["lsoas"] > 0, table["crime"] / table["lsoas"].where(table["lsoas"] > 0), math.nan
    )
    table["asb_per_lsoa"] = np.where(
        table["lsoas"] > 0, table["asb"] / table["lsoas"].where(table["lsoas"] > 0), math.nan
    )
    return table


def most_deprived(places: pd.DataFrame, deciles: int = MOST_DEPRIVED_DECILES) -> dict[str, float]:
    """The area's LSOAs in the most deprived ``deciles`` tenths nationally (2: the worst 20%):
    how many, and their share (0-1) of the area's ranked LSOAs, residents (NaN without
    populations for all), crime and ASB. Only LSOAs with a rank count in either side."""
    ranked = places[places["imd_decile"].notna()]
    worst = ranked[ranked["imd_decile"] <= deciles]
    population_known = ranked["population"].notna().all() and len(ranked) > 0

    def share(column: str) -> float:
        total = ranked[column].sum()
        return float(worst[column].sum() / total) if total else math.nan

    return {
        "lsoas": int(len(worst)),
        "ranked_lsoas": int(len(ranked)),
        "unranked_lsoas": int(places["imd_decile"].isna().sum()),
        "lsoa_share": len(worst) / len(ranked) if len(ranked) else math.nan,
        "population_share": share("population") if population_known else math.nan,
        "crime": int(worst["crime"].sum()),
        "crime_share": share("crime"),
        "asb": int(worst["asb"].sum()),
        "asb_share": share("asb"),
    }


def yearly_windows(period_end: str, years: int = 3) -> list[list[str]]:
    """The 12-month windows ending at ``period_end`` and each of the ``years - 1`` years
    before, oldest first."""
    return [assessment_window(shift_month(period_end, -12 * k)) for k in reversed(range(years))]


def top_decile(counts: pd.Series) -> pd.Series:
    """Whether each LSOA is in the top 10% by count: its rank (highest first, ties sharing
    the better rank) is within ceil(10% of the LSOAs). An LSOA with no crime never is."""
    n_top = max(1, math.ceil(0.1 * len(counts)))
    return (counts.rank(method="min", ascending=False) <= n_top) & (counts > 0)


def persistent_hotspots(
    crimes: pd.DataFrame, area: str, usable: list[str], period_end: str, crime_types: list[str], years: int = 3
) -> tuple[pd.DataFrame, list[list[str]]]:
    """LSOAs in the top 10% by count in each of the last ``years`` 12-month windows
    ("Persistent"), or in the latest only ("New"); other LSOAs are "".

    Each year counts its usable months only; ranking within a year is unaffected by a
    month missing for every LSOA. Returns the table (lsoa_code, lsoa_name, one count
    and one top-10% flag per year, status) and the usable months of each window, oldest
    first. A window with no usable month gets no flags: the caller must say so.
    """
    windows = [[m for m in window if m in set(usable)] for window in yearly_windows(period_end, years)]
    table = lsoa_counts(crimes, area, windows[-1], crime_types)[["lsoa_code", "lsoa_name"]]
    for index, months in enumerate(windows):
        counts = lsoa_counts(crimes, area, months, crime_types).set_index("lsoa_code")["count"]
        table[f"count_{index}"] = table["lsoa_code"].map(counts).fillna(0).astype(int)
        table[f"top_{index}"] = top_decile(table[f"count_{index}"]) if months else False
    flags = table[[f"top_{i}" for i in range(years)]]
    complete = all(windows)
    table["status"] = np.select(
        [complete & flags.all(axis=1), complete & flags.iloc[:, -1] & ~flags.iloc[:, :-1].any(axis=1)],
        ["Persistent", "New"],
        default="",
    )
    return table.sort_values([f"count_{years - 1}", "lsoa_code"], ascending=[False, True]).reset_index(
        drop=True
    ), windows


def write_processed(places: pd.DataFrame, lsoas: Any, wards: Any, meta: dict[str, Any], folder: Path) -> None:
    """Write the places stage's outputs: places.parquet (one row per LSOA of the area),
    places.json (what the tables cover) and, when boundaries were given,
    places-lsoas.parquet and places-wards.parquet (GeoParquet, EPSG:27700)."""
    folder.mkdir(parents=True, exist_ok=True)
    places.to_parquet(folder / "places.parquet", index=False)
    (folder / "places.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    for name, frame in (("places-lsoas.parquet", lsoas), ("places-wards.parquet", wards)):
        path = folder / name
        if frame is not None:
            frame.to_parquet(path, index=False)
        elif path.exists():
            path.unlink()  # a stale file from an earlier run that had boundaries


def read_processed(folder: Path) -> tuple[pd.DataFrame, Any, Any, dict[str, Any]]:
    """Read what ``write_processed`` wrote: (places, LSOA polygons or None, ward polygons or None, meta)."""
    from pipeline.errors import InputDataError

    if not (folder / "places.parquet").is_file():
        raise InputDataError(f"{folder}: the places stage's outputs are missing (places.parquet); run it first.")
    shapes = []
    for name in ("places-lsoas.parquet", "places-wards.parquet"):
        if (folder / name).is_file():
            import geopandas as gpd

            shapes.append(gpd.read_parquet(folder / name))
        else:
            shapes.append(None)
    meta = json.loads((folder / "places.json").read_text(encoding="utf-8"))
    return pd.read_parquet(folder / "places.parquet"), shapes[0], shapes[1], meta


def lsoa_rates(places: pd.DataFrame, column: str, months: int) -> pd.Series:
    """Rate per 1,000 residents a year of ``column`` for each LSOA (NaN where the population is not known),
    scaled up from ``months`` usable months."""
    return pd.Series(
        [_group_rate(c, p, months) for c, p in zip(places[column], places["population"])],
        index=places.index,
        dtype=float,
    )


METHOD_NOTE = (
    "Places: each LSOA is counted from its own police.uk rows; wards are built from whole LSOAs with the ONS best-fit "
    "lookup (an LSOA goes to the ward holding most of its residents), so ward figures can differ slightly from ones "
    "built "
    "from exact ward boundaries. Map classes are round numbers near the 20th, 40th, 60th and 80th percentiles of the "
    "values shown, in ColorBrewer colour-blind-safe schemes. Hotspots: an LSOA is in the top 10% in a year when its "
    "rank by count (ties sharing the better rank) is within the top tenth of the area's LSOAs."
)


def on_one_lsoa_vintage(crimes: pd.DataFrame, months: list[str]) -> tuple[pd.DataFrame, str]:
    """The area's rows with every LSOA on one vintage, and a sentence saying what was done.

    police.uk moved from 2011 to 2021 LSOAs in 2023. When the rows of ``months`` (the window)
    hold any 2021-only code, every 2011 code that is not also a 2021 code is mapped onto its
    2021 LSOA with ONS's exact-fit lookup (``pipeline.reference.lsoa11_to_lsoa21``): unchanged
    and merged LSOAs exactly, a split one to the part with most residents. Otherwise the rows
    are returned as they are. Area counts never change: only which LSOA a row is placed in.
    """
    from pipeline.reference import lsoa11_to_lsoa21, lsoas_of_2021

    new = lsoas_of_2021()
    old_codes = set(lsoa11_to_lsoa21())
    in_window = crimes.loc[crimes["month"].isin(months), "lsoa_code"].dropna().unique()
    if not any(code in new and code not in old_codes for code in in_window):
        return crimes, ""
    mapping = lsoa11_to_lsoa21()
    codes = crimes["lsoa_code"].astype(object)
    moved = codes.map(lambda c: isinstance(c, str) and c not in new and c in mapping)
    if not moved.any():
        return crimes, ""
    out = crimes.copy()
    out["lsoa_code"] = codes.where(~moved, codes[moved].map(lambda c: mapping[c][0]))
    out["lsoa_name"] = out["lsoa_name"].astype(object).where(~moved, codes[moved].map(lambda c: mapping[c][1]))
    changes = pd.Series([mapping[c][2] for c in codes[moved]])
    split = int(changes.isin(["S", "X"]).sum())
    return out, (
        f"The window holds 2021 LSOA codes, so {plural(int(moved.sum()), 'row')} on 2011 LSOAs changed by 2021 "
        f"{'is' if int(moved.sum()) == 1 else 'are'} placed in their 2021 LSOA (ONS's exact-fit lookup: merged ones "
        f"exactly; {plural(split, 'row')} in LSOAs that were split go to the part with most residents in the 2021 "
        "Census). The area's counts are unchanged."
    )
