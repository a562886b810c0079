"""Reruns that reuse what did not change: fingerprints, the reasons given, and the stage declarations."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from pipeline.orchestration import reuse
from pipeline.orchestration.run import NOTEBOOKS_DIR, STAGES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def notebook(tmp_path):
    path = tmp_path / "stage.ipynb"
    path.write_text("notebook v1", encoding="utf-8")
    return path


def _parts(notebook, settings=None, hashes=None, code="code-1", upstream=None, pdf=False):
    settings = settings if settings is not None else {"area": {"name": "A"}, "morile": {"moderation": "/data/mod.xlsx"}}
    hashes = hashes if hashes is not None else {"/data/mod.xlsx": "aaa", "/data/other.csv": "bbb"}
    return reuse.fingerprint(notebook, settings, hashes, code, upstream or {"police": "p1"}, pdf)


def test_files_named_are_those_the_settings_point_to_directly_or_by_folder():
    hashes = {
        "/police/2020-01/a-street.csv": "1",
        "/police/2020-02/b-street.csv": "2",
        "/policeman.csv": "3",
        "/x/lookup.csv": "4",
    }
    settings = {"inputs": {"police": ["/police"]}, "area": {"lsoa_lookup": "/x/lookup.csv", "name": "Not a path"}}
    assert reuse.files_named(settings, hashes) == {
        "/police/2020-01/a-street.csv": "1",
        "/police/2020-02/b-street.csv": "2",
        "/x/lookup.csv": "4",
    }


def test_an_unchanged_stage_is_reused(notebook):
    parts = _parts(notebook)
    assert reuse.why_run({"parts": parts}, _parts(notebook), [], force=False) is None


def test_each_kind_of_change_is_named(notebook):
    before = {"parts": _parts(notebook)}
    assert reuse.why_run(None, _parts(notebook), [], False) == "no earlier results of this stage were found"
    assert reuse.why_run(before, _parts(notebook), [], True) == "--force was given"
    changed_file = _parts(notebook, hashes={"/data/mod.xlsx": "ccc", "/data/other.csv": "bbb"})
    assert reuse.why_run(before, changed_file, [], False) == "input file(s) mod.xlsx changed"
    # A file the stage's settings do not name is not part of its fingerprint.
    other_file = _parts(notebook, hashes={"/data/mod.xlsx": "aaa", "/data/other.csv": "zzz"})
    assert reuse.why_run(before, other_file, [], False) is None
    changed_setting = _parts(notebook, settings={"area": {"name": "B"}, "morile": {"moderation": "/data/mod.xlsx"}})
    assert reuse.why_run(before, changed_setting, [], False) == "params 'area' changed"
    assert (
        reuse.why_run(before, _parts(notebook, code="code-2"), [], False)
        == "the pipeline package or a library version changed"
    )
    assert reuse.why_run(before, _parts(notebook, pdf=True), [], False) == "a PDF was asked for"
    assert reuse.why_run(before, _parts(notebook), ["police"], False) == "stage 'police' reran"
    assert (
        reuse.why_run(before, _parts(notebook), ["police", "survey", "morile"], False)
        == "stages 'police', 'survey' and 'morile' reran"
    )
    assert (
        reuse.why_run(before, _parts(notebook, upstream={"police": "p2"}), [], False)
        == "a stage it reads from has different results"
    )
    notebook.write_text("notebook v2", encoding="utf-8")
    assert reuse.why_run(before, _parts(notebook), [], False) == "its notebook changed"


def test_the_package_fingerprint_follows_library_versions():
    assert reuse.code_fingerprint({"pandas": "2.3.3"}) == reuse.code_fingerprint({"pandas": "2.3.3"})
    assert reuse.code_fingerprint({"pandas": "2.3.3"}) != reuse.code_fingerprint({"pandas": "3.0.0"})


# Params properties that read other fields.
PROPERTIES = {
    "all_areas": {"area", "comparators"},
    "disruption_periods": {"disruptions"},
    "windows": {"period_end", "trend_years"},
}
# Which stage writes what a notebook reads back.
WRITERS = {
    "police": "police",
    "read_police": "police",
    "trend_models": "trends",
    "places": "places",
    "hotspots": "hotspots",
    "survey": "survey",
    "morile": "morile",
    "threat_profiles": "extract",
}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_each_stage_declares_every_params_field_and_stage_its_notebook_reads(stage):
    """A stage is reused only when the fields it declares are unchanged, so the declaration
    must cover everything its notebook reads; likewise the stages it runs after."""
    notebook = nbformat.read(NOTEBOOKS_DIR / stage.notebook, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    used = set()
    for name, key in re.findall(r"\bp\.(\w+)(?:\.(\w+))?", code):
        used |= {f"{n}.{key}" if key else n for n in PROPERTIES.get(name, {name})}
    # "morile.threats" in reads covers p.morile.threats; "area" covers p.area.name.
    # A bare section (p.morile, tested for presence) is covered by a setting inside it.
    reads = set(stage.reads or ())
    used = {
        n
        for n in used
        if n not in reads and n.split(".")[0] not in reads and not any(r.startswith(n + ".") for r in reads)
    }
    passes_all_params = bool(re.search(r"\w+\([^()]*\bp\)", code))
    if stage.reads is None:
        assert stage.name == "report"  # only the report reads everything
    else:
        assert not passes_all_params, f"{stage.notebook} passes the whole params to a function: declare reads=None"
        assert not used, f"{stage.notebook} reads {sorted(used)} without declaring them"
    readers = set(re.findall(r"(\w+)\.read_processed|(read_police)\(|read_later_coverage", code))
    read_from = {WRITERS[a or b] for a, b in readers if (a or b) in WRITERS}
    # The police stage's files, read by a function imported from its module and called.
    police_imports = re.findall(r"from pipeline\.analysis\.police import ([^\n]+)", code)
    police_names = {n.strip().split(" as ")[-1] for line in police_imports for n in line.split(",")}
    if any(
        re.search(rf"\b{name}\(", code)
        for name in police_names & {"read_processed", "read_counts", "read_crimes", "read_later_coverage"}
    ):
        read_from.add("police")
    assert read_from <= set(stage.after), (
        f"{stage.notebook} reads the outputs of {sorted(read_from - set(stage.after))} without running after them"
    )


def test_a_passed_check_is_saved_only_when_asked_and_reused_only_for_the_same_key(tmp_path, monkeypatch):
    from pipeline.orchestration import checks

    calls = []

    def police_checks(params, on_read=None):
        calls.append(1)
        return [], ["a warning"], ["a fact"], {"A": {"E01000002", "E01000001"}}, {"A": (-2.5, 51.5)}

    monkeypatch.setattr(checks, "police_checks", police_checks)
    cache = checks.CheckCache(tmp_path, {"police": "key-1"})
    assert checks._cached_police_checks(None, cache)[3] == {"A": {"E01000001", "E01000002"}}
    assert not list(tmp_path.iterdir())  # nothing written until the caller may write
    cache.save()
    again = checks._cached_police_checks(None, checks.CheckCache(tmp_path, {"police": "key-1"}))
    assert (
        again == ([], ["a warning"], ["a fact"], {"A": {"E01000001", "E01000002"}}, {"A": (-2.5, 51.5)})
        and len(calls) == 1
    )
    checks._cached_police_checks(None, checks.CheckCache(tmp_path, {"police": "key-2"}))  # inputs changed
    checks._cached_police_checks(None, checks.CheckCache(tmp_path, {"police": "key-1"}, reuse_saved=False))  # --force
    assert len(calls) == 3


def test_each_input_check_is_made_again_exactly_when_its_own_files_or_settings_change(tmp_path):
    """The default assessment's check fingerprints: a new moderation sheet re-checks that sheet
    alone, a partner's new scoring sheet the scoring sheets alone; new police data re-checks the police data
    and what reads its LSOAs (boundaries,
    force extract), not the survey, MoRiLE or delivery plan; a pass is kept, a problem never."""
    from pipeline.orchestration import checks
    from pipeline.orchestration.run import _check_cache, _input_hashes
    from pipeline.params import load_params

    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    hashes = _input_hashes(params)
    keys = _check_cache(params, tmp_path, hashes, True).keys
    assert set(keys) == {"police", "geography", "extract", "survey", "morile", "moderation", "delivery"}

    def changed(path) -> set[str]:
        edited = {**hashes, str(path.resolve()): "edited"}
        assert edited != hashes, path
        new = _check_cache(params, tmp_path, edited, True).keys
        return {name for name in keys if new[name] != keys[name]}

    assert changed(params.morile.moderation) == {"moderation"}
    assert changed(params.morile.scores[0]) == {"morile"}
    assert changed(params.morile.model) == {"morile", "moderation"}
    assert changed(params.survey.responses[0].path) == {"survey"}
    assert changed(params.delivery.plan) == {"delivery"}
    police_file = next(p for p in hashes if p.startswith(str(params.inputs.police[0].resolve())))
    assert changed(Path(police_file)) == {"police", "geography", "extract"}

    calls = []
    cache = checks.CheckCache(tmp_path, {"survey": "key-1"})
    assert checks._cached_check("survey", cache, lambda: calls.append(1) or []) == []
    cache.save()
    again = checks.CheckCache(tmp_path, {"survey": "key-1"})
    assert checks._cached_check("survey", again, lambda: calls.append(1) or ["never called"]) == [] and len(calls) == 1
    failing = checks.CheckCache(tmp_path, {"survey": "key-2"})
    assert checks._cached_check("survey", failing, lambda: ["a problem"]) == ["a problem"]
    failing.save()
    assert checks._cached_check("survey", checks.CheckCache(tmp_path, {"survey": "key-2"}), lambda: ["a problem"]) == [
        "a problem"
    ]


def test_a_failed_check_is_never_saved(tmp_path, monkeypatch):
    from pipeline.orchestration import checks

    monkeypatch.setattr(checks, "police_checks", lambda params, on_read=None: (["a problem"], [], [], {}, {}))
    cache = checks.CheckCache(tmp_path, {"police": "key-1"})
    assert checks._cached_police_checks(None, cache)[0] == ["a problem"]
    cache.save()
    assert not (tmp_path / "check-police.json").exists()


def test_a_warm_kernel_is_given_exactly_the_notebooks_module_level_imports(tmp_path):
    from pipeline.orchestration.kernels import import_statements

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("import nothing from markdown"),
        nbformat.v4.new_code_cell(
            "%matplotlib inline\nimport pandas as pd\nfrom pipeline.documents.fragments import (\n    heading,\n    "
            "paragraph,\n)\nx = 1"
        ),
        nbformat.v4.new_code_cell("def f():\n    import scipy\n    return scipy\nfrom pathlib import Path"),
        nbformat.v4.new_code_cell("this is not python ("),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert import_statements(path).splitlines() == [
        "import pandas as pd",
        "from pipeline.documents.fragments import heading, paragraph",
        "from pathlib import Path",
    ]


def _notebook(tmp_path, name: str, *cells: str):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_kept_kernel_runs_the_next_notebook_as_a_fresh_one_would(tmp_path):
    """The second notebook runs on the first one's kernel (the same process) with nothing
    of the first left: no variables, numbering from 1, no open figures, the notebooks'
    folder again, its imports done ahead but not in its namespace. A kernel whose notebook
    failed is shut down and a new one started."""
    import papermill
    from jupyter_client import AsyncKernelManager
    from papermill.exceptions import PapermillExecutionError

    from pipeline.orchestration.kernels import KernelPool, register_engine

    folder = tmp_path / "notebooks"
    folder.mkdir()
    first = _notebook(
        tmp_path,
        "first",
        "import json, os\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "x = 41\nplt.figure()\nos.chdir('/')\nprint(os.getpid())",
    )
    second = _notebook(
        tmp_path,
        "second",
        "import sys\nprint('x' in globals(), 'json' in globals(), 'fractions' in sys.modules)",
        "import os\nimport matplotlib.pyplot as plt\nimport fractions\nprint(os.getpid(), os.getcwd(), "
        "plt.get_fignums())",
        "import gc\nprint(gc.get_freeze_count() > 10_000)",
    )
    failing = _notebook(tmp_path, "failing", "raise ValueError('stop')")

    def run(path, manager):
        return papermill.execute_notebook(
            str(path),
            str(tmp_path / f"out-{path.name}"),
            km=manager,
            engine_name=register_engine(),
            kernel_name="python3",
            progress_bar=False,
        )

    pool = KernelPool(AsyncKernelManager, "python3", folder, size=1)
    try:
        pool.expect([("run:first", first), ("run:second", second), ("run:failing", failing)])
        manager = pool.take("run:first")
        pid = run(first, manager).cells[0].outputs[0]["text"].strip()
        pool.give_back(manager, reusable=True)
        again = pool.take("run:second")
        assert again is manager and pool.started == 1
        out = run(second, again)
        # fractions was imported ahead (the second notebook's imports), not into its namespace.
        assert out.cells[0].outputs[0]["text"] == "False False True\n"
        assert out.cells[1].outputs[0]["text"] == f"{pid} {folder} []\n"
        # The modules' objects, imported ahead, are left out of garbage collection.
        assert out.cells[2].outputs[0]["text"] == "True\n"
        assert [c.execution_count for c in out.cells] == [1, 2, 3]
        pool.give_back(again, reusable=True)
        third = pool.take("run:failing")
        with pytest.raises(PapermillExecutionError):
            run(failing, third)
        process = third.provisioner.process
        pool.give_back(third, reusable=False)
        assert process.wait(timeout=10) is not None  # shut down, not kept
        fourth = pool.take("run:first")
        assert fourth is not third and pool.started == 2
        process = fourth.provisioner.process
        pool.give_back(fourth, reusable=True)  # closed at once below, while it would be reset
    finally:
        pool.close()
    assert process.wait(timeout=10) is not None  # no kernel outlives the pool


def test_a_notebook_says_its_processed_outputs_are_written_after_its_tagged_cell_has_run(tmp_path):
    """The engine calls ``outputs_written`` once the tagged cell has run, before the cells
    after it (the last cell here waits for the file the call writes), and never if the
    tagged cell fails."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from pipeline.orchestration.kernels import OUTPUTS_WRITTEN_TAG, register_engine

    go = tmp_path / "go"

    def notebook(name: str, tagged: str) -> Path:
        path = _notebook(
            tmp_path,
            name,
            "x = 1",
            tagged,
            f"import os, time\nfor _ in range(500):\n    if os.path.exists({str(go)!r}): break\n    time.sleep(0.02)\n"
            "else:\n    raise RuntimeError('not told')",
        )
        book = nbformat.read(path, as_version=4)
        book.cells[1].metadata["tags"] = [OUTPUTS_WRITTEN_TAG]
        nbformat.write(book, path)
        return path

    calls = []

    def written() -> None:
        calls.append(go.exists())
        go.write_text("")

    papermill.execute_notebook(
        str(notebook("writes", "y = x + 1")),
        str(tmp_path / "out.ipynb"),
        engine_name=register_engine(),
        kernel_name="python3",
        progress_bar=False,
        outputs_written=written,
    )
    assert calls == [False]
    go.unlink()
    with pytest.raises(PapermillExecutionError):
        papermill.execute_notebook(
            str(notebook("fails", "raise ValueError('no outputs')")),
            str(tmp_path / "out2.ipynb"),
            engine_name=register_engine(),
            kernel_name="python3",
            progress_bar=False,
            outputs_written=written,
        )
    assert calls == [False]


