"""Kernels for the stages: started ahead, with the stages' imports done, and reused.

Starting a Jupyter kernel and importing pandas, statsmodels, matplotlib and geopandas costs
2 to 3.5 s of CPU before a stage does any work. Paid by every stage, that is some 10 s of
CPU per area, and in a force run every partnership pays it again: about 50 of the 120 CPU
seconds of five Avon and Somerset partnerships went on it.

So a run's stages share a pool of kernels (``KernelPool``). A run tells the pool which
stages it expects to run (``expect``); the pool starts one kernel for each stage that can
run at once (a run with two workers needs two, not one per stage), while the inputs are
checked, and each imports its first stage's modules. When a stage is done, its kernel is
reset and kept: its variables are cleared, its numbering starts again at 1, its figures are
closed, warnings shown once will be shown again, and its folder is the notebooks' folder
again; while it waits, it imports what the stages still to come import. The next stage
runs on it, in this run or (in a batch worker, ``pipeline.orchestration.batch``) in the next area's run.
A kernel whose stage failed is shut down, never reused.

A reset kernel runs a notebook as a fresh kernel would: the notebooks and the package set
no state beyond what importing a module does (rcParams, pandas options, warning filters are
set only at import), and modules keep only caches of shipped files or of files keyed by
size and modification time. A test runs notebooks on a reused kernel and on fresh ones and
compares the published pages byte for byte.
"""

from __future__ import annotations

import ast
import heapq
import itertools
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipeline.documents.export import OUTPUTS_WRITTEN_TAG

log = logging.getLogger(__name__)

# Kernel history in memory: kernels running side by side do not share ~/.ipython's database.
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]

# NO_HEARTBEAT: clients of the pool's kernels start no heartbeat channel. A client made by a
# kernel's manager asks the manager whether the kernel's process is alive, never the
# heartbeat, so the channel was never used; but its thread opens its socket on its own,
# outside any stage's control, and a heartbeat thread's ZMQError traceback ("Too many open
# files", at socket creation) was once printed on the console at the end of a run.

# Run in a kept kernel between two stages. Only what a notebook run can leave behind is
# undone; modules stay imported (that is the point of keeping the kernel).
RESET = """
def _pipeline_reset():
    import os, sys, warnings
    ip = get_ipython()
    ip.reset(new_session=True)  # the namespace is emptied and the numbering restarts at 1
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    # A warning already shown is shown again, as on a fresh kernel: the per-module
    # registries are forgotten when the filters' version changes, which catch_warnings does.
    warnings.onceregistry.clear()
    with warnings.catch_warnings():
        pass
    os.chdir({folder!r})
_pipeline_reset()  # the reset also removes the function itself
"""


def _imported_aside(imports: str) -> str:
    """Code that runs ``imports`` in a namespace of its own: the modules are loaded, but the
    notebook's namespace stays empty, as on a fresh kernel. The objects alive afterwards
    (the modules' own, nearly all of them) are then left out of garbage collection."""
    # Without the freeze every full collection walked pandas', matplotlib's, scipy's and
    # statsmodels' millions of objects again: the one IPython's reset makes took some
    # 0.2 s a stage, more than half the five Avon and Somerset areas' reset time.
    return f"exec({imports!r}, {{}}); __import__('gc').freeze()"


def import_statements(notebook: Path) -> str:
    """The module-level import statements of a notebook's code cells, as one block of source."""
    import json

    # The notebook's JSON as it is (nbformat's reading validates the whole notebook against its
    # schema: a tenth of a second a notebook, before the run's first kernel could start).
    lines = []
    for cell in json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else text
        source = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(lines)


# How often a kernel's import or reset looks whether the pool is closing (``KernelPool.close``
# waits for it).
STOP_POLL_SECONDS = 0.1


def _run_silently(manager: Any, code: str, stop: threading.Event, what: str, started: bool = False) -> None:
    """Run ``code`` in the kernel with no output and no history (the notebook's numbering is
    untouched); raise if it fails, the kernel dies, or the pool is closed meanwhile.
    ``started``: the kernel has answered before, so it is not asked whether it is ready
    (jupyter_client's check ends with 0.2 s of listening for silence, and only the reply
    on the shell channel, which waits for the connection, is wanted here)."""
    from jupyter_core.utils import run_sync

    client = manager.client()
    client.start_channels(hb=False)  # see NO_HEARTBEAT
    try:
        if not started:
            run_sync(client.wait_for_ready)(timeout=120)
        msg_id = client.execute(code, silent=True, store_history=False)
        deadline = time.monotonic() + 300
        while True:
            # Polled, not waited on: the pool may close, or the kernel die, meanwhile.
            if stop.is_set():
                raise RuntimeError(f"the run stopped while this kernel was {what}")
            try:
                reply = run_sync(client.get_shell_msg)(timeout=STOP_POLL_SECONDS)
            except queue.Empty:
                if not run_sync(manager.is_alive)() or time.monotonic() > deadline:
                    raise RuntimeError(f"the kernel died or hung while {what}") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{what} failed: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    finally:
        client.stop_channels()


