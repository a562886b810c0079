"""Reading a force crime extract through its column mapping: every rule, on hand-made files."""

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.errors import InputDataError
from pipeline.inputs.extract import covered_months, parse_times, read_extract
from pipeline.params import ForceExtract

ROOT = Path(__file__).resolve().parent.parent
HEADINGS = ["Ref", "Code", "Recorded", "From", "To", "LSOA", "DA", "Hate", "Age", "Sex", "Outcome"]
COLUMNS = {
    "crime_reference": "Ref",
    "offence_code": "Code",
    "recorded": "Recorded",
    "committed_from": "From",
    "committed_to": "To",
    "lsoa_code": "LSOA",
    "domestic_abuse": "DA",
    "hate_crime": "Hate",
    "victim_age_band": "Age",
    "victim_sex": "Sex",
    "outcome": "Outcome",
}
AREA = {"E01000001", "E01000002"}


def write(path: Path, rows: list[list[str]], headings: list[str] = HEADINGS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headings)
        writer.writerows(rows)
    return path


def settings(path: Path, **extra) -> ForceExtract:
    return ForceExtract(path=path, columns={**COLUMNS, **extra.pop("columns", {})}, **extra)


GOOD = [
    [
        "A1",
        "8N",
        "03/01/2020 14:05",
        "03/01/2020 13:00",
        "",
        "E01000001",
        "Y",
        "N",
        "25-34",
        "F",
        "Unable to prosecute suspect",
    ],
    [
        "A2",
        "105a",
        "2020-01-10 09:00:00",
        "2020-01-09 22:00:00",
        "2020-01-10 02:00:00",
        "E01000002",
        "N",
        "Y",
        "",
        "",
        "",
    ],
    [
        "A3",
        "092D",
        "43876.5",
        "",
        "",
        "E01000001",
        "n",
        "",
        "",
        "",
        "",
    ],  # Excel serial: 43831 is 1 Jan 2020, +45 days: 15/02/2020 12:00
    ["A4", "ZZ9", "15/02/2020 10:00", "14/02/2020 10:00", "", "E01000002", "N", "N", "", "", ""],  # unknown code
    [
        "A1",
        "8N",
        "03/01/2020 14:05",
        "03/01/2020 13:00",
        "",
        "E01000001",
        "Y",
        "N",
        "25-34",
        "F",
        "",
    ],  # repeated reference
    [
        "A5",
        "46",
        "20/02/2020 10:00",
        "21/02/2020 10:00",
        "",
        "E01000001",
        "N",
        "N",
        "",
        "",
        "",
    ],  # committed after recorded
    ["A6", "46", "20/02/2020 10:00", "", "", "E01009999", "N", "N", "", "", ""],  # outside the area
    ["A7", "46", "20/12/2019 10:00", "", "", "E01000001", "N", "N", "", "", ""],  # outside the months
    ["A8", "46", "21/02/2020 10:00", "", "", "", "N", "N", "", "", ""],  # no location
]


def test_a_good_extract_is_read_classified_and_every_set_aside_row_counted(tmp_path):
    crimes, summary = read_extract(settings(write(tmp_path / "x.csv", GOOD)), AREA, ["2020-01", "2020-02"])
    assert list(crimes["crime_reference"]) == ["A1", "A2", "A3", "A4", "A5"]
    assert list(crimes["offence_code"].astype(object).fillna("?")) == ["8N", "105A", "92D", "?", "46"]
    assert list(crimes["ons_subgroup"].astype(object).fillna("?")) == [
        "violence with injury",
        "violence without injury",
        "possession of drugs",
        "?",
        "shoplifting",
    ]
    assert crimes.loc[2, "recorded"] == pd.Timestamp("2020-02-15 12:00")
    assert crimes.loc[1, "committed_to"] == pd.Timestamp("2020-01-10 02:00")
    assert list(crimes["flag_domestic_abuse"]) == [True, False, False, False, False]
    assert list(crimes["flag_hate_crime"]) == [False, True, False, False, False]
    assert list(crimes["month"]) == ["2020-01", "2020-01", "2020-02", "2020-02", "2020-02"]
    assert pd.isna(crimes.loc[4, "committed_from"])  # after the recorded date: left out of time charts
    assert (summary.rows_read, summary.used, summary.duplicate_references) == (9, 5, 1)
    assert summary.unknown_codes == {"ZZ9": 1}
    assert (summary.committed_after_recorded, summary.no_location, summary.outside_area, summary.outside_months) == (
        1,
        1,
        1,
        1,
    )
    assert summary.flags == ["domestic_abuse", "hate_crime"]


