"""Run stage: execute the notebooks in order with papermill and publish the results.

Every input is checked first (``pipeline.orchestration.checks``): nothing runs while any input has a
problem. A run then takes a lock on its output folder and works in a staging folder
beside it, marked as the pipeline's own. Only when every stage has run and every
document has been published does the staging folder replace the output folder, so a
failed run leaves the last good outputs exactly as they were; the failed run's folder
is kept as ``<output>.failed`` for diagnosis. Ctrl-C or SIGTERM removes the unfinished
staging folder and leaves the outputs alone. Only folders the pipeline marked are
ever deleted (``pipeline.storage.folders``).

Why one module: it is the run's scheduler, from the input check to the published folder;
the stage table is ``pipeline.orchestration.stages``, kernels ``kernels``, reuse
``reuse`` and the folders ``pipeline.storage.folders``.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

# jsonschema, which nbformat and papermill import, also imports the optional rfc3987_syntax
# if it is installed (jupyterlab's dependencies install it). That package compiles about 40
# grammars on import: 1.4 s of every run, before the first stage can start. It checks only
# the "iri" string formats, which the notebook schema does not use, so a run does without it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from pipeline.errors import PipelineError, StageError
from pipeline.orchestration import reuse  # noqa: E402
from pipeline.orchestration.checks import CheckCache, check_inputs, input_files
from pipeline.orchestration.kernels import KernelPool, register_engine
from pipeline.orchestration.stages import CHART_CACHE_STAGE, KERNEL_NAME, NOTEBOOKS_DIR, STAGES, Stage, package_versions
from pipeline.params import Params, load_params, params_as_dict
from pipeline.storage.fingerprints import sha256_of
from pipeline.storage.folders import OutputLock, mark_as_ours, remove_our_folder, sibling_folders

log = logging.getLogger(__name__)

# The run a thread works for, and its label on the console. Runs of a batch share this
# process (pipeline.orchestration.batch): each run's log file takes its own run's lines only.
CURRENT_RUN: contextvars.ContextVar[str] = contextvars.ContextVar("current_run", default="")
RUN_LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("run_label", default="")
# Set when a batch of runs side by side is stopped (Ctrl-C, SIGTERM): its runs then end as
# interrupted runs (their unfinished folders removed), not as failed ones.
STOPPING = threading.Event()


def quietly(task: Any) -> Any:
    """``task`` for a background thread whose failure only costs time: logged, never raised."""

    def run() -> None:
        try:
            task()
        except Exception:  # noqa: BLE001 - the real export reports any real problem
            log.debug("Background %s failed", getattr(task, "__name__", task), exc_info=True)

    return run


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _failed_folder(output_dir: Path) -> Path:
    """Where a failed run's folder is kept for inspection."""
    return sibling_folders(output_dir)["failed"]


def _stage_failure(stage: Stage, error: Exception, output_dir: Path) -> StageError:
    cell = getattr(error, "cell_index", None)
    ename, evalue = getattr(error, "ename", type(error).__name__), getattr(error, "evalue", str(error))
    source = (getattr(error, "source", "") or "").strip().splitlines()
    where = f"cell {cell + 1}" if isinstance(cell, int) else "a cell"
    if source:
        where += f" ({source[0][:80]})"
    return StageError(
        f"Stage '{stage.name}' failed in notebook {stage.notebook}, {where}:\n"
        f"{ename}: {evalue}\n"
        f"The executed notebook is kept at {_failed_folder(output_dir) / 'notebooks' / stage.notebook} for "
        "inspection.\n"
        f"The last published outputs in {output_dir} were left unchanged."
    )


