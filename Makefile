# Set-up is two commands: `make demo` and `make test`. Both create .venv on first use
# and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# `make test-lowest` runs the same checks in .venv-lowest, where every direct dependency
# is the lowest release pyproject.toml allows (uv's lowest-direct resolution), so the
# floors are tested. It is rebuilt from scratch when pyproject.toml changes.
LOWEST := .venv-lowest
LOWEST_BIN := $(LOWEST)/bin
LOWEST_STAMP := $(LOWEST)/.installed

# The suite runs on two processes (pytest-xdist), a test file per process at a time: the
# files that share a server-wide lock (PostgreSQL advisory locks) stay on one process.
PYTEST := -m pytest -q -n 2 --dist loadfile

.PHONY: demo test test-lowest lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(LOWEST_STAMP): pyproject.toml
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST_BIN)/python -m pip install --quiet uv
	$(LOWEST_BIN)/uv pip install --quiet --python $(LOWEST_BIN)/python \
		--resolution lowest-direct -e '.[dev]'
	touch $(LOWEST_STAMP)

demo: $(STAMP)
	$(BIN)/horizon demo

test: $(STAMP)
	$(BIN)/ruff check horizon tests bench
	$(BIN)/lint-imports
	$(BIN)/actionlint
	$(BIN)/python $(PYTEST)

test-lowest: $(LOWEST_STAMP)
	$(LOWEST_BIN)/ruff check horizon tests bench
	$(LOWEST_BIN)/lint-imports
	$(LOWEST_BIN)/actionlint
	$(LOWEST_BIN)/python $(PYTEST)

lint: $(STAMP)
	$(BIN)/ruff check horizon tests bench
	$(BIN)/lint-imports
	$(BIN)/actionlint
	$(BIN)/ruff format --check horizon tests bench

bench: $(STAMP)
	$(BIN)/python bench/validate.py

clean:
	rm -rf $(VENV) $(LOWEST) build *.egg-info
