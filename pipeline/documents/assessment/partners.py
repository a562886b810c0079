"""The partners' sections: the resident survey, the MoRiLE prioritisation and the threats in the force crime extract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.analysis import delivery, hotspots, morile, survey, trends
from pipeline.documents import charts, morile_tables, survey_tables, threat_report
from pipeline.documents.assessment.annex import see_annex
from pipeline.documents.assessment.commentary import commentary
from pipeline.documents.assessment.context import Assessment
from pipeline.documents.assessment.evidence import threat_evidence_words
from pipeline.documents.formats import slug
from pipeline.documents.fragments import bullet_list, heading, paragraph
from pipeline.inputs import delivery_plan


def _sample_note(a: Assessment) -> str:
    return " (synthetic sample)" if a.p.survey.sample else ""


def survey_section(a: Assessment) -> list[Any]:
    """The resident survey's heading and what its results are (with a survey)."""
    p = a.p
    if not p.survey:
        return []
    sample_note = _sample_note(a)
    shown = [heading(f"{p.survey.name}{sample_note}", 2)]
    if p.survey.sample:
        shown.append(
            paragraph(
                "Synthetic sample: the survey results in this section are invented test data made by "
                "scripts/make_sample_survey.py, not the views of real residents. Replace them with your survey "
                "extract.",
                "sample",
            )
        )
    results, _ = survey.read_processed(a.processed)
    labels = {i.id: i.label for i in survey.load_indicators(p.survey.indicators)}
    table, formats = survey_tables.survey_summary_table(results, labels)
    latest = table["Year"].max() if len(table) else ""
    shown.append(
        paragraph(
            f"Each indicator's weighted result in the latest survey year, with its 95% confidence interval, and "
            "whether the change since the year before is more than the margin of error. Results based on fewer than "
            f"{p.survey.minimum_base} respondents are not published. Earlier years, charts and the differences "
            "between groups of residents are in the technical annex."
        )
    )
    if len(table):
        shown.append(
            a.tables.show(table, "survey-summary", f"Resident survey indicators, {latest}{sample_note}", formats)
        )
    shown.append(
        see_annex("survey", "Each indicator by year, with its chart, and the groups of residents who differed")
    )
    return shown


def survey_indicators(a: Assessment) -> list[Any]:
    """Each survey indicator: its table, chart and subgroups."""
    p = a.p
    if not p.survey:
        return []
    results, subgroups = survey.read_processed(a.processed)
    sample_note = _sample_note(a)
    shown = []
    for indicator in survey.load_indicators(p.survey.indicators):
        shown.append(heading(indicator.label, 3))
        table, formats = survey_tables.survey_table(results, indicator.id)
        shown.append(
            a.tables.show(table, f"survey-{indicator.id}", f"{indicator.label}, by year{sample_note}", formats)
        )
        rows = results[results["indicator"] == indicator.id]
        shown.append(a.charts.show(charts.survey_intervals, rows, indicator.label, p.survey.sample))
        sentences = survey.subgroup_sentences(subgroups, indicator)
        latest = int(subgroups["year"].max())
        shown.append(
            paragraph(
                f"Subgroups in {latest}: "
                + (
                    " ".join(sentences)
                    if sentences
                    else "no group differed significantly from the rest of the district."
                )
            )
        )
        table, formats = survey_tables.subgroup_table(subgroups, indicator.id)
        shown.append(
            a.tables.show(
                table,
                f"survey-{indicator.id}-subgroups",
                f"{indicator.label}: each group against the rest of the district, {latest}{sample_note}",
                formats,
            )
        )
    return shown


def _agreed(a: Assessment, ranking: Any) -> Any:
    """The agreed priorities (``delivery.final_priorities``): the ranking's proposal with the
    decisions the delivery plan records; None without a delivery plan. One set everywhere."""
    if a.p.delivery is None:
        return None
    return delivery.final_priorities(ranking, delivery_plan.load_plan(a.p.delivery.plan))


