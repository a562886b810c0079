import zipfile

import pandas as pd
import pytest
from conftest import SHARED_ZIP, area, street_csv_text, street_row, write_street_csv

from pipeline.analysis.police import (
    coverage_for_areas,
    month_coverage,
    read_police_data,
    read_processed,
    usable_months,
    write_processed,
)
from pipeline.errors import InputDataError, ParamsError
from pipeline.inputs.police_scan import POLICE_UK_COLUMNS, AreaSelector, find_street_files
from pipeline.months import month_range

ROWS = [
    street_row("2020-01", "Alphaton 001A", "Burglary", "id1"),
    street_row("2020-01", "Alphaton 002B", "Anti-social behaviour"),
    street_row("2020-01", "Betaville 001A", "Burglary", "id2"),
    street_row("2020-01", "", "Drugs", "id3"),
]


@pytest.mark.parametrize("form", ["csv", "csv.gz", "folder", "zip"])
def test_each_input_form_reads_the_same_rows(tmp_path, form):
    if form == "csv":
        inputs = [write_street_csv(tmp_path / "download.csv", ROWS)]
    elif form == "csv.gz":
        inputs = [write_street_csv(tmp_path / "download.csv.gz", ROWS)]
    elif form == "folder":
        write_street_csv(tmp_path / "data/2020-01/2020-01-test-street.csv", ROWS)
        # police.uk downloads also hold outcomes files: they must be skipped.
        write_street_csv(tmp_path / "data/2020-01/2020-01-test-outcomes.csv", [["x"] * 12])
        inputs = [tmp_path / "data"]
    else:
        archive = tmp_path / "archive.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("2020-01/2020-01-test-street.csv", street_csv_text(ROWS))
            zf.writestr("2020-01/2020-01-test-stop-and-search.csv", "junk")
        inputs = [archive]
    crimes, summary = read_police_data(inputs, [area("Alphaton"), area("Betaville")])
    assert sorted(crimes["crime_id"]) == ["", "id1", "id2"]
    assert crimes.groupby("area").size().to_dict() == {"Alphaton": 2, "Betaville": 1}
    assert summary.force_rows == 4
    assert summary.unlocated_rows == 1
    assert summary.months_in_input == ["2020-01"]


def test_wrong_headers_are_all_named_with_expected_and_found(tmp_path):
    good = write_street_csv(tmp_path / "good.csv", ROWS)
    header = list(POLICE_UK_COLUMNS)
    header[9] = "Offence"
    bad1 = write_street_csv(tmp_path / "bad1.csv", ROWS, tuple(header))
    bad2 = write_street_csv(tmp_path / "bad2.csv", [r[:11] for r in ROWS], POLICE_UK_COLUMNS[:11])
    with pytest.raises(InputDataError) as caught:
        read_police_data([good, bad1, bad2], [area("Alphaton")])
    message = str(caught.value)
    assert "bad1.csv: the header is not the police.uk street-level layout" in message
    assert "bad2.csv: the header is not the police.uk street-level layout" in message
    assert "Offence" in message and "expected: Crime ID,Month" in message
    assert "good.csv" not in message


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff".encode("utf-8") + street_csv_text(ROWS).encode("utf-8"))
    crimes, _ = read_police_data([path], [area("Alphaton")])
    assert len(crimes) == 2


def test_every_bad_month_is_listed_with_its_row(tmp_path):
    rows = [street_row("2020-01"), street_row("Jan 2020"), street_row("2020-1"), street_row("2020-13")]
    path = write_street_csv(tmp_path / "months.csv", rows)
    with pytest.raises(InputDataError) as caught:
        read_police_data([path], [area("Alphaton")])
    message = str(caught.value)
    for row, value in ((3, "Jan 2020"), (4, "2020-1"), (5, "2020-13")):
        assert f"months.csv, row {row}, column 'Month': '{value}' is not a month written YYYY-MM" in message
    assert "row 2," not in message


def test_missing_inputs_and_folders_without_street_files(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputDataError) as caught:
        find_street_files([tmp_path / "empty", tmp_path / "absent.csv"])
    assert "empty: no police.uk street-level files" in str(caught.value)
    assert "absent.csv: not found" in str(caught.value)


