from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline.analysis.morile import (
    FIRST_FACTOR_COLUMN,
    HEADER_ROW,
    MODERATION_HEADERS,
    apply_moderation,
    combine_scores,
    load_model,
    moderation_changes,
    rank_scores,
    read_moderation,
    read_scoring_sheet,
    score_threats,
    sensitivity,
    threat_evidence,
    threat_risk_score,
    write_template,
)
from pipeline.errors import InputDataError, ParamsError
from pipeline.params import MorileSettings, Threat

ROOT = Path(__file__).resolve().parent.parent
THEMATIC = ROOT / "params/morile-thematic.yaml"
FOUR_BY_FOUR = ROOT / "params/morile-4x4.yaml"
THREATS = [
    Threat(name="Burglary", crime_types=["Burglary"]),
    Threat(name="Hate crime"),
    Threat(name="=cmd|' /C calc'!A0"),
]


def _settings(model: Path, threats=THREATS, **extra) -> MorileSettings:
    extra.setdefault("bands", [{"label": "High", "min_score": 10}, {"label": "Low", "min_score": 0}])
    extra.setdefault("priorities", {"top": 1})
    return MorileSettings(model=model, threats=threats, **extra)


def _values(table: dict[str, dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"threat": t, "factor": f, "value": v} for t, fs in table.items() for f, v in fs.items()])


def _thematic(physical, psychological, financial, community, environmental, frequency, trend, position=2, confidence=2):
    return {
        "physical": physical,
        "psychological": psychological,
        "financial": financial,
        "community": community,
        "environmental": environmental,
        "frequency": frequency,
        "trend": trend,
        "capacity": position,
        "capability": position,
        "partnership_response": position,
        "public_expectation": position,
        "evidence_confidence": confidence,
    }


def test_thematic_model_scores_harm_times_likelihood_by_hand():
    model = load_model(THEMATIC)
    values = _values({"A": _thematic(4, 3, 1, 2, 0, 4, 3), "B": _thematic(1, 1, 1, 1, 1, 5, 4, position=4)})
    table = score_threats(
        values, model, _settings(THEMATIC, bands=[{"label": "High", "min_score": 60}, {"label": "Low", "min_score": 0}])
    ).set_index("threat")
    # A: harm 4+3+1+2+0 = 10, likelihood 4+3 = 7, score 70. B: harm 5, likelihood 9, score 45.
    assert table.loc["A", ["harm", "likelihood", "score"]].tolist() == [10, 7, 70]
    assert table.loc["B", "score"] == 45
    assert table.loc["B", "organisational_position"] == 4  # shown beside, not part of the score
    assert (table.loc["A", "band"], table.loc["B", "band"]) == ("High", "Low")
    assert (table.loc["A", "rank"], table.loc["B", "rank"]) == (1, 2)


def test_one_threat_scored_alone_matches_the_hand_worked_thematic_score():
    # The sensitivity check's single-threat scoring: A is harm 10 x likelihood 7 = 70 (as above);
    # the position and confidence groups are shown, not multiplied in.
    model = load_model(THEMATIC)
    assert threat_risk_score(_thematic(4, 3, 1, 2, 0, 4, 3), model) == 70
    assert threat_risk_score(_thematic(1, 1, 1, 1, 1, 5, 4, position=4, confidence=1), model) == 45


def test_four_by_four_model_scores_impact_times_likelihood():
    model = load_model(FOUR_BY_FOUR)
    values = _values({"Flood": {"impact": 4, "likelihood": 2}, "Fire": {"impact": 3, "likelihood": 3}})
    table = score_threats(values, model, _settings(FOUR_BY_FOUR)).set_index("threat")
    assert table.loc["Flood", "score"] == 8 and table.loc["Fire", "score"] == 9
    assert table.loc["Fire", "rank"] == 1


def test_ties_share_a_rank_and_are_ordered_by_name():
    assert rank_scores(pd.Series([50, 70, 50, 20])).tolist() == [2, 1, 2, 4]
    model = load_model(FOUR_BY_FOUR)
    values = _values(
        {
            "Zeta": {"impact": 2, "likelihood": 3},
            "Alpha": {"impact": 3, "likelihood": 2},
            "Mid": {"impact": 1, "likelihood": 1},
        }
    )
    table = score_threats(values, model, _settings(FOUR_BY_FOUR, priorities={"top": 1}))
    assert table["threat"].tolist() == ["Alpha", "Zeta", "Mid"]
    assert table["rank"].tolist() == [1, 1, 3]
    assert table["priority"].tolist() == [True, True, False]  # a tie at the cut-off brings both in


