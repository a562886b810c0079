"""Published HTML and PDF: an executed notebook without code, with a table of contents,
the inline stylesheet (screen, phone and A4 print), the page margins' running title and
sample label, and a Content-Security-Policy that lets the page run and fetch nothing.

Published documents are public: no code, every chart with alt text, tables with real
headers and captions, ``lang`` set, and nothing fetched from the internet (council networks
are locked down), so images are embedded and the stylesheet is inline.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The tag of the cell after which a stage's processed outputs are complete: the run's
# scheduler starts the stages that read them then (``pipeline.orchestration.kernels``); it is
# taken off before publishing, so the page's markup does not carry it.
OUTPUTS_WRITTEN_TAG = "processed-outputs-written"


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
aside.commentary { border-left: 5px solid #1d70b8; background: #f3f2f1; padding: .4rem 1rem; margin: 1rem 0; }
dl.cover { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1.5rem; }
dl.cover dt { font-weight: bold; } dl.cover dd { margin: 0; }
/* Statuses: colour with the symbol and the word (GOV.UK tag colours, each at least 4.5:1). */
.status { display: inline-block; padding: 0 .35rem; font-weight: bold; white-space: nowrap; }
.status-on-track, .status-complete, .status-achieved { background: #cce2d8; color: #005a30; }
.status-at-risk { background: #fff7bf; color: #594d00; }
.status-off-track, .status-not-achieved { background: #f4cdc6; color: #942514; }
.status-not-started { background: #e5e6e7; color: #282d30; }
.status-carried-over { background: #bbd4ea; color: #0c2d4a; }
footer { margin-top: 3rem; font-size: .88rem; color: #505a5f; border-top: 1px solid #b1b4b6; }
/* On a wide screen a wide table may use the window's width, not just the text column's, so
   it does not run off the column's right edge (it still scrolls if even that is too narrow). */
@media screen and (min-width: 64em) {
  .table-wrap.wide { width: calc(100vw - 4rem); max-width: none; margin-left: calc(50% - 50vw + 2rem); }
  .table-wrap.wide th, .table-wrap.wide td { padding: .3rem .4rem; }
}
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
  /* On paper the contents list the sections only, so the executive summary starts on the first
     page (a PDF reader's bookmarks list every heading). */
  nav.toc li.level-3 { display: none; }
  nav.toc ul { columns: 2; column-gap: 2rem; }
  a { color: #0b0c0c; text-decoration: none; }
  .table-wrap { overflow: visible; background: none; }
  .table-wrap.wide, .print-landscape { page: wide; }
  table { font-size: 8pt; width: 100%; }
  th, td { padding: .1rem .3rem; }
  thead { display: table-header-group; }
  tr, figure, img, dl.blocks dd { break-inside: avoid; page-break-inside: avoid; }
  caption { position: static; }
  figure img { max-height: 120mm; width: auto; }
  picture source { display: none; }
}
"""


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


# A notebook cell tagged so belongs to the stage's annex document, not its body (Stage.annex).
ANNEX_TAG = "annex"


def _strip_for_publication(notebook: Any, part: str | None = None) -> Any:
    """Drop what must not be published: code, parameters, warnings and other stream output,
    and the cells of the other part (``part`` "body": cells not tagged ``annex``; "annex":
    only those; None: every cell).

    The parameter cells go altogether: papermill gives the injected one a new random id on
    every run, which would make two runs' documents differ by that id alone."""
    kept = []
    for cell in notebook.cells:
        in_annex = ANNEX_TAG in cell.get("metadata", {}).get("tags", [])
        if part is not None and in_annex != (part == "annex"):
            continue
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
# text reads as url(...)); every other one is written as a CSS hex escape, so no text from a params file can end the
# string, the rule or
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
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
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

        def from_notebook_node(
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            # HTMLExporter.from_notebook_node's own steps (nbconvert 7.17) up to that parse.
            lexer = nb.metadata.get("language_info", {}).get(
                "pygments_lexer", nb.metadata.get("language_info", {}).get("name")
            )
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
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
        return f'<img alt="{NO_ALT_TEXT}"' + match.group(0)[len("<img") :]

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
            _EXPORTER = _exporter_class()(
                template_name="basic",
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
                optimistic_validation=True,
            )
        body, _ = _EXPORTER.from_notebook_node(notebook)
    return _default_alt_text(body)


def warm_up_exporter() -> None:
    """Import nbconvert and compile its HTML template by converting an empty notebook.

    The first export in a process otherwise pays about 2.5 s for both; a run calls this on
    a background thread while its first stages execute in their kernels, when this
    process is only waiting."""
    import nbformat

    _to_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Warm-up")]))


def export_html(
    notebook_path: Path,
    html_path: Path,
    title: str,
    lang: str = "en-GB",
    sample_label: str = "",
    cover: list[tuple[str, str]] | None = None,
    marking: str = "",
    part: str | None = None,
    landscape_tables: bool = True,
) -> Path:
    """Convert an executed notebook to a self-contained, accessible HTML page without code.

    ``part`` publishes only the notebook's body ("body") or its annex ("annex"); see
    ``_strip_for_publication``. Without ``landscape_tables`` every page prints portrait, wide
    tables wrapping their text: a document of many moderately wide tables then has no
    near-empty page where the orientation would switch.

    ``cover`` (label, value) pairs are listed under the first heading, as on a committee
    paper's cover. Printed, every page carries the title (which names the area and window)
    and the page number at its foot, ``sample_label`` (if any) at its head and the
    protective ``marking`` (if any) at its head on the right.
    """
    # Imported here: nbformat's schema validation takes seconds to import, and only publishing needs it.
    import nbformat

    notebook = _strip_for_publication(nbformat.read(notebook_path, as_version=4), part)
    body = _to_html(notebook)
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body)
    # The first h1 is the document title; the contents list follows it.
    h1 = re.search(r"<h1[^>]*>.*?</h1>", body, flags=re.S)
    body, nav = add_table_of_contents(body)
    if h1:
        body = body.replace(h1.group(0), h1.group(0) + _cover_html(cover or []) + nav, 1)
    else:
        body = nav + body
    page = (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang, quote=True)}">\n<head>\n<meta charset="utf-8">\n{CSP_META}\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLESHEET}{_print_margins(title, sample_label, marking)}"
        f"{'' if landscape_tables else _PORTRAIT_ONLY}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page, encoding="utf-8")
    log.debug("Wrote %s", html_path)
    return html_path


