"""Several areas in one command: headlines, the index page, and a failure that does not stop the others."""

from __future__ import annotations

import re

import pytest
import yaml
from test_safety import MONTHS_2019_2020, small_params, small_police

from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.orchestration.batch import AreaResult, headline, write_index

TABLE_HEADER = (
    '\ufeffCrime type,"Count, Jan 2020 to Dec 2020 (12 months)",Like for like: Jan 2019 to Dec 2019 (12 months),'
    "Like for like: Jan 2020 to Dec 2020 (12 months),% change (like for like),Significance (Holm-adjusted; the total "
    "unadjusted)\n"
)


def _table(folder, total_row: str):
    (folder / "tables").mkdir(parents=True)
    (folder / "tables/crime-by-type.csv").write_text(
        TABLE_HEADER + "Burglary,10,8,10,25.0,no significant change\n" + total_row, encoding="utf-8"
    )
    return folder


def test_headline_names_the_months_and_the_like_for_like_change(tmp_path):
    folder = _table(tmp_path / "a", "All crime (excluding ASB),14400,14940,14400,-3.6,no significant change\n")
    assert headline(folder) == (
        "All crime (excluding ASB): 14,400 in Jan 2020 to Dec 2020 (12 months); down 3.6% like for like, "
        "Jan 2020 to Dec 2020 (12 months) against Jan 2019 to Dec 2019 (12 months) (no significant change)."
    )
    # A change that was not computed is said so, never shown as a number.
    folder = _table(tmp_path / "b", "All crime (excluding ASB),900,,,not computed: no like-for-like months,\n")
    assert (
        headline(folder)
        == "All crime (excluding ASB): 900 in Jan 2020 to Dec 2020 (12 months); like-for-like change not computed: "
        "no like-for-like months."
    )
    assert headline(tmp_path / "missing") == "No crime table was published."


def test_index_links_each_areas_documents_and_lists_what_stopped_the_others(tmp_path):
    published = tmp_path / "outputs/alphaton"
    published.mkdir(parents=True)
    results = [
        AreaResult(
            tmp_path / "a.yaml", "Alphaton", published, ["tables.xlsx", "strategic-assessment.html"], "A headline."
        ),
        AreaResult(
            tmp_path / "b.yaml",
            "Betaville",
            error="2 problem(s) in the inputs\n\nPolice data:\n  - period_end: no data\n  - area: no rows",
        ),
    ]
    index = write_index(results, tmp_path / "outputs/index.html")
    page = index.read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in page and "<script" not in page and not re.search(r'(src|href)="https?://', page)
    assert "1 of 2 areas published" in page
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)
    assert links == [
        ("alphaton/strategic-assessment.html", "Strategic assessment (HTML)"),
        ("alphaton/tables.xlsx", "Every table (Excel)"),
    ]
    assert "Not published (" in page and "<li>period_end: no data</li>" in page and "<li>area: no rows</li>" in page


def test_an_index_the_pipeline_did_not_write_is_never_replaced(tmp_path):
    from pipeline.orchestration.batch import run_batch

    index = tmp_path / "index.html"
    index.write_text("<html>the council's own page</html>", encoding="utf-8")
    with pytest.raises(PipelineError, match="was not written by this pipeline"):
        run_batch([tmp_path / "a.yaml"], index)
    assert index.read_text(encoding="utf-8") == "<html>the council's own page</html>"


@pytest.mark.e2e
def test_one_command_runs_several_areas_and_a_failure_does_not_stop_the_others(tmp_path, capsys):
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 8})
    good = small_params(tmp_path, [police])
    settings = yaml.safe_load(good.read_text(encoding="utf-8"))
    settings.update(period_end="2030-12", output_dir=str(tmp_path / "outputs/later"))
    bad = tmp_path / "later.yaml"
    bad.write_text(yaml.safe_dump(settings), encoding="utf-8")
    index = tmp_path / "outputs/index.html"
    assert main(["run", str(bad), str(good), "--index", str(index)]) == 1
    err = capsys.readouterr().err
    assert "1 of 2 areas were not published" in err and "later.yaml" in err
    page = index.read_text(encoding="utf-8")
    assert 'href="alphaton/strategic-assessment.html"' in page
    # 8 burglaries a month over 2020, and as many in 2019: no change.
    assert "All crime (excluding ASB): 48 in Jan 2020 to Dec 2020 (12 months)" in page
    assert (tmp_path / "outputs/alphaton/strategic-assessment.html").is_file()
    assert not (tmp_path / "outputs/later").exists()


