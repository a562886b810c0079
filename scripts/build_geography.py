"""Cut the bundled geography from the open reference files in ../shared/reference-data.

Maintainers run this (``make geography``) to rebuild ``data/raw/geography/``; the
pipeline only reads the result. Output bytes are reproducible (sorted rows, fixed gzip
timestamp), and ``tests/test_geography.py`` checks that a rebuild matches the bundle.

- ``lsoa11-boundaries.geojson``: 2011 LSOA polygons of the default area and its three
  comparators (WGS84, generalised), properties ``LSOA11CD`` and ``LSOA11NM`` only,
  coordinates rounded to 5 decimal places (about 1 metre, far finer than the
  generalisation), every polygon checked valid.
- ``ward19-boundaries.geojson``: electoral ward polygons of the same four authorities
  (``WD19CD``, ``WD19NM``). The source labels them with 2025 codes; for these four
  authorities every code is a December 2019 ward in the lookup below, which this script
  checks (it stops if one is not); names are taken from the lookup (one ward was renamed).
- ``lsoa11-ward19.csv.gz``: best-fit 2011 LSOA -> December 2019 ward -> local authority,
  England and Wales (``lsoa_code, ward_code, ward_name, lad_code, lad_name``).
- ``imd2019-lsoa11.csv.gz``: Index of Multiple Deprivation 2019 by 2011 LSOA for England
  (rank of 32,844) and Wales (Welsh IMD, rank of 1,909): ``lsoa_code, nation, imd_rank,
  imd_decile``. The decile is the nation's ranks cut into ten equal groups, decile 1 the
  most deprived: decile = ceil(10 x rank / number of LSOAs in the nation), so in England
  decile 1 holds ranks 1 to 3,284. English and Welsh ranks are not comparable with each
  other; deciles are within each nation.

For police.uk files on 2021 LSOAs (from 2023):

- ``lsoa21-boundaries.geojson``: 2021 LSOA polygons (``LSOA21CD``, ``LSOA21NM``) of the seven
  districts ../shared holds (the default's four, Gloucester, Herefordshire, City of London),
  rounded and checked as above.
- ``lsoa21-ward24.csv.gz``: best-fit 2021 LSOA -> ward (2024) -> district (2024), England and
  Wales (``lsoa_code, ward_code, ward_name, lad_code, lad_name``).
- ``iod2025-lsoa21.csv.gz``: English Indices of Deprivation 2025, Index of Multiple
  Deprivation by 2021 LSOA (rank of 33,755 and the published decile): ``lsoa_code, nation,
  imd_rank, imd_decile``. England only (Wales publishes its own index).
- ``lsoa21-population-census2021.csv.gz``: usual residents on Census day 2021 by 2021 LSOA
  (``lsoa_code, population``; Census table TS021), for rates per 1,000 by LSOA.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared/reference-data"
TARGET = ROOT / "data/raw/geography"
AUTHORITIES = ("E06000022", "E06000023", "E06000024", "E06000025")
DECIMALS = 5


def _rounded(coordinates: list) -> list:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [round(c, DECIMALS) for c in coordinates[:2]]
    return [_rounded(part) for part in coordinates]


def _geojson(features: list[dict], name: str) -> bytes:
    collection = {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    # One feature per line: small diffs when a boundary changes, and still valid JSON.
    head = json.dumps({k: v for k, v in collection.items() if k != "features"}, ensure_ascii=False)[:-1]
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    return (head + ', "features": [\n' + ",\n".join(lines) + "\n]}\n").encode("utf-8")


def _boundaries(folder: Path, code: str, name: str, out_code: str, out_name: str) -> list[dict]:
    import shapely
    from shapely.geometry import mapping, shape

    features = []
    for authority in AUTHORITIES:
        source = json.loads((folder / f"{authority}.geojson").read_text(encoding="utf-8"))
        for feature in source["features"]:
            # Snapping to the grid with shapely keeps polygons valid where plain rounding can
            # make a thin part cross itself; rounding the snapped values only tidies their text.
            snapped = mapping(shapely.set_precision(shape(feature["geometry"]), 10**-DECIMALS))
            geometry = {
                "type": snapped["type"],
                "coordinates": _rounded(json.loads(json.dumps(snapped["coordinates"]))),
            }
            if not shape(geometry).is_valid or shape(geometry).is_empty:
                raise SystemExit(
                    f"{folder / authority}.geojson: {feature['properties'][code]} is not a valid polygon after rounding"
                )
            properties = {out_code: feature["properties"][code], out_name: feature["properties"][name].strip()}
            features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return sorted(features, key=lambda f: f["properties"][out_code])


def _csv_gz(header: list[str], rows: list[list], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buffer.getvalue().encode("utf-8"))


def ward_lookup_rows(source: Path) -> list[list[str]]:
    with open(source / "geography/lsoa11-ward19-lad19.csv", encoding="utf-8-sig", newline="") as handle:
        rows = [
            [r["LSOA11CD"], r["WD19CD"], r["WD19NM"].strip(), r["LAD19CD"], r["LAD19NM"].strip()]
            for r in csv.DictReader(handle)
        ]
    return sorted(rows)


def imd_rows(source: Path) -> list[list]:
    """England and Wales IMD 2019 ranks with national deciles (see the module docstring)."""
    nations = []
    with open(source / "geography/imd2019-lsoa11-england.csv", encoding="utf-8-sig", newline="") as handle:
        nations.append(("England", [(r["LSOA11CD"], int(r["IMD19"])) for r in csv.DictReader(handle)]))
    with open(source / "geography/imd2019-lsoa11-wales.csv", encoding="utf-8-sig", newline="") as handle:
        nations.append(("Wales", [(r["lsoa11cd"], int(r["wimd_2019"])) for r in csv.DictReader(handle)]))
    rows = []
    for nation, ranks in nations:
        total = len(ranks)
        # The source has a few tied ranks (26 pairs in England, each followed by a gap),
        # so ranks are checked to lie in 1..total and codes to be unique, not to be a permutation.
        if not all(1 <= rank <= total for _, rank in ranks) or len({code for code, _ in ranks}) != total:
            raise SystemExit(f"{nation}: IMD ranks outside 1 to {total}, or an LSOA given twice")
        rows.extend([code, nation, rank, math.ceil(10 * rank / total)] for code, rank in ranks)
    return sorted(rows)


def lsoa21_rows(source: Path) -> tuple[list[list], list[list], list[list]]:
    """The 2021 LSOA ward lookup, IoD 2025 and Census 2021 residents rows (see the docstring)."""
    with open(source / "geography/lsoa21-ward24-lad24.csv", encoding="utf-8-sig", newline="") as handle:
        wards = sorted(
            [r["LSOA21CD"], r["WD24CD"], r["WD24NM"].strip(), r["LAD24CD"], r["LAD24NM"].strip()]
            for r in csv.DictReader(handle)
        )
    with open(source / "geography/iod2025-lsoa21-england.csv", encoding="utf-8-sig", newline="") as handle:
        iod = sorted(
            [r["LSOA21CD"], "England", int(r["IMD_rank"]), int(r["IMD_decile"])] for r in csv.DictReader(handle)
        )
    with open(source / "population/lsoa21-population-census2021.csv", encoding="utf-8-sig", newline="") as handle:
        residents = sorted([r["LSOA21CD"], int(r["USUAL_RESIDENTS_CENSUS2021_TS021"])] for r in csv.DictReader(handle))
    return wards, iod, residents


def lsoa21_boundaries(source: Path) -> list[dict]:
    """The 2021 LSOA polygons of the districts ../shared holds, rounded and checked as ``_boundaries`` does."""
    import shapely
    from shapely.geometry import mapping, shape

    features = []
    collection = json.loads((source / "boundaries/lsoa21/selected-lads.geojson").read_text(encoding="utf-8"))
    for feature in collection["features"]:
        snapped = mapping(shapely.set_precision(shape(feature["geometry"]), 10**-DECIMALS))
        geometry = {"type": snapped["type"], "coordinates": _rounded(json.loads(json.dumps(snapped["coordinates"])))}
        if not shape(geometry).is_valid or shape(geometry).is_empty:
            raise SystemExit(f"selected-lads.geojson: {feature['properties']['LSOA21CD']} is not valid after rounding")
        properties = {
            "LSOA21CD": feature["properties"]["LSOA21CD"],
            "LSOA21NM": feature["properties"]["LSOA21NM"].strip(),
        }
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return sorted(features, key=lambda f: f["properties"]["LSOA21CD"])


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    args.target.mkdir(parents=True, exist_ok=True)

    wards = ward_lookup_rows(args.source)
    _csv_gz(
        ["lsoa_code", "ward_code", "ward_name", "lad_code", "lad_name"], wards, args.target / "lsoa11-ward19.csv.gz"
    )
    imd = imd_rows(args.source)
    _csv_gz(["lsoa_code", "nation", "imd_rank", "imd_decile"], imd, args.target / "imd2019-lsoa11.csv.gz")

    lsoas = _boundaries(args.source / "boundaries/lsoa11", "LSOA11CD", "LSOA11NM", "LSOA11CD", "LSOA11NM")
    (args.target / "lsoa11-boundaries.geojson").write_bytes(_geojson(lsoas, "lsoa11-boundaries"))
    ward_features = _boundaries(args.source / "boundaries/ward", "WD25CD", "WD25NM", "WD19CD", "WD19NM")
    names_2019 = {r[1]: r[2] for r in wards if r[3] in AUTHORITIES}
    unknown = [f["properties"] for f in ward_features if f["properties"]["WD19CD"] not in names_2019]
    if unknown:
        raise SystemExit(f"ward boundaries whose code is not a December 2019 ward of these authorities: {unknown}")
    for feature in ward_features:
        # A ward renamed since 2019 with the same code and boundary (Twerton became
        # "Twerton & Whiteway") takes the 2019 name, so maps match the ward tables.
        feature["properties"]["WD19NM"] = names_2019[feature["properties"]["WD19CD"]]
    (args.target / "ward19-boundaries.geojson").write_bytes(_geojson(ward_features, "ward19-boundaries"))
    wards21, iod, residents = lsoa21_rows(args.source)
    header = ["lsoa_code", "ward_code", "ward_name", "lad_code", "lad_name"]
    _csv_gz(header, wards21, args.target / "lsoa21-ward24.csv.gz")
    _csv_gz(["lsoa_code", "nation", "imd_rank", "imd_decile"], iod, args.target / "iod2025-lsoa21.csv.gz")
    _csv_gz(["lsoa_code", "population"], residents, args.target / "lsoa21-population-census2021.csv.gz")
    lsoas21 = lsoa21_boundaries(args.source)
    (args.target / "lsoa21-boundaries.geojson").write_bytes(_geojson(lsoas21, "lsoa21-boundaries"))
    counts = {
        "lsoa21_boundaries": len(lsoas21),
        "lsoa21_ward_lookup": len(wards21),
        "iod2025": len(iod),
        "lsoa21_population": len(residents),
        "lsoa_boundaries": len(lsoas),
        "ward_boundaries": len(ward_features),
        "ward_lookup": len(wards),
        "imd": len(imd),
    }
    print(json.dumps(counts))
    return counts


if __name__ == "__main__":
    main()