def _quiet_kernel_manager(log_path: Path) -> type:
    """A kernel manager whose kernels write their own stderr to ``log_path``, not the console.

    A kernel's stderr holds start-up and shutdown notices (and, on Ctrl-C, its own
    traceback), which are noise to an analyst; cell errors still reach the run through
    the notebook. The file is kept for diagnosis.
    """
    from jupyter_client import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            kw["stderr"] = open(log_path, "ab")  # noqa: SIM115 - the kernel process owns it for its life
            # The kernel starts in the notebooks' folder. Not papermill's cwd option: that
            # changes this whole process's folder, which stages in parallel threads would race on.
            kw["cwd"] = str(NOTEBOOKS_DIR)
            await super()._async_launch_kernel(kernel_cmd, **kw)
            process = getattr(self.provisioner, "process", None)
            if process is not None:
                _RUNNING_KERNELS.add(process)

    return QuietKernelManager


# Kernel processes started by this run, so an interrupt can stop the ones still working
# (with stages in parallel, the main thread cannot interrupt a worker's notebook otherwise).
_RUNNING_KERNELS: set[Any] = set()


def stop_kernels() -> None:
    for process in list(_RUNNING_KERNELS):
        try:
            if process.poll() is None:
                process.kill()
        except OSError:
            pass
    _RUNNING_KERNELS.clear()


def new_kernel_pool(size: int) -> KernelPool:
    """At most ``size`` kernels for one run's stages or, in a batch, for every run's
    (``pipeline.orchestration.kernels``); their stderr goes to a temporary file, removed with the pool."""
    handle, kernel_log = tempfile.mkstemp(prefix="strategic-assessment-kernels-", suffix=".log")
    os.close(handle)
    return KernelPool(_quiet_kernel_manager(Path(kernel_log)), KERNEL_NAME, NOTEBOOKS_DIR, size, log=Path(kernel_log))


@dataclass
class RunKernels:
    """Where a run's stages get their kernels, the run's own prefix for its stages' keys in
    a pool that other runs may share, and where in the pool's stderr file this run began."""

    pool: KernelPool
    run_key: str
    log_start: int

    def key(self, stage: Stage) -> str:
        return f"{self.run_key}:{stage.name}"


def stage_depth(stage: Stage, stages: tuple[Stage, ...] = STAGES) -> int:
    """How many stages deep ``stage`` sits: 0 for one that reads no other stage's outputs,
    else one more than the deepest stage it reads (``after``)."""
    by_name = {s.name: s for s in stages}
    return max((stage_depth(by_name[d], stages) + 1 for d in stage.after if d in by_name), default=0)


def kernel_priority(stage: Stage) -> int:
    """Which waiting stage gets the next free kernel (highest first): the deepest, so that a
    run nearly done finishes first when runs share the pool, and a run's last stage, the
    report (which reads every other stage), is not kept waiting by the delivery plan beside
    it; among stages equally deep, the one listed later in ``STAGES``."""
    if stage not in STAGES:
        return 0
    return stage_depth(stage) * len(STAGES) + STAGES.index(stage)


def _execute(
    stage: Stage,
    run_dir: Path,
    parameters: dict[str, Any],
    kernels: RunKernels,
    outputs_written: Callable[[], None] | None = None,
) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    executed = run_dir / "notebooks" / stage.notebook
    executed.parent.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    manager = kernels.pool.take(kernels.key(stage), priority=kernel_priority(stage))
    log.debug("%s: kernel ready after %.2f s", stage.name, time.perf_counter() - clock)
    clock = time.perf_counter()
    succeeded = False
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / stage.notebook),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            kernel_manager_class=kernels.pool.manager_class,  # a kernel of its own, if need be, is quiet too
            engine_name=register_engine(),
            outputs_written=outputs_written,
            **({"km": manager} if manager is not None else {}),
        )
        succeeded = True
        log.debug("%s: notebook executed in %.2f s", stage.name, time.perf_counter() - clock)
    except PapermillExecutionError as exc:
        raise _stage_failure(stage, exc, Path(parameters["params"]["output_dir"])) from exc
    finally:
        # Kept for the next stage only if this one succeeded: a failed notebook may have left
        # the kernel in any state.
        kernels.pool.give_back(manager, reusable=succeeded)
    return executed


