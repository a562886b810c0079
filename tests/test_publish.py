import csv

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from pipeline.documents.export import add_table_of_contents, export_html
from pipeline.documents.figures import figure_html, png_base64
from pipeline.documents.tables import table_html, write_csv
from pipeline.safe_text import neutralise_formula
from pipeline.storage.folders import replace_folder_atomically


def test_formula_like_text_is_neutralised_but_numbers_are_not():
    assert neutralise_formula('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralise_formula("+1") == "'+1"
    assert neutralise_formula("-cmd") == "'-cmd"
    assert neutralise_formula("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise_formula("Burglary") == "Burglary"
    assert neutralise_formula(-5) == -5


def test_csv_keeps_numbers_and_neutralises_text(tmp_path):
    frame = pd.DataFrame({"Crime type": ["=cmd|' /C calc'!A0", "Drugs"], "Change": [-5, 3]})
    path = write_csv(frame, tmp_path / "tables/t.csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["Crime type", "Change"], ["'=cmd|' /C calc'!A0", "-5"], ["Drugs", "3"]]


def test_table_html_has_caption_scoped_headers_and_escapes_text():
    frame = pd.DataFrame({"Crime type": ["<script>alert(1)</script>", "Drugs"], "Count": [1234, 5]})
    html = table_html(frame, "Crimes & incidents", note="Source: test")
    assert "<caption>Crimes &amp; incidents</caption>" in html
    assert '<th scope="col">Crime type</th><th scope="col">Count</th>' in html
    assert '<th scope="row">&lt;script&gt;alert(1)&lt;/script&gt;</th>' in html
    assert '<td class="num">1,234</td>' in html
    assert "<script>" not in html
    assert '<p class="table-note">Source: test</p>' in html


def test_table_of_contents_links_every_h2_and_h3():
    body = (
        "<h1>Title</h1><h2>Key findings</h2><p>x</p><h3 id='old'>Burglary &amp; theft</h3><h2>Key findings</h2>"
        "<h2>The partnership&#x27;s threats</h2>"
    )
    new_body, nav = add_table_of_contents(body)
    assert '<h2 id="key-findings">Key findings</h2>' in new_body
    assert '<h2 id="key-findings-2">Key findings</h2>' in new_body
    # Entities are read as the characters they stand for, not as words.
    assert '<h3 id="burglary-theft">' in new_body
    assert '<h2 id="the-partnership-s-threats">The partnership&#x27;s threats</h2>' in new_body
    assert nav.count("<li") == 4 and 'href="#key-findings-2"' in nav


def test_an_image_without_alt_text_gets_nbconverts_default_and_one_with_it_is_left(caplog):
    from pipeline.documents.export import NO_ALT_TEXT, _default_alt_text

    body = (
        '<p><img src="data:image/png;base64,AAAA"></p><img alt="Crimes by month" src="x.png"><img\nsrc="y.png" ALT="">'
    )
    fixed = _default_alt_text(body)
    assert (
        fixed == f'<p><img alt="{NO_ALT_TEXT}" src="data:image/png;base64,AAAA"></p><img alt="Crimes by month" '
        'src="x.png"><img\nsrc="y.png" ALT="">'
    )
    assert "Alternative text is missing on 1 image(s)" in caplog.text


def test_chart_needs_alt_text():
    figure, axis = plt.subplots()
    axis.plot([1, 2])
    with pytest.raises(ValueError, match="alt text"):
        figure_html(figure, "  ")
    html = figure_html(figure, 'Line "rising" from 1 to 2', "Caption")
    assert 'alt="Line &quot;rising&quot; from 1 to 2"' in html
    assert 'src="data:image/png;base64,' in html
    assert "<figcaption>Caption</figcaption>" in html


def _matplotlib_png(figure, dpi):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return Image.open(buffer)


def _png_of(picture_base64):
    import base64
    import io

    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(picture_base64)))


def test_chart_png_is_matplotlibs_picture_cropped_to_what_is_drawn_as_rgb():
    import io

    import numpy as np
    from PIL import Image, ImageChops

    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot([1, 3, 2], color="#1d70b8")
    axis.set_title("Crimes by month")
    figure.tight_layout()  # as every chart does (it leaves a placeholder layout engine)
    picture = _png_of(png_base64(figure))
    # The reference: matplotlib's own PNG of the whole figure, cropped by Pillow to what
    # differs from the background, with savefig's 0.1 inch pad (11 pixels at 110 dpi).
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    whole = Image.open(buffer)
    plt.close(figure)
    assert whole.size == (330, 220) and np.asarray(whole)[:, :, 3].min() == 255  # opaque: RGB loses nothing
    left, top, right, bottom = ImageChops.difference(
        whole.convert("RGB"), Image.new("RGB", whole.size, whole.getpixel((0, 0))[:3])
    ).getbbox()
    reference = whole.crop((max(0, left - 11), max(0, top - 11), min(330, right + 11), min(220, bottom + 11))).convert(
        "RGB"
    )
    assert picture.format == "PNG" and picture.mode == "RGB"
    assert picture.size == reference.size and picture.size[0] < 330  # cropped: the blank margin is gone
    assert np.array_equal(np.asarray(picture), np.asarray(reference))
    assert picture.info["dpi"] == pytest.approx((110, 110), abs=0.01)


@pytest.mark.parametrize("reaching_outside", ["long title", "legend below", "text on the edge"])
def test_chart_png_takes_in_what_reaches_outside_the_figure(reaching_outside):
    """A title longer than the figure is wide, a legend placed below it, or anything drawn at
    its edge: the picture is matplotlib's own crop, which widens it to show them."""
    import numpy as np

    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot([1, 3, 2], label="Recorded crime")
    if reaching_outside == "long title":
        axis.set_title("Crimes by month in every ward of the partnership, January 2020 to December 2020")
    elif reaching_outside == "legend below":
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -2.0))  # wholly below the figure
    else:
        figure.text(0.999, 0.5, "x", ha="left")  # starts one pixel from the right edge
    picture = _png_of(png_base64(figure))
    reference = _matplotlib_png(figure, 110)
    plt.close(figure)
    assert picture.mode == "RGB" and picture.size == reference.size
    assert picture.size[0] > 330 or picture.size[1] > 220  # wider or taller than the figure
    assert np.array_equal(np.asarray(picture), np.asarray(reference)[:, :, :3])