def test_area_filter_matches_whole_authority_names_not_loose_prefixes(tmp_path):
    rows = [
        street_row("2020-01", "Bristol 001A"),
        street_row("2020-01", "Bristol 023D"),
        street_row("2020-01", "Bristolton 001A"),  # a different authority that starts the same way
        street_row("2020-01", "North Somerset 001A"),
    ]
    path = write_street_csv(tmp_path / "s.csv", rows)
    crimes, _ = read_police_data([path], [area("Bristol")])
    assert sorted(crimes["lsoa_name"]) == ["Bristol 001A", "Bristol 023D"]


def test_area_by_lookup_csv(tmp_path):
    rows = [
        street_row("2020-01", "Gamma 001A", lsoa_code="E01000001"),
        street_row("2020-01", "Gamma 001B", lsoa_code="E01000002"),
        street_row("2020-01", "Gamma 001C", lsoa_code="E01000003"),
    ]
    path = write_street_csv(tmp_path / "s.csv", rows)
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("lsoa_code,area\nE01000001,North\nE01000003,North\nE01000002,South\n", encoding="utf-8")
    crimes, _ = read_police_data([path], [area("North", lookup=lookup)])
    assert sorted(crimes["lsoa_code"]) == ["E01000001", "E01000003"]


def test_lookup_problems_and_overlapping_areas(tmp_path):
    lookup = tmp_path / "lookup.csv"
    lookup.write_text("code,name\nE1,North\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="needs columns 'lsoa_code' and 'area'"):
        AreaSelector([area("North", lookup=lookup)])
    with pytest.raises(ParamsError, match="'Alphaton' is in both First and Second"):
        AreaSelector([area("First", prefixes=["Alphaton"]), area("Second", prefixes=["Alphaton"])])


def test_legacy_labels_are_mapped_and_counted(tmp_path):
    rows = [
        street_row("2012-01", crime_type="Violent crime"),
        street_row("2012-01", crime_type="Violent crime"),
        street_row("2012-01", crime_type="Public disorder and weapons"),
        street_row("2012-01", crime_type="Violence and sexual offences"),
        street_row("2012-01", crime_type="Space piracy"),
    ]
    crimes, summary = read_police_data([write_street_csv(tmp_path / "s.csv", rows)], [area("Alphaton")])
    assert list(crimes["crime_type"]) == [
        "Violence and sexual offences",
        "Violence and sexual offences",
        "Public order",
        "Violence and sexual offences",
        "Space piracy",
    ]
    assert list(crimes["crime_type_published"])[0] == "Violent crime"
    assert summary.legacy_labels == {"Violent crime": 2, "Public disorder and weapons": 1}
    assert summary.unknown_crime_types == {"Space piracy": 1}


def test_repeated_crime_ids_count_once_but_identical_asb_rows_are_kept(tmp_path):
    asb = street_row("2020-01", crime_type="Anti-social behaviour")
    rows = [
        street_row("2020-01", crime_id="A"),
        street_row("2020-01", crime_id="A"),  # the same crime published twice
        street_row("2020-01", crime_id="B"),
        asb,
        asb,  # two incidents at the same map point: both count
        street_row("2020-01", "", crime_id="B"),  # B again, as 'No Location'
        street_row("2020-01", "", crime_id="C"),  # a crime with no location at all
    ]
    crimes, summary = read_police_data([write_street_csv(tmp_path / "s.csv", rows)], [area("Alphaton")])
    assert sorted(crimes["crime_id"]) == ["", "", "A", "B"]
    assert summary.repeated_id_rows == 1
    assert summary.repeated_ids == 1
    assert summary.unlocated_rows == 1  # C only: the unlocated B repeats a located row
    assert summary.unlocated_repeat_rows == 1
    assert summary.force_rows == 7
    assert summary.unlocated_share == pytest.approx(1 / 7)


def test_an_areas_counts_do_not_depend_on_the_other_areas_in_the_run(tmp_path):
    # Crime ID X is published in an Alphaton LSOA and in a Betaville LSOA (as police.uk does
    # for some crimes). Each area counts it once, whichever areas are in the run.
    rows = [
        street_row("2020-01", "Alphaton 001A", crime_id="X"),
        street_row("2020-01", "Betaville 001A", crime_id="X"),
        street_row("2020-01", "Betaville 001A", crime_id="Y"),
    ]
    path = write_street_csv(tmp_path / "s.csv", rows)
    alone, _ = read_police_data([path], [area("Alphaton")])
    together, summary = read_police_data([path], [area("Alphaton"), area("Betaville")])
    assert (alone["area"] == "Alphaton").sum() == 1
    assert (together["area"] == "Alphaton").sum() == 1
    assert (together["area"] == "Betaville").sum() == 2
    assert summary.repeated_id_rows == 0


def test_what_repeated_ids_look_like_is_reported(tmp_path):
    rows = [
        street_row("2020-01", "Alphaton 001A", crime_id="A"),
        street_row("2020-01", "Alphaton 001A", crime_id="A"),  # identical
        street_row("2020-01", "Alphaton 001A", crime_id="B"),
        street_row("2020-01", "Alphaton 002B", crime_id="B"),  # another LSOA
        street_row("2020-01", "Alphaton 002B", crime_id="B"),  # and again: two extra rows for B
    ]
    _, summary = read_police_data([write_street_csv(tmp_path / "s.csv", rows)], [area("Alphaton")])
    assert summary.repeat_profile == {
        "ids": 2,
        "extra_rows": 3,
        "identical": 1,
        "several_lsoas": 1,
        "several_outcomes": 0,
        "several_months": 0,
        "several_types": 0,
    }
    assert summary.repeated_id_rows == 3 and summary.repeated_ids == 2


def _crimes_per_month(counts: dict[str, int], area_name: str = "Alphaton") -> pd.DataFrame:
    months = [m for m, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"area": area_name, "month": months})


