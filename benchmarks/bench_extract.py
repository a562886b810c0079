"""Reading a 1-million-row force crime extract: time and peak memory.

Target (issue 12): read, check every cell and classify 1,000,000 rows in 10 s or less with
at most 500 MB peak resident memory.

The extract is the bundled synthetic sample (53,034 rows, 17 columns) repeated until it
has 1,000,000 rows, each copy with new crime references, written as a plain CSV. Each
reader runs in a fresh child process that reports its own peak resident memory
(``ru_maxrss``), so imports are counted as a user would pay them:

- pipeline: ``pipeline.inputs.extract.read_extract`` with the default params mapping: every cell
  checked, dates parsed (several formats, Excel serials), flags and LSOA codes validated,
  offence codes classified, repeated references found.
- pandas: what an analyst would otherwise write: ``pd.read_csv`` (all text), three
  ``pd.to_datetime`` calls with the one format, and a merge with the offence lookup. It
  checks nothing else.
- duckdb: ``read_csv`` with the same dates parsed by ``strptime`` and the lookup joined,
  fetched as a pandas frame.

Run with ``.venv/bin/python benchmarks/bench_extract.py``; figures are printed and written
to ``benchmarks/results/extract.json``.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data/raw/force-extract/south-gloucestershire-crime-extract-sample-2018-01_2021-09.csv.gz"
ROWS = 1_000_000

PEAK = "import resource; print(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), flush=True)"

PIPELINE = """
import sys, time, yaml
from pathlib import Path
from pipeline.inputs.extract import read_extract
from pipeline.params import ForceExtract
settings = yaml.safe_load(Path("params/south-gloucestershire.yaml").read_text())["force_extract"]
settings["path"] = sys.argv[1]
extract = ForceExtract.model_validate(settings)
start = time.perf_counter()
crimes, summary = read_extract(extract)
print(len(crimes), round(time.perf_counter() - start, 2))
"""

PANDAS = """
import sys, time
import pandas as pd
from pipeline.inputs.offences import offence_codes
start = time.perf_counter()
frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
for column in ("Date Recorded", "Committed From", "Committed To"):
    frame[column] = pd.to_datetime(frame[column], format="%d/%m/%Y %H:%M", errors="coerce")
frame = frame.merge(offence_codes().reset_index(), left_on="HOCode", right_on="offence_code", how="left")
print(len(frame), round(time.perf_counter() - start, 2))
"""

DUCKDB = """
import sys, time
import duckdb
from pipeline.inputs.offences import offence_codes
start = time.perf_counter()
lookup = offence_codes().reset_index()
frame = duckdb.sql(f'''
    select x.*, try_strptime("Date Recorded", '%d/%m/%Y %H:%M') as recorded,
           try_strptime("Committed From", '%d/%m/%Y %H:%M') as committed_from,
           try_strptime("Committed To", '%d/%m/%Y %H:%M') as committed_to, l.*
    from read_csv('{sys.argv[1]}', all_varchar=true) x left join lookup l on x.HOCode = l.offence_code
''').df()
print(len(frame), round(time.perf_counter() - start, 2))
"""


def make_extract(path: Path) -> None:
    """The sample repeated to ``ROWS`` rows, each copy with its own crime references."""
    with gzip.open(SAMPLE, "rt", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        written, copy = 0, 0
        while written < ROWS:
            chunk = rows[: ROWS - written]
            writer.writerows([f"{row[0]}-{copy}", *row[1:]] for row in chunk)
            written += len(chunk)
            copy += 1


def run(code: str, path: Path) -> dict[str, float]:
    """Run one reader in a fresh process: rows, seconds inside, seconds overall, peak MB."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code + "\n" + PEAK, str(path)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    overall = time.perf_counter() - start
    lines = result.stdout.split()
    return {
        "rows": int(lines[0]),
        "seconds": float(lines[1]),
        "seconds_with_imports": round(overall, 2),
        "peak_mb": int(lines[2]),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "extract-1m.csv"
        make_extract(path)
        size = path.stat().st_size / 1e6
        results = {"file_mb": round(size), "rows": ROWS}
        for name, code in (("pipeline", PIPELINE), ("pandas", PANDAS), ("duckdb", DUCKDB)):
            if name == "duckdb" and importlib.util.find_spec("duckdb") is None:
                print("duckdb    not installed (pip install duckdb to compare)")
                continue
            results[name] = run(code, path)
            r = results[name]
            print(
                f"{name:9s} {r['rows']:,} rows  {r['seconds']:5.2f} s reading ({r['seconds_with_imports']:.2f} s "
                f"with imports)  peak {r['peak_mb']} MB"
            )
    print(f"file: {results['file_mb']} MB; target: pipeline <= 10 s and <= 500 MB")
    out = ROOT / "benchmarks/results/extract.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
