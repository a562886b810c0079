"""Where a run may write, and proof that a folder is the pipeline's own before it replaces it.

Publishing replaces the output folder as a whole, so the folder a params file names
must be checked before anything runs: a mistyped ``output_dir`` of ``.`` or
``data/raw`` must never lead to the project or its inputs being deleted. The rules:

- ``output_dir`` and ``processed_dir`` may not be a filesystem root or the home folder,
  may not be, contain or sit inside an input or the project's own source (code,
  notebooks, params, tests, raw data, ``.git``), and may not contain the project.
- An existing output folder is replaced only if the pipeline created it: it holds the
  marker file ``OWNER_MARKER`` (or is an output folder written by an earlier version,
  recognised by its ``run.json`` and nothing but the files a run writes), or is empty.
- One run at a time per output folder: a lock file beside it names the running one.
- The pipeline only ever deletes folders that carry its marker.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Iterable

from pipeline.errors import PipelineError

OWNER_MARKER = ".strategic-assessment-output"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The project's own source and raw inputs: never written into, never replaced.
PROTECTED_IN_PROJECT = ("pipeline", "notebooks", "params", "tests", "scripts", "benchmarks", ".git", ".ci", "data/raw")
# What a run writes into its output folder (earlier versions wrote no marker).
RUN_OUTPUT_NAMES = {"run.json", "run.log", "tables", "tables.xlsx", "notebooks", OWNER_MARKER}


class UnsafeLocationError(PipelineError):
    """A setting points the run at a folder it must not write into or replace."""


class RunLockedError(PipelineError):
    """Another run is already publishing to the same output folder."""


def _inside(path: Path, folder: Path) -> bool:
    """True if ``path`` is ``folder`` or anywhere below it (both absolute, resolved)."""
    return path == folder or folder in path.parents


def location_problems(
    setting: str, target: Path, inputs: Iterable[Path], project_root: Path = PROJECT_ROOT
) -> list[str]:
    """Why ``target`` (an output or processed folder) is unsafe to write into, or [] if it is safe.

    ``setting`` names the params setting in messages; ``inputs`` are every input file or
    folder the params name.
    """
    target = target.resolve()
    shown = f"{setting}: {str(target)!r}"
    if target == Path(target.anchor) or target == Path.home().resolve():
        return [
            f"{shown} is the top of a drive or your home folder; name a folder of its own, such as "
            "outputs/<area>-<period>."
        ]
    if _inside(project_root, target):
        return [
            f"{shown} is the project folder or a folder above it; publishing there would replace the project. Use a "
            "folder under outputs/."
        ]
    problems = []
    clashes = [
        f"{name}/"
        for name in PROTECTED_IN_PROJECT
        if (project_root / name).exists()
        and (_inside(target, (project_root / name).resolve()) or _inside((project_root / name).resolve(), target))
    ]
    if clashes:
        problems.append(
            f"{shown} is, holds or sits inside the project's own {', '.join(clashes)} folder; use a folder under "
            "outputs/."
        )
    held = sorted({str(Path(i).resolve()) for i in inputs if _inside(Path(i).resolve(), target)})
    if held:
        examples = ", ".join(repr(h) for h in held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
        problems.append(
            f"{shown} holds {len(held)} input(s) ({examples}); the run would write over them. Use a folder under "
            "outputs/."
        )
    containing = sorted(
        {str(Path(i).resolve()) for i in inputs if Path(i).is_dir() and _inside(target, Path(i).resolve())}
    )
    for folder in containing:
        problems.append(f"{shown} sits inside the input folder {folder!r}; inputs are never written into.")
    return problems


def is_pipeline_folder(folder: Path) -> bool:
    """True if ``folder`` was created by this pipeline (has the marker, or is an older run's output)."""
    if (folder / OWNER_MARKER).is_file():
        return True
    names = {p.name for p in folder.iterdir()}
    if "run.json" not in names or not all(n in RUN_OUTPUT_NAMES or n.endswith(".html") for n in names):
        return False
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "params_file" in record and "stages" in record


def replaceable_problems(output_dir: Path) -> list[str]:
    """Why an existing ``output_dir`` (or its .failed/.previous siblings) may not be replaced."""
    problems = []
    for folder in (output_dir, *sibling_folders(output_dir).values()):
        if folder.is_file():
            problems.append(f"output_dir: {str(folder)!r} is a file, not a folder; choose another output_dir.")
        elif folder.is_dir() and any(folder.iterdir()) and not is_pipeline_folder(folder):
            problems.append(
                f"output_dir: {str(folder)!r} already exists and was not created by this pipeline; "
                "publishing would replace everything in it. Choose a new folder (for example outputs/<area>-<period>), "
                "or move that folder's contents elsewhere."
            )
    return problems


def sibling_folders(output_dir: Path) -> dict[str, Path]:
    """The folders a run keeps beside its output folder: a failed run's, and the one being replaced."""
    return {
        "failed": output_dir.with_name(f"{output_dir.name}.failed"),
        "previous": output_dir.with_name(f"{output_dir.name}.previous"),
    }


def writable_problem(setting: str, folder: Path) -> str | None:
    """A message if files cannot be created in ``folder`` (or in its nearest existing parent)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{setting}: {str(existing)!r} is a file, so {str(folder)!r} cannot be created as a folder."
    try:
        probe = tempfile.mkdtemp(prefix=".write-check-", dir=existing)
        os.rmdir(probe)
    except OSError as exc:
        return (
            f"{setting}: cannot create files in {str(existing)!r} ({exc.strerror or exc}). "
            "Check the folder's permissions, or set the setting to a folder you can write to."
        )
    return None


def mark_as_ours(folder: Path) -> None:
    """Create ``folder`` if needed and mark it as created by the pipeline."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OWNER_MARKER).write_text(
        "This folder was created by the Strategic Assessment Pipeline, which replaces it on each run.\n",
        encoding="utf-8",
    )


