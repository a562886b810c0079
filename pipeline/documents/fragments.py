"""Generated text for a notebook's page, escaped: paragraphs, lists, headings and
blocks of fields (values from inputs cannot inject markup)."""

from __future__ import annotations

import html
import logging
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


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
        parts.append(f'<h{level}>{html.escape(str(row[heading_column]))}</h{level}><dl class="blocks">')
        for field in fields:
            value = row[field]
            if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
                continue
            parts.append(f"<dt>{html.escape(field)}</dt><dd>{html.escape(str(value))}</dd>")
        parts.append("</dl>")
    return HTML("".join(parts))


def on_landscape_pages(items: list[Any]) -> Any:
    """Items (headings, paragraphs, a wide table) as one block printed on landscape pages, so a
    section that is mostly one wide table starts on the same page as the table, not on a
    portrait page of its own heading."""
    from IPython.display import HTML

    return HTML('<div class="print-landscape">' + "".join(item.data for item in items) + "</div>")


def show(items: list[Any], return_last: bool = False) -> Any:
    """Display a section's items in a notebook, in order. With ``return_last`` the last item is
    returned instead of displayed, so the cell ends with it (as the cell's result)."""
    from IPython.display import display

    items = list(items)
    last = items.pop() if return_last and items else None
    for item in items:
        display(item)
    return last
