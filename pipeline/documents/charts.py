"""Charts for the published documents, each returned with alt text written from its data.

A chart without alt text cannot be published (``figures.figure_html`` refuses it), so
every function here returns ``(figure, alt_text)``. Missing months are drawn as gaps,
never as zeros.

Why one module: every chart shares one theme (``THEME``), one palette and the same
rules for alt text and small numbers; they are drawn by the report and the reviews alike.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")  # published charts are rendered to PNG; no screen is needed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from cycler import cycler  # noqa: E402

from pipeline.months import month_label, month_range  # noqa: E402

# pyplot is imported by each function that draws, not here: the report's kernel imports this
# module before every run, and after a moderation edit every chart is reused from the last
# run (``pipeline.documents.chart_cache``), so nothing is drawn and pyplot's half a second is not needed.
if TYPE_CHECKING:
    import matplotlib.pyplot as plt

# seaborn's "whitegrid" style in its "notebook" context with its "deep" palette: the
# settings ``sns.set_theme(style="whitegrid", context="notebook")`` makes, written out so
# that drawing a chart does not import seaborn and, through it, scipy.stats (about 1 s of
# every kernel's start). A test checks them against seaborn's own. Left as matplotlib has
# it: image.cmap (seaborn's "rocket" exists only once seaborn is imported; every chart
# names its colours). Added: titles sit at the top of their axes (no chart has tick labels
# above them) and tick labels never use "+1e4" offsets; left to work that out, matplotlib
# measured every axis's tick labels again for each title at every draw.
THEME: dict[str, Any] = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 12.0,
    "axes.linewidth": 1.25,
    "axes.prop_cycle": cycler(
        "color",
        [
            (0.2980392156862745, 0.4470588235294118, 0.6901960784313725),
            (0.8666666666666667, 0.5176470588235295, 0.3215686274509804),
            (0.3333333333333333, 0.6588235294117647, 0.40784313725490196),
            (0.7686274509803922, 0.3058823529411765, 0.3215686274509804),
            (0.5058823529411764, 0.4470588235294118, 0.7019607843137254),
            (0.5764705882352941, 0.47058823529411764, 0.3764705882352941),
            (0.8549019607843137, 0.5450980392156862, 0.7647058823529411),
            (0.5490196078431373, 0.5490196078431373, 0.5490196078431373),
            (0.8, 0.7254901960784313, 0.4549019607843137),
            (0.39215686274509803, 0.7098039215686275, 0.803921568627451),
        ],
    ),
    "axes.titlesize": 12.0,
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": 12.0,
    "grid.color": ".8",
    "grid.linewidth": 1.0,
    "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.labelsize": 11.0,
    "xtick.major.size": 6.0,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0,
    "ytick.color": ".15",
    "ytick.labelsize": 11.0,
    "ytick.left": False,
    "ytick.major.size": 6.0,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4.0,
    "ytick.minor.width": 1.0,
}
EXTRA_SETTINGS = {"axes.titley": 1.0, "axes.formatter.useoffset": False}
matplotlib.rcParams.update({**THEME, **EXTRA_SETTINGS})
AREA_COLOUR = "#1d70b8"
OTHER_COLOUR = "#b1b4b6"
WINDOW_COLOUR = "#ffdd00"


def _lower_first(text: str) -> str:
    """Lower-case the first letter only, for a label inside a sentence ("... excluding ASB" keeps ASB)."""
    return text[:1].lower() + text[1:]


def monthly_small_multiples(
    monthly: pd.DataFrame, first: str, last: str, window: list[str], area: str, columns: list[str]
) -> tuple[plt.Figure, str]:
    """Monthly counts for several crime types, one panel each, assessment window shaded.

    ``monthly`` holds usable months only (rows) by crime type (columns); months from
    ``first`` to ``last`` that it lacks are drawn as gaps.
    """
    import matplotlib.pyplot as plt

    months = month_range(first, last)
    full = monthly.reindex(months)  # missing months become NaN: a gap, not a zero
    missing = [m for m in months if m not in monthly.index]
    n = len(columns)
    cols = 2
    rows = int(np.ceil(n / cols))
    figure, axes = plt.subplots(rows, cols, figsize=(10, 2.6 * rows), sharex=True, squeeze=False)
    x = np.arange(len(months))
    start, end = months.index(window[0]), months.index(window[-1])
    for axis, column in zip(axes.flat, columns):
        axis.axvspan(start - 0.5, end + 0.5, color=WINDOW_COLOUR, alpha=0.35, lw=0)
        axis.plot(x, full[column].to_numpy(dtype=float), color=AREA_COLOUR, marker="o", markersize=2.5)
        axis.set_title(column, fontsize=10, loc="left")
        axis.set_ylim(bottom=0)
        axis.set_ylabel("per month", fontsize=8)
    for axis in axes.flat[n:]:
        axis.set_visible(False)
    ticks = [i for i, m in enumerate(months) if m.endswith("-01") or i == 0]
    for axis in axes[-1]:
        axis.set_xticks(ticks, [month_label(months[i]) for i in ticks], rotation=0, fontsize=8)
    figure.suptitle(f"Police recorded crime per month, {area}", x=0.01, ha="left", fontsize=12)
    figure.tight_layout()
    ranges = "; ".join(
        f"{c} {int(np.nanmin(full[c])):,} to {int(np.nanmax(full[c])):,}" for c in columns if full[c].notna().any()
    )
    alt = (
        f"Line charts, one per crime type, of police recorded crime per month in {area} from "
        f"{month_label(first)} to {month_label(last)}, with the assessment window "
        f"({month_label(window[0])} to {month_label(window[-1])}) shaded. Monthly counts ranged: {ranges}."
    )
    if missing:
        alt += " No data for " + ", ".join(month_label(m) for m in missing) + ", shown as a gap."
    return figure, alt


def comparator_bars(rates: pd.DataFrame, column: str, label: str, area: str) -> tuple[plt.Figure, str]:
    """Horizontal bars of a rate per 1,000 for each area, the assessed area highlighted."""
    import matplotlib.pyplot as plt

    ordered = rates.sort_values(column)
    figure, axis = plt.subplots(figsize=(8, 0.6 * len(ordered) + 1.2))
    colours = [AREA_COLOUR if a == area else OTHER_COLOUR for a in ordered["area"]]
    axis.barh(ordered["area"], ordered[column], color=colours)
    for y, value in enumerate(ordered[column]):
        axis.text(value, y, f" {value:.1f}", va="center", fontsize=9)
    axis.set_xlabel(label)
    axis.set_ylabel("")
    axis.margins(x=0.15)
    figure.tight_layout()
    listed = "; ".join(f"{r['area']} {r[column]:.1f}" for _, r in ordered.iloc[::-1].iterrows())
    alt = f"Bar chart of {_lower_first(label)} by area, highest first: {listed}. {area} is highlighted."
    return figure, alt


def survey_intervals(rows: pd.DataFrame, label: str, sample: bool) -> tuple[plt.Figure, str]:
    """Weighted % by year with 95% interval bars, for one indicator (suppressed years left out)."""
    import matplotlib.pyplot as plt

    shown = rows[~rows["suppressed"].astype(bool)].sort_values("year")
    figure, axis = plt.subplots(figsize=(7, 3.2))
    years = shown["year"].astype(str).tolist()
    axis.errorbar(
        years,
        shown["percent"],
        yerr=[shown["percent"] - shown["ci_low"], shown["ci_high"] - shown["percent"]],
        fmt="o",
        color=AREA_COLOUR,
        ecolor=AREA_COLOUR,
        capsize=6,
        markersize=7,
    )
    for x, (_, r) in enumerate(shown.iterrows()):
        axis.annotate(
            f"{r['percent']:.0f}%", (x, r["percent"]), textcoords="offset points", xytext=(10, -3), fontsize=9
        )
    axis.set_ylim(0, min(100, max(10, float(shown["ci_high"].max()) * 1.25)) if len(shown) else 100)
    axis.set_ylabel("weighted %")
    # A long title wraps; the sample label is never cut off.
    title = "\n".join(textwrap.wrap(label, 60)) + ("\n(synthetic sample)" if sample else "")
    axis.set_title(title, fontsize=10, loc="left")
    figure.tight_layout()
    points = "; ".join(
        f"{r['year']}: {r['percent']:.1f}% (95% CI {r['ci_low']:.1f}% to {r['ci_high']:.1f}%)"
        for _, r in shown.iterrows()
    )
    alt = (
        f"Chart of {label}{' in the synthetic sample survey' if sample else ''} by year, with 95% confidence "
        f"interval bars: {points}."
    )
    return figure, alt


def relative_luminance(rgb: tuple[float, ...]) -> float:
    """WCAG relative luminance of an sRGB colour given as 0-1 components."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: tuple[float, ...], second: tuple[float, ...]) -> float:
    """WCAG contrast ratio (1 to 21) between two sRGB colours."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_colour_for(background: tuple[float, ...]) -> str:
    """Black or white text, whichever has the higher contrast with ``background``."""
    return (
        "#0b0c0c"
        if contrast_ratio(background, (0.043, 0.047, 0.047)) >= contrast_ratio(background, (1, 1, 1))
        else "#ffffff"
    )


def _heatmap_colours() -> Any:
    """Blues without its middle shades: from 0 to 0.65 and from 0.76 to 1 of the scale.

    Between about 0.66 and 0.75 neither black nor white text reaches 4.5:1, so numbers on
    those cells would fail WCAG 1.4.3; the two halves keep the light-to-dark order.
    """
    from matplotlib.colors import ListedColormap

    blues = matplotlib.colormaps["Blues"]
    light, dark = np.linspace(0.0, 0.65, 128), np.linspace(0.76, 1.0, 128)
    return ListedColormap([blues(float(v)) for v in np.concatenate([light, dark])], name="BluesLegible")


HEATMAP_COLOURS = _heatmap_colours()


def _heatmap(
    axis: Any,
    grid: pd.DataFrame,
    colours: Any,
    label: str,
    line_width: float,
    vmin: float | None = None,
    vmax: float | None = None,
) -> None:
    """A grid of cells coloured by value, as seaborn.heatmap draws one: white lines between the
    cells, the grid's first row at the top, every row and column labelled at its centre, a
    colour bar labelled ``label`` without an outline, no axis lines or grid. Blank cells are
    left empty. ``vmin``/``vmax``: the ends of the colour scale (default: the grid's range)."""
    values = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    mesh = axis.pcolormesh(values, cmap=colours, vmin=vmin, vmax=vmax, linewidths=line_width, edgecolor="white")
    axis.set(xlim=(0, values.shape[1]), ylim=(0, values.shape[0]))
    axis.invert_yaxis()
    axis.grid(False)
    for spine in axis.spines.values():
        spine.set_visible(False)
    axis.set_xticks(np.arange(values.shape[1]) + 0.5, [str(c) for c in grid.columns])
    axis.set_yticks(np.arange(values.shape[0]) + 0.5, [str(i) for i in grid.index], rotation=0, va="center")
    colour_bar = axis.figure.colorbar(mesh, ax=axis, label=label)
    colour_bar.outline.set_linewidth(0)


def morile_heatmap(values: pd.DataFrame, model: Any, order: list[str], sample: bool) -> tuple[plt.Figure, str]:
    """Heatmap of each threat's factor scores (as a share of the factor's scale), threats in rank order."""
    import matplotlib.pyplot as plt

    factors = model.factors
    wide = values.pivot(index="threat", columns="factor", values="value").reindex(
        index=order, columns=[f.id for f in factors]
    )
    share = wide.copy()
    for f in factors:
        levels = [lv.value for lv in model.levels(f)]
        share[f.id] = (wide[f.id] - min(levels)) / (max(levels) - min(levels))
    figure, axis = plt.subplots(figsize=(11, 0.45 * len(order) + 2.5))
    _heatmap(axis, share, HEATMAP_COLOURS, "share of the factor's scale", 0.5, vmin=0, vmax=1)
    # Each number in black or white, whichever contrasts more with its cell (at least 4.5:1).
    colours = HEATMAP_COLOURS
    for row, threat in enumerate(wide.index):
        for column, factor in enumerate(wide.columns):
            value = wide.loc[threat, factor]
            if pd.isna(value):
                continue
            background = colours(float(share.loc[threat, factor]))
            axis.text(
                column + 0.5,
                row + 0.5,
                f"{value:g}",
                ha="center",
                va="center",
                fontsize=9,
                color=text_colour_for(background),
            )
    axis.set_xticklabels([model.column_header(f) for f in factors], rotation=45, ha="right", fontsize=8)
    axis.set_xlabel("")
    axis.set_ylabel("")
    axis.set_title("Factor scores by threat" + (" (illustrative sample)" if sample else ""), loc="left", fontsize=11)
    figure.tight_layout()
    top = wide.sum(axis=1).idxmax()
    alt = (
        f"Heatmap of {len(factors)} factor scores for {len(order)} threats"
        f"{' from illustrative sample scores' if sample else ''}, threats in rank order from {order[0]} to "
        f"{order[-1]}; "
        f"darker cells are higher on their factor's scale. The highest total of factor values is for {top}."
    )
    return figure, alt


def trend_forecast(
    series: pd.Series,
    first: str,
    forecast: pd.DataFrame,
    limits: pd.Series,
    exception_months: list[str],
    window: list[str],
    crime_type: str,
    area: str,
) -> tuple[plt.Figure, str]:
    """Monthly counts with XmR limits, exceptions marked, and the 12-month forecast with 80%/95% bands."""
    import matplotlib.pyplot as plt

    last = series.index.max()
    horizon = list(forecast["month"]) if len(forecast) else []
    months = month_range(first, horizon[-1] if horizon else last)
    position = {m: i for i, m in enumerate(months)}
    full = series.reindex(month_range(first, last)).astype(float)
    figure, axis = plt.subplots(figsize=(10, 3.8))
    axis.axvspan(
        position[window[0]] - 0.5,
        position[window[-1]] + 0.5,
        color=WINDOW_COLOUR,
        alpha=0.3,
        lw=0,
        label="assessment window",
    )
    axis.plot(
        [position[m] for m in full.index],
        full.to_numpy(),
        color=AREA_COLOUR,
        marker="o",
        markersize=2.5,
        label="recorded",
    )
    has_limits = bool(np.isfinite(limits["upper"]))
    if has_limits:
        axis.axhline(limits["upper"], color="#505a5f", ls=":", lw=1, label="control limits (XmR)")
        axis.axhline(limits["lower"], color="#505a5f", ls=":", lw=1)
    if exception_months:
        axis.scatter(
            [position[m] for m in exception_months],
            series.loc[exception_months],
            s=60,
            facecolors="none",
            edgecolors="#d4351c",
            linewidths=2,
            label="outside limits",
            zorder=5,
        )
    if horizon:
        x = [position[m] for m in horizon]
        axis.fill_between(
            x,
            forecast["low95"],
            forecast["high95"],
            color=AREA_COLOUR,
            alpha=0.12,
            lw=0,
            label="95% prediction interval",
        )
        method = forecast["method"].iloc[0] if "method" in forecast else "forecast"
        label = "forecast: last year's months" if method == "seasonal naive" else f"forecast ({method})"
        axis.plot(x, forecast["expected"], color=AREA_COLOUR, ls="--", label=label)
    ticks = [i for i, m in enumerate(months) if m.endswith("-01")]
    axis.set_xticks(ticks, [month_label(months[i]) for i in ticks], fontsize=8)
    axis.set_ylim(bottom=0)
    axis.set_ylabel("per month")
    axis.set_title(f"{crime_type}, {area}", loc="left", fontsize=11)
    axis.legend(fontsize=7, ncol=3, loc="lower left")
    figure.tight_layout()
    alt = (
        f"Line chart of {_lower_first(crime_type)} recorded per month in {area} from {month_label(first)} to "
        f"{month_label(last)}, "
        "with the assessment window shaded"
        + (
            f" and control limits at {limits['lower']:,.0f} and {limits['upper']:,.0f}."
            if has_limits
            else "; no control limits: fewer than 12 months."
        )
    )
    if exception_months:
        alt += " Months outside the limits, circled: " + ", ".join(month_label(m) for m in exception_months) + "."
    if horizon:
        alt += (
            f" A dashed forecast for {month_label(horizon[0])} to {month_label(horizon[-1])} runs from "
            f"{forecast['expected'].iloc[0]:,.0f} to {forecast['expected'].iloc[-1]:,.0f} a month ("
            + (
                "last year's months repeated"
                if "method" in forecast and forecast["method"].iloc[0] == "seasonal naive"
                else f"{forecast['method'].iloc[0] if 'method' in forecast else 'the model'}"
            )
            + "), with a shaded 95% prediction interval."
        )
    missing = [m for m in full.index if pd.isna(full[m])]
    if missing:
        alt += " No data for " + ", ".join(month_label(m) for m in missing) + " (a gap)."
    return figure, alt


def stl_panels(stl: pd.DataFrame, crime_type: str, area: str) -> tuple[plt.Figure, str]:
    """STL decomposition: observed, trend, seasonal and remainder panels; filled months marked."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(4, 1, figsize=(10, 7), sharex=True)
    x = np.arange(len(stl))
    for axis, column, title in zip(
        axes, ["observed", "trend", "seasonal", "remainder"], ["Recorded", "Trend", "Seasonal pattern", "Remainder"]
    ):
        if column == "remainder":
            axis.bar(x, stl[column], color=OTHER_COLOUR)
            axis.axhline(0, color="#0b0c0c", lw=0.8)
        else:
            axis.plot(x, stl[column], color=AREA_COLOUR)
        axis.set_title(title, loc="left", fontsize=9)
    filled = list(stl.index[stl["filled"]])
    for i in filled:
        axes[0].scatter([i], [stl.loc[i, "observed"]], s=50, facecolors="white", edgecolors="#d4351c", zorder=5)
    ticks = [i for i, m in enumerate(stl["month"]) if m.endswith("-01")]
    axes[-1].set_xticks(ticks, [month_label(stl["month"].iloc[i]) for i in ticks], fontsize=8)
    figure.suptitle(f"{crime_type}, {area}: seasonal-trend decomposition (STL)", x=0.01, ha="left", fontsize=11)
    figure.tight_layout()
    peak = stl.assign(moy=stl["month"].str[5:7]).groupby("moy")["seasonal"].mean()
    high, low = peak.idxmax(), peak.idxmin()
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    alt = (
        f"Four stacked charts decomposing monthly {_lower_first(crime_type)} in {area} into trend, seasonal pattern "
        "and remainder. "
        f"The trend runs from {stl['trend'].iloc[0]:,.0f} to {stl['trend'].iloc[-1]:,.0f} a month; the seasonal "
        "pattern peaks in "
        f"{names[int(high) - 1]} and is lowest in {names[int(low) - 1]}."
    )
    if filled:
        alt += (
            " Interpolated for this chart only (no data): "
            + ", ".join(month_label(stl["month"].iloc[i]) for i in filled)
            + ", circled."
        )
    return figure, alt


def deprivation_shares(
    deciles: pd.DataFrame, hidden: dict[str, pd.Series], area: str, period: str, index_name: str
) -> tuple[plt.Figure, str]:
    """Bars of each national deprivation decile's share of the area's LSOAs, crime and ASB (%).

    ``deciles`` is ``places.decile_summary`` (deciles 1-10; an unranked row is left out).
    ``hidden`` maps "crime_share" and "asb_share" to the rows whose count the table
    suppressed: their bars are not drawn (a share times the total would give the count
    back) and a "*" stands in their place.
    """
    import matplotlib.pyplot as plt

    keep = deciles["imd_decile"].notna().to_numpy()
    ranked = deciles[keep]
    x = np.arange(len(ranked))
    figure, axis = plt.subplots(figsize=(9, 3.8))
    series = [
        ("lsoas_share", "Share of the area's LSOAs", OTHER_COLOUR),
        ("crime_share", "Share of crime (excl. ASB)", AREA_COLOUR),
        ("asb_share", "Share of ASB", "#f47738"),
    ]
    for offset, (column, label, colour) in zip((-0.27, 0, 0.27), series):
        masked = hidden[column].to_numpy()[keep] if column in hidden else np.zeros(len(ranked), dtype=bool)
        heights = np.where(masked, 0.0, 100 * ranked[column].fillna(0).to_numpy())
        axis.bar(x + offset, heights, width=0.26, label=label, color=colour)
        for position in np.flatnonzero(masked):
            axis.text(x[position] + offset, 0.5, "*", ha="center", va="bottom", fontsize=10)
    axis.set_xticks(x, [str(int(d)) for d in ranked["imd_decile"]])
    axis.set_xlabel("National deprivation decile\n(1 = most deprived 10%)")
    axis.set_ylabel("% of the area")
    axis.set_title(f"Crime and ASB by deprivation decile, {area}, {period}", loc="left", fontsize=11)
    # Below the axis: any decile's bars may be tall, so a legend inside would hide one.
    axis.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.36), frameon=False)
    figure.tight_layout()
    worst = ranked[ranked["imd_decile"] <= 2]
    any_hidden = any(h.to_numpy()[keep].any() for h in hidden.values())
    worst_hidden = any(h.to_numpy()[keep][(ranked["imd_decile"] <= 2).to_numpy()].any() for h in hidden.values())
    alt = (
        f"Bar chart by national deprivation decile ({index_name}) of the share of {area}'s LSOAs, crime and ASB in "
        f"{period}. "
    )
    if not worst_hidden:
        alt += (
            f"Deciles 1 and 2 (the 20% most deprived nationally) hold {100 * worst['lsoas_share'].sum():.0f}% of the "
            "LSOAs, "
            f"{100 * worst['crime_share'].sum():.0f}% of the crime and {100 * worst['asb_share'].sum():.0f}% of the "
            "ASB. "
        )
    alt += "The figures are in the table that follows."
    if any_hidden:
        alt += " Bars marked * are not drawn: their counts are small and suppressed."
    return figure, alt


def time_heatmap(cells: pd.DataFrame, threat: str, period: str, sample: bool) -> tuple[plt.Figure, str]:
    """Day of week (rows) by hour of day (columns) of a threat's crimes.

    ``cells`` is one threat's rows of ``threat_profiles.time_table`` (weekday, hour,
    crimes; crimes can be fractional under aoristic apportioning). Whole-area counts with
    no place attached, so no cell is suppressed.
    """
    import matplotlib.pyplot as plt

    from pipeline.analysis.threat_profiles import WEEKDAYS

    grid = (
        cells.pivot(index="weekday", columns="hour", values="crimes")
        .reindex(index=WEEKDAYS, columns=range(24))
        .fillna(0)
    )
    figure, axis = plt.subplots(figsize=(10, 3.6))
    _heatmap(axis, grid, "Blues", "crimes", 0.3)
    # Large tick labels: the chart is redrawn narrower for phones, where 8 pt becomes unreadable.
    axis.set_xticks(np.arange(0, 24, 3) + 0.5, [f"{h:02d}:00" for h in range(0, 24, 3)], rotation=0, fontsize=11)
    axis.set_yticks(np.arange(7) + 0.5, [d[:3] for d in WEEKDAYS], rotation=0, fontsize=12)
    axis.set_xlabel("Hour of the day (committed)", fontsize=12)
    axis.set_ylabel("")
    label = " (synthetic sample)" if sample else ""
    axis.set_title(f"{threat} by day and hour, {period}{label}", loc="left", fontsize=11)
    figure.tight_layout()
    by_day = grid.sum(axis=1)
    by_hour = grid.sum(axis=0)
    peak_day, peak_hour = grid.stack().idxmax()
    total = grid.to_numpy().sum()
    evening = by_hour.loc[18:23].sum() + by_hour.loc[0:1].sum()
    alt = (
        (
            f"Heatmap of {threat.lower()} crimes{' in a synthetic sample' if sample else ''} by day of the week and "
            f"hour committed, {period}. "
            f"The busiest day is {by_day.idxmax()} ({100 * by_day.max() / total:.0f}% of crimes placed) and the "
            "quietest "
            f"{by_day.idxmin()} ({100 * by_day.min() / total:.0f}%); the busiest hour of the week is {peak_day} "
            f"{peak_hour:02d}:00. "
            f"{100 * evening / total:.0f}% fall between 18:00 and 02:00."
        )
        if total
        else f"Heatmap of {threat.lower()} crimes by day and hour, {period}: none could be placed in time."
    )
    return figure, alt


def harm_against_volume(groups: pd.DataFrame, area: str, period: str, sample: bool) -> tuple[plt.Figure, str]:
    """Each ONS offence group's share of the area's crimes beside its share of harm (Crime
    Severity Score), groups ranked by harm. ``groups`` is ``threat_profiles.harm_by_group``."""
    import matplotlib.pyplot as plt

    ranked = groups.sort_values("harm_share", ascending=True)
    y = np.arange(len(ranked))
    figure, axis = plt.subplots(figsize=(9, 0.45 * len(ranked) + 1.8))
    axis.barh(y + 0.2, ranked["volume_share"], height=0.38, color=OTHER_COLOUR, label="Share of crimes (%)")
    axis.barh(y - 0.2, ranked["harm_share"], height=0.38, color=AREA_COLOUR, label="Share of harm (%)")
    axis.set_yticks(y, [g[:1].upper() + g[1:] for g in ranked["ons_group"]], fontsize=8)
    axis.set_xlabel("% of the area's total")
    label = " (synthetic sample)" if sample else ""
    axis.set_title(f"Offence groups by volume and harm, {area}, {period}{label}", loc="left", fontsize=11)
    axis.legend(
        ncol=2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.5 / max(1, len(ranked) / 6)), frameon=False
    )
    figure.tight_layout()
    top = groups.iloc[0]
    biggest = groups.sort_values("volume_share", ascending=False).iloc[0]
    alt = (
        f"Paired bar chart of {len(groups)} ONS offence groups{' in a synthetic sample extract' if sample else ''}, "
        f"{area}, {period}, "
        f"ranked by share of harm (Crime Severity Score). {top['ons_group'].capitalize()} carry the most harm, "
        f"{top['harm_share']:.0f}% of it from {top['volume_share']:.0f}% of crimes; {biggest['ons_group']} are the "
        "most numerous, "
        f"{biggest['volume_share']:.0f}% of crimes and {biggest['harm_share']:.0f}% of harm. The figures are in the "
        "table that follows."
    )
    return figure, alt


def funnel_plot(rates: pd.DataFrame, rate_column: str, label: str, months: int, area: str) -> tuple[Any, str]:
    """Each area's rate against its residents, with the pooled rate and exact Poisson 95% and
    99.8% limits (``benchmarks.funnel_limits``); the assessed area marked."""
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from pipeline.analysis.benchmarks import funnel_limits

    counts = rates[label].astype(float)
    populations = rates["population"].astype(float)
    pooled = counts.sum() / populations.sum() * 1000 * 12 / months
    span = np.linspace(max(1000.0, populations.min() * 0.5), populations.max() * 1.3, 200)
    limits = funnel_limits(pooled, span, months)
    figure, axis = plt.subplots(figsize=(8, 4.8))
    axis.axhline(pooled, color="#505a5f", lw=1, label=f"rate of the areas shown together ({pooled:,.1f})")
    axis.plot(span, limits["high95"], color="#505a5f", ls="--", lw=1, label="95% limits")
    axis.plot(span, limits["low95"], color="#505a5f", ls="--", lw=1)
    axis.plot(span, limits["high998"], color="#505a5f", ls=":", lw=1, label="99.8% limits")
    axis.plot(span, limits["low998"], color="#505a5f", ls=":", lw=1)
    own = rates["area"] == area
    axis.scatter(populations[~own], rates.loc[~own, rate_column], color="#505a5f", zorder=3, label="comparators")
    axis.scatter(populations[own], rates.loc[own, rate_column], color=AREA_COLOUR, s=60, zorder=4, label=area)
    for _, r in rates.iterrows():
        axis.annotate(
            str(r["area"]), (r["population"], r[rate_column]), textcoords="offset points", xytext=(5, 4), fontsize=8
        )
    axis.set_xlabel("residents")
    axis.set_ylabel("per 1,000 residents a year")
    axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axis.set_title(f"{label}: rate against residents", loc="left", fontsize=11)
    axis.margins(y=0.15)
    # Below the plot: wherever the areas fall, the legend covers none of them.
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.2), ncol=3, frameon=False)
    figure.tight_layout()
    high = limits.iloc[np.searchsorted(span, populations.to_numpy()).clip(0, len(span) - 1)]
    outside = [
        str(r["area"])
        for (_, r), hi, lo in zip(rates.iterrows(), high["high998"], high["low998"])
        if not lo <= r[rate_column] <= hi
    ]
    alt = (
        f"Funnel plot of {_lower_first(label)} per 1,000 residents a year against residents for {len(rates)} areas, "
        f"with the areas' rate together ({pooled:,.1f}) and 95% and 99.8% limits. "
        + (f"Outside the 99.8% limits: {', '.join(outside)}." if outside else "Every area is within the 99.8% limits.")
    )
    return figure, alt


def partner_series(
    periods: list[str], values: list[float | None], label: str, unit: str, suppressed: list[str], sample: bool
) -> tuple[plt.Figure, str]:
    """One partner indicator over its periods (a proportion in %). ``values`` has None where a
    figure is suppressed (a small number) or missing: the line has a gap there, never a 0,
    and the alt text names the suppressed periods."""
    import matplotlib.pyplot as plt

    shown = [100 * v if (v is not None and unit == "proportion") else v for v in values]
    figure, axis = plt.subplots(figsize=(7, 2.8))
    x = list(range(len(periods)))
    axis.plot(x, [float("nan") if v is None else v for v in shown], marker="o", markersize=3, color=AREA_COLOUR)
    step = max(1, -(-len(periods) // 6))  # at most six labels, so none overlap
    axis.set_xticks(x[::step], [periods[i] for i in x[::step]], fontsize=8)
    axis.set_ylim(bottom=0)
    axis.set_ylabel("%" if unit == "proportion" else unit)
    title = "\n".join(textwrap.wrap(label, 60)) + ("\n(synthetic sample)" if sample else "")
    axis.set_title(title, fontsize=10, loc="left")
    figure.tight_layout()
    known = [(p, v) for p, v in zip(periods, shown) if v is not None]
    fmt = (
        (lambda v: f"{v:.1f}%")
        if unit == "proportion"
        else (lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}")
    )
    points = "; ".join(f"{p}: {fmt(v)}" for p, v in known)
    hidden = f" Not shown (small numbers, suppressed): {', '.join(suppressed)}." if suppressed else ""
    alt = f"Line chart of {label}{' (synthetic sample)' if sample else ''} by period: {points}.{hidden}"
    return figure, alt
