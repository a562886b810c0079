from pathlib import Path

import pytest
import yaml

from pipeline.errors import ParamsError
from pipeline.params import load_params, params_as_dict

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, settings: dict) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def _valid(tmp_path: Path) -> dict:
    data = tmp_path / "street.csv"
    data.write_text("x", encoding="utf-8")
    return {
        "area": {
            "name": "Alphaton",
            "lsoa_name_prefixes": ["Alphaton"],
            "population": {"value": 1000, "year": 2020, "source": "test"},
        },
        "period_end": "2020-12",
        "inputs": {"police": [str(data)]},
        "output_dir": str(tmp_path / "out"),
    }


def test_the_default_params_file_is_valid():
    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    assert params.area.name == "South Gloucestershire"
    assert params.period_end == "2020-12"
    # No typed figure: the bundled ONS mid-2020 estimate for the district (ONS published 287,816).
    assert params.area.populations == [] and params.area.population_for(["2020-06"]).value == 287_816
    assert [c.name for c in params.comparators] == ["Bristol", "Bath and North East Somerset", "North Somerset"]


def test_valid_params_load_with_defaults(tmp_path):
    params = load_params(_write(tmp_path, _valid(tmp_path)))
    assert params.trend_years == 2
    assert params.partial_month_threshold == 0.5
    assert params.run_name == "out"
    assert params_as_dict(params)["output_dir"] == str((tmp_path / "out").resolve())


def test_every_problem_is_reported_at_once(tmp_path):
    settings = _valid(tmp_path)
    settings["period_end"] = "2020-13"
    settings["area"]["population"]["value"] = -5
    settings["inputs"]["police"] = [str(tmp_path / "nowhere.csv")]
    settings["colour_scheme"] = "blue"
    with pytest.raises(ParamsError) as caught:
        load_params(_write(tmp_path, settings))
    message = str(caught.value)
    assert "params.yaml" in message
    assert "period_end: must be a month written YYYY-MM, like 2020-12 (found '2020-13')" in message
    assert "area.population.value" in message and "greater than 0" in message and "-5" in message
    assert "nowhere.csv" in message and "inputs.police: not found:" in message
    assert "colour_scheme: not a recognised setting" in message


def test_lsoa_population_is_optional_and_checked(tmp_path):
    settings = _valid(tmp_path)
    assert load_params(_write(tmp_path, settings)).area.lsoa_population is None
    settings["area"]["lsoa_population"] = {"path": str(tmp_path / "missing.csv"), "year": 2019, "source": "ONS"}
    with pytest.raises(ParamsError, match="area.lsoa_population.path: not found: .*missing.csv"):
        load_params(_write(tmp_path, settings))


def test_month_given_as_a_number_is_rejected(tmp_path):
    settings = _valid(tmp_path)
    settings["period_end"] = 202012
    with pytest.raises(ParamsError, match="period_end: must be a month written YYYY-MM"):
        load_params(_write(tmp_path, settings))


def test_area_needs_exactly_one_definition(tmp_path):
    settings = _valid(tmp_path)
    del settings["area"]["lsoa_name_prefixes"]
    with pytest.raises(ParamsError, match="give exactly one of partnership .*, districts .*, lsoa_name_prefixes"):
        load_params(_write(tmp_path, settings))


def test_a_missing_setting_is_named(tmp_path):
    settings = _valid(tmp_path)
    del settings["output_dir"]
    with pytest.raises(ParamsError) as caught:
        load_params(_write(tmp_path, settings))
    assert "output_dir: this setting is required but missing" in str(caught.value)


def test_repeated_area_names_are_rejected(tmp_path):
    settings = _valid(tmp_path)
    settings["comparators"] = [settings["area"]]
    with pytest.raises(ParamsError, match="each area needs its own name; repeated: Alphaton"):
        load_params(_write(tmp_path, settings))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ParamsError, match="Params file not found"):
        load_params(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("area: [unclosed", encoding="utf-8")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)


def test_published_titles_carry_the_area_and_period_and_samples_are_labelled():
    from pipeline.orchestration.run import STAGES, document_title

    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    stages = {s.name: s for s in STAGES}
    assert document_title(stages["report"], params) == (
        "South Gloucestershire Strategic Assessment of Crime and Disorder, Jan 2020 to Dec 2020",
        "Sample data, not real results: survey results; prioritisation scores; force crime extract; partner indicators",
    )
    # The delivery plan names the samples it shows: scores, survey, partner figures and its own actions.
    assert document_title(stages["delivery"], params)[1] == (
        "Sample data, not real results: survey results; prioritisation scores; partner indicators; action owners, "
        "dates, statuses and reviews"
    )
    # The delivery plan names its own period: the plan's financial year (2021/22 in the plan file).
    assert (
        document_title(stages["delivery"], params)[0]
        == "Delivery plan appendix: South Gloucestershire, financial year 2021/22 (evidence from Jan 2020 to Dec 2020)"
    )
    assert document_title(stages["morile"], params)[1] == "Sample data, not real results: prioritisation scores"


def test_the_cover_gives_committee_paper_details_with_defaults():
    import datetime

    from pipeline.orchestration.run import STAGES, cover_lines

    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    report = next(s for s in STAGES if s.name == "report")
    assert cover_lines(report, params, datetime.date(2027, 1, 5)) == [
        ("Area", "South Gloucestershire"),
        ("Period", "Jan 2020 to Dec 2020"),
        ("Published", "5 January 2027"),
        ("Version", "1.0"),
        ("Protective marking", "OFFICIAL"),
    ]
    chosen = params.model_copy(
        update={
            "publication": params.publication.model_copy(
                update={"date": "January 2027", "version": "2.0 draft", "contact": "Community Safety Team"}
            )
        }
    )
    lines = dict(cover_lines(report, chosen, datetime.date(2027, 1, 5)))
    assert (lines["Published"], lines["Version"], lines["Contact"]) == (
        "January 2027",
        "2.0 draft",
        "Community Safety Team",
    )


def test_a_file_system_refusal_names_the_file_and_what_to_do():
    from pipeline.errors import file_system_refusal

    assert file_system_refusal(OSError(28, "No space left on device", "/data/outputs/run.json")) == (
        "the file system refused an operation (/data/outputs/run.json): No space left on device. Check the folder's "
        "permissions and free space, then run again. The last published outputs were left as they were."
    )
    assert file_system_refusal(OSError("disk gone")).startswith(
        "the file system refused an operation: disk gone. Check"
    )


def test_a_deprivation_index_is_cited_with_its_year_once(tmp_path):
    from pipeline.params import DeprivationSource

    ranks = tmp_path / "imd.csv"
    ranks.write_text("lsoa_code,imd_rank,imd_decile\n", encoding="utf-8")
    named = DeprivationSource(path=ranks, name="English Index of Multiple Deprivation 2019", year=2019)
    assert named.citation == "English Index of Multiple Deprivation 2019"
    unnamed = DeprivationSource(path=ranks, name="Welsh Index of Multiple Deprivation", year=2019)
    assert unnamed.citation == "Welsh Index of Multiple Deprivation (2019)"
