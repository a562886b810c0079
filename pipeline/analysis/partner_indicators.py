"""Partners' indicators analysed as what each one is: its latest value, the change against the
same period a year before (or the period before, for yearly figures or where the year-before
period is missing), and its trend over the periods given, with the method named.

- Counts: as crime is tested. The change is a quasi-Poisson test of the two counts (the log
  of their ratio over its standard error, sqrt(phi x (1/a + 1/b)), with phi the dispersion of
  the indicator's own series about its trend, never below 1); the trend is a quasi-Poisson
  regression of the counts on time, with a term per calendar month (monthly series) or
  quarter (quarterly series), as a rate ratio a year.
- Proportions: the latest share with its Wilson score 95% interval; the change as a
  difference in percentage points with Newcombe's hybrid score interval and the score test
  (the survey's own ``survey.difference``); the trend a quasi-binomial (logit) regression on
  time, as an odds ratio a year.
- Rates and other numbers without their counts: the values and the change, untested.

The changes are Holm-adjusted across the indicators, and so are the trends. A trend is given
only for a series of at least 36 months, 12 quarters or 4 years (three years, as for crime).
Counts from 1 to the indicator's disclosure threshold are suppressed, and so is every figure
they could be worked out from (a change, a share's interval).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pipeline.analysis.survey import Estimate, difference
from pipeline.inputs.partner_data import Catalogue, PartnerIndicator, Period
from pipeline.months import shift_month

# As for crime: a trend needs three years, or it cannot be told apart from the change on a year before.
MIN_TREND_PERIODS = {1: 36, 3: 12, 12: 4}
SUPPRESSED = "*"


def share_estimate(successes: float, n: float) -> Estimate:
    """An unweighted share (0-1) with its Wilson 95% interval, as the survey's estimates are
    (``survey.weighted_estimate`` with every weight 1), so ``survey.difference`` applies."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=0.05, method="wilson")
    return Estimate(successes / n, float(low), float(high), int(n), float(n))