def test_chart_png_keeps_transparency_when_the_figure_has_some():

    import numpy as np

    figure, axis = plt.subplots(figsize=(3, 2))
    figure.patch.set_alpha(0)
    axis.plot([1, 3, 2])
    picture = _png_of(png_base64(figure))
    reference = _matplotlib_png(figure, 110)
    plt.close(figure)
    assert picture.mode == "RGBA" and np.asarray(picture)[:, :, 3].min() < 255
    assert np.array_equal(np.asarray(picture), np.asarray(reference))


def test_export_has_no_code_no_internet_fetches_and_sets_lang(tmp_path):
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("secret_path = '/home/analyst'")
    parameters.metadata["tags"] = ["parameters"]
    shown = nbformat.v4.new_code_cell("print('x')")
    shown.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="Warning: /home/analyst/file"),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>Visible result</p>"}),
    ]
    notebook.cells = [nbformat.v4.new_markdown_cell("# Report\n\n## Section one"), parameters, shown]
    source = tmp_path / "nb.ipynb"
    nbformat.write(notebook, source)
    page = export_html(source, tmp_path / "out.html", "My report").read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in page
    assert "<title>My report</title>" in page
    assert "Visible result" in page
    assert "secret_path" not in page and "print(" not in page and "/home/analyst" not in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert '<a href="#section-one">Section one</a>' in page
    assert page.index("Contents") > page.index("Report")


def test_replace_folder_atomically_swaps_and_cleans_up(tmp_path):
    from pipeline.storage.folders import OWNER_MARKER, mark_as_ours

    final = tmp_path / "out"
    mark_as_ours(final)
    (final / "old.html").write_text("old")
    staging = tmp_path / ".out.running"
    mark_as_ours(staging)
    (staging / "new.html").write_text("new")
    replace_folder_atomically(staging, final)
    assert sorted(p.name for p in final.iterdir()) == sorted([OWNER_MARKER, "new.html"])
    assert not staging.exists() and not (tmp_path / "out.previous").exists()


def test_replace_folder_atomically_refuses_a_folder_it_did_not_create(tmp_path):
    from pipeline.storage.folders import UnsafeLocationError, mark_as_ours

    final = tmp_path / "out"
    final.mkdir()
    (final / "thesis.docx").write_text("years of work")
    staging = tmp_path / ".out.running"
    mark_as_ours(staging)
    with pytest.raises(UnsafeLocationError, match="not created by this pipeline"):
        replace_folder_atomically(staging, final)
    assert (final / "thesis.docx").read_text() == "years of work"


