"""Geography inputs, places analysis and maps: validation, hand-counted aggregation, suppression on maps."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from shapely.geometry import Point, Polygon, box

from pipeline.analysis import places
from pipeline.documents import maps
from pipeline.errors import InputDataError, ParamsError
from pipeline.inputs import geography
from pipeline.params import validate_params

SHARED = ROOT.parent / "shared/reference-data"
BUNDLE = ROOT / "data/raw/geography"


def _geojson(
    path: Path, features: list[tuple[dict, object]], crs: str | None = "urn:ogc:def:crs:OGC:1.3:CRS84"
) -> Path:
    from shapely.geometry import mapping

    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": mapping(g)} for p, g in features],
    }
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def _square(x: float, y: float, size: float = 0.01) -> Polygon:
    return box(x, y, x + size, y + size)


# --- reading and validating -------------------------------------------------------------


def test_boundaries_are_read_into_british_national_grid(tmp_path):
    path = _geojson(
        tmp_path / "lsoas.geojson", [({"LSOA11CD": "E01000001", "LSOA11NM": "A 001A"}, _square(-2.5, 51.5))]
    )
    frame = geography.read_lsoa_boundaries([path])
    assert list(frame.columns) == ["lsoa_code", "lsoa_name", "geometry"]
    assert frame.crs.to_epsg() == 27700
    # -2.5, 51.5 is about easting 365,000, northing 177,000 (checked against the OS grid).
    x, y = frame.geometry.iloc[0].exterior.coords[0]
    assert 360_000 < x < 370_000 and 172_000 < y < 182_000


def test_every_boundary_problem_is_reported_at_once(tmp_path):
    bow_tie = Polygon([(-2.5, 51.5), (-2.4, 51.6), (-2.4, 51.5), (-2.5, 51.6)])
    path = _geojson(
        tmp_path / "bad.geojson",
        [
            ({"LSOA11CD": "E01000001"}, _square(-2.5, 51.5)),
            ({"LSOA11CD": "E01000001"}, _square(-2.4, 51.5)),
            ({"LSOA11CD": ""}, _square(-2.3, 51.5)),
            ({"LSOA11CD": "E01000003"}, bow_tie),
            ({"LSOA11CD": "E01000004"}, Point(-2.5, 51.5)),
        ],
    )
    with pytest.raises(InputDataError) as caught:
        geography.read_lsoa_boundaries([path])
    message = str(caught.value)
    assert "feature 3 has a blank LSOA11CD" in message
    assert "feature 4 (E01000003) is not a valid polygon" in message
    assert "feature 5 (E01000004) is a Point, not a polygon" in message
    assert "E01000001 has 2 polygons" in message


def test_coordinates_that_do_not_match_the_declared_crs_are_refused(tmp_path):
    # British National Grid metres in a GeoJSON that says WGS84 degrees: a common export slip.
    path = _geojson(tmp_path / "metres.geojson", [({"LSOA11CD": "E01000001"}, box(360000, 180000, 361000, 181000))])
    with pytest.raises(
        InputDataError,
        match="which look like British National Grid eastings and northings in metres. "
        "The coordinate reference system it declares is probably wrong",
    ):
        geography.read_lsoa_boundaries([path])


def test_degrees_declared_as_british_national_grid_are_named_as_degrees(tmp_path):
    # Longitude and latitude saved with EPSG:27700: every point within 200 m of the grid's
    # origin in the sea south-west of the Scilly Isles, where no LSOA is. The report used to
    # fail drawing a 409818944 x 208281204 pixel map.
    path = tmp_path / "degrees-as-bng.gpkg"
    gpd.GeoDataFrame(
        {"lsoa_code": ["E01000001", "E01000002"]}, geometry=[_square(-2.5, 51.5), _square(0.1, 52.2)], crs="EPSG:27700"
    ).to_file(path)
    with pytest.raises(InputDataError) as caught:
        geography.read_lsoa_boundaries([path])
    message = str(caught.value)
    assert str(path) in message and "British National Grid metres (EPSG:27700)" in message
    assert (
        "run from (-2.5, 51.5) to (0.1, 52.2), which look like longitude and latitude in degrees over the UK" in message
    )


def test_latitude_and_longitude_swapped_are_named_as_swapped(tmp_path):
    path = _geojson(tmp_path / "swapped.geojson", [({"LSOA11CD": "E01000001"}, _square(51.5, -2.5))])
    with pytest.raises(InputDataError, match="latitude and longitude in degrees with the two axes swapped"):
        geography.read_lsoa_boundaries([path])


def test_boundaries_that_lie_away_from_the_areas_police_data_are_a_problem():
    # South Gloucestershire is about easting 365,000, northing 177,000; the same square with
    # its axes swapped (177,000 east, 365,000 north) is inside Great Britain's grid, in the
    # Irish Sea off Wales, so only the police data's own points can tell it is wrong.
    right = gpd.GeoDataFrame(
        {"lsoa_code": ["A"], "lsoa_name": ["a"]}, geometry=[box(364_000, 176_000, 366_000, 178_000)], crs="EPSG:27700"
    )
    swapped = right.set_geometry([box(176_000, 364_000, 178_000, 366_000)], crs="EPSG:27700")
    centre = (-2.5, 51.5)  # 365,000 E, 177,000 N to within 1 km
    assert geography.placement_problem(geography.Geography(right, None, None, None), "Area", {"A"}, centre) is None
    problem = geography.placement_problem(
        geography.Geography(swapped, None, None, None, (Path("b.geojson"),)), "Area", {"A"}, centre
    )
    # Nearest corner (178,000, 364,000) from (365,000, 177,000): 187 km east, 187 km north; the larger is reported.
    assert problem is not None and problem.startswith(
        "geography.lsoa_boundaries (b.geojson): Area's 1 LSOA polygon(s) lie 187 km"
    )
    assert "axes swapped" in problem
    assert geography.placement_problem(geography.Geography(swapped, None, None, None), "Area", {"Z"}, centre) is None
    assert geography.placement_problem(geography.Geography(swapped, None, None, None), "Area", {"A"}, None) is None


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_a_file_without_a_crs_is_refused(tmp_path):
    path = tmp_path / "no-crs.gpkg"
    gpd.GeoDataFrame({"LSOA11CD": ["E01000001"]}, geometry=[box(360000, 180000, 361000, 181000)], crs=None).to_file(
        path
    )
    with pytest.raises(InputDataError, match="does not say which coordinate reference system"):
        geography.read_lsoa_boundaries([path])


def test_a_geopackage_in_british_national_grid_is_accepted(tmp_path):
    path = tmp_path / "bng.gpkg"
    gpd.GeoDataFrame(
        {"lsoa_code": ["E01000001"], "lsoa_name": ["A"]},
        geometry=[box(360000, 180000, 361000, 181000)],
        crs="EPSG:27700",
    ).to_file(path)
    frame = geography.read_lsoa_boundaries([path])
    assert frame.geometry.iloc[0].area == pytest.approx(1_000_000)


def test_missing_code_column_names_what_was_found(tmp_path):
    path = _geojson(tmp_path / "x.geojson", [({"name": "x"}, _square(-2.5, 51.5))])
    with pytest.raises(InputDataError, match="no code property .*'lsoa_code' or 'LSOA11CD'.* among name"):
        geography.read_lsoa_boundaries([path])


def test_ward_lookup_problems_are_listed_and_ons_headers_accepted(tmp_path):
    path = tmp_path / "wards.csv"
    path.write_text(
        "FID,LSOA11CD,LSOA11NM,WD19CD,WD19NM\n1,E01,a,W1,North\n2,E02,b,W1,North\n3,E01,a,W2,South\n4,E03,c,W1,Nort\n5,,d,W3,East\n",
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as caught:
        geography.read_ward_lookup(path)
    message = str(caught.value)
    assert "row 4: LSOA E01 is given to ward W2 and, on an earlier row, to ward W1" in message
    assert "row 5: ward W1 is called 'Nort' here and 'North' on an earlier row" in message
    assert "row 6: lsoa_code '', ward_code 'W3'" in message
    path.write_text("LSOA11CD,WD19CD,WD19NM\nE01,W1,North\nE02,W1,North\n", encoding="utf-8")
    assert geography.read_ward_lookup(path).to_dict("records") == [
        {"lsoa_code": "E01", "ward_code": "W1", "ward_name": "North"},
        {"lsoa_code": "E02", "ward_code": "W1", "ward_name": "North"},
    ]


def test_deprivation_file_problems_are_listed(tmp_path):
    path = tmp_path / "imd.csv"
    path.write_text("lsoa_code,imd_rank,imd_decile\nE01,10,1\nE02,x,1\nE03,5,11\nE01,12,2\n,3,1\n", encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        geography.read_deprivation(path)
    message = str(caught.value)
    for expected in (
        "row 3, LSOA E02: rank 'x'",
        "row 4, LSOA E03: decile '11'",
        "row 5: LSOA E01 is given twice",
        "row 6: lsoa_code is blank",
    ):
        assert expected in message


def test_deprivation_reads_the_published_english_headers(tmp_path):
    path = tmp_path / "file1.csv"
    path.write_text(
        "LSOA code (2011),LSOA name (2011),Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation "
        "(IMD) Decile\n"
        'E01014977,South Gloucestershire 025E,"4,858",2\n',
        encoding="utf-8",
    )
    assert geography.read_deprivation(path).to_dict("records") == [
        {"lsoa_code": "E01014977", "imd_rank": 4858, "imd_decile": 2, "nation": "England"}
    ]


def test_coverage_partial_boundaries_is_a_problem_and_none_a_warning():
    lsoas = gpd.GeoDataFrame(
        {"lsoa_code": ["A", "B"], "lsoa_name": ["a", "b"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:27700",
    )
    geo = geography.Geography(
        lsoas, None, pd.DataFrame({"lsoa_code": ["A"], "ward_code": ["W"], "ward_name": ["w"]}), None
    )
    problems, warnings = geography.coverage_problems(geo, "Area", {"A", "B", "C"}, "area")
    assert len(problems) == 1 and "1 of Area's 3 LSOAs in the police data have no boundary: C" in problems[0]
    assert any("2 of Area's 3 LSOAs have no ward: B, C" in w for w in warnings)
    problems, warnings = geography.coverage_problems(geo, "Area", {"X", "Y"}, "area")
    assert problems == [] and any("tables but no maps" in w for w in warnings)


def test_params_geography_settings_are_checked(tmp_path):
    raw = {
        "area": {"name": "A", "lsoa_name_prefixes": ["A"], "population": {"value": 1, "year": 2020, "source": "s"}},
        "period_end": "2020-12",
        "inputs": {"police": [str(ROOT / "data/raw/police-uk/manifest.json")]},
        "output_dir": str(tmp_path / "out"),
        "geography": {
            "ward_boundaries": str(BUNDLE / "ward19-boundaries.geojson"),
            "lsoa_wards": str(tmp_path / "missing.csv"),
        },
    }
    with pytest.raises(ParamsError) as caught:
        validate_params(raw)
    assert f"geography.lsoa_wards: not found: {tmp_path / 'missing.csv'}" in str(caught.value)
    raw["geography"]["lsoa_wards"] = str(BUNDLE / "lsoa11-ward19.csv.gz")
    with pytest.raises(ParamsError, match="ward_boundaries are drawn over the LSOA map: give lsoa_boundaries too"):
        validate_params(raw)


# --- the bundle ---------------------------------------------------------------------------


def test_bundle_imd_deciles_and_the_partnerships_worst_20_percent():
    imd = geography.read_deprivation(BUNDLE / "imd2019-lsoa11.csv.gz").set_index("lsoa_code")
    assert len(imd) == 32844 + 1909
    # Worked from the ONS file by hand: South Gloucestershire 025E is ranked 4,858 and 027B
    # 6,347 of 32,844; 10 x 4858 / 32844 = 1.48 -> decile 2; 10 x 6347 / 32844 = 1.93 -> decile 2.
    assert imd.loc["E01014977", ["imd_rank", "imd_decile"]].tolist() == [4858, 2]
    assert imd.loc["E01014926", ["imd_rank", "imd_decile"]].tolist() == [6347, 2]
    # Decile 1 holds ranks 1 to 3,284 in England (3,284.4 a decile); the Welsh index ranks 1,909.
    assert imd.query("nation == 'England' and imd_rank == 3284")["imd_decile"].tolist() in ([1], [])
    assert (
        imd.query("nation == 'England'")["imd_decile"]
        == np.ceil(10 * imd.query("nation == 'England'")["imd_rank"] / 32844)
    ).all()
    assert (
        imd.query("nation == 'Wales'")["imd_decile"] == np.ceil(10 * imd.query("nation == 'Wales'")["imd_rank"] / 1909)
    ).all()
    boundaries = gpd.read_file(BUNDLE / "lsoa11-boundaries.geojson")
    south_glos = boundaries.loc[boundaries["LSOA11NM"].str.startswith("South Gloucestershire"), "LSOA11CD"]
    assert len(south_glos) == 165
    # The partnership's neighbourhoods in the worst 20% nationally under IMD 2019: these two only.
    assert set(imd.loc[south_glos].query("imd_decile <= 2").index) == {"E01014977", "E01014926"}


def test_bundle_ward_boundaries_match_the_lookup():
    wards = geography.read_ward_boundaries([BUNDLE / "ward19-boundaries.geojson"])
    lookup = geography.read_ward_lookup(BUNDLE / "lsoa11-ward19.csv.gz")
    named = dict(zip(lookup["ward_code"], lookup["ward_name"]))
    assert len(wards) == 130
    assert all(named[code] == name for code, name in zip(wards["ward_code"], wards["ward_name"]))
    assert named["E05012488"] == "Twerton"  # renamed later; the bundle keeps the 2019 name


@pytest.mark.shared_data
def test_build_script_reproduces_the_bundle(tmp_path):
    if not SHARED.is_dir():
        pytest.fail("../shared/reference-data is needed beside the checkout for this test")
    import runpy

    module = runpy.run_path(str(ROOT / "scripts/build_geography.py"))
    module["main"](["--target", str(tmp_path)])
    for name in (
        "lsoa11-boundaries.geojson",
        "ward19-boundaries.geojson",
        "lsoa11-ward19.csv.gz",
        "imd2019-lsoa11.csv.gz",
        "lsoa21-boundaries.geojson",
        "lsoa21-ward24.csv.gz",
        "iod2025-lsoa21.csv.gz",
        "lsoa21-population-census2021.csv.gz",
    ):
        assert (tmp_path / name).read_bytes() == (BUNDLE / name).read_bytes(), name


# --- aggregation against hand counts ---------------------------------------------------------


def _crimes(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    """(lsoa, month, crime type, how many) -> one row per crime, all in area 'A'."""
    records = [
        {
            "area": "A",
            "lsoa_code": lsoa,
            "lsoa_name": f"name {lsoa}",
            "month": month,
            "crime_type": kind,
            "location": "On or near X",
        }
        for lsoa, month, kind, n in rows
        for _ in range(n)
    ]
    return pd.DataFrame(records)


HAND = _crimes(
    [
        ("L1", "2020-01", "Burglary", 10),
        ("L1", "2020-02", "Anti-social behaviour", 4),
        ("L1", "2019-01", "Burglary", 6),
        ("L2", "2020-01", "Burglary", 3),
        ("L2", "2020-01", "Anti-social behaviour", 20),
        ("L2", "2019-01", "Burglary", 9),
        ("L3", "2020-02", "Vehicle crime", 7),
        ("L3", "2019-02", "Vehicle crime", 7),
        ("L4", "2018-05", "Burglary", 1),  # an LSOA with nothing in the window still counts
    ]
)
WARDS = pd.DataFrame(
    {"lsoa_code": ["L1", "L2", "L3"], "ward_code": ["W1", "W1", "W2"], "ward_name": ["North", "North", "South"]}
)
IMD = pd.DataFrame(
    {
        "lsoa_code": ["L1", "L2", "L3", "L4"],
        "imd_rank": [100, 5000, 20000, 30000],
        "imd_decile": [1, 2, 7, 10],
        "nation": "England",
    }
)


def _hand_places(populations=None):
    profile = places.lsoa_profile(
        HAND,
        "A",
        ["2020-01", "2020-02"],
        ["2019-01", "2019-02"],
        ["2020-01", "2020-02"],
        ["Burglary", "Vehicle crime"],
        "Anti-social behaviour",
    )
    return places.with_places(profile, WARDS, IMD, populations)


def test_lsoa_profile_counts_by_hand():
    table = _hand_places().set_index("lsoa_code")
    assert table.loc["L1", ["crime", "asb", "crime_before", "crime_after"]].tolist() == [10, 4, 6, 10]
    assert table.loc["L2", ["crime", "asb", "crime_before", "crime_after"]].tolist() == [3, 20, 9, 3]
    assert table.loc["L3", ["crime", "asb", "crime_before", "crime_after"]].tolist() == [7, 0, 7, 7]
    assert table.loc["L4", ["crime", "asb"]].tolist() == [0, 0]
    assert pd.isna(table.loc["L4", "ward_code"]) and table.loc["L4", "imd_decile"] == 10


def test_ward_summary_by_hand():
    wards = places.ward_summary(_hand_places(), 2).set_index("ward_name")
    assert wards.loc["North", ["lsoas", "crime", "asb", "crime_before", "crime_after"]].tolist() == [2, 13, 24, 15, 13]
    assert wards.loc["South", ["lsoas", "crime", "asb"]].tolist() == [1, 7, 0]
    assert wards.index[-1] == places.NO_WARD and wards.loc[places.NO_WARD, "lsoas"] == 1
    assert wards["population"].isna().all() and wards["crime_rate"].isna().all()


def test_ward_rates_need_every_lsoa_population():
    wards = places.ward_summary(_hand_places({"L1": 1000, "L2": 1000, "L3": 2000}), 2).set_index("ward_name")
    # North: 13 crimes in 2 months among 2,000 residents -> 13 x 12/2 / 2000 x 1000 = 39.0 a year.
    assert wards.loc["North", "crime_rate"] == pytest.approx(39.0)
    assert wards.loc["South", "crime_rate"] == pytest.approx(7 * 6 / 2000 * 1000)
    assert pd.isna(wards.loc[places.NO_WARD, "population"])  # L4 has no population figure


def test_decile_summary_and_worst_20_percent_by_hand():
    table = _hand_places()
    deciles = places.decile_summary(table, 2).set_index("imd_decile")
    assert list(deciles.index) == list(range(1, 11))
    assert deciles.loc[1, ["lsoas", "crime", "asb"]].tolist() == [1, 10, 4]
    assert deciles.loc[5, ["lsoas", "crime"]].tolist() == [0, 0]
    assert deciles.loc[1, "crime_share"] == pytest.approx(10 / 20)
    worst = places.most_deprived(table)
    # L1 and L2 are in deciles 1-2: 13 of 20 crimes, 24 of 24 ASB, 2 of 4 LSOAs.
    assert (worst["lsoas"], worst["crime"], worst["asb"]) == (2, 13, 24)
    assert worst["crime_share"] == pytest.approx(0.65) and worst["asb_share"] == 1.0 and worst["lsoa_share"] == 0.5
    assert np.isnan(worst["population_share"])


def test_top_decile_includes_ties_and_never_zero():
    counts = pd.Series([50, 40, 40, 3, 0, 0, 0, 0, 0, 0, 0, 0])  # 12 LSOAs -> top 2 places (ceil 1.2)
    assert top_list(counts) == [0, 1, 2]
    assert not places.top_decile(pd.Series([0] * 5)).any()


def top_list(counts: pd.Series) -> list[int]:
    return list(counts.index[places.top_decile(counts)])


def test_persistent_and_new_hotspots_by_hand():
    rows = []
    for year in ("2018", "2019", "2020"):
        rows += [(f"L{i:02d}", f"{year}-03", "Burglary", 1) for i in range(10)]  # background: 1 each
    rows += [("L00", f"{y}-03", "Burglary", 20) for y in ("2018", "2019", "2020")]  # top every year
    rows += [("L01", "2020-03", "Burglary", 30)]  # top in 2020 only
    rows += [("L02", "2018-03", "Burglary", 40), ("L02", "2020-03", "Burglary", 25)]  # top in 2018 and 2020: neither
    table, windows = places.persistent_hotspots(
        _crimes(rows), "A", [f"{y}-{m:02d}" for y in (2018, 2019, 2020) for m in range(1, 13)], "2020-12", ["Burglary"]
    )
    status = dict(zip(table["lsoa_code"], table["status"]))
    # 10 LSOAs -> the top 1 each year (ties included): 2018 L02 (41), 2019 L00 (21), 2020 L01 (31).
    assert status == {f"L{i:02d}": "" for i in range(10)} | {"L01": "New"}
    assert windows[0][0] == "2018-01" and windows[-1][-1] == "2020-12"


def test_hotspots_need_every_year_to_have_data():
    rows = [("L1", "2020-03", "Burglary", 5), ("L2", "2020-03", "Burglary", 1)]
    table, windows = places.persistent_hotspots(_crimes(rows), "A", ["2020-03"], "2020-12", ["Burglary"])
    assert windows[0] == [] and windows[1] == [] and (table["status"] == "").all()


# --- maps ----------------------------------------------------------------------------------


def test_nice_numbers_and_breaks_by_hand():
    # Nearest of 1, 2, 2.5, 5, 10 x the power of ten: 23 is 2 from 25 and 3 from 20;
    # 0.37 is 0.12 from 0.25 and 0.13 from 0.5.
    assert [maps.nice_number(v) for v in (7, 23, 48, 130, 0.37)] == [5, 25, 50, 100, 0.25]
    # Percentiles (linear) of 1..100 at 20/40/60/80% are 20.8, 40.6, 60.4, 80.2 -> nice 20, 50,
    # 50 (a repeat, dropped) and 100 (kept: it does not exceed the largest value, 100).
    assert maps.level_breaks(np.arange(1, 101)) == [1.0, 20.0, 50.0, 100.0]
    assert maps.level_labels([6.0, 25.0, 50.0], 312.0, whole=True) == ["6 to 24", "25 to 49", "50 to 312"]


def _layers() -> maps.MapLayers:
    shapes = gpd.GeoDataFrame(
        {"lsoa_code": ["A", "B", "C", "D"]},
        geometry=[
            box(0, 0, 1000, 1000),
            box(1000, 0, 2000, 1000),
            box(0, 1000, 1000, 2000),
            box(1000, 1000, 2000, 2000),
        ],
        crs="EPSG:27700",
    )
    return maps.MapLayers(shapes, None, "Attribution line")


def test_a_suppressed_lsoa_is_hatched_not_shaded_by_its_count():
    counts = pd.Series([3, 40, 60, 200])  # A holds 3: suppressed at threshold 5
    figure, alt = maps.level_map(_layers(), counts, counts, 5, "Crime", "crimes", "Jan 2020 to Dec 2020")
    axis = figure.axes[0]
    collections = [c for c in axis.collections if len(c.get_paths())]
    hatched = [c for c in collections if c.get_hatch()]
    shaded = [c for c in collections if not c.get_hatch()]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == 1
    # The hatched polygon is A's square (0-1000, 0-1000) and is white, not a class colour.
    assert hatched[0].get_paths()[0].get_extents().x1 == pytest.approx(1000) and hatched[0].get_paths()[
        0
    ].get_extents().y1 == pytest.approx(1000)
    assert tuple(hatched[0].get_facecolor()[0][:3]) == (1.0, 1.0, 1.0)
    # The other three are shaded and none of them is drawn at A's place.
    assert sum(len(c.get_paths()) for c in shaded) == 3
    assert all(p.get_extents().x0 >= 999 or p.get_extents().y0 >= 999 for c in shaded for p in c.get_paths())
    legend = [t.get_text() for t in axis.get_legend().get_texts()]
    assert "Suppressed: 1 to 5 crimes" in legend
    # The suppressed count takes no part in the classes: they start at 40, the smallest shown value.
    assert legend[0].startswith("40 to")
    assert "1 LSOAs with 1 to 5 are hatched as suppressed" in alt
    assert "Attribution line" in [t.get_text() for t in figure.texts]


def test_change_map_hatches_either_small_count():
    before, after = pd.Series([10, 2, 50, 30]), pd.Series([40, 30, 20, 31])
    figure, alt = maps.change_map(_layers(), before, after, 5, "Crime", "like for like")
    hatched = [c for c in figure.axes[0].collections if c.get_hatch() and len(c.get_paths())]
    assert len(hatched) == 1 and hatched[0].get_paths()[0].get_extents().x0 == pytest.approx(1000)  # B (2 before)
    assert "1 LSOAs are hatched as suppressed" in alt


def test_deprivation_sentences_say_how_many_in_words_a_reader_can_check():
    from pipeline.documents.place_tables import deprivation_sentences

    base = {
        "ranked_lsoas": 165,
        "unranked_lsoas": 0,
        "lsoa_share": 2 / 165,
        "population_share": float("nan"),
        "crime_share": 0.021,
        "asb_share": 0.015,
    }
    two = deprivation_sentences(
        {**base, "lsoas": 2}, "South Gloucestershire", "Jan 2020 to Dec 2020", "IMD 2019", "England"
    )
    assert two[0].startswith(
        "2 of South Gloucestershire's 165 ranked LSOAs are among the 20% most deprived in England (IMD 2019)"
    )
    # 2/165 = 1.2% of LSOAs; 2.1% of crime and 1.5% of ASB round to 2%.
    assert two[1] == (
        "In Jan 2020 to Dec 2020 those LSOAs recorded 2% of the area's crime (excluding ASB) and 2% of its ASB, "
        "against 1% of its LSOAs (LSOA populations were not among the inputs, so the share of residents cannot be "
        "given)."
    )
    assert deprivation_sentences({**base, "lsoas": 1}, "X", "p", "I", "England")[0].startswith(
        "1 of X's 165 ranked LSOAs is among"
    )
    none = deprivation_sentences({**base, "lsoas": 0}, "X", "p", "I", "England")
    assert none == [
        "None of X's 165 ranked LSOAs is among the 20% most deprived in England (I): the partnership's measure of "
        "neighbourhoods in the worst 20% nationally."
    ]
    hidden = deprivation_sentences({**base, "lsoas": 2}, "X", "p", "I", "England", small_counts=True)
    assert "not given" in hidden[1] and "%" not in hidden[1]


def test_suppressed_deciles_are_found_and_the_worst_20_percent_flagged():
    from pipeline.documents.place_tables import deprivation_suppressed

    # Deciles 2 and 7 hold a small count each; decile 2 is in the worst 20%.
    deciles = pd.DataFrame({"imd_decile": [1.0, 2.0, 7.0, np.nan]})
    table = pd.DataFrame(
        {
            "Crimes (excl. ASB), Jan 2020 to Dec 2020": ["0", "*", "40", "12"],
            "ASB, Jan 2020 to Dec 2020": ["0", "9", "*", "6"],
        }
    )
    hidden, worst_hidden = deprivation_suppressed(table, deciles)
    assert hidden["crime_share"].tolist() == [False, True, False, False]
    assert hidden["asb_share"].tolist() == [False, False, True, False]
    assert worst_hidden
    table.iloc[1, 0] = "30"
    assert deprivation_suppressed(table, deciles)[1] is False


@pytest.mark.e2e
def test_check_stops_boundaries_in_the_wrong_system_before_any_notebook_runs(tmp_path, tiny_police_folder, capsys):
    from conftest import TINY_AREA_CODES
    from test_end_to_end import _params

    from pipeline.cli import main

    params = _params(tmp_path, tiny_police_folder, tiny_police_folder / "lookup.csv")
    lsoas = gpd.read_file(BUNDLE / "lsoa11-boundaries.geojson")
    lsoas = lsoas[lsoas[lsoas.columns[0]].isin(TINY_AREA_CODES["Tiny South Glos"])].to_crs("EPSG:4326")
    wrong = tmp_path / "degrees-said-to-be-metres.gpkg"
    lsoas.set_crs("EPSG:27700", allow_override=True).to_file(wrong)
    text = params.read_text(encoding="utf-8").replace(str(BUNDLE / "lsoa11-boundaries.geojson"), str(wrong))
    params.write_text(text, encoding="utf-8")
    assert main(["check", str(params)]) != 0
    message = capsys.readouterr().err
    assert str(wrong) in message and "British National Grid metres (EPSG:27700)" in message
    assert "look like longitude and latitude in degrees" in message
    assert not (tmp_path / "outputs").exists()


NATIONAL_2024 = ROOT.parent / "shared/data/police-uk/national-street-2024-01_2024-03.zip"


@pytest.mark.shared_data
@pytest.mark.e2e
def test_a_2024_run_on_2021_lsoas_has_maps_wards_deprivation_and_rates_for_every_lsoa(tmp_path):
    """Gloucester, Jan-Mar 2024, from the national files (2021 LSOAs) with the bundled 2021 geography:
    every LSOA the data places in Gloucester, 2021-only codes included, has a boundary, a ward, an
    IoD 2025 decile and Census 2021 residents."""
    if not NATIONAL_2024.is_file():
        pytest.fail("../shared/data/police-uk is needed beside the checkout for this test")
    import yaml

    from pipeline.orchestration.run import run_assessment

    settings = {
        "title": "Gloucester",
        "area": {
            "name": "Gloucester",
            "lsoa_name_prefixes": ["Gloucester"],
            "lsoa_population": {
                "path": str(BUNDLE / "lsoa21-population-census2021.csv.gz"),
                "year": 2021,
                "source": "ONS Census 2021 (TS021)",
            },
        },
        "period_end": "2024-03",
        "trend_years": 1,
        "inputs": {"police": [str(NATIONAL_2024)]},
        "geography": {
            "lsoa_boundaries": str(BUNDLE / "lsoa21-boundaries.geojson"),
            "lsoa_wards": str(BUNDLE / "lsoa21-ward24.csv.gz"),
            "deprivation": {"path": str(BUNDLE / "iod2025-lsoa21.csv.gz"), "name": "IoD 2025", "year": 2025},
        },
        "output_dir": str(tmp_path / "out/gloucester"),
        "processed_dir": str(tmp_path / "processed"),
    }
    params = tmp_path / "gloucester.yaml"
    params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    report = run_assessment(params)
    places_table = pd.read_parquet(tmp_path / "processed/gloucester/places.parquet")
    meta = json.loads((tmp_path / "processed/gloucester/places.json").read_text(encoding="utf-8"))
    codes_2011 = set(pd.read_csv(BUNDLE / "imd2019-lsoa11.csv.gz")["lsoa_code"])
    assert meta["with_boundaries"] and len(places_table) == 82  # Gloucester's 2021 LSOAs with a located row
    assert (~places_table["lsoa_code"].isin(codes_2011)).sum() == 8  # 2021-only codes among them
    assert places_table[["ward_code", "imd_decile", "population"]].notna().all().all()
    page = report.read_text(encoding="utf-8")
    assert "Crime (excluding ASB) by LSOA" in page and "No map is shown" not in page
    assert "The maps shade counts, not rates" not in page  # rates, from the Census 2021 residents
    # The district's population is ONS's mid-2023 estimate (the nearest year to the window's middle).
    rates = pd.read_csv(report.parent / "tables/comparator-rates.csv", encoding="utf-8-sig")
    assert rates.loc[0, "Population year"] == 2023