def _start(manager_class: type, kernel_name: str, imports: str, stop: threading.Event) -> Any:
    """A new kernel that has run ``imports``."""
    from jupyter_core.utils import run_sync

    if stop.is_set():
        raise RuntimeError("the run stopped before this kernel was needed")
    manager = manager_class(kernel_name=kernel_name)
    run_sync(manager.start_kernel)(extra_arguments=KERNEL_ARGUMENTS)
    try:
        _run_silently(manager, _imported_aside(imports), stop, "importing")
    except BaseException:
        shutdown(manager)
        raise
    return manager


def _reset(manager: Any, folder: Path, imports: str, stop: threading.Event) -> Any:
    """The kernel, reset for another notebook and with ``imports`` done; shut down if that fails."""
    try:
        _run_silently(
            manager,
            RESET.format(folder=str(folder)) + "\n" + _imported_aside(imports),
            stop,
            "being reset",
            started=True,
        )
    except BaseException:
        shutdown(manager)
        raise
    return manager


def shutdown(manager: Any) -> None:
    """Shut a kernel down at once (it has no state worth saving)."""
    from jupyter_core.utils import run_sync

    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - a kernel that is already gone needs nothing more
        log.debug("Kernel shutdown failed", exc_info=True)


ENGINE_NAME = "kept-kernel"
# OUTPUTS_WRITTEN_TAG (``pipeline.documents.export``) tags the cell after which a stage's processed
# outputs are all written: the stages that read them may start then, while the rest of its
# notebook (charts, tables) and its HTML are made.


async def _heard(client: Any, timeout: float) -> None:
    """Return once a kernel that is up answers a kernel_info request on the shell channel and
    its output channel carries that request's "idle" status, so no output of the first cell
    can be missed; asks again while the output channel is still connecting."""
    from queue import Empty

    from nbclient.util import ensure_async

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = client.kernel_info()
        try:
            while True:  # the reply (the kernel may first answer an earlier request)
                reply = await ensure_async(client.shell_channel.get_msg(timeout=max(0.1, deadline - time.monotonic())))
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        except Empty:
            break
        try:
            while True:
                message = await ensure_async(client.iopub_channel.get_msg(timeout=0.2))
                if (
                    message["parent_header"].get("msg_id") == msg_id
                    and message["msg_type"] == "status"
                    and message["content"].get("execution_state") == "idle"
                ):
                    return
        except Empty:
            continue  # published before the channel was listening: ask again
    raise RuntimeError(f"the kernel did not answer within {timeout} s")


