"""Survey stage: weighted resident-survey indicators with honest uncertainty.

For each indicator and year: the weighted proportion answering positively, the
unweighted base (respondents giving a valid answer), Kish's effective sample size
n_eff = (sum w)^2 / sum w^2, and a 95% Wilson interval computed on n_eff, so the
interval reflects the precision lost to weighting. Year-on-year changes use
Newcombe's hybrid score interval for a difference of proportions and a score test,
both on effective counts. Subgroups are compared with the rest of the district, never
with the total that contains them, with Holm's correction across the comparisons made
for one indicator. Results on fewer than ``minimum_base`` respondents are suppressed.
All intervals and tests come from ``statsmodels.stats.proportion``.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# statsmodels is imported inside the functions that test: the input check imports this
# module to validate responses, and importing statsmodels costs it about 0.9 s a run.
from pipeline.errors import InputDataError, ParamsError, list_problems
from pipeline.params import SurveySettings

log = logging.getLogger(__name__)

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
METHOD_NOTE = (
    "Survey results are weighted proportions. The unweighted base is the number of respondents "
    "giving a valid answer; the effective base is Kish's effective sample size, (sum of weights)^2 / "
    "sum of squared weights, which allows for the precision lost to weighting. 95% confidence "
    "intervals are Wilson score intervals computed on the effective base. Changes since the previous "
    "year use Newcombe's hybrid score interval for the difference and a score test, both on effective "
    "counts (statsmodels). Subgroups are compared with the rest of the district (never with the total "
    "that contains them), with Holm's correction across the comparisons made for each indicator. "
    "Overlapping intervals do not by themselves mean 'no difference': only the test decides."
)


class Indicator(BaseModel):
    """One survey indicator, as defined in the indicator definition file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    label: str = Field(
        min_length=1, description="As printed in tables, e.g. '% residents feeling safe outside after dark'."
    )
    question: str = Field(min_length=1, description="The column holding the answers.")
    phrase: str = Field(
        min_length=1, description="Completes 'significantly more likely to ...', e.g. 'feel safe outside after dark'."
    )
    positive: list[str] = Field(min_length=1, description="Answers that count towards the percentage.")
    negative: list[str] = Field(min_length=1, description="Valid answers that do not count towards it.")
    excluded: list[str] = Field(default_factory=list, description="Answers left out of the base, e.g. Don't know.")
    target: str | None = None
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _answers_distinct(self) -> "Indicator":
        seen: dict[str, str] = {}
        for kind in ("positive", "negative", "excluded"):
            for answer in getattr(self, kind):
                key = normalise_answer(answer)
                if key in seen:
                    raise ValueError(f"answer {answer!r} is listed as both {seen[key]} and {kind}")
                seen[key] = kind
        return self

    def outcome_of(self) -> dict[str, float]:
        """Normalised answer text -> 1 (positive), 0 (negative) or NaN (left out of the base)."""
        mapping = {normalise_answer(a): 1.0 for a in self.positive}
        mapping.update({normalise_answer(a): 0.0 for a in self.negative})
        mapping.update({normalise_answer(a): math.nan for a in self.excluded})
        return mapping


def load_indicators(path: Path) -> list[Indicator]:
    """Read and validate the indicator definition file (YAML with a list under ``indicators``)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("indicators"), list):
        raise ParamsError(f"{path} should hold a list of indicators under the key 'indicators'.")
    indicators, problems = [], []
    for number, item in enumerate(raw["indicators"], start=1):
        try:
            indicators.append(Indicator.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "(the indicator)"
                problems.append(f"indicator {number}, {where}: {error['msg'].removeprefix('Value error, ')}")
    ids = [i.id for i in indicators]
    problems += [f"indicator id {i!r} is used more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise ParamsError(list_problems(f"Problems in the indicator definitions {path}:", problems))
    return indicators


_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00a0": " ",
    }
)


def normalise_answer(text: object) -> str:
    """Answer text as compared: Unicode-normalised, straight quotes, single spaces, case-folded.

    A blank or missing answer becomes the empty string.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    value = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES).lstrip("\ufeff")
    return re.sub(r"\s+", " ", value).strip().casefold()


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".xlsx":
        from pipeline.inputs.spreadsheets import open_workbook

        open_workbook(path)  # a clear message if the file is not a real xlsx workbook
        return pd.read_excel(path, dtype=str, engine="openpyxl")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise InputDataError(f"{path}: could not be read as UTF-8 or Windows-1252 text; save it as CSV UTF-8.")


