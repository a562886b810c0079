"""Write the synthetic sample force crime extract used by the default run.

No force's offence-level extract can be published, so the default run uses this
SYNTHETIC SAMPLE, labelled so in every output that shows it. It is made from the real
bundled police.uk data for South Gloucestershire, with a fixed seed:

- One extract row for each police.uk crime the pipeline counts in South Gloucestershire
  (anti-social behaviour is not a crime and is not in an extract), in the month police.uk
  gives, in the same LSOA, at the same anonymised map point, with police.uk's last
  outcome. So its count by police.uk crime type and month equals the real count for
  every type and month, and the two sources reconcile exactly.
- Each crime gets a Home Office offence code drawn from ``MIX``: the mix of codes within
  its police.uk crime type, roughly as ONS's national figures split each type. Every
  code's police.uk type in ``pipeline/data/offence_codes.csv`` is the row's type.
- Flags are set at the rates in ``FLAG_RATES`` (by ONS subgroup or code). Racially or
  religiously aggravated codes always carry the hate flag. There are no child
  exploitation or organised crime flags: forces apply them differently, and the default
  report shows how a threat the extract cannot evidence is reported.
- Committed dates and times follow ``TIME_PATTERNS`` by ONS subgroup (hour of day and day
  of week); burglary, vehicle crime and criminal damage often have a from-to range
  (unknown time between, say, leaving home and coming back); a share of sexual offences
  are reported long after they happened.
- Victim age band and sex for crimes against a person (``VICTIMS``); blank otherwise.
- Crime references are invented (``SGX`` and seven digits), not police.uk's IDs.

Run ``python scripts/make_sample_extract.py`` (``make sample-extract``); the output is
the same every time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.analysis.police import read_police_data  # noqa: E402
from pipeline.inputs.offences import offence_codes  # noqa: E402
from pipeline.params import load_params  # noqa: E402

SEED = 20210120
PARAMS = ROOT / "params/south-gloucestershire.yaml"
TARGET = ROOT / "data/raw/force-extract/south-gloucestershire-crime-extract-sample-2018-01_2021-09.csv.gz"

# Share of each police.uk crime type's crimes by Home Office offence code (sums to 1).
MIX: dict[str, dict[str, float]] = {
    "Violence and sexual offences": {
        "105A": 0.27,
        "8N": 0.19,
        "8L": 0.13,
        "8R": 0.12,
        "8Q": 0.07,
        "3B": 0.03,
        "5D": 0.012,
        "8P": 0.004,
        "105B": 0.012,
        "8M": 0.01,
        "104": 0.012,
        "8S": 0.006,
        "11A": 0.014,
        "13": 0.002,
        "36": 0.003,
        "106": 0.002,
        "2": 0.0005,
        "1": 0.0003,
        "4.4": 0.0007,
        "5E": 0.001,
        "20A": 0.035,
        "19C": 0.017,
        "88E": 0.009,
        "22B": 0.005,
        "17A": 0.004,
        "20B": 0.003,
        "21": 0.003,
        "19D": 0.002,
        "19F": 0.002,
        "88A": 0.002,
        "71": 0.0008,
        "72": 0.0004,
        "19E": 0.001,
        "88C": 0.0015,
        "73": 0.0005,
    },
    "Public order": {"9A": 0.80, "9B": 0.08, "66": 0.11, "62A": 0.01},
    "Drugs": {"92E": 0.62, "92D": 0.17, "92A": 0.19, "92C": 0.02},
    "Criminal damage and arson": {
        "58A": 0.29,
        "58C": 0.30,
        "58B": 0.13,
        "58D": 0.20,
        "58J": 0.01,
        "56A": 0.015,
        "56B": 0.055,
    },
    "Burglary": {"28E": 0.55, "28F": 0.08, "28G": 0.01, "29A": 0.01, "30C": 0.30, "30D": 0.04, "31A": 0.01},
    "Vehicle crime": {"45": 0.52, "48": 0.27, "126": 0.17, "37.2": 0.04},
    "Other theft": {"49": 0.70, "49A": 0.10, "40": 0.07, "41": 0.03, "47": 0.02, "35": 0.03, "43": 0.01, "42": 0.04},
    "Shoplifting": {"46": 1.0},
    "Theft from the person": {"39": 1.0},
    "Bicycle theft": {"44": 1.0},
    "Robbery": {"34B": 0.87, "34A": 0.13},
    "Possession of weapons": {"10D": 0.58, "10C": 0.22, "10B": 0.08, "81": 0.06, "90": 0.06},
    "Other crime": {
        "99": 0.22,
        "95": 0.05,
        "83": 0.06,
        "33A": 0.03,
        "59": 0.07,
        "802": 0.10,
        "814": 0.04,
        "54": 0.09,
        "86": 0.14,
        "67": 0.01,
        "79": 0.06,
        "33": 0.04,
        "61A": 0.02,
        "76": 0.005,
        "80": 0.015,
        "24": 0.005,
        "96": 0.01,
        "60": 0.01,
        "61": 0.01,
        "69": 0.01,
    },
}

# Probability a crime carries each flag, by ONS subgroup (or by code, which wins).
FLAG_RATES: dict[str, dict[str, float]] = {
    "domestic_abuse": {
        "violence with injury": 0.36,
        "violence without injury": 0.38,
        "stalking and harassment": 0.45,
        "rape": 0.30,
        "other sexual offences": 0.12,
        "criminal damage": 0.12,
        "arson": 0.08,
        "homicide": 0.4,
        "public order offences": 0.06,
        "all other theft offences": 0.02,
        "domestic burglary": 0.02,
    },
    "hate_crime": {
        "8P": 1.0,
        "105B": 1.0,
        "8M": 1.0,
        "58J": 1.0,
        "9B": 1.0,
        "public order offences": 0.04,
        "violence without injury": 0.015,
        "stalking and harassment": 0.02,
        "violence with injury": 0.008,
        "criminal damage": 0.005,
    },
    "alcohol": {
        "violence with injury": 0.22,
        "violence without injury": 0.16,
        "public order offences": 0.15,
        "criminal damage": 0.07,
        "rape": 0.12,
        "other sexual offences": 0.06,
    },
    "knife": {
        "10D": 1.0,
        "90": 1.0,
        "robbery of personal property": 0.10,
        "robbery of business property": 0.14,
        "5D": 0.30,
        "8N": 0.03,
        "3B": 0.08,
        "2": 0.4,
        "1": 0.5,
        "domestic burglary": 0.01,
    },
}
HATE_STRANDS = {"Race": 0.74, "Sexual orientation": 0.11, "Disability": 0.07, "Religion": 0.05, "Transgender": 0.03}

# Hour-of-day weights (24) and day-of-week weights (Mon..Sun) of the committed time,
# with the share of crimes given a from-to range and its length (hours, uniform).
EVENING = [6, 5, 4, 3, 2, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 6, 7, 8, 8, 9, 9, 8, 7]
DAYTIME = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 2, 4, 6, 7, 8, 8, 8, 8, 8, 7, 6, 4, 3, 2, 2, 1, 1]
OVERNIGHT = [6, 6, 5, 4, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 7, 7]
AFTERNOON = [2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 9, 9, 8, 7, 6, 5, 4, 3]
WEEKEND = [0.85, 0.85, 0.9, 0.95, 1.15, 1.4, 1.3]
FLAT = [1, 1, 1, 1, 1, 1, 1]
WEEKDAY = [1.1, 1.1, 1.1, 1.1, 1.1, 1.0, 0.6]
TIME_PATTERNS: dict[str, tuple[list[float], list[float], float, tuple[float, float]]] = {
    "violence with injury": (EVENING, WEEKEND, 0.0, (0, 0)),
    "violence without injury": (EVENING, WEEKEND, 0.05, (1, 4)),
    "stalking and harassment": (AFTERNOON, FLAT, 0.3, (2, 72)),
    "homicide": (EVENING, WEEKEND, 0.0, (0, 0)),
    "rape": (EVENING, WEEKEND, 0.2, (1, 6)),
    "other sexual offences": (AFTERNOON, FLAT, 0.1, (1, 6)),
    "public order offences": (EVENING, WEEKEND, 0.0, (0, 0)),
    "domestic burglary": (DAYTIME, WEEKDAY, 0.8, (2, 10)),
    "non-domestic burglary": (OVERNIGHT, FLAT, 0.8, (4, 14)),
    "vehicle offences": (OVERNIGHT, FLAT, 0.75, (4, 12)),
    "criminal damage": (OVERNIGHT, WEEKEND, 0.5, (2, 12)),
    "arson": (OVERNIGHT, WEEKEND, 0.3, (1, 6)),
    "shoplifting": (DAYTIME, [1, 1, 1, 1, 1.1, 1.3, 0.8], 0.0, (0, 0)),
    "theft from the person": (DAYTIME, [1, 1, 1, 1, 1.1, 1.3, 0.9], 0.3, (0.5, 3)),
    "bicycle theft": (DAYTIME, WEEKDAY, 0.7, (2, 10)),
    "all other theft offences": (DAYTIME, FLAT, 0.4, (2, 12)),
    "robbery of personal property": (EVENING, WEEKEND, 0.0, (0, 0)),
    "robbery of business property": (EVENING, FLAT, 0.0, (0, 0)),
    "trafficking of drugs": (AFTERNOON, FLAT, 0.0, (0, 0)),
    "possession of drugs": (AFTERNOON, WEEKEND, 0.0, (0, 0)),
    "possession of weapons offences": (EVENING, WEEKEND, 0.0, (0, 0)),
}
DEFAULT_PATTERN = (DAYTIME, WEEKDAY, 0.1, (1, 24))
HISTORIC_SEXUAL_SHARE = 0.25  # reported more than a month after it happened

PERSON_GROUPS = {"violence against the person", "sexual offences", "robbery"}
PERSON_SUBGROUPS = {"theft from the person"}
AGE_BANDS = ["Under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65 and over"]
AGE_WEIGHTS = {
    "default": [0.14, 0.17, 0.22, 0.18, 0.14, 0.09, 0.06],
    "sexual offences": [0.40, 0.20, 0.16, 0.11, 0.07, 0.04, 0.02],
}
FEMALE_SHARE = {"domestic_abuse": 0.75, "sexual offences": 0.86, "default": 0.45}

HEADINGS = [
    "CrimeRef",
    "HOCode",
    "Offence",
    "Date Recorded",
    "Committed From",
    "Committed To",
    "LSOA Code",
    "Latitude",
    "Longitude",
    "DA Flag",
    "Hate Flag",
    "Hate Strand",
    "Alcohol Flag",
    "Knife Flag",
    "Victim Age Band",
    "Victim Sex",
    "Outcome",
]


def police_crimes() -> pd.DataFrame:
    """The real bundled police.uk crimes the pipeline counts in South Gloucestershire (no ASB)."""
    params = load_params(PARAMS)
    crimes, _ = read_police_data(params.inputs.police, [params.area])
    crimes = crimes[crimes["crime_type"] != "Anti-social behaviour"]
    return crimes.sort_values(["month", "crime_type", "lsoa_code", "crime_id"], kind="stable").reset_index(drop=True)


def _draw(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    keys = list(options)
    weights = np.array([options[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=weights / weights.sum())]


def _rate(rates: dict[str, float], code: str, subgroup: str, group: str) -> float:
    return rates.get(code, rates.get(subgroup, rates.get(group, 0.0)))


def _flags(
    rng: np.random.Generator, codes: np.ndarray, subgroups: np.ndarray, groups: np.ndarray
) -> dict[str, np.ndarray]:
    out = {}
    for flag, rates in FLAG_RATES.items():
        p = np.array([_rate(rates, c, s, g) for c, s, g in zip(codes, subgroups, groups)])
        out[flag] = rng.random(len(codes)) < p
    return out


def _times(
    rng: np.random.Generator, months: np.ndarray, subgroups: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Committed from, committed to (NaT when the time is exact) and recorded, as datetime64[m]."""
    n = len(months)
    start = pd.to_datetime(pd.Series(months) + "-01").to_numpy().astype("datetime64[m]")
    days_in_month = (pd.to_datetime(pd.Series(months) + "-01") + pd.offsets.MonthEnd(0)).dt.day.to_numpy()
    committed_from = np.empty(n, dtype="datetime64[m]")
    span = np.zeros(n)
    for subgroup in np.unique(subgroups):
        rows = np.flatnonzero(subgroups == subgroup)
        hours, week, range_share, (low, high) = TIME_PATTERNS.get(subgroup, DEFAULT_PATTERN)
        hour = rng.choice(24, size=len(rows), p=np.array(hours) / sum(hours))
        minute = rng.integers(0, 60, size=len(rows))
        # A day of the month weighted by its day of the week.
        day = np.empty(len(rows), dtype=int)
        for i, r in enumerate(rows):
            d = np.arange(days_in_month[r])
            weekday = (start[r].astype("datetime64[D]").astype(int) + 3 + d) % 7  # 1970-01-01 was a Thursday
            w = np.array(week)[weekday]
            day[i] = rng.choice(d, p=w / w.sum())
        committed_from[rows] = start[rows] + (day * 1440 + hour * 60 + minute).astype("timedelta64[m]")
        ranged = rng.random(len(rows)) < range_share
        span[rows[ranged]] = rng.uniform(low, high, size=ranged.sum())
    # Ranges end at most at the end of the month, so the crime is recorded in its month.
    month_end = start + (days_in_month * 1440 - 1).astype("timedelta64[m]")
    committed_to = committed_from + np.round(span * 60).astype("timedelta64[m]")
    over = committed_to > month_end
    committed_to[over] = month_end[over]
    lag_hours = np.where(rng.random(n) < 0.6, rng.uniform(0.2, 6, n), rng.exponential(48, n))
    recorded = committed_to + np.round(lag_hours * 60).astype("timedelta64[m]")
    late = recorded > month_end
    recorded[late] = committed_to[late] + ((month_end[late] - committed_to[late]) * rng.random(late.sum())).astype(
        "timedelta64[m]"
    )
    historic = (groups == "sexual offences") & (rng.random(n) < HISTORIC_SEXUAL_SHARE)
    back = rng.integers(45, 3650, size=historic.sum()).astype("timedelta64[D]")
    committed_from[historic] = committed_from[historic] - back
    committed_to[historic] = committed_to[historic] - back
    committed_to[span == 0] = np.datetime64("NaT")
    return committed_from, committed_to, recorded


