# Two commands do all the set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEVSTAMP := $(VENV)/.installed-dev-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test lint typecheck unit build server bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEVSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

## run: start the product on its embedded default (the live demo inbox)
run: $(STAMP)
	$(BIN)/inbox-tui --demo

## server: run the bundled inbox-server on 127.0.0.1:3000
server: $(STAMP)
	$(BIN)/inbox-server serve

## build: install the package into .venv (for `inbox-tui send ...` from scripts)
build: $(STAMP)

## test: lint, type-check and run the whole suite
test: lint typecheck unit

lint: $(DEVSTAMP)
	$(BIN)/ruff check server inbox_tui tests benchmarks scripts
	$(BIN)/ruff format --check server inbox_tui tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

unit: $(DEVSTAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

bench: $(DEVSTAMP)
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
