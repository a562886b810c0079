"""Home Office offence codes: classification, severity weights and threat definitions.

The lookup ``pipeline/data/offence_codes.csv`` (built by ``scripts/build_offence_codes.py``,
sources in ``pipeline/data/README.md``) gives each Home Office offence code its ONS offence
group and subgroup, its police.uk crime type and its ONS Crime Severity Score weight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputDataError, list_problems
from pipeline.params import ThreatDefinition

SEVERITY_METHOD = (
    "Harm is measured with the ONS Crime Severity Score: each crime is weighted by the ONS severity weight of its "
    "Home Office offence code (the average days of custody its sentences carry, with non-custodial sentences at their "
    "custody equivalent), the weights are summed and divided by the resident population (ONS, 'Developing a Crime "
    "Severity Score for England and Wales', 2016). It is given on ONS's scale, per resident a year (England 9.88 in "
    "2015/16, 13.34 in 2017/18), so it can be set beside ONS's published scores."
)

_CLASS_SUBCLASS = re.compile(r"^0*(\d{1,3})\s*[/.\-]\s*0*(\d{1,2})$")
_CLASS_ONLY = re.compile(r"^0*(\d{1,3})$")


@lru_cache(maxsize=1)
def offence_codes() -> pd.DataFrame:
    """The shipped lookup, indexed by ``offence_code``: offence, ons_group, ons_subgroup,
    police_uk_category, severity_weight (days), home_office_class."""
    text = resources.files("pipeline").joinpath("data/offence_codes.csv").read_text(encoding="utf-8")
    table = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    table["severity_weight"] = table["severity_weight"].astype(float)
    return table.set_index("offence_code")


@lru_cache(maxsize=1)
def _class_index() -> dict[str, str]:
    table = offence_codes()
    return {cls: code for code, cls in table["home_office_class"].items() if cls}


def normalise_code(raw: str) -> str | None:
    """The Home Office offence code a written code stands for, or None if it is unknown.

    Accepts the code as ONS writes it in any case and with stray spaces (``8n`` -> ``8N``),
    leading zeros (``008N``, ``092D``), and class/subclass as force systems hold it:
    ``056/01`` is looked up as class 56 subclass 1 (``56A``); where the lookup has no
    class/subclass for it, ``037/02`` is tried as ``37.2`` and ``046/00`` as class ``46``.
    """
    codes = offence_codes().index
    text = str(raw).strip().upper().replace(" ", "")
    if not text:
        return None
    if text in codes:
        return text
    stripped = text.lstrip("0") or "0"
    if stripped in codes:
        return stripped
    match = _CLASS_SUBCLASS.match(text)
    if match:
        cls, sub = int(match.group(1)), int(match.group(2))
        for candidate in (f"{cls}/{sub}", f"{cls}/{sub:02d}"):
            if candidate in _class_index():
                return _class_index()[candidate]
        if f"{cls}.{sub}" in codes:
            return f"{cls}.{sub}"
        if str(cls) in codes:
            return str(cls)
        return None
    match = _CLASS_ONLY.match(text)
    if match and match.group(1) in _class_index():
        return _class_index()[match.group(1)]
    return None


def read_code_map(path: Path) -> dict[str, str]:
    """A force's own codes -> Home Office offence codes, from a CSV of ``extract_code, offence_code``."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{path}: cannot read the offence code map ({exc}).") from None
    missing = [c for c in ("extract_code", "offence_code") if c not in table.columns]
    if missing:
        raise InputDataError(
            f"{path}: the offence code map needs columns extract_code and offence_code; found "
            f"{', '.join(table.columns)}."
        )
    problems = []
    mapping = {}
    for row, (extract_code, code) in enumerate(zip(table["extract_code"], table["offence_code"]), start=2):
        known = normalise_code(code)
        if known is None:
            problems.append(
                f"row {row}, column offence_code: {code!r} is not a Home Office offence code in "
                "pipeline/data/offence_codes.csv"
            )
        else:
            mapping[extract_code.strip().upper()] = known
    if problems:
        raise InputDataError(list_problems(f"{path}: the offence code map has problems:", problems))
    return mapping


def resolve_codes(written: list[str], code_map: dict[str, str] | None = None) -> list[str | None]:
    """The Home Office offence code each written code stands for (None where unknown).

    Called on an extract's distinct codes only, so a million rows cost as much as their
    few hundred distinct codes. ``code_map`` (a force's own codes) is tried first.
    """
    code_map = code_map or {}
    return [code_map.get(str(value).strip().upper()) or normalise_code(value) for value in written]


def threat_mask(crimes: pd.DataFrame, definition: ThreatDefinition) -> np.ndarray:
    """Which crimes a definition selects (a boolean array in the frame's row order).

    ``crimes`` has ``offence_code``, ``ons_group``, ``ons_subgroup`` and a boolean
    ``flag_<name>`` column for each flag the extract holds. A flag the extract does not
    hold selects nothing (``evidence_status`` says so in words).
    """
    n = len(crimes)
    offences = np.zeros(n, dtype=bool)
    if definition.codes:
        offences |= crimes["offence_code"].isin(definition.codes).to_numpy()
    if definition.groups:
        offences |= crimes["ons_group"].isin(definition.groups).to_numpy()
    if definition.subgroups:
        offences |= crimes["ons_subgroup"].isin(definition.subgroups).to_numpy()
    if definition.exclude_codes:
        offences &= ~crimes["offence_code"].isin(definition.exclude_codes).to_numpy()
    selected = offences
    for flag in definition.any_flag:
        column = f"flag_{flag}"
        if column in crimes:
            selected = selected | crimes[column].fillna(False).to_numpy(dtype=bool)
    if definition.all_flags:
        if not (definition.selects_offences or definition.any_flag):
            selected = np.ones(n, dtype=bool)
        for flag in definition.all_flags:
            column = f"flag_{flag}"
            held = crimes[column].fillna(False).to_numpy(dtype=bool) if column in crimes else np.zeros(n, dtype=bool)
            selected = selected & held
    return selected


@dataclass(frozen=True)
class EvidenceStatus:
    """Whether an extract can evidence a threat, and what is missing if not fully."""

    evidenced: bool
    partial: bool
    note: str


def evidence_status(definition: ThreatDefinition | None, flags_held: set[str]) -> EvidenceStatus:
    """Whether an extract holding ``flags_held`` can evidence a threat defined by ``definition``.

    Not at all: no definition, or one that rests only on flags the extract lacks. Partly:
    offences are selected but some ``any_flag`` flags are missing (those crimes are counted
    from their offence codes only).
    """
    if definition is None:
        return EvidenceStatus(False, False, "no definition for the force extract is given for this threat")
    missing = [f for f in definition.flags if f not in flags_held]
    missing_text = ", ".join(f.replace("_", " ") for f in missing)
    if any(f in missing for f in definition.all_flags):
        return EvidenceStatus(False, False, f"the extract has no {missing_text} flag, which this threat needs")
    if not definition.selects_offences and all(f in missing for f in definition.any_flag):
        return EvidenceStatus(False, False, f"no offence code isolates it and the extract has no {missing_text} flag")
    if missing:
        return EvidenceStatus(True, True, f"counted without the {missing_text} flag, which the extract does not have")
    return EvidenceStatus(True, False, "")