def test_every_bad_cell_is_reported_at_once_with_row_column_value_and_what_was_expected(tmp_path):
    rows = [
        ["", "8N", "03/01/2020 14:05", "", "", "E01000001", "Y", "N", "", "", ""],
        ["B2", "", "31/02/2020 10:00", "", "", "E0100001", "maybe", "N", "", "", ""],
        ["B3", "8N", "", "yesterday", "", "E01000001", "N", "N", "", "", ""],
    ]
    with pytest.raises(InputDataError) as error:
        read_extract(settings(write(tmp_path / "bad.csv", rows)))
    message = str(error.value)
    for expected in (
        "bad.csv, row 2, column 'Ref': '' is not a crime reference (it is blank)",
        "bad.csv, row 3, column 'Code': '' is not a Home Office offence code (it is blank)",
        "bad.csv, row 3, column 'Recorded': '31/02/2020 10:00' is not a real date",
        "bad.csv, row 4, column 'Recorded': '' is not a date (the recorded date is blank)",
        "bad.csv, row 4, column 'From': 'yesterday' is not a real date",
        "bad.csv, row 3, column 'LSOA': 'E0100001' is not an LSOA code",
        "bad.csv, row 3, column 'DA': 'maybe' is not a flag value",
    ):
        assert expected in message
    assert message.startswith(f"{tmp_path / 'bad.csv'}: 7 problem(s)")


def test_many_bad_cells_in_one_column_are_summarised(tmp_path):
    rows = [[f"C{i}", "8N", "not a date", "", "", "E01000001", "N", "N", "", "", ""] for i in range(30)]
    with pytest.raises(InputDataError, match=r"column 'Recorded': 22 more row\(s\) like this \(rows 10, 11"):
        read_extract(settings(write(tmp_path / "many.csv", rows)))


def test_a_mapping_naming_missing_headings_lists_the_headings_found(tmp_path):
    path = write(tmp_path / "x.csv", GOOD)
    with pytest.raises(InputDataError) as error:
        read_extract(settings(path, columns={"offence_code": "HO Code", "alcohol": "Alcohol"}))
    message = str(error.value)
    assert "offence_code -> 'HO Code'" in message and "flag_alcohol -> 'Alcohol'" in message
    assert "'Ref', 'Code', 'Recorded'" in message


