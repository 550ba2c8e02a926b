"""The planner notebooks are tests (DESIGN rule 11): each one runs top to bottom with its small default
parameters, writes what it says it writes, prints no warnings, and is committed without outputs; one is run by
papermill with injected parameters.

Notebooks run in a fresh kernel from this environment (``python3`` = this interpreter's ipykernel) with a
temporary folder as working directory, so their ``out/...`` files land there.
"""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))

# Files each notebook must have written (relative to its working directory) when it ran with its defaults.
EXPECTED_FILES: dict[str, list[str]] = {
    "01_quickstart": ["out/quickstart/allocation/assignments.csv", "out/quickstart/simulation/kpis.csv"],
    "02_territories": ["out/territories/allocation/assignments.csv"],
    "03_quotas": ["out/quotas/quotas.csv"],
    "04_incentives": ["out/incentives/comparison.csv"],
    "05_budget": ["out/budget/budget.csv"],
    "06_whatif": ["out/whatif/sweep/summary.csv", "out/whatif/chosen_allocation.csv"],
    # with ../shared or without it (a simulator-written export stands in): the same files either way
    "07_from_crm": ["out/from_crm/funnel.csv", "out/from_crm/backtest_summary.csv", "out/from_crm/diagnosis.csv",
                    "out/from_crm/pay_plans.csv"],
}

def _stderr(nb: nbformat.NotebookNode) -> list[str]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                out.append(o.get("text", ""))
    return out


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                parts.append(o.get("text", ""))
            elif "data" in o:
                parts.append(str(o["data"].get("text/plain", "")))
    return "\n".join(parts)


def test_there_are_seven_notebooks() -> None:
    assert [p.stem for p in ALL] == sorted(EXPECTED_FILES)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_first_code_cell_is_parameters(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: tag the first code cell 'parameters'"
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "scale up" in source.lower(), f"{path.name}: say in markdown how to scale the parameters up"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_papermill_sees_every_parameter(path: Path) -> None:
    """papermill can parse every assignment of the parameters cell (it silently skips lines it cannot read, e.g.
    a comment holding ``=``, and then calls that parameter unknown)."""
    import papermill

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    assigned = {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    assert assigned, f"{path.name}: the parameters cell assigns nothing"
    assert set(papermill.inspect_notebook(str(path))) == assigned


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_public_api_only(path: Path) -> None:
    """Notebooks use only public names: whatever they import from quotaflow's packages is in that module's
    ``__all__``, they never reach into the engines' submodules, and they touch no ``_private`` attribute."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(line for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()
                     if not line.lstrip().startswith("%"))  # IPython magics are not Python
    ours = ("scenarios", "optimizer", "sim", "quotaflow")
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] not in ours or alias.name in ours, \
                    f"{path.name}: 'import {alias.name}' reaches inside a package; import the package"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ours:
            module = node.module or ""
            assert module.split(".")[0] == "quotaflow" or module in ours, \
                f"{path.name}: 'from {module} import ...' reaches inside an engine; use its package's __all__"
            exported = set(getattr(importlib.import_module(module), "__all__", ()))
            for alias in node.names:
                assert alias.name in exported, f"{path.name}: {module}.{alias.name} is not in {module}.__all__"
        elif isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), f"{path.name}: uses the private attribute .{node.attr}"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    """Runs top to bottom with its defaults, prints no warnings, writes its files."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    warnings = [t for t in _stderr(nb) if "warning" in t.lower()]
    assert not warnings, f"{path.name} printed warnings:\n" + "\n".join(warnings)
    for rel in EXPECTED_FILES[path.stem]:
        assert (tmp_path / rel).is_file(), f"{path.name} did not write {rel}"
    if path.stem == "06_whatif":
        _check_whatif_export(tmp_path / "out/whatif/chosen_allocation.csv")


def _check_whatif_export(file: Path) -> None:
    """The exported allocation opens in Excel: UTF-8 with a BOM, every account once, non-Latin names intact."""
    import pandas as pd

    import scenarios

    assert file.read_bytes().startswith(b"\xef\xbb\xbf"), "the export needs a BOM for Excel"
    frame = pd.read_csv(file, encoding="utf-8-sig")
    tiny = scenarios.load("tiny")
    assert sorted(frame["account_id"]) == sorted(tiny.accounts.index)
    assert set(frame["account_name"]) == set(tiny.accounts["name"])  # 北京贸易有限公司 and Müller & Söhne intact




def test_papermill_injected_seed(tmp_path: Path) -> None:
    """papermill injects parameters after the tagged cell: another seed and output folder are honoured."""
    import papermill

    out_nb = tmp_path / "quickstart_seed7.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "01_quickstart.ipynb"), str(out_nb), cwd=str(tmp_path),
                               parameters={"SEED": 7, "REPLICATIONS": 3, "OUTPUT_DIR": "run7"},
                               kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out_nb, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "SEED = 7" in injected[0].source
    assert "3 replications, seed 7" in _text(nb)
    kpis = (tmp_path / "run7/simulation/kpis.csv").read_text(encoding="utf-8")
    assert kpis.startswith("metric,mean,ci_low,ci_high")
    info = json.loads((tmp_path / "run7/allocation/summary.json").read_text(encoding="utf-8"))
    assert info["status"] in ("optimal", "feasible")
