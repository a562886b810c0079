"""Threat profiles from a force crime extract: volume, change, trend, harm, time, place, people.

Works on the crimes ``pipeline.inputs.extract.read_extract`` returns for one area. Every count
is over named months; the report applies disclosure control to everything below
whole-area level (``pipeline.analysis.hotspots.suppress``).

Why one module: a threat's profile (change, harm, time, place, people, reconciliation) is
built from one classified extract in one pass and written together for the report.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.inputs.extract import ExtractSummary
from pipeline.inputs.offences import EvidenceStatus, evidence_status, threat_mask
from pipeline.months import assessment_window, month_label
from pipeline.params import AreaDefinition, ForceExtract, Params, Threat, threat_catalogue

ALL_EXTRACT_CRIME = "All crime in the extract"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIME_METHODS = {
    "aoristic": (
        "Aoristic apportioning (Ratcliffe): a crime known only to have happened between two times is shared across "
        "every hour of that range in proportion to the minutes of the range in each hour, so each crime adds up to "
        "one; a crime with one committed time counts wholly in its hour."
    ),
    "from": "Each crime is placed at its committed-from time (the start of its range).",
    "midpoint": "Each crime with a committed range is placed at the middle of the range.",
}


def extract_threats(morile_threats: list[Threat] | None) -> list[Threat]:
    """The threats profiled from the extract: the MoRiLE threats if there are any, else the
    whole default catalogue."""
    if morile_threats:
        return list(morile_threats)
    return [Threat(name=d.name or key, extract=key) for key, d in threat_catalogue().items()]


def threat_statuses(threats: list[Threat], flags_held: set[str]) -> pd.DataFrame:
    """For each threat: evidenced, partial, note (what is missing) and description."""
    records = []
    for threat in threats:
        status: EvidenceStatus = evidence_status(threat.definition, flags_held)
        definition = threat.definition
        if definition is None and threat.crime_types:
            status = EvidenceStatus(
                False,
                False,
                "no extract definition is given; its evidence is police.uk's " + ", ".join(threat.crime_types),
            )
        records.append(
            {
                "threat": threat.name,
                "evidenced": status.evidenced,
                "partial": status.partial,
                "note": status.note,
                "description": definition.description if definition else "",
            }
        )
    return pd.DataFrame(records, columns=["threat", "evidenced", "partial", "note", "description"])


def threat_masks(crimes: pd.DataFrame, threats: list[Threat], statuses: pd.DataFrame) -> dict[str, np.ndarray]:
    """Which crimes make up each evidenced threat."""
    evidenced = set(statuses.loc[statuses["evidenced"], "threat"])
    return {t.name: threat_mask(crimes, t.definition) for t in threats if t.name in evidenced}


def monthly_threat_counts(crimes: pd.DataFrame, masks: dict[str, np.ndarray], months: list[str]) -> pd.DataFrame:
    """Crimes per month (rows: ``months``, the months the extract covers) for each threat,
    plus every crime in the extract (last column). Months not given are left out, not zero."""
    month = crimes["month"].to_numpy()
    table = pd.DataFrame(index=pd.Index(months, name="month"))
    for name, mask in masks.items():
        table[name] = pd.Series(month[mask]).value_counts().reindex(months, fill_value=0).astype(int).to_numpy()
    table[ALL_EXTRACT_CRIME] = pd.Series(month).value_counts().reindex(months, fill_value=0).astype(int).to_numpy()
    return table


def change_and_trend(monthly: pd.DataFrame, period_end: str, disruptions: tuple = ()) -> pd.DataFrame:
    """Full-window count, like-for-like change and its test, and trend, for each column.

    The same method as the police.uk crime types (``trends.compare_windows``: quasi-Poisson
    with calendar months paired, Holm-adjusted across the threats; the all-crime total is
    not adjusted) and the same seasonal trend model (``trend_models.fit_trend``), its trends
    Holm-adjusted across the threats in the same way.
    """
    from pipeline.analysis.trend_models import fit_trend, holm_verdicts
    from pipeline.analysis.trends import ALL_CRIME_EXCL_ASB, compare_windows

    # compare_windows leaves its all-crime column out of the Holm family.
    renamed = monthly.rename(columns={ALL_EXTRACT_CRIME: ALL_CRIME_EXCL_ASB})
    table = compare_windows(renamed, period_end)
    table["crime_type"] = table["crime_type"].replace({ALL_CRIME_EXCL_ASB: ALL_EXTRACT_CRIME})
    table = table.rename(columns={"crime_type": "threat"})
    fits = {c: fit_trend(monthly[c], disruptions) for c in monthly.columns}
    holm_verdicts(fits, alone=(ALL_EXTRACT_CRIME,))  # one policy: trends Holm-adjusted across the threats
    table["trend"] = [fits[c].verdict for c in monthly.columns]
    return table


def crime_severity_score(weights: float, population: int, months_present: int) -> float:
    """Crime Severity Score a year on ONS's scale: severity weights per resident.

    ``weights`` is the sum of the ONS severity weights (days) of the crimes over
    ``months_present`` months; scaled to 12 months when fewer and divided by the population,
    as ONS publishes it (England 13.34 in 2017/18), so the two can be set side by side.
    """
    if months_present == 0 or population <= 0:
        return math.nan
    return weights * (12 / months_present) / population


def harm_table(crimes: pd.DataFrame, masks: dict[str, np.ndarray], window: list[str], population: int) -> pd.DataFrame:
    """For each threat and the whole extract, over the window's months: crimes, summed
    severity weight, Crime Severity Score a year (ONS scale), share of the area's crimes and
    of its harm (%). Crimes with an unknown offence code have no weight (and are counted in
    ``unweighted``)."""
    in_window = crimes["month"].isin(window).to_numpy()
    months_present = len(window)
    weights = crimes["severity_weight"].to_numpy()
    total_count = int(in_window.sum())
    total_harm = float(np.nansum(weights[in_window]))
    records = []
    for name, mask in [*masks.items(), (ALL_EXTRACT_CRIME, np.ones(len(crimes), dtype=bool))]:
        chosen = mask & in_window
        harm = float(np.nansum(weights[chosen]))
        records.append(
            {
                "threat": name,
                "crimes": int(chosen.sum()),
                "unweighted": int((chosen & np.isnan(weights)).sum()),
                "severity_weight_sum": harm,
                "css": crime_severity_score(harm, population, months_present),
                "volume_share": 100 * chosen.sum() / total_count if total_count else math.nan,
                "harm_share": 100 * harm / total_harm if total_harm else math.nan,
            }
        )
    return pd.DataFrame(records)


def harm_by_group(crimes: pd.DataFrame, window: list[str]) -> pd.DataFrame:
    """Every ONS offence group in the window: crimes, share of crimes and share of harm (%),
    highest harm first."""
    chosen = crimes[crimes["month"].isin(window) & crimes["ons_group"].notna()]
    grouped = chosen.groupby("ons_group", observed=True).agg(crimes=("month", "size"), harm=("severity_weight", "sum"))
    grouped["volume_share"] = 100 * grouped["crimes"] / grouped["crimes"].sum()
    grouped["harm_share"] = 100 * grouped["harm"] / grouped["harm"].sum()
    return (
        grouped.reset_index().sort_values(["harm_share", "ons_group"], ascending=[False, True]).reset_index(drop=True)
    )


def _hour_of_week(times: np.ndarray) -> np.ndarray:
    """0..167: Monday 00:00-00:59 is 0."""
    days = times.astype("datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    hour = ((times - days).astype("timedelta64[h]")).astype(np.int64)
    return weekday * 24 + hour


def time_cells(
    committed_from: np.ndarray, committed_to: np.ndarray, method: str = "aoristic", longest_hours: int = 168
) -> tuple[np.ndarray, dict[str, int]]:
    """Crimes by hour of the week (168 cells, Monday 00:00 first) from committed times.

    A crime with a from time and no to time (or the same) counts 1 in its hour. A range
    (to after from) is placed by ``method``: ``aoristic`` shares 1 across the hours of the
    range in proportion to the minutes in each; ``from`` puts it at its start;
    ``midpoint`` at its middle. Crimes with no from time, and ranges longer than
    ``longest_hours``, are not placed. Returns (cells, counts of placed, exact, ranged,
    no_time, too_long).
    """
    start = np.asarray(committed_from, dtype="datetime64[m]")
    end = np.asarray(committed_to, dtype="datetime64[m]")
    cells = np.zeros(168)
    no_time = np.isnat(start)
    ranged = ~no_time & ~np.isnat(end) & (end > start)
    exact = ~no_time & ~ranged
    minutes = np.where(ranged, (end - start).astype(np.int64), 0)
    too_long = ranged & (minutes > longest_hours * 60)
    ranged &= ~too_long
    np.add.at(cells, _hour_of_week(start[exact]), 1.0)
    if ranged.any():
        s, e, length = start[ranged], end[ranged], minutes[ranged].astype(float)
        if method == "from":
            np.add.at(cells, _hour_of_week(s), 1.0)
        elif method == "midpoint":
            np.add.at(cells, _hour_of_week(s + (length / 2).astype("timedelta64[m]")), 1.0)
        else:
            hour_start = s.astype("datetime64[h]").astype("datetime64[m]")
            for k in range(int(math.ceil(length.max() / 60)) + 1):
                bin_start = hour_start + np.timedelta64(60 * k, "m")
                bin_end = bin_start + np.timedelta64(60, "m")
                overlap = (np.minimum(e, bin_end) - np.maximum(s, bin_start)).astype(np.int64)
                live = overlap > 0
                if not live.any():
                    continue
                np.add.at(cells, _hour_of_week(bin_start[live]), overlap[live] / length[live])
    counts = {
        "placed": int(exact.sum() + ranged.sum()),
        "exact": int(exact.sum()),
        "ranged": int(ranged.sum()),
        "no_time": int(no_time.sum()),
        "too_long": int(too_long.sum()),
    }
    return cells, counts


def time_table(
    crimes: pd.DataFrame, masks: dict[str, np.ndarray], window: list[str], method: str, longest_hours: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hour-of-week cells for each threat over the window (long: threat, weekday, hour,
    crimes) and how many of its crimes were placed, exact, ranged, without time, too long."""
    in_window = crimes["month"].isin(window).to_numpy()
    parts, placement = [], []
    for name, mask in masks.items():
        chosen = mask & in_window
        cells, counts = time_cells(
            crimes["committed_from"].to_numpy()[chosen],
            crimes["committed_to"].to_numpy()[chosen],
            method,
            longest_hours,
        )
        grid = cells.reshape(7, 24)
        parts.append(
            pd.DataFrame(
                {
                    "threat": name,
                    "weekday": np.repeat(WEEKDAYS, 24),
                    "hour": np.tile(np.arange(24), 7),
                    "crimes": grid.ravel(),
                }
            )
        )
        placement.append({"threat": name, "crimes": int(chosen.sum()), **counts})
    cells_table = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["threat", "weekday", "hour", "crimes"])
    )
    return cells_table, pd.DataFrame(placement)


