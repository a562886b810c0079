"""The analyst's commentary file: parsing, checking and filling in published figures."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.documents.assessment.commentary import commentary_figures
from pipeline.errors import InputDataError
from pipeline.inputs.commentary import Recommendation, fill_references, read_commentary

ROOT = Path(__file__).resolve().parent.parent


def test_sections_and_recommendations_are_read(tmp_path):
    path = tmp_path / "commentary.md"
    path.write_text(
        "## Hotspots\nThe prison hotspot is {{ asb_count }} incidents.\n\n"
        "## Recommendations\n"
        "- Fund a caseworker. Owner: ASB Group. Evidence: Hotspots\n\n"
        "* Review data sharing. Owner: Police. Evidence: Data quality.\n",
        encoding="utf-8",
    )
    found = read_commentary(path)
    assert found.sections == {"Hotspots": "The prison hotspot is {{ asb_count }} incidents."}
    assert found.recommendations == [
        Recommendation("Fund a caseworker.", "ASB Group", "Hotspots"),
        Recommendation("Review data sharing.", "Police", "Data quality"),
    ]


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    path = tmp_path / "commentary.md"
    path.write_text(
        "Stray words\n## Hotspot\ntext\n## Monthly trend\n{{crime_total}} crimes\n"
        "## Recommendations\n- Do it. Owner: Us. Evidence: Nowhere\n- No owner given\n",
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as caught:
        read_commentary(path)
    message = str(caught.value)
    assert str(path) in message
    assert "line 1: text before the first '## Section' heading" in message
    assert "line 2: heading 'Hotspot' names no section" in message and "Hotspots" in message
    assert "line 5: {{crime_total}} refers to no published figure" in message and "crime_count" in message
    assert "line 7: evidence section 'Nowhere' is not a section" in message
    assert "line 8: '- No owner given' is not a recommendation" in message


def test_references_are_filled_and_a_missing_figure_is_said_to_be_missing():
    text = "In {{window}}, {{ crime_count }} crimes ({{crime_change_percent}})."
    assert fill_references(text, {"window": "Jan 2020 to Dec 2020", "crime_count": "1,234"}) == (
        "In Jan 2020 to Dec 2020, 1,234 crimes ((not available this run: crime_change_percent))."
    )


def test_figures_come_from_the_published_tables():
    comparison = pd.DataFrame(
        {
            "crime_type": ["All crime (excluding ASB)", "Anti-social behaviour", "Burglary"],
            "window_count": [12000, 3400, 900],
            "pct_change": [-3.64, 2.71, -26.4],
        }
    )
    rates = pd.DataFrame({"area": ["A"], "All crime (excluding ASB) rate": [50.04]})
    windows = {"window_text": "Jan 2020 to Dec 2020 (12 months)", "months_compared": "11"}
    assert commentary_figures(comparison, rates, windows) == {
        "window": "Jan 2020 to Dec 2020 (12 months)",
        "crime_count": "12,000",
        "crime_change_percent": "-3.6%",
        "asb_count": "3,400",
        "asb_change_percent": "+2.7%",
        "crime_rate_per_1000": "50.0",
    }
    # No like-for-like months: no change can be given, so none is (the reference says so).
    no_pairs = commentary_figures(comparison, rates, {**windows, "months_compared": "0"})
    assert "crime_change_percent" not in no_pairs and no_pairs["crime_count"] == "12,000"


def test_the_bundled_sample_commentary_is_valid():
    found = read_commentary(ROOT / "data/raw/commentary/sample-commentary.md")
    assert set(found.sections) == {"Executive summary", "Monthly trend", "Hotspots"}
    assert len(found.recommendations) == 3
