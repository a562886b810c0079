"""Areas by official geography and the bundled ONS populations, against ONS's published figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ParamsError
from pipeline.months import assessment_window
from pipeline.params import AreaDefinition, load_params, validate_params
from pipeline.reference import ENGLAND_AND_WALES, district_populations, districts_named, population_of

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared/data/police-uk/avon-and-somerset-street-2018-01_2021-09.zip"


def test_bundled_estimates_match_ons_published_figures():
    # ONS mid-year estimates as published (shared/reference-data/population/README.md and ../README.md).
    table = district_populations()
    assert table["E06000025"][2019][0] == 285_093 and table["E06000025"][2020][0] == 287_816
    assert table["E06000025"][2023][0] == 299_439
    assert table["E06000023"][2019][0] == 463_377  # Bristol, City of
    assert table[ENGLAND_AND_WALES][2019][0] == 59_439_840 and table[ENGLAND_AND_WALES][2020][0] == 59_719_724
    assert table[ENGLAND_AND_WALES][2023][0] == 60_854_727


def test_an_area_named_by_its_districts_takes_their_estimate_for_the_windows_year_or_the_nearest():
    area = AreaDefinition(name="South Gloucestershire", lsoa_name_prefixes=["South Gloucestershire"])
    population = area.population_for(assessment_window("2020-12"))
    assert (population.value, population.year) == (287_816, 2020)
    assert population.source == "ONS mid-year estimate, mid-2020: South Gloucestershire"
    # A window centred on 2018: 2017 and 2019 are equally near; the earlier is taken, and said.
    held = area.population_for(assessment_window("2018-12"))
    assert held.year == 2017 and held.source.endswith("(the nearest year held to 2018, 1 year away)")
    # A typed figure still overrides.
    typed = AreaDefinition(
        name="X",
        lsoa_name_prefixes=["South Gloucestershire"],
        population={"value": 1000, "year": 2020, "source": "typed"},
    )
    assert typed.population_for(assessment_window("2020-12")).value == 1000
    # Two districts: the sum. 2011 LSOA names "Taunton Deane" and "West Somerset" are one district since 2019.
    codes, unknown = districts_named(["Taunton Deane", "West Somerset", "Mendip"])
    assert unknown == [] and codes["2011"] == ["E07000187", "E07000246"]
    value, year, _ = population_of(codes, 2020)
    table = district_populations()
    assert (value, year) == (table["E07000187"][2020][0] + table["E07000246"][2020][0], 2020)


def test_the_default_2020_rate_uses_the_mid_2020_estimate():
    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    assert params.area.population_for(params.windows.assessment).value == 287_816


def test_official_geography_names_are_checked_with_the_nearest_names():
    base = {"period_end": "2020-12", "inputs": {"police": [str(ARCHIVE.parent)]}, "output_dir": "outputs/x"}
    with pytest.raises(ParamsError) as caught:
        validate_params({**base, "area": {"name": "S", "partnership": "Somersett"}})
    assert "partnership: 'Somersett' is not a Community Safety Partnership in the bundled ONS lookup" in str(
        caught.value
    )
    assert "the nearest names: Somerset" in str(caught.value)
    with pytest.raises(ParamsError, match="districts: 'Mendipp' is not a district in the bundled ONS lookup"):
        validate_params({**base, "area": {"name": "S", "districts": ["Mendipp", "E07000188"]}})
    with pytest.raises(ParamsError, match="give exactly one of partnership"):
        validate_params({**base, "area": {"name": "S", "partnership": "Somerset", "districts": ["Mendip"]}})
    with pytest.raises(ParamsError, match="population: not given, and 'Nowhere' is not a district name"):
        validate_params({**base, "area": {"name": "S", "lsoa_name_prefixes": ["Nowhere"]}})
    area = AreaDefinition(name="S", districts=["Mendip", "E07000188"])  # by name and by code (Sedgemoor)
    assert len(area.official_lsoas) > 100 and area.population_for(assessment_window("2020-12")).year == 2020


@pytest.mark.shared_data
@pytest.mark.skipif(not ARCHIVE.is_file(), reason="needs ../shared/data (the force archive)")
def test_somerset_named_as_one_partnership_counts_all_five_districts():
    # The independent count: 32,732 crimes excluding ASB, Oct 2020 to Sep 2021, in Mendip, Sedgemoor,
    # South Somerset, Taunton Deane and West Somerset (2011 LSOA names).
    from pipeline.inputs.police_reads import read_police_data

    crimes, _ = read_police_data([ARCHIVE], [AreaDefinition(name="Somerset", partnership="Somerset")])
    window = set(assessment_window("2021-09"))
    counted = crimes[(crimes["area"] == "Somerset") & crimes["month"].isin(window)]
    assert int((counted["crime_type"] != "Anti-social behaviour").sum()) == 32_732


def test_a_force_as_an_area_is_every_lsoa_of_its_partnerships_with_their_population():
    from pipeline.reference import lsoa_geography

    force = AreaDefinition(name="Avon and Somerset", force="Avon and Somerset")
    partnerships = [
        "Bath and North East Somerset",
        "Bristol, City of",
        "North Somerset",
        "Somerset",
        "South Gloucestershire",
    ]
    together = set().union(*(AreaDefinition(name=n, partnership=n).official_lsoas for n in partnerships))
    assert force.official_lsoas == together
    # 2011 and 2021 LSOAs together: the 2011 lookup's codes are all among them.
    assert {
        r["lsoa_code"] for r in lsoa_geography()["2011"] if r["force"] == "Avon and Somerset"
    } <= force.official_lsoas
    # Mid-2020: the force's 2020 districts summed (ONS): B&NES 196,357, Bristol 465,866, N Somerset 215,574,
    # S Glos 287,816 and Somerset's four districts.
    table = district_populations()
    somerset = sum(table[c][2020][0] for c in ("E07000187", "E07000188", "E07000189", "E07000246"))
    assert force.population_for(assessment_window("2020-12")).value == 196_357 + 465_866 + 215_574 + 287_816 + somerset
    with pytest.raises(ValueError, match="force: 'Avon & Somerset' is not a police force area .* Avon and Somerset"):
        AreaDefinition(name="x", force="Avon & Somerset")


@pytest.mark.shared_data
def test_the_build_script_reproduces_the_bundled_populations(tmp_path):
    if not (ROOT.parent / "shared/reference-data").is_dir():
        pytest.fail("../shared/reference-data is needed beside the checkout for this test")
    import runpy

    runpy.run_path(str(ROOT / "scripts/build_population.py"))["main"](["--target", str(tmp_path)])
    for name in ("district-population.csv.gz", "lsoa-name-district.csv.gz"):
        assert (tmp_path / name).read_bytes() == (ROOT / "pipeline/data" / name).read_bytes(), name


@pytest.mark.shared_data
@pytest.mark.skipif(not ARCHIVE.is_file(), reason="needs ../shared/data (the force archive)")
def test_a_force_beside_its_partnerships_counts_each_located_row_once_for_itself():
    # The force contains the partnerships: their rows are kept a second time under its name. Their
    # own counts are as if it were not there; its count takes a Crime ID once across all of them.
    from pipeline.inputs.police_reads import read_police_data

    names = ["Bath and North East Somerset", "Bristol, City of", "North Somerset", "Somerset", "South Gloucestershire"]
    partnerships = [AreaDefinition(name=n, partnership=n) for n in names]
    force = AreaDefinition(name="Avon and Somerset", force="Avon and Somerset")
    together, _ = read_police_data([ARCHIVE], [*partnerships, force])
    alone, _ = read_police_data([ARCHIVE], partnerships)
    counts = together["area"].value_counts()
    assert alone["area"].value_counts().to_dict() == {n: counts[n] for n in names}
    # Independently: rows with no Crime ID (ASB), plus each Crime ID once, over the partnerships' rows.
    ids = alone["crime_id"].astype(str)
    assert counts["Avon and Somerset"] == int((ids == "").sum()) + ids[ids != ""].nunique()


def test_data_quality_gives_rows_by_constituent_district():
    from pipeline.documents.quality_tables import district_rows

    read = {"Mendip": 10, "Sedgemoor": 20, "Taunton Deane": 5, "West Somerset": 2, "South Somerset": 7, "Bristol": 99}
    # Somerset named as a partnership: its five 2011 districts (two now one), most rows first; Bristol is not one.
    assert district_rows(AreaDefinition(name="S", partnership="Somerset"), read) == {
        "Sedgemoor": 20,
        "Mendip": 10,
        "South Somerset": 7,
        "Taunton Deane": 5,
        "West Somerset": 2,
    }
    # Named by prefixes: each in the order given, a name with no rows as 0 (an error at check, see test_police).
    assert district_rows(
        AreaDefinition(
            name="X", lsoa_name_prefixes=["Mendip", "Frome"], population={"value": 1, "year": 2020, "source": "t"}
        ),
        read,
    ) == {"Mendip": 10, "Frome": 0}


def test_a_window_on_2021_lsoas_places_changed_2011_lsoas_in_their_2021_lsoa():
    import pandas as pd

    from pipeline.analysis.places import on_one_lsoa_vintage

    # From ONS's exact-fit lookup: E01000048 merged into E01034479 (Barking and Dagenham 021G);
    # E01000010 split into E01034473 (1,265 residents in 2021) and E01034474 (2,252): the larger.
    # E01034471 exists only among 2021 LSOAs; E01000001 is unchanged (a code of both).
    crimes = pd.DataFrame(
        {
            "month": ["2022-12", "2022-12", "2022-12", "2023-01", "2023-01"],
            "lsoa_code": ["E01000048", "E01000010", "E01000001", "E01034471", None],
            "lsoa_name": ["old a", "old b", "City of London 001A", "new c", None],
        }
    )
    placed, note = on_one_lsoa_vintage(crimes, ["2022-12", "2023-01"])
    assert placed["lsoa_code"].tolist()[:4] == ["E01034479", "E01034474", "E01000001", "E01034471"]
    assert placed["lsoa_name"].tolist()[:2] == ["Barking and Dagenham 021G", "Barking and Dagenham 015F"]
    assert len(placed) == len(crimes) and note.startswith("The window holds 2021 LSOA codes, so 2 rows")
    assert "merged ones exactly; 1 row in LSOAs that were split go to the part with most residents" in note
    # A window with no 2021-only code: nothing moves.
    unchanged, said = on_one_lsoa_vintage(crimes, ["2022-12"])
    assert said == "" and unchanged["lsoa_code"].tolist()[:3] == ["E01000048", "E01000010", "E01000001"]
