"""Errors an analyst can act on.

Every exception raised on purpose by the package is a ``PipelineError``; the command
line prints its message without a traceback (``--debug`` shows one).
"""

from __future__ import annotations

from typing import Any


class PipelineError(Exception):
    """An error whose message tells a non-programmer what is wrong and how to fix it."""


class ParamsError(PipelineError):
    """The params file is missing, unreadable or has values that are not allowed."""


class InputDataError(PipelineError):
    """An input data file is missing, has the wrong layout or holds values we cannot use."""


class StageError(PipelineError):
    """A notebook stage failed while running."""


def list_problems(heading: str, problems: list[str], limit: int = 50) -> str:
    """Format many problems as one message: a heading, then one line per problem.

    At most ``limit`` lines are listed, followed by a count of the rest, so a file with
    thousands of bad cells still gives a readable message.
    """
    lines = [heading] + [f"  - {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more problem(s) of the same kind.")
    return "\n".join(lines)


def repeated(values: Any) -> list[Any]:
    """The values that appear more than once, sorted: for a message naming the repeats."""
    values = list(values)
    return sorted({v for v in values if values.count(v) > 1})


def validation_problems(exc: Any) -> list[str]:
    """A pydantic ``ValidationError`` as one line per problem: where (the setting's dotted
    path), what is wrong, and what was found (unless it is a whole section)."""
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] not in ("missing", "extra_forbidden") and not isinstance(e.get("input"), (dict, list)):
            message += f" (found {e.get('input')!r})"
        problems.append(f"{where}: {message}")
    return problems


def file_system_refusal(exc: OSError) -> str:
    """What to tell an analyst when the file system refused an operation the checks could not
    foresee (a disk filling up, a folder made read-only mid-run): which file, and what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    return (
        f"the file system refused an operation{where}: {exc.strerror or exc}. Check the folder's permissions and free "
        "space, then run again. The last published outputs were left as they were."
    )
