"""The optimizer's layout holds: no import circle between its files, no module over 500 lines or class over 300,
one public face (code outside the package imports only the names ``optimizer/__init__`` exports), and one
outcome vocabulary whose words are the strings the output files carry."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import optimizer
from optimizer import Status

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "optimizer"
MODULES = sorted(PACKAGE.glob("*.py"))


def _imported(tree: ast.AST) -> set[str]:
    """Every module named by an import statement anywhere in ``tree`` (function-local imports included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _internal_graph() -> dict[str, set[str]]:
    modules = {f"optimizer.{p.stem}" for p in MODULES if p.stem != "__init__"}
    graph = {}
    for path in MODULES:
        if path.stem == "__init__":
            continue
        imports = _imported(ast.parse(path.read_text(encoding="utf-8")))
        graph[f"optimizer.{path.stem}"] = {m for m in imports if m in modules}
    return graph


def test_no_import_circle_between_files() -> None:
    graph = _internal_graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = [*path[path.index(node):], node]
            pytest.fail("import circle: " + " -> ".join(cycle))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])


def test_the_circle_finder_finds_a_circle() -> None:
    a = ast.parse("from optimizer.b import x\n")
    b = ast.parse("def f():\n    import optimizer.a\n")
    assert "optimizer.b" in _imported(a) and "optimizer.a" in _imported(b)


def test_modules_and_classes_stay_small() -> None:
    too_long = []
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 500:
            too_long.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > 300:
                    too_long.append(f"{path.name}:{node.name}: {size} lines")
    assert not too_long, too_long


def _outside_sources() -> list[tuple[Path, str]]:
    sources = [(p, p.read_text(encoding="utf-8")) for folder in ("quotaflow", "benchmarks", "calibration")
               for p in sorted((ROOT / folder).rglob("*.py"))]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        sources.append((nb, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")))
    return sources


def test_callers_outside_the_package_use_only_its_public_face() -> None:
    private = []
    for path, text in _outside_sources():
        try:
            tree = ast.parse(text)
        except SyntaxError:  # notebook magics: checked by the notebook tests, not here
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("optimizer."):
                private.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                private += [f"{path.relative_to(ROOT)}: import {a.name}" for a in node.names
                            if a.name.startswith("optimizer.")]
            elif isinstance(node, ast.ImportFrom) and node.module == "optimizer":
                private += [f"{path.relative_to(ROOT)}: optimizer.{a.name} is not exported" for a in node.names
                            if a.name not in optimizer.__all__]
    assert not private, private


def test_public_names_exist_and_are_listed_once() -> None:
    assert len(set(optimizer.__all__)) == len(optimizer.__all__)
    assert all(hasattr(optimizer, name) for name in optimizer.__all__)


def test_status_words_are_the_strings_files_carry() -> None:
    assert [str(s) for s in Status] == ["optimal", "feasible", "solved", "infeasible", "no_solution", "error"]
    assert json.dumps({"status": Status.NO_SOLUTION}) == '{"status": "no_solution"}'
    assert f"{Status.OPTIMAL}" == "optimal"
