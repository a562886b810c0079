"""Trends stage: the assessment window against the 12 months before, like for like.

Counts are compared only over calendar months present in *both* windows (a month is
dropped from the assessment window if the same month a year earlier is missing or
partial, and the reverse), so a gap in the data can never look like a fall in crime.

Whether a change is statistically significant is tested with calendar months paired:
a quasi-Poisson regression of the monthly counts on a window indicator and one term per
calendar month (statsmodels GLM, Poisson family, dispersion estimated from the Pearson
chi-squared and never taken below 1, t-test on the window coefficient). Pairing removes
the seasonal pattern shared by both windows; the dispersion allows for the
over-dispersion monthly crime counts show. Because every crime type is tested at once,
the verdicts for the individual types (ASB included) use Holm-adjusted p-values, which
keep the chance of any false "significant" among them at 5%; the all-crime total is a
single headline test and is not adjusted. The unadjusted p-value is kept beside it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.analysis.police import ALL_CRIME_EXCL_ASB, ASB, ScanSummary
from pipeline.months import (
    assessment_window,
    comparison_window,
    describe_months,
    financial_year,
    financial_year_months,
    month_label,
    plural,
    shift_month,
)
from pipeline.params import AreaDefinition, Params

SIGNIFICANCE_LEVEL = 0.05
METHOD_NOTE = (
    "Changes between the two windows were tested with calendar months paired (each month of the assessment "
    "window against the same month a year earlier): a quasi-Poisson regression of monthly counts on a window "
    "indicator and a term for each calendar month (statsmodels GLM; dispersion from the Pearson chi-squared "
    "statistic, not allowed below 1; t-test). Because the crime types are tested together, their verdicts use "
    "Holm-adjusted p-values (Holm's step-down method), which keeps the chance of any false 'significant' finding "
    "among them at 5%; Holm was chosen over Benjamini-Hochberg because the partnership acts on each flagged type "
    "on its own, so every single flag must be reliable. The all-crime total is one pre-set headline test and is "
    "not adjusted. Unadjusted p-values are kept in the CSV."
)


@dataclass(frozen=True)
class ChangeTest:
    """Result of testing the change between two sets of monthly counts."""

    rate_ratio: float  # mean monthly count after / before
    ci_low: float  # 95% confidence interval of the rate ratio
    ci_high: float
    p_value: float
    dispersion: float  # the dispersion used (>= 1)
    verdict: str


def change_significance(before: list[int] | np.ndarray, after: list[int] | np.ndarray) -> ChangeTest:
    """Test whether monthly counts changed between two windows, calendar months paired.

    ``before[i]`` and ``after[i]`` are the counts of the same calendar month a year apart
    (the like-for-like pairs). The quasi-Poisson model has a term per pair and a window
    indicator; its coefficient is the log rate ratio. If either window has no crimes at
    all, or there are fewer than 2 pairs, the ratio cannot be estimated and the verdict
    says so. The verdict here is unadjusted: see ``compare_windows`` for Holm.
    """
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    if len(before) != len(after):
        raise ValueError("paired months: before and after need the same number of months")
    if len(before) < 2:
        return ChangeTest(math.nan, math.nan, math.nan, math.nan, math.nan, "too few months to test")
    if before.sum() == 0 or after.sum() == 0:
        return ChangeTest(math.nan, math.nan, math.nan, math.nan, math.nan, "too few crimes to test")
    n = len(before)
    counts = np.concatenate([before, after])
    window = np.concatenate([np.zeros(n), np.ones(n)])
    pairs = np.vstack([np.eye(n), np.eye(n)])
    # A pair in which both months are 0 carries no information and makes its term infinite.
    informative = (before + after) > 0
    keep = np.concatenate([informative, informative])
    design = np.column_stack([window, pairs[:, informative]])[keep]
    # Imported here: statsmodels takes a second to import, and the input check and the
    # modules that only want this module's counting and wording need none of it.
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    model = sm.GLM(counts[keep], design, family=sm.families.Poisson())
    with warnings.catch_warnings():
        # Identical counts in every month fit perfectly; the floor on the dispersion covers it.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        poisson_fit = model.fit()
        df_resid = max(1.0, poisson_fit.df_resid)
        dispersion = max(1.0, poisson_fit.pearson_chi2 / df_resid)
        fit = model.fit(scale=dispersion, use_t=True)
    low, high = fit.conf_int(alpha=SIGNIFICANCE_LEVEL)[0]
    p_value = float(fit.pvalues[0])
    ratio = float(np.exp(fit.params[0]))
    return ChangeTest(ratio, float(np.exp(low)), float(np.exp(high)), p_value, dispersion, _verdict(ratio, p_value))


def _verdict(ratio: float, p_value: float) -> str:
    if math.isnan(p_value):
        return "too few crimes to test"
    if p_value < SIGNIFICANCE_LEVEL:
        return "significant increase" if ratio > 1 else "significant decrease"
    return "no significant change"


def holm_adjust(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted as a test).

    With the m p-values tested in ascending order p(1) <= ... <= p(m), the i-th adjusted
    value is the largest of (m - j + 1) p(j) for j <= i, capped at 1 (Holm 1979; what
    statsmodels' ``multipletests(method="holm")`` gives, which a test checks). Worked out
    here because importing statsmodels for it cost the report 0.3 s, and the report fits
    nothing else."""
    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(values), np.nan)
    tested = np.flatnonzero(~np.isnan(values))
    if len(tested):
        order = tested[np.argsort(values[tested], kind="stable")]
        factors = np.arange(len(order), 0, -1)
        adjusted[order] = np.minimum(np.maximum.accumulate(values[order] * factors), 1.0)
    return adjusted.tolist()


