"""Geography inputs: LSOA and ward boundaries, the LSOA -> ward lookup and deprivation ranks.

Each reader validates its file and raises ``InputDataError`` listing every problem at
once (file, row or feature, value, what was expected). Boundaries are returned in
British National Grid (EPSG:27700, metres), so maps are drawn with true shapes and
areas are in square metres; any file with a declared coordinate reference system is
accepted and reprojected.

Column names: the bundled files use ``lsoa_code`` style names; files as downloaded
from the ONS Open Geography portal or the English Indices of Deprivation (``LSOA11CD``,
``WD19CD``, "LSOA code (2011)", "Index of Multiple Deprivation (IMD) Decile") are
recognised too, so an analyst's own download works without renaming columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.errors import InputDataError, list_problems

if TYPE_CHECKING:  # geopandas is imported only when a run has a geography section
    import geopandas as gpd

log = logging.getLogger(__name__)

BRITISH_NATIONAL_GRID = "EPSG:27700"
# Columns recognised for each field, in order of preference (compared case-insensitively).
LSOA_CODE = ("lsoa_code", "LSOA11CD", "LSOA21CD", "LSOA code (2011)", "LSOA code", "lsoa11cd", "code")
LSOA_NAME = ("lsoa_name", "LSOA11NM", "LSOA21NM", "LSOA name (2011)", "LSOA name")
WARD_CODE = ("ward_code", re.compile(r"^WD\d\dCD$", re.I), "Ward code")
WARD_NAME = ("ward_name", re.compile(r"^WD\d\dNM$", re.I), "Ward name")
IMD_RANK = ("imd_rank", "Index of Multiple Deprivation (IMD) Rank", "IMD19", "IMD rank", "wimd_2019")
IMD_DECILE = ("imd_decile", "Index of Multiple Deprivation (IMD) Decile", "IMD decile")
NATION = ("nation",)
# A rough box around Great Britain and Northern Ireland in each CRS, to catch a file whose
# coordinates do not match the CRS it declares (metres labelled as degrees, or the reverse).
# British National Grid covers Great Britain only, from its false origin south-west of the
# Scilly Isles: every LSOA lies at positive eastings and northings well away from it.
UK_BOUNDS = {"degrees": (-9.0, 49.0, 2.5, 61.5), BRITISH_NATIONAL_GRID: (0.0, 0.0, 700_000.0, 1_300_000.0)}
# Eastings and northings within this many metres of the grid's origin are open sea: numbers
# that small, in a file said to be in metres, are degrees.
DEGREES_AS_METRES = 200.0


def find_column(header: list[str], candidates: tuple) -> str | None:
    """The first header matching one of ``candidates`` (text, case-insensitive, or a regex)."""
    for candidate in candidates:
        for name in header:
            if isinstance(candidate, re.Pattern):
                if candidate.match(name.strip()):
                    return name
            elif name.strip().casefold() == candidate.casefold():
                return name
    return None


def _describe(candidates: tuple) -> str:
    return " or ".join(f"'{c.pattern if isinstance(c, re.Pattern) else c}'" for c in candidates[:3])


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A small CSV (optionally .gz; UTF-8 with or without BOM, or Windows-1252) as its header and
    (file line, row) pairs with stripped text."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix.lower() == ".gz" else path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # saved from Excel as "CSV": codes and numbers read the same
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h for h in (reader.fieldnames or [])]
    rows = [
        (line, {k: (v or "").strip() for k, v in row.items() if k is not None})
        for line, row in enumerate(reader, start=2)
    ]
    return header, rows


def _columns(
    path: Path, header: list[str], wanted: dict[str, tuple], what: str, optional: tuple[str, ...] = ()
) -> dict[str, str]:
    found = {field: find_column(header, candidates) for field, candidates in wanted.items()}
    missing = [
        f"{field} ({_describe(wanted[field])})"
        for field, column in found.items()
        if column is None and field not in optional
    ]
    if missing:
        raise InputDataError(
            f"{path}: {what} needs column(s) {', '.join(missing)}; found "
            f"{', '.join(h for h in header if h) or 'no header'}."
        )
    return {field: column for field, column in found.items() if column is not None}


def read_ward_lookup(path: Path) -> pd.DataFrame:
    """An LSOA -> ward lookup: columns lsoa_code, ward_code, ward_name (one ward per LSOA).

    Problems listed at once: blank codes or names, an LSOA given two different wards, a
    ward code given two names.
    """
    header, rows = read_table(path)
    columns = _columns(
        path, header, {"lsoa_code": LSOA_CODE, "ward_code": WARD_CODE, "ward_name": WARD_NAME}, "an LSOA to ward lookup"
    )
    problems: list[str] = []
    wards: dict[str, tuple[str, str]] = {}
    names: dict[str, str] = {}
    for line, row in rows:
        lsoa, ward, name = (row.get(columns[f], "") for f in ("lsoa_code", "ward_code", "ward_name"))
        if not lsoa or not ward or not name:
            problems.append(
                f"row {line}: lsoa_code {lsoa!r}, ward_code {ward!r}, ward_name {name!r}: all three are needed"
            )
        elif lsoa in wards and wards[lsoa][0] != ward:
            problems.append(
                f"row {line}: LSOA {lsoa} is given to ward {ward} and, on an earlier row, to ward {wards[lsoa][0]}; "
                "a best-fit lookup gives each LSOA one ward"
            )
        elif ward in names and names[ward] != name:
            problems.append(f"row {line}: ward {ward} is called {name!r} here and {names[ward]!r} on an earlier row")
        else:
            wards[lsoa] = (ward, name)
            names[ward] = name
    if problems:
        raise InputDataError(list_problems(f"Problems in the LSOA to ward lookup {path}:", problems))
    return pd.DataFrame([(k, w, n) for k, (w, n) in wards.items()], columns=["lsoa_code", "ward_code", "ward_name"])


def read_deprivation(path: Path) -> pd.DataFrame:
    """Deprivation ranks by LSOA: columns lsoa_code, imd_rank, imd_decile (and nation if given).

    The decile is the national one (1 = the most deprived 10% of LSOAs in the nation), as
    published with the English and Welsh indices; it is read, not worked out, because a
    file cut to one area cannot tell how many LSOAs the nation has. Problems listed at
    once: blank codes, a rank that is not a positive whole number, a decile not from 1
    to 10, an LSOA given twice.
    """
    header, rows = read_table(path)
    columns = _columns(
        path,
        header,
        {"lsoa_code": LSOA_CODE, "imd_rank": IMD_RANK, "imd_decile": IMD_DECILE, "nation": NATION},
        "a deprivation file",
        optional=("nation",),
    )
    problems: list[str] = []
    records: dict[str, tuple[int, int, str]] = {}
    for line, row in rows:
        code, rank, decile = (row.get(columns[f], "") for f in ("lsoa_code", "imd_rank", "imd_decile"))
        nation = row.get(columns.get("nation", ""), "") or ("Wales" if code.startswith("W") else "England")
        rank_text = rank.replace(",", "")
        if not code:
            problems.append(f"row {line}: lsoa_code is blank")
        elif not rank_text.isdigit() or int(rank_text) == 0:
            problems.append(f"row {line}, LSOA {code}: rank {rank!r} is not a positive whole number")
        elif not decile.isdigit() or not 1 <= int(decile) <= 10:
            problems.append(f"row {line}, LSOA {code}: decile {decile!r} is not a whole number from 1 to 10")
        elif code in records:
            problems.append(f"row {line}: LSOA {code} is given twice")
        else:
            records[code] = (int(rank_text), int(decile), nation)
    if problems:
        raise InputDataError(list_problems(f"Problems in the deprivation file {path}:", problems))
    return pd.DataFrame(
        [(k, r, d, n) for k, (r, d, n) in records.items()], columns=["lsoa_code", "imd_rank", "imd_decile", "nation"]
    )


def _crs_problem(path: Path, frame: "gpd.GeoDataFrame") -> str | None:
    """Why a boundary file's coordinates cannot be trusted, or None."""
    if frame.crs is None:
        return (
            f"{path}: the file does not say which coordinate reference system its coordinates are in; save it as "
            "GeoJSON (WGS84 longitude and latitude) or as a GeoPackage, which record it."
        )
    if frame.empty:
        return None
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs.is_geographic:
        box, unit = UK_BOUNDS["degrees"], "longitude and latitude in degrees"
    elif frame.crs.to_epsg() == 27700:
        box, unit = UK_BOUNDS[BRITISH_NATIONAL_GRID], "British National Grid metres"
    else:
        return None
    if (
        minx < box[0]
        or miny < box[1]
        or maxx > box[2]
        or maxy > box[3]
        or _looks_like_degrees(frame, minx, miny, maxx, maxy)
    ):
        return (
            f"{path}: the file says its coordinates are {unit} ({frame.crs.to_string()}), but they run from "
            f"({minx:,.1f}, {miny:,.1f}) to ({maxx:,.1f}, {maxy:,.1f}), "
            f"{_what_coordinates_look_like(minx, miny, maxx, maxy)}. "
            "The coordinate reference system it declares is probably wrong: re-export the file with its true one "
            "(EPSG:27700 for eastings and northings in metres, EPSG:4326 for longitude and latitude)."
        )
    return None