def test_only_the_morile_stage_says_its_outputs_are_written_early_and_nothing_after_that_cell_writes_them():
    """The tag marks the cell after which a stage's processed outputs are complete: no later
    cell of that notebook may write to the processed folder."""
    from pipeline.orchestration.kernels import OUTPUTS_WRITTEN_TAG
    from pipeline.orchestration.run import NOTEBOOKS_DIR, STAGES

    tagged = {}
    for stage in STAGES:
        cells = [c for c in nbformat.read(NOTEBOOKS_DIR / stage.notebook, as_version=4).cells if c.cell_type == "code"]
        marks = [i for i, c in enumerate(cells) if OUTPUTS_WRITTEN_TAG in c.metadata.get("tags", [])]
        if marks:
            assert len(marks) == 1
            tagged[stage.name] = marks[0]
            assert "write_processed" in cells[marks[0]].source
            assert [
                i
                for i, c in enumerate(cells)
                if i > marks[0] and ("write_processed" in c.source or "processed_dir" in c.source)
            ] == []
    assert tagged == {"morile": 2}  # after the parameters cell and the cell that fills them when exploring


def test_a_stage_waits_for_a_kernel_and_the_latest_stage_goes_first(tmp_path, monkeypatch):
    """With every kernel in use, stages wait; when one is given back, the waiting stage of
    highest priority (the latest of the assessment) takes it, then the next."""
    import threading
    import time

    from pipeline.orchestration import kernels

    monkeypatch.setattr(kernels, "_start", lambda *args: object())
    monkeypatch.setattr(kernels, "_reset", lambda manager, *args: manager)
    monkeypatch.setattr(kernels, "shutdown", lambda manager: None)
    pool = kernels.KernelPool(object, "python3", tmp_path, size=1)
    held = pool.take("a:police", priority=0)
    order: list[str] = []

    def stage(key: str, priority: int) -> None:
        manager = pool.take(key, priority)
        order.append(key)
        time.sleep(0.05)
        pool.give_back(manager, reusable=True)

    waiting = [threading.Thread(target=stage, args=a) for a in (("b:police", 0), ("a:trends", 3), ("c:report", 6))]
    for thread in waiting:
        thread.start()
        time.sleep(0.05)  # all three wait, in this order
    assert order == []
    pool.give_back(held, reusable=True)
    for thread in waiting:
        thread.join(timeout=5)
    assert order == ["c:report", "a:trends", "b:police"]
    pool.close()


