"""Every input checked before any notebook runs, and every problem reported at once.

``check_inputs`` is what ``python -m pipeline check`` prints and what ``run`` does
first: the output folders are safe to write, the police files are readable and hold
data for every area in the window, and the survey, MoRiLE sheets, delivery plan and
risk registers validate. Problems from every input are gathered into one message,
grouped by input, so an analyst fixes them in one pass; nothing runs and nothing is
changed while any remain. Things that are allowed but limit the report (a short
window, unlocated rows) come back as warnings.

Why one module: every input is checked here before any notebook runs, so that one message
lists every problem in every input; the checks share the check cache and its keys.
"""

from __future__ import annotations

import difflib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pipeline.errors import InputDataError, PipelineError
from pipeline.months import assessment_window, comparison_window, month_label
from pipeline.params import AreaDefinition, Params
from pipeline.storage.folders import location_problems, replaceable_problems, writable_problem

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class InputCheck:
    """What the checks found: warnings to show, and facts for the console."""

    warnings: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


def input_files(params: Params) -> list[Path]:
    """Every input file the run reads (files inside input folders included), sorted."""
    paths: list[Path] = []
    for path in params.inputs.police:
        paths.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    paths.extend(a.lsoa_lookup for a in params.all_areas if a.lsoa_lookup is not None)
    paths.extend(a.lsoa_population.path for a in params.all_areas if a.lsoa_population is not None)
    if params.geography is not None:
        paths.extend(params.geography.files)
    if params.survey is not None:
        paths.extend(f.path for f in params.survey.responses)
        paths.append(params.survey.indicators)
    if params.morile is not None:
        paths.extend([params.morile.model, *params.morile.scores])
        paths.extend([params.morile.moderation] if params.morile.moderation else [])
    if params.force_extract is not None:
        paths.extend(
            [params.force_extract.path, *([params.force_extract.code_map] if params.force_extract.code_map else [])]
        )
    if params.delivery is not None:
        paths.extend([params.delivery.plan, params.delivery.risk_register])
        paths.extend([params.delivery.previous_risk_register] if params.delivery.previous_risk_register else [])
        paths.extend([params.delivery.last_year] if params.delivery.last_year else [])
        paths.extend(params.delivery.updates)
    if params.commentary is not None:
        paths.append(params.commentary.path)
    if params.partners is not None:
        paths.extend([params.partners.catalogue, *params.partners.data])
    return sorted({p.resolve() for p in paths})


def _area_setting(index: int) -> str:
    return "area" if index == 0 else f"comparators[{index - 1}]"


