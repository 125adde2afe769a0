"""The house's shape, checked: four rooms, imports that run one way, no circle, small modules.

Layers, lowest first: the ground floor (errors, registry, config, runtime, devices), ``data``,
``trial``, ``sweep``, ``analysis``; the command-line entry points (``lossbench/<name>.py`` and every
``__main__``) stand above them all. A module imports its own layer or lower ones, never higher.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lossbench"
GROUND = {
    "lossbench",
    "lossbench.errors",
    "lossbench.registry",
    "lossbench.config",
    "lossbench.runtime",
    "lossbench.devices",
}
ROOMS = ["data", "trial", "sweep", "analysis"]


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: dict) -> set[str]:
    """Every lossbench module ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("lossbench") and m != name}


def layer(name: str) -> int:
    """0 ground floor, 1-4 the rooms, 5 an entry point."""
    if name in GROUND:
        return 0
    parts = name.split(".")
    if parts[-1] == "__main__" or len(parts) == 2 and parts[1] not in ROOMS:
        return 5
    return 1 + ROOMS.index(parts[1])


GRAPH = {name: imports(name, path, modules()) for name, path in modules().items()}


def test_every_module_lives_in_a_room_or_is_an_entry_point():
    for name in GRAPH:
        assert layer(name) in range(6)
    flat = [n for n in GRAPH if layer(n) == 5 and not n.endswith("__main__")]
    assert len(flat) <= 10, f"too many entry points at the top: {flat}"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_run_one_way(name):
    up = sorted(m for m in GRAPH[name] if layer(m) > layer(name))
    assert not up, f"{name} (layer {layer(name)}) imports upwards: {up}"


def test_no_circle():
    """A depth-first walk; a circle fails with its path (a package importing its own modules is no circle)."""
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in GRAPH.get(node, ()):
            if nxt.startswith(node + ".") or node.startswith(nxt + ".") and nxt not in GROUND:
                continue
            if state.get(nxt) == 1:
                raise AssertionError(" -> ".join([*path, node, nxt]))
            if not state.get(nxt):
                visit(nxt, [*path, node])
        state[node] = 2

    for name in GRAPH:
        if not state.get(name):
            visit(name, [])


def test_rooms_are_packages_with_a_docstring():
    for room in ROOMS:
        init = PACKAGE / room / "__init__.py"
        assert init.exists() and ast.get_docstring(ast.parse(init.read_text())), f"lossbench/{room}/ needs a docstring"


def lengths(path: Path) -> tuple[int, list[tuple[str, int]]]:
    """A module's line count, and every function's (name, lines), methods and nested ones included."""
    text = path.read_text()
    funcs = [
        (node.name, node.end_lineno - node.lineno + 1 + len(node.decorator_list))
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return len(text.splitlines()), funcs


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_modules_and_functions_are_small(name):
    """No module over 300 lines, no function over 60: a piece you can read in one sitting."""
    lines, funcs = lengths(modules()[name])
    assert lines <= 300, f"{name}: {lines} lines - split it by topic"
    long = [f"{f} ({n} lines)" for f, n in funcs if n > 60]
    assert not long, f"{name}: functions over 60 lines: {', '.join(long)}"


TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if layer(n) < 5 and not modules()[n].name == "__init__.py"))
def test_every_module_has_a_test_file_named_after_it(name):
    base = name.rsplit(".", 1)[-1]
    assert (TESTS / f"test_{base}.py").exists(), f"{name}: no tests/test_{base}.py"


def test_module_names_are_unique_so_their_test_files_are():
    bases = [n.rsplit(".", 1)[-1] for n in GRAPH if layer(n) < 5 and not modules()[n].name == "__init__.py"]
    assert len(bases) == len(set(bases)), sorted(b for b in bases if bases.count(b) > 1)


ROOT = PACKAGE.parent
RECIPE = {"lossbench.trial.losses.squared", "lossbench.trial.losses.SquaredError", "lossbench/trial/losses/squared.py"}


def top_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def stale(text: str) -> list[str]:
    """The file paths and dotted names in ``text`` that name no module, or nothing in the module they name."""
    import re

    found = []
    for match in re.finditer(r"(?<![\w/.-])((?:lossbench|tools|benchmarks|tests|examples)/[\w/]+\.py)", text):
        if not (ROOT / match.group(1)).exists():
            found.append(match.group(1))
    for match in re.finditer(r"(?<![\w/.])((?:lossbench|tools)(?:\.[a-z_]\w*)+)", text):
        parts = match.group(1).split(".")
        for i in range(len(parts), 0, -1):
            path = ROOT.joinpath(*parts[:i])
            path = path / "__init__.py" if (path / "__init__.py").exists() else path.with_suffix(".py")
            if path.exists():
                break
        rest = parts[i:]
        if not path.exists() or rest and rest[0] not in top_names(path) and not (path.parent / rest[0]).exists():
            found.append(match.group(1))
    return sorted(set(found) - RECIPE)


def test_the_docs_name_only_modules_that_exist():
    """README.md and docs/ move with the code: every lossbench/... path and lossbench.x.y name resolves."""
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert not stale(doc.read_text()), f"{doc.name} names what no longer exists: {stale(doc.read_text())}"


def test_the_stale_check_can_fail():
    assert stale("see lossbench/sweep.py and lossbench.queue.load") == ["lossbench.queue.load", "lossbench/sweep.py"]
    assert stale("`lossbench.sweep.work.load` in lossbench/sweep/work.py") == []
