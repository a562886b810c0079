"""Stage notebooks opened from notebooks/ run top to bottom with no injected parameters."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT

from pipeline.orchestration import explore
from pipeline.orchestration.run import STAGES, run_assessment


def _fingerprints(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _default_params_in(tmp_path: Path) -> Path:
    """The default params file, its inputs read from the project and its run written under ``tmp_path``."""
    settings = yaml.safe_load((ROOT / "params/south-gloucestershire.yaml").read_text(encoding="utf-8"))
    settings["output_dir"] = str(tmp_path / "outputs/south-gloucestershire-2020-12")
    settings["processed_dir"] = str(tmp_path / "processed")
    path = tmp_path / "params/default.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def test_saving_a_stage_notebook_strips_its_outputs_and_no_other():
    def model() -> dict:
        cell = {
            "cell_type": "code",
            "source": "1",
            "outputs": [{"output_type": "stream", "text": "1"}],
            "execution_count": 3,
            "metadata": {
                "tags": ["parameters"],
                "execution": {"iopub.status.idle": "2026-12-07T05:58:33Z"},
                "scrolled": True,
            },
        }
        return {
            "type": "notebook",
            "content": {
                "cells": [cell, {"cell_type": "markdown", "source": "x"}],
                "metadata": {"kernelspec": {"name": "the-analysts-own"}},
            },
        }

    class Manager:
        root_dir = str(explore.NOTEBOOKS)

    saved = model()
    explore.strip_outputs_before_save(saved, "03_trends.ipynb", Manager())
    assert saved["content"]["cells"][0]["outputs"] == [] and saved["content"]["cells"][0]["execution_count"] is None
    assert saved["content"]["cells"][0]["metadata"] == {
        "tags": ["parameters"]
    }  # the session's timings and scrolling go
    committed = json.loads((ROOT / "notebooks/03_trends.ipynb").read_text(encoding="utf-8"))["metadata"]
    assert saved["content"]["metadata"] == committed and committed["kernelspec"]["name"] == "python3"
    assert saved["content"]["cells"][1] == {"cell_type": "markdown", "source": "x"}
    elsewhere = model()
    explore.strip_outputs_before_save(elsewhere, "scratch/my-copy.ipynb", Manager())
    assert elsewhere == model()  # a copy the analyst made elsewhere keeps its outputs


def test_a_stage_opened_before_its_inputs_ran_names_the_command_to_run_first(tmp_path, monkeypatch):
    params = _default_params_in(tmp_path)
    monkeypatch.setenv(explore.PARAMS_VARIABLE, str(params))
    with pytest.raises(explore.NotReadyError) as caught:
        explore.stage_parameters("03_trends.ipynb", {}, "", "")
    message = str(caught.value)
    assert message.startswith("03_trends.ipynb reads what the police stage(s) wrote for ")
    # The command names the params file as a path from the project folder, where `make` runs.
    assert message.endswith(f"Run `make run PARAMS={os.path.relpath(params, ROOT)}` first, then Run All again.")
    # Injected parameters (a run) are returned as they are, whatever the environment says.
    assert explore.stage_parameters("03_trends.ipynb", {"a": 1}, "r", "p") == ({"a": 1}, "r", "p")


@pytest.mark.e2e
def test_every_stage_notebook_runs_top_to_bottom_after_a_default_run_and_changes_nothing(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    params = _default_params_in(tmp_path)
    monkeypatch.setenv(explore.PARAMS_VARIABLE, str(params))
    run_assessment(params)
    published = _fingerprints(tmp_path / "outputs")
    # The default run's tables: no suppressed cell can be worked back out (pipeline.documents.disclosure).
    from pipeline.documents.disclosure import check_run

    assert check_run(tmp_path / "outputs/south-gloucestershire-2020-12") == []
    run = tmp_path / "processed/south-gloucestershire-2020-12"
    # The stage table declares what each stage writes for the others: a run's processed folder
    # holds exactly that, beside the run's own records (stage records, input checks, kernel log).
    declared = {name.rstrip("/") for stage in STAGES for name in stage.writes}
    own = {"stages", "kernel-stderr.log", ".strategic-assessment-output"}
    written = {p.name for p in run.iterdir() if p.name not in own and not p.name.startswith("check-")}
    assert written == declared
    processed = _fingerprints(run)
    committed = {p.name: p.read_bytes() for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    assert sorted(committed) == sorted(s.notebook for s in STAGES)
    for name in committed:
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        # As JupyterLab's Run All does: the project's kernel, started in notebooks/.
        NotebookClient(
            notebook,
            kernel_name="strategic-assessment",
            timeout=600,
            resources={"metadata": {"path": str(ROOT / "notebooks")}},
        ).execute()
        said = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
        assert f"Exploring with {os.path.relpath(params, ROOT)} (as make lab PARAMS=... chose)" in said, name
    assert _fingerprints(tmp_path / "outputs") == published
    assert _fingerprints(run) == processed
    assert {p.name: p.read_bytes() for p in sorted((ROOT / "notebooks").glob("*.ipynb"))} == committed
    # What the explored stages wrote is in the scratch copy, beside the run's folder.
    scratch = tmp_path / "processed" / explore.LAB_FOLDER / "south-gloucestershire-2020-12"
    assert (scratch / "stages/report/tables").is_dir() and (scratch / "trends").is_dir()
    assert json.loads((scratch / explore.COPIED_FROM).read_text(encoding="utf-8")).keys() >= {
        "police.json",
        "report.json",
    }