def test_the_report_takes_a_free_kernel_before_the_delivery_plan_beside_it():
    """Depths by hand from each stage's ``after``: police, survey and MoRiLE read no stage
    (0); trends, places, extract and the delivery plan read only those (1); the report
    reads trends, places and extract too (2). After a moderation edit the report and the
    delivery plan wait together, and the report, the longer and the last, goes first."""
    from pipeline.orchestration.run import kernel_priority, stage_depth

    depths = {s.name: stage_depth(s) for s in STAGES}
    assert depths == {
        "police": 0,
        "survey": 0,
        "partners": 0,
        "morile": 0,
        "trends": 1,
        "places": 1,
        "hotspots": 1,
        "extract": 1,
        "delivery": 1,
        "report": 2,
    }
    by_name = {s.name: s for s in STAGES}
    ranked = sorted(STAGES, key=kernel_priority, reverse=True)
    assert [s.name for s in ranked] == [
        "report",
        "delivery",
        "extract",
        "hotspots",
        "places",
        "trends",
        "morile",
        "partners",
        "survey",
        "police",
    ]
    assert kernel_priority(by_name["report"]) > kernel_priority(by_name["delivery"])


def test_a_broken_moderation_sheet_and_a_broken_scoring_sheet_are_both_named_and_never_kept(tmp_path):
    """The moderation sheet is checked apart from the scoring sheets; both problems are still
    reported together in the MoRiLE section, and neither check is saved as passed."""
    import yaml

    from pipeline.errors import InputDataError
    from pipeline.orchestration.checks import check_inputs
    from pipeline.orchestration.run import _check_cache, _input_hashes
    from pipeline.params import load_params

    settings = yaml.safe_load((ROOT / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))
    for key in ("model", "threats"):
        if isinstance(settings["morile"].get(key), str):
            settings["morile"][key] = str((ROOT / settings["morile"][key]).resolve())
    moderation = tmp_path / "moderation.xlsx"
    moderation.write_text("threat,score\n", encoding="utf-8")  # a CSV renamed, not a workbook
    scores = [str((ROOT / s).resolve()) for s in settings["morile"]["scores"]]
    broken_scores = tmp_path / "partner.xlsx"
    broken_scores.write_text("threat,score\n", encoding="utf-8")
    settings["morile"].update(moderation=str(moderation), scores=[*scores[1:], str(broken_scores)])
    params_file = tmp_path / "p.yaml"
    params_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    params = load_params(params_file)
    cache = _check_cache(params, tmp_path / "processed", _input_hashes(params), True)
    with pytest.raises(InputDataError) as caught:
        check_inputs(params, cache=cache)
    message = str(caught.value)
    assert f"{moderation}" in message and f"{broken_scores}" in message
    assert message.count("is not an Excel workbook although its name ends .xlsx") == 2
    assert cache.get("moderation") is None and cache.get("morile") is None


