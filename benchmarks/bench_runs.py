"""Run time of the default assessment against the naive way, and of reruns (issue 15).

Measured side by side in one process tree, each run in a fresh child process:

1. naive: the notebooks one after another with the ``papermill`` command line (same
   parameters), then ``jupyter nbconvert --to html --no-input`` on the published ones;
2. full: ``python -m pipeline run --force`` (every stage runs; stages in parallel);
3. unchanged: ``python -m pipeline run`` again with nothing changed;
4. moderation: the same after a facilitator's correction: one agreed score in the MoRiLE
   moderation sheet (a copy) moved one level;
5. watched moderation: the same correction saved again while ``python -m pipeline watch``
   runs (as a facilitator would keep it running through the moderation meeting), once it
   says it is waiting (its kernels ready): from the save to the watch saying it is waiting
   again, the republished folder in place.

Ratios printed against the targets: full / naive <= 0.5, unchanged / full <= 0.1,
moderation / full <= 0.35 (a fresh command, and while watching). Medians over ``--repeat`` rounds (default 1). Every run
writes to a temporary folder; the project's outputs are not touched.

    .venv/bin/python benchmarks/bench_runs.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analysis.morile import load_model  # noqa: E402
from pipeline.orchestration.run import NOTEBOOKS_DIR, STAGES  # noqa: E402
from pipeline.params import load_params, params_as_dict  # noqa: E402

BIN = Path(sys.executable).parent


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def _naive(params_file: Path, folder: Path) -> float:
    """Each applicable notebook through the papermill CLI in order, then nbconvert's CLI."""
    params = load_params(params_file)
    run_dir, processed = folder / "naive-out", folder / "naive-processed"
    run_dir.mkdir(parents=True)
    processed.mkdir(parents=True)
    values = folder / "naive-parameters.yaml"
    values.write_text(
        yaml.safe_dump({"params": params_as_dict(params), "run_dir": str(run_dir), "processed_dir": str(processed)}),
        encoding="utf-8",
    )
    # The order the notebooks were run in before stages ran in parallel: each after those it reads.
    order = sorted((s for s in STAGES if s.applies_to(params)), key=lambda s: s.notebook)
    start = time.perf_counter()
    for stage in order:
        executed = run_dir / stage.notebook
        subprocess.run(
            [
                str(BIN / "papermill"),
                str(NOTEBOOKS_DIR / stage.notebook),
                str(executed),
                "-f",
                str(values),
                "-k",
                "python3",
                "--cwd",
                str(NOTEBOOKS_DIR),
                "--no-progress-bar",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        if stage.publishes:
            subprocess.run(
                [
                    str(BIN / "jupyter"),
                    "nbconvert",
                    "--to",
                    "html",
                    "--no-input",
                    str(executed),
                    "--output-dir",
                    str(run_dir),
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
    return time.perf_counter() - start


def _move_one_score(moderation: Path, model) -> None:
    """A facilitator's correction after the meeting: one agreed score moves one level
    (alternately up and down, so every round changes the ranking's inputs)."""
    book = load_workbook(moderation)
    sheet = book["Moderation"]
    factor = next(f for f in model.factors if model.column_header(f) == sheet.cell(row=2, column=2).value)
    labels = [level.label for level in model.levels(factor)]
    now = labels.index(sheet.cell(row=2, column=3).value)
    sheet.cell(row=2, column=3).value = labels[now - 1] if now > 0 else labels[now + 1]
    book.save(moderation)


def _watched_rerun(params_file: Path, moderation: Path, model) -> float:
    """Seconds from saving a correction to ``watch`` waiting again after republishing."""
    import queue
    import signal
    import threading

    watcher = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "watch", str(params_file)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stderr], daemon=True).start()

    def until_waiting() -> None:
        while True:
            line = lines.get(timeout=600)
            if "Error:" in line:
                raise RuntimeError(line)
            if "save a change to run again" in line:
                return

    try:
        until_waiting()  # its first run: nothing changed since the last, so all reused
        _move_one_score(moderation, model)
        start = time.perf_counter()
        until_waiting()
        return time.perf_counter() - start
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--params", default="params/south-gloucestershire.yaml")
    args = parser.parse_args()
    times: dict[str, list[float]] = {
        "naive": [],
        "full": [],
        "unchanged": [],
        "moderation": [],
        "watched moderation": [],
    }
    stages_seen: list[dict[str, dict]] = []  # what the moderation-only rerun ran, per round
    pipeline = [sys.executable, "-m", "pipeline", "run"]
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            settings = yaml.safe_load((ROOT / args.params).read_text(encoding="utf-8"))
            moderation = folder / "moderation.xlsx"
            shutil.copy(ROOT / settings["morile"]["moderation"], moderation)
            settings["morile"]["moderation"] = str(moderation)
            settings["output_dir"] = str(folder / "outputs/bench")
            settings["processed_dir"] = str(folder / "processed")
            params_file = folder / "bench.yaml"
            params_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
            model = load_model(ROOT / settings["morile"]["model"])
            times["naive"].append(_naive(params_file, folder))
            times["full"].append(_timed([*pipeline, "--force", str(params_file)]))
            times["unchanged"].append(_timed([*pipeline, str(params_file)]))
            _move_one_score(moderation, model)
            times["moderation"].append(_timed([*pipeline, str(params_file)]))
            run = json.loads((folder / "outputs/bench/run.json").read_text(encoding="utf-8"))
            stages_seen.append(
                {s["name"]: {k: s[k] for k in ("ran", "seconds", "charts") if k in s} for s in run["stages"]}
            )
            times["watched moderation"].append(_watched_rerun(params_file, moderation, model))
    median = {k: statistics.median(v) for k, v in times.items()}
    ratios = {
        "full / naive": (median["full"] / median["naive"], 0.5),
        "unchanged rerun / full": (median["unchanged"] / median["full"], 0.1),
        "moderation-only rerun / full": (median["moderation"] / median["full"], 0.35),
        "moderation-only rerun while watching / full": (median["watched moderation"] / median["full"], 0.35),
    }
    results = {
        "seconds (median of %d)" % args.repeat: {k: round(v, 2) for k, v in median.items()},
        "ratios": {k: {"measured": round(r, 3), "target": t, "holds": r <= t} for k, (r, t) in ratios.items()},
        "moderation-only rerun stages": stages_seen,
    }
    out = ROOT / "benchmarks/results"
    out.mkdir(exist_ok=True)
    (out / "runs.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    for name, seconds in median.items():
        print(f"{name:>18}: {seconds:6.1f} s")
    for name, (ratio, target) in ratios.items():
        print(f"{name:>44}: {ratio:5.2f}x (target <= {target}x) {'holds' if ratio <= target else 'MISSED'}")


if __name__ == "__main__":
    main()
