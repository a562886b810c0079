"""Several assessments in one command, with an index page that links them.

``python -m pipeline run a.yaml b.yaml ...`` runs each params file (side by side in this
process, their stages sharing a few kernels; one after another; or as tasks on a Dask
distributed cluster), carries on past an area whose run fails, and writes an
index page listing every area with a one-line headline and links to its documents, or the
reason it has none. Each area's outputs are published exactly as a single run publishes
them; the index only links to them.
"""

from __future__ import annotations

import csv
import html
import importlib
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.orchestration.kernels import KernelPool
from pipeline.storage.folders import OutputLock, RunLockedError, UnsafeLocationError

log = logging.getLogger(__name__)

INDEX_MARKER = "<!-- strategic-assessment-pipeline index -->"
TOTAL_ROW = "All crime (excluding ASB)"
DOCUMENT_LABELS = {
    "strategic-assessment": "Strategic assessment",
    "delivery-plan-appendix": "Delivery plan appendix",
    "morile-review": "MoRiLE review",
    "tables": "Every table",
}
DOCUMENT_ORDER = {"strategic-assessment": 0, "delivery-plan-appendix": 1, "morile-review": 2, "tables": 3}


@dataclass
class AreaResult:
    """One params file's run: its published folder and documents, or why it failed."""

    params: Path
    area: str = ""
    output_dir: Path | None = None
    documents: list[str] = field(default_factory=list)
    headline: str = ""
    error: str = ""
    locked_out: bool = False  # another run was publishing to its output folder


def headline(output_dir: Path) -> str:
    """One line on the area's crime from its published ``tables/crime-by-type.csv``: the count
    for the window (its months named by the column) and the like-for-like change, as published."""
    path = output_dir / "tables/crime-by-type.csv"
    if not path.is_file():
        return "No crime table was published."
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = {row["Crime type"]: row for row in csv.DictReader(handle)}
    total = rows.get(TOTAL_ROW)
    if total is None:
        return "No all-crime total was published."
    count_column = next(c for c in total if c.startswith("Count, "))
    count = total[count_column]
    count = f"{int(count):,}" if count.isdigit() else count
    line = f"{TOTAL_ROW}: {count} in {count_column.removeprefix('Count, ')}"
    change = total.get("% change (like for like)", "")
    try:
        percent = float(change)
    except ValueError:
        return line + (f"; like-for-like change {change}." if change else ".")
    windows = [c.removeprefix("Like for like: ") for c in total if c.startswith("Like for like: ")]
    compared = f", {windows[1]} against {windows[0]}" if len(windows) == 2 else ""
    direction = "up" if percent > 0 else "down" if percent < 0 else "no change"
    significance = total.get("Significance (Holm-adjusted; the total unadjusted)", "")
    amount = f"{direction} {abs(percent):.1f}%" if percent else direction
    return f"{line}; {amount} like for like{compared} ({significance or 'significance not tested'})."


def run_area(
    path: str | Path,
    pdf: bool = False,
    force: bool = False,
    workers: int | None = None,
    kernel_pool: KernelPool | None = None,
) -> AreaResult:
    """One params file's run, its failure caught and kept: what ``run_batch`` does per area,
    in this process or on a Dask worker. With ``kernel_pool`` the run's
    stages use (and leave ready for the next area) that pool's kernels."""
    from pipeline.orchestration.run import run_assessment
    from pipeline.params import load_params

    result = AreaResult(Path(path))
    try:
        params = load_params(path)
        result.area = params.area.name
        result.output_dir = params.output_dir.resolve()
        run_assessment(path, pdf=pdf, force=force, workers=workers, kernel_pool=kernel_pool)
        result.documents = sorted(
            p.name for p in result.output_dir.iterdir() if p.suffix in (".html", ".pdf", ".docx", ".xlsx")
        )
        result.headline = headline(result.output_dir)
    except PipelineError as exc:
        from pipeline.orchestration.run import RunInterrupted
        from pipeline.storage.folders import RunLockedError

        result.error = str(exc)
        result.locked_out = isinstance(exc, RunLockedError)
        if isinstance(exc, RunInterrupted):
            log.warning("%s: %s", path, exc)
        else:
            log.error("%s failed; carrying on with the others:\n%s", path, exc)
    return result


