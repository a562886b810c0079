"""Reading police.uk files: the project's reader against a polars lazy scan and DuckDB.

The input is the Avon and Somerset force archive in ../shared/data/police-uk (44 monthly
street-level files, about 620,000 rows), extracted once to a temporary folder so that all
three engines read the same plain CSV files. Each engine selects South Gloucestershire's
rows (LSOA name starting "South Gloucestershire ") into memory:

- pipeline: ``pipeline.inputs.police_scan.read_police_table`` (every input check: header, months,
  legacy labels, repeated Crime IDs, unlocated rows, overlapping inputs, map points), to the
  tidy Arrow table the police stage writes (like the other two, its own table: the stage
  makes a pandas frame of it afterwards, which is not reading);
- polars:   ``pl.scan_csv(files, infer_schema=False).filter(name starts with ...).collect()``;
- duckdb:   ``read_csv(files, all_varchar=true)`` with the same filter, ``.fetch_arrow_table()``;
- polars with checks (for reference, not a target): one polars query making, besides the
  filtered rows, part of what the pipeline's summary needs from every row of the force:
  rows, months, malformed months, (month, force) pairs, rows with no LSOA and rows with
  half an LSOA, and map points that are not numbers or lie outside the UK, per file; and
  located rows per LSOA name. It leaves out the rest of the pipeline's checks (repeated
  Crime IDs, LSOAs recovered, overlapping inputs), so it shows a lower bound on what
  keeping every check costs on the faster engine.
- duckdb with checks (for reference, not a target): the same part of the checks in DuckDB,
  as its users would write it: the files loaded once into a temporary table, then the
  per-file counts, the located rows per LSOA name and the area's rows, as three queries.

Each run is a fresh child process, so its peak resident memory (ru_maxrss) is its own; the
clock starts after each engine's imports, so the seconds are the read itself.
"Half" reads the first 22 months, "full" all 44: memory growth is full / half.
Targets (issue 15): the pipeline within 1.2x the faster engine's time, its peak memory no
higher than either, and full-input memory within +15% of half-input memory.
Rounds: ``python benchmarks/bench_read.py [rounds]`` (default 3; medians reported).
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared/data/police-uk/avon-and-somerset-street-2018-01_2021-09.zip"
PREFIX = "South Gloucestershire"

CHILD_PREAMBLE = """
import json, resource, sys, time
from pathlib import Path
files = [Path(p) for p in json.loads(sys.argv[1])]
"""
CHILD_END = """
seconds = time.perf_counter() - start
print(json.dumps({"rows": rows, "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
# DuckDB making the same part of the checks as "polars with checks" (see the docstring).
DUCKDB_WITH_CHECKS = r"""
names = ", ".join("'" + str(f) + "'" for f in files)
con = duckdb.connect()
con.execute(f"create temp table t as select * from read_csv([{names}], all_varchar=true, header=true, filename=true)")
code, name = "coalesce(\"LSOA code\", '')", "coalesce(\"LSOA name\", '')"
def outside(column, low, high):
    number = f'try_cast("{column}" as double)'
    return f'(("{column}" is not null and {number} is null) or {number} < {low} or {number} > {high})'
per_file = con.execute(
    'select filename, count(*) as rows, list(distinct "Month") as months, '
    "count(*) filter (where not regexp_full_match(coalesce(\"Month\", ''), '[0-9]{4}-(0[1-9]|1[0-2])')) as bad_months, "
    "list(distinct \"Month\" || '|' || \"Falls within\") as keys, "
    f"count(*) filter (where {code} = '') as unlocated, "
    f"count(*) filter (where ({code} <> '') <> ({name} <> '')) as half_located, "
    "count(*) filter "
    f'(where {outside("Longitude", -9.0, 2.5)} or {outside("Latitude", 49.5, 61.0)}) as bad_coordinates '
    "from t group by filename").fetch_arrow_table()
located = con.execute(f"select \"LSOA name\", count(*) from t where {code} <> '' group by 1").fetch_arrow_table()
table = con.execute("select * exclude (filename) from t "
                    f"where {code} <> '' and \"LSOA name\" like '%(prefix)s %%'").fetch_arrow_table()
rows = table.num_rows
"""
# Each engine: (imports, made before the clock starts; the read itself, timed).
ENGINES = {
    "pipeline": (
        """
import pyarrow as pa
pa.scalar(0)  # pyarrow imports pandas (installed with the pipeline) the first time it is used
from pipeline.params import AreaDefinition, Population
from pipeline.inputs.police_scan import read_police_table
area = AreaDefinition(name="SG", lsoa_name_prefixes=["%(prefix)s"],
                      population=Population(value=1, year=2020, source="benchmark"))
""",
        """
crimes, summary = read_police_table(files, [area])
rows = crimes.num_rows
""",
    ),
    "polars": (
        "import polars as pl",
        """
frame = (pl.scan_csv(files, infer_schema=False)
         .filter(pl.col("LSOA name").str.starts_with("%(prefix)s "))
         .collect())
rows = frame.height
""",
    ),
    "polars with checks": (
        "import polars as pl",
        r"""
code, name = pl.col("LSOA code").fill_null(""), pl.col("LSOA name").fill_null("")
def outside(column, low, high):
    number = pl.col(column).cast(pl.Float64, strict=False)
    return (pl.col(column).is_not_null() & number.is_null()) | (number < low) | (number > high)
scan = pl.scan_csv(files, infer_schema=False, include_file_paths="file")
per_file = scan.group_by("file").agg(
    rows=pl.len(), months=pl.col("Month").unique(),
    bad_months=(~pl.col("Month").fill_null("").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$")).sum(),
    keys=pl.concat_str([pl.col("Month"), pl.col("Falls within")], separator="|").unique(),
    unlocated=(code == "").sum(), half_located=((code != "") != (name != "")).sum(),
    bad_coordinates=(outside("Longitude", -9.0, 2.5) | outside("Latitude", 49.5, 61.0)).sum(),
)
names = scan.filter(code != "").group_by("LSOA name").len()
kept = scan.filter((code != "") & pl.col("LSOA name").str.starts_with("%(prefix)s "))
per_file, names, frame = pl.collect_all([per_file, names, kept], engine="streaming")
rows = frame.height
""",
    ),
    "duckdb with checks": ("import duckdb", DUCKDB_WITH_CHECKS),
    "duckdb": (
        "import duckdb",
        """
names = ", ".join("'" + str(f) + "'" for f in files)
table = duckdb.sql(f\"\"\"select * from read_csv([{names}], all_varchar=true, header=true)
                      where "LSOA name" like '%(prefix)s %%'\"\"\").fetch_arrow_table()
rows = table.num_rows
""",
    ),
}


def run_engine(engine: str, files: list[Path]) -> dict:
    """Time one engine on the files in a fresh process: rows kept, seconds, peak RSS (MB)."""
    imports, work = ENGINES[engine]
    code = (
        CHILD_PREAMBLE
        + imports % {"prefix": PREFIX}
        + "\nstart = time.perf_counter()\n"
        + work % {"prefix": PREFIX}
        + CHILD_END
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps([str(f) for f in files])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(rounds: int = 3) -> dict:
    if not ARCHIVE.exists():
        print(f"skipped: {ARCHIVE} not found")
        return {}
    missing = [e for e in ("polars", "duckdb") if importlib.util.find_spec(e) is None]
    if missing:
        sys.exit(
            f"{' and '.join(missing)} not installed: pip install -r benchmarks/requirements.txt (make benchmark does)"
        )
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(ARCHIVE) as archive:
            members = sorted(n for n in archive.namelist() if n.endswith("-street.csv"))
            archive.extractall(folder, members)
        files = [Path(folder) / m for m in members]
        sizes = {"half": files[: len(files) // 2], "full": files}
        runs: dict[str, dict[str, list[dict]]] = {e: {s: [] for s in sizes} for e in ENGINES}
        for _ in range(rounds):
            for size, chosen in sizes.items():
                for engine in ENGINES:  # interleaved, so machine noise falls on all alike
                    runs[engine][size].append(run_engine(engine, chosen))
    result: dict = {"input": {"files_full": len(files), "files_half": len(files) // 2}, "rounds": rounds}
    for engine, by_size in runs.items():
        result[engine] = {
            size: {
                "rows": by_size[size][0]["rows"],
                "seconds": round(statistics.median(r["seconds"] for r in by_size[size]), 3),
                "peak_mb": round(statistics.median(r["peak_mb"] for r in by_size[size]), 1),
            }
            for size in sizes
        }
    full = {e: result[e]["full"] for e in ENGINES}
    fastest = min(("polars", "duckdb"), key=lambda e: full[e]["seconds"])
    time_ratio = full["pipeline"]["seconds"] / full[fastest]["seconds"]
    lowest_memory = min(full["polars"]["peak_mb"], full["duckdb"]["peak_mb"])
    growth = result["pipeline"]["full"]["peak_mb"] / result["pipeline"]["half"]["peak_mb"] - 1
    result["targets"] = {
        "time_vs_fastest_engine": {
            "fastest": fastest,
            "ratio": round(time_ratio, 2),
            "target": "<= 1.2",
            "holds": time_ratio <= 1.2,
        },
        "peak_memory_vs_lowest_engine_mb": {
            "pipeline": full["pipeline"]["peak_mb"],
            "lowest": lowest_memory,
            "target": "pipeline <= lowest",
            "holds": full["pipeline"]["peak_mb"] <= lowest_memory,
        },
        "memory_growth_when_input_doubles": {"growth": f"{growth:+.1%}", "target": "<= +15%", "holds": growth <= 0.15},
    }
    result["reference"] = {
        f"pipeline_vs_{engine.replace(' ', '_')}_making_part_of_the_checks": {
            "time_ratio": round(full["pipeline"]["seconds"] / full[engine]["seconds"], 2),
            "pipeline_peak_mb": full["pipeline"]["peak_mb"],
            f"{engine.replace(' ', '_')}_peak_mb": full[engine]["peak_mb"],
        }
        for engine in ("polars with checks", "duckdb with checks")
    }
    out = ROOT / "benchmarks/results"
    out.mkdir(exist_ok=True)
    (out / "read.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
