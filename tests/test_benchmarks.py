"""Benchmarks: intervals, funnel limits, similar partnerships and England and Wales, by hand."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis import benchmarks

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT.parent / "shared/data/police-uk/national-street-2024-01_2024-03.zip"


def test_exact_poisson_intervals_of_rates_by_hand():
    # Garwood 95% limits (published tables): 0 -> 0 to 3.689; 10 -> 4.795 to 18.390.
    # Over 1,000 residents and 12 months a count is a rate per 1,000 a year as it is.
    assert benchmarks.rate_interval(0, 1000, 12) == (0.0, pytest.approx(3.6889, abs=1e-3))
    low, high = benchmarks.rate_interval(10, 1000, 12)
    assert (low, high) == (pytest.approx(4.7954, abs=1e-3), pytest.approx(18.3904, abs=1e-3))
    # Six months over 2,000 residents: each limit x 12/6 x 1,000/2,000 = x 1.
    assert benchmarks.rate_interval(10, 2000, 6) == (pytest.approx(4.7954, abs=1e-3), pytest.approx(18.3904, abs=1e-3))


def test_funnel_limits_are_poisson_quantiles_of_the_expected_count():
    from scipy import stats

    # A pooled rate of 50 per 1,000 a year: 1,000 residents over 12 months expect 50 crimes.
    limits = benchmarks.funnel_limits(50.0, np.array([1000.0]), 12).iloc[0]
    assert limits["low95"] == stats.poisson.ppf(0.025, 50) and limits["high95"] == stats.poisson.ppf(0.975, 50)
    assert limits["low998"] == stats.poisson.ppf(0.001, 50) and limits["high998"] == stats.poisson.ppf(0.999, 50)
    assert limits["low95"] < 50 < limits["high95"]


def test_similar_partnerships_are_the_nearest_on_standardised_size_and_deprivation():
    table = benchmarks.csp_indicators()
    england = table[table["nation"] == "England"].copy()
    size, deprived = np.log(england["population_2019"]), england["deprived_share"]
    england["d"] = np.hypot(
        (size - size.mean()) / size.std(ddof=0), (deprived - deprived.mean()) / deprived.std(ddof=0)
    )
    own = england.loc[england["csp"] == "South Gloucestershire"].iloc[0]
    distance = np.hypot(
        (size - size.mean()) / size.std(ddof=0) - (math.log(own["population_2019"]) - size.mean()) / size.std(ddof=0),
        (deprived - deprived.mean()) / deprived.std(ddof=0)
        - (own["deprived_share"] - deprived.mean()) / deprived.std(ddof=0),
    )
    expected = list(
        england.assign(distance=distance)
        .query("csp != 'South Gloucestershire'")
        .sort_values(["distance", "csp"])["csp"]
        .head(3)
    )
    found = benchmarks.similar_partnerships("South Gloucestershire", 3)
    assert list(found["csp"]) == expected and found["distance"].is_monotonic_increasing
    # Welsh partnerships are compared with Welsh ones only.
    welsh = set(table.loc[table["nation"] == "Wales", "csp"])
    assert set(benchmarks.similar_partnerships(sorted(welsh)[0], 5)["csp"]) <= welsh
    assert benchmarks.similar_partnerships("Nowhere").empty


def test_police_uk_file_names_of_the_forces():
    assert benchmarks.police_uk_slug("Avon and Somerset") == "avon-and-somerset"
    assert benchmarks.police_uk_slug("Devon & Cornwall") == "devon-and-cornwall"
    assert benchmarks.police_uk_slug("London, City of") == "city-of-london"
    assert benchmarks.police_uk_slug("Metropolitan Police") == "metropolitan"
    assert benchmarks.police_uk_slug("Dyfed-Powys") == "dyfed-powys"


@pytest.mark.shared_data
def test_the_incomplete_national_files_name_the_four_missing_forces():
    if not NATIONAL.is_file():
        pytest.fail("../shared/data/police-uk is needed beside the checkout for this test")
    names = zipfile.ZipFile(NATIONAL).namelist()
    # The shared README: three forces missing from the copy, and Greater Manchester published nothing.
    assert benchmarks.missing_forces(names) == [
        "Greater Manchester",
        "Metropolitan Police",
        "West Midlands",
        "West Yorkshire",
    ]


def test_england_and_wales_is_named_missing_or_set_beside_the_area():
    from types import SimpleNamespace

    import pandas as pd

    from pipeline.documents.assessment.crime import _england_and_wales
    from pipeline.params import PublishedRate

    summary = SimpleNamespace(files=["2024-01-avon-and-somerset-street.csv"])
    a = SimpleNamespace(
        p=SimpleNamespace(benchmarks=SimpleNamespace(england_and_wales="from police data")), summary=summary
    )
    said = _england_and_wales(a)[0].data
    assert "the police files lack 42 territorial force(s)" in said and "Bedfordshire" in said
    published = PublishedRate(value=78.5, period="year ending March 2021", source="ONS crime in England and Wales")
    a = SimpleNamespace(
        p=SimpleNamespace(benchmarks=SimpleNamespace(england_and_wales=published), area=SimpleNamespace(name="X")),
        rates=pd.DataFrame({"All crime (excluding ASB) rate": [50.0]}),
        windows={"window_text": "Jan 2020 to Dec 2020"},
    )
    assert _england_and_wales(a)[0].data.startswith(
        "<p>England and Wales: 78.5 crimes (excluding ASB) per 1,000 residents a year, year ending March 2021 "
        "(ONS crime in England and Wales), against 50.0 in X"
    )


def test_england_and_wales_is_read_from_police_data_only_when_every_force_is_there(tmp_path):
    """Synthetic files named for every territorial force (police.uk's names): England and Wales
    becomes an area of every LSOA, its rows each located row once; with one force's files gone,
    it is not an area and the forces missing are named."""
    from conftest import street_row, write_street_csv

    from pipeline.inputs.police_reads import read_police_data
    from pipeline.params import validate_params
    from pipeline.reference import ENGLAND_AND_WALES_NAME, force_names, police_uk_slug

    folder = tmp_path / "national"
    for k, force in enumerate(force_names()):
        # Real LSOA codes (England and Wales is every real LSOA): one in South Gloucestershire, one in Bristol.
        rows = [street_row("2024-01", "South Gloucestershire 001A", "Burglary", f"id{k}", lsoa_code="E01014862")]
        if k == 0:
            rows.append(street_row("2024-01", "Bristol 001A", "Burglary", "idB", lsoa_code="E01014485"))
        write_street_csv(folder / "2024-01" / f"2024-01-{police_uk_slug(force)}-street.csv", rows)
    settings = {
        "area": {"name": "South Gloucestershire", "lsoa_name_prefixes": ["South Gloucestershire"]},
        "period_end": "2024-01",
        "inputs": {"police": [str(folder)]},
        "output_dir": str(tmp_path / "out/x"),
        "benchmarks": {"england_and_wales": "from police data"},
    }
    params = validate_params(settings)
    assert [a.name for a in params.all_areas] == ["South Gloucestershire", ENGLAND_AND_WALES_NAME]
    crimes, _ = read_police_data(params.inputs.police, params.all_areas)
    counts = crimes["area"].value_counts().to_dict()
    # 43 files each with one South Gloucestershire row (its own Crime ID) and one Bristol row.
    assert counts == {"South Gloucestershire": 43, ENGLAND_AND_WALES_NAME: 44}
    assert params.all_areas[-1].population_for(["2024-01"]).value == 60_854_727  # ONS mid-2023, the nearest
    (folder / "2024-01" / f"2024-01-{police_uk_slug('Kent')}-street.csv").unlink()
    assert [a.name for a in validate_params(settings).all_areas] == ["South Gloucestershire"]
    assert benchmarks.missing_forces([p.name for p in folder.rglob("*.csv")]) == ["Kent"]