def executive_summary(a: Assessment) -> list[Any]:
    """The start of the summary a board reads first: the priorities with why each is one. The
    changes that matter (``key_findings``) and ``summary_caveats`` follow it."""
    p = a.p
    shown = [heading("Executive summary", 2), *commentary(a, "Executive summary")]
    if p.morile:
        ranking = morile.read_processed(a.processed)
        agreed = _agreed(a, ranking)
        if agreed is None:  # no delivery plan: the ranking's own proposal
            agreed = ranking[["threat", "priority"]].assign(
                proposed=ranking["priority"], override_reason="", override_decided=""
            )
        sample = " (illustrative sample scores)" if p.morile.sample else ""
        shown.append(heading(f"Priorities{sample}", 3))
        shown.append(
            paragraph(
                "From the MoRiLE workshop ranking and the recorded decisions (see Prioritisation), with the "
                "evidence behind each:"
            )
        )
        shown.append(bullet_list(morile_tables.priority_reasons(ranking, agreed, threat_evidence_words(a))))
    if p.delivery is not None:
        shown.append(
            paragraph(
                "The response to each priority (lead, actions and partners) is in the delivery plan appendix "
                "(delivery-plan-appendix.html)."
            )
        )
    return shown


def summary_caveats(a: Assessment) -> list[Any]:
    """The end of the executive summary: what the data cannot tell, naming any sample inputs."""
    p = a.p
    cannot = [
        "Recorded crime is what is reported and recorded, not all crime: a rise can mean more crime, more "
        "reporting or better recording.",
        "police.uk places each incident at an anonymised point near where it happened: street-level figures are "
        "approximate.",
    ]
    names = {
        "survey": "survey",
        "morile": "prioritisation scores",
        "force_extract": "force crime extract",
        "partners": "partner indicators",
        "delivery": "delivery actions",
    }
    samples = [names[key] for key in p.sample_inputs]
    if samples:
        cannot.append(
            "Sample data in this edition (" + ", ".join(samples) + "): those sections show the method, not real "
            "figures."
        )
    return [heading("What the data cannot tell", 3), bullet_list(cannot)]


def prioritisation(a: Assessment) -> tuple[list[str] | None, list[Any]]:
    """The MoRiLE ranking and the proposed priorities (with a MoRiLE section); returns the priorities too."""
    p = a.p
    if not p.morile:
        return None, []
    model = morile.load_model(p.morile.model)
    ranking = morile.read_processed(a.processed)
    sample = " (illustrative sample)" if p.morile.sample else ""
    shown = [heading(f"Prioritisation (MoRiLE){sample}", 2)]
    if p.morile.sample:
        shown.append(
            paragraph(
                "Illustrative sample: these workshop scores are invented to show the method; they are not "
                "the partnership's real scores.",
                "sample",
            )
        )
    priorities = list(ranking.loc[ranking["priority"], "threat"])
    shown.append(
        paragraph(
            f"Partners scored {len(ranking)} threats with the {model.name} (harm x likelihood, with organisational "
            f"position and confidence beside it), and a moderation meeting reviewed the scores. "
            f"Proposed priorities, in rank order: {', '.join(priorities)}. The facilitators' review "
            "(morile-review.html) shows "
            "partners' disagreements, the moderation changes and how sensitive each rank is."
        )
    )
    agreed = _agreed(a, ranking)
    if agreed is not None:
        priorities = list(agreed.loc[agreed["priority"], "threat"])
        shown.append(bullet_list(morile_tables.agreed_priorities_sentences(agreed)))
    table, formats = morile_tables.morile_ranking_table(ranking, model)
    headers = {
        "Organisational position (shown, not scored)": "Organisational position",
        "Confidence (shown, not scored)": "Confidence",
        "Rank if one score moved one step": "Rank if one score moved",
    }
    shown.append(
        a.tables.show(
            table,
            "priorities-ranking",
            f"Threats ranked by MoRiLE risk score{sample}",
            formats,
            note="Risk score: harm x likelihood. Organisational position and confidence are shown beside it, not "
            "scored. 'Rank if one score moved': the ranks the threat could take if any one of its factor scores "
            "moved one step.",
            headers={k: v for k, v in headers.items() if k in table.columns},
        )
    )
    return priorities, shown


@dataclass
class Threats:
    """The threat profiles from the force extract, and which threats the report shows."""

    profiles: Any
    label: str
    windows: dict[str, Any]
    priorities: list[str] | None
    shown_priorities: list[str]
    shown_others: list[str]

    @property
    def period(self) -> str:
        return self.windows["window_text"]

    @property
    def shown(self) -> list[str]:
        return self.shown_priorities + self.shown_others


