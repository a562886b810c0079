"""Every Community Safety Partnership of a police force in one command.

``python -m pipeline run-force params/avon-and-somerset.yaml`` reads a *force file*: the
settings every partnership shares (window, inputs, disruptions, title with ``{area}``), the
force's name as the ONS lookup spells it, each partnership's population, and the folder
the force's documents go in. The partnerships and their LSOAs come from the bundled ONS
lookup ``pipeline/data/lsoa11-csp19-pfa19.csv.gz`` (2011 LSOA -> partnership -> force,
December 2019; ``scripts/build_csp_lookup.py``).

Each partnership gets a params file of its own (written under the processed folder, so an
analyst can rerun one area alone): the partnership as the area, every other partnership of
the force as a comparator, ``<output_dir>/<partnership>`` as its output folder. All are
validated before any runs, every problem listed at once. Every area's run then reads the
force's files for the same set of areas, so the first read is kept and reused by all
(``pipeline.inputs.police_reads``): the force's files are read once.

Areas run side by side, their stages sharing ``--parallel`` kernels (default: one per CPU,
at most 4), or on a Dask distributed cluster when given ``--scheduler`` (see
``pipeline.orchestration.batch``). A failed area is reported and the others go on; the index page at
``<output_dir>/index.html`` links every area's documents with a one-line headline.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ParamsError, list_problems
from pipeline.params import params_as_dict, validate_params

FORCE_KEYS = ("force", "partnerships", "populations")


def partnership_lookup_path() -> Path:
    """The bundled 2011 LSOA -> partnership -> force lookup."""
    return Path(str(resources.files("pipeline") / "data" / "lsoa11-csp19-pfa19.csv.gz"))


@lru_cache(maxsize=1)
def force_partnerships() -> dict[str, list[str]]:
    """Each police force's partnerships (names as the ONS lookup spells them), sorted."""
    text = gzip.decompress(partnership_lookup_path().read_bytes()).decode("utf-8")
    forces: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        forces.setdefault(row["force"], set()).add(row["area"])
    return {force: sorted(areas) for force, areas in forces.items()}


def slug(name: str) -> str:
    """A folder name for a partnership: 'Bristol, City of' -> 'bristol-city-of'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def area_settings(force_file: Path, raw: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], Path, Path]:
    """Each partnership's params (as a dict), the force's output folder and its index page.

    Raises ``ParamsError`` listing every problem: an unknown force (with the nearest
    names), partnerships not in the force, missing or extra populations, and anything the
    per-area params validation refuses."""
    import difflib

    problems: list[str] = []
    forces = force_partnerships()
    force = str(raw.get("force", "")).strip()
    if force not in forces:
        near = difflib.get_close_matches(force, list(forces), n=3, cutoff=0.5)
        problems.append(
            f"force: {force!r} is not a police force in the ONS lookup"
            + (
                f"; did you mean {' or '.join(repr(n) for n in near)}?"
                if near
                else f"; the forces are: {', '.join(sorted(forces))}"
            )
        )
        raise ParamsError(list_problems(f"Problems in {force_file}:", problems))
    chosen = raw.get("partnerships", "all")
    everyone = forces[force]
    if chosen == "all":
        areas = everyone
    elif isinstance(chosen, list):
        areas = [str(a) for a in chosen]
        for name in areas:
            if name not in everyone:
                problems.append(
                    f"partnerships: {name!r} is not a partnership of {force}; its partnerships are: "
                    f"{'; '.join(everyone)}"
                )
    else:
        problems.append("partnerships: write 'all' or a list of partnership names")
        areas = []
    populations = raw.get("populations") or {}
    if not isinstance(populations, dict):
        problems.append("populations: give one entry per partnership, 'name: {value: ..., year: ..., source: ...}'")
        populations = {}
    missing = [a for a in everyone if a not in populations]
    if missing:
        problems.append(
            f"populations: no population for {'; '.join(missing)}. Every partnership of the force needs one (each is "
            "a comparator of the others). Add, for example:\n      "
            + "\n      ".join(
                f"{name}: {{value: <residents>, year: <year>, source: ONS mid-year population estimate}}"
                for name in missing[:3]
            )
        )
    for name in populations:
        if name not in everyone:
            problems.append(
                f"populations: {name!r} is not a partnership of {force}; its partnerships are: {'; '.join(everyone)}"
            )
    if "output_dir" not in raw:
        problems.append(
            "output_dir: name the folder for the force's documents (each partnership gets a folder inside it)"
        )
    if "area" in raw or "comparators" in raw:
        problems.append("area, comparators: a force file takes its areas from the lookup; remove these settings")
    common = {k: v for k, v in raw.items() if k not in FORCE_KEYS and k not in ("area", "comparators")}
    root = Path(str(common.get("output_dir", "outputs/force"))).resolve()
    lookup = str(partnership_lookup_path())
    # A partnership without a population is listed above; a stand-in lets the shared settings
    # be checked too, so one message names every problem.
    stand_in = {"value": 1, "year": 2020, "source": "stand-in while other problems are listed"}

    def definition(name: str) -> dict[str, Any]:
        return {"name": name, "lsoa_lookup": lookup, "population": populations.get(name, stand_in)}

    settings: dict[str, dict[str, Any]] = {}
    for name in areas:
        one = copy.deepcopy(common)
        one["title"] = str(common.get("title", "{area} Strategic Assessment of Crime and Disorder")).replace(
            "{area}", name
        )
        one["area"] = definition(name)
        # The other partnerships, and the force itself (its population from the bundled ONS estimates).
        one["comparators"] = [definition(other) for other in everyone if other != name] + [
            {"name": force, "force": force}
        ]
        one["output_dir"] = str(root / slug(name))
        try:
            # Validated, with every relative path made absolute: the file is written elsewhere.
            settings[name] = params_as_dict(validate_params(one, source=f"{force_file} for {name}"))
        except ParamsError as exc:
            # The shared settings fail the same way for every partnership: each problem once.
            for line in str(exc).splitlines()[1:]:
                problem = line.strip().removeprefix("- ")
                if problem and problem not in problems:
                    problems.append(problem)
    if problems:
        raise ParamsError(list_problems(f"Problems in {force_file}:", problems))
    return settings, root, root / "index.html"


def write_area_params(settings: dict[str, dict[str, Any]], folder: Path) -> list[Path]:
    """Each partnership's params as a YAML file in ``folder`` (the pipeline's own); returns their paths."""
    from pipeline.storage.folders import mark_as_ours

    mark_as_ours(folder)
    paths = []
    for name, one in settings.items():
        path = folder / f"{slug(name)}.yaml"
        path.write_text(
            f"# Written by `python -m pipeline run-force` for {name}; edit the force file, not this.\n"
            + yaml.safe_dump(one, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def load_force_file(path: str | Path) -> dict[str, Any]:
    """Read a force file's YAML (its settings are checked by ``area_settings``)."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"Force file not found: {path}. Copy params/avon-and-somerset.yaml and edit it.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParamsError(f"{path} is not valid UTF-8 YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path} should hold settings as 'name: value' lines.")
    return raw
