"""Calendar months written ``YYYY-MM``, the way police.uk writes them.

Months are kept as strings throughout: they sort correctly, print as analysts expect,
and cannot pick up a day or a time zone by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


def _parts(month: str) -> tuple[int, int]:
    year, mon = month.split("-")
    return int(year), int(mon)


def shift_month(month: str, by: int) -> str:
    """The month ``by`` months after ``month`` (before it, if ``by`` is negative)."""
    year, mon = _parts(month)
    index = year * 12 + (mon - 1) + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included; empty if ``last`` is earlier."""
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = shift_month(month, 1)
    return months


def assessment_window(period_end: str) -> list[str]:
    """The 12 months ending with ``period_end``: the assessment window."""
    return month_range(shift_month(period_end, -11), period_end)


def comparison_window(period_end: str) -> list[str]:
    """The 12 months before the assessment window."""
    return assessment_window(shift_month(period_end, -12))


def financial_year(month: str) -> str:
    """The UK financial year (April to March) a month falls in, written like ``2020/21``."""
    year, mon = _parts(month)
    start = year if mon >= 4 else year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year_months(label: str) -> list[str]:
    """The 12 months of a financial year written like ``2020/21``."""
    start = int(label.split("/")[0])
    return month_range(f"{start}-04", f"{start + 1}-03")


def month_label(month: str) -> str:
    """A month as a report prints it: ``2020-12`` becomes ``Dec 2020``."""
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    year, mon = _parts(month)
    return f"{names[mon - 1]} {year}"


def history_start(period_end: str, trend_years: int) -> str:
    """First month shown in trends: ``trend_years`` whole years before the assessment window."""
    return shift_month(period_end, -12 * (trend_years + 1) + 1)


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """'1 month', '11 months': a count with its noun in the right number."""
    return f"{n:,} {word if n == 1 else (plural_form or word + 's')}"


def describe_months(months: list[str]) -> str:
    """Months as a reader sees them: 'Jan 2020 to Dec 2020 (12 months)', naming any left out.

    ``months`` are the months a figure covers, in order. Gaps between the first and last
    are named, so an 11-month total is never read as a 12-month one.
    """
    if not months:
        return "no months"
    months = sorted(months)
    span = month_range(months[0], months[-1])
    text = month_label(months[0]) if len(months) == 1 else f"{month_label(months[0])} to {month_label(months[-1])}"
    gaps = [month_label(m) for m in span if m not in set(months)]
    count = plural(len(months), "month")
    return f"{text} ({count}" + (f"; {', '.join(gaps)} left out)" if gaps else ")")


@dataclass(frozen=True)
class Windows:
    """The months a run looks at, worked out once from ``period_end`` and ``trend_years``:
    the 12-month assessment window, the 12 months before it, and the first month of the
    trend history (``trend_years`` whole years before the window)."""

    period_end: str
    trend_years: int

    @cached_property
    def assessment(self) -> list[str]:
        return assessment_window(self.period_end)

    @cached_property
    def comparison(self) -> list[str]:
        return comparison_window(self.period_end)

    @cached_property
    def history_start(self) -> str:
        return history_start(self.period_end, self.trend_years)
