"""Speed and memory of the pipeline on this machine.

(a) Ingest: the whole force archive in ../shared/data/police-uk (about 620,000 rows over
    44 months) down to one area's tidy parquet. Target: under 10 s, under 400 MB peak.
(b) The default run end to end (``python -m pipeline run params/south-gloucestershire.yaml``)
    once .venv exists. Target: under 60 s.
(c) The input check alone (``python -m pipeline check``), which ``run`` also does before
    any notebook: every input read and validated. Target: a few seconds.

Each is run in a fresh child process so that its peak resident memory can be read.
Run with ``make benchmark``; figures are printed and written to benchmarks/results/.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared/data/police-uk/avon-and-somerset-street-2018-01_2021-09.zip"

INGEST = """
import sys, time
from pathlib import Path
from pipeline.params import AreaDefinition, Population
from pipeline.analysis.police import read_police_data
area = AreaDefinition(name="South Gloucestershire", lsoa_name_prefixes=["South Gloucestershire"],
                      population=Population(value=277600, year=2016, source="benchmark"))
start = time.perf_counter()
crimes, summary = read_police_data([Path(sys.argv[1])], [area])
crimes.to_parquet(Path(sys.argv[2]) / "crimes.parquet", index=False)
print(len(crimes), summary.force_rows, round(time.perf_counter() - start, 2))
"""


def _child(command: list[str]) -> tuple[float, float, str]:
    """Run a command in a child process: (seconds, peak RSS in MB of the largest child, stdout)."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KB
    return seconds, peak_mb, result.stdout.strip()


def main() -> None:
    results = {}
    if ARCHIVE.exists():
        with tempfile.TemporaryDirectory() as folder:
            seconds, peak, out = _child([sys.executable, "-c", INGEST, str(ARCHIVE), folder])
        rows, force_rows, inner = out.split()
        results["ingest"] = {
            "force_rows": int(force_rows),
            "area_rows": int(rows),
            "seconds_in_process": float(inner),
            "seconds_with_start_up": round(seconds, 2),
            "peak_rss_mb": round(peak, 1),
            "targets": "under 10 s, under 400 MB",
        }
    else:
        results["ingest"] = f"skipped: {ARCHIVE} not found"
    seconds, peak, _ = _child([sys.executable, "-m", "pipeline", "run", "params/south-gloucestershire.yaml"])
    results["default_run"] = {
        "seconds": round(seconds, 2),
        "peak_rss_mb_largest_process": round(peak, 1),
        "target": "under 60 s",
    }
    # Peak memory is not reported: getrusage gives the largest child so far, not this one.
    seconds, _, _ = _child([sys.executable, "-m", "pipeline", "check", "params/south-gloucestershire.yaml"])
    results["input_check"] = {"seconds": round(seconds, 2), "target": "a few seconds"}
    out = ROOT / "benchmarks/results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
