"""Nothing an input says becomes live code in a published page, spreadsheet or CSV.

One payload set goes through every free-text input a run takes (title, area and comparator
names, context notes, a disruption's name, the survey's subgroup label, the extract's name,
the delivery plan's text) and the published HTML, CSV and xlsx files are searched for a live
script, event handler, ``javascript:`` link, external fetch or spreadsheet formula.
"""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, TINY_AREA_CODES

from pipeline.documents.export import CONTENT_SECURITY_POLICY, _css_string, _print_margins
from pipeline.orchestration.run import run_assessment

pytestmark = pytest.mark.e2e

# Each ends the context it lands in a different way: a <style> element, an element, an
# attribute, a link target, a CSS value, a spreadsheet cell.
PAYLOAD = (
    '</style><script>alert(1)</script>"><img src=x onerror=alert(2)>'
    "<a href='javascript:alert(3)'>x</a> url(https://example.invalid/x.png)"
)
FORMULA = '=HYPERLINK("https://example.invalid","click")'


class _LiveContent(HTMLParser):
    """Collects what a browser would run or fetch: script elements, on* handlers,
    javascript: targets, and URLs outside the page (style text included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.csp: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append("a <script> element")
        if tag in ("iframe", "object", "embed", "link", "base", "form"):
            self.found.append(f"a <{tag}> element")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(dict(attrs).get("content") or "")
        self._in_style = tag == "style"
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"an {name} handler on <{tag}>")
            if name in ("href", "src", "srcset", "action", "formaction", "xlink:href") and value:
                if value.startswith("javascript:") or (name != "href" and not value.startswith(("data:", "#"))):
                    self.found.append(f"{name}={value[:40]!r} on <{tag}>")
            if name == "style" and "url(" in value:
                self.found.append(f"a url() in a style attribute on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and re.search(r"url\(\s*['\"]?\s*(?!data:)", data, flags=re.I):
            self.found.append("a url() in a stylesheet")
        if self._in_style and re.search(r"@import", data, flags=re.I):
            self.found.append("an @import in a stylesheet")


def live_content(page: str) -> tuple[list[str], list[str]]:
    """(what a browser would run or fetch in ``page``, its Content-Security-Policy metas)."""
    parser = _LiveContent()
    parser.feed(page)
    parser.close()
    return parser.found, parser.csp


def test_a_css_string_cannot_end_its_style_element():
    css = _css_string('Area </style><script>alert(1)</script> "q" \\ \n next')
    assert "<" not in css and ">" not in css and "\n" not in css
    assert css.count('"') == 2 and css.startswith('"') and css.endswith('"')
    # Each escape is the character's code point in hex then one space: < is \3c, " is \22.
    assert "\\3c /style\\3e " in css and "\\22 q\\22 " in css and "\\5c " in css
    page = "<style>" + _print_margins(PAYLOAD, sample_label=PAYLOAD) + "</style>"
    found, _ = live_content(page)
    assert found == []


def test_the_checker_finds_what_it_looks_for():
    # The test below is only as good as this search: it must see each kind of live content.
    page = (
        '<style>@page { content: ""; } b { background: url(https://x.invalid/a.png) }</style><script>1</script>'
        '<img src="https://x.invalid/b.png" onerror="1"><a href=" javascript:alert(1)">x</a><img '
        'src="data:image/png;base64,AA">'
    )
    found, _ = live_content(page)
    assert found == [
        "a url() in a stylesheet",
        "a <script> element",
        "src='https://x.invalid/b.png' on <img>",
        "an onerror handler on <img>",
        "href='javascript:alert(1)' on <a>",
    ]


def _payload_params(tmp_path: Path, police: Path) -> Path:
    from test_end_to_end import _params

    name, other = "South " + PAYLOAD, FORMULA
    lookup = tmp_path / "payload-lookup.csv"
    with open(lookup, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lsoa_code", "area"])
        writer.writerows([code, name] for code in TINY_AREA_CODES["Tiny South Glos"])
        writer.writerows([code, other] for code in TINY_AREA_CODES["Tiny Bristol"])
    path = _params(tmp_path, police, lookup)
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings["title"] = "Strategic Assessment " + PAYLOAD
    settings["area"]["name"] = name
    settings["area"]["population"]["source"] = FORMULA
    settings["comparators"][0]["name"] = other
    settings["context_notes"] = [PAYLOAD, FORMULA]
    settings["disruptions"] = [{"name": "Lockdown " + PAYLOAD, "first": "2020-03", "last": "2020-12"}]
    settings["survey"]["subgroups"][0]["label"] = "Neighbourhood " + PAYLOAD
    settings["force_extract"]["name"] = "Extract " + PAYLOAD
    plan = yaml.safe_load((ROOT / "data/raw/delivery/delivery-plan-2021-22.yaml").read_text(encoding="utf-8"))
    plan["title"] = "Plan " + PAYLOAD
    for response in plan["responses"].values():
        response["response"] = PAYLOAD
        response["lead"] = FORMULA
        response["actions"] = [
            PAYLOAD,
            {"action": FORMULA, "owner": PAYLOAD, "update": FORMULA, "milestones": [PAYLOAD], "partners": [FORMULA]},
        ]
        response["partners"] = [PAYLOAD]
    for allocation in plan["grant"]["allocations"]:
        for quarter in allocation.get("quarters", []):
            quarter["outputs"] = PAYLOAD
    plan_path = tmp_path / "payload-plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    settings["delivery"]["plan"] = str(plan_path)
    review = yaml.safe_load((ROOT / "data/raw/delivery/sample-plan-review-2020-21.yaml").read_text(encoding="utf-8"))
    for action in review["actions"]:
        action.update(action=PAYLOAD, owner=FORMULA, reason=PAYLOAD)
    review_path = tmp_path / "payload-review.yaml"
    review_path.write_text(yaml.safe_dump(review), encoding="utf-8")
    settings["delivery"]["last_year"] = str(review_path)
    catalogue = yaml.safe_load((ROOT / "data/raw/partners/catalogue.yaml").read_text(encoding="utf-8"))
    for indicator in catalogue["indicators"]:
        indicator.update(label=f"{indicator['id']} {PAYLOAD}", agency=FORMULA, theme=PAYLOAD, definition=PAYLOAD)
    catalogue_path = tmp_path / "payload-catalogue.yaml"
    catalogue_path.write_text(yaml.safe_dump(catalogue), encoding="utf-8")
    settings["partners"]["catalogue"] = str(catalogue_path)
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def test_payloads_in_every_free_text_input_publish_nothing_live(tmp_path, tiny_police_folder):
    from openpyxl import load_workbook

    run_assessment(_payload_params(tmp_path, tiny_police_folder))
    output = tmp_path / "outputs/tiny"
    pages = sorted(output.glob("*.html"))
    assert len(pages) == 4  # the strategic assessment, its technical annex, the MoRiLE review, the delivery plan
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "alert(1)" in text, f"{page.name}: the payload should be shown, as text"
        found, csp = live_content(text)
        assert found == [], f"{page.name}: {found}"
        assert csp == [CONTENT_SECURITY_POLICY], page.name
        assert "script-src" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
    tables = sorted((output / "tables").glob("*.csv"))
    assert tables
    formula_seen = 0
    for table in tables:
        with open(table, newline="", encoding="utf-8-sig") as handle:
            for row_number, row in enumerate(csv.reader(handle), start=1):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (
                        f"{table.name} row {row_number}: {cell[:40]!r}"
                    )
                    if cell.startswith("-"):
                        float(cell)  # only a negative number may start with a minus sign
                    formula_seen += cell.startswith("'=HYPERLINK")
    assert formula_seen, "the formula payload should reach at least one CSV (as text)"
    # The Word copies: no link, picture or object fetched from outside, no javascript: target.
    import zipfile

    for word in sorted(output.glob("*.docx")):
        with zipfile.ZipFile(word) as package:
            relations = "".join(package.read(n).decode("utf-8") for n in package.namelist() if n.endswith(".rels"))
            body = package.read("word/document.xml").decode("utf-8")
        # The only links out are to the run's other documents, beside it (the body's links to its annex).
        targets = re.findall(r'Target="([^"]*)" TargetMode="External"', relations)
        assert all(re.fullmatch(r"[a-z-]+\.html(#[a-z0-9-]+)?", t) for t in targets), (word.name, targets)
        assert "javascript:" not in relations, word.name
        assert "alert(1)" in body and "<script" not in body, word.name  # the payload as text
    workbook = load_workbook(output / "tables.xlsx")
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (
                    f"tables.xlsx {sheet.title}!{cell.coordinate}: {cell.value!r} is a formula"
                )