def month_of_year(monthly: pd.DataFrame, period_end: str, years: int = 3) -> pd.DataFrame:
    """Each threat's count by calendar month for the last ``years`` 12-month windows
    (long: threat, window, calendar_month 1-12, crimes; months without data left out)."""
    parts = []
    for back in range(years):
        end = f"{int(period_end[:4]) - back}{period_end[4:]}"
        months = [m for m in assessment_window(end) if m in monthly.index]
        label = f"{month_label(assessment_window(end)[0])} to {month_label(end)}"
        for name in monthly.columns:
            for m in months:
                parts.append(
                    {
                        "threat": name,
                        "window": label,
                        "calendar_month": int(m[5:]),
                        "month": m,
                        "crimes": int(monthly.at[m, name]),
                    }
                )
    return pd.DataFrame(parts, columns=["threat", "window", "calendar_month", "month", "crimes"])


def lsoa_table(
    crimes: pd.DataFrame, masks: dict[str, np.ndarray], window: list[str], names: dict[str, str]
) -> pd.DataFrame:
    """Crimes per LSOA for each threat over the window (long; LSOAs with none left out)."""
    in_window = crimes["month"].isin(window).to_numpy()
    parts = []
    for name, mask in masks.items():
        counts = crimes.loc[mask & in_window, "lsoa_code"].value_counts()
        parts.append(
            pd.DataFrame(
                {
                    "threat": name,
                    "lsoa_code": counts.index,
                    "lsoa_name": [names.get(c, c) for c in counts.index],
                    "count": counts.to_numpy(),
                }
            )
        )
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["threat", "lsoa_code", "lsoa_name", "count"])
    )
    return out.sort_values(["threat", "count", "lsoa_code"], ascending=[True, False, True]).reset_index(drop=True)


