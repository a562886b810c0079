"""Charts redrawn only when what they show changed.

The strategic assessment's notebook reruns whenever any stage it reads reran; after a
moderation correction that is only the MoRiLE ranking, yet drawing its 25 or so charts
twice each (wide and for phones) was two thirds of the notebook's time. A chart is a
pure function of its arguments, so ``ChartCache.show`` keys each chart by a SHA-256 of
the drawing function, its arguments (frames by their values, index, columns and dtypes),
the caption, the pipeline package's source and the matplotlib version, and reuses the
embedded HTML it made last time for the same key. The HTML is the same bytes a fresh
drawing would give, so the published document does not depend on what was reused.

An argument the key cannot see into (an object that prints only as its memory address)
turns the cache off for that chart: it is drawn afresh. ``python -m pipeline run --force``
removes the cache, so every chart is drawn. Entries the last run did not use are removed
by ``finish``, so the folder never holds more than one run's charts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from pipeline.storage.folders import mark_as_ours, remove_our_folder

CACHE_FOLDER = "chart-cache"
SUMMARY_FILE = "last-run.json"
_ENTRY = re.compile(r"^[0-9a-f]{64}\.html$")


class _Unkeyable(Exception):
    """An argument whose value the key cannot capture."""


def _code_sha() -> str:
    import matplotlib

    from pipeline.storage.fingerprints import source_fingerprint

    return hashlib.sha256(f"{source_fingerprint()} matplotlib {matplotlib.__version__}".encode("ascii")).hexdigest()


def _values_sha(value: pd.DataFrame | pd.Series) -> bytes:
    try:
        return pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
    except TypeError:  # cells holding lists or dicts: hashed by their printed form
        return pd.util.hash_pandas_object(value.astype(str), index=True).to_numpy().tobytes()


def _feed(digest: Any, value: Any) -> None:
    """Add ``value`` to ``digest`` by what it holds, not where it sits in memory."""
    if isinstance(value, pd.DataFrame):
        digest.update(b"frame")
        digest.update(
            repr((list(value.columns), [str(t) for t in value.dtypes], value.index.names, value.columns.names)).encode(
                "utf-8"
            )
        )
        geometry = [c for c in value.columns if str(value[c].dtype) == "geometry"]
        plain = value.drop(columns=geometry)
        digest.update(_values_sha(plain))
        for column in geometry:
            digest.update(b"".join(g.wkb if g is not None else b"-" for g in value[column]))
        if hasattr(value, "crs"):
            digest.update(str(value.crs).encode("utf-8"))
    elif isinstance(value, pd.Series):
        digest.update(b"series")
        digest.update(repr((value.name, str(value.dtype), value.index.names)).encode("utf-8"))
        digest.update(_values_sha(value))
    elif isinstance(value, pd.Index):
        _feed(digest, value.to_series())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode("utf-8"))
        for field in dataclasses.fields(value):
            digest.update(field.name.encode("utf-8"))
            _feed(digest, getattr(value, field.name))
    elif isinstance(value, dict):
        digest.update(b"dict")
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(type(value).__name__.encode("ascii"))
        for item in value:
            _feed(digest, item)
    else:
        text = repr(value)
        if " at 0x" in text:
            raise _Unkeyable(text)
        digest.update(type(value).__qualname__.encode("utf-8"))
        digest.update(text.encode("utf-8"))


def chart_key(
    draw: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], extra: tuple[Any, ...], code: str
) -> str | None:
    """SHA-256 (hex) naming one chart's HTML, or None if an argument cannot be keyed."""
    digest = hashlib.sha256(code.encode("ascii"))
    digest.update(f"{draw.__module__}.{draw.__qualname__}".encode("utf-8"))
    try:
        _feed(digest, list(args))
        _feed(digest, kwargs)
        _feed(digest, list(extra))
    except _Unkeyable:
        return None
    return digest.hexdigest()


class ChartCache:
    """Embedded chart HTML kept under ``<processed>/chart-cache`` between runs of a notebook."""

    def __init__(self, processed_dir: str | Path) -> None:
        self.folder = Path(processed_dir) / CACHE_FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        mark_as_ours(self.folder)
        self._code = _code_sha()
        self.used: set[str] = set()
        self.drawn = 0
        self.reused = 0

    def html(
        self,
        draw: Callable[..., tuple[Any, str]],
        *args: Any,
        caption: str | None = None,
        narrow: bool = True,
        **kwargs: Any,
    ) -> str:
        """``figure_html`` of the chart ``draw(*args, **kwargs)`` draws (a figure and its alt text),
        from the cache when the same chart was drawn before."""
        from pipeline.documents.figures import figure_html

        key = chart_key(draw, args, kwargs, (caption, narrow), self._code)
        path = self.folder / f"{key}.html" if key else None
        if path is not None and path.is_file():
            self.used.add(path.name)
            self.reused += 1
            return path.read_text(encoding="utf-8")
        figure, alt = draw(*args, **kwargs)
        text = figure_html(figure, alt, caption, narrow)
        self.drawn += 1
        if path is not None:
            partial = path.with_suffix(".part")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)  # a run stopped mid-write leaves no half entry
            self.used.add(path.name)
        return text

    def show(
        self,
        draw: Callable[..., tuple[Any, str]],
        *args: Any,
        caption: str | None = None,
        narrow: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Display the chart in a notebook (see ``html``)."""
        from IPython.display import HTML

        return HTML(self.html(draw, *args, caption=caption, narrow=narrow, **kwargs))

    def finish(self) -> dict[str, int]:
        """Remove entries this run did not use; record and return how many charts were drawn and reused."""
        for path in self.folder.iterdir():
            if (_ENTRY.match(path.name) and path.name not in self.used) or path.suffix == ".part":
                path.unlink()
        counts = {"drawn": self.drawn, "reused": self.reused}
        (self.folder / SUMMARY_FILE).write_text(json.dumps(counts), encoding="utf-8")
        return counts


def last_counts(processed_dir: Path) -> dict[str, int] | None:
    """How many charts the last notebook run using the cache drew and reused, if it recorded them."""
    path = Path(processed_dir) / CACHE_FOLDER / SUMMARY_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clear_counts(processed_dir: Path) -> None:
    """Forget the last run's counts, so a run whose notebook did not record any reports none."""
    (Path(processed_dir) / CACHE_FOLDER / SUMMARY_FILE).unlink(missing_ok=True)


def clear(processed_dir: Path) -> None:
    """Remove the cache (only if it carries the pipeline's marker): every chart is drawn afresh."""
    folder = Path(processed_dir) / CACHE_FOLDER
    if folder.is_dir():
        remove_our_folder(folder)
