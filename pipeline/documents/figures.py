"""Charts in the published documents: embedded PNG with alt text, cropped to their ink,
and drawn again for phones (a narrow version with larger text, titles wrapped, legends
below the plot, small multiples in one column)."""

from __future__ import annotations

import base64
import html
import io
import logging
import textwrap
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


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
        image = (
            f'<picture><source media="(max-width: 40em)" srcset="data:image/png;base64,{narrow_data}">{image}</picture>'
        )
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
        figure.savefig(
            buffer, format="png", dpi=CHART_DPI, bbox_inches="tight", pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL}
        )
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
    return picture[
        max(0, rows[0] - pad) : min(height, rows[-1] + 1 + pad),
        max(0, columns[0] - pad) : min(width, columns[-1] + 1 + pad),
    ]


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
        if (
            not artist.get_visible()
            or id(artist) in tick_labels
            or (isinstance(artist, Text) and not artist.get_text())
        ):
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
    titles = [(figure._suptitle, NARROW_SUPTITLE_ROOM)] + [
        (t, NARROW_TITLE_ROOM) for a in figure.axes for t in (a.title, a._left_title, a._right_title)
    ]
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
        for row, axis in enumerate(
            sorted(panels, key=lambda a: (a.get_subplotspec().rowspan.start, a.get_subplotspec().colspan.start))
        ):
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
    return legend.axes.legend(
        legend.legend_handles,
        labels,
        ncol=ncol,
        loc="upper left",
        bbox_to_anchor=anchor,
        fontsize=legend.get_texts()[0].get_fontsize(),
    )


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
        boxes = [
            t.get_window_extent(renderer)
            for t in (axis.xaxis.label, *axis.get_xticklabels())
            if t.get_visible() and t.get_text()
        ]
        if not boxes:
            continue
        lowest = min(b.y0 for b in boxes)
        top = axis.transAxes.inverted().transform((0, lowest - 6))[1]
        legend.set_bbox_to_anchor((0, min(top, -0.12)), transform=axis.transAxes)


def show_figure(figure: Any, alt: str, caption: str | None = None, narrow: bool = True) -> Any:
    """Display a chart in a notebook with alt text (see ``figure_html``)."""
    from IPython.display import HTML

    return HTML(figure_html(figure, alt, caption, narrow))
