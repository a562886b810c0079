"""Text from inputs made safe for the places it is written: spreadsheet cells.

Used by every layer that writes a CSV or xlsx file (the MoRiLE scoring sheet, the published
tables), so it sits under them all.
"""

from __future__ import annotations

from typing import Any

# What a spreadsheet reads as the start of a formula (a tab or carriage return first, too).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """Prefix text that a spreadsheet would execute (``=``, ``+``, ``-``, ``@``...) with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
