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
import re
from pathlib import Path
from typing import Any, Callable

import pandas as pd

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_STYLESHEET = """
body { font-family: Arial, Helvetica, sans-serif; line-height: 1.5; color: #0b0c0c; max-width: 60rem;
       margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 2rem; border-bottom: 4px solid #1d70b8; padding-bottom: .3rem; }
h2 { font-size: 1.5rem; margin-top: 2.5rem; border-bottom: 1px solid #b1b4b6; }
h3 { font-size: 1.2rem; margin-top: 1.8rem; }
a { color: #1d70b8; } a:focus { outline: 3px solid #ffdd00; }
nav.toc { background: #f3f2f1; padding: .5rem 1.5rem; margin: 1rem 0 2rem; }
nav.toc ul { padding-left: 1.2rem; } nav.toc li.level-3 { margin-left: 1.2rem; font-size: .95rem; }
table { border-collapse: collapse; margin: 1rem 0 .5rem; font-size: .92rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border-bottom: 1px solid #b1b4b6; padding: .3rem .6rem; vertical-align: top; }
thead th { border-bottom: 2px solid #0b0c0c; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { text-align: left; font-weight: normal; min-width: 7em; }
dl.blocks dt { font-weight: bold; margin-top: .6rem; } dl.blocks dd { margin-left: 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: .92rem; color: #505a5f; }
.note, .sample { border-left: 5px solid #1d70b8; background: #f3f2f1; padding: .5rem 1rem; }
.sample { border-left-color: #d4351c; font-weight: bold; }
.table-note { font-size: .88rem; color: #505a5f; margin-top: 0; }
footer { margin-top: 3rem; font-size: .88rem; color: #505a5f; border-top: 1px solid #b1b4b6; }
"""


def neutralise_formula(value: Any) -> Any:
    """Prefix text that a spreadsheet would execute (``=``, ``+``, ``-``, ``@``...) with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV (with BOM, so Excel reads £ and accents), formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(neutralise_formula)
    # Headers can come from inputs too (a crime type becomes a column of the monthly table).
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    safe.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _cell(value: Any, formatter: Callable[[Any], str] | None) -> tuple[str, bool]:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return "", numeric
    text = formatter(value) if formatter else (f"{value:,}" if isinstance(value, int) else str(value))
    return html.escape(text), numeric


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
    formats = formats or {}
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
    # A wide table scrolls inside its own focusable region rather than the whole page.
    table = (
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{html.escape(caption, quote=True)}">'
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


def figure_html(figure: Any, alt: str, caption: str | None = None) -> str:
    """A matplotlib figure as an embedded PNG with alt text (and a caption, if given).

    Closes the figure so the notebook does not also show it without alt text.
    """
    import matplotlib.pyplot as plt

    if not alt.strip():
        raise ValueError("every chart needs alt text describing what it shows")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    parts = [f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">']
    if caption:
        parts.append(f"<figcaption>{html.escape(caption)}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def show_figure(figure: Any, alt: str, caption: str | None = None) -> Any:
    """Display a chart in a notebook with alt text (see ``figure_html``)."""
    from IPython.display import HTML

    return HTML(figure_html(figure, alt, caption))


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", re.sub(r"<[^>]+>", "", text).lower()).strip("-") or "section"
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
    """Drop what must not be published: code, parameters, warnings and other stream output."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & {"parameters", "injected-parameters", "remove"}:
                cell.outputs = []
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
    return notebook


def export_html(notebook_path: Path, html_path: Path, title: str, lang: str = "en-GB") -> Path:
    """Convert an executed notebook to a self-contained, accessible HTML page without code."""
    # Imported here: nbformat's schema validation takes seconds to import, and only publishing needs it.
    import nbformat
    from nbconvert import HTMLExporter

    notebook = _strip_for_publication(nbformat.read(notebook_path, as_version=4))
    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(notebook)
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body)
    # The first h1 is the document title; the contents list follows it.
    h1 = re.search(r"<h1[^>]*>.*?</h1>", body, flags=re.S)
    body, nav = add_table_of_contents(body)
    if h1:
        body = body.replace(h1.group(0), h1.group(0) + nav, 1)
    else:
        body = nav + body
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLESHEET}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")
    log.debug("Wrote %s", html_path)
    return html_path


def replace_folder_atomically(staging: Path, final: Path) -> None:
    """Put a finished run's folder in place of the last published one.

    The old folder is moved aside first and removed only once the new one is in place,
    so at every moment one complete set of outputs exists; on failure the old one is
    put back. Only folders the pipeline created (``pipeline.safety``) are ever removed:
    anything else in the way is refused, never deleted.
    """
    from pipeline.safety import UnsafeLocationError, is_pipeline_folder, remove_our_folder, sibling_folders

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
