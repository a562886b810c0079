"""The stages of a run, in order: each one's notebook, what it reads (params fields and the
stages before it), what it writes into the run's processed folder, and what it publishes.
This table is the index of the pipeline: a stage's notebook is its narrative, the package
its logic."""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pipeline.params import Params

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL_NAME = "python3"
KEY_PACKAGES = (
    "pandas",
    "numpy",
    "pyarrow",
    "statsmodels",
    "scipy",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbconvert",
    "pydantic",
    "openpyxl",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
)


@dataclass(frozen=True)
class Stage:
    """One notebook of the assessment, run in the order listed in ``STAGES``."""

    name: str
    notebook: str
    description: str
    publishes: str | None = None  # HTML file name, if the notebook is a published document
    # A second document from the same notebook: its cells tagged ``annex`` (pipeline.documents.export.ANNEX_TAG)
    annex: str | None = None
    annex_title: str | None = None
    # Wide tables on landscape pages in print (False: every page portrait, see export_html).
    landscape_tables: bool = True
    needs: str | None = None  # a params section the stage needs; the stage is skipped without it
    title: str | None = None  # the published page's title, if not the params title
    after: tuple[str, ...] = ()  # stages whose processed outputs it reads (it runs after them)
    # The params fields its notebook reads (None: all of them). A test checks this against
    # the notebook, so a stage is never reused after a change to a field it reads.
    reads: tuple[str, ...] | None = None
    # What it writes into the run's processed folder for the stages after it (files, or
    # folders ending in "/"): a test checks a run's processed folder holds these and no more.
    writes: tuple[str, ...] = ()

    def documents(self) -> list[tuple[str, str | None]]:
        """Each document the stage publishes: (HTML file name, part of the notebook it shows:
        None for all of it, else "body" or "annex")."""
        if not self.publishes:
            return []
        if not self.annex:
            return [(self.publishes, None)]
        return [(self.publishes, "body"), (self.annex, "annex")]

    def applies_to(self, params: Params) -> bool:
        """Whether this run includes the stage."""
        return self.needs is None or getattr(params, self.needs) is not None


STAGES: tuple[Stage, ...] = (
    Stage(
        "police",
        "01_police_data.ipynb",
        "read police.uk data and check month coverage",
        reads=(
            "area",
            "comparators",
            "inputs",
            "partial_month_threshold",
            "period_end",
            "processed_dir",
            "trend_years",
        ),
        writes=("crimes.parquet", "counts.parquet", "coverage.parquet", "coverage_later.parquet", "summary.json"),
    ),
    Stage(
        "survey",
        "02_survey.ipynb",
        "weighted survey indicators and significance",
        needs="survey",
        reads=("survey",),
        writes=("survey_results.parquet", "survey_subgroups.parquet"),
    ),
    Stage(
        "partners",
        "08_partners.ipynb",
        "partner agencies' indicators: change and trend",
        needs="partners",
        reads=("partners", "period_end", "suppression_threshold"),
        writes=("partner_data.parquet", "partner_results.parquet"),
    ),
    Stage(
        "morile",
        "04_morile.ipynb",
        "MoRiLE scores, ranks, moderation and sensitivity",
        publishes="morile-review.html",
        needs="morile",
        title="MoRiLE prioritisation review",
        reads=("area", "delivery", "morile", "period_end", "publication", "title"),
        writes=("morile_ranking.parquet",),
    ),
    Stage(
        "trends",
        "03_trends.ipynb",
        "seasonal trend models, forecasts and exceptions",
        after=("police",),
        reads=("area", "disruptions", "period_end", "trend_years"),
        writes=("trends/",),
    ),
    Stage(
        "places",
        "05_places.ipynb",
        "crime by LSOA, ward and deprivation; persistent hotspots",
        needs="geography",
        after=("police",),
        reads=("area", "geography", "period_end"),
        writes=("places.parquet", "places-lsoas.parquet", "places-wards.parquet", "places.json"),
    ),
    Stage(
        "hotspots",
        "07_hotspots.ipynb",
        "crime and ASB by LSOA, crime type and map point; the largest rises",
        after=("police",),
        reads=("area", "period_end", "trend_years"),
        writes=("hotspots/",),
    ),
    Stage(
        "extract",
        "06_force_extract.ipynb",
        "force crime extract: threats, harm, time, place, reconciliation",
        needs="force_extract",
        after=("police",),
        # Only the threat list of the MoRiLE section: a moderation change must not rerun it.
        reads=(
            "area",
            "disruptions",
            "force_extract",
            "geography",
            "morile.threats",
            "partial_month_threshold",
            "period_end",
            "trend_years",
        ),
        writes=("extract/",),
    ),
    Stage(
        "report",
        "10_strategic_assessment.ipynb",
        "write the strategic assessment",
        publishes="strategic-assessment.html",
        # The body is for members (at most 20 A4 pages); models, control charts, back-tests, profiles,
        # data quality and methods go to an annex of their own, printed and circulated separately.
        annex="technical-annex.html",
        annex_title="Technical annex to the strategic assessment",
        after=("police", "survey", "partners", "morile", "trends", "hotspots", "places", "extract"),
        writes=("chart-cache/",),  # charts kept for the next run (pipeline.documents.chart_cache)
    ),
    Stage(
        "delivery",
        "20_delivery_plan.ipynb",
        "write the delivery plan appendix",
        publishes="delivery-plan-appendix.html",
        # Its many moderately wide tables print portrait: switching orientation for each left
        # pages a few lines long.
        landscape_tables=False,
        needs="delivery",
        title="Delivery plan appendix",
        after=("police", "survey", "partners", "morile"),
        reads=("area", "delivery", "morile", "partners", "period_end", "publication", "survey", "title"),
    ),
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the key packages, for run.json."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    # Looked up once per process: each lookup searches the installed packages' metadata, and
    # a batch asked for them at every area's check and every stage's decision.
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# The stage whose notebook reuses unchanged charts (pipeline.documents.chart_cache).
CHART_CACHE_STAGE = "report"
