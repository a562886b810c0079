"""Every partnership of a force: the bundled lookup, the per-area params, and the batch on a Dask cluster."""

import csv
import json
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ParamsError
from pipeline.orchestration.force_run import area_settings, force_partnerships, partnership_lookup_path, slug

ROOT = Path(__file__).resolve().parent.parent
SHARED_GEOGRAPHY = ROOT.parent / "shared/reference-data/geography"
AVON = ["Bath and North East Somerset", "Bristol, City of", "North Somerset", "Somerset", "South Gloucestershire"]


def _force_file(tmp_path: Path, **changes) -> tuple[Path, dict]:
    raw = yaml.safe_load((ROOT / "params/avon-and-somerset.yaml").read_text(encoding="utf-8"))
    raw["inputs"] = {"police": [str(tmp_path)]}  # any existing path: these tests do not read it
    raw["output_dir"] = str(tmp_path / "outputs/force")
    raw.update(changes)
    return tmp_path / "force.yaml", raw


def test_avon_and_somerset_has_the_five_partnerships_the_ons_lookup_lists():
    # lad19-csp19-pfa19.csv rows 301-308: four unitary partnerships and Somerset's four districts.
    assert force_partnerships()["Avon and Somerset"] == AVON
    assert len(force_partnerships()) == 43  # 39 English and 4 Welsh forces


@pytest.mark.shared_data
def test_each_partnership_gets_every_lsoa_of_its_districts():
    # Somerset's 2011 LSOAs are named after five 2011 districts (Taunton Deane and West Somerset
    # merged in 2019): counted here straight from ONS's LSOA -> district lookup.
    somerset_districts = {"E07000187", "E07000188", "E07000189", "E07000246"}
    with open(SHARED_GEOGRAPHY / "lsoa11-ward19-lad19.csv", encoding="utf-8-sig", newline="") as handle:
        expected = sum(1 for row in csv.DictReader(handle) if row["LAD19CD"] in somerset_districts)
    from pipeline.inputs.police_scan import read_lsoa_lookup

    lookup = read_lsoa_lookup(partnership_lookup_path())
    assert sum(1 for area in lookup.values() if area == "Somerset") == expected == 327
    assert len(lookup) == 34753


def test_each_partnership_is_compared_with_the_others_and_published_in_its_own_folder(tmp_path):
    path, raw = _force_file(tmp_path)
    settings, root, index = area_settings(path, raw)
    assert list(settings) == AVON
    bristol = settings["Bristol, City of"]
    assert bristol["title"] == "Bristol, City of Strategic Assessment of Crime and Disorder (police.uk data)"
    assert [c["name"] for c in bristol["comparators"]] == [a for a in AVON if a != "Bristol, City of"] + [
        "Avon and Somerset"
    ]
    assert bristol["comparators"][-1]["force"] == "Avon and Somerset"  # the force beside its partnerships
    assert bristol["output_dir"] == str(tmp_path / "outputs/force/bristol-city-of")
    assert bristol["area"]["population"][0]["value"] == 463377
    assert index == tmp_path / "outputs/force/index.html" and root == tmp_path / "outputs/force"
    assert slug("Bath and North East Somerset") == "bath-and-north-east-somerset"


def test_force_file_problems_are_listed_together_with_what_to_write(tmp_path):
    path, raw = _force_file(
        tmp_path, partnerships=["Bristol", "North Somerset"], inputs={"police": [str(tmp_path / "no-such.zip")]}
    )
    del raw["populations"]["Somerset"]
    with pytest.raises(ParamsError) as caught:
        area_settings(path, raw)
    message = str(caught.value)
    # The shared settings are checked too, and a problem they share is named once, not per partnership.
    assert message.count(f"inputs.police: not found: {tmp_path / 'no-such.zip'}") == 1
    assert "partnerships: 'Bristol' is not a partnership of Avon and Somerset" in message
    assert "populations: no population for Somerset" in message and "Somerset: {value: <residents>" in message
    path, raw = _force_file(tmp_path, force="Avon & Somerset")
    with pytest.raises(ParamsError, match="did you mean 'Avon and Somerset'"):
        area_settings(path, raw)


@pytest.mark.e2e
def test_areas_run_as_tasks_on_a_dask_cluster_and_a_failed_area_does_not_stop_the_other(tmp_path, tiny_police_folder):
    from distributed import LocalCluster

    from pipeline.orchestration.batch import run_batch

    lookup = tiny_police_folder / "lookup.csv"

    def params(name: str, police: Path) -> Path:
        def area(area_name: str) -> dict:
            return {
                "name": area_name,
                "lsoa_lookup": str(lookup),
                "population": {"value": 8000, "year": 2020, "source": "test figure"},
            }

        settings = {
            "title": f"{name} assessment",
            "area": area("Tiny South Glos"),
            "comparators": [area("Tiny Bristol")],
            "period_end": "2020-12",
            "trend_years": 1,
            "inputs": {"police": [str(police)]},
            "output_dir": str(tmp_path / f"outputs/{name}"),
            "processed_dir": str(tmp_path / "processed"),
            "partial_month_threshold": 0.3,
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(settings), encoding="utf-8")
        return path

    good, broken = params("good", tiny_police_folder), params("broken", tmp_path / "no-such-download")
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        results = run_batch([good, broken], tmp_path / "outputs/index.html", scheduler=cluster.scheduler_address)
    assert [r.area for r in results] == ["Tiny South Glos", ""]
    assert results[0].error == "" and "strategic-assessment.html" in results[0].documents
    assert "no-such-download" in results[1].error
    run = json.loads((tmp_path / "outputs/good/run.json").read_text(encoding="utf-8"))
    assert run["status"] == "succeeded"
    page = (tmp_path / "outputs/index.html").read_text(encoding="utf-8")
    assert "1 of 2 areas published" in page and "good/strategic-assessment.html" in page
    # The headline is the published all-crime count for the window, counted here from the fixture.
    count = _tiny_crime_count_2020(tiny_police_folder, lookup, "Tiny South Glos")
    assert f"All crime (excluding ASB): {count:,} in Jan 2020 to Dec 2020" in results[0].headline


def _tiny_crime_count_2020(folder: Path, lookup: Path, area: str) -> int:
    with open(lookup, encoding="utf-8", newline="") as handle:
        codes = {row["lsoa_code"] for row in csv.DictReader(handle) if row["area"] == area}
    seen, count = set(), 0
    for path in sorted(folder.rglob("*-street.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if (
                    row["LSOA code"] in codes
                    and row["Month"].startswith("2020-")
                    and row["Crime type"] != "Anti-social behaviour"
                ):
                    if row["Crime ID"] and row["Crime ID"] in seen:
                        continue
                    seen.add(row["Crime ID"]) if row["Crime ID"] else None
                    count += 1
    return count