def read_responses(settings: SurveySettings, indicators: list[Indicator]) -> pd.DataFrame:
    """Read every survey file into one frame with columns ``year``, ``_file`` and ``_row`` added.

    Raises ``InputDataError`` listing every missing column in every file.
    """
    needed = [settings.id_column, settings.weight_column] + [i.question for i in indicators]
    needed += [s.column for s in settings.subgroups]
    frames, problems = [], []
    for survey_file in settings.responses:
        frame = _read_table(survey_file.path)
        frame.columns = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
        columns = needed + ([] if survey_file.year is not None else [settings.year_column])
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            problems.append(
                f"{survey_file.path}, row 1 (the header): no column {', '.join(repr(c) for c in missing)}, which the "
                f"survey settings or {settings.indicators} name; columns found: "
                f"{', '.join(repr(c) for c in frame.columns)}"
            )
            continue
        if survey_file.year is not None:
            frame[settings.year_column] = str(survey_file.year)
        frame["_file"] = str(survey_file.path)
        frame["_row"] = np.arange(2, len(frame) + 2)  # spreadsheet row numbers: the header is row 1
        frames.append(frame)
    if problems:
        raise InputDataError(list_problems("The survey files do not have the columns the settings name:", problems))
    return pd.concat(frames, ignore_index=True)


def _where(row: pd.Series) -> str:
    return f"{row['_file']}, row {row['_row']}"


def clean_responses(frame: pd.DataFrame, settings: SurveySettings, indicators: list[Indicator]) -> pd.DataFrame:
    """Validate respondents and turn answers into outcomes (1, 0, or NaN when left out of the base).

    Returns columns ``year`` (int), ``respondent_id``, ``weight`` (float), the subgroup
    columns (stripped text) and one outcome column per indicator id. Raises
    ``InputDataError`` listing every bad weight, year and duplicated respondent ID, and
    for each question every unknown answer with its count.
    """
    problems: list[str] = []
    weights = pd.to_numeric(frame[settings.weight_column].str.strip(), errors="coerce")
    # inf and nan pass a "> 0" test or slip through sums: a weight must be a finite positive number.
    for index in frame.index[~(np.isfinite(weights) & (weights > 0))]:
        value = frame.at[index, settings.weight_column]
        problems.append(
            f"{_where(frame.loc[index])}, column {settings.weight_column!r}: weight {value!r} must be a finite "
            "number above 0"
        )
    years = pd.to_numeric(frame[settings.year_column].str.strip(), errors="coerce")
    for index in frame.index[years.isna() | (years % 1 != 0)]:
        problems.append(
            f"{_where(frame.loc[index])}, column {settings.year_column!r}: {frame.at[index, settings.year_column]!r} "
            "is not a year"
        )
    ids = frame[settings.id_column].str.strip()
    duplicated = frame[ids.duplicated(keep=False) & ids.ne("")].assign(_id=ids, _year=years)
    for (respondent, year), rows in duplicated.groupby(["_id", "_year"]):
        if len(rows) > 1:
            listed = "; ".join(_where(r) for _, r in rows.iterrows())
            problems.append(f"respondent ID {respondent!r} appears {len(rows)} times in {year:.0f}: {listed}")
    for index in frame.index[ids.eq("")]:
        problems.append(f"{_where(frame.loc[index])}, column {settings.id_column!r}: respondent ID is blank")

    cleaned = pd.DataFrame({"year": years, "respondent_id": ids, "weight": weights})
    for subgroup in settings.subgroups:
        cleaned[subgroup.column] = frame[subgroup.column].fillna("").str.strip()
    for indicator in indicators:
        outcome_of = indicator.outcome_of()
        outcome_of.setdefault("", math.nan)  # a blank answer is "no answer": left out of the base
        answers = frame[indicator.question].map(normalise_answer)
        unknown = frame.loc[~answers.isin(outcome_of.keys())]
        if len(unknown):
            allowed = ", ".join(repr(a) for a in indicator.positive + indicator.negative + indicator.excluded)
            for (source, value), rows in unknown.groupby(["_file", indicator.question], sort=True):
                lines = ", ".join(str(r) for r in rows["_row"].head(5)) + (" ..." if len(rows) > 5 else "")
                problems.append(
                    f"{source}, column {indicator.question!r}, row(s) {lines}: answer {value!r} ({len(rows)} "
                    "respondent(s)) "
                    f"is not in the definition of {indicator.id!r}; expected one of {allowed}, or blank"
                )
        cleaned[indicator.id] = answers.map(outcome_of)
    if problems:
        raise InputDataError(list_problems("The survey data has problems; nothing was published:", problems))
    cleaned["year"] = cleaned["year"].astype(int)
    return cleaned