def test_areas_side_by_side_publish_what_they_publish_one_after_another_each_with_its_own_log(tmp_path):
    """Two areas sharing two kernels: each area's tables are byte for byte those of the same
    area run on its own, and each run's log holds its own lines, not the other's."""
    from pipeline.orchestration.batch import run_batch

    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 6})
    alpha = yaml.safe_load(small_params(tmp_path, [police]).read_text(encoding="utf-8"))
    beta = {**alpha, "area": alpha["comparators"][0], "comparators": [alpha["area"]]}
    paths = {}
    for way in ("together", "alone"):
        for name, settings in (("alphaton", alpha), ("betaville", beta)):
            path = tmp_path / f"{way}-{name}.yaml"
            path.write_text(
                yaml.safe_dump(
                    {
                        **settings,
                        "output_dir": str(tmp_path / way / name),
                        "processed_dir": str(tmp_path / f"processed-{way}"),
                    }
                ),
                encoding="utf-8",
            )
            paths.setdefault(way, []).append(path)
    together = run_batch(paths["together"], tmp_path / "together/index.html", parallel=2)
    alone = run_batch(paths["alone"], tmp_path / "alone/index.html", parallel=1)
    assert [r.error for r in together + alone] == ["", "", "", ""]
    for name, area, other in (("alphaton", "Alphaton", "Betaville"), ("betaville", "Betaville", "Alphaton")):
        tables = sorted(p.name for p in (tmp_path / "alone" / name / "tables").iterdir())
        assert "crime-by-type.csv" in tables
        for table in tables:
            assert (tmp_path / "together" / name / "tables" / table).read_bytes() == (
                tmp_path / "alone" / name / "tables" / table
            ).read_bytes(), table
        log = (tmp_path / "together" / name / "run.log").read_text(encoding="utf-8")
        assert f"Strategic assessment for {area}," in log and f"Strategic assessment for {other}," not in log
    # 8 burglaries or ASB a month in Alphaton (half burglaries), 6 in Betaville: 48 and 36 crimes in 2020.
    assert together[0].headline.startswith("All crime (excluding ASB): 48 in Jan 2020 to Dec 2020")
    assert together[1].headline.startswith("All crime (excluding ASB): 36 in Jan 2020 to Dec 2020")


def test_stopping_areas_side_by_side_removes_their_unfinished_runs_and_keeps_the_last_outputs(tmp_path):
    """SIGTERM (or Ctrl-C) while two areas run side by side: both runs end as interrupted ones
    (no '.failed' or unfinished folder left, the last outputs untouched), in one message."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from pipeline.storage.folders import mark_as_ours

    root = Path(__file__).resolve().parent.parent
    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 8, "Betaville": 6})
    alpha = yaml.safe_load(small_params(tmp_path, [police]).read_text(encoding="utf-8"))
    beta = {
        **alpha,
        "area": alpha["comparators"][0],
        "comparators": [alpha["area"]],
        "output_dir": str(tmp_path / "outputs/betaville"),
    }
    paths = []
    for name, settings in (("alphaton", alpha), ("betaville", beta)):
        mark_as_ours(tmp_path / "outputs" / name)
        (tmp_path / "outputs" / name / "strategic-assessment.html").write_text(
            f"last good report of {name}", encoding="utf-8"
        )
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(yaml.safe_dump(settings), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", *map(str, paths), "--index", str(tmp_path / "outputs/index.html")],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and len(list((tmp_path / "outputs").glob(".*.running-*/notebooks"))) < 1:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("Error: Stopped by a termination signal (SIGTERM): 0 of 2 area(s) had been published")
    )
    assert "Traceback" not in err and "failed; carrying on" not in err
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["alphaton", "betaville"]
    for name in ("alphaton", "betaville"):
        assert (tmp_path / "outputs" / name / "strategic-assessment.html").read_text(
            encoding="utf-8"
        ) == f"last good report of {name}"


def test_the_same_params_file_or_output_folder_twice_is_refused_before_anything_runs(tmp_path, monkeypatch):
    from pipeline.orchestration import batch

    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 2, "Betaville": 2})
    alpha = small_params(tmp_path, [police])
    same_folder = tmp_path / "same-folder.yaml"
    same_folder.write_text(alpha.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(batch, "run_area", lambda *a, **k: pytest.fail("no area may run"))
    monkeypatch.chdir(tmp_path)
    index = tmp_path / "outputs/index.html"
    with pytest.raises(PipelineError) as caught:
        batch.run_batch([alpha, alpha.name, same_folder], index)
    message = str(caught.value)
    assert message.startswith("The batch was not run (nothing was changed):")
    assert f"- {alpha.name}: named twice (also as {alpha})" in message
    assert f"- {same_folder}: publishes to {(tmp_path / 'outputs/alphaton').resolve()}, as {alpha} does" in message
    assert not (tmp_path / "outputs").exists()  # no index, no lock file, no area folder


def test_a_batch_locked_out_writes_nothing_not_even_its_index(tmp_path, monkeypatch):
    from pipeline.orchestration import batch
    from pipeline.storage.folders import OutputLock, RunLockedError

    police = small_police(tmp_path, MONTHS_2019_2020, {"Alphaton": 2, "Betaville": 2})
    alpha = small_params(tmp_path, [police])
    index = tmp_path / "outputs/index.html"
    index.parent.mkdir(parents=True)
    before = batch.INDEX_MARKER + "<p>the first batch's page, 2 of 2 areas published</p>"
    index.write_text(before, encoding="utf-8")
    # Another batch holds the index: this one stops before any area runs.
    monkeypatch.setattr(batch, "run_area", lambda *a, **k: pytest.fail("no area may run"))
    with OutputLock(index, "the first batch"):
        with pytest.raises(RunLockedError, match=f"Another run is already publishing to {index} .*the first batch"):
            batch.run_batch([alpha], index)
    assert index.read_text(encoding="utf-8") == before
    # Another run holds the area's output folder: with a different index, the area is locked
    # out, and a batch whose every area was locked out writes no index either.
    monkeypatch.undo()
    other_index = tmp_path / "elsewhere/index.html"
    with OutputLock(tmp_path / "outputs/alphaton", "a single run"):
        with pytest.raises(
            RunLockedError,
            match="No area was run: Another run is already publishing to .*alphaton .*"
            f"The index {other_index} was not written",
        ):
            batch.run_batch([alpha], other_index)
    assert not other_index.exists() and not (tmp_path / "outputs/alphaton").exists()
