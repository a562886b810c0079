"""Incremental reruns on the real notebooks: what is reused, what reruns and why, and that a
rerun publishes what a full run would. A file of its own so that `make test` can run it on
one core while the other end-to-end tests run on the other."""

import json

import pytest
from test_end_to_end import _params_with_own_moderation

from pipeline.orchestration.run import cpus, run_assessment

pytestmark = pytest.mark.e2e


def test_a_rerun_reuses_what_did_not_change_and_publishes_what_a_full_run_would(tmp_path, tiny_police_folder):
    import openpyxl

    params, moderation = _params_with_own_moderation(tmp_path, tiny_police_folder)
    report = run_assessment(params)
    out = report.parent

    def stages() -> dict[str, dict]:
        return {s["name"]: s for s in json.loads((out / "run.json").read_text(encoding="utf-8"))["stages"]}

    run_assessment(params)
    assert {name: s["ran"] for name, s in stages().items()} == dict.fromkeys(stages(), False)
    assert {s["reason"] for s in stages().values()} == {"nothing it depends on changed"}

    # The facilitator corrects a reason in the moderation sheet after the meeting.
    book = openpyxl.load_workbook(moderation)
    book["Moderation"].cell(row=2, column=4).value = "Corrected after the meeting: county lines referrals doubled."
    book.save(moderation)
    run_assessment(params)
    ran = {name for name, s in stages().items() if s["ran"]}
    assert ran == {"morile", "report", "delivery"}
    assert stages()["morile"]["reason"] == "input file(s) moderation.xlsx changed"
    assert stages()["report"]["reason"].startswith("stage 'morile' reran")
    review = (out / "morile-review.html").read_text(encoding="utf-8")
    assert "Corrected after the meeting" in review
    assert "processed-outputs-written" not in review  # the scheduler's tag stays out of the page
    # The report started once the MoRiLE stage had written its ranking, before its review page
    # was made (with a second worker free for it: one CPU runs one stage at a time).
    log_lines = (out / "run.log").read_text(encoding="utf-8").splitlines()
    at = {
        key: next(i for i, line in enumerate(log_lines) if key in line)
        for key in ("morile: processed outputs written", "] report: write the strategic assessment", "morile done in")
    }
    if cpus() > 1:
        assert (
            at["morile: processed outputs written"]
            < at["] report: write the strategic assessment"]
            < at["morile done in"]
        )
    # No chart's data changed, so the report reused every chart it drew last time.
    charts = stages()["report"]["charts"]
    assert charts["drawn"] == 0 and charts["reused"] >= 10
    incremental = {p.relative_to(out): p.read_bytes() for p in [*out.glob("tables/*.csv"), *out.glob("*.html")]}

    run_assessment(params, force=True)
    assert {s["reason"] for s in stages().values()} == {"--force was given"}
    assert stages()["report"]["charts"] == {"drawn": charts["reused"], "reused": 0}  # --force redraws every chart
    full = {p.relative_to(out): p.read_bytes() for p in [*out.glob("tables/*.csv"), *out.glob("*.html")]}
    assert sorted(incremental) == sorted(full) and len(full) > 30
    assert [name for name in full if incremental[name] != full[name]] == []