def test_a_kept_kernel_is_ready_once_its_output_channel_is_heard_and_asked_again_until_it_is():
    """The first kernel_info's idle status is published before the output channel listens
    (lost); the second's is heard: two requests, then ready, without waiting for silence."""
    import asyncio
    from queue import Empty

    from pipeline.orchestration.kernels import _heard

    class Channel:
        def __init__(self, messages):
            self.messages = messages

        async def get_msg(self, timeout):
            if not self.messages:
                raise Empty
            return self.messages.pop(0)

    class Client:
        def __init__(self):
            self.asked = []
            self.shell_channel, self.iopub_channel = Channel([]), Channel([])

        def kernel_info(self):
            msg_id = f"request-{len(self.asked)}"
            self.asked.append(msg_id)
            self.shell_channel.messages.append({"parent_header": {"msg_id": msg_id}, "msg_type": "kernel_info_reply"})
            if len(self.asked) > 1:  # listening from the second request on
                self.iopub_channel.messages += [
                    {
                        "parent_header": {"msg_id": "earlier"},
                        "msg_type": "status",
                        "content": {"execution_state": "idle"},
                    },
                    {"parent_header": {"msg_id": msg_id}, "msg_type": "status", "content": {"execution_state": "busy"}},
                    {"parent_header": {"msg_id": msg_id}, "msg_type": "status", "content": {"execution_state": "idle"}},
                ]
            return msg_id

    client = Client()
    asyncio.run(_heard(client, timeout=5))
    assert client.asked == ["request-0", "request-1"]
    silent = Client()
    silent.kernel_info = lambda: "never-answered"
    with pytest.raises(RuntimeError, match="did not answer"):
        asyncio.run(_heard(silent, timeout=0.3))


