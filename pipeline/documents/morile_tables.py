"""The MoRiLE sections (review and assessment): ranking, scorers' spread, moderation changes, sensitivity and scores.

Each function returns a frame with the column names the report prints (the CSV beside
the HTML gets the same columns, with numbers left as numbers) or plain sentences.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from pipeline.documents.formats import one_decimal


def morile_ranking_table(ranking: pd.DataFrame, model: Any) -> tuple[pd.DataFrame, dict[str, Callable[[Any], str]]]:
    """Ranked threats: rank (ties share a rank), group scores, risk score, band, proposed priority."""
    # The threat names the row (it is the row header); the rank is a value like the scores.
    columns: dict[str, Any] = {"Threat": ranking["threat"], "Rank": ranking["rank"]}
    for group in model.groups:
        columns[group.label + ("" if group.role != "shown" else " (shown, not scored)")] = ranking[group.id].round(2)
    columns["Risk score"] = ranking["score"].round(2)
    columns["Band"] = ranking["band"]
    columns["Proposed priority"] = ["Yes" if p else "No" for p in ranking["priority"]]
    if "best_rank" in ranking:
        columns["Rank if one score moved one step"] = [
            f"{b} to {w}" for b, w in zip(ranking["best_rank"], ranking["worst_rank"])
        ]
    formats = {
        name: one_decimal
        for name in columns
        if name not in ("Rank", "Threat", "Band", "Proposed priority", "Rank if one score moved one step")
    }
    return pd.DataFrame(columns).reset_index(drop=True), formats


def morile_spread_table(combined: pd.DataFrame, model: Any, minimum_spread: float = 0.0) -> pd.DataFrame:
    """Partners' scores per threat and factor: combined value, lowest and highest, as level labels."""
    factors = {f.id: f for f in model.factors}
    rows = combined[combined["spread"] >= minimum_spread]
    return pd.DataFrame(
        {
            "Threat": rows["threat"],
            "Factor": [model.column_header(factors[f]) for f in rows["factor"]],
            "Combined": [model.label_of(factors[f], v) for f, v in zip(rows["factor"], rows["value"])],
            "Lowest score": [model.label_of(factors[f], v) for f, v in zip(rows["factor"], rows["min"])],
            "Highest score": [model.label_of(factors[f], v) for f, v in zip(rows["factor"], rows["max"])],
            "Scorers": rows["scorers"],
        }
    ).reset_index(drop=True)


def morile_changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Moderation: each changed threat's score and rank before and after, with the reasons."""
    return pd.DataFrame(
        {
            "Threat": changes["threat"],
            "Score before": changes["score_before"].round(2),
            "Rank before": changes["rank_before"],
            "Score after": changes["score_after"].round(2),
            "Rank after": changes["rank_after"],
            "What changed and why": changes["reasons"],
        }
    )


