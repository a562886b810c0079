"""Run stage: execute the notebooks in order with papermill and publish the results.

Every input is checked first (``pipeline.checks``): nothing runs while any input has a
problem. A run then takes a lock on its output folder and works in a staging folder
beside it, marked as the pipeline's own. Only when every stage has run and every
document has been published does the staging folder replace the output folder, so a
failed run leaves the last good outputs exactly as they were; the failed run's folder
is kept as ``<output>.failed`` for diagnosis. Ctrl-C or SIGTERM removes the unfinished
staging folder and leaves the outputs alone. Only folders the pipeline marked are
ever deleted (``pipeline.safety``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.checks import check_inputs, input_files
from pipeline.errors import PipelineError, StageError
from pipeline.params import Params, load_params, params_as_dict
from pipeline.publish import export_html, export_pdf, replace_folder_atomically, tables_workbook
from pipeline.safety import OutputLock, mark_as_ours, remove_our_folder, sibling_folders

log = logging.getLogger(__name__)

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_NAME = "python3"
KEY_PACKAGES = (
    "pandas",
    "numpy",
    "pyarrow",
    "statsmodels",
    "scipy",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "pydantic",
    "openpyxl",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
)


@dataclass(frozen=True)
class Stage:
    """One notebook of the assessment, run in the order listed in ``STAGES``."""

    name: str
    notebook: str
    description: str
    publishes: str | None = None  # HTML file name, if the notebook is a published document
    needs: str | None = None  # a params section the stage needs; the stage is skipped without it
    title: str | None = None  # the published page's title, if not the params title

    def applies_to(self, params: Params) -> bool:
        """Whether this run includes the stage."""
        return self.needs is None or getattr(params, self.needs) is not None


STAGES: tuple[Stage, ...] = (
    Stage("police", "01_police_data.ipynb", "read police.uk data and check month coverage"),
    Stage("survey", "02_survey.ipynb", "weighted survey indicators and significance", needs="survey"),
    Stage("trends", "03_trends.ipynb", "seasonal trend models, forecasts and exceptions"),
    Stage("places", "05_places.ipynb", "crime by LSOA, ward and deprivation; persistent hotspots", needs="geography"),
    Stage(
        "morile",
        "04_morile.ipynb",
        "MoRiLE scores, ranks, moderation and sensitivity",
        publishes="morile-review.html",
        needs="morile",
        title="MoRiLE prioritisation review",
    ),
    Stage(
        "report",
        "10_strategic_assessment.ipynb",
        "write the strategic assessment",
        publishes="strategic-assessment.html",
    ),
    Stage(
        "delivery",
        "20_delivery_plan.ipynb",
        "write the delivery plan appendix",
        publishes="delivery-plan-appendix.html",
        needs="delivery",
        title="Delivery plan appendix",
    ),
)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python and the key packages, for run.json."""
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


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
        f"The executed notebook is kept at {_failed_folder(output_dir) / 'notebooks' / stage.notebook} for inspection.\n"
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
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


def _execute(stage: Stage, run_dir: Path, parameters: dict[str, Any]) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    executed = run_dir / "notebooks" / stage.notebook
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / stage.notebook),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            cwd=str(NOTEBOOKS_DIR),
            kernel_manager_class=_quiet_kernel_manager(Path(parameters["processed_dir"]) / "kernel-stderr.log"),
        )
    except PapermillExecutionError as exc:
        raise _stage_failure(stage, exc, Path(parameters["params"]["output_dir"])) from exc
    return executed


def document_title(stage: Stage, params: Params) -> tuple[str, str]:
    """A published document's page title (with its area and period) and the label printed at
    the head of every page when the document shows sample data ("" when it shows none)."""
    from pipeline.months import assessment_window, month_label

    window = assessment_window(params.period_end)
    period = f"{month_label(window[0])} to {month_label(window[-1])}"
    name = stage.title or params.title
    if params.area.name not in name:
        name = f"{name}: {params.area.name}"
    title = f"{name}, {period}"
    samples = []
    if params.survey is not None and params.survey.sample and stage.name in ("report", "delivery"):
        samples.append("survey results are a synthetic sample")
    if params.morile is not None and params.morile.sample and stage.name in ("report", "morile", "delivery"):
        samples.append("prioritisation scores are an illustrative sample")
    header = ("Sample data: " + "; ".join(samples)) if samples else ""
    return title, header