def kish_effective_n(weights: np.ndarray | list[float]) -> float:
    """Kish's effective sample size: (sum w)^2 / sum w^2 (equals n when all weights are equal)."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum()) if len(w) else 0.0


@dataclass(frozen=True)
class Estimate:
    """A weighted proportion (0-1) with its 95% Wilson interval on the effective base."""

    proportion: float
    ci_low: float
    ci_high: float
    base: int  # respondents with a valid answer (unweighted)
    effective_base: float


def weighted_estimate(outcomes: np.ndarray | pd.Series, weights: np.ndarray | pd.Series) -> Estimate:
    """Weighted proportion of 1s among valid outcomes (NaN outcomes are left out of the base)."""
    y = np.asarray(outcomes, dtype=float)
    w = np.asarray(weights, dtype=float)
    valid = ~np.isnan(y)
    y, w = y[valid], w[valid]
    if len(y) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, 0.0)
    p = float((w * y).sum() / w.sum())
    n_eff = kish_effective_n(w)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(p * n_eff, n_eff, alpha=ALPHA, method="wilson")
    return Estimate(p, float(low), float(high), int(len(y)), n_eff)


@dataclass(frozen=True)
class Difference:
    """Difference of two proportions (first minus second) with Newcombe's interval and a test."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float


def difference(first: Estimate, second: Estimate) -> Difference:
    """First minus second, on effective counts: Newcombe hybrid score interval and score test."""
    count1, nobs1 = first.proportion * first.effective_base, first.effective_base
    count2, nobs2 = second.proportion * second.effective_base, second.effective_base
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    low, high = confint_proportions_2indep(count1, nobs1, count2, nobs2, method="newcomb", compare="diff", alpha=ALPHA)
    if first.proportion == second.proportion:
        p_value = 1.0
    else:
        p_value = float(test_proportions_2indep(count1, nobs1, count2, nobs2, method="score", compare="diff").pvalue)
    return Difference(first.proportion - second.proportion, float(low), float(high), p_value)


def change_verdict(change: Difference) -> str:
    """Plain verdict for a year-on-year change at the 5% level."""
    if change.p_value < ALPHA:
        return "significant increase" if change.difference > 0 else "significant decrease"
    return "no significant change (within the margin of error)"


def indicator_results(cleaned: pd.DataFrame, indicators: list[Indicator], minimum_base: int) -> pd.DataFrame:
    """One row per indicator and year: estimate, interval, bases, change since the previous year.

    Columns: indicator, label, year, percent, ci_low, ci_high (percent), base,
    effective_base, change_points, change_ci_low, change_ci_high, change_p_value,
    verdict, suppressed (True when the base is below ``minimum_base``; its numbers are
    then blank). The change compares with the previous year present in the data, and is
    not made when either year is suppressed.
    """
    records = []
    for indicator in indicators:
        previous: Estimate | None = None
        for year in sorted(cleaned["year"].unique()):
            rows = cleaned[cleaned["year"] == year]
            estimate = weighted_estimate(rows[indicator.id], rows["weight"])
            suppressed = estimate.base < minimum_base
            record = {"indicator": indicator.id, "label": indicator.label, "year": int(year), "base": estimate.base}
            if suppressed:
                record.update(suppressed=True, verdict=f"suppressed: base of {estimate.base} is below {minimum_base}")
                previous = None
            else:
                record.update(
                    suppressed=False,
                    percent=100 * estimate.proportion,
                    ci_low=100 * estimate.ci_low,
                    ci_high=100 * estimate.ci_high,
                    effective_base=estimate.effective_base,
                )
                if previous is None:
                    record["verdict"] = "no previous year to compare"
                else:
                    change = difference(estimate, previous)
                    record.update(
                        change_points=100 * change.difference,
                        change_ci_low=100 * change.ci_low,
                        change_ci_high=100 * change.ci_high,
                        change_p_value=change.p_value,
                        verdict=change_verdict(change),
                    )
                previous = estimate
            records.append(record)
    columns = [
        "indicator",
        "label",
        "year",
        "percent",
        "ci_low",
        "ci_high",
        "base",
        "effective_base",
        "change_points",
        "change_ci_low",
        "change_ci_high",
        "change_p_value",
        "verdict",
        "suppressed",
    ]
    return pd.DataFrame(records).reindex(columns=columns)


def _groups_to_compare(values: pd.Series, named: dict[str, str]) -> list[str]:
    """Groups in the order the settings name them, then the rest alphabetically.

    With exactly two groups, "A against the rest" and "B against the rest" are the same
    comparison, so only the first is made (and counted once in the correction).
    """
    present = [v for v in values.unique() if v != ""]
    ordered = [g for g in named if g in present] + sorted(g for g in present if g not in named)
    return ordered[:1] if len(ordered) == 2 else ordered


