"""Offence code lookup, code normalisation and threat definitions, against hand-worked rows."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.inputs.offences import evidence_status, normalise_code, offence_codes, threat_mask
from pipeline.params import ThreatDefinition, threat_catalogue

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared/reference-data/offence-codes/policeuk-ons-code-join.csv"


@pytest.mark.parametrize(
    "code, group, subgroup, police_uk, weight",
    [
        # Read by hand from policeuk-ons-code-join.csv (weights to 4 decimals) and ONS's user guide.
        ("8N", "violence against the person", "violence with injury", "Violence and sexual offences", 189.1539),
        ("92E", "drug offences", "possession of drugs", "Drugs", 1.7706),
        ("105A", "violence against the person", "violence without injury", "Violence and sexual offences", 13.5105),
        ("19C", "sexual offences", "rape", "Violence and sexual offences", 2952.9410),
        ("28E", "theft offences", "domestic burglary", "Burglary", 465.3815),
        ("56A", "criminal damage and arson", "arson", "Criminal damage and arson", 826.1901),
        ("1", "violence against the person", "homicide", "Violence and sexual offences", 7973.3934),
    ],
)
def test_lookup_rows_match_the_source(code, group, subgroup, police_uk, weight):
    row = offence_codes().loc[code]
    assert (row["ons_group"], row["ons_subgroup"], row["police_uk_category"]) == (group, subgroup, police_uk)
    assert row["severity_weight"] == pytest.approx(weight, abs=1e-4)


def test_lookup_has_one_row_per_code_and_every_police_uk_type():
    table = offence_codes()
    assert table.index.is_unique and len(table) == 133  # 134 source rows less ONS's homicide total
    assert set(table["police_uk_category"]) == {
        "Bicycle theft",
        "Burglary",
        "Criminal damage and arson",
        "Drugs",
        "Other crime",
        "Other theft",
        "Possession of weapons",
        "Public order",
        "Robbery",
        "Shoplifting",
        "Theft from the person",
        "Vehicle crime",
        "Violence and sexual offences",
    }
    # Excel date serials from the source (44062 for 19C) are dropped, never kept as classes.
    assert table.loc["19C", "home_office_class"] == "" and table.loc["56A", "home_office_class"] == "56/1"


@pytest.mark.shared_data
def test_a_rebuild_from_the_reference_data_matches_the_shipped_lookup():
    if not SOURCE.is_file():
        pytest.fail("../shared/reference-data is needed beside the checkout for this test")
    spec = importlib.util.spec_from_file_location("build_offence_codes", ROOT / "scripts/build_offence_codes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build(SOURCE) == (ROOT / "pipeline/data/offence_codes.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "written, code",
    [
        ("8N", "8N"),
        ("8n", "8N"),
        (" 105a ", "105A"),
        ("008N", "8N"),
        ("092D", "92D"),
        ("056/01", "56A"),
        ("56/1", "56A"),
        ("037/02", "37.2"),
        ("046/00", "46"),
        ("092/61", "92E"),
        ("ZZ9", None),
        ("58", None),
        ("", None),
    ],
)
def test_codes_are_recognised_as_forces_write_them(written, code):
    assert normalise_code(written) == code


def _crimes(rows):
    frame = pd.DataFrame(
        rows, columns=["offence_code", "flag_domestic_abuse", "flag_hate_crime", "flag_knife", "flag_alcohol"]
    )
    lookup = offence_codes()
    frame["ons_group"] = frame["offence_code"].map(lookup["ons_group"])
    frame["ons_subgroup"] = frame["offence_code"].map(lookup["ons_subgroup"])
    return frame


CRIMES = _crimes(
    [
        # code, DA, hate, knife, alcohol
        ("8N", True, False, False, True),  # 0 assault with injury, DA, alcohol
        ("105A", False, True, False, False),  # 1 common assault, hate flag
        ("8P", False, False, False, False),  # 2 racially aggravated assault with injury, not flagged
        ("19C", True, False, False, False),  # 3 rape, DA
        ("88E", False, False, False, False),  # 4 exposure
        ("92E", False, False, False, False),  # 5 cannabis possession
        ("92A", False, False, False, False),  # 6 trafficking
        ("92D", False, False, False, False),  # 7 possession other than cannabis
        ("34B", False, False, True, False),  # 8 robbery, knife
        ("58A", False, False, True, False),  # 9 criminal damage, knife flag
        ("10D", False, False, True, False),  # 10 blade possession
        ("28E", True, False, False, False),  # 11 burglary, DA
        ("105A", False, False, False, True),  # 12 common assault, alcohol
    ]
)


@pytest.mark.parametrize(
    "key, expected",
    [
        ("domestic-abuse", [0, 3, 11]),
        ("hate-crime", [1, 2]),
        ("serious-sexual-offences", [3, 4]),
        ("drug-offences-other-than-cannabis", [6, 7]),
        ("serious-violence", [0, 2, 8, 9, 10]),
        ("burglary", [11]),
        ("alcohol-related-violence", [0, 12]),
    ],
)
def test_each_default_threat_selects_the_crimes_worked_out_by_hand(key, expected):
    assert list(np.flatnonzero(threat_mask(CRIMES, threat_catalogue()[key]))) == expected


def test_a_flag_the_extract_lacks_selects_nothing_and_the_status_says_why():
    crimes = CRIMES.drop(columns=["flag_knife"])
    definition = threat_catalogue()["serious-violence"]
    assert list(np.flatnonzero(threat_mask(crimes, definition))) == [0, 2, 8, 10]
    partial = evidence_status(definition, {"domestic_abuse", "hate_crime"})
    assert partial.evidenced and partial.partial and "knife" in partial.note
    missing = evidence_status(threat_catalogue()["child-exploitation"], {"domestic_abuse"})
    assert not missing.evidenced and "child exploitation flag" in missing.note
    assert not evidence_status(None, set()).evidenced
    whole = evidence_status(threat_catalogue()["alcohol-related-violence"], {"knife"})
    assert not whole.evidenced and "alcohol" in whole.note


def test_a_definition_must_select_something():
    with pytest.raises(ValueError, match="at least one of codes"):
        ThreatDefinition(description="nothing")
