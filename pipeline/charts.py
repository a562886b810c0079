"""Charts for the published documents, each returned with alt text written from its data.

A chart without alt text cannot be published (``publish.figure_html`` refuses it), so
every function here returns ``(figure, alt_text)``. Missing months are drawn as gaps,
never as zeros.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # published charts are rendered to PNG; no screen is needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from pipeline.months import month_label, month_range  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
AREA_COLOUR = "#1d70b8"
OTHER_COLOUR = "#b1b4b6"
WINDOW_COLOUR = "#ffdd00"


def monthly_small_multiples(
    monthly: pd.DataFrame, first: str, last: str, window: list[str], area: str, columns: list[str]
) -> tuple[plt.Figure, str]:
    """Monthly counts for several crime types, one panel each, assessment window shaded.

    ``monthly`` holds usable months only (rows) by crime type (columns); months from
    ``first`` to ``last`` that it lacks are drawn as gaps.
    """
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
    alt = f"Bar chart of {label[0].lower() + label[1:]} by area, highest first: {listed}. {area} is highlighted."
    return figure, alt


def survey_intervals(rows: pd.DataFrame, label: str, sample: bool) -> tuple[plt.Figure, str]:
    """Weighted % by year with 95% interval bars, for one indicator (suppressed years left out)."""
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
        axis.annotate(f"{r['percent']:.0f}%", (x, r["percent"]), textcoords="offset points", xytext=(10, -3), fontsize=9)
    axis.set_ylim(0, min(100, max(10, float(shown["ci_high"].max()) * 1.25)) if len(shown) else 100)
    axis.set_ylabel("weighted %")
    title = label + (" (synthetic sample)" if sample else "")
    axis.set_title(title if len(title) < 70 else title[:67] + "...", fontsize=10, loc="left")
    figure.tight_layout()
    points = "; ".join(
        f"{r['year']}: {r['percent']:.1f}% (95% CI {r['ci_low']:.1f}% to {r['ci_high']:.1f}%)" for _, r in shown.iterrows()
    )
    alt = f"Chart of {label}{' in the synthetic sample survey' if sample else ''} by year, with 95% confidence interval bars: {points}."
    return figure, alt


def morile_heatmap(values: pd.DataFrame, model: Any, order: list[str], sample: bool) -> tuple[plt.Figure, str]:
    """Heatmap of each threat's factor scores (as a share of the factor's scale), threats in rank order."""
    factors = model.factors
    wide = values.pivot(index="threat", columns="factor", values="value").reindex(index=order, columns=[f.id for f in factors])
    share = wide.copy()
    for f in factors:
        levels = [lv.value for lv in model.levels(f)]
        share[f.id] = (wide[f.id] - min(levels)) / (max(levels) - min(levels))
    figure, axis = plt.subplots(figsize=(11, 0.45 * len(order) + 2.5))
    sns.heatmap(
        share,
        annot=wide,
        fmt="g",
        cmap="Blues",
        vmin=0,
        vmax=1,
        cbar_kws={"label": "share of the factor's scale"},
        linewidths=0.5,
        ax=axis,
    )
    axis.set_xticklabels([model.column_header(f) for f in factors], rotation=45, ha="right", fontsize=8)
    axis.set_xlabel("")
    axis.set_ylabel("")
    axis.set_title("Factor scores by threat" + (" (illustrative sample)" if sample else ""), loc="left", fontsize=11)
    figure.tight_layout()
    top = wide.sum(axis=1).idxmax()
    alt = (
        f"Heatmap of {len(factors)} factor scores for {len(order)} threats"
        f"{' from illustrative sample scores' if sample else ''}, threats in rank order from {order[0]} to {order[-1]}; "
        f"darker cells are higher on their factor's scale. The highest total of factor values is for {top}."
    )
    return figure, alt