def test_month_coverage_finds_missing_and_partial_months():
    counts = {m: 100 for m in month_range("2020-01", "2020-12")}
    del counts["2020-03"]  # no file for March
    counts["2020-07"] = 30  # a partial month: 30 against a median of 100 around it
    counts["2020-09"] = 60  # low, but above half the median: kept
    crimes = _crimes_per_month(counts)
    in_input = [m for m in month_range("2020-01", "2020-12") if m != "2020-03"] + ["2020-05"]
    coverage = month_coverage(crimes, "Alphaton", "2020-01", "2020-12", in_input, threshold=0.5)
    status = dict(zip(coverage["month"], coverage["status"]))
    assert status["2020-03"] == "missing"
    assert status["2020-07"] == "partial"
    assert status["2020-09"] == "present"
    assert sum(s == "present" for s in status.values()) == 10
    notes = dict(zip(coverage["month"], coverage["note"]))
    assert notes["2020-03"] == "no data for this month in the inputs"
    assert notes["2020-07"] == "30 rows against a median of 100 in the months around it"


def test_month_in_the_files_but_empty_for_the_area_is_missing():
    crimes = _crimes_per_month({"2020-01": 50, "2020-03": 50})
    coverage = coverage_for_areas(crimes, ["Alphaton"], "2020-01", "2020-03", ["2020-01", "2020-02", "2020-03"])
    row = coverage[coverage["month"] == "2020-02"].iloc[0]
    assert (row["area"], row["status"], row["note"]) == ("Alphaton", "missing", "no rows for the area")


def test_usable_months_leave_out_missing_and_partial_months_per_area():
    crimes = pd.concat(
        [
            _crimes_per_month({"2020-01": 50, "2020-03": 50}),
            _crimes_per_month({"2020-01": 40, "2020-02": 10, "2020-03": 40}, "Betaville"),
        ]
    )
    coverage = coverage_for_areas(
        crimes, ["Alphaton", "Betaville"], "2020-01", "2020-03", ["2020-01", "2020-02", "2020-03"]
    )
    assert usable_months(coverage, "Alphaton") == ["2020-01", "2020-03"]  # February missing
    assert usable_months(coverage, "Betaville") == ["2020-01", "2020-03"]  # 10 rows against 40: partial
    one_area = month_coverage(crimes, "Alphaton", "2020-01", "2020-03", ["2020-01", "2020-02", "2020-03"])
    assert usable_months(one_area) == ["2020-01", "2020-03"]