def authorities_hint(wanted: list[str], authority_rows: dict[str, int], limit: int = 12) -> str:
    """Local authority names in the data with their row counts, the nearest spellings of ``wanted`` first."""
    if not authority_rows:
        return "The police data has no located rows at all."

    def closeness(name: str) -> float:
        return max((difflib.SequenceMatcher(None, w.casefold(), name.casefold()).ratio() for w in wanted), default=0.0)

    names = sorted(authority_rows, key=lambda n: (-closeness(n), -authority_rows[n]))
    listed = ", ".join(f"{n} ({authority_rows[n]:,} rows)" for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"Local authorities in the police data, nearest spellings first: {listed}{more}."


def _empty_area_problem(index: int, area: AreaDefinition, authority_rows: dict[str, int]) -> str:
    setting = _area_setting(index)
    if area.lsoa_name_prefixes:
        named = ", ".join(repr(p) for p in area.lsoa_name_prefixes)
        return (
            f"{setting}.lsoa_name_prefixes: {named} (area {area.name!r}) matches no row of the police data; expected "
            "the local authority name as it starts the 'LSOA name' column. "
            f"{authorities_hint(area.lsoa_name_prefixes, authority_rows)}"
        )
    if area.official_lsoas:
        named = (
            f"partnership {area.partnership!r}"
            if area.partnership
            else f"force {area.force!r}"
            if area.force
            else f"districts {', '.join(area.districts)}"
        )
        return (
            f"{setting}: none of the {len(area.official_lsoas):,} LSOAs (2011 and 2021) of {named} (area "
            f"{area.name!r}) "
            "appears in the police data; check the police files cover this area. "
            + authorities_hint([area.name], authority_rows)
        )
    return (
        f"{setting}.lsoa_lookup: none of the LSOAs that {area.lsoa_lookup} gives to {area.name!r} appears in the "
        "police data; "
        "check the lookup's area names and that the police files cover this area. "
        + authorities_hint([area.name], authority_rows)
    )


def _unmatched_prefix_problem(index: int, area: AreaDefinition, name: str, authority_rows: dict[str, int]) -> str:
    return (
        f"{_area_setting(index)}.lsoa_name_prefixes: {name!r} (area {area.name!r}) matches no row of the police data, "
        f"so that district's crimes would be left out of {area.name}'s counts. Expected a local authority name as the "
        f"LSOA names in the files spell it (the 2011 LSOAs use the districts of 2011). "
        f"{authorities_hint([name], authority_rows)}"
    )


def police_checks(
    params: Params, on_read: Callable[[pd.DataFrame, Any], None] | None = None
) -> tuple[list[str], list[str], list[str], dict[str, set[str]], dict[str, tuple[float, float] | None]]:
    """Read the police inputs as the run will and check they can carry the assessment.

    Returns (problems, warnings, facts, the LSOA codes of each area in the data, the assessed
    area's centre: its located rows' median longitude and latitude, see ``area_centre``). Problems: unreadable
    or overlapping files, an
    area or comparator with no rows, a window with no usable data for any area.
    Warnings: fewer than 12 usable months, no like-for-like months, coordinates outside
    the UK, LSOA names without codes.
    """
    from pipeline.analysis.police import month_coverage, read_police_data, usable_months
    from pipeline.analysis.trends import like_for_like_months
    from pipeline.inputs.police_reads import from_shared_read

    problems: list[str] = []
    warnings: list[str] = []
    try:
        # A read kept by an earlier run (or another area's run) is reused; a new one is kept only
        # once every input has passed (``on_read``), as a refused run writes nothing.
        crimes, summary = read_police_data(
            params.inputs.police, params.all_areas, kept_reads=params.processed_dir, keep=False
        )
    except PipelineError as exc:
        return [str(exc)], warnings, [], {}, {}
    if on_read is not None:
        on_read(crimes, summary)
    rows = from_shared_read(crimes, "rows per area", lambda: crimes["area"].value_counts())
    lsoas = from_shared_read(
        crimes,
        "LSOAs per area",
        lambda: {
            name: frozenset(codes)
            for name, codes in crimes.groupby("area", observed=True)["lsoa_code"].unique().items()
        },
    )
    area_lsoas = {name: set(codes) for name, codes in lsoas.items()}
    for index, area in enumerate(params.all_areas):
        if int(rows.get(area.name, 0)) == 0:
            problems.append(_empty_area_problem(index, area, summary.authority_rows))
        else:
            # A name that matches nothing would leave its district out without a word (Somerset's
            # "Somerset West and Taunton" in 2011 LSOA names, which say "Taunton Deane").
            problems += [
                _unmatched_prefix_problem(index, area, name, summary.authority_rows)
                for name in area.lsoa_name_prefixes
                if name not in summary.authority_rows
            ]
    if problems:
        return problems, warnings, [], area_lsoas, {}
    centres = {params.area.name: area_centre(crimes, params.area.name)}
    window, previous = assessment_window(params.period_end), comparison_window(params.period_end)
    first = min(summary.months_in_input[0], previous[0])

    def usable_of(name: str) -> list[str]:
        return usable_months(
            month_coverage(
                crimes, name, first, params.period_end, summary.months_in_input, params.partial_month_threshold
            )
        )

    # Worked out once for all areas while a batch shares the read (police_reads.from_shared_read).
    depends_on = (first, params.period_end, tuple(summary.months_in_input), params.partial_month_threshold)
    usable_by_area = {
        a.name: from_shared_read(crimes, ("usable months", a.name, *depends_on), lambda a=a: usable_of(a.name))
        for a in params.all_areas
    }
    data_span = f"{month_label(summary.months_in_input[0])} to {month_label(summary.months_in_input[-1])}"
    for index, area in enumerate(params.all_areas):
        usable = [m for m in usable_by_area[area.name] if m in set(window)]
        if not usable:
            setting = "period_end" if index == 0 else f"{_area_setting(index)} ({area.name})"
            problems.append(
                f"{setting}: the assessment window {month_label(window[0])} to {month_label(window[-1])} "
                f"(period_end {params.period_end!r}) has no usable police data for {area.name}; the data read covers "
                f"{data_span}. Set period_end to a month the data covers, or add police files for the window."
            )
    if problems:
        return problems, warnings, [], area_lsoas, centres
    own = usable_by_area[params.area.name]
    in_window = [m for m in window if m in set(own)]
    if len(in_window) < 12:
        left_out = [month_label(m) for m in window if m not in set(in_window)]
        warnings.append(
            f"Only {len(in_window)} of the 12 months of the window have usable data for {params.area.name} "
            f"(not usable: {', '.join(left_out)}). Counts cover those months and say so; rates are scaled to a year "
            "and say so."
        )
    _, after = like_for_like_months(params.period_end, own)
    if not after:
        warnings.append(
            f"No calendar month of the window has usable data a year earlier too, so the like-for-like comparison with "
            f"{month_label(previous[0])} to {month_label(previous[-1])} "
            "cannot be made; the report says so instead of showing changes."
        )
    if getattr(params, "benchmarks", None) is not None and params.benchmarks.england_and_wales == "from police data":
        from pipeline.analysis.benchmarks import missing_forces

        missing = missing_forces(summary.files)
        if missing:
            warnings.append(
                f"benchmarks.england_and_wales: the police files lack {len(missing)} territorial force(s) ("
                + ", ".join(missing)
                + "), so no England and Wales figure is given; the report names them."
            )
    if summary.bad_coordinates:
        examples = "; ".join(summary.bad_coordinate_examples)
        warnings.append(
            f"{summary.bad_coordinates:,} police row(s) have a longitude or latitude that is not a number or lies "
            "outside "
            f"the UK (for example {examples}); their map points are left blank. Counts by LSOA are not affected."
        )
    if summary.lsoa_name_without_code:
        warnings.append(
            f"{summary.lsoa_name_without_code:,} police row(s) name an LSOA but have no LSOA code that could be "
            "recovered from "
            "other rows; they are counted as having no location."
        )
    facts = [
        f"Police data: {summary.force_rows:,} rows in {len(summary.files)} file(s), {data_span}; "
        + ", ".join(f"{a.name} {int(rows.get(a.name, 0)):,} rows" for a in params.all_areas)
        + f". Window {month_label(window[0])} to {month_label(window[-1])}: {len(in_window)} usable month(s) for "
        f"{params.area.name}."
    ]
    return problems, warnings, facts, area_lsoas, centres


def area_centre(crimes: pd.DataFrame, area: str) -> tuple[float, float] | None:
    """The median longitude and latitude (degrees) of an area's located police rows, or None
    when none is located: where its LSOA boundaries must lie."""
    rows = crimes.loc[crimes["area"] == area, ["longitude", "latitude"]].dropna()
    if rows.empty:
        return None
    return float(rows["longitude"].median()), float(rows["latitude"].median())


def geography_checks(
    params: Params, area_lsoas: dict[str, set[str]], centre: tuple[float, float] | None = None
) -> tuple[list[str], list[str]]:
    """Problems in the geography files, in how they cover the assessed area's LSOAs
    (see ``geography.coverage_problems``) and in where they lie against the area's police
    data (``centre``: its rows' median longitude and latitude; ``geography.placement_problem``);
    warnings for what the report will lack."""
    from pipeline.inputs.geography import coverage_problems, placement_problem, read_geography

    if params.geography is None:
        return [], []
    try:
        geo = read_geography(params.geography)
    except PipelineError as exc:
        return [str(exc)], []
    if params.area.name not in area_lsoas:
        return [], []  # the police section already reports an area with no rows
    problems, warnings = coverage_problems(geo, params.area.name, area_lsoas[params.area.name], "area")
    placement = placement_problem(geo, params.area.name, area_lsoas[params.area.name], centre)
    return problems + ([placement] if placement else []), warnings


def partner_checks(params: Params) -> list[str]:
    """Problems in the partner indicator catalogue and data files, and threats the catalogue
    names that the MoRiLE section does not score."""
    from pipeline.inputs.partner_data import load_catalogue, read_partner_data

    settings = params.partners
    if settings is None:
        return []
    try:
        catalogue = load_catalogue(settings.catalogue)
    except PipelineError as exc:
        return [str(exc)]
    problems = []
    if params.morile is not None:
        scored = {t.name for t in params.morile.threats}
        for indicator in catalogue.indicators:
            unknown = [t for t in indicator.threats if t not in scored]
            if unknown:
                problems.append(
                    f"{settings.catalogue}: indicator {indicator.id} evidences {', '.join(map(repr, unknown))}, not "
                    f"among the threats scored (morile.threats: {', '.join(sorted(scored))})"
                )
    try:
        read_partner_data(settings.data, catalogue)
    except PipelineError as exc:
        problems.append(str(exc))
    return problems


def commentary_checks(params: Params) -> list[str]:
    """Problems in the analyst's commentary: headings naming no section, references to no figure."""
    from pipeline.inputs.commentary import read_commentary

    try:
        read_commentary(params.commentary.path)
    except PipelineError as exc:
        return [str(exc)]
    return []


def lsoa_population_checks(params: Params) -> list[str]:
    """Problems in the LSOA population files the areas name."""
    from pipeline.analysis.hotspots import read_lsoa_population

    problems = []
    for area in params.all_areas:
        if area.lsoa_population is not None:
            try:
                read_lsoa_population(area.lsoa_population.path)
            except PipelineError as exc:
                problems.append(str(exc))
    return problems


def extract_checks(params: Params, area_lsoas: dict[str, set[str]]) -> list[str]:
    """Read the force extract as the run will (mapping, every cell, offence code map)."""
    from pipeline.inputs.extract import read_area_extract

    if params.area.name not in area_lsoas and params.area.lsoa_lookup is None and not params.area.official_lsoas:
        return []  # the police checks already report an area with no rows
    try:
        read_area_extract(
            params.force_extract,
            params.area,
            area_lsoas.get(params.area.name, set()),
            params.period_end,
            params.trend_years,
            params.partial_month_threshold,
            params.geography.lsoa_boundaries if params.geography else None,
        )
    except PipelineError as exc:
        return [str(exc)]
    return []


def survey_checks(params: Params) -> list[str]:
    """Problems in the survey indicator definitions and response files."""
    from pipeline.analysis import survey

    if params.survey is None:
        return []
    try:
        indicators = survey.load_indicators(params.survey.indicators)
        survey.clean_responses(survey.read_responses(params.survey, indicators), params.survey, indicators)
    except PipelineError as exc:
        return [str(exc)]
    return []


def morile_checks(params: Params, scores: bool = True) -> list[str]:
    """Problems in the MoRiLE model and (unless not ``scores``) every partner's scoring sheet;
    the moderation sheet has a check of its own (``moderation_checks``)."""
    from pipeline.analysis import morile

    settings = params.morile
    if settings is None:
        return []
    try:
        model = morile.load_model(settings.model)
    except PipelineError as exc:
        return [str(exc)]
    problems: list[str] = []
    if not scores:
        return problems
    for path in settings.scores:
        try:
            morile.read_scoring_sheet(path, model, settings.threats)
        except PipelineError as exc:
            problems.append(str(exc))
    if not settings.scores:
        problems.append("morile.scores: no scoring sheets are listed; list each partner's filled sheet (xlsx).")
    return problems


def moderation_checks(params: Params) -> list[str]:
    """Problems in the MoRiLE moderation sheet (none if there is none, or if the model cannot be
    read: ``morile_checks`` names that problem)."""
    from pipeline.analysis import morile

    settings = params.morile
    if settings is None or not settings.moderation:
        return []
    try:
        model = morile.load_model(settings.model)
    except PipelineError:
        return []
    try:
        morile.read_moderation(settings.moderation, model, settings.threats)
    except PipelineError as exc:
        return [str(exc)]
    return []


def delivery_checks(params: Params) -> list[str]:
    """Problems in the delivery plan input (grant included) and the risk registers."""
    from pipeline.inputs import delivery_plan

    settings = params.delivery
    if settings is None:
        return []
    problems = []
    for reader, path in (
        (delivery_plan.load_plan, settings.plan),
        (delivery_plan.load_register, settings.risk_register),
        (delivery_plan.load_register, settings.previous_risk_register),
    ):
        if path is None:
            continue
        try:
            reader(path)
        except PipelineError as exc:
            problems.append(str(exc))
    if not problems:  # a measure from partner data names an indicator of the partner catalogue
        from pipeline.inputs.partner_data import load_catalogue

        wanted = [
            (m.indicator, m.actual.partner)
            for m in delivery_plan.load_plan(settings.plan).performance_measures
            if m.actual is not None and m.actual.partner is not None
        ]
        try:
            known = set(load_catalogue(params.partners.catalogue).by_id()) if params.partners else None
        except PipelineError:
            known = set()  # the partner checks report the catalogue's own problems
        for indicator, partner in wanted:
            if known is None:
                problems.append(
                    f"{settings.plan}: the measure {indicator!r} takes partner indicator {partner!r}, but the params "
                    "have no partners section; add the partner catalogue and data (docs/params.md)"
                )
            elif known and partner not in known:
                problems.append(
                    f"{settings.plan}: the measure {indicator!r} takes partner indicator {partner!r}, which is not in "
                    f"the partner catalogue {params.partners.catalogue} (its ids: {', '.join(sorted(known))})"
                )
    if settings.last_year is not None:
        from pipeline.inputs.delivery_review import load_review

        try:
            load_review(settings.last_year)
        except PipelineError as exc:
            problems.append(str(exc))
    if settings.updates and not problems:  # the sheets are checked against a plan that reads
        from pipeline.inputs.action_updates import apply_updates, read_update_sheet

        sheets = []
        for path in settings.updates:
            try:
                sheets.append(read_update_sheet(path, delivery_plan.load_plan(settings.plan)))
            except PipelineError as exc:
                problems.append(str(exc))
        if not problems:
            try:
                apply_updates(delivery_plan.load_plan(settings.plan), sheets)
            except PipelineError as exc:
                problems.append(str(exc))
    return problems


def location_checks(params: Params) -> list[str]:
    """Whether the output and processed folders are safe and writable (see ``pipeline.storage.folders``)."""
    inputs = [*input_files(params), *(p.resolve() for p in params.inputs.police)]
    output_dir = params.output_dir.resolve()
    problems = location_problems("output_dir", output_dir, inputs)
    if params.run_name in ("", ".", ".."):
        # The processed sub-folder is named after output_dir, whose problem is already reported.
        return problems
    processed = (params.processed_dir / params.run_name).resolve()
    problems += location_problems("processed_dir", processed, inputs)
    if not problems:
        problems += replaceable_problems(output_dir)
        if output_dir == processed or output_dir in processed.parents or processed in output_dir.parents:
            problems.append(
                f"processed_dir: {str(processed)!r} and output_dir {str(output_dir)!r} are nested; publishing would "
                "replace the stage outputs. Keep them apart (the defaults are data/processed and outputs/<name>)."
            )
    if not problems:
        for setting, folder in (("output_dir", output_dir.parent), ("processed_dir", processed)):
            problem = writable_problem(setting, folder)
            if problem:
                problems.append(problem)
    return problems


def _indent(message: str) -> str:
    return "\n".join("  " + line if line.strip() else line for line in message.splitlines())


@dataclass
class CheckCache:
    """Where a run keeps the results of its slow checks (reading the police data, the boundary
    files) that passed, with the fingerprint of what each depended on; a check whose
    fingerprint is unchanged is not made again. See ``pipeline.orchestration.run``."""

    folder: Path
    keys: dict[
        str, str
    ]  # check name ("police", "geography", "survey", ...) -> fingerprint of its params fields and files
    reuse_saved: bool = True  # False (run --force): check again, and save the new results
    pending: dict[str, Any] = field(default_factory=dict)
    deferred: list[Callable[[], None]] = field(default_factory=list)  # writes made only if every input passes

    def get(self, name: str) -> Any:
        path = self.folder / f"check-{name}.json"
        if not self.reuse_saved or name not in self.keys or not path.is_file():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return saved["result"] if saved.get("key") == self.keys[name] else None

    def put(self, name: str, result: Any) -> None:
        """Keep a passed check's result, to be saved only if every check passes (see ``save``)."""
        if name in self.keys:
            self.pending[name] = result

    def save(self) -> None:
        """Write the kept results: called once every input has passed, so a refused run writes nothing."""
        for name, result in self.pending.items():
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"check-{name}.json").write_text(
                json.dumps({"key": self.keys[name], "result": result}), encoding="utf-8"
            )
        self.pending.clear()
        for write in self.deferred:
            write()
        self.deferred.clear()


