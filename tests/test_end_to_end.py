"""The real notebooks, run through papermill and nbconvert on a tiny fixture of real data."""

import csv
import gzip
import hashlib
import html
import json
import platform
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, TINY_AREA_CODES

from pipeline.cli import main
from pipeline.errors import InputDataError, StageError
from pipeline.orchestration.run import run_assessment

pytestmark = pytest.mark.e2e

# Residents per LSOA for the tiny area: test figures, chosen so the rates are easy to check.
TINY_LSOA_POPULATION = dict(zip(TINY_AREA_CODES["Tiny South Glos"], [1500, 1400, 1600, 1300, 1700]))


def _params(tmp_path: Path, police: Path, lookup: Path) -> Path:
    def area(name: str, population: int) -> dict:
        return {
            "name": name,
            "lsoa_lookup": str(lookup),
            "population": {"value": population, "year": 2020, "source": "test figure"},
        }

    populations = tmp_path / "lsoa-population.csv"
    populations.write_text(
        "lsoa_code,population\n" + "".join(f"{code},{n}\n" for code, n in TINY_LSOA_POPULATION.items()),
        encoding="utf-8",
    )
    settings = {
        "title": "Tiny Strategic Assessment",
        "area": {
            **area("Tiny South Glos", 8000),
            "lsoa_population": {"path": str(populations), "year": 2019, "source": "test LSOA figures"},
        },
        "comparators": [area("Tiny Bristol", 9000)],
        "period_end": "2020-12",
        "trend_years": 2,
        "inputs": {"police": [str(police)]},
        "output_dir": str(tmp_path / "outputs/tiny"),
        "processed_dir": str(tmp_path / "processed"),
        # Five LSOAs have about 40 rows a month, so ordinary variation can halve a month;
        # a lower threshold keeps the partial-month check for real gaps.
        "partial_month_threshold": 0.3,
        "survey": {
            "sample": True,
            "responses": [str(ROOT / "data/raw/survey/sample-resident-survey-2018-2020.csv")],
            "indicators": str(ROOT / "params/survey-indicators.yaml"),
            "subgroups": [{"column": "neighbourhood", "label": "Neighbourhood"}],
        },
    }
    bundle = ROOT / "data/raw/geography"
    settings["geography"] = {
        "lsoa_boundaries": str(bundle / "lsoa11-boundaries.geojson"),
        "ward_boundaries": str(bundle / "ward19-boundaries.geojson"),
        "lsoa_wards": str(bundle / "lsoa11-ward19.csv.gz"),
        "deprivation": {
            "path": str(bundle / "imd2019-lsoa11.csv.gz"),
            "name": "English Index of Multiple Deprivation 2019",
            "year": 2019,
        },
    }
    default = yaml.safe_load((ROOT / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))["morile"]
    for key in ("model", "moderation"):
        default[key] = str(ROOT / default[key])
    default["scores"] = [str(ROOT / s) for s in default["scores"]]
    settings["morile"] = default
    settings["delivery"] = {
        "plan": str(ROOT / "data/raw/delivery/delivery-plan-2021-22.yaml"),
        "risk_register": str(ROOT / "data/raw/delivery/risk-register-2018-19.yaml"),
        "last_year": str(ROOT / "data/raw/delivery/sample-plan-review-2020-21.yaml"),
        "updates": [str(ROOT / "data/raw/delivery/sample-action-updates-2021-22-Q2.xlsx")],
        "sample": True,
    }
    force_extract = yaml.safe_load((ROOT / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))[
        "force_extract"
    ]
    force_extract["path"] = str(_tiny_extract(tmp_path))
    settings["force_extract"] = force_extract
    settings["commentary"] = {"path": str(ROOT / "data/raw/commentary/sample-commentary.md"), "sample": True}
    settings["partners"] = {
        "catalogue": str(ROOT / "data/raw/partners/catalogue.yaml"),
        "data": [
            str(ROOT / "data/raw/partners/sample-partner-data-monthly.csv"),
            str(ROOT / "data/raw/partners/sample-partner-data-quarterly.xlsx"),
        ],
        "sample": True,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def _params_with_own_moderation(tmp_path: Path, police: Path) -> tuple[Path, Path]:
    """``_params`` over ``police`` (and its lookup.csv), with a copy of the sample MoRiLE
    moderation sheet that a test may edit: (params file, moderation sheet)."""
    import shutil

    moderation = tmp_path / "moderation.xlsx"
    shutil.copy(ROOT / "data/raw/morile/sample-moderation.xlsx", moderation)
    params = _params(tmp_path, police, police / "lookup.csv")
    settings = yaml.safe_load(params.read_text(encoding="utf-8"))
    settings["morile"]["moderation"] = str(moderation)
    params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return params, moderation


def _tiny_extract(tmp_path: Path) -> Path:
    """The bundled sample extract cut to the tiny area's LSOAs and months (as the police fixture is)."""
    codes = set(TINY_AREA_CODES["Tiny South Glos"])
    with gzip.open(
        ROOT / "data/raw/force-extract/south-gloucestershire-crime-extract-sample-2018-01_2021-09.csv.gz",
        "rt",
        newline="",
        encoding="utf-8",
    ) as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [r for r in reader if r[6] in codes and r[3][6:10] <= "2020"]
    path = tmp_path / "tiny-extract.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _extract_count_2020(tmp_path: Path, selected) -> int:
    """Rows of the tiny extract recorded in 2020 that ``selected(row)`` picks, counted with the csv module."""
    with open(tmp_path / "tiny-extract.csv", newline="", encoding="utf-8") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["Date Recorded"][6:10] == "2020" and selected(row))


