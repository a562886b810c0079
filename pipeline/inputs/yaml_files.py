"""Reading a YAML input into its pydantic model, with every problem named at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pipeline.errors import InputDataError, list_problems, validation_problems

Model = TypeVar("Model", bound=BaseModel)


def read_yaml_model(path: Path, model: type[Model], what: str) -> Model:
    """``path`` read as UTF-8 YAML and checked as ``model``; ``what`` names it in messages
    ("the delivery plan input"). A file that cannot be read, is not UTF-8, is not YAML or does
    not fit the model raises ``InputDataError`` naming the file, and for the model every
    setting at fault with what was found."""
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return model.model_validate(raw)
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"{path}: byte {exc.object[exc.start : exc.start + 1]!r} at position {exc.start} is not UTF-8 text; save "
            "the file as UTF-8."
        ) from None
    except OSError as exc:
        raise InputDataError(f"Could not read {what} {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise InputDataError(f"{path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise InputDataError(list_problems(f"Problems in {what} {path}:", validation_problems(exc))) from None