def monthly_counts(crimes: pd.DataFrame, area: str, months: list[str]) -> pd.DataFrame:
    """Counts per month (rows) and crime type (columns) for one area, plus the all-crime totals.

    Only the given ``months`` appear (pass the usable months: missing months are left
    out, not shown as zero). Adds ``All crime (excluding ASB)``. A crime type with no
    rows in a usable month counts 0 there: the month has data, that type had none.
    ``crimes``: the tidy rows, or their counts (``police.count_crimes``), which give the same.
    """
    return _monthly_table(crimes.loc[crimes["area"] == area, _counted_columns(crimes)], months)


def _counted_columns(crimes: pd.DataFrame) -> list[str]:
    """What ``_monthly_table`` needs of the rows (or of their counts)."""
    return ["month", "crime_type", "count"] if "count" in crimes.columns else ["month", "crime_type"]


def _monthly_table(own: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """``monthly_counts`` of one area's rows (``month`` and ``crime_type`` columns), or of their
    counts (with a ``count`` column, as ``police.count_crimes`` makes them)."""
    # The area is picked before the months, and counted by groupby rather than crosstab:
    # a force's half a million rows made crosstab and the months test most of the time.
    subset = own[own["month"].isin(months)]
    grouped = subset.groupby(["month", "crime_type"])
    sizes = grouped["count"].sum() if "count" in subset.columns else grouped.size()
    table = sizes.unstack("crime_type", fill_value=0).reindex(months, fill_value=0)
    table = table.reindex(sorted(table.columns), axis=1)
    table[ALL_CRIME_EXCL_ASB] = table.drop(columns=[ASB], errors="ignore").sum(axis=1)
    table.index.name = "month"
    table.columns.name = None
    return table


def like_for_like_months(period_end: str, usable: list[str]) -> tuple[list[str], list[str]]:
    """Pairs of months compared: assessment months whose month a year earlier is also usable.

    Returns (comparison months, assessment months), paired in order.
    """
    usable_set = set(usable)
    pairs = [(shift_month(m, -12), m) for m in assessment_window(period_end)]
    kept = [(before, after) for before, after in pairs if before in usable_set and after in usable_set]
    return [b for b, _ in kept], [a for _, a in kept]


def compare_windows(monthly: pd.DataFrame, period_end: str) -> pd.DataFrame:
    """Assessment window against the comparison window for every column of ``monthly``.

    ``monthly`` is the output of ``monthly_counts`` (usable months only). Columns of the
    result: crime_type, window_months (usable months of the assessment window),
    window_count (the count over all of them), months_compared, comparison_count,
    assessment_count (both over the like-for-like months only), change, pct_change
    (percent; NaN if the comparison count is 0), rate_ratio, ci_low, ci_high, p_value
    (unadjusted), p_holm (Holm-adjusted across the crime types and ASB; the all-crime
    total is not adjusted and keeps its own p), verdict (from p_holm).
    """
    before_months, after_months = like_for_like_months(period_end, list(monthly.index))
    window = [m for m in assessment_window(period_end) if m in set(monthly.index)]
    records = []
    for crime_type in monthly.columns:
        before = monthly.loc[before_months, crime_type].to_numpy()
        after = monthly.loc[after_months, crime_type].to_numpy()
        result = change_significance(before, after)
        b, a = int(before.sum()), int(after.sum())
        records.append(
            {
                "crime_type": crime_type,
                "window_months": len(window),
                "window_count": int(monthly.loc[window, crime_type].sum()),
                "months_compared": len(after_months),
                "comparison_count": b,
                "assessment_count": a,
                "change": a - b,
                "pct_change": 100.0 * (a - b) / b if b else math.nan,
                "rate_ratio": result.rate_ratio,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "p_value": result.p_value,
                "unadjusted_verdict": result.verdict,
            }
        )
    table = pd.DataFrame(records)
    if table.empty:
        return table
    family = table["crime_type"] != ALL_CRIME_EXCL_ASB
    table["p_holm"] = table["p_value"]
    table.loc[family, "p_holm"] = holm_adjust(list(table.loc[family, "p_value"]))
    table["verdict"] = [
        v if v.startswith("too few") else _verdict(r, p)
        for v, r, p in zip(table["unadjusted_verdict"], table["rate_ratio"], table["p_holm"])
    ]
    return table.drop(columns="unadjusted_verdict")


def rate_per_1000(count: float, population: int, months_present: int, months_in_period: int = 12) -> float:
    """Crimes per 1,000 residents over a year.

    ``count`` is the number recorded over ``months_present`` usable months; when months
    are missing the count is scaled up to a full year (``months_in_period`` months) so
    the rate is comparable, and the report says so.
    """
    if months_present == 0:
        return math.nan
    return count * (months_in_period / months_present) / population * 1000


def window_rates(
    crimes: pd.DataFrame, areas: list[AreaDefinition], usable: dict[str, list[str]], period_end: str
) -> pd.DataFrame:
    """Rates per 1,000 for each area in the assessment window.

    ``crimes``: the tidy rows, or their counts (``police.count_crimes``). ``usable`` maps
    area name to its usable months. Each area's population is the estimate for the
    window's year (``AreaDefinition.population_for``). Columns: area,
    population, population_year, months_present, months (the months counted, as a
    list), then for each crime type and for all crime excluding ASB its count over
    those months and its rate per 1,000 a year (``<type> rate``), scaled up to 12
    months when fewer are usable.
    """
    window = assessment_window(period_end)
    columns = _counted_columns(crimes)
    # Each area's rows found in one pass, not one pass over every area's rows per area.
    by_area = dict(tuple(crimes[["area", *columns]].groupby("area", sort=False)))
    no_rows = crimes.iloc[:0][columns]
    records = []
    for area in areas:
        months = [m for m in window if m in set(usable.get(area.name, []))]
        population = area.population_for(window)
        own = by_area[area.name][columns] if area.name in by_area else no_rows
        monthly = _monthly_table(own, months)
        record: dict[str, object] = {
            "area": area.name,
            "population": population.value,
            "population_year": population.year,
            "months_present": len(months),
            "months": months,
        }
        for crime_type, count in monthly.sum().items():
            record[crime_type] = int(count)
            record[f"{crime_type} rate"] = rate_per_1000(count, population.value, len(months))
        records.append(record)
    return pd.DataFrame(records)


def common_months(usable: dict[str, list[str]], period_end: str) -> list[str]:
    """Months of the assessment window with usable data for every area (for like-for-like rates)."""
    shared = set(assessment_window(period_end))
    for months in usable.values():
        shared &= set(months)
    return sorted(shared)


def financial_year_counts(monthly: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Counts per financial year (April to March) for the complete years in ``monthly``.

    ``monthly`` holds usable months only. A financial year counts as complete when all
    12 of its months are usable. Returns (a table with one row per crime type and one
    column per complete year, the incomplete years with their number of usable months).
    """
    months = set(monthly.index)
    years = sorted({financial_year(m) for m in months})
    usable = {y: len(set(financial_year_months(y)) & months) for y in years}
    complete = [y for y in years if usable[y] == 12]
    table = pd.DataFrame({year: monthly.loc[financial_year_months(year)].sum() for year in complete})
    table.index.name = "crime_type"
    return table.astype(int), {y: n for y, n in usable.items() if n < 12}


def comparison_windows_text(
    period_end: str, before: list[str], after: list[str], window_months: list[str] | None = None
) -> dict[str, str]:
    """Names of the windows for sentences, captions and column headers in the report.

    Keys: assessment and comparison (the two 12-month windows), window_text (the usable
    months of the assessment window, e.g. 'Jan 2020 to Dec 2020 (12 months)'),
    before_text and after_text (the like-for-like months), months_compared, left_out.
    """
    window, previous = assessment_window(period_end), comparison_window(period_end)
    usable = window if window_months is None else [m for m in window if m in set(window_months)]
    return {
        "assessment": f"{month_label(window[0])} to {month_label(window[-1])}",
        "comparison": f"{month_label(previous[0])} to {month_label(previous[-1])}",
        "window_text": describe_months(usable),
        "before_text": describe_months(before),
        "after_text": describe_months(after),
        "months_compared": str(len(after)),
        "left_out": ", ".join(month_label(m) for m in window if m not in set(after)),
    }


def _change_phrase(row: pd.Series) -> str:
    if row["comparison_count"] == 0:
        return "with none in the same months of the year before"
    if row["change"] == 0:
        return "the same as in the same months of the year before"
    direction = "up" if row["change"] > 0 else "down"
    return (
        f"{direction} {abs(row['pct_change']):.1f}% on the same months of the year before ({row['comparison_count']:,})"
    )


def _verdict_phrase(verdict: str) -> str:
    if verdict.startswith("significant"):
        return f"a statistically {verdict}"
    if verdict == "no significant change":
        return "within normal month-to-month variation (not statistically significant)"
    return verdict


def and_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def key_findings(area: str, comparison: pd.DataFrame, rates: pd.DataFrame, windows: dict[str, str]) -> list[str]:
    """Plain-English key findings generated from the comparison and the rates.

    ``comparison`` is from ``compare_windows`` for the assessed area; ``rates`` from
    ``window_rates`` with the assessed area first; ``windows`` from
    ``comparison_windows_text``. Every number in the sentences comes from those tables,
    and every count names the months it covers. Nothing is said of a change that could
    not be tested.
    """
    findings: list[str] = []
    by_type = comparison.set_index("crime_type")
    months = int(windows["months_compared"])
    if months == 0:
        findings.append(
            f"No month of {windows['assessment']} has usable data a year earlier as well, so no change on the year "
            "before can be given or tested: that needs the same calendar months in both years."
        )
    elif windows["left_out"]:
        findings.append(
            f"Like-for-like comparisons cover {plural(months, 'month')} of the 12: {windows['left_out']} "
            "left out because the same month is missing or partial in one of the two windows."
        )
    for label, name in (
        (ALL_CRIME_EXCL_ASB, "crimes (excluding anti-social behaviour)"),
        (ASB, "anti-social behaviour incidents"),
    ):
        if label not in by_type.index:
            continue
        row = by_type.loc[label]
        sentence = f"In {windows['window_text']}, police recorded {int(row['window_count']):,} {name} in {area}."
        if months:
            sentence += (
                f" Over the {plural(months, 'month')} with data in both years, {int(row['assessment_count']):,} were "
                "recorded, "
                f"{_change_phrase(row)}: {_verdict_phrase(row['verdict'])}."
            )
        findings.append(sentence)
    # ASB incidents are not crimes and have their own sentence above.
    types = comparison[~comparison["crime_type"].isin([ALL_CRIME_EXCL_ASB, ASB])]
    tested = (
        int(comparison.loc[comparison["crime_type"] != ALL_CRIME_EXCL_ASB, "p_value"].notna().sum()) if months else 0
    )
    if tested:
        for verdict, word in (("significant increase", "increases"), ("significant decrease", "decreases")):
            hits = types[types["verdict"] == verdict].sort_values("pct_change", ascending=verdict.endswith("decrease"))
            if hits.empty:
                findings.append(
                    f"No crime type showed a statistically significant {verdict.split()[1]} once allowance is made "
                    f"for testing {tested} types at once (Holm)."
                )
            else:
                listed = "; ".join(
                    f"{r.crime_type} ({r.pct_change:+.1f}%, {r.comparison_count:,} to {r.assessment_count:,})"
                    for r in hits.itertuples()
                )
                findings.append(
                    f"Statistically significant {word}, allowing for {tested} types tested at once (Holm): {listed}."
                )
    total = by_type.loc[ALL_CRIME_EXCL_ASB, "window_count"] if ALL_CRIME_EXCL_ASB in by_type.index else 0
    if not types.empty and total > 0:
        top = types.sort_values("window_count", ascending=False).iloc[0]
        share = 100 * top["window_count"] / total
        findings.append(
            f"{top['crime_type']} is the largest category of crime: {share:.0f}% of crimes excluding ASB in "
            f"{windows['window_text']}."
        )
    rate_column = f"{ALL_CRIME_EXCL_ASB} rate"
    if len(rates) > 1 and int(rates["months_present"].min()) == 0:
        findings.append(
            f"No month of {windows['assessment']} has data for {area} and every comparator area, so rates are not "
            "compared."
        )
    elif len(rates) > 1 and rate_column in rates:
        own = rates.iloc[0][rate_column]
        shared = int(rates["months_present"].min())
        over = (
            "" if shared == 12 else f" (over the {plural(shared, 'month')} with data for every area, scaled to a year)"
        )
        others = rates.iloc[1:].sort_values(rate_column, ascending=False)
        lower = [f"{r['area']} ({r[rate_column]:.1f})" for _, r in others.iterrows() if r[rate_column] > own]
        higher = [f"{r['area']} ({r[rate_column]:.1f})" for _, r in others.iterrows() if r[rate_column] <= own]
        parts = []
        if lower:
            parts.append("lower than " + and_list(lower))
        if higher:
            parts.append("higher than or equal to " + and_list(higher))
        findings.append(
            f"{area}'s rate of {own:.1f} crimes (excluding ASB) per 1,000 residents a year in "
            f"{windows['assessment']}{over} is " + ", and ".join(parts) + "."
        )
    return findings


def area_comparison(
    params: Params, crimes: pd.DataFrame, summary: ScanSummary
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """The assessed area's window comparison, rates and monthly counts, from police data
    read straight from the inputs (``police.read_police_data`` for the area).

    For commands that need the crime evidence outside a full run (the MoRiLE template).
    Returns (``compare_windows`` result, the area's row of ``window_rates``, usable
    monthly counts by crime type).
    """
    from pipeline.analysis.police import month_coverage, usable_months
    from pipeline.months import history_start

    coverage = month_coverage(
        crimes,
        params.area.name,
        history_start(params.period_end, params.trend_years),
        params.period_end,
        summary.months_in_input,
        params.partial_month_threshold,
    )
    usable = usable_months(coverage)
    monthly = monthly_counts(crimes, params.area.name, usable)
    comparison = compare_windows(monthly, params.period_end)
    rates = window_rates(crimes, [params.area], {params.area.name: usable}, params.period_end)
    return comparison, rates.iloc[0], monthly
