"""Benchmarks: the area beside its comparators, partnerships like it, and England and Wales.

- **Rates with intervals**: each area's rate per 1,000 residents a year with its exact 95%
  Poisson interval (Garwood: chi-squared quantiles of the count), over the same months.
- **Funnel plot** (Spiegelhalter 2005): each area's rate against its population, with the
  pooled rate of the areas shown as the centre and exact Poisson limits (95% and 99.8%) for an
  area of each size: an area outside the 99.8% limits differs by more than chance.
- **Similar partnerships**: the partnerships of the same nation nearest the area on two ONS
  indicators bundled with the pipeline (``pipeline/data/csp-indicators.csv.gz``): residents
  (log, mid-2019) and the share of LSOAs in the nation's two most deprived IMD 2019 deciles,
  each standardised over the nation's partnerships; nearness is the Euclidean distance.
- **England and Wales**: computed from police.uk files only when every territorial force is
  among them; otherwise the missing forces are named and no figure is given.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from importlib import resources

import numpy as np
import pandas as pd

from pipeline.reference import missing_forces, police_uk_slug

__all__ = ["missing_forces", "police_uk_slug"]  # used from here by the report and the checks

METHOD_NOTE = (
    "Benchmarks: rates per 1,000 residents a year with exact 95% Poisson intervals (Garwood); a funnel plot of each "
    "area's rate against its population, with the pooled rate of the areas shown and exact Poisson 95% and 99.8% "
    "limits (Spiegelhalter); similar partnerships are those of the same nation nearest on residents (log) and the "
    "share of LSOAs in the nation's two most deprived IMD 2019 deciles, both standardised (ONS and MHCLG data)."
)


def rate_interval(count: float, population: float, months: int) -> tuple[float, float]:
    """Exact 95% Poisson interval (Garwood) of a rate per 1,000 residents a year."""
    from scipy import stats

    if population <= 0 or months <= 0:
        return math.nan, math.nan
    scale = 1000 * 12 / months / population
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * (count + 1)) / 2
    return low * scale, high * scale


def funnel_limits(pooled_rate: float, populations: np.ndarray, months: int) -> pd.DataFrame:
    """Exact Poisson control limits around ``pooled_rate`` (per 1,000 a year) for areas of each
    population over ``months`` months: columns population, low95, high95, low998, high998."""
    from scipy import stats

    expected = pooled_rate * populations * months / 12 / 1000
    frame = pd.DataFrame({"population": populations})
    for name, p in (("95", 0.025), ("998", 0.001)):
        frame[f"low{name}"] = stats.poisson.ppf(p, expected) * 1000 * 12 / months / populations
        frame[f"high{name}"] = stats.poisson.ppf(1 - p, expected) * 1000 * 12 / months / populations
    return frame


def csp_indicators() -> pd.DataFrame:
    """The bundled indicators of every partnership (see the module docstring)."""
    data = resources.files("pipeline").joinpath("data", "csp-indicators.csv.gz").read_bytes()
    return pd.DataFrame(list(csv.DictReader(io.StringIO(gzip.decompress(data).decode("utf-8"))))).astype(
        {"population_2019": int, "lsoas": int, "deprived_share": float}
    )


def similar_partnerships(partnership: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` partnerships of the same nation nearest ``partnership`` on the two indicators
    (see the module docstring): csp, population_2019, deprived_share, distance, nearest first."""
    table = csp_indicators()
    if partnership not in set(table["csp"]):
        return table.iloc[0:0].assign(distance=[])
    nation = table.loc[table["csp"] == partnership, "nation"].item()
    same = table[table["nation"] == nation].copy()
    for column, values in (("z_size", np.log(same["population_2019"])), ("z_deprived", same["deprived_share"])):
        same[column] = (values - values.mean()) / values.std(ddof=0)
    own = same.loc[same["csp"] == partnership, ["z_size", "z_deprived"]].to_numpy()[0]
    same["distance"] = np.sqrt(((same[["z_size", "z_deprived"]].to_numpy() - own) ** 2).sum(axis=1))
    others = same[same["csp"] != partnership].sort_values(["distance", "csp"])
    return others.head(n)[["csp", "population_2019", "deprived_share", "distance"]].reset_index(drop=True)
