"""Maps for the published documents: classed LSOA maps with ward outlines, drawn offline.

Each function returns ``(figure, alt_text)`` like ``pipeline.documents.charts``. Maps are drawn
with geopandas and matplotlib from the run's own boundary files (no tiles, nothing
fetched). Disclosure control applies: an LSOA whose count is suppressed is drawn hatched
and explained in the legend, never shaded by its count. Colours are ColorBrewer schemes
marked colour-blind safe (YlOrRd for levels, PuOr for change), in classes whose legend
says what each means.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.analysis.trends import and_list  # noqa: E402

# pyplot is imported by each function that draws (see ``pipeline.documents.charts``: a rerun whose maps
# are all reused draws nothing).
if TYPE_CHECKING:
    import geopandas as gpd
    import matplotlib.pyplot as plt

LEVEL_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # ColorBrewer YlOrRd, 5 classes
CHANGE_COLOURS = ["#5e3c99", "#b2abd2", "#f7f7f7", "#fdb863", "#e66101"]  # ColorBrewer PuOr: fall purple, rise orange
NONE_COLOUR = "#ffffff"
SUPPRESSED_HATCH = "////"
EDGE_COLOUR = "#6f777b"
WARD_COLOUR = "#0b0c0c"
HOTSPOT_COLOURS = {"Persistent": "#bd0026", "New": "#fd8d3c", "": "#f3f2f1"}
NARROW_HIDE = "narrow-hide"  # gid of text that the phone version of a chart leaves out (see figures._narrow_png)


def nice_number(value: float) -> float:
    """``value`` rounded to a round number near it (1, 2, 2.5 or 5 times a power of ten), for class breaks."""
    if value <= 0 or not math.isfinite(value):
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    return min((f * power for f in (1, 2, 2.5, 5, 10)), key=lambda x: abs(x - value))


def level_breaks(values: np.ndarray, classes: int = 5) -> list[float]:
    """Lower bounds of up to ``classes`` classes for positive values: the first is the smallest
    value; the others are the 20th, 40th, ... percentiles rounded to round numbers, repeats dropped.
    A value belongs to the highest class whose lower bound it reaches."""
    positive = np.sort(np.asarray(values, dtype=float)[np.asarray(values, dtype=float) > 0])
    if positive.size == 0:
        return []
    breaks = [float(positive[0])]
    for q in np.linspace(0, 1, classes + 1)[1:-1]:
        candidate = nice_number(float(np.quantile(positive, q)))
        if candidate > breaks[-1] and candidate <= positive[-1]:
            breaks.append(candidate)
    return breaks


def _number(value: float, whole: bool) -> str:
    return f"{value:,.0f}" if whole else f"{value:,.1f}"


def level_labels(breaks: list[float], top: float, whole: bool) -> list[str]:
    """Legend text for each class: "6 to 24", ..., "100 to 312" (whole numbers), or
    "2.0 to under 5.0" (rates)."""
    labels = []
    for index, low in enumerate(breaks):
        high = breaks[index + 1] if index + 1 < len(breaks) else None
        if high is None:
            labels.append(f"{_number(low, whole)} to {_number(top, whole)}")
        elif whole:
            labels.append(f"{_number(low, True)} to {_number(high - 1, True)}")
        else:
            labels.append(f"{_number(low, False)} to under {_number(high, False)}")
    return labels


def classify(values: pd.Series, breaks: list[float]) -> pd.Series:
    """The class index (0 = lowest) of each positive value; -1 for zero or missing."""
    index = np.searchsorted(np.asarray(breaks), values.to_numpy(dtype=float), side="right") - 1
    return pd.Series(np.where(values.to_numpy(dtype=float) > 0, index, -1), index=values.index)


def _part(x: float, y: float, bounds: np.ndarray) -> str:
    """Which ninth of the area's bounding box a point is in, in words ("the north-west", "the centre")."""
    minx, miny, maxx, maxy = bounds
    column = ["west", "", "east"][min(2, max(0, int(3 * (x - minx) / max(maxx - minx, 1))))]
    row = ["south", "", "north"][min(2, max(0, int(3 * (y - miny) / max(maxy - miny, 1))))]
    return f"the {row}-{column}" if row and column else f"the {row or column}" if (row or column) else "the centre"


