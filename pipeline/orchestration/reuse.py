"""Reruns that reuse what did not change.

A stage's *fingerprint* is everything its results depend on: its notebook, the params
fields it reads, the input files those fields name (by SHA-256), the pipeline package's
source and the versions of the libraries it runs on, whether a PDF was asked for, and the
fingerprints of the stages it reads from. After a stage succeeds, its fingerprint is saved
beside its outputs under ``<processed>/stages/``, together with everything it wrote for
publishing (tables, the executed notebook, its HTML). A later run reuses the stage when
the fingerprint is the same and no stage it depends on reran, and says why it did or did
not in ``run.json``.

A stage's record is removed before it runs, so a stage that fails or is interrupted
leaves no record and runs again next time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pipeline.storage.fingerprints import bytes_sha, code_fingerprint, json_sha, sha256_of, source_fingerprint
from pipeline.storage.folders import mark_as_ours, remove_our_folder

__all__ = ["code_fingerprint", "sha256_of", "source_fingerprint"]  # used with the stage records

STAGES_FOLDER = "stages"
NOTHING_CHANGED = "nothing it depends on changed"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def files_named(settings: dict[str, Any], file_hashes: dict[str, str]) -> dict[str, str]:
    """The input files (absolute path -> SHA-256) that ``settings`` name, directly or as a folder holding them."""
    named = set()
    for text in _strings(settings):
        if text.startswith("/") or ":\\" in text:
            named.add(text.rstrip("/\\"))
    chosen = {}
    for path, sha in file_hashes.items():
        if path in named or any(path.startswith(folder + "/") or path.startswith(folder + "\\") for folder in named):
            chosen[path] = sha
    return chosen


def fingerprint(
    notebook: Path,
    settings: dict[str, Any],
    file_hashes: dict[str, str],
    code: str,
    upstream: dict[str, str],
    pdf: bool,
) -> dict[str, Any]:
    """A stage's fingerprint as named parts (each a SHA-256 or a small value), so a change can be named.

    ``settings`` are the params fields the stage reads (absolute paths, as ``params_as_dict``
    gives them); ``file_hashes`` every input file of the run; ``upstream`` the digests of the
    stages it reads from."""
    return {
        "notebook": bytes_sha(notebook.read_bytes()),
        "params": {name: json_sha(value) for name, value in sorted(settings.items())},
        "files": files_named(settings, file_hashes),
        "code": code,
        "upstream": dict(sorted(upstream.items())),
        "pdf": pdf,
    }


def digest_of(parts: dict[str, Any]) -> str:
    """One SHA-256 for a fingerprint."""
    return json_sha(parts)


def _short(path: str) -> str:
    return Path(path).name


def why_run(
    previous: dict[str, Any] | None, parts: dict[str, Any], reran_upstream: list[str], force: bool
) -> str | None:
    """Why a stage must run (a sentence), or None when its last results can be reused."""
    if force:
        return "--force was given"
    if previous is None:
        return "no earlier results of this stage were found"
    reasons = []
    if reran_upstream:
        names = [f"'{s}'" for s in reran_upstream]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        reasons.append(("stage " if len(names) == 1 else "stages ") + listed + " reran")
    before = previous.get("parts", {})
    if before.get("notebook") != parts["notebook"]:
        reasons.append("its notebook changed")
    changed_params = sorted(
        set(before.get("params", {})) ^ set(parts["params"])
        | {k for k in parts["params"] if before.get("params", {}).get(k) != parts["params"][k]}
    )
    if changed_params:
        reasons.append("params " + ", ".join(f"'{k}'" for k in changed_params) + " changed")
    old_files, new_files = before.get("files", {}), parts["files"]
    changed_files = sorted({p for p in set(old_files) | set(new_files) if old_files.get(p) != new_files.get(p)})
    if changed_files:
        shown = ", ".join(_short(p) for p in changed_files[:3]) + (
            f" and {len(changed_files) - 3} more" if len(changed_files) > 3 else ""
        )
        reasons.append(f"input file(s) {shown} changed")
    if before.get("code") != parts["code"]:
        reasons.append("the pipeline package or a library version changed")
    if before.get("pdf") != parts["pdf"]:
        reasons.append("a PDF was asked for" if parts["pdf"] else "a PDF is no longer asked for")
    if before.get("upstream") != parts["upstream"] and not reran_upstream:
        reasons.append("a stage it reads from has different results")
    if reasons:
        return "; ".join(reasons)
    return None


class StageStore:
    """Each stage's last good results and their fingerprint, under ``<processed>/stages/``."""

    def __init__(self, processed: Path) -> None:
        self.root = processed / STAGES_FOLDER

    def folder(self, stage: str) -> Path:
        """Where a stage writes what it publishes (its ``run_dir``)."""
        return self.root / stage

    def _record_path(self, stage: str) -> Path:
        return self.root / f"{stage}.json"

    def record(self, stage: str) -> dict[str, Any] | None:
        """The saved fingerprint of the stage's last good results, or None."""
        path = self._record_path(stage)
        if not path.is_file() or not self.folder(stage).is_dir():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def start(self, stage: str) -> Path:
        """Forget the stage's last results and give it an empty folder of its own to write in."""
        self._record_path(stage).unlink(missing_ok=True)
        folder = self.folder(stage)
        remove_our_folder(folder)
        mark_as_ours(folder)
        return folder

    def finish(self, stage: str, parts: dict[str, Any], digest: str) -> None:
        """Save the fingerprint of results the stage has just written successfully."""
        self._record_path(stage).write_text(json.dumps({"digest": digest, "parts": parts}, indent=2), encoding="utf-8")

    def copy_into(self, stage: str, run_dir: Path) -> None:
        """Put the stage's results into the run's folder, beside the other stages'."""
        shutil.copytree(self.folder(stage), run_dir, dirs_exist_ok=True)