def remove_our_folder(folder: Path) -> None:
    """Delete a folder only if it carries the pipeline's marker (or is an older run's output)."""
    if not folder.exists():
        return
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        return
    if not folder.is_dir() or not is_pipeline_folder(folder):
        raise UnsafeLocationError(f"{folder} was not created by this pipeline, so it was not deleted.")
    shutil.rmtree(folder)


class OutputLock:
    """An exclusive lock on an output folder for the length of a run.

    The lock is a file beside the output folder (``.<name>.lock``) holding the running
    process's id, start time and params file; a second run on the same folder stops at
    once with a message naming the first. The operating system releases the lock if the
    process dies, so a stale file never blocks a later run.
    """

    def __init__(self, output_dir: Path, params_file: str) -> None:
        self.path = output_dir.with_name(f".{output_dir.name}.lock")
        self.params_file = params_file
        self._handle: IO[str] | None = None

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunLockedError(
                f"Another run is already publishing to {self.path.parent / self.path.name[1:-5]} ({holder}). "
                "Wait for it to finish, or give this run a different output_dir."
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}, started {datetime.now():%Y-%m-%d %H:%M:%S}, params {self.params_file}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            try:
                self.path.unlink()
            except OSError:
                pass
            _unlock(self._handle)
            self._handle.close()
            self._handle = None


def _try_lock(handle: IO[str]) -> bool:
    try:
        import fcntl

        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    except ImportError:  # Windows
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True


def _unlock(handle: IO[str]) -> None:
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass


def replace_folder_atomically(staging: Path, final: Path) -> None:
    """Put a finished run's folder in place of the last published one.

    The old folder is moved aside first and removed only once the new one is in place,
    so at every moment one complete set of outputs exists; on failure the old one is
    put back. Only folders the pipeline created (``pipeline.storage.folders``) are ever removed:
    anything else in the way is refused, never deleted.
    """
    previous = sibling_folders(final)["previous"]
    remove_our_folder(previous)
    if final.exists():
        if not final.is_dir() or (any(final.iterdir()) and not is_pipeline_folder(final)):
            raise UnsafeLocationError(f"{final} was not created by this pipeline, so it was not replaced.")
        final.rename(previous)
    try:
        staging.rename(final)
    except OSError:
        if previous.exists():
            previous.rename(final)
        raise
    remove_our_folder(previous)