# Print every page portrait: wide tables stay on the page they fall on, their text wrapping.
_PORTRAIT_ONLY = "\n@media print { .table-wrap.wide { page: auto; } }\n"


def _cover_html(cover: list[tuple[str, str]]) -> str:
    """The cover details as a definition list (escaped: the values come from params)."""
    if not cover:
        return ""
    items = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>" for label, value in cover)
    return f'\n<dl class="cover">{items}</dl>\n'


def _print_margins(title: str, sample_label: str = "", marking: str = "") -> str:
    """Page margin boxes: the title at the foot left, 'Page n of N' at the foot right, any
    sample label at the head left and any protective marking at the head right."""
    box = "font: 8pt Arial, Helvetica, sans-serif; color: #505a5f;"
    rules = (
        f"@bottom-left {{ content: {_css_string(title)}; {box} }} "
        f'@bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} white-space: nowrap; }}'
    )
    if sample_label:
        # Most of the head's width: a label naming several sample inputs must not run into the marking.
        rules += (
            f" @top-left {{ content: {_css_string(sample_label)}; {box} color: #d4351c; font-weight: bold; "
            "width: 80%; }"
        )
    if marking:
        rules += f" @top-right {{ content: {_css_string(marking)}; {box} font-weight: bold; white-space: nowrap; }}"
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


def export_docx(html_path: Path, title: str = "") -> Path:
    """The published HTML document as a Word file beside it, for councils' committee papers.

    pandoc (the ``pypandoc-binary`` wheel, which carries its own pandoc; no network) reads the
    page: headings become Word headings, tables real tables with their header row repeated on
    each page, and charts embedded pictures with their alt text. python-docx then adds a footer
    with the document's title and "Page n" (a PAGE field Word fills in)."""
    import pypandoc

    docx_path = html_path.with_suffix(".docx")
    pypandoc.convert_file(
        str(html_path),
        "docx",
        format="html",
        outputfile=str(docx_path),
        extra_args=["--resource-path", str(html_path.parent)],
    )
    _footer_with_page_numbers(docx_path, title)
    log.debug("Wrote %s", docx_path)
    return docx_path


def _footer_with_page_numbers(docx_path: Path, title: str) -> None:
    """Every section's footer: the title, then "Page " and a PAGE field."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document(str(docx_path))
    for section in document.sections:
        paragraph = section.footer.paragraphs[0] if section.footer.paragraphs else section.footer.add_paragraph()
        paragraph.text = f"{title}    Page " if title else "Page "
        run = paragraph.add_run()
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            if kind:
                field = OxmlElement("w:fldChar")
                field.set(qn("w:fldCharType"), kind)
            else:
                field = OxmlElement("w:instrText")
                field.set(qn("xml:space"), "preserve")
                field.text = text
            run._r.append(field)
    # Table header rows repeat on each printed page, as in the HTML's print stylesheet.
    for table in document.tables:
        if table.rows:
            properties = table.rows[0]._tr.get_or_add_trPr()
            if properties.find(qn("w:tblHeader")) is None:
                properties.append(OxmlElement("w:tblHeader"))
    document.save(str(docx_path))