def test_processed_outputs_round_trip(tmp_path):
    crimes, summary = read_police_data([write_street_csv(tmp_path / "s.csv", ROWS)], [area("Alphaton")])
    coverage = month_coverage(crimes, "Alphaton", "2020-01", "2020-01", ["2020-01"])
    write_processed(crimes, coverage, summary, tmp_path / "processed")
    again, coverage_again, summary_again = read_processed(tmp_path / "processed")
    # The reader holds text in Arrow-backed strings; the later stages read it back as the
    # plain Python strings (object) they have always had. The values are the same.
    text = [c for c in crimes.columns if crimes[c].dtype == "string"]
    assert len(text) == 9 and all(again[c].dtype == object for c in text)
    pd.testing.assert_frame_equal(again, crimes.astype({c: object for c in text}))
    assert summary_again == summary
    with pytest.raises(InputDataError, match="run it first"):
        read_processed(tmp_path / "nothing-here")


def test_a_stage_reads_back_only_its_own_areas_rows_in_the_order_written(tmp_path):
    """Trends and the report read only the assessed area's rows (every area's run also holds
    its comparators'): the rows are those a filter on the whole table gives, in the same
    order, numbered from 0, with only the columns asked for."""
    from pipeline.analysis.police import read_crimes

    rows = ROWS + [
        street_row("2020-02", "Betaville 002B", "Drugs", "id7"),
        street_row("2020-02", "Alphaton 003C", "Arson", "id8"),
    ]
    crimes, summary = read_police_data(
        [write_street_csv(tmp_path / "s.csv", rows)], [area("Alphaton"), area("Betaville")]
    )
    write_processed(
        crimes,
        month_coverage(crimes, "Alphaton", "2020-01", "2020-02", ["2020-01", "2020-02"]),
        summary,
        tmp_path / "processed",
    )
    whole = read_processed(tmp_path / "processed")[0]
    own = read_crimes(tmp_path / "processed", ["area", "crime_type", "lsoa_name"], ["Alphaton"])
    assert own["lsoa_name"].tolist() == ["Alphaton 001A", "Alphaton 002B", "Alphaton 003C"]  # by hand, as written
    expected = whole.loc[whole["area"] == "Alphaton", ["area", "crime_type", "lsoa_name"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(own, expected)
    assert len(read_processed(tmp_path / "processed", ["area"], ["Betaville"])[0]) == 2


COUNTED_ROWS = ROWS + [
    street_row("2020-02", "Alphaton 003C", "Burglary", "id4"),
    street_row("2020-02", "Alphaton 001A", "Burglary", "id5"),
    street_row("2020-02", "Betaville 002B", "Drugs", "id6"),
]


def test_crimes_are_counted_by_area_month_and_crime_type_from_the_rows_or_their_file(tmp_path):
    from pipeline.analysis.police import count_crimes, read_counts

    crimes, summary = read_police_data(
        [write_street_csv(tmp_path / "s.csv", COUNTED_ROWS)], [area("Alphaton"), area("Betaville")]
    )
    # By hand: the unlocated Drugs row is in no area; Alphaton has two burglaries in February.
    expected = pd.DataFrame(
        {
            "area": ["Alphaton", "Alphaton", "Alphaton", "Betaville", "Betaville"],
            "month": ["2020-01", "2020-01", "2020-02", "2020-01", "2020-02"],
            "crime_type": ["Anti-social behaviour", "Burglary", "Burglary", "Burglary", "Drugs"],
            "count": [1, 1, 2, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(count_crimes(crimes), expected)
    coverage = coverage_for_areas(crimes, ["Alphaton", "Betaville"], "2020-01", "2020-02", ["2020-01", "2020-02"])
    write_processed(crimes, coverage, summary, tmp_path / "processed")
    pd.testing.assert_frame_equal(count_crimes(tmp_path / "processed/crimes.parquet"), expected)
    counts, coverage_again, summary_again = read_counts(tmp_path / "processed")
    pd.testing.assert_frame_equal(counts, expected)
    pd.testing.assert_frame_equal(coverage_again, coverage)
    assert summary_again == summary
    own = read_counts(tmp_path / "processed", areas=["Betaville"])[0]
    pd.testing.assert_frame_equal(own, expected.iloc[3:].reset_index(drop=True))
    (tmp_path / "processed/counts.parquet").unlink()
    with pytest.raises(InputDataError, match=r"missing \(counts.parquet\); run it first"):
        read_counts(tmp_path / "processed")


def test_counts_give_the_coverage_monthly_table_and_rates_the_rows_give(tmp_path):
    """The report and the trend stage count from the counts, the checks from the rows: both
    must come to the same figures (worked by hand for Alphaton)."""
    from pipeline.analysis.police import count_crimes
    from pipeline.analysis.trends import monthly_counts, window_rates

    crimes, _ = read_police_data(
        [write_street_csv(tmp_path / "s.csv", COUNTED_ROWS)], [area("Alphaton"), area("Betaville")]
    )
    counts = count_crimes(crimes)
    months = ["2020-01", "2020-02"]
    by_rows = coverage_for_areas(crimes, ["Alphaton", "Betaville"], "2019-12", "2020-02", months)
    pd.testing.assert_frame_equal(
        coverage_for_areas(counts, ["Alphaton", "Betaville"], "2019-12", "2020-02", months), by_rows
    )
    assert by_rows["rows"].tolist() == [0, 2, 2, 0, 1, 1]
    monthly = monthly_counts(counts, "Alphaton", months)
    pd.testing.assert_frame_equal(monthly, monthly_counts(crimes, "Alphaton", months))
    assert monthly.to_dict("index") == {
        "2020-01": {"Anti-social behaviour": 1, "Burglary": 1, "All crime (excluding ASB)": 1},
        "2020-02": {"Anti-social behaviour": 0, "Burglary": 2, "All crime (excluding ASB)": 2},
    }
    areas = [area("Alphaton"), area("Betaville")]
    usable = {"Alphaton": months, "Betaville": months}
    rates = window_rates(counts, areas, usable, "2020-12")
    pd.testing.assert_frame_equal(rates, window_rates(crimes, areas, usable, "2020-12"))
    assert rates.set_index("area").loc["Alphaton", "Burglary"] == 3


@pytest.mark.shared_data
def test_real_force_archive_against_an_independent_count(tmp_path):
    """The reader's South Gloucestershire counts match a plain csv-module count of the archive."""
    import csv
    import io
    from collections import Counter

    if not SHARED_ZIP.exists():
        pytest.skip("needs ../shared/data/police-uk beside the checkout")
    expected_rows: Counter = Counter()
    seen: set[str] = set()
    with zipfile.ZipFile(SHARED_ZIP) as archive:
        for name in sorted(n for n in archive.namelist() if n.endswith("-street.csv")):
            reader = csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8"))
            next(reader)
            for row in reader:
                if row[8].startswith("South Gloucestershire "):
                    if row[0] and row[0] in seen:
                        continue
                    seen.add(row[0]) if row[0] else None
                    expected_rows[row[1]] += 1
    crimes, summary = read_police_data([SHARED_ZIP], [area("South Gloucestershire")])
    assert crimes.groupby("month").size().to_dict() == dict(expected_rows)
    assert len(summary.months_in_input) == 44
    assert "2019-07" not in summary.months_in_input
    assert summary.force_rows == 620495


def test_unreadable_police_files_say_where_and_what_was_expected(tmp_path):
    good = street_csv_text([street_row("2020-01")])
    ragged = tmp_path / "ragged-street.csv"
    ragged.write_text(good + "x,2020-01,extra,values,1,2,3,4,5,6,7,8,9\n", encoding="utf-8")
    ansi = tmp_path / "ansi-street.csv"
    ansi.write_bytes(
        good.encode("utf-8")
        + "x,2020-01,Test Police,Test Police,,,On or near Caf\u00e9 Row,,,Burglary,,\n".encode("cp1252")
    )
    # A header saved as Windows-1252: pyarrow reads it, and fails only when naming the columns.
    ansi_header = tmp_path / "ansi-header-street.csv"
    ansi_header.write_bytes(good.replace("Crime type", "Crime typ\u00e9").encode("cp1252"))
    workbook = tmp_path / "saved-from-excel-street.csv"
    workbook.write_bytes(b"PK\x03\x04 an xlsx file renamed")
    for path, expected in (
        (ragged, "ragged-street.csv, row 3: has 13 values"),
        (ansi, "ansi-street.csv, row 3: byte 0xe9 is not UTF-8 text"),
        (ansi_header, "ansi-header-street.csv, row 1: byte 0xe9 is not UTF-8 text"),
        (workbook, "saved-from-excel-street.csv: is a spreadsheet (Excel or similar), not a CSV file"),
    ):
        with pytest.raises(InputDataError) as caught:
            read_police_data([path], [area("Alphaton")])
        assert expected in str(caught.value)


def test_a_kept_read_is_the_same_frame_and_shared_by_runs_listing_the_areas_in_any_order(tmp_path):
    from dataclasses import asdict

    from pipeline.inputs.police_reads import READS_FOLDER

    path = write_street_csv(tmp_path / "s.csv", ROWS)
    processed = tmp_path / "processed"
    fresh, fresh_summary = read_police_data([path], [area("Alphaton"), area("Betaville")])
    first, _ = read_police_data([path], [area("Alphaton"), area("Betaville")], kept_reads=processed)
    assert len(list((processed / READS_FOLDER).iterdir())) == 2  # the entry and the folder's marker
    # Betaville's run lists Alphaton as its comparator: the same read serves it.
    kept, kept_summary = read_police_data([path], [area("Betaville"), area("Alphaton")], kept_reads=processed)
    pd.testing.assert_frame_equal(kept, fresh)
    assert asdict(kept_summary) == asdict(fresh_summary)
    assert len([p for p in (processed / READS_FOLDER).iterdir() if p.is_dir()]) == 1
    # Different areas, or a changed file, are a different read.
    read_police_data([path], [area("Alphaton")], kept_reads=processed)
    write_street_csv(path, ROWS[:2])
    changed, _ = read_police_data([path], [area("Alphaton"), area("Betaville")], kept_reads=processed)
    assert (changed["area"] == "Betaville").sum() == 0
    assert len([p for p in (processed / READS_FOLDER).iterdir() if p.is_dir()]) == 3


def test_the_police_stage_copies_a_kept_reads_file_which_is_what_it_would_write(tmp_path):
    """The police stage copies the kept read's crimes file instead of writing the frame again:
    the copy must be, byte for byte, the file written from a fresh read's frame, and a stage
    asking for two columns gets them as in the whole frame. If the read is no longer kept,
    the rows are read again."""
    import shutil
    from pathlib import Path

    from pipeline.analysis.police import kept_crimes
    from pipeline.inputs.police_reads import READS_FOLDER

    path = write_street_csv(tmp_path / "s.csv", ROWS + [street_row("2020-02", "Betaville 002B", "Drugs", "id9")])
    areas = [area("Alphaton"), area("Betaville")]
    fresh, summary = read_police_data([path], areas)
    write_processed(fresh, pd.DataFrame(), summary, tmp_path / "written")
    processed = tmp_path / "processed"
    few, _ = read_police_data([path], areas, kept_reads=processed, columns=["area", "month"])  # a fresh read, kept
    pd.testing.assert_frame_equal(few, fresh[["area", "month"]])
    again, _ = read_police_data([path], areas, kept_reads=processed, columns=["area", "month"])  # from the kept read
    pd.testing.assert_frame_equal(again, fresh[["area", "month"]])
    kept = kept_crimes([path], areas, processed)
    assert isinstance(kept, Path) and kept.parent.parent == processed / READS_FOLDER
    write_processed(kept, pd.DataFrame(), summary, tmp_path / "copied")
    assert (tmp_path / "copied/crimes.parquet").read_bytes() == (tmp_path / "written/crimes.parquet").read_bytes()
    pd.testing.assert_frame_equal(read_processed(tmp_path / "copied")[0], read_processed(tmp_path / "written")[0])
    shutil.rmtree(kept.parent)
    pd.testing.assert_frame_equal(kept_crimes([path], areas, processed), fresh)


def test_runs_side_by_side_in_one_process_can_keep_the_same_read_at_once(tmp_path, monkeypatch):
    """Two areas of a batch, in two threads of one process, keep the same read together:
    each writes its own partial folder, one is renamed into place, neither fails."""
    import threading

    from pipeline.inputs import police_reads

    path = write_street_csv(tmp_path / "s.csv", ROWS)
    crimes, summary = read_police_data([path], [area("Alphaton")])
    key = police_reads.read_key([path], [area("Alphaton")])
    both_writing = threading.Barrier(2)
    as_dict = police_reads.asdict

    arrived = []
    entry = tmp_path / "processed" / police_reads.READS_FOLDER / key

    def summary_when_both_are_writing(value):
        both_writing.wait(timeout=10)  # both threads have written their crimes.parquet
        arrived.append(threading.get_ident())
        if arrived[0] != threading.get_ident():  # the second goes on once the first's read is in place
            for _ in range(100):
                if entry.is_dir():
                    break
                threading.Event().wait(0.05)
        return as_dict(value)

    monkeypatch.setattr(police_reads, "asdict", summary_when_both_are_writing)
    failures = []

    def keep():
        try:
            police_reads.save_read(tmp_path / "processed", key, crimes, summary)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=keep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    monkeypatch.undo()
    assert failures == []
    kept = police_reads.load_read(tmp_path / "processed", key)
    assert kept is not None
    pd.testing.assert_frame_equal(kept[0], crimes)


def test_a_batch_shares_a_kept_read_in_memory_and_loads_it_from_disk_once(tmp_path, monkeypatch):
    """While sharing, four areas' checks in four threads get one frame, read from disk once;
    outside, every load reads the disk (and after a batch nothing stays in memory)."""
    import threading

    from pipeline.inputs import police_reads

    path = write_street_csv(tmp_path / "s.csv", ROWS)
    processed = tmp_path / "processed"
    fresh, _ = read_police_data([path], [area("Alphaton"), area("Betaville")], kept_reads=processed)
    disk_loads = []
    from_disk = police_reads._load_from_disk
    monkeypatch.setattr(police_reads, "_load_from_disk", lambda *a: disk_loads.append(1) or from_disk(*a))
    got = []
    with police_reads.sharing_reads():
        with police_reads.sharing_reads():  # a batch inside a force run: still the one share
            threads = [
                threading.Thread(
                    target=lambda: got.append(
                        read_police_data([path], [area("Betaville"), area("Alphaton")], kept_reads=processed)[0]
                    )
                )
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        assert police_reads._shared is not None
    assert len(got) == 4 and all(frame is got[0] for frame in got) and len(disk_loads) == 1
    pd.testing.assert_frame_equal(got[0], fresh)
    assert police_reads._shared is None
    read_police_data([path], [area("Alphaton"), area("Betaville")], kept_reads=processed)
    read_police_data([path], [area("Alphaton"), area("Betaville")], kept_reads=processed)
    assert len(disk_loads) == 3


def test_the_areas_checks_work_out_from_a_shared_read_once_and_give_each_area_its_own(tmp_path, monkeypatch):
    """While a read is shared, two areas' input checks work out rows, LSOAs and coverage per
    area once (each area's as if checked alone); outside a share, every check works them out."""
    from types import SimpleNamespace

    from pipeline.analysis import police
    from pipeline.inputs import police_reads
    from pipeline.orchestration import checks

    path = write_street_csv(tmp_path / "s.csv", ROWS)
    processed = tmp_path / "processed"
    read_police_data([path], [area("Alphaton"), area("Betaville")], kept_reads=processed)
    worked_out = []
    coverage = police.month_coverage
    monkeypatch.setattr(
        police, "month_coverage", lambda crimes, name, *a: worked_out.append(name) or coverage(crimes, name, *a)
    )

    def check(first: str, second: str):
        # What police_checks reads of the params: one month of data, January 2020, in a window ending then.
        own, other = area(first), area(second)
        params = SimpleNamespace(
            inputs=SimpleNamespace(police=[path]),
            area=own,
            all_areas=[own, other],
            processed_dir=processed,
            period_end="2020-01",
            partial_month_threshold=0.5,
        )
        return checks.police_checks(params)

    alone = {name: check(name, other) for name, other in (("Alphaton", "Betaville"), ("Betaville", "Alphaton"))}
    assert sorted(worked_out) == ["Alphaton", "Alphaton", "Betaville", "Betaville"]
    # ROWS: two located rows in Alphaton (two LSOAs), one in Betaville, all in January 2020.
    problems, _, facts, lsoas, _ = alone["Alphaton"]
    assert (
        problems == []
        and "Alphaton 2 rows, Betaville 1 rows" in facts[0]
        and "1 usable month(s) for Alphaton" in facts[0]
    )
    assert {name: len(codes) for name, codes in lsoas.items()} == {"Alphaton": 2, "Betaville": 1}
    worked_out.clear()
    with police_reads.sharing_reads():
        shared = {name: check(name, other) for name, other in (("Alphaton", "Betaville"), ("Betaville", "Alphaton"))}
    assert sorted(worked_out) == ["Alphaton", "Betaville"]
    assert shared == alone  # the same problems, warnings, facts and LSOAs for each area
    assert police_reads._derived == {}


def test_every_pair_of_overlapping_inputs_is_named_once_with_its_shared_rows(tmp_path):
    # a: rows r1 r2 (2020-01); b: r2 (2020-01) and r3 (2020-02); c: r1 r3 and its own r4.
    # By hand: b shares r2 with a (1 row, 2020-01); c shares r1 with a (1 row, 2020-01)
    # and r3 with b (1 row, 2020-02). Three messages, later file first, in input order.
    r1 = street_row("2020-01", "Alphaton 001A", "Burglary", "id1")
    r2 = street_row("2020-01", "Alphaton 002B", "Burglary", "id2")
    r3 = street_row("2020-02", "Alphaton 001A", "Drugs", "id3")
    r4 = street_row("2020-02", "Alphaton 002B", "Drugs", "id4")
    a = write_street_csv(tmp_path / "a-street.csv", [r1, r2])
    b = write_street_csv(tmp_path / "b-street.csv", [r2, r3])
    c = write_street_csv(tmp_path / "c-street.csv", [r1, r3, r4])
    with pytest.raises(InputDataError) as error:
        read_police_data([a, b, c], [area("Alphaton")])
    lines = [line for line in str(error.value).splitlines() if "both hold" in line]
    assert len(lines) == 3
    assert f"{b} and {a} both hold the same 1 row(s) (months 2020-01)" in lines[0]
    assert f"{c} and {a} both hold the same 1 row(s) (months 2020-01)" in lines[1]
    assert f"{c} and {b} both hold the same 1 row(s) (months 2020-02)" in lines[2]


def test_a_shared_row_is_found_when_one_file_must_be_read_as_text(tmp_path):
    # a reads its map points as numbers; b holds a point that is not a number, so b is read
    # as text. By hand: b repeats a's two rows (one located, one with no location); written
    # "-2.50" in b, the same number as a's "-2.5", so 2 shared rows in 2020-01.
    r1 = street_row("2020-01", "Alphaton 001A", "Burglary", "id1")
    r2 = street_row("2020-01", "", "Drugs", "id2")
    odd = street_row("2020-01", "Alphaton 002B", "Drugs", "id3")
    odd[4] = "west"
    r1_again = list(r1)
    r1_again[4] = "-2.50"
    a = write_street_csv(tmp_path / "a-street.csv", [r1, r2])
    b = write_street_csv(tmp_path / "b-street.csv", [r1_again, r2, odd])
    with pytest.raises(InputDataError, match=rf"{b} and {a} both hold the same 2 row\(s\) \(months 2020-01\)"):
        read_police_data([a, b], [area("Alphaton")])
    # Files naming different months are not compared, and read alone b is fine: its odd
    # point is counted and quoted as written, and both halves of that map point are blanked.
    crimes, summary = read_police_data([b], [area("Alphaton")])
    assert summary.bad_coordinates == 1
    assert summary.bad_coordinate_examples == [f"{b}, row 4: longitude 'west', latitude '51.5'"]
    odd_row = crimes[crimes["crime_id"] == "id3"].iloc[0]
    assert pd.isna(odd_row["longitude"]) and pd.isna(odd_row["latitude"])
    assert crimes.loc[crimes["crime_id"] == "id1", "longitude"].tolist() == [-2.5]


def test_a_district_name_that_matches_no_row_is_an_error_even_when_the_area_has_rows(tmp_path):
    """Somerset's case: one of a partnership's districts misspelt (or named as after 2019) must not
    silently drop that district's crimes."""
    from types import SimpleNamespace

    from pipeline.orchestration import checks

    path = write_street_csv(tmp_path / "s.csv", ROWS)
    own = area("Partnership", ["Alphaton", "Alfaton Vale"])
    params = SimpleNamespace(
        inputs=SimpleNamespace(police=[path]),
        area=own,
        all_areas=[own],
        processed_dir=tmp_path,
        period_end="2020-01",
        partial_month_threshold=0.5,
    )
    problems = checks.police_checks(params)[0]
    assert len(problems) == 1
    assert problems[0].startswith(
        "area.lsoa_name_prefixes: 'Alfaton Vale' (area 'Partnership') matches no row of the police data, so that "
        "district's crimes would be left out of Partnership's counts."
    )
    # The nearest spelling in the data comes first, with its rows.
    assert "Local authorities in the police data, nearest spellings first: Alphaton (" in problems[0]