def _run_area_labelled(path: str, pdf: bool, force: bool, workers: int, kernel_pool: KernelPool) -> AreaResult:
    """``run_area`` in a thread of a batch, its console lines labelled with the params file's
    name (several areas' progress is interleaved)."""
    from pipeline.orchestration.run import RUN_LABEL

    RUN_LABEL.set(Path(path).stem)  # this thread's own context: the label is its area's alone
    return run_area(path, pdf, force, workers, kernel_pool=kernel_pool)


class _LabelledFormatter(logging.Formatter):
    """Console lines of a batch, each with its area's label (``RUN_LABEL``) when it has one."""

    def format(self, record: logging.LogRecord) -> str:
        from pipeline.orchestration.run import RUN_LABEL

        label = RUN_LABEL.get()
        return f"{self.formatTime(record, '%H:%M:%S')} {'[' + label + '] ' if label else ''}{record.getMessage()}"


def _side_by_side(
    paths: list[str], pdf: bool, force: bool, parallel: int, pool: KernelPool | None = None
) -> list[AreaResult]:
    """Several areas' runs at once in this process, their stages sharing ``parallel`` kernels
    (``pool``'s, if given: it is closed when the batch ends, as its own would be).

    A stage waits for a kernel, the latest stage first (``KernelPool.take``), so the CPUs
    stay busy to the end: while one area's report is written, the next area's police data
    and trends are worked out on the other kernel, and no CPU sits idle while the last
    area runs alone. The kernels are kept from one area to the next, so each starts once
    and imports its modules once (``pipeline.orchestration.kernels``)."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.inputs.police_reads import sharing_reads
    from pipeline.orchestration.run import (
        STOPPING,
        RunInterrupted,
        install_signal_handlers,
        new_kernel_pool,
        stop_kernels,
    )

    STOPPING.clear()
    pool = pool or new_kernel_pool(parallel)
    previous_handlers = install_signal_handlers()  # SIGTERM stops the batch as Ctrl-C does
    handlers = logging.getLogger().handlers
    formatters = [h.formatter for h in handlers]
    for handler in handlers:
        handler.setFormatter(_LabelledFormatter())
    # Twice as many areas in progress as kernels: enough for a stage to be ready whenever
    # a kernel is free, few enough that memory does not grow with the number of areas.
    areas = ThreadPoolExecutor(max_workers=min(len(paths), 2 * parallel), thread_name_prefix="area")
    futures: list = []
    try:
        with sharing_reads():  # areas listing the same files and areas check one read, loaded once
            futures = [areas.submit(_run_area_labelled, p, pdf, force, parallel, pool) for p in paths]
            return [_result_of(f, p) for f, p in zip(futures, paths)]
    except KeyboardInterrupt as exc:
        # Every run in progress stops on its stopped kernels, removes its unfinished folder
        # and leaves its last outputs; the wait lets each finish doing so.
        STOPPING.set()
        areas.shutdown(wait=False, cancel_futures=True)
        pool.close()
        stop_kernels()
        areas.shutdown(wait=True)
        done = [f.result() for f in futures if f.done() and not f.cancelled() and f.exception() is None]
        published = [r.area for r in done if not r.error]
        how = "a termination signal (SIGTERM)" if str(exc) == "SIGTERM" else "Ctrl-C"
        raise RunInterrupted(
            f"Stopped by {how}: {len(published)} of {len(paths)} area(s) had been published before the stop"
            + (f" ({'; '.join(published)})" if published else "")
            + ". Every other area's unfinished run was removed and its last published outputs are unchanged. "
            "No index page was written; run the command again for the rest."
        ) from None
    finally:
        areas.shutdown(wait=True, cancel_futures=True)
        pool.close()
        STOPPING.clear()  # every run has ended: a later run in this process fails as a failed run
        for handler, formatter in zip(handlers, formatters):
            handler.setFormatter(formatter)
        for signum, previous in previous_handlers.items():
            signal.signal(signum, previous)


def run_batch(
    params_paths: list[str | Path],
    index: Path,
    pdf: bool = False,
    force: bool = False,
    workers: int | None = None,
    parallel: int = 1,
    scheduler: str | None = None,
    kernel_pool: KernelPool | None = None,
) -> list[AreaResult]:
    """Run every params file and write the index page at ``index``.

    With ``parallel`` above 1, areas run side by side in this process, their stages sharing
    ``parallel`` kernels (``_side_by_side``); with 1, one after another. With ``scheduler`` (a Dask distributed
    scheduler's address, such as
    ``tcp://10.0.0.5:8786``) each area is a task on that cluster instead, so a national run
    spreads over as many machines as the cluster has. Every worker must see the same paths
    (a shared file system). A run that fails is reported in the index and the log and does
    not stop the others; Ctrl-C stops the batch (each run in progress leaves the last
    outputs, as ever). ``kernel_pool``: kernels already started for the areas side by side
    (closed when the batch ends)."""
    _check_index_path(index)
    paths = [str(p) for p in params_paths]
    _refuse_repeats(paths)
    # The index belongs to one batch at a time: a second batch naming it stops here, before any
    # area runs, and writes nothing (the first batch's index is left to it).
    with OutputLock(index, "a batch of " + ", ".join(paths)):
        return _run_batch_locked(paths, index, pdf, force, workers, parallel, scheduler, kernel_pool)


def _refuse_repeats(paths: list[str]) -> None:
    """Refuse, before anything runs, a batch naming the same params file twice or two params
    files that publish to the same output folder: the second of each pair could only be
    locked out by the first, and the index would list the area twice."""
    from pipeline.params import load_params

    problems = []
    seen: dict[Path, str] = {}
    for path in paths:
        resolved = Path(path).resolve()
        if resolved in seen:
            problems.append(f"{path}: named twice (also as {seen[resolved]}); list each params file once.")
        else:
            seen[resolved] = path
    folders: dict[Path, str] = {}
    for resolved, path in seen.items():
        try:
            output_dir = load_params(resolved).output_dir.resolve()
        except PipelineError:
            continue  # the area's own run reports its params' problems in the index
        if output_dir in folders:
            problems.append(
                f"{path}: publishes to {output_dir}, as {folders[output_dir]} does; give each area its own output_dir."
            )
        else:
            folders[output_dir] = path
    if problems:
        raise PipelineError("The batch was not run (nothing was changed):\n" + "\n".join(f"- {p}" for p in problems))


def _run_batch_locked(
    paths: list[str],
    index: Path,
    pdf: bool,
    force: bool,
    workers: int | None,
    parallel: int,
    scheduler: str | None,
    kernel_pool: KernelPool | None,
) -> list[AreaResult]:
    """``run_batch`` once the index is this batch's (its lock held)."""
    log.info(
        "%d area(s): %s",
        len(paths),
        "on the Dask cluster at " + scheduler
        if scheduler
        else f"{parallel} at a time"
        if parallel > 1
        else "one after another",
    )
    if scheduler:
        results = _on_dask(paths, scheduler, pdf, force, workers)
    elif parallel > 1 and len(paths) > 1:
        results = _side_by_side(paths, pdf, force, parallel, kernel_pool)
    else:
        from pipeline.orchestration.run import cpus, new_kernel_pool

        results = []
        pool = new_kernel_pool(workers or cpus())  # one area after another, on the same kernels
        try:
            for number, path in enumerate(paths, start=1):
                log.info("=== Area %d of %d: %s", number, len(paths), path)
                results.append(run_area(path, pdf, force, workers, kernel_pool=pool))
        finally:
            pool.close()
    if all(r.locked_out for r in results):
        # Every area is another run's just now: this batch made nothing, so it writes nothing.
        raise RunLockedError(
            "No area was run: "
            + " ".join(dict.fromkeys(r.error for r in results))
            + f" The index {index} was not written."
        )
    write_index(results, index)
    failed = [r for r in results if r.error]
    log.info("%d of %d areas published; index: %s", len(results) - len(failed), len(results), index)
    return results


def _result_of(future: object, path: str) -> AreaResult:
    """A worker's result; a worker that died (killed, out of memory) is reported as that area's failure."""
    try:
        return future.result()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - one area's crash must not stop the batch
        log.error("%s failed in its worker: %s", path, exc)
        return AreaResult(Path(path), error=f"The run stopped unexpectedly in its worker: {exc}")


def _on_dask(paths: list[str], scheduler: str, pdf: bool, force: bool, workers: int | None) -> list[AreaResult]:
    """Each area as a task on the Dask distributed cluster at ``scheduler``; results in ``paths`` order."""
    try:
        from distributed import Client
    except ImportError:
        raise PipelineError(
            "--scheduler needs Dask distributed: pip install 'distributed' in the environment, then run again."
        ) from None
    try:
        client = Client(scheduler, timeout="20s")
    except OSError as exc:
        raise PipelineError(
            f"--scheduler {scheduler}: no Dask scheduler answered ({exc}). Start one (dask scheduler) "
            "and its workers, or leave --scheduler out to run on this machine."
        ) from None
    with client:
        # pure=False: a rerun of the same file is a new task, not a cached result.
        futures = client.map(run_area, paths, pdf=pdf, force=force, workers=workers, pure=False, retries=0)
        return [_result_of(f, p) for f, p in zip(futures, paths)]


def _check_index_path(index: Path) -> None:
    """Refuse to overwrite a file at ``index`` that the pipeline did not write."""
    if index.exists() and (
        index.is_dir() or INDEX_MARKER not in index.read_text(encoding="utf-8", errors="replace")[:500]
    ):
        raise UnsafeLocationError(
            f"{index} exists and was not written by this pipeline, so it was not replaced. "
            "Choose another place for the index with --index."
        )


def write_index(results: list[AreaResult], index: Path) -> Path:
    """An accessible, self-contained HTML page: a table of areas, headlines and document links.

    Written to a temporary file beside it and then renamed over it, so a reader never sees
    half a page."""
    from pipeline.documents.export import CSP_META

    rows = []
    for result in results:
        name = html.escape(result.area or result.params.name)
        if result.error:
            lines = [line.strip() for line in result.error.strip().splitlines() if line.strip()]
            problems = "".join(f"<li>{html.escape(line.lstrip('- '))}</li>" for line in lines[1:6])
            more = (
                f"<li>and {len(lines) - 6} more (run <code>python -m pipeline check "
                f"{html.escape(str(result.params))}</code>)</li>"
                if len(lines) > 6
                else ""
            )
            detail = (
                f"<td>Not published ({html.escape(str(result.params))}): {html.escape(lines[0])}"
                f"{'<ul>' + problems + more + '</ul>' if problems else ''}</td><td></td>"
            )
        else:
            links = []
            for document in sorted(result.documents, key=lambda d: (DOCUMENT_ORDER.get(d.rsplit(".", 1)[0], 9), d)):
                target = os.path.relpath(result.output_dir / document, index.parent)
                stem, kind = document.rsplit(".", 1)
                label = (
                    f"{DOCUMENT_LABELS.get(stem, stem)} ({ {'xlsx': 'Excel', 'docx': 'Word'}.get(kind, kind.upper()) })"
                )
                links.append(f'<li><a href="{html.escape(target)}">{html.escape(label)}</a></li>')
            detail = f"<td>{html.escape(result.headline)}</td><td><ul>{''.join(links)}</ul></td>"
        rows.append(f'<tr><th scope="row">{name}</th>{detail}</tr>')
    published = sum(1 for r in results if not r.error)
    page = f"""<!DOCTYPE html>
{INDEX_MARKER}
<html lang="en-GB">
<head>
<meta charset="utf-8">
{CSP_META}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strategic assessments: {published} of {len(results)} areas</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; line-height: 1.5; margin: 0 auto; max-width: 60rem; padding: 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
caption {{ text-align: left; font-weight: bold; padding: 0.5rem 0; }}
td, th {{ overflow-wrap: anywhere; }}
td:last-child {{ min-width: 12rem; }}
th, td {{ border-bottom: 1px solid #b1b4b6; padding: 0.5rem; text-align: left; vertical-align: top; }}
ul {{ margin: 0; padding-left: 1.2rem; }}
a {{ color: #1d70b8; }} a:focus {{ outline: 3px solid #ffdd00; }}
@media (max-width: 40rem) {{ table, caption, tbody, tr, th, td {{ display: block; }} thead {{ display: none; }} td:last-child {{ min-width: 0; }} }}
</style>
</head>
<body>
<main>
<h1>Strategic assessments</h1>
<p>{published} of {len(results)} areas published. Each area's documents were made by its own run, from its own params file.</p>
<table>
<caption>Areas, headline and documents</caption>
<thead><tr><th scope="col">Area</th><th scope="col">Headline</th><th scope="col">Documents</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</main>
</body>
</html>
"""
    index.parent.mkdir(parents=True, exist_ok=True)
    temporary = index.with_name(f".{index.name}.writing")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(index)
    return index


def run_force(
    force_file: str | Path,
    pdf: bool = False,
    force: bool = False,
    parallel: int | None = None,
    scheduler: str | None = None,
) -> tuple[list[AreaResult], Path]:
    """Every partnership of the force a force file names (``pipeline.orchestration.force_run``): their params
    files written and validated, then run as a batch. Returns the results and the index page."""
    from pipeline.inputs.police_reads import sharing_reads
    from pipeline.orchestration.force_run import area_settings, load_force_file, slug, write_area_params
    from pipeline.orchestration.run import cpus, new_kernel_pool, quietly
    from pipeline.orchestration.stages import NOTEBOOKS_DIR, STAGES

    raw = load_force_file(force_file)
    settings, root, index = area_settings(Path(force_file), raw)
    processed = Path(next(iter(settings.values()))["processed_dir"])
    paths = write_area_params(settings, processed / f"force-{slug(str(raw['force']))}-params")
    log.info(
        "%s: %d partnership(s) of %s; their params files are in %s",
        force_file,
        len(paths),
        raw["force"],
        paths[0].parent,
    )
    parallel = parallel or cpus()
    # While the force's files are read, load what every area's run needs in this process
    # (papermill, nbconvert and its compiled template), on the other CPU.
    warm = threading.Thread(target=quietly(_warm_up_for_runs), name="warm-up", daemon=True)
    pool = None
    if not scheduler:
        if parallel > 1 and len(paths) > 1:
            # The areas' kernels start now too, with every area's first stage's imports: the
            # read kept under two-thirds of the CPUs busy, and no area's run can start before it.
            # The pool is made before the warm-up starts: both import jupyter_client, and two
            # threads importing it at once can find it half-initialised (ImportError).
            pool = new_kernel_pool(parallel)
            pool.start_ahead(NOTEBOOKS_DIR / STAGES[0].notebook)
        warm.start()
    try:
        # The read is kept in memory too, for every area's input check (pipeline.inputs.police_reads).
        with sharing_reads():
            _read_force_once(paths[0])
            if warm.ident is not None:
                warm.join()
            return run_batch(
                paths, index, pdf=pdf, force=force, parallel=parallel, scheduler=scheduler, kernel_pool=pool
            ), index
    finally:
        if pool is not None:
            pool.close()  # already closed by the batch, unless the read failed


def _warm_up_for_runs() -> None:
    """Import papermill and the kernel engine, and compile nbconvert's template."""
    from pipeline.documents.export import warm_up_exporter
    from pipeline.orchestration.kernels import register_engine

    importlib.import_module("papermill")
    register_engine()
    warm_up_exporter()


def _read_force_once(params_path: Path) -> None:
    """Read the force's files once, for every partnership, and keep the read: each area's run
    lists the same areas (itself and the others as comparators), so every run reuses it."""
    from pipeline.analysis.police import read_police_data
    from pipeline.params import load_params

    params = load_params(params_path)
    try:
        read_police_data(params.inputs.police, params.all_areas, kept_reads=params.processed_dir)
    except PipelineError:
        pass  # each area's input check reports the problem in full