def test_kernels_after_the_first_start_once_the_check_is_done_or_the_first_is_ready(tmp_path, monkeypatch):
    """Two stages expected: the first kernel starts at once; the second only when the run
    releases the pool (its input check is done), or, in another pool, when the first is ready."""
    import threading
    import time

    from pipeline.orchestration import kernels

    started: list[str] = []
    first_may_finish = threading.Event()

    def start(manager_class, kernel_name, imports, stop):
        started.append(imports)
        if imports == "import first":
            first_may_finish.wait(timeout=10)
        return object()

    monkeypatch.setattr(kernels, "_start", start)
    monkeypatch.setattr(kernels, "import_statements", lambda notebook: f"import {notebook.name}")
    monkeypatch.setattr(kernels, "shutdown", lambda manager: None)
    for release_first in (True, False):
        started.clear()
        first_may_finish.clear()
        pool = kernels.KernelPool(object, "python3", tmp_path, size=2)
        pool.expect([("a:first", tmp_path / "first"), ("a:second", tmp_path / "second")])
        time.sleep(0.3)
        assert started == ["import first"]  # the second waits
        if release_first:
            pool.release()  # the check is done; the first is still starting
        else:
            first_may_finish.set()  # the first is ready
        for _ in range(50):
            if len(started) == 2:
                break
            time.sleep(0.05)
        assert started == ["import first", "import second"]
        first_may_finish.set()
        pool.close()


