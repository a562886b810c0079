"""`python -m pipeline watch`: what counts as a change, waiting for a save to settle, and a
watched run after a moderation edit (and after a broken one) on the real notebooks."""

import json
import os
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT

from pipeline.orchestration import watch as watch_module
from pipeline.orchestration.watch import CodeChanged, changed_files, snapshot, wait_for_change, watch, watched_inputs


def test_snapshot_and_changed_files(tmp_path):
    a, b, gone = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "gone.csv"
    a.write_text("1\n")
    b.write_text("22\n")
    before = snapshot([a, b, gone])
    assert before[a][0] == 2 and before[b][0] == 3 and before[gone] is None
    assert changed_files(before, snapshot([a, b, gone])) == []
    b.write_text("23\n")  # same size: the modification time tells
    os.utime(b, ns=(before[b][1] + 10**9, before[b][1] + 10**9))
    gone.write_text("now here\n")
    a.unlink()
    assert changed_files(before, snapshot([a, b, gone])) == [a, b, gone]
    # A file watched only on one side counts as changed (the params file named a new input).
    assert changed_files({a: None}, {a: None, b: (3, 1)}) == [b]


def test_wait_for_change_returns_once_the_save_has_settled(tmp_path):
    sheet = tmp_path / "moderation.xlsx"
    sheet.write_bytes(b"v1")
    before = snapshot([sheet])
    code = snapshot([tmp_path / "code.py"])
    writes = iter([None, b"v2-part", b"v2-partial-more", None, None])  # what each poll finds written meanwhile
    polls = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        data = next(writes)
        if data is not None:
            sheet.write_bytes(data)

    assert wait_for_change([sheet], before, code, 0.25, sleep=sleep) == [sheet]
    # Poll 1: nothing; 2: first write seen; 3: still being written; 4: unchanged, so done.
    assert polls == [0.25, 0.25, 0.25, 0.25]
    assert sheet.read_bytes() == b"v2-partial-more"


def test_wait_for_change_stops_when_the_package_code_changes(tmp_path):
    sheet, module = tmp_path / "moderation.xlsx", tmp_path / "morile.py"
    sheet.write_bytes(b"v1")
    module.write_text("A = 1\n")
    before, code = snapshot([sheet]), snapshot([module])

    def sleep(seconds: float) -> None:
        module.write_text("A = 22\n")

    with pytest.raises(CodeChanged, match="Start `python -m pipeline watch` again"):
        wait_for_change([sheet], before, code, 0.01, sleep=sleep)


def test_watched_inputs_are_the_params_file_and_its_inputs_or_the_last_ones_if_it_is_broken(tmp_path):
    params = ROOT / "params/south-gloucestershire.yaml"
    files = watched_inputs(params, [])
    assert files[0] == params
    names = {p.name for p in files[1:]}
    assert "sample-moderation.xlsx" in names and "risk-register-2018-19.yaml" in names
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n", encoding="utf-8")
    assert watched_inputs(broken, [broken, *files[1:]]) == [broken, *files[1:]]


