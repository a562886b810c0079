"""Run stage: execute the notebooks in order with papermill and publish the results.

A run works in a staging folder beside the output folder. Only when every stage has
run and every document has been published does the staging folder replace the output
folder, so a failed run leaves the last good outputs exactly as they were; the failed
run's folder is kept as ``<output>.failed`` for diagnosis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.errors import StageError
from pipeline.params import Params, load_params, params_as_dict
from pipeline.publish import export_html, replace_folder_atomically

log = logging.getLogger(__name__)

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
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
)


@dataclass(frozen=True)
class Stage:
    """One notebook of the assessment, run in the order listed in ``STAGES``."""

    name: str
    notebook: str
    description: str
    publishes: str | None = None  # HTML file name, if the notebook is a published document
    needs: str | None = None  # a params section the stage needs; the stage is skipped without it
    title: str | None = None  # the published page's title, if not the params title

    def applies_to(self, params: Params) -> bool:
        """Whether this run includes the stage."""
        return self.needs is None or getattr(params, self.needs) is not None


STAGES: tuple[Stage, ...] = (
    Stage("police", "01_police_data.ipynb", "read police.uk data and check month coverage"),
    Stage("survey", "02_survey.ipynb", "weighted survey indicators and significance", needs="survey"),
    Stage("trends", "03_trends.ipynb", "seasonal trend models, forecasts and exceptions"),
    Stage(
        "morile",
        "04_morile.ipynb",
        "MoRiLE scores, ranks, moderation and sensitivity",
        publishes="morile-review.html",
        needs="morile",
        title="MoRiLE prioritisation review",
    ),
    Stage(
        "report",
        "10_strategic_assessment.ipynb",
        "write the strategic assessment",
        publishes="strategic-assessment.html",
    ),
    Stage(
        "delivery",
        "20_delivery_plan.ipynb",
        "write the delivery plan appendix",
        publishes="delivery-plan-appendix.html",
        needs="delivery",
        title="Delivery plan appendix",
    ),
)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(params: Params) -> list[Path]:
    """Every input file the run reads (files inside input folders included), sorted."""
    paths: list[Path] = []
    for path in params.inputs.police:
        paths.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    paths.extend(a.lsoa_lookup for a in params.all_areas if a.lsoa_lookup is not None)
    paths.extend(a.lsoa_population.path for a in params.all_areas if a.lsoa_population is not None)
    if params.survey is not None:
        paths.extend(f.path for f in params.survey.responses)
        paths.append(params.survey.indicators)
    if params.morile is not None:
        paths.extend([params.morile.model, *params.morile.scores])
        paths.extend([params.morile.moderation] if params.morile.moderation else [])
    if params.delivery is not None:
        paths.extend([params.delivery.plan, params.delivery.risk_register])
        paths.extend([params.delivery.previous_risk_register] if params.delivery.previous_risk_register else [])
    return sorted({p.resolve() for p in paths})


def package_versions() -> dict[str, str]:
    """Versions of Python and the key packages, for run.json."""
    versions = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _failed_folder(output_dir: Path) -> Path:
    """Where a failed run's folder is kept for inspection."""
    return output_dir.with_name(f"{output_dir.name}.failed")


def _stage_failure(stage: Stage, error: Exception, output_dir: Path) -> StageError:
    cell = getattr(error, "cell_index", None)
    ename, evalue = getattr(error, "ename", type(error).__name__), getattr(error, "evalue", str(error))
    source = (getattr(error, "source", "") or "").strip().splitlines()
    where = f"cell {cell + 1}" if isinstance(cell, int) else "a cell"
    if source:
        where += f" ({source[0][:80]})"
    return StageError(
        f"Stage '{stage.name}' failed in notebook {stage.notebook}, {where}:\n"
        f"{ename}: {evalue}\n"
        f"The executed notebook is kept at {_failed_folder(output_dir) / 'notebooks' / stage.notebook} for inspection.\n"
        f"The last published outputs in {output_dir} were left unchanged."
    )


def _execute(stage: Stage, run_dir: Path, parameters: dict[str, Any]) -> Path:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    executed = run_dir / "notebooks" / stage.notebook
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / stage.notebook),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            cwd=str(NOTEBOOKS_DIR),
        )
    except PapermillExecutionError as exc:
        raise _stage_failure(stage, exc, Path(parameters["params"]["output_dir"])) from exc
    return executed


def run_assessment(params_path: str | Path, stages: tuple[Stage, ...] = STAGES) -> Path:
    """Run every stage for a params file and publish; returns the published report's path.

    Raises ``ParamsError`` before anything runs if the params are invalid, and
    ``StageError`` naming the notebook and cell if a stage fails.
    """
    started, clock = _now(), time.perf_counter()
    params = load_params(params_path)
    output_dir = params.output_dir.resolve()
    staging = output_dir.with_name(f".{output_dir.name}.running")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    processed = (params.processed_dir / params.run_name).resolve()
    handler = logging.FileHandler(staging / "run.log", encoding="utf-8")
    # The run's log file records the package's debug detail whatever the console shows.
    logging.getLogger("pipeline").setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    record: dict[str, Any] = {
        "params_file": str(Path(params_path).resolve()),
        "params": params_as_dict(params),
        "started": started,
        "stages": [],
    }
    try:
        log.info("Strategic assessment for %s, window ending %s", params.area.name, params.period_end)
        files = input_files(params)
        log.info("Fingerprinting %d input file(s)", len(files))
        record["inputs"] = [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in files]
        record["versions"] = package_versions()
        parameters = {
            "params": params_as_dict(params),
            "run_dir": str(staging),
            "processed_dir": str(processed),
        }
        published = []
        stages = tuple(s for s in stages if s.applies_to(params))
        for number, stage in enumerate(stages, start=1):
            log.info("[%d/%d] %s: %s ...", number, len(stages), stage.name, stage.description)
            stage_clock = time.perf_counter()
            executed = _execute(stage, staging, parameters)
            if stage.publishes:
                title = f"{stage.title}: {params.area.name}" if stage.title else params.title
                published.append(export_html(executed, staging / stage.publishes, title))
            seconds = round(time.perf_counter() - stage_clock, 2)
            record["stages"].append({"name": stage.name, "notebook": stage.notebook, "seconds": seconds})
            log.info("[%d/%d] %s done in %.1f s", number, len(stages), stage.name, seconds)
        record.update(
            finished=_now(),
            seconds=round(time.perf_counter() - clock, 2),
            published=[p.name for p in published],
            status="succeeded",
        )
        (staging / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    except BaseException:
        logging.getLogger().removeHandler(handler)
        handler.close()
        failed = _failed_folder(output_dir)
        if failed.exists():
            shutil.rmtree(failed)
        staging.rename(failed)
        raise
    logging.getLogger().removeHandler(handler)
    handler.close()
    replace_folder_atomically(staging, output_dir)
    # The strategic assessment is the run's main document: print its path.
    main_document = next((p for p in published if p.name == "strategic-assessment.html"), published[0] if published else None)
    report = output_dir / main_document.name if main_document else output_dir
    log.info("Finished in %.1f s. Published in %s:", record["seconds"], output_dir)
    for document in published:
        log.info("  %s", document.name)
    return report