def _document_period(stage: Stage, params: Params) -> str:
    """The period a document covers, in words: the assessment window, or for the delivery plan
    its financial year (with the window its evidence comes from)."""
    from pipeline.months import assessment_window, month_label

    window = assessment_window(params.period_end)
    period = f"{month_label(window[0])} to {month_label(window[-1])}"
    if stage.name == "delivery" and params.delivery is not None:
        from pipeline.inputs.delivery_plan import load_plan

        try:
            year = load_plan(params.delivery.plan).financial_year
        except PipelineError:
            return period  # the delivery stage reports the problem itself
        return f"financial year {year} (evidence from {period})"
    return period


# Each sample input as the running head names it, and the documents that show it.
_SAMPLE_LABELS = {
    "survey": ("survey results", ("report", "delivery")),
    "morile": ("prioritisation scores", ("report", "morile", "delivery")),
    "force_extract": ("force crime extract", ("report",)),
    "partners": ("partner indicators", ("report", "delivery")),
    "delivery": ("action owners, dates, statuses and reviews", ("delivery",)),
}


def document_title(stage: Stage, params: Params, part: str | None = None) -> tuple[str, str]:
    """A published document's page title (with its area and its own period) and the label
    printed at the head of every page naming each sample input it shows ("" when none);
    ``part`` "annex" for the stage's annex document."""
    name = (stage.annex_title if part == "annex" else None) or stage.title or params.title
    if params.area.name not in name:
        name = f"{name}: {params.area.name}"
    title = f"{name}, {_document_period(stage, params)}"
    labels = [_SAMPLE_LABELS[key] for key in params.sample_inputs]
    samples = [label for label, stages in labels if stage.name in stages]
    # Short enough for one line of the page head: each sample input named, what they are said once.
    header = ("Sample data, not real results: " + "; ".join(samples)) if samples else ""
    return title, header


def cover_lines(stage: Stage, params: Params, today: date) -> list[tuple[str, str]]:
    """The committee-paper details under a document's title, as (label, value) pairs: area,
    period, publication date (``publication.date``, else ``today``), version, contact if
    given, and protective marking."""
    publication = params.publication
    lines = [
        ("Area", params.area.name),
        ("Period", _document_period(stage, params)),
        ("Published", publication.date or f"{today.day} {today:%B %Y}"),
        ("Version", publication.version),
    ]
    if publication.contact:
        lines.append(("Contact", publication.contact))
    lines.append(("Protective marking", publication.marking))
    return lines


class _RunLogHandler(logging.FileHandler):
    """A run's log file that stays shut once closed. A plain FileHandler reopens its file for a
    record another thread was already emitting when it was closed, which would put a file back
    into the run's folder as it is removed (a stopped run) or renamed (a finished one)."""

    def __init__(self, path: Path, encoding: str) -> None:
        super().__init__(path, encoding=encoding)
        self.finished = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.finished:  # emit and close both hold the handler's lock
            super().emit(record)

    def close(self) -> None:
        with self.lock:
            self.finished = True
        super().close()


