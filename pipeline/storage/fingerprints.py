"""Fingerprints: SHA-256 of files, of JSON-ready values, and of the pipeline package's own
source. What every kept result depends on (stage results, kept police reads, cached charts)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def bytes_sha(data: bytes) -> str:
    """SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def json_sha(value: Any) -> str:
    """SHA-256 of a JSON-ready value, keys sorted (anything else written as its text)."""
    return bytes_sha(json.dumps(value, sort_keys=True, default=str).encode("utf-8"))


# Digests already worked out in this process, by file and its size, modification time and
# inode: a force's batch hashed its police archive some fifteen times (each area's input
# hashes and read keys), and every stage decision hashed the package's files again.
_digests: dict[tuple[str, int, int, int], str] = {}
_digests_lock = threading.Lock()


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    status = os.stat(path)
    return (os.path.abspath(path), status.st_size, status.st_mtime_ns, status.st_ino)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB blocks (once per process while the file's
    size, modification time and inode stay the same)."""
    key = _stat_key(path)
    with _digests_lock:
        known = _digests.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    with _digests_lock:
        _digests[key] = digest.hexdigest()
    return _digests[key]


SOURCE_SUFFIXES = (".py", ".csv", ".gz", ".yaml", ".html", ".css", ".tpl", ".j2")


def package_files() -> list[Path]:
    """The pipeline package's own files, sorted: its code and the data it ships (offence
    codes, threat catalogue, partnership lookup)."""
    return [
        p
        for p in sorted(PACKAGE_DIR.rglob("*"))
        if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts and p.is_file()
    ]


def source_fingerprint() -> str:
    """SHA-256 over the pipeline package's files (``package_files``: names and bytes). What
    every kept result that the package computed depends on: stage results, kept police
    reads, cached charts."""
    digest = hashlib.sha256()
    for path in package_files():
        digest.update(str(path.relative_to(PACKAGE_DIR)).encode("utf-8"))
        digest.update(sha256_of(path).encode("ascii"))
    return digest.hexdigest()


def code_fingerprint(versions: dict[str, str]) -> str:
    """SHA-256 over the pipeline package's files (``source_fingerprint``) and the library versions.

    The whole package counts, not only the modules a stage imports: a stage's notebook may
    reach any of them through the others, and a rerun is cheaper than a stale result."""
    return json_sha({"source": source_fingerprint(), "versions": versions})
