"""Forecast accuracy: the published forecasts against what was then recorded (issue 33).

For the five Avon and Somerset partnerships in the force's police.uk archive (../shared),
every crime type the trends stage forecasts is forecast from an origin with the pipeline's
own method (``pipeline.analysis.forecasting.forecast_series``: the method chosen by
rolling-origin evaluation, empirical 95% intervals, the COVID-19 restrictions declared as
the default params declare them), and the next nine months are set against what police.uk
then recorded. The same for the simple alternative, seasonal naive (each month as it was a
year before). Two origins: December 2020 (Jan-Sep 2021 held out) and June 2020 (Jul 2020 to
Mar 2021 held out). Targets:

- the monthly 95% intervals cover at least 85% of the held-out months;
- no published nine-month total is both more than 40% from the recorded total and further
  from it than seasonal naive's;
- the published forecasts' MASE, pooled (their summed absolute errors over seasonal
  naive's, every held-out month of every series), is at most 1.

Run: .venv/bin/python benchmarks/bench_forecasts.py [--archive PATH] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analysis import forecasting, trend_models, trends  # noqa: E402
from pipeline.analysis.police import count_crimes, month_coverage, read_police_data, usable_months  # noqa: E402
from pipeline.months import month_range, shift_month  # noqa: E402
from pipeline.orchestration.force_run import partnership_lookup_path  # noqa: E402
from pipeline.params import AreaDefinition  # noqa: E402

ARCHIVE = ROOT.parent / "shared/data/police-uk/avon-and-somerset-street-2018-01_2021-09.zip"
FORCE = "Avon and Somerset"
DISRUPTIONS = (("COVID-19 restrictions", "2020-03", "2021-03"),)
ORIGINS = ("2020-12", "2020-06")
HELD_OUT = 9
TARGETS = {"coverage": 0.85, "far_and_worse": 0, "pooled_mase": 1.0}


def partnership_areas(folder: Path) -> list[AreaDefinition]:
    """The force's partnerships as areas defined by LSOA lookups (one file, written here)."""
    text = gzip.decompress(partnership_lookup_path().read_bytes()).decode("utf-8")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["force"] == FORCE]
    lookup = folder / "lookup.csv"
    with open(lookup, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lsoa_code", "area"])
        writer.writerows([r["lsoa_code"], r["area"]] for r in rows)
    names = sorted({r["area"] for r in rows})
    population = {"value": 100000, "year": 2020, "source": "not used: counts only"}
    return [AreaDefinition.model_validate({"name": n, "lsoa_lookup": lookup, "population": population}) for n in names]


def monthly_by_area(archive: Path, folder: Path) -> dict[str, pd.DataFrame]:
    """Each partnership's usable months by crime type, as the police and trends stages make them."""
    areas = partnership_areas(folder)
    crimes, summary = read_police_data([archive], areas)
    counts = count_crimes(crimes)
    out = {}
    for area in areas:
        coverage = month_coverage(
            crimes, area.name, summary.months_in_input[0], summary.months_in_input[-1], summary.months_in_input, 0.5
        )
        out[area.name] = trends.monthly_counts(counts, area.name, usable_months(coverage))
    return out


def evaluate(monthly: dict[str, pd.DataFrame], origin: str) -> tuple[list[dict], dict[str, float]]:
    """Every forecast series at ``origin``: its published and seasonal naive forecasts for the
    next ``HELD_OUT`` months against what was recorded."""
    rows = []
    for area, table in monthly.items():
        history = table.loc[table.index <= origin]
        months = [m for m in month_range(shift_month(origin, 1), shift_month(origin, HELD_OUT)) if m in table.index]
        for crime_type in table.columns:
            series = history[crime_type]
            # The trends stage forecasts a series it can model: enough months, enough crimes a month.
            if len(series) < trend_models.MIN_MONTHS or series.mean() < trend_models.MIN_MEAN_PER_MONTH:
                continue
            published = forecasting.forecast_series(series, months, DISRUPTIONS)
            actual = table.loc[months, crime_type].to_numpy(dtype=float)
            naive = forecasting.seasonal_naive(series, months)
            frame = published.months
            total, low, high = published.total(months)
            rows.append(
                {
                    "area": area,
                    "crime_type": crime_type,
                    "method": published.choice.method,
                    "recorded": float(actual.sum()),
                    "published": total,
                    "low95": low,
                    "high95": high,
                    "naive": float(naive.sum()),
                    "inside": int(
                        ((actual >= frame["low95"].to_numpy()) & (actual <= frame["high95"].to_numpy())).sum()
                    ),
                    "months": len(months),
                    "abs_error": float(np.abs(actual - frame["expected"].to_numpy()).sum()),
                    "naive_abs_error": float(np.abs(actual - naive).sum()),
                }
            )
    inside = sum(r["inside"] for r in rows)
    months = sum(r["months"] for r in rows)
    far_and_worse = [
        r
        for r in rows
        if r["recorded"] > 0
        and abs(r["published"] - r["recorded"]) / r["recorded"] > 0.40
        and abs(r["published"] - r["recorded"]) > abs(r["naive"] - r["recorded"])
    ]
    figures = {
        "series": len(rows),
        "coverage": inside / months if months else float("nan"),
        "far_and_worse": len(far_and_worse),
        "pooled_mase": sum(r["abs_error"] for r in rows) / sum(r["naive_abs_error"] for r in rows),
        "model_published": sum(r["method"] != forecasting.SEASONAL_NAIVE for r in rows),
    }
    return rows, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--json", type=Path, help="write every series' figures here")
    args = parser.parse_args()
    if not args.archive.is_file():
        print(f"The force archive is not at {args.archive}: put ../shared beside the checkout, or give --archive.")
        return 2
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        clock = time.perf_counter()
        monthly = monthly_by_area(args.archive, Path(tmp))
        print(f"Read {len(monthly)} partnerships in {time.perf_counter() - clock:.1f} s")
    results, ok = {}, True
    for origin in ORIGINS:
        clock = time.perf_counter()
        rows, figures = evaluate(monthly, origin)
        results[origin] = {"figures": figures, "series": rows}
        held = f"{shift_month(origin, 1)} to {shift_month(origin, HELD_OUT)}"
        print(
            f"\nOrigin {origin} (held out {held}): {figures['series']} series, a model published for "
            f"{figures['model_published']}, seasonal naive for the rest ({time.perf_counter() - clock:.1f} s)"
        )
        checks = (
            (
                "95% intervals cover held-out months",
                figures["coverage"],
                f">= {TARGETS['coverage']:.0%}",
                figures["coverage"] >= TARGETS["coverage"],
                f"{figures['coverage']:.1%}",
            ),
            (
                "9-month totals >40% off and worse than seasonal naive",
                figures["far_and_worse"],
                "0",
                figures["far_and_worse"] == 0,
                str(figures["far_and_worse"]),
            ),
            (
                "pooled MASE of published forecasts",
                figures["pooled_mase"],
                "<= 1.00",
                figures["pooled_mase"] <= TARGETS["pooled_mase"],
                f"{figures['pooled_mase']:.3f}",
            ),
        )
        for label, _, target, passed, shown in checks:
            print(f"  {label:55s} {shown:>8s}  target {target:8s} {'met' if passed else 'NOT MET'}")
            ok &= passed
        for r in rows:
            off = (r["published"] - r["recorded"]) / r["recorded"] if r["recorded"] else float("nan")
            if abs(off) > 0.40:
                print(
                    f"    {r['area']}, {r['crime_type']}: {r['method']} {r['published']:.0f} vs recorded "
                    f"{r['recorded']:.0f} ({off:+.0%}); seasonal naive {r['naive']:.0f}"
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("\nAll targets met." if ok else "\nSome targets not met.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