def _two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def _design(starts: list[str], months: int, seasonal: bool) -> np.ndarray:
    """Intercept, time in years and (if ``seasonal``) a term per calendar month or quarter."""
    index = np.array([int(s[:4]) * 12 + int(s[5:]) - 1 for s in starts], dtype=float)
    years = (index - index.min()) / 12
    columns = [np.ones(len(starts)), years]
    if seasonal:
        season = ((index % 12) // months).astype(int)
        for level in sorted(set(season))[1:]:
            columns.append((season == level).astype(float))
    return np.column_stack(columns)


def _trend(series: pd.DataFrame, spec: PartnerIndicator, months: int) -> dict[str, Any]:
    """The trend fit: per-year ratio with its 95% interval and p, and the dispersion; or why none."""
    import statsmodels.api as sm

    needed = MIN_TREND_PERIODS[months]
    if len(series) < needed or spec.unit not in ("count", "proportion"):
        why = (
            f"not given: {len(series)} {Period('2000-04', months).kind}s, fewer than the {needed} a trend needs"
            if spec.unit in ("count", "proportion")
            else "not tested: a rate or figure without its counts"
        )
        return {"trend_note": why, "dispersion": 1.0}
    seasonal = months in (1, 3) and len(series) >= needed
    x = _design(list(series["period_start"]), months, seasonal)
    if spec.unit == "count":
        model = sm.GLM(series["value"].to_numpy(), x, family=sm.families.Poisson())
    else:
        successes = series["numerator"].to_numpy(float)
        endog = np.column_stack([successes, series["denominator"].to_numpy(float) - successes])
        model = sm.GLM(endog, x, family=sm.families.Binomial())
    import warnings

    with warnings.catch_warnings():
        # A series that follows its trend exactly is "perfectly predicted"; its slope is still right.
        warnings.simplefilter("ignore", category=sm.tools.sm_exceptions.PerfectSeparationWarning)
        fit = model.fit(scale="X2")  # quasi-likelihood: the dispersion from the Pearson chi-square
    slope, se = float(fit.params[1]), float(fit.bse[1])
    return {
        "trend_ratio": math.exp(slope),
        "trend_low": math.exp(slope - 1.959964 * se),
        "trend_high": math.exp(slope + 1.959964 * se),
        "trend_p": _two_sided(slope / se) if se > 0 else math.nan,
        "dispersion": max(1.0, float(fit.scale)),
        "trend_note": "",
    }


def _suppressed(spec: PartnerIndicator, row: pd.Series, threshold: int) -> bool:
    """Whether a period's figure would disclose a count from 1 to ``threshold``."""
    if spec.unit == "count":
        return 1 <= row["value"] <= threshold
    if spec.unit == "proportion":
        return any(1 <= v <= threshold for v in (row["numerator"], row["denominator"] - row["numerator"]))
    return False


def analyse_indicator(spec: PartnerIndicator, series: pd.DataFrame, threshold: int, period_end: str) -> dict[str, Any]:
    """One indicator's row of ``analyse``; ``series`` its periods (from ``read_partner_data``)."""
    inside = [Period(s, int(m)).end <= period_end for s, m in zip(series["period_start"], series["months"])]
    series = series[pd.Series(inside, index=series.index, dtype=bool)]
    series = series.sort_values("period_start").reset_index(drop=True)
    record: dict[str, Any] = {
        "indicator": spec.id,
        "label": spec.label,
        "agency": spec.agency,
        "theme": spec.theme,
        "unit": spec.unit,
        "higher_is_better": spec.higher_is_better,
        "threats": "; ".join(spec.threats),
        "periods": len(series),
    }
    if not len(series):
        return {**record, "note": f"no period ending by {period_end}"}
    months = int(series["months"].iloc[0])
    latest = series.iloc[-1]
    latest_period = Period(latest["period_start"], months)
    record.update(
        kind=latest_period.kind,
        first_period=Period(series["period_start"].iloc[0], months).label,
        latest_period=latest_period.label,
        latest_value=float(latest["value"]),
        latest_suppressed=_suppressed(spec, latest, threshold),
        # A partner's latest figure may be older than the 12 months assessed: say so where it is shown.
        before_window=latest_period.end < shift_month(period_end, -11),
    )
    if spec.unit == "proportion":
        share = share_estimate(latest["numerator"], latest["denominator"])
        record["latest_low"], record["latest_high"] = share.ci_low, share.ci_high
    record.update(_trend(series, spec, months))
    # Like for like: the same period a year before; else (yearly, or missing) the period before.
    by_start = series.set_index("period_start")
    year_before = latest_period.shifted(-12)
    earlier = year_before if months < 12 and year_before.start in by_start.index else latest_period.shifted(-months)
    if earlier.start not in by_start.index:
        record["change_note"] = f"no figure for {year_before.label} or the period before to compare with"
        return record
    before = by_start.loc[earlier.start]
    record.update(comparison_period=earlier.label, comparison_value=float(before["value"]))
    hidden = record["latest_suppressed"] or _suppressed(spec, before, threshold)
    record["change_suppressed"] = hidden
    if hidden:
        # Not published, so not tested: it would only widen the Holm family of the changes shown.
        return record
    if spec.unit == "count":
        a, b = float(latest["value"]), float(before["value"])
        record["change_percent"] = 100 * (a - b) / b if b else math.nan
        ratio = math.log((a + 0.5) / (b + 0.5)) if (a == 0 or b == 0) else math.log(a / b)
        se = math.sqrt(record["dispersion"] * (1 / max(a, 0.5) + 1 / max(b, 0.5)))
        record["change_p"] = _two_sided(ratio / se)
    elif spec.unit == "proportion":
        # The survey's method: Newcombe's interval and the score test (survey.difference).
        change = difference(
            share_estimate(latest["numerator"], latest["denominator"]),
            share_estimate(before["numerator"], before["denominator"]),
        )
        record["change_points"] = 100 * change.difference
        record["change_low"], record["change_high"] = 100 * change.ci_low, 100 * change.ci_high
        record["change_p"] = change.p_value
    else:
        b = float(before["value"])
        record["change_percent"] = 100 * (float(latest["value"]) - b) / b if b else math.nan
    return record


def _holm(p_values: pd.Series) -> pd.Series:
    from statsmodels.stats.multitest import multipletests

    found = p_values.dropna()
    adjusted = pd.Series(np.nan, index=p_values.index)
    if len(found):
        adjusted[found.index] = multipletests(found.to_numpy(), method="holm")[1]
    return adjusted


def _verdict(p: float, change: float, higher_is_better: bool) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    if p >= 0.05:
        return "no significant change"
    better = (change > 0) == higher_is_better
    return f"significant {'rise' if change > 0 else 'fall'} ({'better' if better else 'worse'})"


def analyse(data: pd.DataFrame, catalogue: Catalogue, default_threshold: int, period_end: str) -> pd.DataFrame:
    """Every catalogue indicator's latest value, change and trend (see the module's methods),
    changes and trends each Holm-adjusted across the indicators. An indicator with no data has
    a row saying so."""
    rows = []
    for spec in catalogue.indicators:
        threshold = default_threshold if spec.disclosure_threshold is None else spec.disclosure_threshold
        series = data[data["indicator"] == spec.id] if len(data) else data
        rows.append(analyse_indicator(spec, series, threshold, period_end))
    table = pd.DataFrame(rows)
    for column in ("change_p", "trend_p", "change_percent", "change_points", "trend_ratio"):
        if column not in table:
            table[column] = np.nan
    table["change_p_holm"] = _holm(table["change_p"])
    table["trend_p_holm"] = _holm(table["trend_p"])
    change = table["change_points"].fillna(table["change_percent"])
    table["change_verdict"] = [
        _verdict(p, c, h) for p, c, h in zip(table["change_p_holm"], change, table["higher_is_better"])
    ]
    table["trend_verdict"] = [
        _verdict(p, (r or 1) - 1, h)
        for p, r, h in zip(table["trend_p_holm"], table["trend_ratio"], table["higher_is_better"])
    ]
    return table


def shown_value(unit: str, value: float) -> str:
    """A value as the report writes it: counts whole, proportions as %, others to 1 decimal."""
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    return f"{value:,.1f}"


def evidence_sentences(results: pd.DataFrame, sample: bool = False, agency: bool = True) -> dict[str, list[str]]:
    """For each threat, one line per partner indicator that evidences it: its latest value and
    period, and its change with the verdict (suppressed figures are not given). ``agency``:
    name the owning agency after the indicator."""
    label = " (synthetic sample)" if sample else ""
    lines: dict[str, list[str]] = {}
    for row in results.itertuples():
        if not row.threats or not row.periods:
            continue
        name = f"{row.label} ({row.agency}){label}" if agency else f"{row.label}{label}"
        if row.latest_suppressed:
            text = f"{name}: {row.latest_period} suppressed (a small number)"
        else:
            text = f"{name}: {shown_value(row.unit, row.latest_value)} in {row.latest_period}"
            if isinstance(getattr(row, "comparison_period", None), str) and not row.change_suppressed:
                change = (
                    f"{row.change_points:+.1f} points"
                    if row.unit == "proportion"
                    else f"{row.change_percent:+.0f}%".replace("+0%", "0%").replace("-0%", "0%")
                    if not math.isnan(row.change_percent)
                    else "up from 0"
                )
                verdict = f" ({row.change_verdict})" if row.change_verdict else ""
                text += f", {change} on {row.comparison_period}{verdict}"
        for threat in row.threats.split("; "):
            lines.setdefault(threat, []).append(text)
    return lines


def run_partners(
    settings: Any, default_threshold: int, period_end: str
) -> tuple[Catalogue, pd.DataFrame, pd.DataFrame]:
    """Read the catalogue and data (``params.partners``) and analyse every indicator:
    (catalogue, data as read, results)."""
    from pipeline.inputs.partner_data import load_catalogue, read_partner_data

    catalogue = load_catalogue(settings.catalogue)
    data = read_partner_data(settings.data, catalogue)
    return catalogue, data, analyse(data, catalogue, default_threshold, period_end)


def write_processed(data: pd.DataFrame, results: pd.DataFrame, folder: Any) -> None:
    """partner_data.parquet and partner_results.parquet, for the report and the delivery plan."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data.to_parquet(folder / "partner_data.parquet", index=False)
    results.to_parquet(folder / "partner_results.parquet", index=False)


def read_processed(folder: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(data, results) as the partners stage wrote them."""
    from pathlib import Path

    folder = Path(folder)
    return pd.read_parquet(folder / "partner_data.parquet"), pd.read_parquet(folder / "partner_results.parquet")


# What would evidence a threat no source measures: the partner figure to ask for.
WOULD_EVIDENCE = {
    "serious organised crime": "organised crime group disruptions recorded by the police, or county lines referrals",
    "child exploitation": "referrals to the children's exploitation pathway",
    "modern slavery": "National Referral Mechanism referrals",
    "fraud and cyber crime": "frauds reported to Action Fraud",
    "domestic abuse": "MARAC cases heard, or referrals to domestic abuse services",
    "hate crime": "hate incidents reported to third-party reporting centres",
    "anti-social behaviour": "ASB cases opened by the council or housing providers",
    "serious violence": "hospital admissions for assault",
}


def would_evidence(threat: str) -> str:
    """What partner figure would evidence ``threat``, in words, and how to add it."""
    example = WOULD_EVIDENCE.get(threat.lower(), "a partner agency's count of it")
    return (
        f"a partner indicator such as {example} would evidence it (add one to the partner catalogue with threats: "
        f"[{threat}])"
    )
