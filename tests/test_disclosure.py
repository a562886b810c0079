"""Disclosure control that survives arithmetic: suppression worked by hand, and the checker
that tries to work every suppressed cell back out."""

from __future__ import annotations

import pandas as pd

from pipeline.analysis.hotspots import SUPPRESSED as S
from pipeline.analysis.hotspots import suppress
from pipeline.documents.disclosure import check_run, recoverable_cells


def test_a_small_row_total_is_suppressed_like_any_count():
    # Row b's total is 3: a count from 1 to 5, so it is hidden; its cells (1 and 2) are hidden too.
    frame = pd.DataFrame({"band": ["a", "b"], "F": [10, 1], "M": [12, 2], "Total": [22, 3]})
    out = suppress(frame, ["F", "M"], 5, total_column="Total")
    assert out.values.tolist() == [["a", 10, 12, 22], ["b", S, S, S]]


def test_row_and_column_secondary_suppression_repeat_until_nothing_is_revealed():
    # Primary: x/F = 2. Column F splits a published total, so the next smallest F (y/F = 6) goes too;
    # that leaves row y with one hidden count beside its total, so y's next smallest (y/M = 7) goes;
    # column M now has one hidden, so its next smallest (x/M = 8) goes: rows x and y each hide two.
    frame = pd.DataFrame({"band": ["x", "y", "z"], "F": [2, 6, 30], "M": [8, 7, 40], "Total": [10, 13, 70]})
    out = suppress(frame, ["F", "M"], 5, total_column="Total", column_totals=True)
    assert out.values.tolist() == [["x", S, S, 10], ["y", S, S, 13], ["z", 30, 40, 70]]
    assert recoverable_cells(out.astype(str), splits_published_total=True) == []


def test_the_checker_works_out_what_subtraction_reveals():
    # The held-out run's case: every LSOA listed, the area total published elsewhere: 112 - (65+15+14+7+6) = 5.
    lsoas = pd.DataFrame({"LSOA": list("abcdef"), "Count": ["65", "15", "14", "7", "6", S]})
    assert recoverable_cells(lsoas, splits_published_total=True) == [
        "row 6, Count: by subtraction from the column's published total"
    ]
    assert recoverable_cells(lsoas, splits_published_total=False) == []  # a top-N list: the rest unknown
    # The same count's share of the area is shown: it reveals it.
    shares = lsoas.assign(**{"Share of the area (%)": ["58.0", "13.4", "12.5", "6.2", "5.4", "4.5"]})
    assert "row 6, Count: from Share of the area (%) (4.5) in the same row" in recoverable_cells(shares)
    # A total column and a total row: row b's one hidden cell, then column M's with it known.
    table = pd.DataFrame(
        {"Band": ["a", "b", "Total"], "F": ["10", S, "19"], "M": [S, "12", "20"], "Total": ["18", "21", "39"]}
    )
    assert recoverable_cells(table) == [
        "row 1, M: by subtraction from its row total",
        "row 2, F: by subtraction from its row total",
    ]
    # Small totals shown beside suppressed cells (the default's victims table had 3 and 2).
    victims = pd.DataFrame({"Band": ["a", "b"], "F": [S, S], "M": [S, S], "Total": ["7", "3"]})
    assert recoverable_cells(victims) == ["row 2, Total: a count of 3 is shown"]


def test_check_run_reads_every_table_and_knows_which_split_a_published_total(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    pd.DataFrame({"Ward": ["w1", "w2", "w3"], "Crimes": ["40", S, "9"]}).to_csv(tables / "wards.csv", index=False)
    pd.DataFrame({"Point": ["p1", "p2"], "Crimes": ["40", S]}).to_csv(
        tables / "hotspots-points-anti-social.csv", index=False
    )
    by_type = pd.DataFrame(
        {
            "Crime type": ["Burglary", "Burglary", "Robbery", "Robbery", "Robbery"],
            "LSOA": list("abcde"),
            "Count": ["9", S, "8", "7", S],
        }
    )
    by_type.to_csv(tables / "hotspots-by-type.csv", index=False)
    # Wards split the area's total: one hidden ward is revealed. Burglary has 2 rows (< 3): all its LSOAs.
    assert check_run(tmp_path) == [
        "hotspots-by-type.csv: row 2, Count: by subtraction from the column's published total",
        "wards.csv: row 2, Crimes: by subtraction from the column's published total",
    ]