def _cached_police_checks(
    params: Params, cache: CheckCache | None
) -> tuple[list[str], list[str], list[str], dict[str, set[str]], dict]:
    saved = cache.get("police") if cache else None
    if saved is not None:
        centres = {area: tuple(point) if point else None for area, point in saved.get("centres", {}).items()}
        return (
            [],
            saved["warnings"],
            saved["facts"],
            {area: set(codes) for area, codes in saved["area_lsoas"].items()},
            centres,
        )

    def keep_read(crimes: pd.DataFrame, summary: Any) -> None:
        from pipeline.inputs.police_reads import read_key, save_read

        key = read_key(params.inputs.police, params.all_areas)
        cache.deferred.append(lambda: save_read(params.processed_dir, key, crimes, summary))

    problems, warnings, facts, area_lsoas, centres = police_checks(params, keep_read if cache else None)
    if cache and not problems:
        cache.put(
            "police",
            {
                "warnings": warnings,
                "facts": facts,
                "area_lsoas": {a: sorted(c) for a, c in area_lsoas.items()},
                "centres": centres,
            },
        )
    return problems, warnings, facts, area_lsoas, centres


def _cached_geography_checks(
    params: Params, area_lsoas: dict[str, set[str]], centres: dict, cache: CheckCache | None
) -> tuple[list[str], list[str]]:
    saved = cache.get("geography") if cache else None
    if saved is not None:
        return [], saved
    problems, warnings = geography_checks(params, area_lsoas, centres.get(params.area.name))
    if cache and not problems:
        cache.put("geography", warnings)
    return problems, warnings


