"""Every partnership of a force against one partnership alone (issue 15, target 4).

Measured side by side, each in a fresh child process and a fresh processed folder (so
neither finds a kept police read or stage result):

1. one: ``python -m pipeline run`` for one partnership (Somerset, the largest by LSOAs),
   with the others as comparators, as an analyst would run it alone;
2. force: ``python -m pipeline run-force params/avon-and-somerset.yaml``: all five.

Prints the ratio against the target (force / one <= 2 on 2 CPUs) and writes
benchmarks/results/force.json. Needs the force archive in ../shared.

    .venv/bin/python benchmarks/bench_force.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FORCE_FILE = ROOT / "params/avon-and-somerset.yaml"


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = yaml.safe_load(FORCE_FILE.read_text(encoding="utf-8"))
        raw["output_dir"] = str(folder / "force-outputs")
        raw["processed_dir"] = str(folder / "force-processed")
        force_file = folder / "force.yaml"
        force_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
        force = _timed([sys.executable, "-m", "pipeline", "run-force", str(force_file)])
        # The same params the force run wrote for Somerset, in a processed folder of its own.
        one = yaml.safe_load((folder / "force-processed/force-avon-and-somerset-params/somerset.yaml").read_text(encoding="utf-8"))
        one["output_dir"] = str(folder / "one-outputs/somerset")
        one["processed_dir"] = str(folder / "one-processed")
        one_file = folder / "somerset.yaml"
        one_file.write_text(yaml.safe_dump(one), encoding="utf-8")
        alone = _timed([sys.executable, "-m", "pipeline", "run", str(one_file)])
    ratio = force / alone
    results = {"seconds": {"one partnership": round(alone, 2), "five partnerships": round(force, 2)},
               "force / one": {"measured": round(ratio, 3), "target": 2.0, "holds": ratio <= 2.0}}
    out = ROOT / "benchmarks/results"
    out.mkdir(exist_ok=True)
    (out / "force.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"one partnership: {alone:6.1f} s\nfive partnerships: {force:6.1f} s")
    print(f"five / one: {ratio:.2f}x (target <= 2.0x) {'holds' if ratio <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
