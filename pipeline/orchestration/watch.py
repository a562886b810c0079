"""Run the assessment again each time an input file is saved: for the MoRiLE moderation meeting.

``python -m pipeline watch params/<name>.yaml`` runs the assessment as ``run`` does, then
waits. When the params file or any input it names changes (a facilitator saves a corrected
score in the moderation sheet), the assessment runs again and republishes, reusing every
stage the change does not reach (``pipeline.orchestration.reuse``). The process and its kernels stay up
between runs, so a rerun skips what a fresh command pays before any stage can start: the
interpreter and pandas, and each kernel's start and imports (some 3 s of a 10 s rerun after a
moderation edit on 2 CPUs).

A run that fails (a score the model does not have, a sheet left open half-saved) prints its
message, leaves the last published outputs in place, as every failed run does, and the watch
goes on: the next save runs it again. If the pipeline's own code changes, the watch stops and
says so: its kernels have the old code imported. Ctrl-C stops it; a run it interrupts
publishes nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError, file_system_refusal

log = logging.getLogger(__name__)

# A file's state as seen by stat: (size in bytes, modification time in ns); a folder's, the
# sorted (name, size, modification time) of every file in it; None if absent.
FileState = tuple | None


class CodeChanged(PipelineError):
    """The pipeline package's files changed while watching: the kernels run the old code."""


def snapshot(paths: Iterable[Path]) -> dict[Path, FileState]:
    """Each file's size and modification time, and each folder's files' (so that a month's
    police.uk file added to an input folder is seen); None where a path does not exist or
    cannot be read."""
    states: dict[Path, FileState] = {}
    for path in paths:
        path = Path(path)
        try:
            if path.is_dir():
                states[path] = tuple(
                    sorted(
                        (str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in path.rglob("*")
                        if p.is_file()
                    )
                )
            else:
                stat = os.stat(path)
                states[path] = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            states[path] = None
    return states


def changed_files(before: dict[Path, FileState], after: dict[Path, FileState]) -> list[Path]:
    """The files whose size or modification time differ between two snapshots, or that were
    added or removed, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def watched_inputs(params_path: Path, last: list[Path]) -> list[Path]:
    """The params file, every input file it names and its police input folders; if the params
    file cannot be read or is invalid now (the run says why), the paths watched last time, so
    that fixing it is seen."""
    from pipeline.orchestration.checks import input_files
    from pipeline.params import load_params

    try:
        params = load_params(params_path)
        named = input_files(params) + sorted(p.resolve() for p in params.inputs.police if p.is_dir())
    except (PipelineError, OSError):
        named = [p for p in last if p != params_path]
    return [params_path, *named]


def wait_for_change(
    files: list[Path],
    before: dict[Path, FileState],
    code: dict[Path, FileState],
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Path]:
    """Wait until one of ``files`` differs from ``before``, then until no file changes for one
    more ``poll`` seconds (a spreadsheet program may write a file in several steps); the changed
    files. Raises ``CodeChanged`` if the package's files differ from ``code`` meanwhile."""
    while True:
        sleep(poll)
        now = snapshot(files)
        if changed_files(before, now):
            break
        if changed_files(code, snapshot(code)):
            raise CodeChanged(
                "The pipeline's own code changed while watching, and the running kernels still have the old code. "
                "Start `python -m pipeline watch` again to run with the new code."
            )
    while True:
        sleep(poll)
        settled = snapshot(files)
        if settled == now:
            return changed_files(before, settled)
        now = settled


def watch(
    params_path: str | Path,
    pdf: bool = False,
    workers: int | None = None,
    poll: float = 0.1,
    runs: int | None = None,
    on_published: Callable[[Path], None] | None = None,
) -> int:
    """Run the assessment for ``params_path`` now and again after each change to it or its
    inputs, until Ctrl-C (or, for tests, ``runs`` runs). ``poll``: seconds between looks at the
    files. ``on_published`` is given each published report's path. Returns how many runs
    failed, once Ctrl-C or a termination signal stops the wait between runs. The first run
    reuses what an earlier run left, as ``run`` does; so does each rerun. Raises
    ``ParamsError`` at once if the params file does not exist, ``CodeChanged`` if the
    package's code changes, and ``RunInterrupted`` if Ctrl-C stops a run."""
    from pipeline.orchestration.run import (
        RunInterrupted,
        cpus,
        install_signal_handlers,
        new_kernel_pool,
        run_assessment,
        stop_kernels,
    )
    from pipeline.orchestration.stages import NOTEBOOKS_DIR, STAGES

    params_path = Path(params_path).resolve()
    if not params_path.is_file():
        # A mistyped path is said at once, not watched for ever.
        from pipeline.params import load_params

        load_params(params_path)  # raises ParamsError naming the file and what to do
    pool = new_kernel_pool(workers or cpus())
    from pipeline.storage.fingerprints import package_files

    code = snapshot(package_files())  # what the kernels have loaded
    files: list[Path] = [params_path]
    failures = done = 0
    # A termination signal stops the watch as Ctrl-C does, so its kernels are shut down.
    previous_handlers = install_signal_handlers()
    try:
        while True:
            files = watched_inputs(params_path, files)
            before = snapshot(files)
            try:
                report = run_assessment(params_path, pdf=pdf, workers=workers, kernel_pool=pool)
                if on_published is not None:
                    on_published(report)
            except RunInterrupted:
                raise
            except PipelineError as exc:
                failures += 1
                log.error("Error: %s\nThe last published outputs were left as they were.", exc)
            except OSError as exc:
                failures += 1
                log.error("Error: %s", file_system_refusal(exc))
            done += 1
            if runs is not None and done >= runs:
                return failures
            # Kernels wait ready for the next run, with every stage's imports done: a run that
            # reused every stage started none, and the next would wait for one to start.
            pool.start_ahead(*(NOTEBOOKS_DIR / s.notebook for s in STAGES))
            # Said once they are ready: a change saved from then on runs at once. One saved
            # sooner is not missed (the files are compared with how they were as the run began).
            pool.wait_ready(timeout=120)
            log.info(
                "Watching %s and the %d input file(s) it names; save a change to run again (Ctrl-C stops).",
                params_path.name,
                sum(1 for p in files[1:] if not p.is_dir()),
            )
            try:
                changes = wait_for_change(files, before, code, poll)
            except KeyboardInterrupt:
                log.info("Stopped watching.")
                return failures
            log.info("Changed: %s. Running again ...", ", ".join(p.name for p in changes))
    finally:
        try:
            _close_through_interrupts(pool, stop_kernels)
        finally:
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)


def _close_through_interrupts(pool: Any, stop_kernels: Callable[[], None]) -> None:
    """Shut the watch's kernels down, letting a second Ctrl-C meanwhile go by: pressed
    while the first one's shutdown runs, it cut the shutdown short and the command ended on
    "Stopped by Ctrl-C before anything was changed", after runs that had published."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    try:
        pool.close()
        stop_kernels()
    finally:
        if in_main_thread:
            signal.signal(signal.SIGINT, previous)