@pytest.mark.e2e
def test_a_watched_rerun_after_a_moderation_edit_and_after_a_broken_one(tmp_path, tiny_police_folder, caplog):
    import signal

    from test_end_to_end import _params_with_own_moderation

    def too_long(signum, frame):
        raise AssertionError("the watch did not see the edit within 3 minutes")

    previous = signal.signal(signal.SIGALRM, too_long)  # a watch that misses the change would wait for ever
    signal.alarm(180)

    params, moderation = _params_with_own_moderation(tmp_path, tiny_police_folder)
    out = tmp_path / "outputs/tiny"

    def edit(reason: str) -> None:
        book = openpyxl.load_workbook(moderation)
        book["Moderation"].cell(row=2, column=4).value = reason
        book.save(moderation)

    published: list[dict] = []

    def after_run(report: Path) -> None:
        published.append(
            {s["name"]: s["ran"] for s in json.loads((out / "run.json").read_text(encoding="utf-8"))["stages"]}
        )
        if len(published) == 1:
            # Saved while the watch runs: the watch sees it against the files as the run began.
            edit("Corrected after the meeting: county lines referrals doubled.")

    assert watch(params, runs=2, poll=0.05, on_published=after_run) == 0
    # The files it names are counted once each; the police folder they sit in is not one more.
    from pipeline.orchestration.checks import input_files
    from pipeline.params import load_params

    assert (
        f"Watching {params.name} and the {len(input_files(load_params(params)))} input file(s) it names" in caplog.text
    )
    assert set(published[0].values()) == {True}
    assert {name for name, ran in published[1].items() if ran} == {"morile", "report", "delivery"}
    review = (out / "morile-review.html").read_text(encoding="utf-8")
    assert "Corrected after the meeting" in review

    # A broken save: the run stops at the input check, says why, and the last outputs stay.
    book = openpyxl.load_workbook(moderation)
    book["Moderation"].cell(row=2, column=3).value = "Enormous"
    book.save(moderation)
    assert watch(params, runs=1, poll=0.05) == 1
    assert "cell C2: 'Enormous' is not a level of" in caplog.text
    assert (out / "morile-review.html").read_text(encoding="utf-8") == review
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_file_added_to_a_watched_folder_is_a_change(tmp_path):
    folder = tmp_path / "police"
    (folder / "2020-11").mkdir(parents=True)
    (folder / "2020-11" / "2020-11-avon-and-somerset-street.csv").write_text("a\n")
    before = snapshot([folder])
    assert changed_files(before, snapshot([folder])) == []
    (folder / "2020-12").mkdir()
    (folder / "2020-12" / "2020-12-avon-and-somerset-street.csv").write_text("b\n")
    assert changed_files(before, snapshot([folder])) == [folder]


def test_watched_inputs_include_a_police_input_folder(tmp_path, tiny_police_folder):
    from test_end_to_end import _params

    params = _params(tmp_path, tiny_police_folder, tiny_police_folder / "lookup.csv")
    files = watched_inputs(params, [])
    assert tiny_police_folder.resolve() in files
    assert (tiny_police_folder / "lookup.csv").resolve() in files


def test_a_params_file_that_does_not_exist_is_an_error_at_once(tmp_path):
    from pipeline.errors import ParamsError

    with pytest.raises(ParamsError, match="Params file not found"):
        watch(tmp_path / "mistyped.yaml", runs=1)


def test_a_second_ctrl_c_while_the_kernels_shut_down_is_let_go_by(tmp_path, monkeypatch):
    """The first Ctrl-C stops the wait between runs; a second, pressed while the kernels shut
    down, must neither cut the shutdown short nor end the command on a KeyboardInterrupt
    (the CLI then said "Stopped by Ctrl-C before anything was changed" after published runs).
    Ctrl-C works as before once the watch has returned."""
    import signal

    from pipeline.orchestration import run as run_module

    class Pool:
        closed = False

        def start_ahead(self, *notebooks):
            pass

        def wait_ready(self, timeout=None):
            pass

        def close(self):
            signal.raise_signal(signal.SIGINT)  # the second Ctrl-C, mid-shutdown
            Pool.closed = True

    def first_ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    params = tmp_path / "p.yaml"
    params.write_text("not read: the run is replaced\n", encoding="utf-8")
    monkeypatch.setattr(run_module, "new_kernel_pool", lambda workers: Pool())
    monkeypatch.setattr(run_module, "run_assessment", lambda *args, **kwargs: tmp_path / "report.html")
    monkeypatch.setattr(watch_module, "watched_inputs", lambda path, files: [path])
    monkeypatch.setattr(watch_module, "wait_for_change", first_ctrl_c)
    before = signal.getsignal(signal.SIGINT)
    assert watch_module.watch(params) == 0
    assert Pool.closed
    assert signal.getsignal(signal.SIGINT) is before