def _position(points: "gpd.GeoSeries", bounds: np.ndarray) -> str:
    """Where a set of places lies, in words: the part of the area (a ninth of its bounding box)
    holding most of them, with how many ("9 of them in the south-west"), or "spread across
    the area" when no part holds at least a third."""
    parts = pd.Series([_part(p.x, p.y, bounds) for p in points]).value_counts()
    if parts.empty or parts.iloc[0] * 3 < len(points):
        return "spread across the area"
    return f"{parts.iloc[0]} of them in {parts.index[0]} of the area"


def _title(text: str, width: int = 70) -> str:
    """A map title wrapped to lines of at most ``width`` characters, so it never widens the figure."""
    return textwrap.fill(text, width)


def _lower_first(text: str) -> str:
    """Lower-case the first letter only ("Crime (excluding ASB)" -> "crime (excluding ASB)"),
    and leave an acronym alone ("ASB" stays "ASB")."""
    if text[:2].isupper():
        return text
    return text[:1].lower() + text[1:]


@dataclass
class MapLayers:
    """What every LSOA map draws: the area's LSOA polygons (with lsoa_code), ward polygons
    (ward_code, ward_name) or None, and the attribution line."""

    lsoas: "gpd.GeoDataFrame"
    wards: "gpd.GeoDataFrame | None"
    attribution: str


def _draw(
    layers: MapLayers, colours: pd.Series, hatched: pd.Series, legend: list[tuple[str, str, bool]], title: str
) -> plt.Figure:
    import matplotlib.patheffects as path_effects
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    minx, miny, maxx, maxy = layers.lsoas.total_bounds
    aspect = (maxy - miny) / max(maxx - minx, 1)
    figure, axis = plt.subplots(figsize=(8, min(11, 8 * aspect + 1.6)))
    shaded = layers.lsoas.assign(colour=colours.to_numpy())
    shaded[~hatched.to_numpy()].plot(
        ax=axis, color=shaded.loc[~hatched.to_numpy(), "colour"], edgecolor=EDGE_COLOUR, linewidth=0.25
    )
    if hatched.any():
        shaded[hatched.to_numpy()].plot(
            ax=axis, facecolor=NONE_COLOUR, edgecolor=EDGE_COLOUR, hatch=SUPPRESSED_HATCH, linewidth=0.25
        )
    if layers.wards is not None and len(layers.wards):
        # Wards are clipped to the area: a ward's detached part (an island in an estuary)
        # would otherwise be drawn as a stray line off the map.
        outline = layers.wards.clip(layers.lsoas.union_all().buffer(50))
        outline.boundary.plot(ax=axis, color=WARD_COLOUR, linewidth=0.9)
        halo = [path_effects.withStroke(linewidth=2.2, foreground="white")]
        for _, ward in layers.wards.iterrows():
            point = ward.geometry.representative_point()
            axis.text(
                point.x,
                point.y,
                ward["ward_name"],
                fontsize=6,
                ha="center",
                va="center",
                color=WARD_COLOUR,
                path_effects=halo,
                gid=NARROW_HIDE,
            )
    axis.set_axis_off()
    axis.set_aspect("equal")
    axis.set_title(_title(title), loc="left", fontsize=11)
    handles = [
        Patch(facecolor=colour, edgecolor=EDGE_COLOUR, hatch=SUPPRESSED_HATCH if hatch else None, label=label)
        for label, colour, hatch in legend
    ]
    if layers.wards is not None and len(layers.wards):
        handles.append(Patch(facecolor="none", edgecolor=WARD_COLOUR, linewidth=1.2, label="Ward boundary"))
    axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.01), ncol=2, fontsize=8, frameon=False)
    figure.text(0.01, 0.005, layers.attribution, fontsize=6, color="#505a5f", wrap=True)
    figure.tight_layout()
    return figure