def repeat_table(crimes: pd.DataFrame, masks: dict[str, np.ndarray], window: list[str]) -> pd.DataFrame:
    """For each threat over the window: crimes with a map point, points with two or more
    crimes, and the crimes at those points (repeat locations)."""
    in_window = crimes["month"].isin(window).to_numpy()
    records = []
    for name, mask in masks.items():
        points = crimes.loc[mask & in_window, "point"].dropna()
        per_point = points.value_counts()
        repeats = per_point[per_point >= 2]
        records.append(
            {
                "threat": name,
                "located": int(len(points)),
                "repeat_points": int(len(repeats)),
                "crimes_at_repeats": int(repeats.sum()),
                "most_at_one_point": int(per_point.max()) if len(per_point) else 0,
            }
        )
    return pd.DataFrame(
        records, columns=["threat", "located", "repeat_points", "crimes_at_repeats", "most_at_one_point"]
    )


def people_table(crimes: pd.DataFrame, masks: dict[str, np.ndarray], window: list[str]) -> pd.DataFrame:
    """Victims by age band and sex for each threat over the window (long: threat,
    victim_age_band, victim_sex, count; 'Not recorded' where blank). Empty when the
    extract has neither field."""
    fields = [f for f in ("victim_age_band", "victim_sex") if f in crimes.columns]
    if not fields:
        return pd.DataFrame(columns=["threat", "victim_age_band", "victim_sex", "count"])
    in_window = crimes["month"].isin(window).to_numpy()
    parts = []
    for name, mask in masks.items():
        chosen = crimes.loc[mask & in_window, fields].astype(object).fillna("Not recorded")
        for f in ("victim_age_band", "victim_sex"):
            if f not in chosen:
                chosen[f] = "Not recorded"
        counts = chosen.groupby(["victim_age_band", "victim_sex"]).size().rename("count").reset_index()
        counts.insert(0, "threat", name)
        parts.append(counts)
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["threat", "victim_age_band", "victim_sex", "count"])
    )