def _looks_like_degrees(frame: "gpd.GeoDataFrame", minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """Whether a file declared in metres holds numbers only as large as degrees."""
    return not frame.crs.is_geographic and max(abs(minx), abs(miny), abs(maxx), abs(maxy)) <= DEGREES_AS_METRES


def _inside(box: tuple[float, float, float, float], minx: float, miny: float, maxx: float, maxy: float) -> bool:
    return box[0] <= minx and box[1] <= miny and maxx <= box[2] and maxy <= box[3]


def _what_coordinates_look_like(minx: float, miny: float, maxx: float, maxy: float) -> str:
    """A plain description of coordinates that do not fit their declared system: which
    system, if any, they would fit over the UK (degrees, metres, either with the axes swapped)."""
    degrees, metres = UK_BOUNDS["degrees"], UK_BOUNDS[BRITISH_NATIONAL_GRID]
    if _inside(degrees, minx, miny, maxx, maxy):
        return "which look like longitude and latitude in degrees over the UK"
    if _inside(degrees, miny, minx, maxy, maxx):
        return "which look like latitude and longitude in degrees with the two axes swapped (latitude first)"
    if _inside(metres, minx, miny, maxx, maxy) and min(minx, miny) > DEGREES_AS_METRES:
        return "which look like British National Grid eastings and northings in metres"
    if _inside(metres, miny, minx, maxy, maxx) and min(minx, miny) > DEGREES_AS_METRES:
        return "which look like British National Grid metres with the axes swapped (northing first)"
    return "which fall outside the UK in that system and match neither degrees nor British National Grid metres"


def read_boundaries(paths: list[Path], code_fields: tuple, name_fields: tuple, what: str) -> "gpd.GeoDataFrame":
    """Polygons from GeoJSON or GeoPackage files, as columns code, name, geometry in EPSG:27700.

    Problems listed at once for every file: unreadable, no or implausible CRS, no code
    column, blank or repeated codes, features that are not polygons, invalid or empty
    shapes.
    """
    import geopandas as gpd
    import pyogrio

    problems: list[str] = []
    parts = []
    for path in paths:
        try:
            frame = gpd.read_file(path, engine="pyogrio")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
            problems.append(
                f"{path}: cannot be read as {what} (GeoJSON or GeoPackage expected): {str(exc).splitlines()[0]}"
            )
            continue
        header = [c for c in frame.columns if c != "geometry"]
        code_column, name_column = find_column(header, code_fields), find_column(header, name_fields)
        if code_column is None:
            problems.append(f"{path}: no code property ({_describe(code_fields)}) among {', '.join(header) or 'none'}")
            continue
        crs_problem = _crs_problem(path, frame)
        if crs_problem:
            problems.append(crs_problem)
            continue
        codes = frame[code_column].astype("string").str.strip()
        for index in frame.index[codes.isna() | (codes == "")]:
            problems.append(f"{path}: feature {index + 1} has a blank {code_column}")
        geometry = frame.geometry
        kinds = geometry.geom_type.fillna("none")
        for index in frame.index[~kinds.isin(["Polygon", "MultiPolygon"])]:
            problems.append(f"{path}: feature {index + 1} ({codes[index]}) is a {kinds[index]}, not a polygon")
        for index in frame.index[kinds.isin(["Polygon", "MultiPolygon"]) & (~geometry.is_valid | geometry.is_empty)]:
            problems.append(
                f"{path}: feature {index + 1} ({codes[index]}) is not a valid polygon (it crosses itself or is empty)"
            )
        names = frame[name_column].astype("string").str.strip() if name_column else codes
        parts.append(
            gpd.GeoDataFrame(
                {"code": codes, "name": names, "source": str(path)}, geometry=geometry, crs=frame.crs
            ).to_crs(BRITISH_NATIONAL_GRID)
        )
    if parts:
        combined = pd.concat(parts, ignore_index=True)
        repeated = combined[
            combined["code"].duplicated(keep=False) & combined["code"].notna() & (combined["code"] != "")
        ]
        for code, rows in repeated.groupby("code"):
            problems.append(
                f"{code} has {len(rows)} polygons (in {', '.join(sorted(set(rows['source'])))}); each code needs one"
            )
    if problems:
        raise InputDataError(list_problems(f"Problems in the {what}:", problems))
    return gpd.GeoDataFrame(combined.drop(columns="source"), geometry="geometry", crs=BRITISH_NATIONAL_GRID)


def read_lsoa_boundaries(paths: list[Path]) -> "gpd.GeoDataFrame":
    """LSOA polygons: columns lsoa_code, lsoa_name, geometry (EPSG:27700)."""
    frame = read_boundaries(paths, LSOA_CODE, LSOA_NAME, "LSOA boundaries")
    return frame.rename(columns={"code": "lsoa_code", "name": "lsoa_name"})


def read_ward_boundaries(paths: list[Path]) -> "gpd.GeoDataFrame":
    """Ward polygons: columns ward_code, ward_name, geometry (EPSG:27700)."""
    frame = read_boundaries(paths, WARD_CODE, WARD_NAME, "ward boundaries")
    return frame.rename(columns={"code": "ward_code", "name": "ward_name"})


@dataclass
class Geography:
    """The geography inputs a run gives (any may be absent)."""

    lsoas: "gpd.GeoDataFrame | None"
    wards: "gpd.GeoDataFrame | None"
    ward_lookup: pd.DataFrame | None
    deprivation: pd.DataFrame | None
    lsoa_sources: tuple[Path, ...] = ()  # the LSOA boundary files, for messages


def read_geography(settings: object) -> Geography:
    """Read every geography input named in the params' ``geography`` section, listing
    the problems of all of them at once."""
    problems: list[str] = []
    results: dict[str, object] = {}
    readers = {
        "lsoas": (read_lsoa_boundaries, settings.lsoa_boundaries or None),
        "wards": (read_ward_boundaries, settings.ward_boundaries or None),
        "ward_lookup": (read_ward_lookup, settings.lsoa_wards),
        "deprivation": (read_deprivation, settings.deprivation.path if settings.deprivation else None),
    }
    for key, (reader, source) in readers.items():
        if source is None:
            results[key] = None
            continue
        try:
            results[key] = reader(source)
        except InputDataError as exc:
            problems.append(str(exc))
    if problems:
        raise InputDataError("\n".join(problems))
    return Geography(**results, lsoa_sources=tuple(settings.lsoa_boundaries or ()))  # type: ignore[arg-type]


def coverage_problems(
    geography: Geography, area: str, lsoa_codes: set[str], setting: str
) -> tuple[list[str], list[str]]:
    """Problems and warnings in how the geography covers an area's LSOAs (those in its police data).

    Boundaries must cover every LSOA of the area, or none of them (the area then gets
    tables without maps); a partial cover would draw a map with holes, and usually means
    the boundaries are of another LSOA edition (police.uk moved from 2011 to 2021 LSOAs).
    LSOAs missing from the ward lookup or the deprivation file are warnings: they are
    shown as "no ward" or "no deprivation rank" and counted in the report.
    """
    problems: list[str] = []
    warnings: list[str] = []

    def listed(codes: set[str]) -> str:
        ordered = sorted(codes)
        return ", ".join(ordered[:8]) + (f" and {len(ordered) - 8} more" if len(ordered) > 8 else "")

    if geography.lsoas is not None:
        missing = lsoa_codes - set(geography.lsoas["lsoa_code"])
        if missing and missing != lsoa_codes:
            problems.append(
                f"geography.lsoa_boundaries: {len(missing)} of {area}'s {len(lsoa_codes)} LSOAs in the police data "
                "have no "
                f"boundary: {listed(missing)}. A map would have holes. Check the files cover the whole area and are "
                "the same LSOA edition as the police data (2011 LSOA codes until police.uk moved to 2021 LSOAs)."
            )
        elif missing:
            warnings.append(
                f"{setting} ({area}): none of its LSOAs is in geography.lsoa_boundaries, so its report has tables "
                "but no maps."
            )
    for field, frame, label in (
        ("lsoa_wards", geography.ward_lookup, "ward"),
        ("deprivation", geography.deprivation, "deprivation rank"),
    ):
        if frame is None:
            continue
        missing = lsoa_codes - set(frame["lsoa_code"])
        if missing:
            warnings.append(
                f"geography.{field}: {len(missing)} of {area}'s {len(lsoa_codes)} LSOAs have no {label}: "
                f"{listed(missing)}; "
                "the report counts them separately."
            )
    return problems, warnings


# How far (metres) the centre of an area's crimes may lie outside its LSOA boundaries' extent:
# police.uk points are snapped to nearby map points, never moved kilometres.
PLACEMENT_MARGIN_METRES = 5_000.0


def placement_problem(
    geography: Geography, area: str, lsoa_codes: set[str], centre: tuple[float, float] | None
) -> str | None:
    """Whether the area's LSOA boundaries lie where its police data are, or why not.

    ``centre`` is the median longitude and latitude (degrees, WGS84) of the area's located
    police rows. Boundaries whose extent, for the area's own LSOAs, is more than
    ``PLACEMENT_MARGIN_METRES`` from that point are somewhere else: usually a file declaring
    the wrong coordinate system (eastings and northings swapped, another grid's metres)."""
    if geography.lsoas is None or centre is None:
        return None
    own = geography.lsoas[geography.lsoas["lsoa_code"].isin(lsoa_codes)]
    if own.empty:
        return None
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", BRITISH_NATIONAL_GRID, always_xy=True).transform(*centre)
    minx, miny, maxx, maxy = own.total_bounds
    away = max(minx - x, x - maxx, miny - y, y - maxy, 0.0)
    if away <= PLACEMENT_MARGIN_METRES:
        return None
    sources = (
        ", ".join(str(p) for p in sorted(set(geography.lsoa_sources)))
        if geography.lsoa_sources
        else "the LSOA boundaries"
    )
    return (
        f"geography.lsoa_boundaries ({sources}): {area}'s {len(own)} LSOA polygon(s) lie {away / 1000:,.0f} km from "
        "where "
        f"its police data are (around longitude {centre[0]:.3f}, latitude {centre[1]:.3f}, British National Grid "
        f"{x:,.0f}, {y:,.0f}); in British National Grid they run from ({minx:,.0f}, {miny:,.0f}) to ({maxx:,.0f}, "
        f"{maxy:,.0f}). "
        "The file's coordinates are probably in another system than it declares (axes swapped, or another grid): "
        "re-export it with its true coordinate reference system."
    )
