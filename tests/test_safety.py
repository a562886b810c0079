"""Bad input never destroys anything and never publishes a wrong report (one test per class of fault).

Each test runs the real command line on a small fixture, and checks the exit code, the
message, and that nothing outside the pipeline's own folders changed (hashes before and
after).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, street_row, write_street_csv

from pipeline.cli import main
from pipeline.documents.tables import write_csv
from pipeline.storage.folders import OWNER_MARKER, OutputLock, location_problems, mark_as_ours, writable_problem


def tree_hashes(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (paths relative), leaving out names in ``skip``."""
    hashes = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part in skip for part in relative.parts):
            hashes[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def small_police(folder: Path, months: list[str], areas: dict[str, int]) -> Path:
    """A police.uk-shaped CSV with ``n`` rows a month in each area (LSOA 001A of the area's name)."""
    rows = []
    for month in months:
        for name, n in areas.items():
            rows += [
                street_row(month, f"{name} 001A", "Burglary" if i % 2 else "Anti-social behaviour") for i in range(n)
            ]
    return write_street_csv(folder / "street.csv", rows)


def small_params(folder: Path, police: list[Path], **changes) -> Path:
    settings = {
        "area": {
            "name": "Alphaton",
            "lsoa_name_prefixes": ["Alphaton"],
            "population": {"value": 10000, "year": 2020, "source": "test"},
        },
        "comparators": [
            {
                "name": "Betaville",
                "lsoa_name_prefixes": ["Betaville"],
                "population": {"value": 9000, "year": 2020, "source": "test"},
            }
        ],
        "period_end": "2020-12",
        "inputs": {"police": [str(p) for p in police]},
        "output_dir": str(folder / "outputs/alphaton"),
        "processed_dir": str(folder / "processed"),
    }
    settings.update(changes)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


MONTHS_2019_2020 = [f"{y}-{m:02d}" for y in (2019, 2020) for m in range(1, 13)]


def _project_copy(tmp_path: Path) -> Path:
    """A throwaway copy of the project's code, notebooks, params and bundled data."""
    copy = tmp_path / "project"
    for name in ("pipeline", "notebooks", "params", "data/raw"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "outputs").mkdir()
    return copy


@pytest.fixture()
def project_copy(tmp_path: Path) -> Path:
    return _project_copy(tmp_path)


def _run_cli(project: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    # python -m runs the copy's own package: the copy is the project being protected.
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(project)},
    )