def subgroup_comparisons(
    cleaned: pd.DataFrame, indicators: list[Indicator], settings: SurveySettings, year: int
) -> pd.DataFrame:
    """Each subgroup against the rest of the district, for one year, Holm-corrected per indicator.

    Columns: indicator, subgroup, group, who, group_percent, rest_percent,
    difference_points, p_value, p_holm, significant, group_base, rest_base, note.
    A comparison where either side's base is below ``settings.minimum_base`` is not
    made (note says why) and takes no part in the correction.
    """
    rows = cleaned[cleaned["year"] == year]
    records = []
    for indicator in indicators:
        tested = []
        for subgroup in settings.subgroups:
            for group in _groups_to_compare(rows[subgroup.column], subgroup.groups):
                inside = rows[rows[subgroup.column] == group]
                rest = rows[(rows[subgroup.column] != group) & (rows[subgroup.column] != "")]
                mine = weighted_estimate(inside[indicator.id], inside["weight"])
                others = weighted_estimate(rest[indicator.id], rest["weight"])
                record = {
                    "indicator": indicator.id,
                    "subgroup": subgroup.label,
                    "group": group,
                    "who": subgroup.groups.get(group, f"Respondents with {subgroup.label.lower()} '{group}'"),
                    "group_base": mine.base,
                    "rest_base": others.base,
                }
                if min(mine.base, others.base) < settings.minimum_base:
                    record["note"] = f"not compared: a base is below {settings.minimum_base}"
                else:
                    change = difference(mine, others)
                    record.update(
                        group_percent=100 * mine.proportion,
                        rest_percent=100 * others.proportion,
                        difference_points=100 * change.difference,
                        p_value=change.p_value,
                        note="",
                    )
                    tested.append(len(records))
                records.append(record)
        if tested:
            p_values = [records[i]["p_value"] for i in tested]
            from statsmodels.stats.multitest import multipletests

            reject, adjusted, _, _ = multipletests(p_values, alpha=ALPHA, method="holm")
            for i, rejected, p_holm in zip(tested, reject, adjusted):
                records[i]["p_holm"] = float(p_holm)
                records[i]["significant"] = bool(rejected)
    columns = [
        "indicator",
        "subgroup",
        "group",
        "who",
        "group_percent",
        "rest_percent",
        "difference_points",
        "p_value",
        "p_holm",
        "significant",
        "group_base",
        "rest_base",
        "note",
    ]
    frame = pd.DataFrame(records).reindex(columns=columns)
    frame["significant"] = frame["significant"].fillna(False).astype(bool)
    return frame


def subgroup_sentences(comparisons: pd.DataFrame, indicator: Indicator) -> list[str]:
    """Plain sentences for the significant subgroup differences of one indicator."""
    sentences = []
    hits = comparisons[(comparisons["indicator"] == indicator.id) & comparisons["significant"]]
    for _, row in hits.iterrows():
        direction = "more" if row["difference_points"] > 0 else "less"
        sentences.append(
            f"{row['who']} were significantly {direction} likely to {indicator.phrase} than other respondents: "
            f"{row['group_percent']:.0f}% vs {row['rest_percent']:.0f}%."
        )
    return sentences


def run_survey(settings: SurveySettings) -> tuple[list[Indicator], pd.DataFrame, pd.DataFrame]:
    """Read, clean and analyse the survey: (indicators, results by year, latest-year subgroup comparisons)."""
    indicators = load_indicators(settings.indicators)
    cleaned = clean_responses(read_responses(settings, indicators), settings, indicators)
    log.info("Survey: %d respondents over %d year(s)", len(cleaned), cleaned["year"].nunique())
    results = indicator_results(cleaned, indicators, settings.minimum_base)
    latest = int(cleaned["year"].max())
    comparisons = subgroup_comparisons(cleaned, indicators, settings, latest).assign(year=latest)
    return indicators, results, comparisons


def write_processed(results: pd.DataFrame, comparisons: pd.DataFrame, folder: Path) -> None:
    """Write survey_results.parquet and survey_subgroups.parquet for the report and the delivery plan."""
    folder.mkdir(parents=True, exist_ok=True)
    results.to_parquet(folder / "survey_results.parquet", index=False)
    comparisons.to_parquet(folder / "survey_subgroups.parquet", index=False)


def read_processed(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read what ``write_processed`` wrote."""
    paths = [folder / "survey_results.parquet", folder / "survey_subgroups.parquet"]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise InputDataError(f"{folder}: the survey stage's outputs are missing ({', '.join(missing)}); run it first.")
    return pd.read_parquet(paths[0]), pd.read_parquet(paths[1])