def test_another_forces_xlsx_layout_works_by_editing_the_mapping_only(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Crimes")
    sheet.append(
        [
            "Occurrence No",
            "HOOC",
            "Offence Desc",
            "Reported Date",
            "Start",
            "End",
            "Beat LSOA",
            "Domestic",
            "Hate Strand",
            "Knife Enabled",
            "CSE Flag",
        ]
    )
    sheet.append(
        [
            "X-1",
            "056/01",
            "Arson endangering life",
            dt.datetime(2020, 3, 5, 23, 10),
            dt.datetime(2020, 3, 5, 22, 0),
            None,
            "e01000001",
            "FALSE",
            "",
            "TRUE",
            "FALSE",
        ]
    )
    sheet.append(["X-2", "019/03", "Rape", "05/03/2020", "", "", "E01000002", "TRUE", "", "FALSE", "TRUE"])
    path = tmp_path / "other-force.xlsx"
    book.save(path)
    extract = ForceExtract(
        path=path,
        sheet="Crimes",
        columns={
            "crime_reference": "Occurrence No",
            "offence_code": "HOOC",
            "offence_description": "Offence Desc",
            "recorded": "Reported Date",
            "committed_from": "Start",
            "committed_to": "End",
            "lsoa_code": "Beat LSOA",
            "domestic_abuse": "Domestic",
            "knife": "Knife Enabled",
            "hate_strand": "Hate Strand",
        },
        flags={"child_exploitation": "CSE Flag"},
        code_map=write(tmp_path / "codes.csv", [["019/03", "19C"]], ["extract_code", "offence_code"]),
    )
    crimes, summary = read_extract(extract, AREA, ["2020-03"])
    assert list(crimes["offence_code"]) == ["56A", "19C"]
    assert crimes.loc[0, "recorded"] == pd.Timestamp("2020-03-05 23:10") and crimes.loc[1, "recorded"] == pd.Timestamp(
        "2020-03-05"
    )
    assert list(crimes["lsoa_code"]) == ["E01000001", "E01000002"]
    assert list(crimes["flag_knife"]) == [True, False] and list(crimes["flag_child_exploitation"]) == [False, True]
    assert summary.flags == ["child_exploitation", "domestic_abuse", "knife"]


def test_a_missing_sheet_names_the_sheets(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Data"
    path = tmp_path / "x.xlsx"
    book.save(path)
    with pytest.raises(InputDataError, match="no sheet named 'Crimes'.*the sheets are: Data"):
        read_extract(settings(path, sheet="Crimes"))


def test_dates_as_force_systems_and_excel_write_them():
    values = pa.chunked_array(
        [["03/01/2020 14:05", "2020-01-03T14:05:00", "03/01/2020", "43833.5868055556", "", "13/13/2020", "1.5e3"]]
    )
    parsed, bad = parse_times(values, ForceExtract.model_fields["date_formats"].default_factory())
    assert list(parsed[:4]) == [np.datetime64("2020-01-03T14:05")] * 2 + [
        np.datetime64("2020-01-03T00:00"),
        np.datetime64("2020-01-03T14:05"),
    ]
    assert np.isnat(parsed[4]) and not bad[4]  # blank is not an error
    assert list(bad[5:]) == [True, True]


def test_coordinates_without_an_lsoa_are_placed_from_the_boundaries(tmp_path):
    import geopandas as gpd

    boundaries = ROOT / "data/raw/geography/lsoa11-boundaries.geojson"
    shapes = gpd.read_file(boundaries).set_index("LSOA11CD")
    inside = shapes.loc["E01014977", "geometry"].representative_point()
    # One point, so pyproj directly: GeoSeries.to_crs hands pyproj one-element arrays, which
    # NumPy deprecates turning into scalars (a DeprecationWarning in every test run).
    from pyproj import Transformer

    easting, northing = Transformer.from_crs(shapes.crs, "EPSG:27700", always_xy=True).transform(inside.x, inside.y)
    rows = [
        ["P1", "46", "01/01/2020 10:00", "", "", f"{easting:.0f}", f"{northing:.0f}"],
        ["P2", "46", "01/01/2020 11:00", "", "", "", ""],
    ]
    path = write(tmp_path / "points.csv", rows, ["Ref", "Code", "Recorded", "From", "To", "E", "N"])
    extract = ForceExtract(
        path=path,
        columns={
            "crime_reference": "Ref",
            "offence_code": "Code",
            "recorded": "Recorded",
            "easting": "E",
            "northing": "N",
        },
    )
    crimes, summary = read_extract(extract, {"E01014977"}, ["2020-01"], boundaries=[boundaries])
    assert list(crimes["lsoa_code"]) == ["E01014977"]
    assert (summary.located_from_points, summary.no_location) == (1, 1)


def test_a_month_the_extract_holds_only_part_of_is_not_used(tmp_path):
    from pipeline.inputs.extract import ExtractSummary

    summary = ExtractSummary(
        file="x", name="x", sample=False, rows_by_month={"2020-01": 100, "2020-02": 96, "2020-03": 104, "2020-04": 30}
    )
    assert covered_months(summary, 0.5) == (["2020-01", "2020-02", "2020-03"], ["2020-04"])


def test_a_partial_month_is_left_out_and_its_crimes_counted_and_the_months_named(tmp_path):
    from pipeline.inputs.extract import quality_facts, read_area_extract
    from pipeline.params import AreaDefinition, Population

    rows = [[f"J{i}", "46", f"{1 + i:02d}/01/2020 10:00", "", "", "E01000001", "N", "N", "", "", ""] for i in range(10)]
    rows += [
        [f"F{i}", "46", f"{1 + i:02d}/02/2020 10:00", "", "", "E01000002", "N", "N", "", "", ""] for i in range(10)
    ]
    rows += [
        [f"M{i}", "46", f"{1 + i:02d}/03/2020 10:00", "", "", "E01000001", "N", "N", "", "", ""] for i in range(2)
    ]  # cut short
    area = AreaDefinition(
        name="Test", lsoa_name_prefixes=["Test"], population=Population(value=1000, year=2020, source="test")
    )
    crimes, summary = read_area_extract(settings(write(tmp_path / "x.csv", rows)), area, AREA, "2020-03", 1, 0.5)
    # March holds 2 rows against a median month of 10: below half, so partial.
    assert (summary.months, summary.partial_months, summary.in_partial_months, summary.used) == (
        ["2020-01", "2020-02"],
        ["2020-03"],
        2,
        20,
    )
    assert set(crimes["month"]) == {"2020-01", "2020-02"}
    facts = quality_facts(summary, "Test")
    assert "20 crimes in Test in the months used, Jan 2020 to Feb 2020 (2 months)" in facts[0]
    assert "2 crime(s) in Test were recorded in Mar 2020, which the extract holds only part of" in facts[1]


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_a_workbook_named_as_a_csv_file_is_named_as_a_workbook(tmp_path, kind):
    from openpyxl import Workbook

    path = tmp_path / "extract.csv"
    if kind == "xlsx":
        book = Workbook()
        book.active.append(HEADINGS)
        book.save(path)  # a real xlsx (a zip container) under a .csv name
        expected = (
            "is a spreadsheet workbook (an Excel .xlsx or similar, which is a zip container) with a CSV file's name"
        )
    else:
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # the OLE2 signature that opens every .xls
        expected = "is an Excel 97-2003 workbook (.xls) with a CSV file's name"
    with pytest.raises(InputDataError) as caught:
        read_extract(settings(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: {expected}") and "not UTF-8" not in message
    assert "(.xlsx; the extract can be read from an .xlsx workbook directly) in force_extract.path" in message
