"""Several assessments in one command, with an index page that links them.

``python -m pipeline run a.yaml b.yaml ...`` runs each params file in turn (each run's
stages in parallel, as for one), carries on past an area whose run fails, and writes an
index page listing every area with a one-line headline and links to its documents, or the
reason it has none. Each area's outputs are published exactly as a single run publishes
them; the index only links to them.
"""

from __future__ import annotations

import csv
import html
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.safety import UnsafeLocationError

log = logging.getLogger(__name__)

INDEX_MARKER = "<!-- strategic-assessment-pipeline index -->"
TOTAL_ROW = "All crime (excluding ASB)"
DOCUMENT_LABELS = {"strategic-assessment": "Strategic assessment", "delivery-plan-appendix": "Delivery plan appendix",
                   "morile-review": "MoRiLE review", "tables": "Every table"}
DOCUMENT_ORDER = {"strategic-assessment": 0, "delivery-plan-appendix": 1, "morile-review": 2, "tables": 3}


@dataclass
class AreaResult:
    """One params file's run: its published folder and documents, or why it failed."""

    params: Path
    area: str = ""
    output_dir: Path | None = None
    documents: list[str] = field(default_factory=list)
    headline: str = ""
    error: str = ""


def headline(output_dir: Path) -> str:
    """One line on the area's crime from its published ``tables/crime-by-type.csv``: the count
    for the window (its months named by the column) and the like-for-like change, as published."""
    path = output_dir / "tables/crime-by-type.csv"
    if not path.is_file():
        return "No crime table was published."
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = {row["Crime type"]: row for row in csv.DictReader(handle)}
    total = rows.get(TOTAL_ROW)
    if total is None:
        return "No all-crime total was published."
    count_column = next(c for c in total if c.startswith("Count, "))
    count = total[count_column]
    count = f"{int(count):,}" if count.isdigit() else count
    line = f"{TOTAL_ROW}: {count} in {count_column.removeprefix('Count, ')}"
    change = total.get("% change (like for like)", "")
    try:
        percent = float(change)
    except ValueError:
        return line + (f"; like-for-like change {change}." if change else ".")
    windows = [c.removeprefix("Like for like: ") for c in total if c.startswith("Like for like: ")]
    compared = f", {windows[1]} against {windows[0]}" if len(windows) == 2 else ""
    direction = "up" if percent > 0 else "down" if percent < 0 else "no change"
    significance = total.get("Significance (Holm-adjusted; the total unadjusted)", "")
    amount = f"{direction} {abs(percent):.1f}%" if percent else direction
    return f"{line}; {amount} like for like{compared} ({significance or 'significance not tested'})."


def run_batch(params_paths: list[str | Path], index: Path, pdf: bool = False, force: bool = False,
              workers: int | None = None) -> list[AreaResult]:
    """Run every params file, one after another, and write the index page at ``index``.

    A run that fails is reported in the index and the log and does not stop the others;
    Ctrl-C stops the batch (the run in progress leaves the last outputs, as ever)."""
    from pipeline.params import load_params
    from pipeline.run import run_assessment

    _check_index_path(index)
    results = []
    for number, path in enumerate(params_paths, start=1):
        result = AreaResult(Path(path))
        log.info("=== Area %d of %d: %s", number, len(params_paths), path)
        try:
            params = load_params(path)
            result.area = params.area.name
            result.output_dir = params.output_dir.resolve()
            run_assessment(path, pdf=pdf, force=force, workers=workers)
            result.documents = sorted(p.name for p in result.output_dir.iterdir() if p.suffix in (".html", ".pdf", ".xlsx"))
            result.headline = headline(result.output_dir)
        except PipelineError as exc:
            result.error = str(exc)
            log.error("%s failed; carrying on with the others:\n%s", path, exc)
        results.append(result)
    write_index(results, index)
    failed = [r for r in results if r.error]
    log.info("%d of %d areas published; index: %s", len(results) - len(failed), len(results), index)
    return results


def _check_index_path(index: Path) -> None:
    """Refuse to overwrite a file at ``index`` that the pipeline did not write."""
    if index.exists() and (index.is_dir() or INDEX_MARKER not in index.read_text(encoding="utf-8", errors="replace")[:500]):
        raise UnsafeLocationError(
            f"{index} exists and was not written by this pipeline, so it was not replaced. "
            "Choose another place for the index with --index."
        )


def write_index(results: list[AreaResult], index: Path) -> Path:
    """An accessible, self-contained HTML page: a table of areas, headlines and document links."""
    rows = []
    for result in results:
        name = html.escape(result.area or result.params.name)
        if result.error:
            lines = [line.strip() for line in result.error.strip().splitlines() if line.strip()]
            problems = "".join(f"<li>{html.escape(line.lstrip('- '))}</li>" for line in lines[1:6])
            more = f"<li>and {len(lines) - 6} more (run <code>python -m pipeline check {html.escape(str(result.params))}</code>)</li>" if len(lines) > 6 else ""
            detail = (f"<td>Not published ({html.escape(str(result.params))}): {html.escape(lines[0])}"
                      f"{'<ul>' + problems + more + '</ul>' if problems else ''}</td><td></td>")
        else:
            links = []
            for document in sorted(result.documents, key=lambda d: (DOCUMENT_ORDER.get(d.rsplit(".", 1)[0], 9), d)):
                target = os.path.relpath(result.output_dir / document, index.parent)
                stem, kind = document.rsplit(".", 1)
                label = f"{DOCUMENT_LABELS.get(stem, stem)} ({ {'xlsx': 'Excel'}.get(kind, kind.upper()) })"
                links.append(f'<li><a href="{html.escape(target)}">{html.escape(label)}</a></li>')
            detail = f"<td>{html.escape(result.headline)}</td><td><ul>{''.join(links)}</ul></td>"
        rows.append(f'<tr><th scope="row">{name}</th>{detail}</tr>')
    published = sum(1 for r in results if not r.error)
    page = f"""<!DOCTYPE html>
{INDEX_MARKER}
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strategic assessments: {published} of {len(results)} areas</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; line-height: 1.5; margin: 0 auto; max-width: 60rem; padding: 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
caption {{ text-align: left; font-weight: bold; padding: 0.5rem 0; }}
td, th {{ overflow-wrap: anywhere; }}
td:last-child {{ min-width: 12rem; }}
th, td {{ border-bottom: 1px solid #b1b4b6; padding: 0.5rem; text-align: left; vertical-align: top; }}
ul {{ margin: 0; padding-left: 1.2rem; }}
a {{ color: #1d70b8; }} a:focus {{ outline: 3px solid #ffdd00; }}
@media (max-width: 40rem) {{ table, caption, tbody, tr, th, td {{ display: block; }} thead {{ display: none; }} td:last-child {{ min-width: 0; }} }}
</style>
</head>
<body>
<main>
<h1>Strategic assessments</h1>
<p>{published} of {len(results)} areas published. Each area's documents were made by its own run, from its own params file.</p>
<table>
<caption>Areas, headline and documents</caption>
<thead><tr><th scope="col">Area</th><th scope="col">Headline</th><th scope="col">Documents</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</main>
</body>
</html>
"""
    index.parent.mkdir(parents=True, exist_ok=True)
    temporary = index.with_name(f".{index.name}.writing")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(index)
    return index