def test_priorities_by_band():
    model = load_model(FOUR_BY_FOUR)
    values = _values({"A": {"impact": 4, "likelihood": 4}, "B": {"impact": 2, "likelihood": 2}})
    table = score_threats(values, model, _settings(FOUR_BY_FOUR, priorities={"bands": ["High"]})).set_index("threat")
    assert bool(table.loc["A", "priority"]) and not bool(table.loc["B", "priority"])


def test_malformed_models_get_a_clear_error(tmp_path):
    bad = tmp_path / "model.yaml"
    bad.write_text(
        "name: Broken\nscales:\n  s: [{label: Low, value: 2}, {label: High, value: 1}]\n"
        "groups:\n  - {id: g, label: G, aggregate: median, role: shown, factors: [{id: f, label: F, scale: "
        "missing}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ParamsError) as caught:
        load_model(bad)
    message = str(caught.value)
    assert "aggregate" in message and "'sum', 'mean' or 'max'" in message
    bad.write_text(
        "name: Broken\nscales:\n  s: [{label: Low, value: 2}, {label: High, value: 1}]\n"
        "groups:\n  - {id: g, label: G, aggregate: sum, role: shown, factors: [{id: f, label: F, scale: missing}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ParamsError) as caught:
        load_model(bad)
    message = str(caught.value)
    assert "scale 's': values must rise" in message
    assert "factor 'f' uses scale 'missing'" in message
    assert "at least one group needs role: score" in message


def _template(tmp_path: Path, model_path: Path = FOUR_BY_FOUR) -> Path:
    model = load_model(model_path)
    evidence = pd.DataFrame({"threat": ["Burglary"], "count": [838], "pct_change": [-26.4], "rate_per_1000": [3.3]})
    return write_template(model, THREATS, evidence, tmp_path / "sheet.xlsx", "=Title")


def _fill(path: Path, scores: dict[int, tuple], scorer="A. Scorer", organisation="Council") -> Path:
    workbook = load_workbook(path)
    sheet = workbook["Scores"]
    sheet["B2"], sheet["B3"] = scorer, organisation
    for offset, (impact, likelihood) in scores.items():
        sheet.cell(row=HEADER_ROW + 1 + offset, column=FIRST_FACTOR_COLUMN, value=impact)
        sheet.cell(row=HEADER_ROW + 1 + offset, column=FIRST_FACTOR_COLUMN + 1, value=likelihood)
    workbook.save(path)
    return path


def test_template_round_trip_write_fill_import(tmp_path):
    path = _template(tmp_path)
    workbook = load_workbook(path)
    sheet = workbook["Scores"]
    assert sheet.protection.sheet is True
    assert sheet["A1"].value == "'=Title"  # formula-like text is neutralised
    assert sheet["A9"].value == "'=cmd|' /C calc'!A0"
    assert sheet["B7"].value == 838 and sheet["B8"].value == "not in police.uk data"
    assert sheet["F7"].protection.locked is False and sheet["B7"].protection.locked is True
    assert sheet["E6"].value == "Trend (seasonal model)"
    assert sheet["B2"].protection.locked is False
    validations = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert validations["F7:F9"] == '"Minor,Moderate,Major,Severe"'
    _fill(path, {0: ("Major", "likely"), 1: ("  severe ", "Possible"), 2: ("Minor", "Unlikely")})
    sheet_scores = read_scoring_sheet(
        path,
        load_model(FOUR_BY_FOUR),
        [Threat(name="Burglary"), Threat(name="Hate crime"), Threat(name="'=cmd|' /C calc'!A0")],
    )
    assert sheet_scores.scorer == "A. Scorer"
    values = sheet_scores.scores.set_index(["threat", "factor"])["value"]
    assert values[("Burglary", "impact")] == 3 and values[("Burglary", "likelihood")] == 3
    assert values[("Hate crime", "impact")] == 4


def test_every_bad_cell_is_listed(tmp_path):
    path = _fill(_template(tmp_path), {0: ("Major", 3), 1: (None, "Possible"), 2: ("Huge", "Likely")}, scorer=None)
    workbook = load_workbook(path)
    workbook["Scores"].cell(row=HEADER_ROW + 4, column=1, value="Space piracy")
    workbook.save(path)
    threats = [Threat(name="Burglary"), Threat(name="Hate crime"), Threat(name="Fraud")]
    with pytest.raises(InputDataError) as caught:
        read_scoring_sheet(path, load_model(FOUR_BY_FOUR), threats)
    message = str(caught.value)
    assert "cell B2 (Scorer name): blank" in message
    assert (
        "cell G7 (Burglary, Likelihood: Likelihood): 3 is a number where a level label belongs; choose one of "
        "Unlikely, Possible, Likely, Almost certain" in message
    )
    assert "cell F8 (Hate crime, Impact: Impact): missing score" in message
    assert "cell A9: threat \"'=cmd|' /C calc'!A0\" is not in the params file's threat list" in message
    assert "cell A10: threat 'Space piracy' is not in the params file's threat list" in message
    assert "threat 'Fraud' has no row" in message
    assert "sheet.xlsx, sheet 'Scores'" in message


def _sheet(name: str, table: dict[str, dict[str, float]]):
    from pipeline.analysis.morile import ScoringSheet

    return ScoringSheet(Path(name), name, name, _values(table), {})


def test_combining_partners_median_mean_and_spread():
    sheets = [
        _sheet("a", {"T": {"impact": 1, "likelihood": 4}}),
        _sheet("b", {"T": {"impact": 2, "likelihood": 4}}),
        _sheet("c", {"T": {"impact": 4, "likelihood": 3}}),
    ]
    median = combine_scores(sheets).set_index("factor")
    assert median.loc["impact", ["value", "min", "max", "spread", "scorers"]].tolist() == [2, 1, 4, 3, 3]
    mean = combine_scores(sheets, "mean").set_index("factor")
    assert mean.loc["impact", "value"] == pytest.approx(7 / 3)
    assert mean.loc["likelihood", "value"] == pytest.approx(11 / 3)


def test_moderation_is_read_applied_and_diffed(tmp_path):
    from openpyxl import Workbook

    model = load_model(FOUR_BY_FOUR)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Moderation"
    sheet.append(MODERATION_HEADERS)
    sheet.append(["Hate crime", "Impact: Impact", "Severe", "Community tension after an incident"])
    path = tmp_path / "moderation.xlsx"
    workbook.save(path)
    threats = [Threat(name="Burglary"), Threat(name="Hate crime")]
    moderation = read_moderation(path, model, threats)
    assert moderation.iloc[0][["factor", "value"]].tolist() == ["impact", 4]
    combined = _values({"Burglary": {"impact": 3, "likelihood": 3}, "Hate crime": {"impact": 2, "likelihood": 3}})
    combined = combined.assign(min=combined["value"], max=combined["value"], spread=0, scorers=1)
    settings = _settings(FOUR_BY_FOUR, threats=threats)
    before = score_threats(combined, model, settings)
    moderated = apply_moderation(combined, moderation)
    after = score_threats(moderated, model, settings)
    changes = moderation_changes(before, after, moderated, model).iloc[0]
    assert changes[["threat", "score_before", "rank_before", "score_after", "rank_after"]].tolist() == [
        "Hate crime",
        6,
        2,
        12,
        1,
    ]
    assert changes["reasons"] == "Impact: Impact: Community tension after an incident"

    sheet.append(["Hate crime", "Impact: Impact", 4, "numbers are not levels"])
    sheet.append(["Nobody", "Colour", "Severe", ""])
    sheet.append(["Burglary", "likelihood", "Likely", ""])
    workbook.save(path)
    with pytest.raises(InputDataError) as caught:
        read_moderation(path, model, threats)
    message = str(caught.value)
    assert "cell C3: 4 is not a level of 'Impact: Impact'" in message
    assert "cell A4: threat 'Nobody' is not in the params file's threat list" in message
    assert "cell B4: 'Colour' is not a factor of the model" in message
    assert "cell D5: a moderated score needs a reason" in message


def test_sensitivity_on_a_hand_worked_case():
    # 4 x 4 model, top 1 is the priority.
    # A: 3 x 3 = 9 (rank 1). B: 2 x 4 = 8 (rank 2). C: 1 x 1 = 1 (rank 3).
    # A's impact down one step gives 2 x 3 = 6, rank 2; A's likelihood down gives 9 -> 6, rank 2.
    #   Up moves keep it first. A's range: 1 to 2, and its priority status hangs on one score.
    # B's impact up gives 3 x 4 = 12, rank 1 (would become the priority). Down: 1 x 4 = 4, rank 2.
    #   B's likelihood is at the top of its scale; down gives 2 x 3 = 6, rank 2. Range 1 to 2.
    # C: best move 2 x 1 = 2 or 1 x 2 = 2, still rank 3. Range 3 to 3, status cannot change.
    model = load_model(FOUR_BY_FOUR)
    values = _values(
        {"A": {"impact": 3, "likelihood": 3}, "B": {"impact": 2, "likelihood": 4}, "C": {"impact": 1, "likelihood": 1}}
    )
    table = sensitivity(values, model, _settings(FOUR_BY_FOUR)).set_index("threat")
    assert table.loc["A", ["rank", "best_rank", "worst_rank", "priority_can_change"]].tolist() == [1, 1, 2, True]
    assert table.loc["B", ["rank", "best_rank", "worst_rank", "priority_can_change"]].tolist() == [2, 1, 2, True]
    assert table.loc["B", "deciding_moves"] == "Impact: Impact up to Major"
    assert table.loc["C", ["best_rank", "worst_rank", "priority_can_change"]].tolist() == [3, 3, False]


def test_evidence_sums_mapped_crime_types():
    # window_count is every usable month of the window; the like-for-like pair is 11 months.
    comparison = pd.DataFrame(
        {
            "crime_type": ["Burglary", "Robbery"],
            "window_count": [88, 22],
            "months_compared": [11, 11],
            "assessment_count": [80, 20],
            "comparison_count": [100, 25],
        }
    )
    rates = pd.Series({"Burglary rate": 3.0, "Robbery rate": 0.5})
    threats = [Threat(name="Acquisitive", crime_types=["Burglary", "Robbery"]), Threat(name="Hate crime")]
    evidence = threat_evidence(threats, comparison, rates).set_index("threat")
    assert evidence.loc["Acquisitive", ["count", "pct_change", "rate_per_1000"]].tolist() == [110, -20.0, 3.5]
    assert pd.isna(evidence.loc["Hate crime", "count"])
    monthly = pd.DataFrame({"Burglary": [5] * 12, "Robbery": [1] * 12})
    with_trend = threat_evidence(threats, comparison, rates, monthly).set_index("threat")
    assert (
        with_trend.loc["Acquisitive", "trend"]
        == "not modelled: 12 usable months, and a seasonal trend needs at least 24"
    )
    # No comparable month: the change is left blank, never 0 or a division by zero.
    none_compared = comparison.assign(months_compared=0, assessment_count=0, comparison_count=0)
    assert pd.isna(threat_evidence(threats, none_compared, rates).set_index("threat").loc["Acquisitive", "pct_change"])


def test_evidence_headers_name_their_months():
    from pipeline.analysis.morile import evidence_headers
    from pipeline.analysis.trends import comparison_windows_text
    from pipeline.months import month_range

    windows = comparison_windows_text(
        "2020-12",
        [m for m in month_range("2019-01", "2019-12") if m != "2019-07"],
        [m for m in month_range("2020-01", "2020-12") if m != "2020-07"],
        month_range("2020-01", "2020-12"),
    )
    assert evidence_headers(windows) == [
        "Crimes, Jan 2020 to Dec 2020 (12 months)",
        "% change, like for like (Jan 2020 to Dec 2020 (11 months; Jul 2020 left out) against a year earlier)",
        "Rate per 1,000 a year, Jan 2020 to Dec 2020 (12 months)",
        "Trend (seasonal model)",
    ]


def test_settings_validation():
    with pytest.raises(ValueError, match="bands must be listed highest first"):
        _settings(FOUR_BY_FOUR, bands=[{"label": "Low", "min_score": 0}, {"label": "High", "min_score": 10}])
    with pytest.raises(ValueError, match="each threat needs its own name"):
        _settings(FOUR_BY_FOUR, threats=[Threat(name="A"), Threat(name="A")])
    with pytest.raises(ValueError, match="give exactly one of top"):
        _settings(FOUR_BY_FOUR, priorities={})


def test_a_formula_in_a_score_cell_is_reported_with_its_place(tmp_path):
    path = _fill(_template(tmp_path), {0: ("Major", "Likely"), 1: ("Minor", "Possible"), 2: ("Minor", "Likely")})
    workbook = load_workbook(path)
    workbook["Scores"].cell(row=HEADER_ROW + 1, column=FIRST_FACTOR_COLUMN, value="=F8")
    workbook.save(path)
    with pytest.raises(InputDataError) as caught:
        read_scoring_sheet(path, load_model(FOUR_BY_FOUR), THREATS)
    assert (
        "cell F7 (Burglary, Impact: Impact): holds the formula '=F8'; a score must be a level chosen from the "
        "drop-down: one of Minor, Moderate, Major, Severe"
    ) in str(caught.value)


def test_a_renamed_or_other_format_sheet_says_how_to_save_it_as_xlsx(tmp_path):
    renamed = tmp_path / "partner.xlsx"
    renamed.write_text("threat,score\nBurglary,Major\n", encoding="utf-8")
    with pytest.raises(InputDataError) as caught:
        read_scoring_sheet(renamed, load_model(FOUR_BY_FOUR), THREATS)
    assert "is not an Excel workbook although its name ends .xlsx" in str(caught.value)
    assert "File > Save As" in str(caught.value)
    old = tmp_path / "partner.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0rest")
    with pytest.raises(InputDataError, match=r"is an Excel 97-2003 workbook \(.xls\); an .xlsx workbook is needed"):
        read_scoring_sheet(old, load_model(FOUR_BY_FOUR), THREATS)
