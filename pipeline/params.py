"""The run's params file: loaded and validated once, before any notebook runs.

A params file is YAML. Relative paths in it are read from the folder the command is
run in (the project folder, for ``make run``). See docs/params.md for every setting.

Why one module: every setting is validated once, here, at the edge, so a problem anywhere
in the file is listed with all the others; the settings' schemas are small classes that
refer to each other, and a reader finds every setting in one place.
"""

from __future__ import annotations

import re
from functools import cached_property, partial
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ParamsError, list_problems
from pipeline.months import Windows
from pipeline.reference import (
    ENGLAND_AND_WALES,
    ENGLAND_AND_WALES_NAME,
    all_lsoas,
    district_names,
    districts_named,
    force_names,
    input_file_names,
    missing_forces,
    nearest,
    official_area_lsoas,
    partnership_names,
    population_of,
)

MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month_written(value: Any, example: str) -> str:
    """A month setting as written: ``YYYY-MM`` text, or a message that shows how to write it."""
    if not isinstance(value, str) or not MONTH_PATTERN.match(value):
        raise ValueError(f"must be a month written YYYY-MM, like {example} (found {value!r})")
    return value


def _must_exist(value: Path | list[Path], folders_too: bool = False) -> Path | list[Path]:
    """The one check that the files a setting names exist (a folder too, with ``folders_too``).
    Every problem says the setting (from where it is), then which paths are missing."""
    paths = value if isinstance(value, list) else [value]
    missing = [str(p) for p in paths if not (p.exists() if folders_too else p.is_file())]
    if missing:
        raise ValueError(("not found: " if len(missing) == 1 else f"{len(missing)} not found: ") + ", ".join(missing))
    return value


# A setting naming one file, several files, or files and folders (police.uk downloads) that must exist.
ExistingFile = Annotated[Path, AfterValidator(_must_exist)]
ExistingFiles = Annotated[list[Path], AfterValidator(_must_exist)]
ExistingPaths = Annotated[list[Path], AfterValidator(partial(_must_exist, folders_too=True))]


class _Strict(BaseModel):
    # Unknown keys are errors: a misspelt setting must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Population(_Strict):
    """A resident population figure and where it came from."""

    value: int = Field(gt=0, description="Number of residents.")
    year: int = Field(ge=1990, le=2100, description="Year the estimate refers to (mid-year).")
    source: str = Field(min_length=1, description="Where the figure comes from, as cited in the report.")
    illustrative: bool = Field(default=False, description="True if the figure has not been checked against its source.")


class LsoaPopulation(_Strict):
    """Residents of each LSOA, for rates per 1,000 in the hotspot tables.

    ``path`` is a CSV with columns ``lsoa_code`` and ``population`` (for example cut from
    the ONS small-area population estimates for the area's LSOAs).
    """

    path: ExistingFile
    year: int = Field(ge=1990, le=2100, description="Year the estimates refer to (mid-year).")
    source: str = Field(min_length=1, description="Where the figures come from, as cited in the report.")


class Disruption(_Strict):
    """A period of known disruption to crime or recording (e.g. COVID-19 restrictions).

    Trend models give its months a level of their own, so the underlying trend is read
    from the months around it and a forecast does not carry the disruption forward.
    """

    name: str = Field(min_length=1)
    first: str = Field(description="First month affected, YYYY-MM.")
    last: str = Field(description="Last month affected, YYYY-MM.")

    @field_validator("first", "last", mode="before")
    @classmethod
    def _month(cls, value: Any) -> str:
        return _month_written(value, "2020-03")

    @model_validator(mode="after")
    def _ordered(self) -> "Disruption":
        if self.last < self.first:
            raise ValueError(f"last ({self.last}) is before first ({self.first})")
        return self


