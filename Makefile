# Two commands: `make demo` runs the default job, `make test` runs every gate.
# Each target creates or reuses .venv by itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-slow test-oldest lab lint typecheck imports pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks,cluster]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/quotaflow demo --out out/demo --force

test: lint typecheck imports pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

# The long tests that `make test` leaves out (full GAP benchmark sets, the long M/M/c run, the incentive
# directions with many replications): `-m slow` on the command line replaces the default `-m 'not slow'`.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# The default tests with every direct dependency (extras included) at the lowest version pyproject.toml allows,
# so its lower bounds stay true. Built from nothing each time; uv resolves the oldest direct versions, and
# .ci/oldest-constraints.txt keeps transitive dependencies from a later era than those (see the file).
OLDEST ?= .venv-oldest

test-oldest:
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet uv
	$(OLDEST)/bin/uv pip install --python $(OLDEST)/bin/python --quiet --resolution lowest-direct \
		-c .ci/oldest-constraints.txt -e '.[dev,notebooks,cluster]'
	$(OLDEST)/bin/python -m pip freeze --all --exclude-editable
	$(OLDEST)/bin/python -m pytest -q --hypothesis-profile=no-database

# Extra JupyterLab options, e.g. `make lab LAB_FLAGS=--allow-root` inside a container that runs as root.
LAB_FLAGS ?=

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(LAB_FLAGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/scenario_io.py

clean:
	rm -rf $(VENV) $(OLDEST) out .pytest_cache .mypy_cache .ruff_cache