def _wards_of(layers: MapLayers, codes: list[str], ward_of: dict[str, str]) -> str:
    """The (up to) three wards holding most of ``codes``, as words ("" if none is known)."""
    counts = pd.Series([ward_of[c] for c in codes if isinstance(ward_of.get(c), str)], dtype=object).value_counts()
    return and_list(list(counts.index[:3])) if len(counts) else ""


def level_map(
    layers: MapLayers,
    values: pd.Series,
    counts: pd.Series,
    threshold: int,
    what: str,
    unit: str,
    period: str,
    ward_of: dict[str, str] | None = None,
) -> tuple[plt.Figure, str]:
    """A classed map of a count or rate per LSOA (``values``, indexed like ``layers.lsoas``).

    ``counts`` are the underlying counts: where one is from 1 to ``threshold`` the LSOA is
    hatched as suppressed and its value takes no part in the classes. ``unit`` names what
    a value is ("crimes", "crimes per 1,000 residents a year").
    """

    ward_of = ward_of or {}
    suppressed = counts.between(1, threshold) if threshold else pd.Series(False, index=counts.index)
    shown = values.where(~suppressed)
    whole = bool(np.allclose(shown.dropna(), shown.dropna().round()))
    breaks = level_breaks(shown.dropna().to_numpy(), len(LEVEL_COLOURS))
    classes = classify(shown.fillna(0), breaks)
    colours = pd.Series([LEVEL_COLOURS[c] if c >= 0 else NONE_COLOUR for c in classes], index=values.index)
    labels = level_labels(breaks, float(shown.max()) if breaks else 0.0, whole)
    legend = [(f"{label} {unit}", LEVEL_COLOURS[i], False) for i, label in enumerate(labels)]
    if ((shown == 0) & ~suppressed).any():
        legend.insert(0, ("None recorded", NONE_COLOUR, False))
    if suppressed.any():
        legend.append((f"Suppressed: 1 to {threshold} {unit.split()[0]}", NONE_COLOUR, True))
    figure = _draw(layers, colours, suppressed, legend, f"{what} by LSOA, {period}")
    alt = f"Map of {_lower_first(what)} by LSOA in {period}, in {len(breaks)} shaded classes of {unit}"
    if breaks:
        top = classes == len(breaks) - 1
        codes = list(layers.lsoas.loc[top.to_numpy(), "lsoa_code"])
        centres = layers.lsoas.loc[top.to_numpy()].geometry.representative_point()
        alt += (
            f". The highest class ({labels[-1]}) holds {len(codes)} of the {len(values)} LSOAs, "
            f"{_position(centres, layers.lsoas.total_bounds)}"
        )
        wards = _wards_of(layers, codes, ward_of)
        if wards:
            alt += f" (the wards with most of them: {wards})"
    else:
        alt += ". No LSOA has a value to shade"
    if suppressed.any():
        alt += f". {int(suppressed.sum())} LSOAs with 1 to {threshold} are hatched as suppressed"
    return figure, alt + ". The figures are in the table that follows and in its CSV."


def change_breaks(changes: np.ndarray) -> tuple[float, float]:
    """The two round numbers that split changes into five classes: a fall or rise of at least
    ``big``, of ``small`` to ``big`` - 1, or less than ``small`` either way. ``small`` is near
    the median size of change and ``big`` near its 80th percentile (at least ``small`` + 1)."""
    sizes = np.abs(np.asarray(changes, dtype=float))
    if sizes.size == 0:
        return 1.0, 2.0
    small = max(1.0, nice_number(float(np.quantile(sizes, 0.5))))
    big = max(small + 1, nice_number(float(np.quantile(sizes, 0.8))))
    return small, big


