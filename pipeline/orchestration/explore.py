"""Exploring a stage in JupyterLab: a stage notebook opened from ``notebooks/`` runs with Run All.

In a run, papermill injects each notebook's parameters (the validated params, the stage's
own output folder and the run's processed folder). Opened in JupyterLab there is nothing
injected, so the notebook's first cell asks ``stage_parameters`` instead, which:

- reads the params file the analyst chose: ``make lab PARAMS=params/my-area.yaml`` sets
  ``STRATEGIC_ASSESSMENT_PARAMS``; without it, the default params file;
- finds that params' last run (``data/processed/<run>/``) and says which command to run
  first when a stage the notebook reads has not run yet;
- gives the notebook a scratch copy of that run's processed folder
  (``data/processed/_lab/<run>/``), so exploring never changes what a run made or published:
  the next ``make run`` neither reuses nor publishes anything a notebook wrote while exploring.

``strip_outputs_before_save`` is JupyterLab's save hook (``make lab``): the committed
notebooks are saved without outputs, so Run All and an autosave leave ``git status`` clean.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.storage.folders import PROJECT_ROOT, mark_as_ours, remove_our_folder

log = logging.getLogger(__name__)

PARAMS_VARIABLE = "STRATEGIC_ASSESSMENT_PARAMS"
DEFAULT_PARAMS = PROJECT_ROOT / "params/south-gloucestershire.yaml"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
# Beside the runs' processed folders: data/processed/_lab/<run>/.
LAB_FOLDER = "_lab"
# Written into a scratch copy: the stage records of the run it was copied from.
COPIED_FROM = "copied-from-run.json"


# Cell metadata a session adds (timings, scrolled or collapsed outputs): not kept in the committed notebooks.
SESSION_METADATA = ("execution", "scrolled", "collapsed", "jupyter")


class NotReadyError(PipelineError):
    """A stage notebook was opened before the stages it reads had run."""


def chosen_params_file() -> Path:
    """The params file exploring uses: ``$STRATEGIC_ASSESSMENT_PARAMS`` (relative paths are
    read from the project folder, as ``make`` does), or the default params file."""
    named = os.environ.get(PARAMS_VARIABLE, "").strip()
    if not named:
        return DEFAULT_PARAMS
    path = Path(named).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def stage_parameters(
    notebook: str, params: dict[str, Any], run_dir: str, processed_dir: str
) -> tuple[dict[str, Any], str, str]:
    """The parameters a stage notebook runs on: papermill's, when it injected them (a run);
    otherwise (JupyterLab, ``nbconvert --execute``) those of the chosen params file's last run,
    with a scratch processed folder and a scratch output folder for the stage.

    Returns (params as a JSON-ready dict with absolute paths, the stage's output folder, the
    processed folder). Raises ``NotReadyError`` naming the command to run first when a stage
    the notebook reads has no results for these params yet."""
    if params:
        return params, run_dir, processed_dir
    from pipeline.orchestration.reuse import StageStore
    from pipeline.orchestration.stages import STAGES
    from pipeline.params import load_params, params_as_dict

    stage = next((s for s in STAGES if s.notebook == notebook), None)
    if stage is None:
        raise PipelineError(
            f"{notebook} is not a stage notebook; the stages are {', '.join(s.notebook for s in STAGES)}."
        )
    path = chosen_params_file()
    # Params files name their inputs relative to the project folder (where `make` runs);
    # JupyterLab's kernel starts in notebooks/.
    with contextlib.chdir(PROJECT_ROOT):
        checked = load_params(path)
        settings = params_as_dict(checked)
    run = (PROJECT_ROOT / checked.processed_dir / checked.run_name).resolve()
    store = StageStore(run)
    needed = [s for s in STAGES if s.name in stage.after and s.applies_to(checked)]
    missing = [s.name for s in needed if store.record(s.name) is None]
    if missing:
        shown = os.path.relpath(path, PROJECT_ROOT)
        raise NotReadyError(
            f"{notebook} reads what the {', '.join(missing)} stage(s) wrote for {shown}, and they have not run yet "
            f"(nothing in {run}). Run `make run PARAMS={shown}` first, then Run All again."
        )
    scratch = scratch_copy(run, [s.name for s in needed])
    stage_folder = scratch / "stages" / stage.name
    remove_our_folder(stage_folder)
    mark_as_ours(stage_folder)
    log.info("Exploring %s with %s: reading the run's results from a scratch copy in %s", notebook, path, scratch)
    chosen = (
        "as make lab PARAMS=... chose"
        if os.environ.get(PARAMS_VARIABLE, "").strip()
        else "the default; make lab PARAMS=... chooses another"
    )
    print(
        f"Exploring with {os.path.relpath(path, PROJECT_ROOT)} ({chosen}). "
        f"This notebook reads and writes a scratch copy of the last run's results ({scratch}); "
        "nothing a run made or published is changed."
    )
    return settings, str(stage_folder), str(scratch)


def scratch_copy(run: Path, stages: list[str]) -> Path:
    """A copy of a run's processed folder for exploring, at ``<processed>/_lab/<run>/``.

    Made again when the run's stage results have changed since it was copied (a new
    ``make run``), and kept otherwise, so what one explored stage writes, the next explored
    stage reads. ``stages``: those the notebook reads, whose results must be in the copy."""
    from pipeline.orchestration.reuse import STAGES_FOLDER

    scratch = run.parent / LAB_FOLDER / run.name
    records = {p.name: p.read_text(encoding="utf-8") for p in sorted((run / STAGES_FOLDER).glob("*.json"))}
    marker = scratch / COPIED_FROM
    current = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == records
    if current and all((scratch / STAGES_FOLDER / f"{name}.json").is_file() for name in stages):
        return scratch
    remove_our_folder(scratch)
    # The run's published stage folders are not copied: a notebook explored writes its own.
    shutil.copytree(run, scratch, ignore=lambda folder, names: [STAGES_FOLDER] if Path(folder) == run else [])
    mark_as_ours(scratch)
    (scratch / STAGES_FOLDER).mkdir(exist_ok=True)
    for name, text in records.items():
        (scratch / STAGES_FOLDER / name).write_text(text, encoding="utf-8")
    marker.write_text(json.dumps(records), encoding="utf-8")
    return scratch


def strip_outputs_before_save(model: dict[str, Any], path: str, contents_manager: Any = None, **kwargs: Any) -> None:
    """JupyterLab's ``pre_save_hook``: a notebook under ``notebooks/`` is saved without outputs,
    execution counts or the session's cell metadata, and with the notebook metadata it had on
    disk (the committed notebooks stay stripped; a run's executed copies are under
    ``outputs/``). Any other notebook is saved as it is."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = Path(getattr(contents_manager, "root_dir", NOTEBOOKS)).resolve()
    file = (root / path.lstrip("/")).resolve()
    if file.parent != NOTEBOOKS.resolve():
        return
    content = model["content"]
    if file.is_file():
        # The kernel chosen and its version are the analyst's session's, not the notebook's.
        try:
            content["metadata"] = json.loads(file.read_text(encoding="utf-8")).get(
                "metadata", content.get("metadata", {})
            )
        except ValueError:
            pass
    for cell in content.get("cells", []):
        for key in SESSION_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