def test_a_batch_starts_every_kernel_ahead_and_its_first_stages_take_them(tmp_path, monkeypatch):
    """A force's batch starts its kernels while the force's files are read: all of them at
    once, each with the first stage's imports, and the areas' stages take those kernels
    rather than starting more."""
    import threading
    import time

    from pipeline.orchestration import kernels

    started: list[str] = []
    lock = threading.Lock()

    def start(manager_class, kernel_name, imports, stop):
        with lock:
            started.append(imports)
        time.sleep(0.2)  # both are starting at once (neither waits for the other to be ready)
        return object()

    monkeypatch.setattr(kernels, "_start", start)
    monkeypatch.setattr(kernels, "import_statements", lambda notebook: f"import {notebook.name}")
    monkeypatch.setattr(kernels, "shutdown", lambda manager: None)
    pool = kernels.KernelPool(object, "python3", tmp_path, size=2)
    try:
        pool.start_ahead(tmp_path / "police")
        time.sleep(0.1)
        assert started == ["import police", "import police"]
        # An area's run then expects its stages: the pool is full, so nothing more starts.
        pool.expect([("area-a:police", tmp_path / "police"), ("area-a:trends", tmp_path / "trends")])
        first, second = pool.take("area-a:police"), pool.take("area-a:trends")
        assert first is not None and second is not None and first is not second
        assert pool.started == 2 and len(started) == 2
    finally:
        pool.close()


