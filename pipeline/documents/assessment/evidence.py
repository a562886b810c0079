"""Each threat's evidence: the few words beside each priority in the executive summary
(volume, change, harm, partners' figures) and the section listing every threat's evidence
from partners' data, with the threats no data source measures and what would."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.analysis import morile
from pipeline.documents import morile_tables
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.fragments import heading


def _label(a: Assessment) -> str:
    return " (synthetic sample)" if a.p.partners is not None and a.p.partners.sample else ""


def threat_evidence_words(a: Assessment) -> dict[str, str]:
    """Each scored threat's evidence in a few words: crimes and change from the force extract
    where it measures the threat (with its share of harm), else from police.uk's crime types;
    and its first partner indicator."""
    from pipeline.analysis.partner_indicators import evidence_sentences

    volume: dict[str, tuple[int, float | None, str]] = {}
    harm_share: dict[str, float] = {}
    # police.uk's counts and like-for-like change, as the MoRiLE scoring sheet gives them; the
    # verdict where the threat is one crime type (a sum of types was not tested as one).
    crime = morile.threat_evidence(a.p.morile.threats, a.comparison, a.rates.iloc[0])
    verdicts = a.comparison.set_index("crime_type")["verdict"] if len(a.comparison) else pd.Series(dtype=str)
    for threat, row in zip(a.p.morile.threats, crime.itertuples()):
        if pd.isna(row.count):
            continue
        change = None if pd.isna(row.pct_change) else float(row.pct_change)
        single = threat.crime_types[0] if len(threat.crime_types) == 1 else None
        verdict = str(verdicts.get(single, "")) if single and change is not None else ""
        volume[threat.name] = (int(row.count), change, verdict)
    if a.threat_profiles is not None:
        profiles = a.threat_profiles
        change = profiles.tables["change"].set_index("threat")
        harm = profiles.tables["harm"].set_index("threat")
        statuses = profiles.tables["statuses"]
        for threat in statuses.loc[statuses["evidenced"], "threat"]:
            compared = int(change.at[threat, "months_compared"]) > 0 and change.at[threat, "comparison_count"] > 0
            volume[threat] = (
                int(change.at[threat, "window_count"]),
                float(change.at[threat, "pct_change"]) if compared else None,
                str(change.at[threat, "verdict"]) if compared else "",
            )
            if threat in harm.index and pd.notna(harm.at[threat, "harm_share"]):
                harm_share[threat] = float(harm.at[threat, "harm_share"])
    partner_lines = evidence_sentences(a.partners[1], agency=False) if a.partners is not None else {}
    return morile_tables.threat_evidence_text(volume, harm_share, partner_lines, a.windows["window_text"])


def priority_evidence(a: Assessment, priorities: list[str] | None, found: Any) -> list[Any]:
    """Each scored threat's evidence from partners' data (agreed priorities first), and the
    threats no source measures with what would (with a MoRiLE section)."""
    if not a.p.morile:
        return []
    names = [t.name for t in a.p.morile.threats]
    ordered = [t for t in (priorities or []) if t in names] + [t for t in names if t not in (priorities or [])]
    measured = {t.name for t in a.p.morile.threats if t.crime_types}
    if found is not None:
        statuses = found.profiles.tables["statuses"]
        measured |= set(statuses.loc[statuses["evidenced"], "threat"])
    return _partner_evidence(a, ordered, measured)


def _partner_evidence(a: Assessment, threats: list[str], crime_evidenced: set[str]) -> list[Any]:
    """The priorities' evidence from partners' data: each threat with the partner indicators
    that evidence it, then the threats nothing evidences, each with what would. ``threats``:
    the threats in order (priorities first); ``crime_evidenced``: those police.uk or the force
    extract measures."""
    from pipeline.analysis.partner_indicators import evidence_sentences, would_evidence
    from pipeline.documents.fragments import bullet_list

    lines = evidence_sentences(a.partners[1]) if a.partners is not None else {}  # the heading says if sample
    shown = []
    if lines:
        shown.append(heading(f"Evidence from partners' data{_label(a)}", 3))
        shown.append(
            bullet_list([f"{threat}: " + "; ".join(lines[threat]) + "." for threat in threats if threat in lines])
        )
    unmeasured = [t for t in threats if t not in lines and t not in crime_evidenced]
    if unmeasured:
        shown.append(heading("Threats no data source measures", 3))
        shown.append(
            bullet_list(
                [
                    f"{threat}: no police.uk crime type, force extract definition or partner indicator measures it; "
                    + would_evidence(threat)
                    + "."
                    for threat in unmeasured
                ]
            )
        )
    return shown
