"""Issue 15's targets against the latest figures each benchmark wrote to benchmarks/results/.

Run after ``make benchmark`` (which ends with this script), or alone to reprint the last
figures. A target whose benchmark has not been run says so; nothing is measured here.

    .venv/bin/python benchmarks/targets.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def rows() -> list[tuple[str, str, str, str]]:
    """(target, measured, wanted, verdict) for every target with a benchmark."""
    out: list[tuple[str, str, str, str]] = []
    runs = _load("runs.json")
    labels = {
        "full / naive": "1. default run / naive papermill-CLI + nbconvert-CLI",
        "unchanged rerun / full": "2. rerun, nothing changed / full run",
        "moderation-only rerun / full": "2. rerun after a moderation edit / full run",
        "moderation-only rerun while watching / full": "2. the same, saved while `watch` runs / full run",
    }
    for key, label in labels.items():
        if runs is None or key not in runs["ratios"]:
            out.append((label, "not run", "", "run benchmarks/bench_runs.py"))
            continue
        ratio = runs["ratios"][key]
        out.append(
            (label, f"{ratio['measured']:.2f}x", f"<= {ratio['target']}x", "holds" if ratio["holds"] else "MISSED")
        )
    read = _load("read.json")
    if read is None:
        out.append(("3. reading", "not run", "", "run benchmarks/bench_read.py"))
    else:
        t = read["targets"]
        time_ratio = t["time_vs_fastest_engine"]
        out.append(
            (
                f"3. reading time / {time_ratio['fastest']} lazy scan",
                f"{time_ratio['ratio']:.2f}x",
                "<= 1.2x",
                "holds" if time_ratio["holds"] else "MISSED",
            )
        )
        memory = t["peak_memory_vs_lowest_engine_mb"]
        out.append(
            (
                "3. reading peak memory / lowest engine",
                f"{memory['pipeline']:.0f} / {memory['lowest']:.0f} MB",
                "<= 1.0x",
                "holds" if memory["holds"] else "MISSED",
            )
        )
        growth = t["memory_growth_when_input_doubles"]
        out.append(
            (
                "3. reading memory when the input doubles",
                growth["growth"],
                "<= +15%",
                "holds" if growth["holds"] else "MISSED",
            )
        )
        checked = read.get("reference", {}).get("pipeline_vs_polars_with_part_of_the_checks")
        if checked:
            out.append(
                (
                    "   (reference) reading time / polars making part of the same checks",
                    f"{checked['time_ratio']:.2f}x",
                    "",
                    f"peak {checked['pipeline_peak_mb']:.0f} / {checked['polars_with_checks_peak_mb']:.0f} MB",
                )
            )
    force = _load("force.json")
    if force is None:
        out.append(("4. five partnerships / one", "not run", "", "run benchmarks/bench_force.py"))
    else:
        ratio = force["force / one"]
        out.append(
            (
                "4. five partnerships / one",
                f"{ratio['measured']:.2f}x",
                f"<= {ratio['target']}x",
                "holds" if ratio["holds"] else "MISSED",
            )
        )
    return out


def main() -> int:
    table = rows()
    width = max(len(r[0]) for r in table)
    for target, measured, wanted, verdict in table:
        print(f"{target:<{width}}  {measured:>16}  {wanted:>9}  {verdict}")
    print("(5. test suite and CI time: see the pytest summary line and CI's log; 6. Python versions: README)")
    return 0 if all(r[3] == "holds" for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