class RunInterrupted(PipelineError):
    """The run was stopped by Ctrl-C or a termination signal."""


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _install_signal_handlers() -> dict[int, Any]:
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


def run_assessment(params_path: str | Path, stages: tuple[Stage, ...] = STAGES, pdf: bool = False) -> Path:
    """Check every input, run every stage for a params file and publish; returns the published report's path.

    Raises ``ParamsError`` or ``InputDataError`` before anything runs if the params or
    any input have problems (all listed at once), ``RunLockedError`` if another run is
    publishing to the same folder, ``StageError`` naming the notebook and cell if a stage
    fails, and ``RunInterrupted`` on Ctrl-C or SIGTERM. In every case the last published
    outputs are left as they were. With ``pdf`` each published document is also printed to
    an A4 PDF beside it (published with the rest, atomically).
    """
    started, clock = _now(), time.perf_counter()
    params = load_params(params_path)
    log.info("Checking the inputs for %s, window ending %s ...", params.area.name, params.period_end)
    checked = check_inputs(params)
    for fact in checked.facts:
        log.info(fact)
    for warning in checked.warnings:
        log.warning("Warning: %s", warning)
    output_dir = params.output_dir.resolve()
    previous_handlers = _install_signal_handlers()
    try:
        with OutputLock(output_dir, str(params_path)):
            _tidy_stale_staging(output_dir)
            return _run_locked(params, params_path, output_dir, stages, started, clock, checked.warnings, pdf)
    finally:
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
    pdf: bool = False,
) -> Path:
    staging = output_dir.with_name(f".{output_dir.name}.running-{os.getpid()}")
    mark_as_ours(staging)
    processed = (params.processed_dir / params.run_name).resolve()
    # The kernels' own stderr of this run only (the file is the pipeline's: see _quiet_kernel_manager).
    (processed / "kernel-stderr.log").unlink(missing_ok=True)
    handler = logging.FileHandler(staging / "run.log", encoding="utf-8")
    # The run's log file records the package's debug detail whatever the console shows.
    logging.getLogger("pipeline").setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)

    def close_log() -> None:
        # Closed before the staging folder is renamed or removed (Windows cannot move an open file).
        logging.getLogger().removeHandler(handler)
        handler.close()

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
        log.info("Fingerprinting %d input file(s)", len(files))
        record["inputs"] = [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in files]
        record["versions"] = package_versions()
        parameters = {
            "params": params_as_dict(params),
            "run_dir": str(staging),
            "processed_dir": str(processed),
        }
        published = []
        stages = tuple(s for s in stages if s.applies_to(params))
        for number, stage in enumerate(stages, start=1):
            log.info("[%d/%d] %s: %s ...", number, len(stages), stage.name, stage.description)
            stage_clock = time.perf_counter()
            executed = _execute(stage, staging, parameters)
            if stage.publishes:
                title, sample_label = document_title(stage, params)
                document = export_html(executed, staging / stage.publishes, title, sample_label=sample_label)
                published.append(document)
                if pdf:
                    published.append(export_pdf(document))
            seconds = round(time.perf_counter() - stage_clock, 2)
            record["stages"].append({"name": stage.name, "notebook": stage.notebook, "seconds": seconds})
            log.info("[%d/%d] %s done in %.1f s", number, len(stages), stage.name, seconds)
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
    except KeyboardInterrupt as exc:
        close_log()
        remove_our_folder(staging)
        how = "a termination signal (SIGTERM)" if str(exc) == "SIGTERM" else "Ctrl-C"
        kept = f"the last published outputs in {output_dir} are unchanged" if output_dir.exists() else "nothing had been published yet"
        raise RunInterrupted(f"Stopped by {how}: the unfinished run was removed; {kept}.") from None
    except BaseException:
        close_log()
        failed = _failed_folder(output_dir)
        remove_our_folder(failed)
        staging.rename(failed)
        raise
    # The strategic assessment is the run's main document: print its path.
    main_document = next((p for p in published if p.name == "strategic-assessment.html"), published[0] if published else None)
    report = output_dir / main_document.name if main_document else output_dir
    log.info("Finished in %.1f s. Published in %s:", record["seconds"], output_dir)
    for document in published:
        log.info("  %s", document.name)
    return report