def _expected_counts(folder: Path, codes: list[str]) -> dict[tuple[str, str], int]:
    """Count the fixture's rows by (month, crime type) with the csv module, Crime IDs once."""
    counts: dict[tuple[str, str], int] = {}
    seen: set[str] = set()
    for path in sorted(folder.rglob("*-street.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in list(csv.reader(handle))[1:]:
                if row[7] not in codes or (row[0] and row[0] in seen):
                    continue
                seen.add(row[0])
                counts[(row[1], row[9])] = counts.get((row[1], row[9]), 0) + 1
    return counts


@pytest.fixture(scope="module")
def published(tmp_path_factory, tiny_police_folder):
    tmp_path = tmp_path_factory.mktemp("e2e")
    params = _params(tmp_path, tiny_police_folder, tiny_police_folder / "lookup.csv")
    report = run_assessment(params)
    return tmp_path, params, report


def _both(report: Path) -> str:
    """The strategic assessment's body and its technical annex, one after the other."""
    return report.read_text(encoding="utf-8") + (report.parent / "technical-annex.html").read_text(encoding="utf-8")


def test_report_is_published_accessible_and_self_contained(published):
    _, _, report = published
    assert report.name == "strategic-assessment.html"
    page = report.read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in page
    assert "<h1>Tiny Strategic Assessment</h1>" in page
    assert '<nav class="toc"' in page and 'href="#executive-summary"' in page and ">Key findings</h3>" in page
    assert "<script" not in page
    assert not re.search(r'(src|href)="https?://', page)
    assert "import " not in page and "validate_params" not in page  # no code cells
    annex = (report.parent / "technical-annex.html").read_text(encoding="utf-8")
    # The body: the monthly trend, the crime, ASB and change maps, and the comparators' bars.
    images = re.findall(r"<img[^>]*>", page)
    assert len(images) == 5
    # The annex: three trend-and-forecast charts, STL, one per survey indicator (5), the
    # deprivation chart, the persistent-hotspots map, the funnel plot, then from the force
    # extract the volume-and-harm chart and a day-by-hour heatmap for 7 of its 8 evidenced
    # threats (modern slavery: no crime in the tiny area's window, so no heatmap); and one line
    # chart per partner indicator (10).
    annex_images = re.findall(r"<img[^>]*>", annex)
    assert len(annex_images) == 3 + 1 + 5 + 1 + 1 + 1 + 1 + 7 + 10
    for img in images + annex_images:
        assert re.search(r'alt="[^"]{40,}"', img) and 'src="data:image/png;base64,' in img
    assert "<caption>" in page and '<th scope="col">' in page
    for section in ("Executive summary", "Crime in the assessment window", "Compared with elsewhere", "Glossary"):
        assert f">{section}</h2>" in page
    for section in ("Financial years", "Data quality", "Methods and sources", "Trends and forecasts in detail"):
        assert f">{section}</h2>" in annex and f">{section}</h2>" not in page
    # Each links to the other; the annex has the body's protections.
    assert 'href="technical-annex.html#trends-and-forecasts-in-detail"' in page
    assert 'href="strategic-assessment.html"' in annex
    assert "<h1>Technical annex: Tiny Strategic Assessment</h1>" in annex
    assert "<script" not in annex and "Content-Security-Policy" in annex and "import " not in annex


def test_tables_match_an_independent_count_of_the_fixture(published, tiny_police_folder):
    _, _, report = published
    expected = _expected_counts(tiny_police_folder, TINY_AREA_CODES["Tiny South Glos"])
    # July 2019 is missing from the data, so July 2020 is left out too: 11 months each.
    before = [f"2019-{m:02d}" for m in range(1, 13) if m != 7]
    after = [f"2020-{m:02d}" for m in range(1, 13) if m != 7]
    with open(report.parent / "tables/crime-by-type.csv", encoding="utf-8-sig", newline="") as handle:
        rows = {r["Crime type"]: r for r in csv.DictReader(handle)}
    # Every count column names its months: the full window, then the like-for-like pair.
    full = "Count, Jan 2020 to Dec 2020 (12 months)"
    before_column = "Like for like: Jan 2019 to Dec 2019 (11 months; Jul 2019 left out)"
    after_column = "Like for like: Jan 2020 to Dec 2020 (11 months; Jul 2020 left out)"
    year = [f"2020-{m:02d}" for m in range(1, 13)]
    for crime_type in ("Violence and sexual offences", "Anti-social behaviour"):
        row = rows[crime_type]
        assert int(row[full]) == sum(expected.get((m, crime_type), 0) for m in year)
        assert int(row[before_column]) == sum(expected.get((m, crime_type), 0) for m in before)
        assert int(row[after_column]) == sum(expected.get((m, crime_type), 0) for m in after)
    all_crime = sum(v for (m, t), v in expected.items() if m in after and t != "Anti-social behaviour")
    assert int(rows["All crime (excluding ASB)"][after_column]) == all_crime
    # Rate per 1,000 uses all 12 usable months of 2020 over the population of 8,000.
    year_2020 = sum(v for (m, t), v in expected.items() if m.startswith("2020") and t != "Anti-social behaviour")
    assert int(rows["All crime (excluding ASB)"][full]) == year_2020
    rate = "Rate per 1,000 residents a year, Jan 2020 to Dec 2020 (12 months)"
    assert float(rows["All crime (excluding ASB)"][rate]) == pytest.approx(year_2020 / 8, abs=0.01)
    # Holm: the unadjusted p is kept, and the adjusted one is never smaller.
    for row in rows.values():
        if row["p (unadjusted)"]:
            assert float(row["p (Holm-adjusted)"]) >= float(row["p (unadjusted)"]) - 1e-9
    tables = sorted(p.name for p in (report.parent / "tables").iterdir())
    assert [t for t in tables if not t.startswith(("survey-", "morile-", "trends-", "hotspots-", "threat-"))] == [
        "actions-change-log.csv",
        "actions-prevention.csv",
        "actions-protection.csv",
        "actions-response.csv",
        "actions.csv",
        "benchmark-rates.csv",
        "comparator-rates.csv",
        "crime-by-type-tests.csv",
        "crime-by-type.csv",
        "deprivation-deciles.csv",
        "extract-reconciliation-monthly.csv",
        "extract-reconciliation.csv",
        "financial-years.csv",
        "grant-allocation.csv",
        "grant-monitoring.csv",
        "harm-by-offence-group.csv",
        "missing-months.csv",
        "monthly-counts.csv",
        "partner-indicator-series.csv",
        "partner-indicators.csv",
        "performance-measures.csv",
        "priorities-ranking.csv",
        "priorities.csv",
        "review-actions.csv",
        "review-measures.csv",
        "risk-register.csv",
        "threats-by-month-three-years.csv",
        "threats-by-month.csv",
        "threats-overview.csv",
        "wards.csv",
    ]
    # Each threat the extract evidences has its top LSOAs, victims and outcomes, but modern
    # slavery (codes 106 and 72, no flag in the sample) has no crime in the tiny area in 2020.
    assert _extract_count_2020(published[0], lambda r: r["HOCode"] in {"106", "72"}) == 0
    # Drug offences other than cannabis: its few crimes in 2020 were all in one LSOA, so its LSOA and
    # victims tables would show the area's published total as one small count: left out (disclosure).
    drugs = [t for t in tables if t.startswith("threat-drug-offences-other-than-cannabis")]
    assert drugs == ["threat-drug-offences-other-than-cannabis-outcomes.csv"]
    assert len([t for t in tables if t.startswith("threat-")]) == 7 * 3 - 2
    # five indicators, each with subgroups, and the summary of the latest year
    assert len([t for t in tables if t.startswith("survey-")]) == 11
    page = _both(report)
    # Jan 2018 to Dec 2020 with July 2019 missing: only 2018/19 is complete.
    assert (
        "Not shown, because the data does not cover all 12 months: 2017/18 (3 months), 2019/20 (11 months), 2020/21 "
        "(9 months)." in page
    )
    years = pd.read_csv(report.parent / "tables/financial-years.csv", encoding="utf-8-sig").set_index("Crime type")
    expected = _expected_counts(tiny_police_folder, TINY_AREA_CODES["Tiny South Glos"])
    fy_2018 = [f"2018-{m:02d}" for m in range(4, 13)] + ["2019-01", "2019-02", "2019-03"]
    assert years.loc["Anti-social behaviour", "2018/19 (Apr 2018 to Mar 2019)"] == sum(
        expected.get((m, "Anti-social behaviour"), 0) for m in fy_2018
    )
    with open(report.parent / "tables/missing-months.csv", encoding="utf-8-sig", newline="") as handle:
        gaps = list(csv.DictReader(handle))
    assert [(g["Area"], g["Month"], g["Status"]) for g in gaps] == [("Tiny South Glos", "Jul 2019", "missing")]


def test_run_record_and_log(published, tiny_police_folder):
    _, _, report = published
    record = json.loads((report.parent / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded"
    assert record["published"] == [
        "morile-review.html",
        "morile-review.docx",
        "strategic-assessment.html",
        "strategic-assessment.docx",
        "technical-annex.html",
        "technical-annex.docx",
        "delivery-plan-appendix.html",
        "delivery-plan-appendix.docx",
        "tables.xlsx",
    ]
    assert [s["name"] for s in record["stages"]] == [
        "police",
        "survey",
        "partners",
        "morile",
        "trends",
        "places",
        "hotspots",
        "extract",
        "report",
        "delivery",
    ]
    assert all(s["seconds"] > 0 and s["ran"] for s in record["stages"])
    assert {s["reason"] for s in record["stages"]} == {"no earlier results of this stage were found"}
    lookup = (tiny_police_folder / "lookup.csv").resolve()
    fingerprints = {i["path"]: i["sha256"] for i in record["inputs"]}
    assert fingerprints[str(lookup)] == hashlib.sha256(lookup.read_bytes()).hexdigest()
    month_files = len(list(tiny_police_folder.rglob("*-street.csv")))
    assert month_files == 35  # Jan 2018 to Dec 2020, less July 2019
    assert (
        len(fingerprints) == month_files + 22
        # lookup, LSOA populations, survey, indicators, model, 3 sheets, moderation, plan, register, last year's
        # review, the Q2 update sheet, 4 geography files, force extract, commentary, partner catalogue and 2 files
    )
    assert record["versions"]["python"] == platform.python_version()
    assert record["params"]["period_end"] == "2020-12"
    assert (report.parent / "run.log").read_text(encoding="utf-8").count("done in") == 10
    assert sorted(p.name for p in (report.parent / "notebooks").iterdir()) == [
        "01_police_data.ipynb",
        "02_survey.ipynb",
        "03_trends.ipynb",
        "04_morile.ipynb",
        "05_places.ipynb",
        "06_force_extract.ipynb",
        "07_hotspots.ipynb",
        "08_partners.ipynb",
        "10_strategic_assessment.ipynb",
        "20_delivery_plan.ipynb",
    ]


def test_a_failing_stage_names_the_notebook_and_keeps_the_last_outputs(published, tmp_path, monkeypatch):
    import shutil

    import nbformat

    import pipeline.orchestration.run

    run_root, params_path, report = published
    before = report.read_bytes()
    notebooks = tmp_path / "notebooks"
    shutil.copytree(pipeline.orchestration.run.NOTEBOOKS_DIR, notebooks)
    trends = nbformat.read(notebooks / "03_trends.ipynb", as_version=4)
    trends.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("a deliberate failure")'))
    nbformat.write(trends, notebooks / "03_trends.ipynb")
    monkeypatch.setattr(pipeline.orchestration.run, "NOTEBOOKS_DIR", notebooks)
    with pytest.raises(StageError) as caught:
        run_assessment(params_path)
    message = str(caught.value)
    assert "Stage 'trends' failed in notebook 03_trends.ipynb, cell" in message
    assert "RuntimeError: a deliberate failure" in message
    assert "were left unchanged" in message
    assert report.read_bytes() == before
    assert (report.parent.with_name("tiny.failed") / "notebooks/03_trends.ipynb").is_file()


def test_a_broken_police_file_is_reported_before_any_notebook_runs(published, tmp_path):
    run_root, params_path, report = published
    before = report.read_bytes()
    failed = report.parent.with_name("tiny.failed")
    failed_before = sorted(p.name for p in failed.rglob("*")) if failed.exists() else None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "2020-01-x-street.csv").write_text("Crime ID,Month,Oops\n1,2020-01,x\n", encoding="utf-8")
    settings = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    settings["inputs"]["police"] = [str(broken)]
    bad_params = tmp_path / "broken.yaml"
    bad_params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        run_assessment(bad_params)
    message = str(caught.value)
    assert "nothing was run and nothing was changed" in message
    assert "2020-01-x-street.csv: the header is not the police.uk" in message
    assert "found:    Crime ID,Month,Oops" in message
    assert report.read_bytes() == before
    assert (sorted(p.name for p in failed.rglob("*")) if failed.exists() else None) == failed_before


def test_cli_prints_errors_without_a_traceback(published, tmp_path, capsys):
    _, params_path, _ = published
    assert main(["check", str(params_path)]) == 0
    assert "every input it names are valid: Tiny South Glos" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("period_end: 2020-13\n", encoding="utf-8")
    assert main(["run", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "Error: Problems in" in err and "period_end" in err and "Traceback" not in err


def test_survey_section_is_labelled_sample_and_matches_a_hand_weighted_mean(published):
    _, _, report = published
    page = _both(report)
    assert ">Resident survey (synthetic sample)</h2>" in page
    assert "Synthetic sample: the survey results in this section are invented test data" in page
    assert page.count("(synthetic sample)") >= 10  # section heading and every survey table caption
    raw = pd.read_csv(ROOT / "data/raw/survey/sample-resident-survey-2018-2020.csv", keep_default_na=False)
    rows = raw[raw["year"] == 2020]
    answer = rows["q_asb_problem"].str.strip().str.lower()
    valid = answer.isin(["very big problem", "fairly big problem", "not a very big problem", "not a problem at all"])
    positive = answer.isin(["very big problem", "fairly big problem"])
    expected = 100 * (rows["weight"] * positive)[valid].sum() / rows["weight"][valid].sum()
    table = pd.read_csv(report.parent / "tables/survey-asb_problem.csv", encoding="utf-8-sig")
    assert table.loc[table["Year"] == 2020, "Weighted %"].item() == pytest.approx(expected, abs=0.05)
    assert table.loc[table["Year"] == 2020, "Base (respondents)"].item() == int(valid.sum())


def test_morile_review_and_priorities(published):
    _, _, report = published
    review = (report.parent / "morile-review.html").read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in review and "<script" not in review
    assert "Illustrative sample: the scores on this page" in review
    assert "Forces use variants of MoRiLE" in review
    for section in ("Ranked threats", "Factor scores", "Where partners disagree", "Moderation", "Sensitivity"):
        assert f">{section}</h2>" in review
    assert "Sample partner A" not in review  # scorers' names stay off the page
    assert re.search(r'<img [^>]*alt="Heatmap of 12 factor scores for 12 threats', review)
    ranking = pd.read_csv(report.parent / "tables/morile-ranking.csv", encoding="utf-8-sig")
    assert len(ranking) == 12 and ranking["Rank"].is_monotonic_increasing
    assert (ranking["Proposed priority"] == "Yes").sum() >= 8
    page = report.read_text(encoding="utf-8")
    assert ">Prioritisation (MoRiLE) (illustrative sample)</h2>" in page


def test_delivery_plan_appendix(published):
    _, _, report = published
    appendix = (report.parent / "delivery-plan-appendix.html").read_text(encoding="utf-8")
    assert '<html lang="en-GB">' in appendix and "<script" not in appendix and "import " not in appendix
    for section in ("Priorities", "Police and Crime Grant", "Performance measures", "Risk register"):
        assert f">{section}</h2>" in appendix
    assert "is \u00a392,680. The allocations below total \u00a367,980, leaving \u00a324,700" in appendix
    assert "Sample data:" in appendix
    assert "not real results: survey results; prioritisation scores; partner indicators; action owners" in appendix
    # Actions managed: by priority and by strand, status by colour, symbol and word, the Q2 updates logged.
    for section in ("Actions", "Last year&#x27;s plan reviewed (2020/21)"):
        assert f">{section}</h2>" in appendix
    assert ">By priority</h3>" in appendix and ">By strand</h3>" in appendix
    assert '<span class="status status-at-risk">\u25b2 at risk</span>' in appendix
    actions = pd.read_csv(report.parent / "tables/actions.csv", encoding="utf-8-sig").set_index("ID")
    assert sorted(actions["Status"]) == ["at risk", "complete", "off track", "on track", "on track"]
    assert (
        actions.loc["DA-1", "Owner"] == "Domestic Abuse Partnership" and actions.loc["DA-1", "Strand"] == "Protection"
    )
    log = pd.read_csv(report.parent / "tables/actions-change-log.csv", encoding="utf-8-sig")
    assert set(log["Quarter"]) == {"Q2"} and (log["What changed"] == "status").sum() == 5
    # Last year's review: every action with its outcome, every measure against its target.
    reviewed = pd.read_csv(report.parent / "tables/review-actions.csv", encoding="utf-8-sig")
    assert len(reviewed) == 7 and "carried over" in set(reviewed["Outcome"])
    measures = pd.read_csv(report.parent / "tables/review-measures.csv", encoding="utf-8-sig").set_index("Indicator")
    marac = "Repeat victimisation rate following a MARAC for vulnerable victims of domestic abuse"
    assert measures.loc[marac, "Last year's result"] == "9%" and measures.loc[marac, "Last year"] == "not achieved"
    # The grant's projects: Q1 and Q2 returns against an even profile (half of each allocation by Q2).
    monitoring = pd.read_csv(report.parent / "tables/grant-monitoring.csv", encoding="utf-8-sig").set_index("Project")
    assert monitoring.loc["Towards Freedom Programme", "Spend to date (£)"] == 4900 + 5300
    assert monitoring.loc["Towards Freedom Programme", "Variance (£)"] == pytest.approx(10200 - 20705 / 2)
    assert "No return for Q2." in monitoring.loc["Youth Offending Team substance service", "Outputs"]
    # One set of priorities: the appendix's table, the assessment and the MoRiLE review agree,
    # and the sample plan's two overrides (with their reasons) are stated in each.
    agreed = pd.read_csv(report.parent / "tables/priorities.csv", encoding="utf-8-sig")
    chosen = list(agreed.loc[agreed["Priority"] == "Yes", "Threat"])
    assert "Serious sexual offences" in chosen and "Fraud and cyber crime" not in chosen
    sentence = f"Agreed priorities ({len(chosen)}), the same list as the delivery plan&#x27;s: {', '.join(chosen)}."
    review = (report.parent / "morile-review.html").read_text(encoding="utf-8")
    for page in (report.read_text(encoding="utf-8"), review):
        assert sentence in page
        assert (
            "Fraud and cyber crime was proposed by the ranking but removed by the partnership board, 4 February "
            "2021: Illustrative" in page
        )
        assert (
            "Serious sexual offences was added to the MoRiLE ranking&#x27;s proposal by the moderation meeting, "
            "19 January 2021: Illustrative" in page
        )
    # The executive summary, before everything else, gives each agreed priority with its rank.
    page = report.read_text(encoding="utf-8")
    summary = page[page.index('id="executive-summary"') : page.index('id="about-this-assessment"')]
    assert all(f"{threat}: MoRiLE rank" in summary for threat in chosen)
    assert "added by the moderation meeting, 19 January 2021: Illustrative" in summary
    assert "What the data cannot tell" in summary
    # The sample commentary sits in its sections, its references filled from this (tiny) run's
    # published counts, not the default data's 14,400 crimes; recommendations link their evidence.
    counts = pd.read_csv(report.parent / "tables/crime-by-type.csv", encoding="utf-8-sig").set_index("Crime type")
    crimes = int(counts.iloc[:, 0]["All crime (excluding ASB)"])
    assert f"police recorded {crimes:,} crimes" in summary and crimes != 14400
    assert "{{" not in page
    trend = page[page.index('id="monthly-trend"') :]
    assert trend.index('<aside class="commentary"') < trend.index("<img")
    assert "Analyst&#x27;s commentary (sample text)" in trend[:2000]
    assert '<strong>Evidence:</strong> <a href="#hotspots">Hotspots</a>' in summary
    register = pd.read_csv(report.parent / "tables/risk-register.csv", encoding="utf-8-sig")
    assert len(register) == 16 and register["Score"].is_monotonic_decreasing
    measures = pd.read_csv(report.parent / "tables/performance-measures.csv", encoding="utf-8-sig")
    # The page shows a symbol and a word; the CSV keeps the word only (spreadsheets garble symbols).
    assert set(measures["Whether achieved"]) <= {
        "achieved",
        "not achieved",
        "within the margin of error",
        "not available",
        "no target",
    }
    page_text = (report.parent / "delivery-plan-appendix.html").read_text(encoding="utf-8")
    assert "\u2713 achieved" in page_text or "\u2248 within the margin of error" in page_text
    # The crime measure's actual is the tiny area's rate, the same figure as in the assessment's table.
    crime = pd.read_csv(report.parent / "tables/crime-by-type.csv", encoding="utf-8-sig").set_index("Crime type")
    rate = crime.loc["All crime (excluding ASB)", "Rate per 1,000 residents a year, Jan 2020 to Dec 2020 (12 months)"]
    total = measures.set_index("Indicator").loc["Total recorded crimes (excluding ASB) per 1,000 population", "Actual"]
    assert total == f"{rate:.1f} per 1,000 a year (police.uk, Jan 2020 to Dec 2020 (12 months))"
    # The previous result says it is 11 months scaled to a year (July 2019 is missing).
    previous = measures.set_index("Indicator").loc[
        "Total recorded crimes (excluding ASB) per 1,000 population", "Previous result"
    ]
    assert previous.endswith(
        "(police.uk, Jan 2019 to Dec 2019 (11 months; Jul 2019 left out), scaled up to a year from 11 months)"
    )


def test_trend_and_hotspot_sections(published, tiny_police_folder):
    _, _, report = published
    page = _both(report)
    for section in ("Trends and forecasts", "Hotspots"):
        assert f">{section}</h2>" in page
    assert "Seasonal pattern</h3>" in page and "Exceptional months</h3>" in page
    # Labels inside sentences keep their capitals ("ASB", not "asb").
    assert "Line chart of all crime (excluding ASB) recorded per month" in page
    assert "(excluding asb)" not in page
    summary = pd.read_csv(report.parent / "tables/trends-summary.csv", encoding="utf-8-sig").set_index("Crime type")
    total = summary.loc["All crime (excluding ASB)", "Trend (seasonal model)"]
    # Jan 2018 to Dec 2020 less July 2019: 35 usable months, one short of the 36 a trend needs.
    assert total == "not given: fewer than 36 usable months"
    # Rare types in five LSOAs are too sparse to model, and the table says so rather than guessing.
    assert summary["Trend (seasonal model)"].str.startswith("not modelled: fewer than 3 a month on average").any()
    # The forecast covers the same months as the count beside it, a year on; a type with no model says why.
    assert (
        "Count, Jan 2020 to Dec 2020 (12 months)" in summary.columns
        and "Forecast, Jan 2021 to Dec 2021 (12 months)" in summary.columns
    )
    assert (
        summary["Forecast 95% interval"] == "not computed: too few months or crimes for a forecast (see trend)"
    ).any()
    lsoas = pd.read_csv(report.parent / "tables/hotspots-lsoas-crime.csv", encoding="utf-8-sig", dtype=str)
    assert len(lsoas) == 5  # the area's five LSOAs
    # Rates per 1,000 residents against a count of the fixture made with the csv module.
    counted: dict[str, int] = {}
    seen: set[str] = set()
    for path in sorted(tiny_police_folder.rglob("2020-*-street.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in list(csv.reader(handle))[1:]:
                if (
                    row[7] in TINY_LSOA_POPULATION
                    and row[9] != "Anti-social behaviour"
                    and not (row[0] and row[0] in seen)
                ):
                    seen.add(row[0])
                    counted[row[7]] = counted.get(row[7], 0) + 1
    assert lsoas.columns[2] == "Count, Jan 2020 to Dec 2020 (12 months)"
    for row in lsoas.itertuples():
        code = row[2]
        assert int(row[3]) == counted[code]
        assert int(row.Residents) == TINY_LSOA_POPULATION[code]
        assert float(row[6]) == pytest.approx(round(counted[code] / TINY_LSOA_POPULATION[code] * 1000, 1))
    assert "Rates are per 1,000 residents (test LSOA figures, 2019)" in page
    by_type = pd.read_csv(report.parent / "tables/hotspots-by-type.csv", encoding="utf-8-sig", dtype=str)
    count_column = "Count, Jan 2020 to Dec 2020 (12 months)"
    numeric = pd.to_numeric(by_type[count_column], errors="coerce")
    assert not numeric.between(1, 5).any()  # every count from 1 to 5 below area level is suppressed
    assert (by_type[count_column] == "*").any()
    assert "a count from 1 to 5, suppressed" in page


def test_the_collection_and_update_commands_write_their_sheets(published, tmp_path, capsys):
    """partner-template and action-updates from the command line, on the run's params: the
    partners' workbook has a sheet per agency; the owners' sheet holds the agreed priorities'
    actions, as the last run's ranking and the plan's decisions give them, with Q2's statuses."""
    from openpyxl import load_workbook

    _, params_path, _ = published
    workbook = tmp_path / "partners.xlsx"
    assert main(["partner-template", str(params_path), "--out", str(workbook)]) == 0
    assert load_workbook(workbook).sheetnames[:3] == ["About", "Domestic Abuse Partnership", "Youth Offending Service"]
    sheet = tmp_path / "q3.xlsx"
    assert main(["action-updates", str(params_path), "--quarter", "q3", "--out", str(sheet)]) == 0
    rows = list(load_workbook(sheet)["Actions"].iter_rows(min_row=6, values_only=True))
    assert [r[0] for r in rows] == ["ASB-1", "ASB-2", "DA-1", "DA-2", "HC-1"]
    assert sorted(r[6] for r in rows) == ["at risk", "complete", "off track", "on track", "on track"]  # after Q2
    capsys.readouterr()
    assert main(["action-updates", str(params_path), "--quarter", "Q5", "--out", str(sheet)]) == 1
    assert "--quarter 'Q5': use one of Q1, Q2, Q3, Q4" in capsys.readouterr().err


def test_morile_template_command_writes_a_sheet_with_evidence(published, tmp_path, capsys):
    from openpyxl import load_workbook

    _, params_path, report = published
    out = tmp_path / "sheet.xlsx"
    assert main(["morile-template", str(params_path), "--out", str(out)]) == 0
    assert str(out.resolve()) in capsys.readouterr().out
    sheet = load_workbook(out)["Scores"]
    rows = {sheet.cell(row=r, column=1).value: r for r in range(7, 19)}
    burglary = rows["Burglary"]
    crime = pd.read_csv(report.parent / "tables/crime-by-type.csv", encoding="utf-8-sig").set_index("Crime type")
    # MoRiLE evidence is the full-window count, headed with its months.
    assert sheet.cell(row=burglary, column=2).value == crime.loc["Burglary", "Count, Jan 2020 to Dec 2020 (12 months)"]
    assert sheet.cell(row=6, column=2).value == "Crimes, Jan 2020 to Dec 2020 (12 months)"
    # Hate crime now comes from the force extract: the hate flag or a racially or religiously aggravated code.
    tmp, _, _ = published
    hate = _extract_count_2020(tmp, lambda r: r["Hate Flag"] == "Y" or r["HOCode"] in {"8P", "105B", "8M", "58J", "9B"})
    assert sheet.cell(row=rows["Hate crime"], column=2).value == hate
    # Fraud: no crime data isolates it, so the sheet points to its partner indicator, Action Fraud's reports.
    assert sheet.cell(row=rows["Fraud and cyber crime"], column=2).value == (
        "not in police.uk data or the extract; see partner indicators (Evidence sheet)"
    )
    evidence_rows = list(load_workbook(out)["Evidence"].iter_rows(min_row=2, values_only=True))
    evidence = {r[0]: r[1] for r in evidence_rows}
    assert evidence["Hate crime"].endswith("(synthetic sample)") and evidence["Anti-social behaviour"] == "police.uk"
    partners = {r[0]: r[5] for r in evidence_rows}
    assert partners["Fraud and cyber crime"].startswith("Fraud reported to Action Fraud")
    assert partners["Child exploitation"].startswith("Child exploitation referrals")
    assert evidence["Serious organised crime"].startswith("none: neither police.uk, the force extract nor a partner")
    assert sheet.cell(row=burglary, column=5).value.startswith("no trend given: 35 usable months")


def test_a_four_month_window_publishes_no_figure_it_did_not_compute(tmp_path, tiny_police_folder):
    """Window May 2017 to Apr 2018 over data that starts in Jan 2018: 4 usable months, none a year earlier."""
    params_path = _params(tmp_path, tiny_police_folder, tiny_police_folder / "lookup.csv")
    settings = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    settings["period_end"] = "2018-04"
    settings["comparators"] = []
    settings.pop("morile"), settings.pop("delivery"), settings.pop("survey")
    params_path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    report = run_assessment(params_path)
    page = _both(report)
    text = re.sub(r"<[^>]+>", " ", page)
    assert "In Jan 2018 to Apr 2018 (4 months), police recorded" in text
    assert (
        "No month of May 2017 to Apr 2018 has usable data a year earlier as well, so no change on the year before "
        "can be given or tested" in text
    )
    assert "was not modelled: 4 usable months, and a seasonal trend needs at least 24" in text
    assert "Rises by LSOA are not shown" in text
    for wrong in (" 0 crimes", "0 of the 12", ">nan<", "NaN", "<NA>", "1 months"):
        assert wrong not in text
    crime = pd.read_csv(report.parent / "tables/crime-by-type.csv", encoding="utf-8-sig")
    assert list(crime.columns) == [
        "Crime type",
        "Count, Jan 2018 to Apr 2018 (4 months)",
        "Rate per 1,000 residents a year, Jan 2018 to Apr 2018 (4 months), scaled up to 12 months from 4",
    ]
    for path in (report.parent / "tables").glob("*.csv"):
        content = path.read_text(encoding="utf-8-sig")
        assert "nan" not in content.lower().replace("financ", "").replace("nance", ""), path.name
    record = json.loads((report.parent / "run.json").read_text(encoding="utf-8"))
    assert any("Only 4 of the 12 months" in w for w in record["warnings"])
    assert "Only 4 of the 12 months" in (report.parent / "run.log").read_text(encoding="utf-8")


def _count_2020_by_lsoa(folder: Path, asb: bool) -> dict[str, int]:
    """Crimes (or ASB) in 2020 per tiny-area LSOA, counted with the csv module, Crime IDs once."""
    counted: dict[str, int] = {}
    seen: set[str] = set()
    for path in sorted(folder.rglob("2020-*-street.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in list(csv.reader(handle))[1:]:
                if (
                    row[7] in TINY_LSOA_POPULATION
                    and (row[9] == "Anti-social behaviour") == asb
                    and not (row[0] and row[0] in seen)
                ):
                    seen.add(row[0])
                    counted[row[7]] = counted.get(row[7], 0) + 1
    return counted


def test_maps_wards_and_deprivation(published, tiny_police_folder):
    _, _, report = published
    page = _both(report)
    assert ">Maps and wards</h3>" in page and ">Crime and deprivation</h3>" in page
    maps_alt = re.findall(r'alt="(Map of [^"]+)"', page)
    assert len(maps_alt) == 4
    assert "Contains OS data © Crown copyright and database right" in page
    # The bundled lookup puts 862-864 in Severn Vale and 865-866 in Bitton & Oldland Common.
    crime = _count_2020_by_lsoa(tiny_police_folder, asb=False)
    wards = pd.read_csv(report.parent / "tables/wards.csv", encoding="utf-8-sig", dtype=str).set_index("Ward")
    count_column = next(c for c in wards.columns if c.startswith("Crimes (excl. ASB), Jan 2020 to Dec 2020"))
    assert int(wards.loc["Severn Vale", count_column]) == sum(crime[c] for c in ("E01014862", "E01014863", "E01014864"))
    assert int(wards.loc["Bitton & Oldland Common", count_column]) == sum(crime[c] for c in ("E01014865", "E01014866"))
    assert wards.loc["Severn Vale", "LSOAs"] == "3"
    # IMD 2019 ranks 26425, 25488, 21849, 19576, 30590 of 32,844: deciles 9, 8, 7, 6 and 10,
    # one LSOA each, so each decile's crime is that LSOA's.
    deciles = pd.read_csv(report.parent / "tables/deprivation-deciles.csv", encoding="utf-8-sig", dtype=str)
    crime_column = next(c for c in deciles.columns if c.startswith("Crimes (excl. ASB)"))
    by_decile = dict(zip(deciles.iloc[:, 0], deciles[crime_column]))
    for decile, code in ((9, "E01014862"), (8, "E01014863"), (7, "E01014864"), (6, "E01014865"), (10, "E01014866")):
        label = next(k for k in by_decile if str(k).startswith(str(decile)))
        assert int(by_decile[label]) == crime[code]
    assert "None of Tiny South Glos's 5 ranked LSOAs is among the 20% most deprived in England" in html.unescape(
        page
    )  # the page's text, its entities read


def test_partner_indicators_in_the_assessment_the_priorities_and_the_measures(published):
    """The sample partner data: a section by theme with each indicator's change and trend, child
    exploitation evidenced by a partner indicator, and partner measures in the delivery plan."""
    _, _, report = published
    page = html.unescape(report.read_text(encoding="utf-8"))
    assert ">Partner agencies' data (synthetic sample)</h2>" in page
    # The running head names every sample input.
    assert "Sample data, not real results: survey results; prioritisation scores; force crime extract; partner" in page
    table = pd.read_csv(report.parent / "tables/partner-indicators.csv", encoding="utf-8-sig").set_index("Indicator")
    assert len(table) == 10
    # MARAC repeats 2020/21 Q3 from the sample file, counted here with openpyxl: its share and interval.
    from openpyxl import load_workbook

    rows = list(
        load_workbook(ROOT / "data/raw/partners/sample-partner-data-quarterly.xlsx").active.iter_rows(values_only=True)
    )
    latest = next(r for r in rows if r[0] == "marac_repeats" and r[1] == "2020/21 Q3")
    share = 100 * latest[3] / latest[4]
    assert table.loc["MARAC repeat referrals", "Latest"].startswith(f"{share:.1f}% (")
    assert table.loc["MARAC repeat referrals", "Latest"].endswith(", 2020/21 Q3")
    # Child exploitation is evidenced by partners' data, not "not evidenced"; organised crime names what would be.
    evidence = page[page.index("Evidence from partners' data") :]
    assert "Child exploitation: Child exploitation referrals (Integrated Children's Services)" in evidence
    assert "Serious organised crime: no police.uk crime type, force extract definition or partner indicator" in evidence
    appendix = html.unescape((report.parent / "delivery-plan-appendix.html").read_text(encoding="utf-8"))
    measures = pd.read_csv(report.parent / "tables/performance-measures.csv", encoding="utf-8-sig").set_index(
        "Indicator"
    )
    marac = measures.loc["Repeat victimisation rate following a MARAC for vulnerable victims of domestic abuse"]
    assert marac["Actual"].startswith(f"{share:.1f}% (95% CI ") and "synthetic sample 2020/21 Q3" in marac["Actual"]
    # Its Wilson interval, worked out here with statsmodels, straddles the 28% floor: within the margin of error.
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(latest[3], latest[4], method="wilson")
    assert low < 0.28 < high
    assert marac["Target"] == "28%-40%" and marac["Whether achieved"] == "within the margin of error"
    assert "partner agencies' figures in the performance measures are a synthetic sample" in appendix


def test_threat_sections_from_a_tiny_extract(published, tiny_police_folder):
    tmp, _, report = published
    page = _both(report)
    tables = report.parent / "tables"
    overview = pd.read_csv(tables / "threats-overview.csv", encoding="utf-8-sig").set_index("Threat")
    count = "Crimes, Jan 2020 to Dec 2020 (12 months)"
    assert overview.loc["Domestic abuse", count] == _extract_count_2020(tmp, lambda r: r["DA Flag"] == "Y")
    assert overview.loc["Drug offences (other than cannabis)", count] == _extract_count_2020(
        tmp, lambda r: r["HOCode"] in {"92A", "92C", "92D"}
    )
    assert overview.loc["Serious sexual offences", count] == _extract_count_2020(
        tmp, lambda r: r["HOCode"][:2] in {"17", "19", "20", "21", "22", "23", "70", "71", "72", "73", "88"}
    )
    assert overview.loc["All crime in the extract", count] == _extract_count_2020(tmp, lambda r: True)
    # Both sides of the reconciliation against counts made with the csv module. The extract was
    # cut from the same real crimes, but police.uk counts a Crime ID once per area: one crime
    # listed in two LSOAs falls in the tiny area here and elsewhere in South Gloucestershire there.
    recon = pd.read_csv(tables / "extract-reconciliation-monthly.csv", encoding="utf-8-sig").set_index(
        ["police.uk crime type", "Month"]
    )
    police = _expected_counts(tiny_police_folder, TINY_AREA_CODES["Tiny South Glos"])
    offence_types = pd.read_csv(ROOT / "pipeline/data/offence_codes.csv", dtype=str).set_index("offence_code")[
        "police_uk_category"
    ]
    extract = {}
    with open(tmp / "tiny-extract.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (offence_types[row["HOCode"]], f"{row['Date Recorded'][6:10]}-{row['Date Recorded'][3:5]}")
            extract[key] = extract.get(key, 0) + 1
    for (crime_type, month), row in recon.iterrows():
        assert row["Force extract"] == extract.get((crime_type, month), 0)
        assert row["police.uk"] == police.get((month, crime_type), 0)
    differing = recon[recon["Difference"] != 0]
    assert 0 < len(differing) <= 3 and differing["Difference"].abs().sum() <= 3
    assert f"{len(differing)} of {len(recon):,} crime-type-and-month cells differ" in page
    assert "The partnership's threats in the force crime extract (synthetic sample)" in html.unescape(page)
    assert (
        "Child exploitation (a proposed priority): no offence code isolates it and the extract has no child "
        "exploitation flag" in page
    )
    for threat in (
        "Domestic abuse",
        "Serious violence",
        "Hate crime",
        "Drug offences (other than cannabis)",
        "Serious sexual offences",
    ):
        assert f"{threat} by day of the week and hour committed" in page
    victims = pd.read_csv(tables / "threat-domestic-abuse-victims.csv", encoding="utf-8-sig", dtype=str)
    small = victims.drop(columns=[victims.columns[0], "Total"]).apply(pd.to_numeric, errors="coerce")
    assert not ((small >= 1) & (small <= 5)).any().any()  # no count from 1 to 5 is published


def test_no_suppressed_cell_of_a_real_data_cut_can_be_worked_back_out(published):
    """Every table of the tiny real-data run (ten LSOAs: small counts everywhere), searched by
    the subtraction checker: no suppressed cell is recoverable and no small count is shown."""
    from pipeline.documents.disclosure import check_run

    _, _, report = published
    assert (report.parent / "tables").is_dir()
    assert check_run(report.parent, threshold=5) == []


def test_every_document_is_also_a_word_file_that_reads_back_with_its_tables_and_charts(published):
    """Read back with python-docx (not with pandoc, which wrote them): the Word file has the page's
    title as its first heading, every table of the page with its header row repeated, every chart
    with the page's alt text, and a page number field in the footer."""
    import docx
    from docx.oxml.ns import qn

    _, _, report = published
    for page in sorted(report.parent.glob("*.html")):
        word = docx.Document(str(page.with_suffix(".docx")))
        html_text = page.read_text(encoding="utf-8")
        title = html.unescape(re.search(r"<h1[^>]*>(.*?)</h1>", html_text, flags=re.S).group(1))
        headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
        assert headings[0] == re.sub(r"<[^>]+>", "", title), page.name
        assert len(word.tables) == html_text.count("<table"), page.name
        assert all(t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None for t in word.tables)
        alts = [html.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', html_text)]
        described = [shape._inline.docPr.get("descr") for shape in word.inline_shapes]
        assert described == alts, page.name
        footer = word.sections[0].footer._element.xml
        assert "PAGE" in footer and "Page " in footer, page.name