UNSAFE_OUTPUT_DIRS = [".", "..", "data/raw", "/", "params", "data/raw/police-uk/new"]
# Runs every unsafe params file through the CLI's entry point in one process, so the
# imports are paid once; each run is a separate main() call with its own stderr.
REFUSALS_DRIVER = """
import contextlib, io, json, sys
from pipeline.cli import main
results = {}
for output_dir, path in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["run", path])
    results[output_dir] = {"code": code, "stderr": err.getvalue()}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def refused_runs(tmp_path_factory) -> dict:
    """Each unsafe output_dir run on one throwaway project copy: its exit code and stderr,
    and whether any file of the copy (or beside it) changed across all the runs."""
    copy = _project_copy(tmp_path_factory.mktemp("refusals"))
    params = yaml.safe_load((copy / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))
    paths = {}
    for number, output_dir in enumerate(UNSAFE_OUTPUT_DIRS):
        params["output_dir"] = output_dir
        paths[output_dir] = f"params/unsafe-{number}.yaml"
        (copy / paths[output_dir]).write_text(yaml.safe_dump(params), encoding="utf-8")
    before = tree_hashes(copy.parent, skip=("__pycache__",))
    result = subprocess.run(
        [sys.executable, "-c", REFUSALS_DRIVER, json.dumps(paths)],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(copy)},
    )
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    runs["unchanged"] = tree_hashes(copy.parent, skip=("__pycache__",)) == before
    return runs


@pytest.mark.parametrize("output_dir", UNSAFE_OUTPUT_DIRS)
def test_an_output_dir_over_the_project_or_its_inputs_is_refused_and_nothing_changes(refused_runs, output_dir):
    run = refused_runs[output_dir]
    assert run["code"] == 1
    assert "Traceback" not in run["stderr"]
    assert "output_dir:" in run["stderr"] and "nothing was run and nothing was changed" in run["stderr"]
    assert refused_runs["unchanged"]


def test_output_dir_dot_message_says_why(project_copy):
    params = yaml.safe_load((project_copy / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))
    params["output_dir"] = "."
    (project_copy / "params/unsafe.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    result = _run_cli(project_copy, "check", "params/unsafe.yaml")
    assert result.returncode == 1
    assert f"output_dir: '{project_copy.resolve()}' is the project folder or a folder above it" in result.stderr


def test_location_rules_on_their_own(tmp_path):
    project = tmp_path / "project"
    (project / "pipeline").mkdir(parents=True)
    (project / "data/raw").mkdir(parents=True)
    police = project / "data/raw/street.csv"
    police.write_text("x", encoding="utf-8")
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    assert location_problems("output_dir", project / "outputs/area", [police], project) == []
    assert "the project folder or a folder above it" in location_problems("output_dir", tmp_path, [police], project)[0]
    assert "data/raw/" in location_problems("output_dir", project / "data", [police], project)[0]
    inside_input = location_problems("output_dir", elsewhere / "out", [elsewhere], project)
    assert inside_input == [
        f"output_dir: '{elsewhere / 'out'}' sits inside the input folder '{elsewhere}'; inputs are never written into."
    ]


def test_an_existing_folder_the_pipeline_did_not_create_is_refused(tmp_path):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    params = small_params(tmp_path, [police])
    mine = tmp_path / "outputs/alphaton"
    mine.mkdir(parents=True)
    (mine / "notes.docx").write_text("the analyst's own notes", encoding="utf-8")
    before = tree_hashes(tmp_path)
    assert main(["check", str(params)]) == 1
    assert tree_hashes(tmp_path) == before


def test_a_folder_the_pipeline_marked_is_accepted(tmp_path, capsys):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    params = small_params(tmp_path, [police])
    mark_as_ours(tmp_path / "outputs/alphaton")
    assert main(["check", str(params)]) == 0
    assert (tmp_path / "outputs/alphaton" / OWNER_MARKER).is_file()


def test_a_second_run_on_the_same_output_folder_stops_at_once_naming_the_first(tmp_path, capsys):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    params = small_params(tmp_path, [police])
    with OutputLock((tmp_path / "outputs/alphaton").resolve(), "first.yaml"):
        before = tree_hashes(tmp_path)
        assert main(["run", str(params)]) == 1
        err = capsys.readouterr().err
        assert (
            f"Another run is already publishing to {(tmp_path / 'outputs/alphaton').resolve()} (process {os.getpid()}"
            in err
        )
        assert "params first.yaml" in err and "Traceback" not in err
        assert tree_hashes(tmp_path) == before


def test_an_unwritable_folder_is_named_with_what_to_do(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    message = writable_problem("processed_dir", tmp_path / "processed/run")
    assert message == (
        f"processed_dir: cannot create files in '{tmp_path}' (Permission denied). "
        "Check the folder's permissions, or set the setting to a folder you can write to."
    )


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C"])
def test_sigterm_or_ctrl_c_stops_cleanly_and_keeps_the_last_outputs(tmp_path, how):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    params = small_params(tmp_path, [police])
    published = tmp_path / "outputs/alphaton"
    mark_as_ours(published)
    (published / "strategic-assessment.html").write_text("last good report", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", str(params)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / "outputs").glob(".alphaton.running-*/notebooks")):
        time.sleep(0.2)
    assert list((tmp_path / "outputs").glob(".alphaton.running-*")), "the run never started its first stage"
    if how == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    said = "a termination signal (SIGTERM)" if how == "SIGTERM" else "Ctrl-C"
    assert f"Stopped by {said}: the unfinished run was removed; the last published outputs in" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "IPKernelApp" not in err
    assert err.strip().splitlines()[-1].startswith("Error: Stopped by")  # said in one line, last
    assert (published / "strategic-assessment.html").read_text(encoding="utf-8") == "last good report"
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["alphaton"]


def test_the_same_months_through_two_inputs_is_an_error_naming_both(tmp_path, capsys):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    again = tmp_path / "again"
    again.mkdir()
    copy = shutil.copy(police, again / "2020-street.csv")
    params = small_params(tmp_path, [police, copy])
    assert main(["check", str(params)]) == 1
    err = capsys.readouterr().err
    assert f"{copy} and {police} both hold the same" in err
    assert "months 2019-01 to 2020-12" in err and "counted twice" in err


def test_a_blank_lsoa_code_is_recovered_from_the_name_and_counted_once_everywhere(tmp_path):
    from conftest import area

    from pipeline.analysis.police import read_police_data

    rows = [street_row("2020-01", "Alphaton 001A", lsoa_code="E01000001") for _ in range(3)]
    rows += [street_row("2020-01", "Alphaton 001A", lsoa_code="") for _ in range(2)]  # code lost, name kept
    rows += [street_row("2020-01", "Alphaton 999Z", lsoa_code="")]  # no row pairs this name with a code
    path = write_street_csv(tmp_path / "s.csv", rows)
    crimes, summary = read_police_data([path], [area("Alphaton")])
    assert list(crimes["lsoa_code"]) == ["E01000001"] * 5
    assert summary.lsoa_codes_recovered == 2
    assert summary.lsoa_name_without_code == 1
    assert summary.unlocated_rows == 1  # the unrecoverable row has no location, and is not in the area


def test_an_area_with_no_rows_lists_the_authorities_in_the_data_nearest_first(tmp_path, capsys):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 3, "Gammaford": 2})
    params = small_params(
        tmp_path,
        [police],
        comparators=[
            {
                "name": "Betavile",
                "lsoa_name_prefixes": ["Betavile"],
                "population": {"value": 9000, "year": 2020, "source": "t"},
            }
        ],
    )
    assert main(["check", str(params)]) == 1
    err = capsys.readouterr().err
    assert "comparators[0].lsoa_name_prefixes: 'Betavile' (area 'Betavile') matches no row of the police data" in err
    assert "nearest spellings first: Betaville (72 rows), Alphaton (192 rows), Gammaford (48 rows)" in err


def test_a_window_with_no_data_is_an_error_naming_period_end(tmp_path, capsys):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    params = small_params(tmp_path, [police], period_end="2023-04")
    assert main(["check", str(params)]) == 1
    err = capsys.readouterr().err
    assert (
        "period_end: the assessment window May 2022 to Apr 2023 (period_end '2023-04') has no usable police data for "
        "Alphaton" in err
    )
    assert "the data read covers Jan 2019 to Dec 2020" in err


def test_a_header_only_police_file_is_an_error(tmp_path, capsys):
    empty = write_street_csv(tmp_path / "empty.csv", [])
    assert main(["check", str(small_params(tmp_path, [empty]))]) == 1
    assert f"{empty}: has the police.uk header but no rows" in capsys.readouterr().err


def test_coordinates_that_are_not_numbers_or_outside_the_uk_are_counted_and_blanked(tmp_path):
    from conftest import area

    from pipeline.analysis.police import read_police_data

    good = street_row("2020-01", "Alphaton 001A", lsoa_code="E01000001")
    text = list(good)
    text[4], text[5] = "abc", "51.5"
    far = list(good)
    far[4], far[5] = "151.2", "-33.9"  # Sydney
    path = write_street_csv(tmp_path / "s.csv", [good, text, far])
    crimes, summary = read_police_data([path], [area("Alphaton")])
    assert summary.bad_coordinates == 2
    assert crimes["longitude"].isna().sum() == 2 and len(crimes) == 3


def test_csv_headers_from_inputs_cannot_become_formulas(tmp_path):
    import csv

    import pandas as pd

    path = write_csv(pd.DataFrame({'=HYPERLINK("http://x")': [1], "Burglary": [2]}), tmp_path / "t.csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == ['\'=HYPERLINK("http://x")', "Burglary"]


def test_problems_in_every_input_are_reported_together_grouped_by_input(tmp_path, capsys):
    police = write_street_csv(tmp_path / "bad-street.csv", [["x"] * 3], header=("Crime ID", "Month", "Oops"))
    survey = tmp_path / "survey.csv"
    survey.write_text("respondent_id,year,weight,q_safe\nR1,2020,inf,Very safe\n", encoding="utf-8")
    indicators = ROOT / "params/survey-indicators.yaml"
    ods = tmp_path / "partner.ods"
    ods.write_bytes(b"not a workbook")
    params = small_params(
        tmp_path,
        [police],
        survey={"responses": [str(survey)], "indicators": str(indicators)},
        morile={
            "model": str(ROOT / "params/morile-thematic.yaml"),
            "threats": [{"name": "Burglary"}],
            "scores": [str(ods)],
        },
    )
    assert main(["check", str(params)]) == 1
    err = capsys.readouterr().err
    assert err.index("Police data (") < err.index("Survey (") < err.index("MoRiLE (")
    assert f"{police}: the header is not the police.uk street-level layout" in err
    assert "survey.csv, row 1 (the header): no column" in err  # the indicator columns are missing
    assert (
        f"{ods}: is an OpenDocument spreadsheet (.ods, from LibreOffice or OpenOffice); an .xlsx workbook is needed"
        in err
    )
    assert "Traceback" not in err


def test_a_runs_log_file_stays_shut_once_closed_so_its_removed_folder_is_not_recreated(tmp_path):
    """A record another thread is emitting as a run closes its log must not reopen the file:
    a plain FileHandler would, putting run.log back into a run folder being removed."""
    import logging

    from pipeline.orchestration.run import _RunLogHandler

    folder = tmp_path / ".area.running-1"
    folder.mkdir()
    handler = _RunLogHandler(folder / "run.log", encoding="utf-8")
    record = logging.LogRecord("pipeline", logging.INFO, __file__, 1, "before", None, None)
    handler.emit(record)
    handler.close()
    shutil.rmtree(folder)
    handler.emit(logging.LogRecord("pipeline", logging.INFO, __file__, 1, "after", None, None))
    assert not folder.exists()
    # The plain handler does reopen its file (here into a folder that exists again), which is the fault.
    folder.mkdir()
    plain = logging.FileHandler(folder / "run.log", encoding="utf-8")
    plain.close()
    plain.emit(logging.LogRecord("pipeline", logging.INFO, __file__, 1, "after", None, None))
    plain.close()
    assert (folder / "run.log").read_text(encoding="utf-8") == "after\n"