def outcome_table(crimes: pd.DataFrame, masks: dict[str, np.ndarray], window: list[str]) -> pd.DataFrame:
    """Crimes by outcome for each threat over the window (long: threat, outcome, count)."""
    if "outcome" not in crimes.columns:
        return pd.DataFrame(columns=["threat", "outcome", "count"])
    in_window = crimes["month"].isin(window).to_numpy()
    parts = []
    for name, mask in masks.items():
        counts = crimes.loc[mask & in_window, "outcome"].astype(object).fillna("Not recorded").value_counts()
        parts.append(pd.DataFrame({"threat": name, "outcome": counts.index, "count": counts.to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["threat", "outcome", "count"])


def reconcile(crimes: pd.DataFrame, police_monthly: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Extract against police.uk by police.uk crime type and month, over ``months`` (the
    months both cover). Long: crime_type, month, extract, police_uk, difference
    (extract minus police.uk). Crimes with an unknown offence code have no police.uk type
    and appear as 'Unknown offence code'. Anti-social behaviour is left out: it is not a crime."""
    from pipeline.analysis.police import ASB
    from pipeline.analysis.trends import ALL_CRIME_EXCL_ASB

    chosen = crimes[crimes["month"].isin(months)]
    category = chosen["police_uk_category"].astype(object).fillna("Unknown offence code")
    extract = pd.crosstab(category, chosen["month"]).stack().rename("extract")
    police = police_monthly.loc[[m for m in months if m in police_monthly.index]].drop(
        columns=[ASB, ALL_CRIME_EXCL_ASB], errors="ignore"
    )
    police = police.T.stack().rename("police_uk")
    police.index.names = extract.index.names = ["crime_type", "month"]
    table = pd.concat([extract, police], axis=1).fillna(0).astype(int).reset_index()
    table["difference"] = table["extract"] - table["police_uk"]
    return table.sort_values(["crime_type", "month"]).reset_index(drop=True)


def profile_threats(
    crimes: pd.DataFrame,
    summary: ExtractSummary,
    police_monthly: pd.DataFrame | None,
    lsoa_names: dict[str, str],
    threats: list[Threat],
    settings: ForceExtract,
    area: AreaDefinition,
    period_end: str,
    disruptions: tuple = (),
) -> ThreatProfiles:
    """Every table the report shows from the extract, for one area.

    ``crimes`` and ``summary`` are ``extract.read_area_extract``'s: the area's crimes in the
    months it used (``summary.months``). ``police_monthly``: the area's usable police.uk
    monthly counts (for the reconciliation), or None.
    """
    months = summary.months
    statuses = threat_statuses(threats, set(summary.flags))
    masks = threat_masks(crimes, threats, statuses)
    monthly = monthly_threat_counts(crimes, masks, months)
    window = [m for m in assessment_window(period_end) if m in set(months)]
    population = area.population_for(window or assessment_window(period_end)).value
    cells, placement = time_table(crimes, masks, window, settings.time_method, settings.longest_range_hours)
    shared = [m for m in months if police_monthly is not None and m in police_monthly.index]
    tables = {
        "statuses": statuses,
        "monthly": monthly,
        "change": change_and_trend(monthly, period_end, disruptions),
        "harm": harm_table(crimes, masks, window, population),
        "harm_groups": harm_by_group(crimes, window),
        "time_cells": cells,
        "time_placement": placement,
        "month_of_year": month_of_year(monthly, period_end),
        "lsoas": lsoa_table(crimes, masks, window, lsoa_names),
        "repeats": repeat_table(crimes, masks, window),
        "people": people_table(crimes, masks, window),
        "outcomes": outcome_table(crimes, masks, window),
        "reconciliation": reconcile(crimes, police_monthly, shared)
        if police_monthly is not None and shared
        else pd.DataFrame(columns=["crime_type", "month", "extract", "police_uk", "difference"]),
    }
    return ThreatProfiles(summary, settings.time_method, window, tables)


def extract_evidence(params: Params, police_lsoas: set[str]) -> pd.DataFrame:
    """MoRiLE evidence for each threat the extract evidences, read straight from the inputs
    (for the scoring sheet, outside a full run). ``police_lsoas``: the LSOAs police.uk
    places in the area.

    Columns: threat, count (full window), pct_change (like for like), rate_per_1000 (a
    year), trend, css, volume_share, harm_share, source. Threats the extract
    cannot evidence are left out (their police.uk evidence stands).
    """
    from pipeline.inputs.extract import read_area_extract

    crimes, summary = read_area_extract(
        params.force_extract,
        params.area,
        police_lsoas,
        params.period_end,
        params.trend_years,
        params.partial_month_threshold,
        params.geography.lsoa_boundaries if params.geography else None,
    )
    profiles = profile_threats(
        crimes,
        summary,
        None,
        {},
        extract_threats(params.morile.threats if params.morile else None),
        params.force_extract,
        params.area,
        params.period_end,
        params.disruption_periods,
    )
    change = profiles.tables["change"].set_index("threat")
    harm = profiles.tables["harm"].set_index("threat")
    evidenced = profiles.tables["statuses"].query("evidenced")["threat"]
    population = params.area.population_for(profiles.window or assessment_window(params.period_end)).value
    source = profiles.summary.name + (" (synthetic sample)" if profiles.summary.sample else "")
    records = []
    for threat in evidenced:
        compared = int(change.at[threat, "months_compared"]) > 0 and change.at[threat, "comparison_count"] > 0
        records.append(
            {
                "threat": threat,
                "count": int(change.at[threat, "window_count"]),
                "pct_change": change.at[threat, "pct_change"] if compared else np.nan,
                "rate_per_1000": change.at[threat, "window_count"]
                * 12
                / max(1, len(profiles.window))
                / population
                * 1000
                if profiles.window
                else np.nan,
                "trend": change.at[threat, "trend"],
                "css": harm.at[threat, "css"],
                "volume_share": harm.at[threat, "volume_share"],
                "harm_share": harm.at[threat, "harm_share"],
                "source": source,
            }
        )
    return pd.DataFrame(
        records,
        columns=[
            "threat",
            "count",
            "pct_change",
            "rate_per_1000",
            "trend",
            "css",
            "volume_share",
            "harm_share",
            "source",
        ],
    )


# --- processed files ---------------------------------------------------------------------

TABLES = (
    "statuses",
    "monthly",
    "change",
    "harm",
    "harm_groups",
    "time_cells",
    "time_placement",
    "month_of_year",
    "lsoas",
    "repeats",
    "people",
    "outcomes",
    "reconciliation",
)


@dataclass
class ThreatProfiles:
    """Everything the report shows from the extract."""

    summary: ExtractSummary
    method: str
    window: list[str]  # the assessment window's months the extract covers
    tables: dict[str, pd.DataFrame]

    @property
    def months(self) -> list[str]:
        """Every month used (the window and the years before it that the extract covers)."""
        return self.summary.months


def write_processed(folder: Path, profiles: ThreatProfiles) -> None:
    """Write the profiles for the report: one parquet per table and a JSON of the rest."""
    out = folder / "extract"
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = profiles.tables[name]
        if name == "monthly":
            table = table.reset_index()
        table.to_parquet(out / f"{name}.parquet", index=False)
    meta = {"summary": asdict(profiles.summary), "method": profiles.method, "window": profiles.window}
    (out / "extract.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def read_processed(folder: Path) -> ThreatProfiles:
    """Read what ``write_processed`` wrote."""
    out = folder / "extract"
    meta = json.loads((out / "extract.json").read_text(encoding="utf-8"))
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
    tables["monthly"] = tables["monthly"].set_index("month")
    return ThreatProfiles(ExtractSummary(**meta["summary"]), meta["method"], meta["window"], tables)
