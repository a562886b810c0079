"""Police data read once per set of files and areas, not once per use.

Reading a force's police.uk archive is the slowest step of a run, and a run used to do it
twice (the input check, then the police stage), and a batch of the force's partnerships
ten times over (each area's run reads every comparator too). The rows an area keeps and the
force-wide summary depend only on the files' bytes, the area definitions and the reader's
code, so a read is kept under ``<processed_dir>/police-reads/<key>/`` (the tidy crimes as
parquet and the summary as JSON), where ``key`` is a SHA-256 of:

- the bytes of every file the inputs name (a folder: every file in it),
- each area's name, LSOA name prefixes and LSOA lookup file's bytes, in name order (so
  the five runs of a force's five partnerships, each listing the others as comparators,
  share one read),
- the pipeline package's files (``storage.fingerprints.source_fingerprint``) and the pandas and pyarrow
  versions.

Each area is selected and de-duplicated on its own (``pipeline.analysis.police``), so a kept read
gives exactly the frame a fresh read would: a test checks it. Entries are written to a
temporary folder and renamed, so a stopped run never leaves half of one; only the
``KEPT`` most recently used are kept.

A batch of areas side by side in one process (``pipeline.orchestration.batch``) also shares a read in
memory while ``sharing_reads`` is open: every area's input check wants the same frame, and
making it from the parquet file took each of them 0.6-0.8 s of the interpreter's time.
The frame is shared, never changed: checks only read it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Iterator, TypeVar

import pandas as pd
import pyarrow as pa

from pipeline.inputs.police_scan import TIDY_COLUMNS, ScanSummary, read_police_table
from pipeline.storage.fingerprints import sha256_of, source_fingerprint
from pipeline.storage.folders import OWNER_MARKER, mark_as_ours

if TYPE_CHECKING:
    from pipeline.params import AreaDefinition

log = logging.getLogger(__name__)
T = TypeVar("T")

READS_FOLDER = "police-reads"
KEPT = 4

# Reads shared in memory, by key, while ``sharing_reads`` is open (None: not sharing).
_shared: dict[str, tuple[pd.DataFrame, ScanSummary]] | None = None
_shared_lock = threading.Lock()
# What the areas' input checks work out from a shared read (rows and LSOAs per area, each
# area's month coverage), by the read's frame and what was worked out, while sharing.
_derived: dict[tuple[int, Hashable], Any] = {}


@contextmanager
def sharing_reads() -> Iterator[None]:
    """While open, a read loaded or kept in this process is held in memory and given to every
    later ``load_read`` of the same key (a batch's areas all check the same read)."""
    global _shared
    with _shared_lock:
        opened = _shared is None  # within an open one (a force's batch), that one goes on
        if opened:
            _shared = {}
    try:
        yield
    finally:
        if opened:
            with _shared_lock:
                _shared = None
                _derived.clear()


def from_shared_read(crimes: pd.DataFrame, what: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, worked out once for all areas while ``crimes`` is a read shared in memory
    (``sharing_reads``): a force's five partnerships each checked all five areas' coverage,
    one core's work while the kernels waited. Otherwise worked out each time. ``what`` names
    the result (with every setting it depends on); callers must not change what is returned."""
    with _shared_lock:
        shared = _shared is not None and any(frame is crimes for frame, _ in _shared.values())
        key = (id(crimes), what)
        if shared and key in _derived:
            return _derived[key]
    value = compute()
    if shared:
        with _shared_lock:
            if _shared is not None:  # the frame is held by _shared, so its id is not reused meanwhile
                _derived[key] = value
    return value


def read_key(inputs: Iterable[Path], areas: list["AreaDefinition"]) -> str | None:
    """The SHA-256 (hex) naming a read of ``inputs`` for ``areas``, or None if an input is missing
    (the reader then reports it)."""
    import pyarrow

    digest = hashlib.sha256(
        f"{source_fingerprint()} pandas {pd.__version__} pyarrow {pyarrow.__version__}".encode("ascii")
    )
    for path in inputs:
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            files = [path]
        else:
            return None
        digest.update(b"input")
        for file in files:
            digest.update(f"{file.name} {sha256_of(file)}".encode("utf-8"))
    for area in sorted(areas, key=lambda a: a.name):
        named = {"name": area.name, "prefixes": area.lsoa_name_prefixes}
        if area.partnership is not None or area.districts:
            # the bundled lookup: in the code's
            # fingerprint
            named.update(partnership=area.partnership, districts=area.districts)
        digest.update(json.dumps(named).encode("utf-8"))
        if area.lsoa_lookup is not None:
            if not Path(area.lsoa_lookup).is_file():
                return None
            digest.update(sha256_of(Path(area.lsoa_lookup)).encode("ascii"))
    return digest.hexdigest()


def load_read(
    folder: Path, key: str | None, columns: list[str] | None = None
) -> tuple[pd.DataFrame, ScanSummary] | None:
    """The kept read for ``key`` under ``folder`` (or in memory, while ``sharing_reads``), or
    None; of the crimes, only ``columns`` if given (from disk, only they are read)."""
    if key is None:
        return None
    if _shared is None:
        return _load_from_disk(Path(folder), key, columns)
    with _shared_lock:  # held while loading, so that areas wanting the same read load it once
        if _shared is not None and key in _shared:
            log.info("Police data: the read of these files for these areas made earlier in this batch was reused")
            loaded = _shared[key]
        else:
            loaded = _load_from_disk(Path(folder), key)
            if loaded is not None and _shared is not None:
                _shared[key] = loaded
    if loaded is None or columns is None:
        return loaded
    return loaded[0][columns], loaded[1]


def kept_file(folder: Path, key: str | None) -> Path | None:
    """The crimes file of the read kept for ``key`` under ``folder`` (marked most recently
    used, so kept longest), or None if there is none."""
    if key is None:
        return None
    entry = Path(folder) / READS_FOLDER / key
    if not (entry / "crimes.parquet").is_file():
        return None
    os.utime(entry)
    return entry / "crimes.parquet"


def _load_from_disk(
    folder: Path, key: str, columns: list[str] | None = None
) -> tuple[pd.DataFrame, ScanSummary] | None:
    import pyarrow.parquet as pq

    entry = folder / READS_FOLDER / key
    try:
        summary = ScanSummary(**json.loads((entry / "summary.json").read_text(encoding="utf-8")))
        crimes = crimes_frame(pq.read_table(entry / "crimes.parquet", columns=columns), columns)
    except (OSError, ValueError, TypeError):
        return None
    os.utime(entry)  # most recently used: kept longest
    log.info("Police data: the read of these files for these areas made earlier was reused (%s)", entry)
    return crimes, summary


def save_read(folder: Path, key: str | None, crimes: pd.DataFrame, summary: ScanSummary) -> None:
    """Keep a read under ``folder`` (written whole, then renamed into place), and drop the oldest beyond ``KEPT``."""
    if key is None:
        return
    with _shared_lock:
        if _shared is not None:
            _shared[key] = (crimes, summary)
    reads = Path(folder) / READS_FOLDER
    entry = reads / key
    if entry.is_dir():
        os.utime(entry)
        return
    mark_as_ours(reads)
    # Named by process and thread: areas side by side in one process may keep the same read at once.
    partial = reads / f".{key}.writing-{os.getpid()}-{threading.get_ident()}"
    mark_as_ours(partial)
    write_crimes(crimes, partial / "crimes.parquet")  # as the police stage writes it, so that it can copy this file
    (partial / "summary.json").write_text(json.dumps(asdict(summary)), encoding="utf-8")
    try:
        partial.rename(entry)
    except OSError:  # another run kept the same read first
        shutil.rmtree(partial, ignore_errors=True)
    entries = sorted(
        (p for p in reads.iterdir() if p.is_dir() and (p / OWNER_MARKER).is_file() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEPT:]:
        shutil.rmtree(old, ignore_errors=True)


TEXT = pd.StringDtype("pyarrow")


def crimes_frame(table: pa.Table, columns: list[str] | None = None) -> pd.DataFrame:
    """A tidy crime table (``TIDY_COLUMNS``, or only ``columns``) as pandas, its text held by
    Arrow (``TEXT``), which holds a large read in a fraction of the memory of Python strings."""
    return table.select(columns if columns is not None else TIDY_COLUMNS).to_pandas(
        types_mapper={pa.string(): TEXT, pa.large_string(): TEXT}.get
    )


def read_police_data(
    inputs: list[Path],
    areas: list[AreaDefinition],
    kept_reads: Path | None = None,
    keep: bool = True,
    columns: list[str] | None = None,
) -> tuple[pd.DataFrame, ScanSummary]:
    """Read police.uk inputs for the given areas (``read_police_table``): tidy crimes as a
    frame (``crimes_frame``; only ``columns`` of it, if given) and a force-wide summary.

    With ``kept_reads`` (a processed folder), a read of the same files for the same areas
    made earlier is reused (from a kept read, only ``columns`` are loaded), and with ``keep``
    a new read is kept there (``pipeline.inputs.police_reads``)."""
    key = read_key(inputs, areas) if kept_reads is not None else None
    kept = load_read(kept_reads, key, columns) if kept_reads is not None else None
    if kept is not None:
        return kept
    table, summary = read_police_table(inputs, areas)
    crimes = crimes_frame(table)
    if kept_reads is not None and keep:
        save_read(kept_reads, key, crimes, summary)
    return (crimes[columns] if columns is not None else crimes), summary


def kept_crimes(inputs: list[Path], areas: list[AreaDefinition], kept_reads: Path) -> pd.DataFrame | Path:
    """For ``write_processed``: the crimes file of the read of ``inputs`` for ``areas`` kept under
    ``kept_reads`` (``read_police_data`` keeps every read it makes there), to be copied; or, if
    it is no longer kept, the tidy crimes read again. A force's partnerships each wrote the
    same half a million rows out of a frame, some 0.5 s apiece; the file is copied in a few
    milliseconds."""
    path = kept_file(kept_reads, read_key(inputs, areas))
    return path if path is not None else read_police_data(inputs, areas, kept_reads)[0]


def write_crimes(crimes: pd.DataFrame, path: Path) -> None:
    """The tidy crimes as parquet. Without pandas' metadata the text reads back as plain
    Python strings (object), as the later stages have always had it; the reader's
    Arrow-backed strings stay in the police stage. A kept read is written the same way, so
    that its file is exactly what the police stage would write (``kept_crimes``)."""
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(crimes, preserve_index=False).replace_schema_metadata(None), path)