class RunInterrupted(PipelineError):
    """The run was stopped by Ctrl-C or a termination signal."""


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def install_signal_handlers() -> dict[int, Any]:
    """Treat SIGTERM like Ctrl-C, so either stops the run cleanly (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if signum is not None:
            previous[signum] = signal.signal(signum, _raise_interrupt)
    return previous


def _tidy_stale_staging(output_dir: Path) -> None:
    """Remove staging folders left by runs that were killed outright (ours only; we hold the lock)."""
    for stale in output_dir.parent.glob(f".{output_dir.name}.running*"):
        if stale.is_dir():
            try:
                remove_our_folder(stale)
            except PipelineError:
                log.warning("Left %s alone: it was not created by this pipeline.", stale)


def _input_hashes(params: Params) -> dict[str, str] | None:
    """SHA-256 of every input file, by absolute path; None if one cannot be read (the check then says which)."""
    try:
        return {str(p): sha256_of(p) for p in input_files(params)}
    except OSError:
        return None


def _check_cache(
    params: Params, processed: Path, file_hashes: dict[str, str] | None, reuse_saved: bool
) -> CheckCache | None:
    """Fingerprints of the input checks: the police data check depends on the police stage's
    params fields and files; the boundary and force extract checks on those and their own
    settings and files; the survey, MoRiLE and delivery checks on their own section and files
    (the MoRiLE moderation sheet's check on the model, threats and that sheet alone).
    Every fingerprint includes the pipeline's code and library versions."""
    if file_hashes is None:
        return None
    code = reuse.code_fingerprint(package_versions())
    params_dict = params_as_dict(params)

    def key(settings: dict[str, Any], after: str = "") -> str:
        return reuse.digest_of(
            {"after": after, "settings": settings, "files": reuse.files_named(settings, file_hashes), "code": code}
        )

    police = key(_stage_settings(next(s for s in STAGES if s.name == "police"), params_dict))
    extract = {
        name: params_dict.get(name)
        for name in ("area", "force_extract", "geography", "period_end", "trend_years", "partial_month_threshold")
    }
    keys = {
        "police": police,
        "geography": key({"area": params_dict["area"], "geography": params_dict.get("geography")}, after=police),
        "extract": key(extract, after=police),  # it reads the area's LSOAs from the police data
        **{name: key({name: params_dict.get(name)}) for name in ("survey", "delivery")},
    }
    # The MoRiLE section's moderation sheet is checked apart from its model and scoring
    # sheets: correcting it after the meeting is the commonest rerun.
    morile = params_dict.get("morile")
    if morile is None:
        keys["morile"] = keys["moderation"] = key({"morile": None})
    else:
        keys["morile"] = key({"morile": {k: v for k, v in morile.items() if k != "moderation"}})
        keys["moderation"] = key({"morile": {k: morile.get(k) for k in ("model", "threats", "moderation")}})
    return CheckCache(processed / reuse.STAGES_FOLDER, keys, reuse_saved)


def _stage_settings(stage: Stage, params_dict: dict[str, Any]) -> dict[str, Any]:
    """The params fields a stage reads (all of them when it does not say). A dotted name
    (``morile.threats``) is one setting inside a section."""
    if stage.reads is None:
        return params_dict
    settings: dict[str, Any] = {}
    for name in stage.reads:
        section, _, key = name.partition(".")
        value = params_dict.get(section)
        settings[name] = value.get(key) if key and isinstance(value, dict) else value
    return settings


def _as_part_of(run: str, label: str, task: Any, *args: Any) -> Any:
    """``task(*args)`` in a stage's thread as work of the run (and area) that started it, so
    its log lines go to that run's log. Only these two variables are carried over: a copy
    of the whole context would also carry the event loop jupyter_core keeps per thread."""
    CURRENT_RUN.set(run)
    RUN_LABEL.set(label)
    return task(*args)


def cpus() -> int:
    """CPUs this process may use (at most 4: beyond that, stages wait on each other, not on CPUs)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(4, available))


def _run_one(
    stage: Stage,
    params: Params,
    folder: Path,
    parameters: dict[str, Any],
    pdf: bool,
    kernels: RunKernels,
    outputs_written: Callable[[], None] | None = None,
) -> None:
    """Execute a stage's notebook writing into ``folder`` and publish its document there;
    ``outputs_written`` is called once its processed outputs are all written, if its notebook
    tags the cell that finishes them (``pipeline.orchestration.kernels.OUTPUTS_WRITTEN_TAG``)."""
    from pipeline.documents.export import export_docx, export_html, export_pdf

    executed = _execute(stage, folder, parameters, kernels, outputs_written)
    for name, part in stage.documents():
        title, sample_label = document_title(stage, params, part)
        clock = time.perf_counter()
        document = export_html(
            executed,
            folder / name,
            title,
            sample_label=sample_label,
            cover=cover_lines(stage, params, date.today()),
            marking=params.publication.marking,
            part=part,
            landscape_tables=stage.landscape_tables,
        )
        log.debug("%s: %s written in %.2f s", stage.name, name, time.perf_counter() - clock)
        clock = time.perf_counter()
        export_docx(document, title)  # Word, for committee papers
        log.debug("%s: Word file written in %.2f s", stage.name, time.perf_counter() - clock)
        if pdf:
            export_pdf(document)


def _decide(
    stage: Stage,
    store: reuse.StageStore,
    params_dict: dict[str, Any],
    file_hashes: dict[str, str],
    code: str,
    digests: dict[str, str],
    reran: set[str],
    pdf: bool,
    force: bool,
) -> tuple[dict[str, Any], str, str | None]:
    """A stage's fingerprint, its digest, and why it must run (None: reuse its last results)."""
    upstream = {d: digests[d] for d in stage.after if d in digests}
    parts = reuse.fingerprint(
        NOTEBOOKS_DIR / stage.notebook, _stage_settings(stage, params_dict), file_hashes, code, upstream, pdf
    )
    reason = reuse.why_run(store.record(stage.name), parts, [d for d in stage.after if d in reran], force)
    return parts, reuse.digest_of(parts), reason


def _expected_to_run(
    stages: tuple[Stage, ...],
    params: Params,
    processed: Path,
    file_hashes: dict[str, str],
    versions: dict[str, str],
    pdf: bool,
    force: bool,
) -> list[Stage]:
    """The stages a run will run rather than reuse, in the listed order (which puts each after those it reads)."""
    store, params_dict, code = reuse.StageStore(processed), params_as_dict(params), reuse.code_fingerprint(versions)
    digests: dict[str, str] = {}
    runs: set[str] = set()
    for stage in stages:
        _, digests[stage.name], reason = _decide(
            stage, store, params_dict, file_hashes, code, digests, runs, pdf, force
        )
        if reason is not None:
            runs.add(stage.name)
    return [s for s in stages if s.name in runs]


def _set_once(signal_: Any) -> None:
    """Mark a stage's outputs as written; a second call changes nothing (and never fails its notebook)."""
    if not signal_.done():
        signal_.set_result(None)


def _run_stages(
    stages: tuple[Stage, ...],
    params: Params,
    staging: Path,
    processed: Path,
    file_hashes: dict[str, str],
    versions: dict[str, str],
    pdf: bool,
    force: bool,
    workers: int,
    kernels: RunKernels,
) -> dict[str, dict[str, Any]]:
    """Run or reuse every stage, each as soon as the stages it reads from have written their
    processed outputs (when they are done, or earlier if their notebook says so: the MoRiLE
    stage's outputs are written in its first cell, before its review's heatmap and HTML), up
    to ``workers`` at once; copy each one's results into ``staging``. Returns, per stage,
    whether it ran, why, and how long it took. A run one of whose stages fails publishes
    nothing, so a stage that started on the outputs of one that then failed is never used."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from pipeline.documents.export import warm_up_exporter

    store = reuse.StageStore(processed)
    params_dict = params_as_dict(params)
    code = reuse.code_fingerprint(versions)
    included = {s.name for s in stages}
    digests: dict[str, str] = {}
    reran: set[str] = set()
    outcomes: dict[str, dict[str, Any]] = {}
    pending = list(stages)
    running: dict[Any, tuple[Stage, dict[str, Any], str, str, float]] = {}
    written: dict[Future, tuple[Stage, str]] = {}  # set once a running stage's processed outputs are written
    total, started = len(stages), 0

    def failed_stage_into_staging(stage: Stage) -> None:
        # The failed notebook is kept with the failed run's folder, for inspection.
        if store.folder(stage.name).is_dir():
            store.copy_into(stage.name, staging)

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="stage")
    exporter_warming = False
    try:
        while pending or running:
            progressed = True
            while progressed:  # a reused stage can make others ready at once
                progressed = False
                for stage in [s for s in pending if all(d in digests or d not in included for d in s.after)]:
                    parts, digest, reason = _decide(
                        stage, store, params_dict, file_hashes, code, digests, reran, pdf, force
                    )
                    if reason is not None and len(running) >= workers:
                        continue  # it starts when a worker is free
                    pending.remove(stage)
                    started += 1
                    if reason is None:
                        store.copy_into(stage.name, staging)
                        digests[stage.name] = digest
                        outcomes[stage.name] = {"ran": False, "reason": reuse.NOTHING_CHANGED, "seconds": 0.0}
                        log.info("[%d/%d] %s: reused (%s)", started, total, stage.name, reuse.NOTHING_CHANGED)
                        progressed = True
                        continue
                    log.info("[%d/%d] %s: %s (%s) ...", started, total, stage.name, stage.description, reason)
                    if stage.publishes and not exporter_warming:
                        # Publishing's imports load while this stage runs in its kernel (if it is
                        # done first, its export simply waits on the same imports).
                        threading.Thread(target=quietly(warm_up_exporter), name="warm-exporter", daemon=True).start()
                        exporter_warming = True
                    folder = store.start(stage.name)
                    parameters = {"params": params_dict, "run_dir": str(folder), "processed_dir": str(processed)}
                    outputs: Future = Future()
                    written[outputs] = (stage, digest)
                    future = pool.submit(
                        _as_part_of,
                        CURRENT_RUN.get(),
                        RUN_LABEL.get(),
                        _run_one,
                        stage,
                        params,
                        folder,
                        parameters,
                        pdf,
                        kernels,
                        functools.partial(_set_once, outputs),
                    )
                    running[future] = (stage, parts, digest, reason, time.perf_counter())
            if not running:
                continue
            done, _ = wait([*running, *written], return_when=FIRST_COMPLETED)
            for signal_ in [f for f in done if f in written]:
                stage, digest = written.pop(signal_)
                if stage.name not in digests:
                    # The stages that read its outputs may start; its own results are
                    # recorded once it is done.
                    digests[stage.name] = digest
                    reran.add(stage.name)
                    log.debug("%s: processed outputs written; the stages that read them may start", stage.name)
            for future in [f for f in done if f in running]:
                stage, parts, digest, reason, stage_clock = running.pop(future)
                for signal_, (waiting, _) in list(written.items()):
                    if waiting is stage:
                        del written[signal_]
                try:
                    future.result()
                except BaseException:
                    failed_stage_into_staging(stage)
                    raise
                store.finish(stage.name, parts, digest)
                store.copy_into(stage.name, staging)
                digests[stage.name] = digest
                reran.add(stage.name)
                seconds = round(time.perf_counter() - stage_clock, 2)
                outcomes[stage.name] = {"ran": True, "reason": reason, "seconds": seconds}
                log.info("%s done in %.1f s", stage.name, seconds)
    except KeyboardInterrupt:
        # Stop what is still running by killing its kernels, without waiting for the worker
        # threads: their notebooks fail on the dead kernel, and nothing they write is used
        # (a stage's results are recorded by this thread, only on success).
        stop_kernels()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        # A stage failed: let the others finish, so none is left writing as the run ends.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes


def run_assessment(
    params_path: str | Path,
    stages: tuple[Stage, ...] = STAGES,
    pdf: bool = False,
    force: bool = False,
    workers: int | None = None,
    kernel_pool: KernelPool | None = None,
) -> Path:
    """Check every input, run every stage for a params file and publish; returns the published report's path.

    Raises ``ParamsError`` or ``InputDataError`` before anything runs if the params or
    any input have problems (all listed at once), ``RunLockedError`` if another run is
    publishing to the same folder, ``StageError`` naming the notebook and cell if a stage
    fails, and ``RunInterrupted`` on Ctrl-C or SIGTERM. In every case the last published
    outputs are left as they were. With ``pdf`` each published document is also printed to
    an A4 PDF beside it (published with the rest, atomically).

    Stages run in parallel where one does not read another's outputs, on ``workers``
    threads (default: the number of CPUs, at most 4), in kernels kept from one stage to the
    next (``pipeline.orchestration.kernels``): the run's own, or ``kernel_pool``'s, which outlive the run
    (a batch keeps them for its next areas). A stage
    whose notebook, params fields, input files, package code and upstream stages are
    unchanged since its last good run is reused, not rerun (``pipeline.orchestration.reuse``); ``force``
    reruns every stage. The input check is reused on the same terms.
    """
    started, clock = _now(), time.perf_counter()
    params = load_params(params_path)
    processed = (params.processed_dir / params.run_name).resolve()
    run_token = CURRENT_RUN.set(str(processed))
    workers = workers or cpus()
    stages = tuple(s for s in stages if s.applies_to(params))
    file_hashes = _input_hashes(params)
    pool = kernel_pool or new_kernel_pool(workers)
    # The kernels' stderr goes to the pool's temporary file; this run's part is kept (see _run_locked).
    kernels = RunKernels(pool, str(processed), pool.log.stat().st_size if pool.log else 0)
    previous_handlers = install_signal_handlers()
    interrupted = False
    try:
        if file_hashes is not None:
            # Kernels start now, while the inputs are checked.
            expected = _expected_to_run(stages, params, processed, file_hashes, package_versions(), pdf, force)
            pool.expect([(kernels.key(s), NOTEBOOKS_DIR / s.notebook) for s in expected])
        log.info("Checking the inputs for %s, window ending %s ...", params.area.name, params.period_end)
        check_cache = _check_cache(params, processed, file_hashes, reuse_saved=not force)
        try:
            checked = check_inputs(params, cache=check_cache)
        finally:
            pool.release()  # the other kernels start now (pipeline.orchestration.kernels)
        for fact in checked.facts:
            log.info(fact)
        for warning in checked.warnings:
            log.warning("Warning: %s", warning)
        output_dir = params.output_dir.resolve()
        with OutputLock(output_dir, str(params_path)):
            _tidy_stale_staging(output_dir)
            if check_cache:
                check_cache.save()  # only now: a refused or locked-out run writes nothing
            return _run_locked(
                params,
                params_path,
                output_dir,
                stages,
                started,
                clock,
                checked.warnings,
                pdf,
                force,
                workers,
                file_hashes,
                kernels,
            )
    except (KeyboardInterrupt, RunInterrupted):
        interrupted = True
        raise
    finally:
        if kernel_pool is None or interrupted:
            pool.close()
            stop_kernels()
        CURRENT_RUN.reset(run_token)
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)


def _run_locked(
    params: Params,
    params_path: str | Path,
    output_dir: Path,
    stages: tuple[Stage, ...],
    started: str,
    clock: float,
    warnings: list[str],
    pdf: bool,
    force: bool,
    workers: int,
    file_hashes: dict[str, str] | None,
    kernels: RunKernels,
) -> Path:
    # Imported here, not with the module: they load pandas (0.5 s), and the run's kernels
    # start sooner if the run gets to them first (run_assessment's expect).
    from pipeline.documents import chart_cache
    from pipeline.documents.workbook import tables_workbook
    from pipeline.storage.folders import replace_folder_atomically

    staging = output_dir.with_name(f".{output_dir.name}.running-{os.getpid()}")
    mark_as_ours(staging)
    processed = (params.processed_dir / params.run_name).resolve()
    handler = _RunLogHandler(staging / "run.log", encoding="utf-8")
    # This run's lines, and those of no run (the kernels' pool); not those of other runs in a batch.
    this_run = CURRENT_RUN.get()
    handler.addFilter(lambda record: CURRENT_RUN.get() in (this_run, ""))
    # The run's log file records the package's debug detail whatever the console shows.
    logging.getLogger("pipeline").setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)

    def close_log() -> None:
        # Closed before the staging folder is renamed or removed (Windows cannot move an open file).
        logging.getLogger().removeHandler(handler)
        handler.close()
        # The kernels' own stderr of this run only, kept for diagnosis (see _quiet_kernel_manager).
        # Diagnostic only, so never a reason to fail: a stopped batch closes the kernels' pool, and
        # deletes its log, while its areas' runs are still closing theirs; the unfinished run's
        # folder must still be removed after this.
        try:
            processed.mkdir(parents=True, exist_ok=True)
            with open(processed / "kernel-stderr.log", "wb") as kept:
                if kernels.pool.log is not None and kernels.pool.log.exists():
                    with open(kernels.pool.log, "rb") as written:
                        written.seek(kernels.log_start)
                        shutil.copyfileobj(written, kept)
        except OSError as exc:
            log.debug("The kernels' log was not kept: %s", exc)

    for warning in warnings:
        log.debug("Input check warning: %s", warning)
    record: dict[str, Any] = {
        "params_file": str(Path(params_path).resolve()),
        "params": params_as_dict(params),
        "started": started,
        "warnings": warnings,
        "stages": [],
    }
    try:
        log.info("Strategic assessment for %s, window ending %s", params.area.name, params.period_end)
        files = input_files(params)
        if file_hashes is None:
            file_hashes = {str(p): sha256_of(p) for p in files}
        record["inputs"] = [{"path": str(p), "bytes": p.stat().st_size, "sha256": file_hashes[str(p)]} for p in files]
        record["versions"] = package_versions()
        chart_cache.clear_counts(processed)
        if force:
            chart_cache.clear(processed)  # --force redraws every chart too
        outcomes = _run_stages(
            stages, params, staging, processed, file_hashes, record["versions"], pdf, force, workers, kernels
        )
        charts = chart_cache.last_counts(processed)
        published = []
        for stage in stages:  # in the listed order, whatever order they finished in
            outcome = outcomes[stage.name]
            if stage.name == CHART_CACHE_STAGE and outcome["ran"] and charts is not None:
                outcome["charts"] = charts
                log.info(
                    "%s: %d chart(s) drawn, %d reused from the last run (same data and code)",
                    stage.name,
                    charts["drawn"],
                    charts["reused"],
                )
            record["stages"].append({"name": stage.name, "notebook": stage.notebook, **outcome})
            for name, _ in stage.documents():
                published.append(staging / name)
                published.append((staging / name).with_suffix(".docx"))
                if pdf:
                    published.append((staging / name).with_suffix(".pdf"))
        workbook = tables_workbook(staging / "tables", staging / "tables.xlsx")
        if workbook:
            published.append(workbook)
        record.update(
            finished=_now(),
            seconds=round(time.perf_counter() - clock, 2),
            published=[p.name for p in published],
            status="succeeded",
        )
        (staging / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        close_log()
        replace_folder_atomically(staging, output_dir)
    except BaseException as exc:
        close_log()
        # Ctrl-C or SIGTERM, or a batch being stopped (pipeline.orchestration.batch), whose runs fail only
        # because their kernels were stopped: an interrupted run, not a failed one.
        if isinstance(exc, KeyboardInterrupt) or STOPPING.is_set():
            remove_our_folder(staging)
            how = (
                "with the batch"
                if not isinstance(exc, KeyboardInterrupt)
                else "by a termination signal (SIGTERM)"
                if str(exc) == "SIGTERM"
                else "by Ctrl-C"
            )
            kept = (
                f"the last published outputs in {output_dir} are unchanged"
                if output_dir.exists()
                else "nothing had been published yet"
            )
            raise RunInterrupted(f"Stopped {how}: the unfinished run was removed; {kept}.") from None
        failed = _failed_folder(output_dir)
        remove_our_folder(failed)
        staging.rename(failed)
        raise
    # The strategic assessment is the run's main document: print its path.
    main_document = next(
        (p for p in published if p.name == "strategic-assessment.html"), published[0] if published else None
    )
    report = output_dir / main_document.name if main_document else output_dir
    log.info("Finished in %.1f s. Published in %s:", record["seconds"], output_dir)
    for document in published:
        log.info("  %s", document.name)
    return report
