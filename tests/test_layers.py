"""The package reads like the process: imports only run downward through its layers.

storage and the shared base (errors, months, safe text, params) at the bottom, then
inputs -> analysis -> documents -> orchestration -> the command line. Every import counts,
those written inside functions too (they hide a loop from Python, not from a reader).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
# Lower numbers are lower layers; a module may import its own layer or any lower one.
LAYERS = {
    "pipeline": 0,
    "pipeline.errors": 0,
    "pipeline.months": 0,
    "pipeline.safe_text": 0,
    "pipeline.storage": 1,
    "pipeline.reference": 1,
    "pipeline.params": 2,
    "pipeline.inputs": 3,
    "pipeline.analysis": 4,
    "pipeline.documents": 5,
    "pipeline.orchestration": 6,
    "pipeline.cli": 7,
    "pipeline.__main__": 8,
}
NAMES = {v: k for k, v in LAYERS.items()}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of a module: that of the longest prefix named in ``LAYERS``."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYERS:
            return LAYERS[".".join(parts[:end])]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def imports(path: Path) -> list[tuple[str, str, int]]:
    """(imported pipeline module, name imported or '', line) for every import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pipeline":
            for alias in node.names:
                # ``from pipeline.analysis import morile`` imports the module pipeline.analysis.morile.
                submodule = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / Path(*submodule.split("."))).with_suffix(".py").is_file()
                found.append((submodule if is_module else node.module, "" if is_module else alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "pipeline"]
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        edges[module_name(path)] = {target for target, _, _ in imports(path) if target != module_name(path)}
    return edges


def loops(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, ()):
            if target not in edges:
                continue  # a package's __init__ named as "pipeline.x" is in edges; anything else is not ours
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_runs_up_the_layers():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        for target, name, line in imports(path):
            if layer_of(target) > layer_of(source):
                upward.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line} ({NAMES[layer_of(source)]}) imports {target} "
                    f"({NAMES[layer_of(target)]}){' ' + name if name else ''}"
                )
    assert upward == []


def test_no_import_loop():
    assert loops(graph()) == []


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name} from {target}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for target, name, line in imports(path)
        if name.startswith("_")
    ]
    assert private == []


def test_a_long_module_says_why_in_its_docstring():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and "Why one module" not in docstring:
            long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert long == []


def test_the_checks_find_what_they_look_for():
    # A loop of three and a module alone; an upward import is named with both layers.
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("pipeline.analysis.morile") == 4 and layer_of("pipeline.storage.folders") == 1
    with pytest.raises(AssertionError, match="is in no layer"):
        layer_of("elsewhere.module")