def test_a_pdf_is_printed_with_wide_tables_on_landscape_pages(tmp_path):
    import nbformat

    from pipeline.documents.export import export_pdf
    from pipeline.documents.tables import table_html

    narrow = table_html(pd.DataFrame({"Crime type": ["Burglary"], "Count": [12]}), "Narrow")
    wide = table_html(
        pd.DataFrame({f"A long column heading {i}": ["a value of some length"] for i in range(8)}), "Wide"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Report"),
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={"text/html": narrow})]),
        nbformat.v4.new_code_cell("y", outputs=[nbformat.v4.new_output("display_data", data={"text/html": wide})]),
    ]
    source = tmp_path / "report.ipynb"
    nbformat.write(notebook, source)
    page = export_html(
        source,
        tmp_path / "report.html",
        "Report: Alphaton, Jan 2020 to Dec 2020",
        sample_label="Sample data: test",
        cover=[("Version", "2.1 <draft>"), ("Protective marking", "OFFICIAL-SENSITIVE")],
        marking="OFFICIAL-SENSITIVE",
    )
    text = page.read_text(encoding="utf-8")
    # The cover details sit under the title, before the contents; values are escaped.
    assert text.index("<h1") < text.index('<dl class="cover">') < text.index("<nav")
    assert "<dt>Version</dt><dd>2.1 &lt;draft&gt;</dd>" in text
    assert '@top-right { content: "OFFICIAL-SENSITIVE"' in text
    assert 'class="table-wrap wide"' in page.read_text(encoding="utf-8")
    assert '@bottom-left { content: "Report: Alphaton, Jan 2020 to Dec 2020"' in page.read_text(encoding="utf-8")
    pdf = export_pdf(page)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.name == "report.pdf"
    # A4 portrait is 210 x 297 mm (794 x 1123 CSS px); the wide table's page is A4 landscape.
    import weasyprint

    sizes = {(round(p.width), round(p.height)) for p in weasyprint.HTML(filename=str(page)).render().pages}
    assert sizes == {(794, 1123), (1123, 794)}


def test_every_table_also_goes_into_one_workbook(tmp_path):
    from openpyxl import load_workbook

    from pipeline.documents.workbook import tables_workbook

    write_csv(
        pd.DataFrame({"Crime type": ["=cmd", "Drugs"], "Count, Jan 2020 to Dec 2020 (12 months)": [5, 12]}),
        tmp_path / "tables/crime-by-type.csv",
    )
    write_csv(pd.DataFrame({"Month": ["Jul 2019"], "Rows": [0]}), tmp_path / "tables" / ("m" * 40 + ".csv"))
    book = load_workbook(tables_workbook(tmp_path / "tables", tmp_path / "tables.xlsx"))
    assert book.sheetnames == ["crime-by-type", "m" * 31]
    sheet = book["crime-by-type"]
    assert [c.value for c in sheet[1]] == ["Crime type", "Count, Jan 2020 to Dec 2020 (12 months)"]
    assert [c.value for c in sheet[2]] == ["'=cmd", 5] and sheet.freeze_panes == "A2"


def test_years_are_printed_without_a_thousands_separator():
    page = table_html(pd.DataFrame({"Area": ["Bristol"], "Population": [465000], "Population year": [2020]}), "Rates")
    assert '<td class="num">465,000</td><td class="num">2020</td>' in page


def test_the_chart_theme_is_seaborns_whitegrid_notebook_theme():
    """charts.THEME writes out what seaborn's set_theme sets, so that charts need not import
    seaborn; worked out here by seaborn itself, in a fresh interpreter with matplotlib's defaults."""
    import json
    import subprocess
    import sys

    from pipeline.documents.charts import THEME

    code = (
        "import json, matplotlib; matplotlib.use('Agg'); import matplotlib as mpl; "
        "before = {k: str(v) for k, v in mpl.rcParams.items()}; import seaborn as sns; "
        "sns.set_theme(style='whitegrid', context='notebook'); "
        "print(json.dumps({k: str(v) for k, v in mpl.rcParams.items() if str(v) != before[k]}))"
    )
    seaborns = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    # matplotlib validates each value as it is set (a colour string stays as given).
    import matplotlib as mpl

    ours = {k: str(mpl.rcsetup._validators[k](v)) for k, v in THEME.items()}
    assert seaborns.pop("image.cmap") == "rocket"  # left out: seaborn's colour map exists only once seaborn is imported
    assert ours == seaborns