def published_score_note(p: Any) -> str:
    """ONS's published score for the area, when the params give one, to set beside the extract's."""
    score = p.force_extract.published_crime_severity if p.force_extract else None
    if score is None:
        return ""
    return f" ONS published {score.value:,.2f} for {p.area.name}, {score.period} ({score.source})."


def threats_overview(a: Assessment, priorities: list[str] | None) -> tuple[Threats | None, list[Any]]:
    """The threats the force extract evidences: volume, change, harm and months (with an extract)."""
    p = a.p
    if not p.force_extract:
        return None, []
    profiles = a.threat_profiles
    label = threat_report.sample_label(profiles)
    windows = trends.comparison_windows_text(
        p.period_end, *trends.like_for_like_months(p.period_end, profiles.months), profiles.months
    )
    shown_priorities, shown_others, not_evidenced = threat_report.threats_to_show(profiles, priorities)
    found = Threats(profiles, label, windows, priorities, shown_priorities, shown_others)
    period = found.period
    shown = [heading(f"The partnership's threats in the force crime extract{label}", 2)]
    if profiles.summary.sample:
        shown.append(
            paragraph(
                "Synthetic sample: no force's offence-level extract can be published, so this section uses an "
                "invented extract "
                "made by scripts/make_sample_extract.py. Its counts by police.uk crime type and month are the real "
                "police.uk "
                "counts, but its offence codes, flags, times and victims are invented. Do not read them as facts "
                "about the area.",
                "sample",
            )
        )
    shown.append(
        paragraph(
            f"police.uk gives 14 broad crime types by month only. The {profiles.summary.name}{label} gives each "
            "crime's "
            "Home Office offence code, flags (such as domestic abuse and hate crime) and committed time, so the "
            "threats the "
            f"partnership {'proposes as priorities' if priorities is not None else 'defines'} can be measured "
            "directly. "
            "Harm is the ONS Crime Severity Score; changes are tested as for the crime types above, Holm-adjusted "
            "across the threats."
        )
    )
    if priorities is not None:
        shown.append(
            paragraph(
                "Proposed priorities the extract evidences: "
                f"{trends.and_list(shown_priorities) if shown_priorities else 'none'}. "
                + (
                    "The other threats scored at the workshop that it evidences follow them: "
                    f"{trends.and_list(shown_others)}."
                    if shown_others
                    else ""
                )
            )
        )
    if len(not_evidenced):
        from pipeline.analysis.partner_indicators import evidence_sentences

        by_partners = set(evidence_sentences(a.partners[1])) if a.partners is not None else set()
        shown.append(
            paragraph(
                "Not evidenced by the extract: "
                + "; ".join(
                    f"{r.threat}{' (a proposed priority)' if r.priority and priorities is not None else ''}: {r.note}"
                    + (
                        " (partner data evidences it: see Evidence from partners' data)"
                        if r.threat in by_partners
                        else ""
                    )
                    for r in not_evidenced.itertuples()
                )
                + "."
            )
        )
    if found.shown:
        table, formats = threat_report.overview_table(profiles, found.shown, windows)
        # The page keeps what a member needs; the like-for-like counts and the trend are in the CSV.
        short = {
            f"Crimes, {windows['window_text']}": "Crimes",
            "Change (%)": "Change",
            "Verdict": "Verdict",
            "Crime Severity Score a year (ONS scale)": "Severity score",
            "Share of the area's crimes (%)": "Share of crimes (%)",
            "Share of the area's harm (%)": "Share of harm (%)",
        }
        headers = {c: short[c] for c in table.columns if c in short}
        caption = f"Threats from the force extract: volume, change and harm, {p.area.name}{label}. Crimes: {period}."
        if "Verdict" in headers:
            caption += f" Like for like: {windows['after_text']} against {windows['before_text']}."
        shown.append(
            a.tables.show(
                table,
                "threats-overview",
                caption,
                formats,
                note="Severity score: the ONS Crime Severity Score, severity weights summed over a year and divided by "
                "the population, on ONS's scale (England 13.34 in 2017/18)." + published_score_note(p),
                display_columns=["Threat", *headers],
                headers=headers,
            )
        )
        shown.append(
            see_annex(
                "threats",
                "Harm by offence group, the threats by month, and a profile of each threat (when, where, "
                "who and with what outcome)",
            )
        )
    return found, shown


