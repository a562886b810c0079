"""Command-line jobs that are not a run: writing the MoRiLE workshop's scoring sheet, the
partners' data collection workbook and the action owners' quarterly update sheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.analysis import morile
from pipeline.analysis.threat_profiles import extract_evidence
from pipeline.analysis.trends import area_comparison, comparison_windows_text, like_for_like_months
from pipeline.errors import ParamsError
from pipeline.inputs.police_reads import read_police_data
from pipeline.orchestration.checks import check_inputs, input_files
from pipeline.params import load_params


def template_for(params_path: str | Path, out: str | Path | None = None) -> Path:
    """Write the scoring sheet for a params file, with evidence from its police data.

    The inputs are checked first, as for a run; the sheet is never written over an input.
    """
    params = load_params(params_path)
    if params.morile is None:
        raise ParamsError(
            f"{params_path} has no morile section: add the model and the threats first (see docs/params.md, 'MoRiLE "
            "prioritisation')."
        )
    path = Path(out) if out else Path("outputs") / f"morile-scoring-sheet-{params.run_name}.xlsx"
    if path.resolve() in set(input_files(params)):
        raise ParamsError(
            f"--out {path}: that is one of the run's inputs; write the template to a new file, for example under "
            "outputs/."
        )
    check_inputs(params, morile_scores=False)
    model = morile.load_model(params.morile.model)
    crimes, summary = read_police_data(params.inputs.police, [params.area])
    comparison, rates, monthly = area_comparison(params, crimes, summary)
    before, after = like_for_like_months(params.period_end, list(monthly.index))
    windows = comparison_windows_text(params.period_end, before, after, list(monthly.index))
    evidence = morile.threat_evidence(params.morile.threats, comparison, rates, monthly, params.disruption_periods)
    evidence["source"] = "police.uk"
    if params.force_extract is not None:
        # The extract measures a threat directly; police.uk's broad types stand in only where it cannot.
        from_extract = extract_evidence(params, set(crimes["lsoa_code"].dropna()))
        evidence = pd.concat(
            [evidence[~evidence["threat"].isin(from_extract["threat"])], from_extract], ignore_index=True
        )
    partner_evidence = None
    if params.partners is not None:
        from pipeline.analysis.partner_indicators import evidence_sentences, run_partners

        _, _, results = run_partners(params.partners, params.suppression_threshold, params.period_end)
        partner_evidence = evidence_sentences(results, params.partners.sample)
    title = f"MoRiLE scoring sheet: {params.area.name}, assessment window {windows['assessment']} ({model.name})"
    return morile.write_template(
        model, params.morile.threats, evidence, path, title, morile.evidence_headers(windows), partner_evidence
    )


def action_updates_for(params_path: str | Path, quarter: str, out: str | Path | None = None) -> Path:
    """Write the action owners' update sheet for ``quarter`` of the delivery plan's year: one
    row per action of the agreed priorities (every priority with actions, before a first run),
    its status as the plan and the update sheets already listed in the params leave it. The
    delivery inputs are checked first; the sheet is never written over an input."""
    from pipeline.inputs.action_updates import QUARTERS, updated_plan, write_update_sheet
    from pipeline.inputs.delivery_plan import load_plan
    from pipeline.orchestration.checks import delivery_checks

    params = load_params(params_path)
    if params.delivery is None:
        raise ParamsError(
            f"{params_path} has no delivery section: add the delivery plan first (see docs/params.md, 'Delivery plan')."
        )
    quarter = quarter.strip().upper()
    if quarter not in QUARTERS:
        raise ParamsError(f"--quarter {quarter!r}: use one of {', '.join(QUARTERS)}, the quarter the owners report on.")
    problems = delivery_checks(params)
    if problems:
        raise ParamsError("\n".join(["Problems in the delivery inputs; no sheet was written:", *problems]))
    plan, _ = updated_plan(load_plan(params.delivery.plan), params.delivery.updates)
    year = plan.financial_year.replace("/", "-")
    path = Path(out) if out else Path("outputs") / f"action-updates-{params.run_name}-{year}-{quarter}.xlsx"
    if path.resolve() in set(input_files(params)):
        raise ParamsError(f"--out {path}: that is one of the run's inputs; write the sheet to a new file.")
    with_actions = [threat for threat, response in plan.responses.items() if response.actions]
    # The agreed priorities, from the last run's MoRiLE ranking and the plan's decisions, where
    # there is one; otherwise every priority the plan gives actions for.
    ranking_file = params.processed_dir / params.run_name / "morile_ranking.parquet"
    if params.morile is not None and ranking_file.is_file():
        from pipeline.analysis.delivery import final_priorities

        agreed = final_priorities(morile.read_processed(ranking_file.parent), plan)
        with_actions = [t for t in agreed.loc[agreed["priority"], "threat"] if t in with_actions]
    title = f"Action updates, {quarter} {plan.financial_year}: {plan.title}"
    return write_update_sheet(plan, with_actions, quarter, path, title, sample=params.delivery.sample)


def partner_template_for(params_path: str | Path, out: str | Path | None = None) -> Path:
    """Write the partners' data collection workbook from the params' partner catalogue: one
    sheet per agency, its periods as rows up to the assessment window's end. Filled in, it is
    listed under ``partners.data`` as it is; the run reads and checks it like any data file."""
    from pipeline.inputs.partner_data import load_catalogue, write_template

    params = load_params(params_path)
    if params.partners is None:
        raise ParamsError(
            f"{params_path} has no partners section: add the indicator catalogue first (see docs/params.md, "
            "'Partner agencies' data')."
        )
    catalogue = load_catalogue(params.partners.catalogue)
    path = Path(out) if out else Path("outputs") / f"partner-data-template-{params.run_name}.xlsx"
    if path.resolve() in set(input_files(params)):
        raise ParamsError(f"--out {path}: that is one of the run's inputs; write the workbook to a new file.")
    title = f"Partner data for the strategic assessment: {params.area.name}, periods to {params.period_end}"
    return write_template(catalogue, path, params.period_end, title)