def mid_window_year(months: list[str]) -> int:
    """The calendar year of a window's middle month, whose population estimate it uses
    (mid-year estimates refer to 30 June)."""
    ordered = sorted(months)
    return int(ordered[(len(ordered) - 1) // 2][:4]) if ordered else 0


class AreaDefinition(_Strict):
    """A Community Safety Partnership area, defined by LSOAs.

    By official geography (``partnership``, a Community Safety Partnership as ONS names it,
    or ``districts``, by name or code: their 2011 LSOAs from the bundled ONS lookup), or by
    ``lsoa_name_prefixes`` (local authority names as they start the police.uk
    ``LSOA name`` column, e.g. ``South Gloucestershire`` for ``South Gloucestershire 012B``)
    or ``lsoa_lookup`` (a CSV with columns ``lsoa_code`` and ``area``; rows whose ``area``
    equals this area's ``name`` belong to it).
    """

    name: str = Field(min_length=1)
    lsoa_name_prefixes: list[str] = Field(default_factory=list)
    lsoa_lookup: ExistingFile | None = None
    partnership: str | None = Field(
        default=None, description="A Community Safety Partnership as ONS names it, e.g. 'Somerset' (2011 LSOAs)."
    )
    districts: list[str] = Field(
        default_factory=list, description="Local authority districts by name or code, e.g. [Mendip, E07000188]."
    )
    force: str | None = Field(
        default=None, description="A police force area as ONS names it, e.g. 'Avon and Somerset'."
    )
    nation: Literal["England and Wales"] | None = Field(
        default=None, description="Every LSOA of England and Wales (set by benchmarks.england_and_wales)."
    )
    population: list[Population] = Field(
        default_factory=list,
        description="One population figure, or a list of figures for different years (each window uses its own "
        "year). Optional for an area named by its districts: the bundled ONS mid-year estimates are used.",
    )
    lsoa_population: LsoaPopulation | None = Field(
        default=None, description="Residents per LSOA; without it the hotspot tables give counts only."
    )

    @model_validator(mode="after")
    def _one_definition(self) -> "AreaDefinition":
        given = [
            bool(self.lsoa_name_prefixes),
            self.lsoa_lookup is not None,
            self.partnership is not None,
            bool(self.districts),
            self.force is not None,
            self.nation is not None,
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of partnership (a Community Safety Partnership's ONS name), districts (names or "
                "codes), force (a police force area's ONS name), lsoa_name_prefixes (local authority names as "
                "police.uk's LSOA names start) or lsoa_lookup "
                "(a CSV of lsoa_code, area)"
            )
        if self.partnership is not None and self.partnership not in partnership_names():
            raise ValueError(
                f"partnership: {self.partnership!r} is not a Community Safety Partnership in the bundled ONS lookup "
                f"(December 2019); the nearest names: {', '.join(nearest(self.partnership, partnership_names()))}"
            )
        if self.force is not None and self.force not in force_names():
            raise ValueError(
                f"force: {self.force!r} is not a police force area in the bundled ONS lookup; the nearest names: "
                f"{', '.join(nearest(self.force, force_names()))}"
            )
        unknown = [d for d in self.districts if d not in district_names()]
        if unknown:
            raise ValueError(
                "districts: "
                + "; ".join(
                    f"{d!r} is not a district in the bundled ONS lookup (nearest: "
                    f"{', '.join(nearest(d, sorted(district_names())))})"
                    for d in unknown
                )
            )
        return self

    @property
    def official_lsoas(self) -> set[str]:
        """The LSOA codes (2011 and 2021) of an area named as a partnership, by districts or as a
        force (empty otherwise)."""
        if self.nation is not None:
            return all_lsoas()
        if self.partnership is None and not self.districts and self.force is None:
            return set()
        return official_area_lsoas(self.partnership, self.districts, self.force)[0]

    @field_validator("population", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        # One figure (the usual case) is written as a mapping; several as a list of them.
        return [value] if isinstance(value, (dict, Population)) else value

    @field_validator("population")
    @classmethod
    def _one_figure_a_year(cls, value: list[Population]) -> list[Population]:
        years = [p.year for p in value]
        repeated = sorted({y for y in years if years.count(y) > 1})
        if repeated:
            raise ValueError("each year needs one population figure; repeated: " + ", ".join(map(str, repeated)))
        return value

    @model_validator(mode="after")
    def _a_population(self) -> "AreaDefinition":
        if self.population:
            return self
        if self.lsoa_lookup is not None:
            raise ValueError(
                "population: give the area's population (value, year, source): an area defined by an LSOA lookup has "
                "no district whose ONS estimate could be used"
            )
        if self.partnership is not None or self.districts or self.force is not None or self.nation is not None:
            return self  # its districts' estimates, from the lookup
        _, unknown = districts_named(self.lsoa_name_prefixes)
        if unknown:
            raise ValueError(
                "population: not given, and " + ", ".join(repr(n) for n in unknown) + " is not a district name the "
                "bundled ONS estimates know (as 2011 or 2021 LSOA names spell it); give the area's population "
                "(value, year, source)"
            )
        return self

    @property
    def populations(self) -> list[Population]:
        """Every population figure given, by year."""
        return sorted(self.population, key=lambda p: p.year)

    def population_for(self, months: list[str]) -> Population:
        """The population figure for a window: the estimate for the year of its middle month,
        or the nearest year given (the earlier one when two are equally near). Without a typed
        figure, the sum of the area's districts' bundled ONS mid-year estimates for that year
        (or the nearest year held, which its source says)."""
        if self.population:
            year = mid_window_year(months) if months else self.populations[-1].year
            return min(self.populations, key=lambda p: (abs(p.year - year), p.year))
        year = mid_window_year(months) if months else 2020
        if self.nation is not None:
            codes = {"nation": [ENGLAND_AND_WALES]}
        elif self.partnership is not None or self.districts or self.force is not None:
            codes = official_area_lsoas(self.partnership, self.districts, self.force)[1]
        else:
            codes, _ = districts_named(self.lsoa_name_prefixes)
        found = population_of(codes, year)
        if found is None:
            raise ValueError(f"{self.name}: no ONS estimate is bundled for its districts ({', '.join(codes)})")
        value, used, source = found
        return Population(value=value, year=used, source=source)


class Inputs(_Strict):
    """Where the input files are."""

    police: ExistingPaths = Field(
        min_length=1,
        description="police.uk street-level files: CSV, .csv.gz, a folder of month folders, or the zip archive.",
    )


class SurveyFile(_Strict):
    """One respondent-level survey extract (CSV or xlsx)."""

    path: ExistingFile
    year: int | None = Field(
        default=None, description="The survey year, if the file holds one year and has no year column."
    )

    @field_validator("path")
    @classmethod
    def _csv_or_xlsx(cls, path: Path) -> Path:
        if path.suffix.lower() not in {".csv", ".xlsx"}:
            raise ValueError(f"survey files must be .csv or .xlsx (found {path.name})")
        return path


class Subgroup(_Strict):
    """A respondent characteristic to compare groups on, e.g. neighbourhood type."""

    column: str = Field(min_length=1)
    label: str = Field(min_length=1, description="What the characteristic is called in the report.")
    groups: dict[str, str] = Field(
        default_factory=dict, description="For each value in the column, how a sentence names its respondents."
    )


class SurveySettings(_Strict):
    """Where the resident survey is and how to read it."""

    name: str = Field(default="Resident survey", min_length=1)
    responses: list[SurveyFile] = Field(min_length=1)
    indicators: ExistingFile
    id_column: str = "respondent_id"
    weight_column: str = "weight"
    year_column: str = "year"
    subgroups: list[Subgroup] = Field(default_factory=list)
    minimum_base: int = Field(default=50, ge=1, description="Results on fewer respondents are not published.")
    sample: bool = Field(default=False, description="True if the data is a synthetic sample: every output says so.")

    @field_validator("responses", mode="before")
    @classmethod
    def _paths_as_files(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"path": v} if isinstance(v, (str, Path)) else v for v in value]
        return value


class ThreatDefinition(_Strict):
    """Which crimes of a force extract make up a threat.

    A crime counts when its offence is selected (``codes``, ``groups`` or ``subgroups``,
    less ``exclude_codes``) or it carries any of ``any_flag``; and, when ``all_flags`` is
    given, only if it carries every one of them. Group and subgroup names are ONS's, as in
    ``pipeline/data/offence_codes.csv``; flags are the extract's flag names.
    """

    name: str | None = Field(default=None, description="Shown in the catalogue; a params threat uses its own name.")
    description: str = Field(default="", description="What is counted, in words, for the report's methods.")
    codes: list[str] = Field(default_factory=list, description="Home Office offence codes, e.g. 8N, 105A, 92D.")
    groups: list[str] = Field(default_factory=list, description="ONS offence groups, e.g. 'sexual offences'.")
    subgroups: list[str] = Field(
        default_factory=list, description="ONS offence subgroups, e.g. 'violence with injury'."
    )
    exclude_codes: list[str] = Field(default_factory=list)
    any_flag: list[str] = Field(default_factory=list, description="Flags any one of which brings a crime in.")
    all_flags: list[str] = Field(default_factory=list, description="Flags every one of which a crime must carry.")

    @field_validator("codes", "exclude_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        return [str(c).strip().upper() for c in codes]

    @field_validator("groups", "subgroups")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        return [n.strip().lower() for n in names]

    @model_validator(mode="after")
    def _selects_something(self) -> "ThreatDefinition":
        if not (self.codes or self.groups or self.subgroups or self.any_flag or self.all_flags):
            raise ValueError(
                "a threat definition needs at least one of codes, groups, subgroups, any_flag or all_flags"
            )
        return self

    @property
    def selects_offences(self) -> bool:
        """Whether offences (not only flags) bring crimes in."""
        return bool(self.codes or self.groups or self.subgroups)

    @property
    def flags(self) -> list[str]:
        """Every flag the definition uses."""
        return list(dict.fromkeys([*self.any_flag, *self.all_flags]))


class Threat(_Strict):
    """A threat the partnership could prioritise, with the police.uk crime types that evidence it
    and, for a force extract, the crimes that make it up (a catalogue name or a definition)."""

    name: str = Field(min_length=1)
    crime_types: list[str] = Field(
        default_factory=list, description="police.uk crime types counted as evidence; empty if none fits."
    )
    extract: str | ThreatDefinition | None = Field(
        default=None,
        description="For a force extract: a name from pipeline/data/threat_catalogue.yaml, or a definition.",
    )

    @field_validator("extract")
    @classmethod
    def _known(cls, value: str | ThreatDefinition | None) -> str | ThreatDefinition | None:
        if isinstance(value, str):
            catalogue = threat_catalogue()
            if value not in catalogue:
                raise ValueError(f"{value!r} is not in the threat catalogue; use one of: " + ", ".join(catalogue))
        return value

    @property
    def definition(self) -> ThreatDefinition | None:
        """The extract definition, with a catalogue name looked up."""
        return threat_catalogue()[self.extract] if isinstance(self.extract, str) else self.extract


def threat_catalogue() -> dict[str, ThreatDefinition]:
    """The default threat definitions shipped in ``pipeline/data/threat_catalogue.yaml``, by key."""
    global _CATALOGUE
    if _CATALOGUE is None:
        from importlib import resources

        raw = yaml.safe_load(
            resources.files("pipeline").joinpath("data/threat_catalogue.yaml").read_text(encoding="utf-8")
        )
        _CATALOGUE = {key: ThreatDefinition.model_validate(value) for key, value in raw.items()}
    return _CATALOGUE


_CATALOGUE: dict[str, ThreatDefinition] | None = None

FLAG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ExtractColumns(_Strict):
    """Which column of the force extract holds each field (the extract's own headings)."""

    crime_reference: str
    offence_code: str
    recorded: str = Field(description="Date (and time) the crime was recorded.")
    offence_description: str | None = None
    committed_from: str | None = None
    committed_to: str | None = None
    lsoa_code: str | None = None
    easting: str | None = None
    northing: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    domestic_abuse: str | None = None
    hate_crime: str | None = None
    hate_strand: str | None = None
    alcohol: str | None = None
    knife: str | None = None
    victim_age_band: str | None = None
    victim_sex: str | None = None
    outcome: str | None = None

    @model_validator(mode="after")
    def _pairs(self) -> "ExtractColumns":
        for a, b in (("easting", "northing"), ("latitude", "longitude")):
            if (getattr(self, a) is None) != (getattr(self, b) is None):
                raise ValueError(f"give both {a} and {b}, or neither")
        if self.committed_to is not None and self.committed_from is None:
            raise ValueError("committed_to needs committed_from")
        return self


STANDARD_FLAGS = ("domestic_abuse", "hate_crime", "alcohol", "knife")


class PublishedScore(_Strict):
    """A Crime Severity Score ONS published for the area, to set beside the extract's."""

    value: float = Field(gt=0, description="The score on ONS's scale (severity weights per resident a year).")
    period: str = Field(
        min_length=1, description="The period it covers, as ONS names it, e.g. 'year ending March 2021'."
    )
    source: str = Field(min_length=1, description="Where it is published.")


class ForceExtract(_Strict):
    """The force's offence-level crime extract (CSV or xlsx) and how to read it."""

    path: ExistingFile
    sheet: str | None = Field(default=None, description="xlsx only: the sheet to read (default: the first).")
    name: str = Field(default="force crime extract", min_length=1, description="How the report names the source.")
    columns: ExtractColumns
    flags: dict[str, str] = Field(
        default_factory=dict,
        description="Further flags: a name (lower_case) -> the extract's column, e.g. child_exploitation.",
    )
    true_values: list[str] = Field(default_factory=lambda: ["Y", "YES", "TRUE", "1", "T"])
    false_values: list[str] = Field(default_factory=lambda: ["N", "NO", "FALSE", "0", "F", ""])
    date_formats: list[str] = Field(
        default_factory=lambda: [
            "%d/%m/%Y %H:%M",
            "%d/%m/%Y %H:%M:%S",
            "%d/%m/%Y",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d",
            "%d-%m-%Y %H:%M",
            "%d-%m-%Y",
        ],
        description="strftime formats tried in turn; Excel serial numbers (e.g. 44197.5) are always accepted.",
    )
    code_map: ExistingFile | None = Field(
        default=None, description="CSV of extract_code, offence_code for a force's own codes (optional)."
    )
    time_method: Literal["aoristic", "from", "midpoint"] = Field(
        default="aoristic", description="How a committed from-to range is placed in the day-of-week by hour chart."
    )
    longest_range_hours: int = Field(
        default=168,
        ge=1,
        description="Ranges longer than this are too uncertain for the time chart and are counted apart.",
    )
    sample: bool = Field(default=False, description="True for a synthetic sample: every output that shows it says so.")
    published_crime_severity: PublishedScore | None = Field(
        default=None, description="ONS's published Crime Severity Score for the area, shown beside the extract's."
    )

    @field_validator("true_values", "false_values")
    @classmethod
    def _upper(cls, values: list[str]) -> list[str]:
        return [str(v).strip().upper() for v in values]

    @model_validator(mode="after")
    def _flags(self) -> "ForceExtract":
        bad = [n for n in self.flags if not FLAG_NAME.match(n)]
        if bad:
            raise ValueError("flag names are lower_case words joined by _: " + ", ".join(bad))
        clash = [n for n in self.flags if n in STANDARD_FLAGS]
        if clash:
            raise ValueError("map these flags under columns, not flags: " + ", ".join(clash))
        if set(self.true_values) & set(self.false_values):
            raise ValueError(
                "a value cannot be both true and false: "
                + ", ".join(sorted(set(self.true_values) & set(self.false_values)))
            )
        return self

    @property
    def flag_columns(self) -> dict[str, str]:
        """Every flag mapped: name -> the extract's column."""
        standard = {n: getattr(self.columns, n) for n in STANDARD_FLAGS if getattr(self.columns, n)}
        return {**standard, **self.flags}


class Band(_Strict):
    """A score band: every score at or above ``min_score`` (and below the next band up)."""

    label: str = Field(min_length=1)
    min_score: float


class PrioritySelection(_Strict):
    """How the proposed priorities are chosen from the ranked threats: the top N, or whole bands."""

    top: int | None = Field(default=None, ge=1)
    bands: list[str] | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> "PrioritySelection":
        if (self.top is None) == (self.bands is None):
            raise ValueError("give exactly one of top (a number of threats) or bands (a list of band labels)")
        return self


class MorileSettings(_Strict):
    """The MoRiLE prioritisation workshop: model, threats, filled scoring sheets, moderation."""

    model: ExistingFile
    threats: list[Threat] = Field(min_length=1)
    scores: ExistingFiles = Field(default_factory=list, description="Filled scoring sheets (xlsx), one per partner.")
    moderation: ExistingFile | None = None
    combine: Literal["median", "mean"] = "median"
    bands: list[Band] = Field(
        default_factory=lambda: [
            Band(label="High", min_score=60),
            Band(label="Medium", min_score=30),
            Band(label="Low", min_score=0),
        ]
    )
    priorities: PrioritySelection = Field(default_factory=lambda: PrioritySelection(top=8))
    sample: bool = Field(default=False, description="True if the scores are illustrative samples: outputs say so.")

    @model_validator(mode="after")
    def _consistent(self) -> "MorileSettings":
        names = [t.name for t in self.threats]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError("each threat needs its own name; repeated: " + ", ".join(repeated))
        minimums = [b.min_score for b in self.bands]
        if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
            raise ValueError("bands must be listed highest first, each with a lower min_score than the one before")
        if self.priorities.bands:
            unknown = [b for b in self.priorities.bands if b not in {band.label for band in self.bands}]
            if unknown:
                raise ValueError("priorities.bands names bands that are not defined: " + ", ".join(unknown))
        return self


class DeliverySettings(_Strict):
    """Inputs of the delivery plan appendix."""

    plan: ExistingFile = Field(
        description="Delivery plan input (YAML): overrides, responses, grant, performance measures."
    )
    risk_register: ExistingFile = Field(description="This year's risk register (YAML or xlsx).")
    previous_risk_register: ExistingFile | None = Field(default=None, description="Last year's register, for movement.")
    last_year: ExistingFile | None = Field(
        default=None, description="Last year's plan reviewed (YAML): each action's outcome, each measure's result."
    )
    updates: ExistingFiles = Field(
        default_factory=list,
        description="Action owners' quarterly update sheets (xlsx, from `action-updates`), applied in quarter order.",
    )
    sample: bool = Field(
        default=False, description="True when the actions' owners, dates and statuses and the reviews are samples."
    )


class DeprivationSource(_Strict):
    """Deprivation ranks by LSOA, with national deciles (e.g. the English and Welsh IMD 2019)."""

    path: ExistingFile = Field(description="CSV (or .csv.gz) with lsoa_code, imd_rank and imd_decile columns.")
    name: str = Field(default="Index of Multiple Deprivation 2019", min_length=1, description="As cited in the report.")
    year: int = Field(ge=2000, le=2100, description="Year of the index's edition.")

    @property
    def citation(self) -> str:
        """The index as cited: its name, with the edition's year only if the name lacks it
        ("English Index of Multiple Deprivation 2019", not "..., 2019, 2019")."""
        return self.name if str(self.year) in self.name else f"{self.name} ({self.year})"


DEFAULT_MAP_ATTRIBUTION = (
    "Contains National Statistics data © Crown copyright and database right. "
    "Contains OS data © Crown copyright and database right. Open Government Licence v3.0."
)


class GeographySettings(_Strict):
    """Boundaries, the LSOA -> ward lookup and deprivation ranks, for maps, ward tables and
    crime by deprivation. Each part is optional; what is given is used."""

    lsoa_boundaries: ExistingFiles = Field(
        default_factory=list, description="LSOA polygons: GeoJSON or GeoPackage files."
    )
    ward_boundaries: ExistingFiles = Field(
        default_factory=list, description="Ward polygons, drawn as outlines on the maps."
    )
    lsoa_wards: ExistingFile | None = Field(
        default=None, description="CSV: lsoa_code, ward_code, ward_name (best fit)."
    )
    deprivation: DeprivationSource | None = None
    attribution: str = Field(default=DEFAULT_MAP_ATTRIBUTION, min_length=1, description="Printed under every map.")

    @field_validator("lsoa_boundaries", "ward_boundaries", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, Path)) else value

    @model_validator(mode="after")
    def _something(self) -> "GeographySettings":
        if not (self.lsoa_boundaries or self.lsoa_wards or self.deprivation):
            raise ValueError("give at least one of lsoa_boundaries, lsoa_wards or deprivation (or leave geography out)")
        if self.ward_boundaries and not self.lsoa_boundaries:
            raise ValueError("ward_boundaries are drawn over the LSOA map: give lsoa_boundaries too")
        return self

    @property
    def files(self) -> list[Path]:
        """Every geography file named."""
        return [
            *self.lsoa_boundaries,
            *self.ward_boundaries,
            *([self.lsoa_wards] if self.lsoa_wards else []),
            *([self.deprivation.path] if self.deprivation else []),
        ]


class PublishedRate(_Strict):
    """A crime rate published for England and Wales, to set beside the area's."""

    value: float = Field(gt=0, description="Crimes excluding ASB per 1,000 residents a year.")
    period: str = Field(min_length=1, description="The period it covers, e.g. 'year ending March 2021'.")
    source: str = Field(min_length=1, description="Where it is published.")


class Benchmarks(_Strict):
    """What the area is set beside besides its comparators."""

    similar: int = Field(default=5, ge=0, le=10, description="How many similar partnerships to list (0: none).")
    england_and_wales: Literal["from police data"] | PublishedRate | None = Field(
        default=None,
        description="'from police data' (only when every territorial force's files are given; otherwise the "
        "missing forces are named and no figure is given), or a published figure {value, period, source}.",
    )


class CommentarySettings(_Strict):
    """The analyst's commentary file (Markdown): see ``pipeline.inputs.commentary``."""

    path: ExistingFile = Field(description="Markdown file whose '## Section' headings name report sections.")
    sample: bool = Field(default=False, description="True for the bundled example text: the report labels it sample.")


class PartnerSettings(_Strict):
    """Partners' own figures: see ``pipeline.inputs.partner_data``."""

    catalogue: ExistingFile = Field(description="Indicator catalogue (YAML): label, agency, unit, polarity, threats.")
    data: ExistingFiles = Field(min_length=1, description="Data files (CSV or xlsx), long format or the template.")
    sample: bool = Field(default=False, description="True for the bundled synthetic partner data: outputs say so.")


class Publication(_Strict):
    """Committee-paper details printed on each document's cover and running head."""

    marking: str = Field(
        default="OFFICIAL",
        min_length=1,
        description="Protective marking printed on the cover and at the head of every printed page.",
    )
    version: str = Field(default="1.0", min_length=1, description="Document version shown on the cover.")
    contact: str | None = Field(
        default=None, description="Author or contact shown on the cover (a team or role: no personal data needed)."
    )
    date: str | None = Field(
        default=None, description="Publication date shown on the cover, as written (default: the day of the run)."
    )


class Params(_Strict):
    """Everything one assessment run needs."""

    title: str = Field(default="Strategic Assessment of Crime and Disorder", min_length=1)
    context_notes: list[str] = Field(
        default_factory=list,
        description="Things a reader must know to interpret the period (e.g. lockdowns), shown in the report.",
    )
    area: AreaDefinition
    period_end: str = Field(description="Last month of the 12-month assessment window, YYYY-MM.")
    trend_years: int = Field(
        default=2, ge=1, le=10, description="How many years before the assessment window to show in trends."
    )
    comparators: list[AreaDefinition] = Field(default_factory=list)
    disruptions: list[Disruption] = Field(
        default_factory=list,
        description="Periods of known disruption (name, first and last month) that trend models allow for.",
    )
    inputs: Inputs
    geography: GeographySettings | None = None
    survey: SurveySettings | None = None
    morile: MorileSettings | None = None
    delivery: DeliverySettings | None = None
    force_extract: ForceExtract | None = None
    publication: Publication = Field(default_factory=lambda: Publication())
    commentary: CommentarySettings | None = None
    partners: PartnerSettings | None = None
    benchmarks: Benchmarks = Field(default_factory=lambda: Benchmarks())
    output_dir: Path
    processed_dir: Path = Field(
        default=Path("data/processed"),
        description="Where stage outputs go; each run uses a sub-folder named like output_dir.",
    )
    partial_month_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="A month with fewer rows than this share of its neighbours' median is treated as missing.",
    )
    suppression_threshold: int = Field(
        default=5,
        ge=0,
        description="Counts from 1 to this, below whole-area level, are suppressed in published tables.",
    )

    @field_validator("period_end", mode="before")
    @classmethod
    def _month(cls, value: Any) -> str:
        return _month_written(value, "2020-12")

    @model_validator(mode="after")
    def _distinct_areas(self) -> "Params":
        names = [self.area.name] + [c.name for c in self.comparators]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError("each area needs its own name; repeated: " + ", ".join(repeated))
        return self

    @property
    def disruption_periods(self) -> tuple[tuple[str, str, str], ...]:
        """The declared disruptions as (name, first month, last month), as the trend models take them."""
        return tuple((d.name, d.first, d.last) for d in self.disruptions)

    @property
    def all_areas(self) -> list[AreaDefinition]:
        """The assessed area first, then its comparators, then England and Wales when the params
        ask for it from police data and every territorial force's files are among the inputs."""
        return [self.area, *self.comparators, *self._england_and_wales]

    @cached_property
    def _england_and_wales(self) -> list[AreaDefinition]:
        if self.benchmarks.england_and_wales != "from police data":
            return []
        if missing_forces(input_file_names(self.inputs.police)):
            return []  # the report and the checks name the missing forces
        return [AreaDefinition(name=ENGLAND_AND_WALES_NAME, nation="England and Wales")]

    @cached_property
    def windows(self) -> Windows:
        """The assessment window, the comparison window and the trend history's first month,
        worked out once for the run (``pipeline.months.Windows``)."""
        return Windows(self.period_end, self.trend_years)

    @property
    def sample_inputs(self) -> list[str]:
        """The params keys of the inputs marked ``sample: true``, of survey, morile,
        force_extract, partners and delivery in that order: every document that shows one must say so."""
        settings = {
            "survey": self.survey,
            "morile": self.morile,
            "force_extract": self.force_extract,
            "partners": self.partners,
            "delivery": self.delivery,
        }
        return [key for key, found in settings.items() if found is not None and found.sample]

    @property
    def run_name(self) -> str:
        """Short name of this run, used for the processed-data folder: the output folder's name."""
        return self.output_dir.name


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _as_written(loc: tuple[Any, ...], raw: Any) -> tuple[Any, ...]:
    """The error's location as the analyst wrote it: a single mapping made into a list loses its index 0."""
    parts = []
    for part in loc:
        if isinstance(part, int) and part == 0 and isinstance(raw, dict):
            continue
        parts.append(part)
        if isinstance(raw, dict):
            raw = raw.get(part)
        elif isinstance(raw, list) and isinstance(part, int) and part < len(raw):
            raw = raw[part]
        else:
            raw = None
    return tuple(parts)


def _describe(error: dict[str, Any], raw: Any = None) -> str:
    where = _location(_as_written(error["loc"], raw))
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{where}: not a recognised setting (check the spelling; docs/params.md lists every setting)"
    if kind == "missing":
        return f"{where}: this setting is required but missing"
    message = error["msg"].removeprefix("Value error, ")
    found = error.get("input")
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_parsing", "int_type"}:
        message += f" (found {found!r})"
    return f"{where}: {message}"


def load_params(path: str | Path) -> Params:
    """Read and validate a params YAML file.

    Raises ``ParamsError`` listing every problem at once: unknown keys, missing
    settings, badly written months, non-positive populations, input files that do
    not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"Params file not found: {path}. Copy params/south-gloucestershire.yaml and edit it.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} is not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ParamsError(
            f"{path}: byte {exc.object[exc.start : exc.start + 1]!r} at position {exc.start} is not UTF-8 text; "
            "save the params file as UTF-8 (most editors offer it under Save As > Encoding)."
        ) from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path} should hold settings as 'name: value' lines; it holds {type(raw).__name__}.")
    return validate_params(raw, source=str(path))


def validate_params(raw: dict[str, Any], source: str = "params") -> Params:
    """Validate params given as a dictionary (as read from YAML or injected by papermill)."""
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(e, raw) for e in exc.errors()]
        raise ParamsError(list_problems(f"Problems in {source}:", problems)) from None


def params_as_dict(params: Params) -> dict[str, Any]:
    """The params as plain JSON-ready values, with paths made absolute (for notebooks and run.json)."""

    def absolute(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value.resolve())
        if isinstance(value, dict):
            return {k: absolute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [absolute(v) for v in value]
        return value

    return absolute(params.model_dump())
