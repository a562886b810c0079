import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from pipeline.analysis.survey import (
    Estimate,
    difference,
    indicator_results,
    kish_effective_n,
    load_indicators,
    normalise_answer,
    run_survey,
    subgroup_comparisons,
    subgroup_sentences,
    weighted_estimate,
)
from pipeline.errors import InputDataError, ParamsError
from pipeline.params import SurveySettings

INDICATOR = {
    "id": "safe",
    "label": "% feeling safe",
    "question": "q_safe",
    "phrase": "feel safe",
    "positive": ["Very safe", "Fairly safe"],
    "negative": ["Fairly unsafe", "Very unsafe"],
    "excluded": ["Don't know"],
}


def test_kish_effective_sample_size_published_example():
    # (1+1+2+2+4)^2 / (1+1+4+4+16) = 100/26
    assert kish_effective_n([1, 1, 2, 2, 4]) == pytest.approx(3.846, abs=5e-4)
    assert kish_effective_n([3, 3, 3]) == pytest.approx(3)


def test_wilson_interval_published_example_and_weight_scale_invariance():
    outcomes = [1] * 4 + [0] * 16
    estimate = weighted_estimate(outcomes, [1] * 20)
    assert (estimate.ci_low, estimate.ci_high) == (pytest.approx(0.0807, abs=1e-4), pytest.approx(0.4160, abs=1e-4))
    doubled = weighted_estimate(outcomes, [2.5] * 20)  # scaling every weight changes nothing
    assert doubled.ci_low == pytest.approx(estimate.ci_low) and doubled.effective_base == pytest.approx(20)


def test_unequal_weights_widen_the_interval_and_excluded_answers_leave_the_base():
    outcomes = np.array([1, 0] * 50 + [np.nan] * 10, dtype=float)
    weights = np.array([1, 3] * 50 + [5] * 10, dtype=float)
    estimate = weighted_estimate(outcomes, weights)
    assert estimate.base == 100
    assert estimate.proportion == pytest.approx(50 / 200)
    assert estimate.effective_base == pytest.approx(200**2 / 500)  # 80, not 100
    plain = weighted_estimate([1] * 25 + [0] * 75, [1] * 100)
    assert estimate.ci_high - estimate.ci_low > plain.ci_high - plain.ci_low


def test_newcombe_interval_published_example():
    # Newcombe (1998): 56/70 - 48/80 = 0.2000, 95% CI 0.0524 to 0.3339.
    first = Estimate(56 / 70, math.nan, math.nan, 70, 70.0)
    second = Estimate(48 / 80, math.nan, math.nan, 80, 80.0)
    result = difference(first, second)
    assert result.difference == pytest.approx(0.2)
    assert result.ci_low == pytest.approx(0.0524, abs=1e-4)
    assert result.ci_high == pytest.approx(0.3339, abs=1e-4)
    # The score test agrees with a hand-computed pooled z-test to within its small-sample correction.
    pooled = 104 / 150
    z = 0.2 / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert result.p_value == pytest.approx(2 * stats.norm.sf(z), rel=0.05)
    assert result.p_value < 0.05


def test_answer_normalisation():
    assert normalise_answer("  DON\u2019T   know ") == normalise_answer("Don't know")
    assert normalise_answer("\ufeffVery safe") == "very safe"
    assert normalise_answer(None) == "" and normalise_answer(float("nan")) == ""


def _settings(tmp_path: Path, frame: pd.DataFrame, indicators: list[dict] | None = None, **extra) -> SurveySettings:
    data = tmp_path / "survey.csv"
    frame.to_csv(data, index=False)
    definitions = tmp_path / "indicators.yaml"
    definitions.write_text(yaml.safe_dump({"indicators": indicators or [INDICATOR]}), encoding="utf-8")
    return SurveySettings(responses=[str(data)], indicators=definitions, **extra)


def _respondents(n: int, year: int = 2020, answer: str = "Very safe", **columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"respondent_id": [f"R{year}-{i}" for i in range(n)], "year": year, "weight": 1.0, "q_safe": answer}
    )
    return frame.assign(**columns)


def test_cleaning_lists_every_unknown_answer_bad_weight_and_duplicate(tmp_path):
    frame = _respondents(6)
    frame.loc[1, "q_safe"] = "Quite safe"
    frame.loc[2, "q_safe"] = "Quite safe"
    frame.loc[3, "q_safe"] = "42"
    frame.loc[4, "weight"] = 0
    frame.loc[5, "weight"] = -1.5
    frame.loc[5, "respondent_id"] = "R2020-0"
    frame.loc[0, "weight"] = float("inf")
    frame["weight"] = frame["weight"].astype(object)
    frame.loc[2, "weight"] = "nan"
    with pytest.raises(InputDataError) as caught:
        run_survey(_settings(tmp_path, frame))
    message = str(caught.value)
    # Spreadsheet rows: the header is row 1, so the frame's row 1 is row 3.
    assert (
        "survey.csv, column 'q_safe', row(s) 3, 4: answer 'Quite safe' (2 respondent(s)) is not in the definition of "
        "'safe'" in message
    )
    assert "survey.csv, column 'q_safe', row(s) 5: answer '42' (1 respondent(s))" in message
    assert "expected one of 'Very safe'" in message
    assert "survey.csv, row 6, column 'weight': weight '0.0' must be a finite number above 0" in message
    assert "row 7, column 'weight': weight '-1.5' must be a finite number above 0" in message
    # Non-finite weights are bad cells too, not silently blank indicators.
    assert "row 2, column 'weight': weight 'inf' must be a finite number above 0" in message
    assert "row 4, column 'weight': weight 'nan' must be a finite number above 0" in message
    assert "respondent ID 'R2020-0' appears 2 times in 2020: " in message and "row 2;" in message and "row 7" in message