def test_write_csv_writes_what_pandas_to_csv_writes_cell_for_cell(tmp_path):
    """The csv-module writer against pandas' to_csv of the same prepared frame (the reference):
    blanks, floats in numpy's shortest form, whole-number floats as integers, nullable
    integers, booleans, quoting, formulas and symbols; a date column goes to pandas itself."""
    import numpy as np

    from pipeline.documents.tables import _whole_numbers_as_integers, csv_text, write_csv

    def by_pandas(frame: pd.DataFrame, path) -> bytes:
        safe = frame.copy()
        for column in safe.columns:
            safe[column] = (
                safe[column].map(csv_text) if safe[column].dtype == object else _whole_numbers_as_integers(safe[column])
            )
        safe.columns = [csv_text(str(c)) for c in safe.columns]
        safe.to_csv(path, index=False, encoding="utf-8-sig")
        return path.read_bytes()

    frame = pd.DataFrame(
        {
            "threat": ["x", None, np.nan, "=SUM(A1)", "\u2713 yes", 'q"uote,comma', "line\nbreak", 0.1, 3, True],
            "rate": [0.1, np.nan, 1e-05, 1e16, 123456789.123, -0.0, 2.5, 1 / 3, 7.25, 0.30000000000000004],
            "count": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "rank": list(range(10)),
            "flag": [True, False] * 5,
            "people": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
            "\u2212change": np.full(10, 0.1, dtype=np.float32),
        }
    )
    written = write_csv(frame, tmp_path / "fast.csv").read_bytes()
    assert written == by_pandas(frame, tmp_path / "reference.csv")
    assert written.decode("utf-8-sig").splitlines()[:3] == [
        "threat,rate,count,rank,flag,people,'-change",
        "x,0.1,1,0,True,1,0.1",
        ",,2,1,False,,0.1",
    ]
    dated = frame.assign(when=pd.date_range("2020-01-01", periods=10, freq="MS"))
    assert write_csv(dated, tmp_path / "dated.csv").read_bytes() == by_pandas(dated, tmp_path / "dated-reference.csv")
    empty = frame.iloc[:0]
    assert write_csv(empty, tmp_path / "empty.csv").read_bytes() == by_pandas(empty, tmp_path / "empty-reference.csv")


def test_export_checks_the_notebook_against_the_schema_once(tmp_path, monkeypatch):
    """nbconvert's preprocessors run, then the notebook is validated once (not after each of
    them); a notebook that does not fit nbformat's schema is still refused."""
    import nbconvert.exporters.exporter as exporter

    calls = []
    validate = exporter.Exporter._validate_preprocessor  # nbconvert's check after its preprocessors
    monkeypatch.setattr(
        exporter.Exporter, "_validate_preprocessor", lambda self, *a: (calls.append(1), validate(self, *a))[1]
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Report"), nbformat.v4.new_code_cell("1")]
    source = tmp_path / "nb.ipynb"
    nbformat.write(notebook, source)
    export_html(source, tmp_path / "out.html", "My report")
    assert len(calls) == 1
    notebook.cells[1]["execution_count"] = "one"  # not an integer: against the schema
    source.write_text(nbformat.v4.nbjson.writes(notebook), encoding="utf-8")
    with pytest.raises(nbformat.ValidationError):
        export_html(source, tmp_path / "bad.html", "My report")


def test_phone_version_of_a_chart_stays_as_narrow_as_designed():
    """A long title and a legend of several columns make the phone version no wider than its
    4.6 inches at 110 dpi plus savefig's 0.1 inch pad each side (528 pixels): the title wraps
    until it fits and the legend takes one column, rather than the picture widening (a wider
    picture is shrunk more on a phone, and its text with it)."""
    import base64
    import io
    import re

    from PIL import Image

    figure, axis = plt.subplots(figsize=(10, 3.8))
    for n, label in enumerate(
        [
            "assessment window",
            "recorded",
            "control limits (XmR)",
            "outside limits",
            "95% prediction interval",
            "80% prediction interval",
            "forecast",
        ]
    ):
        axis.plot([1, 2 + n, 3], label=label)
    axis.legend(ncol=3)
    axis.set_title(
        "Violence and sexual offences, South Gloucestershire: recorded per month, with control limits", loc="left"
    )
    figure.tight_layout()
    page = figure_html(figure, "Recorded crime per month")
    narrow = re.search(r'<source media="\(max-width: 40em\)" srcset="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    width, height = Image.open(io.BytesIO(base64.b64decode(narrow.group(1)))).size
    assert 400 < width <= 528