def morile_sensitivity_table(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Rank ranges under a one-step change of any single score, and whether priority status hangs on it."""
    return pd.DataFrame(
        {
            "Threat": sensitivity["threat"],
            "Rank": sensitivity["rank"],
            "Best rank": sensitivity["best_rank"],
            "Worst rank": sensitivity["worst_rank"],
            "Proposed priority": ["Yes" if p else "No" for p in sensitivity["priority"]],
            "Priority status hangs on a single score": [
                "Yes" if c else "No" for c in sensitivity["priority_can_change"]
            ],
            "One-step changes that would change it": sensitivity["deciding_moves"],
        }
    )


def morile_scores_table(values: pd.DataFrame, model: Any, order: list[str]) -> pd.DataFrame:
    """The heatmap's numbers as a table: one row per threat (in rank order), one column per factor."""
    factors = model.factors
    wide = values.pivot(index="threat", columns="factor", values="value").reindex(
        index=order, columns=[f.id for f in factors]
    )
    table = (
        wide.rename(columns={f.id: model.column_header(f) for f in factors})
        .reset_index()
        .rename(columns={"threat": "Threat"})
    )
    table.columns.name = None
    return table


def factor_score_parts(table: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """``morile_scores_table`` in two parts that each fit a page: the harm factors, then the
    rest (likelihood, organisational position, confidence), as (name, label, table) each
    with the threat column. Headers stay "Group: factor" for ``table_html(grouped=True)``."""
    harm = [c for c in table.columns if str(c).startswith("Harm: ")]
    rest = [c for c in table.columns if c != "Threat" and c not in harm]
    parts = [
        ("harm", "Harm", harm),
        ("likelihood-and-position", "Likelihood, organisational position and confidence", rest),
    ]
    return [(name, label, table[["Threat", *columns]]) for name, label, columns in parts if columns]


def agreed_priorities_sentences(agreed: pd.DataFrame) -> list[str]:
    """The agreed priorities in words: the list (the MoRiLE ranking with the facilitators'
    decisions, ``delivery.final_priorities``: the delivery plan's list too), then every
    departure from the ranking with its reason."""
    chosen = list(agreed.loc[agreed["priority"], "threat"])
    sentences = [f"Agreed priorities ({len(chosen)}), the same list as the delivery plan's: {', '.join(chosen)}."]
    for _, row in agreed.iterrows():
        if row["priority"] and not row["proposed"]:
            sentences.append(
                f"{row['threat']} was added to the MoRiLE ranking's proposal by {row['override_decided']}: "
                f"{row['override_reason']}"
            )
        elif row["proposed"] and not row["priority"]:
            sentences.append(
                f"{row['threat']} was proposed by the ranking but removed by {row['override_decided']}: "
                f"{row['override_reason']}"
            )
    if len(sentences) == 1:
        sentences.append("The agreed list is the MoRiLE ranking's proposal, unchanged.")
    return sentences


def priority_reasons(ranking: pd.DataFrame, agreed: pd.DataFrame, evidence: dict[str, str] | None = None) -> list[str]:
    """One line per agreed priority, in rank order, saying why it is one: its MoRiLE rank of
    all threats scored, its risk score (harm x likelihood after moderation) and band, for a
    threat the facilitators added their reason, and ``evidence`` (the data behind it: volume,
    change, harm, partners' figures, as ``threat_evidence_text`` words it) where there is any.
    ``agreed`` is ``delivery.final_priorities``."""
    scored = ranking.set_index("threat")
    evidence = evidence or {}
    lines = []
    for _, row in agreed[agreed["priority"]].iterrows():
        threat = row["threat"]
        found = (
            f" Evidence: {evidence[threat]}."
            if evidence.get(threat)
            else " No data source measures it yet (see Threats no data source measures)."
            if evidence
            else ""
        )
        if threat not in scored.index:
            reason = row["override_reason"] or "not scored in MoRiLE"
            lines.append(f"{threat}: chosen by the partnership ({reason}).{found}")
            continue
        r = scored.loc[threat]
        line = f"{threat}: MoRiLE rank {int(r['rank'])} of {len(scored)}, risk score {r['score']:.0f} ({r['band']})"
        line += f"; added by {row['override_decided']}: {row['override_reason']}" if not row["proposed"] else "."
        lines.append(line + found)
    return lines


def threat_evidence_text(
    volume: dict[str, tuple[int, float | None, str]],
    harm_share: dict[str, float],
    partner_lines: dict[str, list[str]],
    window_text: str,
) -> dict[str, str]:
    """The evidence behind each threat in a few words: its crimes in the window with the
    like-for-like change and its verdict (``volume``: count, % change or None, verdict), its
    share of the area's harm, and its first partner indicator."""
    threats = list(dict.fromkeys([*volume, *harm_share, *partner_lines]))
    words = {}
    for threat in threats:
        parts = []
        if threat in volume:
            count, change, verdict = volume[threat]
            text = f"{count:,} recorded in {window_text}"
            if change is not None:
                text += f" ({change:+.1f}% like for like, {verdict})" if verdict else f" ({change:+.1f}% like for like)"
            parts.append(text)
        if threat in harm_share:
            parts.append(f"{harm_share[threat]:.0f}% of the area's crime harm")
        if partner_lines.get(threat):
            parts.append("partners' data: " + partner_lines[threat][0])
        words[threat] = "; ".join(parts)
    return words