def _format(values: np.ndarray) -> np.ndarray:
    text = pd.Series(values).dt.strftime("%d/%m/%Y %H:%M")
    return text.fillna("").to_numpy()


def build(crimes: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """The sample extract (force-style headings) for the given police.uk crimes."""
    rng = np.random.default_rng(seed)
    lookup = offence_codes()
    n = len(crimes)
    codes = np.empty(n, dtype=object)
    for crime_type, rows in crimes.groupby("crime_type").indices.items():
        if crime_type not in MIX:
            raise SystemExit(f"no offence code mix for police.uk crime type {crime_type!r}")
        codes[rows] = _draw(rng, MIX[crime_type], len(rows))
    wrong = lookup.loc[codes, "police_uk_category"].to_numpy() != crimes["crime_type"].to_numpy()
    if wrong.any():
        raise SystemExit("MIX gives codes of another police.uk type: " + ", ".join(sorted(set(codes[wrong]))))
    groups = lookup.loc[codes, "ons_group"].to_numpy()
    subgroups = lookup.loc[codes, "ons_subgroup"].to_numpy()
    flags = _flags(rng, codes, subgroups, groups)
    strand = np.where(flags["hate_crime"], _draw(rng, HATE_STRANDS, n), "")
    committed_from, committed_to, recorded = _times(rng, crimes["month"].to_numpy(), subgroups, groups)

    person = np.isin(groups, list(PERSON_GROUPS)) | np.isin(subgroups, list(PERSON_SUBGROUPS))
    age = np.full(n, "", dtype=object)
    sex = np.full(n, "", dtype=object)
    for kind in ("default", "sexual offences"):
        rows = np.flatnonzero(person & ((groups == "sexual offences") == (kind == "sexual offences")))
        age[rows] = np.array(AGE_BANDS, dtype=object)[rng.choice(len(AGE_BANDS), size=len(rows), p=AGE_WEIGHTS[kind])]
    female_p = np.where(
        flags["domestic_abuse"],
        FEMALE_SHARE["domestic_abuse"],
        np.where(groups == "sexual offences", FEMALE_SHARE["sexual offences"], FEMALE_SHARE["default"]),
    )
    female = rng.random(n) < female_p
    sex[person] = np.where(female[person], "F", "M")

    references = rng.permutation(n) + 1_000_000
    order = np.argsort(recorded, kind="stable")  # as a force system exports: by date recorded
    yes_no = lambda values: np.where(values, "Y", "N")  # noqa: E731
    return (
        pd.DataFrame(
            {
                "CrimeRef": [f"SGX{r:07d}" for r in references],
                "HOCode": codes,
                "Offence": lookup.loc[codes, "offence"].to_numpy(),
                "Date Recorded": _format(recorded),
                "Committed From": _format(committed_from),
                "Committed To": _format(committed_to),
                "LSOA Code": crimes["lsoa_code"].to_numpy(),
                "Latitude": crimes["latitude"].map(lambda v: "" if pd.isna(v) else f"{v:.6f}").to_numpy(),
                "Longitude": crimes["longitude"].map(lambda v: "" if pd.isna(v) else f"{v:.6f}").to_numpy(),
                "DA Flag": yes_no(flags["domestic_abuse"]),
                "Hate Flag": yes_no(flags["hate_crime"]),
                "Hate Strand": strand,
                "Alcohol Flag": yes_no(flags["alcohol"]),
                "Knife Flag": yes_no(flags["knife"]),
                "Victim Age Band": age,
                "Victim Sex": sex,
                "Outcome": crimes["last_outcome_category"].fillna("").to_numpy(),
            }
        )[HEADINGS]
        .iloc[order]
        .reset_index(drop=True)
    )


def main() -> None:
    import gzip

    extract = build(police_crimes())
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same bytes every time.
    with open(TARGET, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(extract.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    print(f"wrote {TARGET}: {len(extract):,} crimes")


if __name__ == "__main__":
    main()