def _cached_check(name: str, cache: CheckCache | None, check: Callable[[], list[str]]) -> list[str]:
    """``check()``'s problems, or none without checking again when it passed before on the same
    settings, files and code (``cache``); a pass is kept, a problem is always checked again."""
    if cache is not None and cache.get(name) is not None:
        return []
    problems = check()
    if cache is not None and not problems:
        cache.put(name, True)
    return problems


def check_inputs(params: Params, morile_scores: bool = True, cache: CheckCache | None = None) -> InputCheck:
    """Check every input the params name; raise ``InputDataError`` listing every problem, grouped by input.

    Returns warnings (allowed, but the report will be limited) and facts for the console.
    ``morile_scores=False`` skips the partners' sheets (for writing the blank template).
    With ``cache``, the checks that passed before on the same inputs (police data, geography,
    force extract, survey, MoRiLE sheets, delivery plan) are not repeated; the caller saves
    the new results (``cache.save()``) once it may write.
    """
    result = InputCheck()
    sections: dict[str, list[str]] = {}
    sections["Output and processed folders (output_dir, processed_dir)"] = location_checks(params)
    police_problems, warnings, facts, area_lsoas, centres = _cached_police_checks(params, cache)
    sections["Police data (inputs.police: " + ", ".join(str(p) for p in params.inputs.police) + ")"] = police_problems
    result.warnings += warnings
    result.facts += facts
    if params.geography is not None:
        geography_problems, geography_warnings = _cached_geography_checks(params, area_lsoas, centres, cache)
        sections["Geography (geography: boundaries, ward lookup, deprivation)"] = geography_problems
        result.warnings += geography_warnings
    if any(a.lsoa_population is not None for a in params.all_areas):
        sections["LSOA populations (area.lsoa_population)"] = lsoa_population_checks(params)
    if params.force_extract is not None:
        sections[f"Force crime extract (force_extract: {params.force_extract.path})"] = _cached_check(
            "extract", cache, lambda: extract_checks(params, area_lsoas)
        )
    if params.survey:
        sections[f"Survey ({', '.join(str(f.path) for f in params.survey.responses)})"] = _cached_check(
            "survey", cache, lambda: survey_checks(params)
        )
    if params.morile:
        # Checked apart, so that a corrected moderation sheet is the only MoRiLE file read again.
        sections["MoRiLE (model, scoring sheets and moderation sheet)"] = _cached_check(
            "morile", cache if morile_scores else None, lambda: morile_checks(params, morile_scores)
        ) + (_cached_check("moderation", cache, lambda: moderation_checks(params)) if morile_scores else [])
    if params.commentary is not None:
        sections[f"Commentary (commentary.path: {params.commentary.path})"] = commentary_checks(params)
    if params.partners is not None:
        sections["Partner data (partners: catalogue and data files)"] = _cached_check(
            "partners", cache, lambda: partner_checks(params)
        )
    if params.delivery:
        sections["Delivery plan appendix (plan, risk registers, last year's review and update sheets)"] = _cached_check(
            "delivery", cache, lambda: delivery_checks(params)
        )
    failed = {name: problems for name, problems in sections.items() if problems}
    if failed:
        count = sum(len(p) for p in failed.values())
        parts = [
            f"{count} problem(s) in the inputs; nothing was run and nothing was changed. Fix them all and run again."
        ]
        for name, problems in failed.items():
            parts.append(f"\n{name}:")
            parts.extend(_indent(p if p.lstrip().startswith("-") else "- " + p) for p in problems)
        raise InputDataError("\n".join(parts))
    return result