def register_engine() -> str:
    """Register (once) the papermill engine that runs a notebook on a given kernel and leaves
    it running for the pool (or, given none, on a kernel of its own that it shuts down),
    writing the executed notebook once at the end, and calling its ``outputs_written``
    argument, if given, once the cell tagged ``OUTPUTS_WRITTEN_TAG`` has run; returns the
    engine's name for ``execute_notebook``."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class KeptKernelClient(PapermillNotebookClient):
        outputs_written: Callable[[], None] | None = None

        def execute_cell(self, cell: Any, cell_index: int, *args: Any, **kwargs: Any) -> Any:
            """As nbclient's; once a cell tagged ``OUTPUTS_WRITTEN_TAG`` has run without error,
            ``outputs_written`` is called."""
            result = super().execute_cell(cell, cell_index, *args, **kwargs)
            if self.outputs_written is not None and OUTPUTS_WRITTEN_TAG in cell.get("metadata", {}).get("tags", []):
                self.outputs_written()
            return result

        async def async_start_new_kernel_client(self) -> Any:
            """As nbclient's, but for a kept kernel, which is known to be up, ready only once
            its output channel is heard (not after 0.2 s of silence on it, as jupyter_client's
            wait_for_ready: 0.2 s of every stage)."""
            if self.owns_km:
                return await super().async_start_new_kernel_client()
            from nbclient.util import ensure_async, run_hook

            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels(hb=False))  # see NO_HEARTBEAT
            try:
                await _heard(self.kc, self.startup_timeout)
            except Exception:
                await self._async_cleanup_kernel()
                raise
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

    class KeptKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            outputs_written = kwargs.pop("outputs_written", None)
            client = KeptKernelClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            client.outputs_written = outputs_written
            # papermill writes the whole executed notebook to disk as each cell starts and ends,
            # for watching a long notebook run. The report's notebook carries about 4 MB of
            # charts, so that was some 80 writes and 2 s a run. It is written once, when the
            # notebook completes or fails (papermill's notebook_complete, after this returns).
            nb_man.save = lambda **_: None
            try:
                # A kernel it was given stays running (the pool resets or shuts it down); only
                # this client's channels are closed.
                return client.execute(cleanup_kc=client.owns_km)
            finally:
                del nb_man.save
                if not client.owns_km and client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register(ENGINE_NAME, KeptKernelEngine)
    return ENGINE_NAME


@dataclass
class _Kernel:
    """A kernel of the pool that no stage is using: ``ready`` gives its manager once it is
    started (or reset) and its imports are done."""

    ready: Future
    stage: str | None  # the stage it was started for, if any
    manager: Any = None  # a kept kernel's manager, while it is reset (None while one starts)


class KernelPool:
    """At most ``size`` kernels, started ahead for the stages to come and kept from one stage
    to the next; a stage waits for one when all are in use, the latest stage of the
    assessment first (``take``'s priority), so that runs sharing the pool finish in turn.

    ``manager_class`` starts each kernel in the notebooks' folder ``folder`` and sends its
    stderr to the file ``log`` (removed when the pool is closed). Thread-safe: stages of one
    run, or of several runs at once (``pipeline.orchestration.batch``), take and give back kernels."""

    def __init__(self, manager_class: type, kernel_name: str, folder: Path, size: int, log: Path | None = None) -> None:
        self.size = max(1, size)
        self.log = log
        self.manager_class = manager_class  # also for a kernel a stage starts itself
        self._kernel_name = kernel_name
        self._folder = folder
        self._changed = threading.Condition()
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="kernel-pool")
        # The first kernel starts at once; the others once the run's input check is done
        # (``release``) or the first is ready, whichever comes first. All at once, they and the
        # check shared the CPUs and the first stage waited longest; one after another, the
        # second was not ready when the next stage wanted it (after a moderation edit the
        # report waited 1.1-1.4 s for its kernel).
        self._starter = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="kernel-start")
        self._released = threading.Event()
        self._waiting: list[_Kernel] = []  # kernels no stage is using (ready, starting or being reset)
        self._busy = 0  # kernels (or places for one) that stages are using
        self._queue: list[tuple[int, int]] = []  # stages waiting for a kernel: (-priority, arrival)
        self._arrivals = itertools.count()
        self._to_come: dict[str, str] = {}  # stage key -> its notebook's imports, for stages not yet started
        self._stop = threading.Event()
        self.started = 0  # kernels started over the pool's life (for the log and the tests)

    def expect(self, stages: list[tuple[str, Path]]) -> None:
        """Stages that will run, in order (a key naming each, and its notebook): start kernels,
        each with its first stage's imports, while the pool has room for more."""
        with self._changed:
            for key, notebook in stages:
                self._to_come[key] = import_statements(notebook)
            room = self.size - len(self._waiting) - self._busy
            for key, _ in stages[: max(0, room)]:
                first = self.started == 0
                self.started += 1
                future = self._starter.submit(self._start_when_released, first, self._to_come[key])
                self._waiting.append(_Kernel(future, key))
        log.debug(
            "Kernel pool: %d started, %d in all, for %s",
            self.started,
            len(self._waiting) + self._busy,
            [k for k, _ in stages],
        )

    def start_ahead(self, *notebooks: Path) -> None:
        """Start as many kernels as the pool has room for, now, each with the ``notebooks``'
        imports, before any stage is known (a force's batch: while its files are read, before
        any area's run begins; a watch, between runs), and let them all start at once."""
        imports = "\n".join(dict.fromkeys(import_statements(n) for n in notebooks))
        with self._changed:
            for _ in range(max(0, self.size - len(self._waiting) - self._busy)):
                first = self.started == 0
                self.started += 1
                self._waiting.append(_Kernel(self._starter.submit(self._start_when_released, first, imports), None))
        self._released.set()
        log.debug(
            "Kernel pool: %d started ahead with the imports of %s", self.started, ", ".join(n.name for n in notebooks)
        )

    def wait_ready(self, timeout: float | None = None) -> None:
        """Return once every kernel no stage is using has started (or been reset) and done its
        imports, or failed to, or after ``timeout`` seconds."""
        from concurrent.futures import wait

        with self._changed:
            starting = [k.ready for k in self._waiting]
        wait(starting, timeout=timeout)

    def release(self) -> None:
        """Let the kernels after the first start (the run's input check is done)."""
        self._released.set()

    def _start_when_released(self, first: bool, imports: str) -> Any:
        if first:
            try:
                return _start(self.manager_class, self._kernel_name, imports, self._stop)
            finally:
                self._released.set()
        while not self._released.wait(0.1):
            if self._stop.is_set():
                raise RuntimeError("the run stopped before this kernel was needed")
        return _start(self.manager_class, self._kernel_name, imports, self._stop)

    def take(self, key: str, priority: int = 0) -> Any | None:
        """A kernel for the stage ``key``, waiting while all ``size`` are in use: a ready one
        if any (the one started for it first), else one still starting or being reset, else a
        new one. Give it back with ``give_back`` whatever happens. None if no kernel could be
        started (the stage then starts its own and reports any error from its notebook).
        Raises RuntimeError once the pool is closed (the run was stopped)."""
        with self._changed:
            self._to_come.pop(key, None)
            ticket = (-priority, next(self._arrivals))
            heapq.heappush(self._queue, ticket)
            while not self._stop.is_set() and not (
                self._queue[0] == ticket and (self._waiting or self._busy < self.size)
            ):
                self._changed.wait()
            self._queue.remove(ticket)
            heapq.heapify(self._queue)
            self._busy += 1
            kernel = min(self._waiting, key=lambda k: (not k.ready.done(), k.stage != key)) if self._waiting else None
            if kernel is not None:
                self._waiting.remove(kernel)
            self._changed.notify_all()
        if self._stop.is_set():
            raise RuntimeError("the run was stopped: its kernels were shut down")
        if kernel is not None:
            try:
                return kernel.ready.result()
            except Exception:  # noqa: BLE001 - a new kernel is started instead
                log.debug("A kept kernel for %s failed; starting another", key, exc_info=True)
        with self._changed:
            self.started += 1
        try:
            return _start(self.manager_class, self._kernel_name, "", self._stop)
        except Exception:  # noqa: BLE001 - the stage starts its own kernel
            if self._stop.is_set():
                raise RuntimeError("the run was stopped: its kernels were shut down") from None
            log.debug("No kernel could be started for %s", key, exc_info=True)
            return None

    def give_back(self, manager: Any | None, reusable: bool) -> None:
        """A stage is done with what ``take`` gave it: the kernel is reset and kept (while
        waiting, it imports what the stages to come import) or, if its stage failed, shut down."""
        with self._changed:
            self._busy -= 1
            if manager is not None and reusable and not self._stop.is_set():
                imports = "\n".join(dict.fromkeys(self._to_come.values()))
                future = self._executor.submit(_reset, manager, self._folder, imports, self._stop)
                self._waiting.append(_Kernel(future, None, manager))
                manager = None
            self._changed.notify_all()
        if manager is not None:
            shutdown(manager)

    def close(self) -> None:
        """Shut down every kernel of the pool, side by side; those starting or resetting stop
        within ``STOP_POLL_SECONDS``. (One after another, after waiting for a reset begun when
        the report's kernel was given back, this took 0.3-0.4 s at the end of every run.)"""
        self._stop.set()
        with self._changed:
            waiting, self._waiting = self._waiting, []
            self._changed.notify_all()
        ready = []
        for kernel in waiting:
            if kernel.ready.cancel():
                if kernel.manager is not None:
                    ready.append(kernel.manager)  # its reset never began
            elif kernel.ready.done() and kernel.ready.exception() is None:
                ready.append(kernel.ready.result())
        closing = [threading.Thread(target=shutdown, args=(manager,), name="kernel-shutdown") for manager in ready]
        for thread in closing:
            thread.start()
        self._starter.shutdown(wait=True)
        self._executor.shutdown(wait=True)
        for kernel in waiting:  # started or reset while the pool closed
            if kernel.ready.done() and not kernel.ready.cancelled() and kernel.ready.exception() is None:
                manager = kernel.ready.result()
                if not any(manager is m for m in ready):
                    shutdown(manager)
        for thread in closing:
            thread.join()
        if self.log is not None:
            self.log.unlink(missing_ok=True)