def test_a_file_is_hashed_again_once_it_changes_even_at_the_same_size(tmp_path):
    import hashlib
    import os

    from pipeline.storage.fingerprints import sha256_of

    path = tmp_path / "scores.csv"
    path.write_text("threat,score\nA,1\n", encoding="utf-8")
    assert sha256_of(path) == hashlib.sha256(b"threat,score\nA,1\n").hexdigest()
    assert sha256_of(path) == hashlib.sha256(b"threat,score\nA,1\n").hexdigest()  # from memory
    status = os.stat(path)
    path.write_text("threat,score\nA,2\n", encoding="utf-8")  # one score corrected: same size
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    assert sha256_of(path) == hashlib.sha256(b"threat,score\nA,2\n").hexdigest()


def test_kernels_started_ahead_for_several_notebooks_import_what_each_imports(tmp_path, monkeypatch):
    """A watch, between runs, starts kernels with every stage's imports (each notebook's once),
    and only where the pool has room: kernels kept from the last run are not doubled."""
    import time

    from pipeline.orchestration import kernels

    started: list[str] = []
    monkeypatch.setattr(
        kernels, "_start", lambda manager_class, kernel_name, imports, stop: started.append(imports) or object()
    )
    monkeypatch.setattr(
        kernels,
        "import_statements",
        lambda notebook: "import pandas" if notebook.name != "morile" else "import openpyxl",
    )
    monkeypatch.setattr(kernels, "shutdown", lambda manager: None)
    pool = kernels.KernelPool(object, "python3", tmp_path, size=2)
    try:
        pool.start_ahead(tmp_path / "police", tmp_path / "morile", tmp_path / "trends")
        pool.start_ahead(tmp_path / "police")  # the pool is full: nothing more starts
        time.sleep(0.2)
        assert started == ["import pandas\nimport openpyxl"] * 2
        assert pool.started == 2
    finally:
        pool.close()


