"""Publish stage: accessible tables and charts in notebooks, and the HTML documents.

Published documents are public: no code, every chart with alt text, tables with real
headers and captions, a table of contents, ``lang`` set, and nothing fetched from the
internet (council networks are locked down), so images are embedded and the stylesheet
is inline. Every table shown is also written as CSV, with text cells that a spreadsheet
would run as a formula neutralised.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
import re
import textwrap
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_STYLESHEET = """
body { font-family: Arial, Helvetica, sans-serif; line-height: 1.5; color: #0b0c0c; max-width: 60rem;
       margin: 0 auto; padding: 1rem 1.5rem 3rem; overflow-wrap: break-word; }
h1 { font-size: 2rem; border-bottom: 4px solid #1d70b8; padding-bottom: .3rem; overflow-wrap: anywhere; }
h2 { font-size: 1.5rem; margin-top: 2.5rem; border-bottom: 1px solid #b1b4b6; }
h3 { font-size: 1.2rem; margin-top: 1.8rem; }
a { color: #1d70b8; }
/* Focus: yellow fill with a black bar (GOV.UK pattern), at least 3:1 on every background. */
a:focus { outline: 3px solid transparent; background: #ffdd00; color: #0b0c0c; box-shadow: 0 -2px #ffdd00, 0 4px #0b0c0c;
          text-decoration: none; }
.table-wrap:focus { outline: 3px solid #0b0c0c; outline-offset: 2px; }
nav.toc { background: #f3f2f1; padding: .5rem 1.5rem; margin: 1rem 0 2rem; }
nav.toc ul { padding-left: 1.2rem; } nav.toc li.level-3 { margin-left: 1.2rem; font-size: .95em; }
nav.toc li a { display: block; min-height: 24px; padding: 2px 0; }
table { border-collapse: collapse; margin: 1rem 0 .5rem; font-size: .92rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; position: sticky; left: 0; }
th, td { border-bottom: 1px solid #b1b4b6; padding: .3rem .6rem; vertical-align: top; }
thead th { border-bottom: 2px solid #0b0c0c; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody th { text-align: left; font-weight: normal; min-width: 7em; }
dl.blocks dt { font-weight: bold; margin-top: .6rem; } dl.blocks dd { margin-left: 0; }
/* A table wider than the page scrolls in its own region; shadows at the edges show there is more. */
.table-wrap { overflow-x: auto; max-width: 100%;
  background: linear-gradient(to right, #fff 30%, rgba(255,255,255,0)) left / 2rem 100% no-repeat local,
              linear-gradient(to left, #fff 30%, rgba(255,255,255,0)) right / 2rem 100% no-repeat local,
              radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.25), rgba(0,0,0,0)) left / .8rem 100% no-repeat scroll,
              radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.25), rgba(0,0,0,0)) right / .8rem 100% no-repeat scroll; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: .92rem; color: #505a5f; }
.note, .sample { border-left: 5px solid #1d70b8; background: #f3f2f1; padding: .5rem 1rem; overflow-wrap: anywhere; }
.sample { border-left-color: #d4351c; font-weight: bold; }
.table-note { font-size: .88rem; color: #505a5f; margin-top: 0; }
footer { margin-top: 3rem; font-size: .88rem; color: #505a5f; border-top: 1px solid #b1b4b6; }
@media (max-width: 40em) {
  body { padding: .75rem 1rem 2rem; }
  h1 { font-size: 1.6rem; }
  table { font-size: .85rem; }
}
/* Print on A4: every column on the page (wide tables on landscape pages), headings kept with
   what follows, rows and charts not split, the table header repeated on each page. */
@page { size: A4; margin: 14mm 12mm 16mm; }
@page wide { size: A4 landscape; margin: 12mm 12mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; line-height: 1.35; }
  h1 { font-size: 18pt; } h2 { font-size: 14pt; margin-top: 1.2rem; } h3 { font-size: 11.5pt; }
  h1, h2, h3, h4, caption, .table-note { break-after: avoid; page-break-after: avoid; }
  nav.toc { break-after: page; }
  a { color: #0b0c0c; text-decoration: none; }
  .table-wrap { overflow: visible; background: none; }
  .table-wrap.wide { page: wide; }
  table { font-size: 8pt; width: 100%; }
  th, td { padding: .1rem .3rem; }
  thead { display: table-header-group; }
  tr, figure, img, dl.blocks dd { break-inside: avoid; page-break-inside: avoid; }
  caption { position: static; }
  figure img { max-height: 120mm; width: auto; }
  picture source { display: none; }
}
"""


def neutralise_formula(value: Any) -> Any:
    """Prefix text that a spreadsheet would execute (``=``, ``+``, ``-``, ``@``...) with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# Symbols the HTML uses beside a word: spreadsheets may garble them, so CSVs keep the word only.
_VERDICT_SYMBOL = re.compile("^[\u2713\u2717\u2248?\u2013] ")
_CSV_CHARACTERS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2248": "about ", "\u2713": "yes", "\u2717": "no"})


def csv_text(value: Any) -> Any:
    """A text cell as a CSV holds it: symbols written as words, formulas neutralised."""
    if isinstance(value, str):
        value = _VERDICT_SYMBOL.sub("", value).translate(_CSV_CHARACTERS)
    return neutralise_formula(value)


def _whole_numbers_as_integers(column: pd.Series) -> pd.Series:
    """A float column whose values are all whole numbers (counts with a gap) written without '.0'."""
    if column.dtype.kind == "f" and column.notna().any() and (column.dropna() % 1 == 0).all():
        return column.astype("Int64")
    return column


def _csv_column(column: pd.Series) -> list[Any] | None:
    """A column's cells as ``write_csv`` writes them, as pandas' ``to_csv`` would write them
    (blank for missing, floats as numpy prints them, anything else as ``str`` gives it); None
    for a kind of column this does not handle (dates, categories), which pandas then writes."""
    if column.dtype == object:
        values = np.array([csv_text(v) for v in column.tolist()], dtype=object)
    else:
        column = _whole_numbers_as_integers(column)
        kind = column.dtype.kind
        if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and kind in "iub":  # Int64 and friends
            values = np.asarray(column.array.astype(object))
        elif isinstance(column.dtype, np.dtype) and kind == "f":
            values = column.to_numpy().astype(str).astype(object)  # as pandas does: numpy's shortest form
        elif isinstance(column.dtype, np.dtype) and kind in "iub":
            values = np.array(column.to_numpy(), dtype=object)
        else:
            return None
    values[pd.isna(column.to_numpy()) if column.dtype != object else pd.isna(values)] = ""
    return values.tolist()


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV (with BOM, so Excel reads £ and accents): symbols as words,
    counts as integers, formulas neutralised in cells and headers.

    Written with the csv module, cell for cell what pandas' ``to_csv`` writes (a test
    compares them): for the report's 60-odd small tables pandas' column-by-column work took
    some 0.4 s a run."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [_csv_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if columns and all(c is not None for c in columns):
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator=os.linesep)
            # Headers can come from inputs too (a crime type becomes a column of the monthly table).
            writer.writerow([csv_text(str(c)) for c in frame.columns])
            writer.writerows(zip(*columns))
        return path
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(csv_text)
        else:
            safe[column] = _whole_numbers_as_integers(safe[column])
    # Headers can come from inputs too (a crime type becomes a column of the monthly table).
    safe.columns = [csv_text(str(c)) for c in safe.columns]
    safe.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _cell(value: Any, formatter: Callable[[Any], str] | None) -> tuple[str, bool]:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "", numeric
    text = formatter(value) if formatter else (f"{value:,}" if isinstance(value, int) else str(value))
    return html.escape(text), numeric


# A table whose columns need more than this many characters side by side goes on a
# landscape page in print. A4 portrait holds about 130 characters of 8 pt table text side by
# side; the estimate counts long cells at 40 characters though they wrap, hence the margin.
WIDE_TABLE_CHARACTERS = 155
# A table needing no more than this many characters fits a 320-375 px phone without scrolling.
PHONE_TABLE_CHARACTERS = 40


def estimated_width(frame: pd.DataFrame, formats: dict[str, Callable[[Any], str]] | None = None) -> int:
    """The characters a table needs side by side: per column, the longer of its longest cell and
    its header (headers wrap, so counted up to 16 characters), plus 2 for padding."""
    formats = formats or {}
    total = 0
    for column in frame.columns:
        cells = [_cell(v, formats.get(column))[0] for v in frame[column]]
        longest = max((len(html.unescape(c)) for c in cells), default=0)
        total += max(min(len(str(column)), 16), min(longest, 40)) + 2
    return total


def table_html(
    frame: pd.DataFrame,
    caption: str,
    formats: dict[str, Callable[[Any], str]] | None = None,
    row_headers: bool = True,
    note: str | None = None,
) -> str:
    """An accessible HTML table: caption, ``<th scope="col">`` headers, the first column as row headers.

    Text is escaped, so values from input files cannot inject markup. Numbers are right
    aligned; ``formats`` maps column names to functions giving each cell's text.
    """
    formats = dict(formats or {})
    for column in frame.columns:
        # A year is a label, not a quantity: 2020, never "2,020".
        if str(column).lower().endswith("year") and column not in formats:
            formats[column] = lambda v: str(v)
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for i, (column, value) in enumerate(zip(frame.columns, record)):
            text, numeric = _cell(value, formats.get(column))
            css = ' class="num"' if numeric else ""
            if i == 0 and row_headers:
                cells.append(f'<th scope="row"{css}>{text}</th>')
            else:
                cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # A wide table scrolls inside its own focusable region rather than the whole page, and is
    # printed on a landscape page.
    width = estimated_width(frame, formats)
    wide = " wide" if width > WIDE_TABLE_CHARACTERS else ""
    # Only a table that can scroll (on a phone, or wider than the page) is a keyboard stop;
    # one that fits a phone's width never scrolls and needs no focus. No script can tell at
    # reading time, so the table's own width decides.
    region = (
        f' role="region" tabindex="0" aria-label="{html.escape(caption, quote=True)}"' if width > PHONE_TABLE_CHARACTERS else ""
    )
    table = (
        f'<div class="table-wrap{wide}"{region}>'
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    if note:
        table += f'<p class="table-note">{html.escape(note)}</p>'
    return table


class ReportTables:
    """Shows tables in a report notebook and writes each one as CSV under ``tables/``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.folder = Path(run_dir) / "tables"
        self.names: list[str] = []

    def show(
        self,
        frame: pd.DataFrame,
        name: str,
        caption: str,
        formats: dict[str, Callable[[Any], str]] | None = None,
        note: str | None = None,
        row_headers: bool = True,
        display_columns: list[str] | None = None,
    ) -> Any:
        """Write ``tables/<name>.csv`` and return the table for display in the notebook.

        ``display_columns`` shows only some columns on the page (the CSV has them all);
        the caption then says the CSV holds the rest.
        """
        from IPython.display import HTML

        if name in self.names:
            raise ValueError(f"table name {name!r} is used twice in this report")
        self.names.append(name)
        write_csv(frame, self.folder / f"{name}.csv")
        shown = frame if display_columns is None else frame[display_columns]
        if display_columns is not None:
            extra = "All columns are in the CSV file tables/" + name + ".csv."
            note = f"{note} {extra}" if note else extra
        return HTML(table_html(shown, caption, formats, row_headers, note))


def figure_html(figure: Any, alt: str, caption: str | None = None, narrow: bool = True) -> str:
    """A matplotlib figure as an embedded PNG with alt text (and a caption, if given).

    With ``narrow`` (the default) phones get the chart redrawn for a narrow screen (see
    ``_narrow_png``); a chart that cannot be redrawn narrow, such as a wide heatmap whose
    numbers are also given as a table, passes False. Closes the figure so the notebook
    does not also show it without alt text.
    """
    import matplotlib.pyplot as plt

    if not alt.strip():
        raise ValueError("every chart needs alt text describing what it shows")
    _skip_minor_tick_overlap(figure)
    data = png_base64(figure)
    narrow_data = _narrow_png(figure) if narrow else None
    plt.close(figure)
    image = f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'
    if narrow_data is not None:
        # Phones get the chart drawn again for a narrow screen, with larger text.
        image = f'<picture><source media="(max-width: 40em)" srcset="data:image/png;base64,{narrow_data}">{image}</picture>'
    parts = [f"<figure>{image}"]
    if caption:
        parts.append(f"<figcaption>{html.escape(caption)}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


CHART_DPI = 110
# zlib level 3 rather than Pillow's 6: on the strategic assessment's charts it encodes in
# about half the time, and as RGB (below) the pictures are still 7% smaller than RGBA at 6.
PNG_COMPRESS_LEVEL = 3


def png_base64(figure: Any, crop_to_ink: bool = True) -> str:
    """The figure as a PNG (``CHART_DPI``, cropped to what is drawn), base64-encoded.

    With ``crop_to_ink`` the figure is drawn once, whole (``savefig`` as raw RGBA:
    matplotlib's own renderer, the drawing its PNG writer encodes), and cropped to the pixels
    that differ from its background colour, with savefig's ``pad_inches`` around them.
    (savefig's own crop, ``bbox_inches="tight"``, first lays the figure out in a drawing that
    paints nothing and measures every artist: nearly half of each chart's save.) savefig's
    crop is used where it takes in more (``_cropped_to_ink``),
    and for every figure without ``crop_to_ink`` (one known to reach outside, where the
    drawing whole would be wasted).

    Charts are drawn on an opaque background, so the picture is saved as RGB, the same pixels
    in three quarters of the data. A figure with any transparency, or a renderer whose size
    does not match the pixels (a change inside matplotlib), is saved by savefig as RGBA PNG.
    """
    picture = _drawn_whole_and_cropped(figure) if crop_to_ink else None
    if picture is None:
        raw = io.BytesIO()
        figure.savefig(raw, format="rgba", dpi=CHART_DPI, bbox_inches="tight")
        picture = _opaque_pixels(figure, raw.getvalue())
    buffer = io.BytesIO()
    if picture is not None:
        from PIL import Image

        Image.fromarray(picture.view(np.uint8).reshape(*picture.shape, 4)[:, :, :3]).save(
            buffer, format="png", compress_level=PNG_COMPRESS_LEVEL, dpi=(CHART_DPI, CHART_DPI)
        )
    else:
        figure.savefig(buffer, format="png", dpi=CHART_DPI, bbox_inches="tight", pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _drawn_whole_and_cropped(figure: Any) -> np.ndarray | None:
    """The figure drawn whole at ``CHART_DPI`` and cropped to its ink (``_cropped_to_ink``)."""
    raw = io.BytesIO()
    # A figure that ran tight_layout keeps a placeholder layout engine, for which savefig
    # lays the figure out again in a drawing that paints nothing; laid out already, it needs
    # only the one drawing. At the picture's dpi, text sizes and places agree for the check.
    engine, dpi = figure.get_layout_engine(), figure.dpi
    figure.set_layout_engine(None)
    try:
        figure.savefig(raw, format="rgba", dpi=CHART_DPI)
        figure.dpi = CHART_DPI
        return _cropped_to_ink(figure, _opaque_pixels(figure, raw.getvalue()))
    finally:
        figure.dpi = dpi
        figure.set_layout_engine(engine)


def _opaque_pixels(figure: Any, pixels: bytes) -> np.ndarray | None:
    """What savefig just drew as raw RGBA (``pixels``), one 32-bit number per pixel (rows by
    columns); None if any pixel is not opaque or the picture's size is not the renderer's."""
    # savefig leaves the canvas holding the renderer it drew with.
    renderer = getattr(figure.canvas, "renderer", None)
    width, height = (int(renderer.width), int(renderer.height)) if renderer is not None else (0, 0)
    if not pixels or width * height * 4 != len(pixels) or (np.frombuffer(pixels, np.uint8)[3::4] != 255).any():
        return None
    return np.frombuffer(pixels, np.uint32).reshape(height, width)


# Pixels at each side of a drawn figure that must be blank for it to be cropped to its ink:
# something drawn there may go on outside the figure (glyphs are 1-2 pixels apart, so a
# title cut at the edge can leave the very last column blank).
EDGE_PIXELS = 3


def _cropped_to_ink(figure: Any, picture: np.ndarray | None) -> np.ndarray | None:
    """A figure's whole drawing at its dpi (``_opaque_pixels``) cropped to what differs from
    its background colour plus ``savefig.pad_inches``; None where savefig's own crop must be used,
    as it widens the picture to take in what reaches outside the figure: anything drawn
    within ``EDGE_PIXELS`` of its sides, or a title, label, text or legend reaching beyond
    them (a title longer than the figure is wide, a legend placed below the axes)."""
    import matplotlib
    from matplotlib.colors import to_rgba

    if picture is None or min(picture.shape) <= 2 * EDGE_PIXELS:
        return None
    red, green, blue, alpha = (round(255 * c) for c in to_rgba(figure.get_facecolor()))
    background = np.array([red, green, blue, alpha], np.uint8).view(np.uint32)[0]
    ink = picture != background
    edge = EDGE_PIXELS
    if ink[:edge].any() or ink[-edge:].any() or ink[:, :edge].any() or ink[:, -edge:].any():
        return None
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows) or _reaches_outside(figure, figure.canvas.renderer):
        return None
    pad = round(matplotlib.rcParams["savefig.pad_inches"] * CHART_DPI)
    height, width = picture.shape
    return picture[max(0, rows[0] - pad):min(height, rows[-1] + 1 + pad), max(0, columns[0] - pad):min(width, columns[-1] + 1 + pad)]


def _reaches_outside(figure: Any, renderer: Any) -> bool:
    """Whether a title, label, text or legend of a drawn figure reaches beyond it. Their sizes
    were measured for the drawing, so this takes milliseconds, where savefig's crop measures
    every artist again. Tick labels are left to the edge test: a tick outside the axes' range
    keeps a label that is never drawn, and tight_layout keeps drawn ones inside."""
    from matplotlib.axis import Tick
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    inside = figure.bbox
    tick_labels = {id(t) for tick in figure.findobj(Tick) for t in (tick.label1, tick.label2)}
    for artist in figure.findobj(lambda a: isinstance(a, (Text, Legend))):
        if not artist.get_visible() or id(artist) in tick_labels or (isinstance(artist, Text) and not artist.get_text()):
            continue
        box = artist.get_window_extent(renderer)
        if box.x0 < inside.x0 - 1 or box.y0 < inside.y0 - 1 or box.x1 > inside.x1 + 1 or box.y1 > inside.y1 + 1:
            return True
    return False


def _skip_minor_tick_overlap(figure: Any) -> None:
    """On axes without minor ticks, stop matplotlib looking for minor ticks that fall on major ones.

    It works out the major ticks a second time for that at every layout, and a chart is laid
    out several times (tight layout, the tight crop, the drawing; again for phones). With no
    minor ticks there is nothing to remove, so the picture is the same."""
    from matplotlib.ticker import NullLocator

    for axis in figure.axes:
        for side in (axis.xaxis, axis.yaxis):
            if isinstance(side.get_minor_locator(), NullLocator):
                side.remove_overlapping_locs = False


NARROW_WIDTH_INCHES = 4.6
NARROW_TEXT_SCALE = 1.45
NARROW_TITLE_CHARACTERS = 42
# Of the narrow width, the room for a title: the figure's (from its left side), or an axis's,
# which starts after the tick labels and the axis label (most charts' left fifth).
NARROW_SUPTITLE_ROOM = 0.95
NARROW_TITLE_ROOM = 0.78
NARROW_TITLE_SHORTEST = 14  # characters a line: a title is never wrapped shorter


def _wrapped(lines: list[str], characters: int) -> str:
    """Each line of a title wrapped at ``characters``."""
    return "\n".join(textwrap.fill(line, characters) for line in lines)


def _narrow_png(figure: Any) -> str | None:
    """The chart redrawn ``NARROW_WIDTH_INCHES`` wide with text ``NARROW_TEXT_SCALE`` times larger,
    as base64 PNG (None if it is narrow already).

    Shown at about 330 CSS px on a 375 px phone, its 9 pt text comes out near 11 px, where
    the wide chart's would be 4 or 5 px. Side-by-side panels are stacked in one column and
    long titles wrap.
    """
    from matplotlib.text import Text

    width, height = figure.get_size_inches()
    if width <= NARROW_WIDTH_INCHES + 0.5:
        return None
    for text in figure.findobj(Text):
        text.set_fontsize(text.get_fontsize() * NARROW_TEXT_SCALE)
        if text.get_gid() == "narrow-hide":
            # Labels a phone cannot fit (ward names on a map); the table after the chart has them.
            text.set_visible(False)
    # Titles wrap rather than widen the picture (a wider picture is shrunk more on the phone):
    # at NARROW_TITLE_CHARACTERS, then shorter until the larger text fits the narrow width.
    titles = [(figure._suptitle, NARROW_SUPTITLE_ROOM)] + [(t, NARROW_TITLE_ROOM) for a in figure.axes for t in (a.title, a._left_title, a._right_title)]
    renderer = figure.canvas.get_renderer()
    for title, share in titles:
        if title is None or not title.get_visible() or not title.get_text():
            continue
        room = NARROW_WIDTH_INCHES * figure.dpi * share
        lines, characters = title.get_text().split("\n"), NARROW_TITLE_CHARACTERS
        if len(title.get_text()) > characters:
            title.set_text(_wrapped(lines, characters))
        while title.get_window_extent(renderer).width > room and characters > NARROW_TITLE_SHORTEST:
            characters -= 4
            title.set_text(_wrapped(lines, characters))
    moved_legends = []
    for axis in figure.axes:
        legend = axis.get_legend()
        if legend is not None and legend._ncols > 1:
            # A legend of several columns would set the picture's width: two columns below the plot.
            # A map (no axis) takes one column just below it, so the picture is as wide as the map.
            ncol, below = (2, -0.12) if axis.axison else (1, -0.01)
            moved_legends.append(_legend_again(legend, ncol, (0, below)))
        if len(axis.get_xticklabels()) > 3 and max(len(t.get_text()) for t in axis.get_xticklabels()) > 2:
            # Larger text on a narrower axis: month labels slant so they do not run together.
            for label in axis.get_xticklabels():
                label.set_rotation(40)
                label.set_horizontalalignment("right")
    panels = [a for a in figure.axes if a.get_visible() and a.get_subplotspec() is not None]
    grid = panels[0].get_subplotspec().get_gridspec() if panels else None
    one_grid = all(a.get_subplotspec().get_gridspec() is grid for a in panels)
    if grid is not None and grid.ncols > 1 and one_grid and len(panels) == len(figure.axes):
        # Small multiples side by side become one column, each panel full width.
        from matplotlib.gridspec import GridSpec

        column = GridSpec(len(panels), 1, figure=figure)
        for row, axis in enumerate(sorted(panels, key=lambda a: (a.get_subplotspec().rowspan.start, a.get_subplotspec().colspan.start))):
            axis.set_subplotspec(column[row, 0])
        figure.set_size_inches(NARROW_WIDTH_INCHES, 2.2 * len(panels) + 0.6)
    else:
        figure.set_size_inches(NARROW_WIDTH_INCHES, max(height, height * width / NARROW_WIDTH_INCHES * 0.55))
    try:
        figure.tight_layout()
    except (ValueError, RuntimeError):  # a layout that cannot shrink keeps its original spacing
        pass
    _below_axis_text(figure, moved_legends)
    # Long titles, wrapped, and the legends moved below the plot often reach past the narrow
    # figure's sides: savefig's crop, which takes them in, at once.
    return png_base64(figure, crop_to_ink=False)


def _legend_again(legend: Any, ncol: int, anchor: Any) -> Any:
    """The legend made again on its axis with ``ncol`` columns, its top left corner at
    ``anchor``, from its own handles (a legend built from explicit patches, such as a map's
    classes, has none on the axis to rebuild it from), labels and text size."""
    labels = [t.get_text() for t in legend.get_texts()]
    return legend.axes.legend(legend.legend_handles, labels, ncol=ncol, loc="upper left", bbox_to_anchor=anchor,
                              fontsize=legend.get_texts()[0].get_fontsize())


def _below_axis_text(figure: Any, legends: list[Any]) -> None:
    """Anchor each legend just below its axis's tick labels and x-axis label, which the larger
    phone text makes taller, so the two never overlap; a legend whose columns side by side
    would reach past the figure's right side (widening the picture) takes one column."""
    if not legends:
        return
    figure.draw_without_rendering()  # places the x-axis labels for the new size and text
    renderer = figure.canvas.get_renderer()
    for legend in legends:
        axis = legend.axes
        if legend._ncols > 1 and legend.get_window_extent(renderer).x1 > figure.bbox.x1:
            legend = _legend_again(legend, 1, legend.get_bbox_to_anchor())
        if not axis.axison:  # a map: no axis text to clear
            continue
        boxes = [t.get_window_extent(renderer) for t in (axis.xaxis.label, *axis.get_xticklabels()) if t.get_visible() and t.get_text()]
        if not boxes:
            continue
        lowest = min(b.y0 for b in boxes)
        top = axis.transAxes.inverted().transform((0, lowest - 6))[1]
        legend.set_bbox_to_anchor((0, min(top, -0.12)), transform=axis.transAxes)


def show_figure(figure: Any, alt: str, caption: str | None = None, narrow: bool = True) -> Any:
    """Display a chart in a notebook with alt text (see ``figure_html``)."""
    from IPython.display import HTML

    return HTML(figure_html(figure, alt, caption, narrow))


def _slug(text: str, used: set[str]) -> str:
    """An id for a heading from its HTML: its words (tags dropped, entities read as the
    characters they stand for), lower case, joined by hyphens; unique among ``used``."""
    words = html.unescape(re.sub(r"<[^>]+>", "", text)).lower()
    base = re.sub(r"[^a-z0-9]+", "-", words).strip("-") or "section"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def add_table_of_contents(body: str) -> tuple[str, str]:
    """Give every h2/h3 a stable id and build a table of contents from them.

    Returns (body with ids, the contents as an HTML ``<nav>``).
    """
    used: set[str] = set()
    entries: list[tuple[int, str, str]] = []

    def replace(match: re.Match[str]) -> str:
        level, inner = int(match.group(1)), match.group(3)
        slug = _slug(inner, used)
        entries.append((level, slug, re.sub(r"<[^>]+>", "", inner)))
        return f'<h{level} id="{slug}">{inner}</h{level}>'

    body = re.sub(r"<h([23])([^>]*)>(.*?)</h\1>", replace, body, flags=re.S)
    items = "".join(f'<li class="level-{lvl}"><a href="#{slug}">{text}</a></li>' for lvl, slug, text in entries)
    nav = f'<nav class="toc" aria-labelledby="toc-heading"><h2 id="toc-heading">Contents</h2><ul>{items}</ul></nav>'
    return body, nav


def _strip_for_publication(notebook: Any) -> Any:
    """Drop what must not be published: code, parameters, warnings and other stream output.

    The parameter cells go altogether: papermill gives the injected one a new random id on
    every run, which would make two runs' documents differ by that id alone."""
    from pipeline.orchestration.kernels import OUTPUTS_WRITTEN_TAG

    kept = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & {"parameters", "injected-parameters"}:
                continue
            if OUTPUTS_WRITTEN_TAG in tags:  # for the run's scheduler; not to appear in the page's markup
                cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != OUTPUTS_WRITTEN_TAG]
            if "remove" in tags:
                cell.outputs = []
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
        kept.append(cell)
    notebook.cells = kept
    return notebook


# Characters a CSS string in an HTML <style> element may hold as they are (no brackets, so no
# text reads as url(...)); every other one is written as a CSS hex escape, so no text from a params file can end the string, the rule or
# the <style> element itself (``</style>``).
_CSS_PLAIN = re.compile(r"[A-Za-z0-9 ,.:;!?_%/'-]")


def _css_string(text: str) -> str:
    """Text as a double-quoted CSS string literal, safe inside an HTML ``<style>`` element.

    Line breaks become spaces; anything but letters, digits, spaces and plain punctuation is
    a hex escape (``\\3c `` for ``<``), which CSS prints as the character itself."""
    flat = re.sub(r"[\r\n\f]+", " ", text)
    return '"' + "".join(c if _CSS_PLAIN.fullmatch(c) else f"\\{ord(c):x} " for c in flat) + '"'


# The published pages run nothing and fetch nothing: no script, no plug-in, no frame, and images
# and fonts from the page itself only. A slip in escaping anywhere is then inert in a browser.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'


_EXPORTER: Any = None
# One exporter for the process, used by one export at a time: each new HTMLExporter compiled
# its templates again (0.2 s an export), and exports are interpreter-bound, so two at once
# took as long as one after the other anyway.
_EXPORTER_LOCK = threading.Lock()


# nbconvert's default text for an image with no alt attribute (it adds it, and warns).
NO_ALT_TEXT = "No description has been provided for this image"


def _exporter_class() -> type:
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageBodyExporter(HTMLExporter):
        """nbconvert's HTML exporter without its last step, which parses the whole page
        with BeautifulSoup and writes it out again to give tabindex to JupyterLab-template
        cells (the basic template has none) and alt text to images without any (every chart
        here has its own; ``_default_alt_text`` covers any other). On the strategic
        assessment's 4 MB page that step took 0.6-0.7 s of a 1 s export."""

        def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any) -> tuple[str, dict[str, Any]]:
            # HTMLExporter.from_notebook_node's own steps (nbconvert 7.17) up to that parse.
            lexer = nb.metadata.get("language_info", {}).get("pygments_lexer", nb.metadata.get("language_info", {}).get("name"))
            self.register_filter("highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return PageBodyExporter


def _default_alt_text(body: str) -> str:
    """Give an image with no alt attribute nbconvert's default alt text, and say so in the log."""
    missing = 0

    def add(match: re.Match[str]) -> str:
        nonlocal missing
        if re.search(r"\salt\s*=", match.group(0), flags=re.I):
            return match.group(0)
        missing += 1
        return f'<img alt="{NO_ALT_TEXT}"' + match.group(0)[len("<img"):]

    body = re.sub(r"<img\b[^>]*>", add, body, flags=re.I)
    if missing:
        log.warning("Alternative text is missing on %d image(s).", missing)
    return body


def _to_html(notebook: Any) -> str:
    """The notebook's body as nbconvert's "basic" template writes it, without code or prompts."""
    global _EXPORTER
    with _EXPORTER_LOCK:
        if _EXPORTER is None:
            # optimistic_validation: the notebook is checked against nbformat's schema once, after
            # nbconvert's preprocessors, not after each of its twelve (0.1 s of the strategic
            # assessment's 0.26 s export).
            _EXPORTER = _exporter_class()(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                                          exclude_output_prompt=True, optimistic_validation=True)
        body, _ = _EXPORTER.from_notebook_node(notebook)
    return _default_alt_text(body)


def warm_up_exporter() -> None:
    """Import nbconvert and compile its HTML template by converting an empty notebook.

    The first export in a process otherwise pays about 2.5 s for both; a run calls this on
    a background thread while its first stages execute in their kernels, when this
    process is only waiting."""
    import nbformat

    _to_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Warm-up")]))


def export_html(notebook_path: Path, html_path: Path, title: str, lang: str = "en-GB", sample_label: str = "") -> Path:
    """Convert an executed notebook to a self-contained, accessible HTML page without code.

    Printed, every page carries the title (which names the area and window) and the page
    number at its foot, and ``sample_label`` (if any) at its head.
    """
    # Imported here: nbformat's schema validation takes seconds to import, and only publishing needs it.
    import nbformat

    notebook = _strip_for_publication(nbformat.read(notebook_path, as_version=4))
    body = _to_html(notebook)
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body)
    # The first h1 is the document title; the contents list follows it.
    h1 = re.search(r"<h1[^>]*>.*?</h1>", body, flags=re.S)
    body, nav = add_table_of_contents(body)
    if h1:
        body = body.replace(h1.group(0), h1.group(0) + nav, 1)
    else:
        body = nav + body
    page = (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang, quote=True)}">\n<head>\n<meta charset="utf-8">\n{CSP_META}\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLESHEET}{_print_margins(title, sample_label)}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")
    log.debug("Wrote %s", html_path)
    return html_path


def _print_margins(title: str, sample_label: str = "") -> str:
    """Page margin boxes: the title at the foot left, 'Page n of N' at the foot right, any sample label at the head."""
    box = "font: 8pt Arial, Helvetica, sans-serif; color: #505a5f;"
    rules = (
        f"@bottom-left {{ content: {_css_string(title)}; {box} }} "
        f'@bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} white-space: nowrap; }}'
    )
    if sample_label:
        rules += f" @top-left {{ content: {_css_string(sample_label)}; {box} color: #d4351c; font-weight: bold; }}"
    return f"\n@page {{ {rules} }}\n@page wide {{ {rules} }}\n"


def export_pdf(html_path: Path) -> Path:
    """Print a published HTML document to an A4 PDF beside it, with WeasyPrint.

    WeasyPrint follows the document's print stylesheet: landscape pages for wide tables,
    repeated table headers, and the title, period, page number and sample labels in the
    page margins. Nothing is fetched: the document embeds its images and styles.
    """
    import weasyprint

    # WeasyPrint logs every CSS property it does not support (screen-only rules) as a warning.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf_path = html_path.with_suffix(".pdf")
    weasyprint.HTML(filename=str(html_path)).write_pdf(str(pdf_path))
    log.debug("Wrote %s", pdf_path)
    return pdf_path


def tables_workbook(folder: Path, path: Path) -> Path | None:
    """Every CSV table of a run in one xlsx workbook: a sheet per table, header row frozen and filtered.

    For analysts who work in Excel. The values are the CSVs' (symbols already written as
    words, text that a spreadsheet would run already neutralised). None if there are no tables.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    tables = sorted(folder.glob("*.csv"))
    if not tables:
        return None
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for csv_path in tables:
        frame = pd.read_csv(csv_path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        name, n = csv_path.stem[:31], 2
        while name.lower() in used:  # Excel sheet names: at most 31 characters, unique ignoring case
            name, n = f"{csv_path.stem[:28]}-{n}", n + 1
        used.add(name.lower())
        sheet = workbook.create_sheet(name)
        sheet.append([str(c) for c in frame.columns])
        for record in frame.itertuples(index=False, name=None):
            sheet.append([None if isinstance(v, float) and pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in record])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    workbook.save(path)
    return path


def replace_folder_atomically(staging: Path, final: Path) -> None:
    """Put a finished run's folder in place of the last published one.

    The old folder is moved aside first and removed only once the new one is in place,
    so at every moment one complete set of outputs exists; on failure the old one is
    put back. Only folders the pipeline created (``pipeline.orchestration.safety``) are ever removed:
    anything else in the way is refused, never deleted.
    """
    from pipeline.orchestration.safety import UnsafeLocationError, is_pipeline_folder, remove_our_folder, sibling_folders

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


def paragraph(text: str, css_class: str | None = None) -> Any:
    """A paragraph of generated text for a notebook, escaped."""
    from IPython.display import HTML

    attribute = f' class="{css_class}"' if css_class else ""
    return HTML(f"<p{attribute}>{html.escape(text)}</p>")


def bullet_list(items: list[str]) -> Any:
    """A bulleted list of generated sentences for a notebook, escaped."""
    from IPython.display import HTML

    return HTML("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")


def heading(text: str, level: int = 1) -> Any:
    """A heading whose text is generated (e.g. the area's name), escaped."""
    from IPython.display import HTML

    return HTML(f"<h{level}>{html.escape(text)}</h{level}>")


def detail_blocks(frame: pd.DataFrame, heading_column: str, fields: list[str], level: int = 3) -> Any:
    """Each row as a heading and a list of its fields: for long text that a table would cramp."""
    from IPython.display import HTML

    parts = []
    for _, row in frame.iterrows():
        parts.append(f"<h{level}>{html.escape(str(row[heading_column]))}</h{level}><dl class=\"blocks\">")
        for field in fields:
            value = row[field]
            if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
                continue
            parts.append(f"<dt>{html.escape(field)}</dt><dd>{html.escape(str(value))}</dd>")
        parts.append("</dl>")
    return HTML("".join(parts))