def threat_harm_and_months(a: Assessment, found: Threats | None) -> list[Any]:
    """For the annex: offence groups by share of crimes and of harm, and the threats by
    calendar month (with an extract)."""
    if found is None or not found.shown:
        return []
    p, profiles, label, period = a.p, found.profiles, found.label, found.period
    shown: list[Any] = []
    shown.append(
        a.charts.show(
            charts.harm_against_volume,
            profiles.tables["harm_groups"],
            p.area.name,
            period,
            profiles.summary.sample,
            caption=f"Offence groups by share of crimes and share of harm, {period}{label}",
        )
    )
    table, formats = threat_report.harm_groups_table(profiles, period)
    shown.append(
        a.tables.show(
            table, "harm-by-offence-group", f"Offence groups by volume and harm, {p.area.name}{label}", formats
        )
    )
    three_years, latest, latest_label = threat_report.month_of_year_tables(profiles, found.shown)
    a.tables.show(three_years, "threats-by-month-three-years", "Threats by calendar month, last three 12-month windows")
    shown.append(
        a.tables.show(
            latest,
            "threats-by-month",
            f"Threats by calendar month, {latest_label}{label}",
            note="'no data': the extract does not cover that month in full, so no count is given. The two "
            "12-month windows "
            "before are in tables/threats-by-month-three-years.csv.",
        )
    )
    return shown


def threat_profiles_section(a: Assessment, found: Threats | None) -> list[Any]:
    """Each shown threat: change, time, place, victims and outcomes."""
    if found is None:
        return []
    p, profiles, label, period, priorities = a.p, found.profiles, found.label, found.period, found.priorities
    threshold, note = p.suppression_threshold, hotspots.suppression_note(p.suppression_threshold)
    shown = []
    for threat in found.shown:
        name = slug(threat)
        if priorities is not None and threat in found.shown_others and threat == found.shown_others[0]:
            shown += [
                heading(f"Other threats the extract evidences{label}", 3),
                paragraph("Scored at the workshop but not among the proposed priorities; given for completeness."),
            ]
        priority = priorities is not None and threat in found.shown_priorities
        shown.append(
            heading(
                f"{threat}{' (proposed priority)' if priority else ''}{label}",
                3 if priorities is None or threat in found.shown_priorities else 4,
            )
        )
        shown.append(bullet_list(threat_report.threat_sentences(profiles, threat, found.windows, p.area.name)))
        if not threat_report.crimes_in_window(profiles, threat):
            shown.append(
                paragraph(
                    "With no crimes of this kind in the window, there is no time, place or victim breakdown to give."
                )
            )
            continue
        cells = profiles.tables["time_cells"].query("threat == @threat")
        shown.append(
            a.charts.show(
                charts.time_heatmap,
                cells,
                threat,
                period,
                profiles.summary.sample,
                caption=f"{threat} by day of the week and hour committed, {period}{label}",
            )
        )
        shown.append(paragraph(threat_report.time_sentence(profiles, threat, period)))
        lsoas = threat_report.lsoa_table(profiles, threat, 5, threshold, period)
        if len(lsoas):
            shown.append(
                a.tables.show(
                    lsoas, f"threat-{name}-lsoas", f"{threat}: the five LSOAs with most crimes{label}", note=note
                )
            )
        else:
            shown.append(
                paragraph(
                    f"Where these crimes were is not shown: all of them were in one LSOA, and its count ({threshold} "
                    "or "
                    "fewer) would be the area's total, which is published.",
                    "note",
                )
            )
        shown.append(paragraph(threat_report.repeat_sentence(profiles, threat, threshold, period)))
        people = threat_report.people_table(profiles, threat, threshold, period)
        if len(people):
            shown.append(
                a.tables.show(
                    people, f"threat-{name}-victims", f"{threat}: victims by age band and sex{label}", note=note
                )
            )
        outcomes = threat_report.outcome_table(profiles, threat, threshold, period)
        if len(outcomes):
            shown.append(
                a.tables.show(outcomes, f"threat-{name}-outcomes", f"{threat}: outcomes recorded{label}", note=note)
            )
    return shown