def change_map(
    layers: MapLayers,
    before: pd.Series,
    after: pd.Series,
    threshold: int,
    what: str,
    period: str,
    ward_of: dict[str, str] | None = None,
) -> tuple[plt.Figure, str]:
    """A map of the like-for-like change in count per LSOA (``after - before``), in five
    classes; an LSOA with either count from 1 to ``threshold`` is hatched as suppressed
    (its change would reveal the count)."""

    ward_of = ward_of or {}
    suppressed = (
        before.between(1, threshold) | after.between(1, threshold)
        if threshold
        else pd.Series(False, index=before.index)
    )
    change = (after - before).where(~suppressed)
    small, big = change_breaks(change.dropna().to_numpy())
    index = np.select([change <= -big, change <= -small, change < small, change < big], [0, 1, 2, 3], default=4)
    colours = pd.Series([CHANGE_COLOURS[i] for i in index], index=before.index)
    s, b = _number(small, True), _number(big, True)
    legend = [
        (f"Fell by {b} or more", CHANGE_COLOURS[0], False),
        (f"Fell by {s} to {_number(big - 1, True)}", CHANGE_COLOURS[1], False),
        (f"Changed by fewer than {s}", CHANGE_COLOURS[2], False),
        (f"Rose by {s} to {_number(big - 1, True)}", CHANGE_COLOURS[3], False),
        (f"Rose by {b} or more", CHANGE_COLOURS[4], False),
    ]
    if suppressed.any():
        legend.append((f"Suppressed: a count of 1 to {threshold}", NONE_COLOUR, True))
    figure = _draw(layers, colours, suppressed, legend, f"Change in {_lower_first(what)} by LSOA, {period}")
    shown = ~suppressed.to_numpy()
    rose = shown & (index >= 4)
    fell = shown & (index <= 0)
    alt = f"Map of the change in {_lower_first(what)} by LSOA, {period}, in five classes. "
    parts = []
    for label, mask in ((f"rose by {b} or more", rose), (f"fell by {b} or more", fell)):
        if mask.any():
            codes = list(layers.lsoas.loc[mask, "lsoa_code"])
            wards = _wards_of(layers, codes, ward_of)
            place = _position(layers.lsoas.loc[mask].geometry.representative_point(), layers.lsoas.total_bounds)
            parts.append(
                f"{len(codes)} LSOAs {label}, {place}" + (f" (the wards with most of them: {wards})" if wards else "")
            )
    alt += ("; ".join(parts) + ". ") if parts else f"No LSOA changed by as much as {b}. "
    if suppressed.any():
        alt += f"{int(suppressed.sum())} LSOAs are hatched as suppressed. "
    return figure, alt + "The changes are in the ward table and the CSV files."


def hotspot_map(
    layers: MapLayers, status: pd.Series, what: str, years_text: str, ward_of: dict[str, str] | None = None
) -> tuple[plt.Figure, str]:
    """A map of persistent and new hotspots (``status`` "Persistent", "New" or "" per LSOA)."""

    ward_of = ward_of or {}
    colours = status.map(HOTSPOT_COLOURS).fillna(HOTSPOT_COLOURS[""])
    legend = [
        ("Persistent: in the top 10% of LSOAs in each year", HOTSPOT_COLOURS["Persistent"], False),
        ("New: in the top 10% in the latest year only", HOTSPOT_COLOURS["New"], False),
        ("Other LSOAs", HOTSPOT_COLOURS[""], False),
    ]
    figure = _draw(
        layers,
        colours,
        pd.Series(False, index=status.index),
        legend,
        f"Persistent and new hotspots of {_lower_first(what)}, {years_text}",
    )
    alt = f"Map of LSOAs that are persistent or new hotspots of {_lower_first(what)}, {years_text}. "
    for label in ("Persistent", "New"):
        mask = (status == label).to_numpy()
        if mask.any():
            codes = list(layers.lsoas.loc[mask, "lsoa_code"])
            wards = _wards_of(layers, codes, ward_of)
            place = _position(layers.lsoas.loc[mask].geometry.representative_point(), layers.lsoas.total_bounds)
            alt += (
                f"{len(codes)} {label.lower()}, {place}"
                + (f" (the wards with most of them: {wards})" if wards else "")
                + ". "
            )
        else:
            alt += f"No {label.lower()} hotspot. "
    return figure, alt + "They are listed in the table that follows."