def test_a_pool_says_when_its_waiting_kernels_are_ready(tmp_path, monkeypatch):
    import threading
    import time

    from pipeline.orchestration import kernels

    go = threading.Event()
    monkeypatch.setattr(kernels, "_start", lambda manager_class, kernel_name, imports, stop: go.wait(5) and object())
    monkeypatch.setattr(kernels, "import_statements", lambda notebook: "import pandas")
    monkeypatch.setattr(kernels, "shutdown", lambda manager: None)
    pool = kernels.KernelPool(object, "python3", tmp_path, size=2)
    try:
        pool.start_ahead(tmp_path / "police")
        clock = time.monotonic()
        pool.wait_ready(timeout=0.3)  # still importing: it gives up at the timeout
        assert 0.25 < time.monotonic() - clock < 2
        threading.Timer(0.2, go.set).start()
        clock = time.monotonic()
        pool.wait_ready(timeout=5)
        assert 0.15 < time.monotonic() - clock < 2
        assert all(k.ready.done() for k in pool._waiting)
    finally:
        pool.close()


def test_the_reports_kernel_imports_no_plotting_or_model_fitting_library_before_it_is_needed():
    """After a moderation edit the report draws nothing (every chart is reused) and fits
    nothing (the trend stage's window comparison is read): its kernel's imports must not load
    pyplot, statsmodels or scipy (some 1.5 s, which a rerun waited for), only the functions
    that draw or fit do. The imports run in a fresh interpreter, as in a new kernel."""
    import json
    import subprocess
    import sys

    from pipeline.orchestration.kernels import import_statements

    for stage in ("report", "delivery", "morile"):
        notebook = NOTEBOOKS_DIR / next(s.notebook for s in STAGES if s.name == stage)
        code = (
            import_statements(notebook)
            + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('statsmodels', 'scipy', 'geopandas') or m == 'matplotlib.pyplot')))"
        )
        loaded = json.loads(
            subprocess.run(
                [sys.executable, "-c", code], cwd=NOTEBOOKS_DIR, capture_output=True, text=True, check=True
            ).stdout
        )
        assert loaded == [], f"{stage}: {loaded[:5]}"


def test_the_pools_clients_start_no_heartbeat_channel():
    """A pool's client asks the kernel's manager whether the kernel is alive, so it starts no
    heartbeat channel (whose thread opened its socket on its own and could print a ZMQError
    traceback as the pool closed)."""
    import threading

    from pipeline.orchestration import kernels

    calls = []

    class Client:
        def start_channels(self, **channels):
            calls.append(channels)

        def execute(self, code, silent, store_history):
            return "m1"

        async def get_shell_msg(self, timeout):
            return {"parent_header": {"msg_id": "m1"}, "content": {"status": "ok"}}

        def stop_channels(self):
            calls.append("stopped")

    class Manager:
        def client(self):
            return Client()

    kernels._run_silently(Manager(), "x = 1", threading.Event(), "testing", started=True)
    assert calls == [{"hb": False}, "stopped"]


def test_closing_the_pool_shuts_its_kernels_down_side_by_side(tmp_path, monkeypatch):
    """Two ready kernels are shut down at once, not one after the other: each shutdown waits
    for the other to begin (a barrier of two), which only concurrent shutdowns pass."""
    import threading

    from pipeline.orchestration import kernels

    barrier = threading.Barrier(2, timeout=5)
    passed: list[object] = []

    def shutdown(manager):
        try:
            barrier.wait()
            passed.append(manager)
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(kernels, "_start", lambda *args: object())
    monkeypatch.setattr(kernels, "_reset", lambda manager, *args: manager)
    monkeypatch.setattr(kernels, "shutdown", shutdown)
    monkeypatch.setattr(kernels, "import_statements", lambda notebook: f"import {notebook.name}")
    pool = kernels.KernelPool(object, "python3", tmp_path, size=2)
    first, second = pool.take("a:police"), pool.take("a:trends")
    pool.give_back(first, reusable=True)
    pool.give_back(second, reusable=True)
    pool.wait_ready(timeout=5)
    pool.close()
    assert sorted(map(id, passed)) == sorted(map(id, [first, second]))