def test_messy_text_and_windows_1252_files_are_read(tmp_path):
    frame = _respondents(4)
    frame["q_safe"] = ["  very SAFE", "Don\u2019t know", "", "Fairly unsafe"]
    settings = _settings(tmp_path, frame, minimum_base=1)
    path = settings.responses[0].path
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    _, results, _ = run_survey(settings)
    row = results.iloc[0]
    assert row["base"] == 2  # Don't know and blank leave the base
    assert row["percent"] == pytest.approx(50.0)


def test_missing_columns_are_named(tmp_path):
    frame = _respondents(3).drop(columns=["weight"])
    with pytest.raises(
        InputDataError,
        match="row 1 \\(the header\\): no column 'weight'.*columns found: 'respondent_id', 'year', 'q_safe'",
    ):
        run_survey(_settings(tmp_path, frame))


def test_indicator_definition_errors(tmp_path):
    broken = dict(INDICATOR, negative=["Very safe"], colour="red")
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump({"indicators": [broken, INDICATOR, INDICATOR]}), encoding="utf-8")
    with pytest.raises(ParamsError) as caught:
        load_indicators(path)
    message = str(caught.value)
    assert "indicator 1, colour" in message
    assert "indicator id 'safe' is used more than once" in message


def test_small_bases_are_suppressed_and_not_compared(tmp_path):
    frame = pd.concat([_respondents(30, 2019), _respondents(80, 2020), _respondents(90, 2021)])
    cleaned_results = run_survey(_settings(tmp_path, frame, minimum_base=50))[1].set_index("year")
    assert bool(cleaned_results.loc[2019, "suppressed"]) and math.isnan(cleaned_results.loc[2019, "percent"])
    assert cleaned_results.loc[2019, "verdict"] == "suppressed: base of 30 is below 50"
    assert cleaned_results.loc[2020, "verdict"] == "no previous year to compare"  # 2019 cannot be compared with
    assert cleaned_results.loc[2021, "verdict"] == "no significant change (within the margin of error)"


def test_year_on_year_verdicts():
    def year(n_pos: int, n: int, y: int) -> pd.DataFrame:
        return pd.DataFrame({"year": y, "weight": 1.0, "safe": [1.0] * n_pos + [0.0] * (n - n_pos)})

    from pipeline.analysis.survey import Indicator

    cleaned = pd.concat([year(300, 1000, 2019), year(400, 1000, 2020), year(390, 1000, 2021)])
    results = indicator_results(cleaned, [Indicator(**INDICATOR)], 50).set_index("year")
    assert results.loc[2020, "verdict"] == "significant increase"
    assert results.loc[2020, "change_points"] == pytest.approx(10.0)
    assert results.loc[2021, "verdict"] == "no significant change (within the margin of error)"


def test_subgroups_are_compared_with_the_rest_not_the_total_and_holm_corrected(tmp_path):
    def group(name: str, positive: int, n: int = 100) -> pd.DataFrame:
        answers = ["Very safe"] * positive + ["Very unsafe"] * (n - positive)
        return pd.DataFrame({"area_type": name, "q_safe": answers})

    frame = pd.concat([group("Urban", 70), group("Rural", 40), group("Coastal", 50)], ignore_index=True)
    frame = frame.assign(respondent_id=[f"R{i}" for i in range(len(frame))], year=2020, weight=1.0)
    settings = _settings(
        tmp_path,
        frame,
        subgroups=[{"column": "area_type", "label": "Area type", "groups": {"Urban": "Urban respondents"}}],
    )
    _, _, comparisons = run_survey(settings)
    table = comparisons.set_index("group")
    # Urban (70%) against Rural + Coastal (90 of 200 = 45%), not against the total (53.3%).
    assert table.loc["Urban", "group_percent"] == pytest.approx(70.0)
    assert table.loc["Urban", "rest_percent"] == pytest.approx(45.0)
    assert table.loc["Rural", "rest_percent"] == pytest.approx(60.0)
    # Holm by hand: sort raw p ascending, multiply by 3, 2, 1, keep the running maximum.
    raw = table["p_value"].sort_values()
    expected, running = {}, 0.0
    for rank, (name, p) in enumerate(raw.items()):
        running = max(running, min(1.0, p * (3 - rank)))
        expected[name] = running
    for name, value in expected.items():
        assert table.loc[name, "p_holm"] == pytest.approx(value)
    assert bool(table.loc["Urban", "significant"]) and not bool(table.loc["Coastal", "significant"])
    indicator = load_indicators(settings.indicators)[0]
    sentences = subgroup_sentences(comparisons, indicator)
    assert (
        "Urban respondents were significantly more likely to feel safe than other respondents: 70% vs 45%." in sentences
    )


def test_a_two_way_split_is_compared_once():
    from pipeline.analysis.survey import Indicator

    cleaned = pd.DataFrame(
        {"year": 2020, "weight": 1.0, "sex": ["Female"] * 100 + ["Male"] * 100, "safe": [1.0, 0.0] * 100}
    )
    settings = SurveySettings.model_construct(
        subgroups=[type("S", (), {"column": "sex", "label": "Sex", "groups": {}})()], minimum_base=50
    )
    comparisons = subgroup_comparisons(cleaned, [Indicator(**INDICATOR)], settings, 2020)
    assert list(comparisons["group"]) == ["Female"]
