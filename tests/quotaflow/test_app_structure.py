"""The application layer's structure: one home per concept, small files, no import circles."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import grimp
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import optimizer
import quotaflow.comparison
import quotaflow.payout
from quotaflow.cli import app
from quotaflow.commands import COMMANDS
from quotaflow.commands.errors import EXIT_CODES, exit_code
from quotaflow.exit_codes import ExitCode, Terminated
from quotaflow.metrics import COMPARISON_METRICS, METRICS, gini

PACKAGE = Path(quotaflow.comparison.__file__).parent


def test_gini_has_one_definition_with_a_stated_empty_rule() -> None:
    assert math.isnan(gini([])) and gini([0.0, 0.0]) == 0.0 and gini(np.array([2.0, 2.0])) == 0.0
    assert quotaflow.payout.gini is gini  # the pay statements' dispersion uses the same definition
    source = Path(quotaflow.comparison.__file__).read_text(encoding="utf-8")
    assert "def gini" not in source and "def gini" not in Path(quotaflow.payout.__file__).read_text("utf-8")


def test_every_comparison_metric_is_declared_once_with_its_computation() -> None:
    assert tuple(m.name for m in COMPARISON_METRICS) == METRICS and len(set(METRICS)) == len(METRICS)
    assert all(m.compute is not None and m.description for m in COMPARISON_METRICS)


def test_every_command_of_the_table_is_on_the_app() -> None:
    registered = [c.name for c in app.registered_commands]
    groups = [g.name for g in app.registered_groups]
    assert registered == [name for name, command in COMMANDS if not isinstance(command, typer.Typer)]
    assert groups == [name for name, command in COMMANDS if isinstance(command, typer.Typer)]
    lines = CliRunner().invoke(app, ["--help"]).output.split("Commands:")[1].splitlines()
    listed = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert listed == [name for name, _ in COMMANDS]  # groups too, in workflow order


def test_exit_codes_come_from_one_table() -> None:
    assert exit_code(optimizer.InfeasibleError(["x"])) == ExitCode.INFEASIBLE  # before its base AllocationError
    assert exit_code(optimizer.AllocationError("x", "y")) == ExitCode.INPUT
    assert exit_code(Terminated()) == ExitCode.TERMINATED and exit_code(KeyboardInterrupt()) == ExitCode.INTERRUPTED
    assert exit_code(ValueError("a bug")) is None
    assert set(EXIT_CODES.values()) <= set(ExitCode)
    for path in PACKAGE.rglob("*.py"):  # no other file decides an exit code
        text = path.read_text(encoding="utf-8")
        if path.name not in ("errors.py", "exit_codes.py"):
            assert "ExitCode." not in text, path


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines_and_no_class_over_300(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 500
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            assert node.end_lineno is not None and node.end_lineno - node.lineno < 300, node.name


def test_no_import_circle_between_files() -> None:
    graph = grimp.build_graph("quotaflow")
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported == module or module.startswith(imported + ".") or imported.startswith(module + "."):
                continue  # a package and its own submodules
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            assert chain is None, f"{module} -> {imported} -> ... -> {module}: {chain}"
