"""Kernels started ahead of time, with each stage's imports already done.

Starting a Jupyter kernel and importing pandas, statsmodels, matplotlib and geopandas takes
2 to 3 seconds, paid by every stage before it does any work. A run knows which stages will
run before it starts them (``pipeline.run``), so it starts their kernels at once, while the
inputs are checked and other stages run, and has each kernel run its notebook's import
statements. When the stage's turn comes, papermill executes the notebook on the waiting
kernel (its ``km`` argument), and the kernel is shut down after it.

The imports run with ``store_history=False``, so the executed notebook's cell numbers are
the same as on a fresh kernel; importing a module has no other effect a notebook can see.
If a warm-up fails, the stage starts its own kernel as usual (and any import error is then
reported from the notebook, with its cell).
"""

from __future__ import annotations

import ast
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def import_statements(notebook: Path) -> str:
    """The module-level import statements of a notebook's code cells, as one block of source."""
    import nbformat

    lines = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(lines)


def _start(manager_class: type, kernel_name: str, imports: str, stop: threading.Event) -> Any:
    from jupyter_core.utils import run_sync

    if stop.is_set():
        raise RuntimeError("the run stopped before this kernel was needed")
    manager = manager_class(kernel_name=kernel_name)
    run_sync(manager.start_kernel)()
    client = manager.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=120)
        # Silent: no output and no execution count, so the notebook's numbering starts at 1.
        msg_id = client.execute(imports, silent=True, store_history=False)
        deadline = time.monotonic() + 300
        while True:
            # Polled, not waited on: the run may stop, or the kernel die, while it imports.
            if stop.is_set():
                raise RuntimeError("the run stopped while this kernel was starting")
            try:
                reply = run_sync(client.get_shell_msg)(timeout=0.5)
            except queue.Empty:
                if not run_sync(manager.is_alive)() or time.monotonic() > deadline:
                    raise RuntimeError("the kernel died or hung while importing") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"warm-up imports failed: {reply['content'].get('ename')}")
    except BaseException:
        client.stop_channels()
        shutdown(manager)
        raise
    client.stop_channels()
    return manager


def shutdown(manager: Any) -> None:
    """Shut a kernel down at once (it has no state worth saving)."""
    from jupyter_core.utils import run_sync

    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - a kernel that is already gone needs nothing more
        log.debug("Kernel shutdown failed", exc_info=True)


ENGINE_NAME = "warm-kernel"


def register_engine() -> str:
    """Register (once) the papermill engine that runs a notebook on a given warm kernel (or a
    kernel of its own) and then shuts it down with its client, writing the executed notebook
    once at the end; returns the engine's name for ``execute_notebook``.

    papermill's own engine leaves a kernel it did not start running, with its client's
    channels open (nbclient cleans up only kernels it owns)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                     start_timeout=60, execution_timeout=None, **kwargs):
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            client = PapermillNotebookClient(
                nb_man, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                log=logging.getLogger("papermill"), log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file, **kwargs,
            )
            # papermill writes the whole executed notebook to disk as each cell starts and ends,
            # for watching a long notebook run. The report's notebook carries about 4 MB of
            # charts, so that was some 80 writes and 2 s a run. It is written once, when the
            # notebook completes or fails (papermill's notebook_complete, after this returns).
            nb_man.save = lambda **_: None
            try:
                return client.execute(cleanup_kc=True)
            finally:
                del nb_man.save

    papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
    return ENGINE_NAME


class WarmKernels:
    """Kernels being started for named stages, ``workers`` at a time."""

    def __init__(self, manager_class: type, kernel_name: str, workers: int) -> None:
        self._manager_class = manager_class
        self._kernel_name = kernel_name
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="warm-kernel")
        self._futures: dict[str, Future] = {}
        self._stop = threading.Event()

    def warm(self, stage: str, notebook: Path) -> None:
        """Start a kernel for ``stage`` and run its notebook's imports in it."""
        self._futures[stage] = self._pool.submit(_start, self._manager_class, self._kernel_name, import_statements(notebook), self._stop)

    def take(self, stage: str) -> Any | None:
        """The stage's warm kernel manager (waiting for it to be ready), or None if it has none."""
        future = self._futures.pop(stage, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the stage then starts a kernel of its own
            log.debug("Warm kernel for %s failed; the stage starts its own", stage, exc_info=True)
            return None

    def close(self) -> None:
        """Shut down every kernel not taken; those still starting stop within half a second."""
        self._stop.set()
        for future in self._futures.values():
            future.cancel()
        self._pool.shutdown(wait=True)
        for future in self._futures.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                shutdown(future.result())
        self._futures.clear()
