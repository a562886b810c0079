"""Number and text formats the report tables share: counts with separators, changes, p-values, rate headers.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB


def count(value: Any) -> str:
    """A whole number with thousands separators."""
    return f"{int(value):,}"


def percent_change(value: Any) -> str:
    """A signed percentage to one decimal place, or n/a."""
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.1f}%"


def one_decimal(value: Any) -> str:
    """A number to one decimal place."""
    return f"{value:,.1f}"


def order_types(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Crime types alphabetically, with ASB and the all-crime total last."""
    rank = frame[column].map({ASB: 1, ALL_CRIME_EXCL_ASB: 2}).fillna(0)
    return frame.assign(_rank=rank).sort_values(["_rank", column]).drop(columns="_rank")


def p_value(value: Any) -> str:
    """A p-value as printed: '<0.001' or three decimals; blank text when no test was made."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not tested"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def rate_header(what: str, windows_text: str, months: int) -> str:
    """A rate column's header naming the months behind it and whether they were scaled up."""
    scaled = "" if months == 12 else f", scaled up to 12 months from {months}"
    return f"{what} per 1,000 residents a year, {windows_text}{scaled}"


def slug(text: str) -> str:
    """A file-name-safe version of a label: 'All crime (excluding ASB)' -> 'all-crime-excluding-asb'."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def short_headers(columns: Any, windows: dict[str, str]) -> dict[str, str]:
    """Short page headers for columns that name their windows: the assessment window is
    dropped, the like-for-like windows become "year before" and "this year", and rates read
    "per 1,000 a year". Only changed columns are returned. The table's caption must then state
    the windows (``windows_caption``); the CSV keeps the full headers."""
    swaps = [(f", {windows['window_text']}", ""), (f" {windows['window_text']}", "")]
    for text, short in ((windows.get("before_text"), "year before"), (windows.get("after_text"), "this year")):
        if text:
            swaps += [(f"Like for like: {text}", short.capitalize()), (f"like for like: {text}", short)]
    swaps.append(("per 1,000 residents a year", "per 1,000 a year"))
    headers = {}
    for column in columns:
        short = str(column)
        for old, new in swaps:
            short = short.replace(old, new)
        if short != column:
            headers[column] = short
    return headers


def windows_caption(windows: dict[str, str], compared: bool) -> str:
    """The windows a table's short headers stand for, stated once for its caption."""
    text = f"Counts and rates: {windows['window_text']}."
    if compared:
        text += f" Like for like: {windows['after_text']} (this year) against {windows['before_text']} (year before)."
    return text
