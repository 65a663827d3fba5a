# Two commands do all the set-up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The lock file: every package's exact version, as tested (`make lock` writes it; see docs/development.md).
LOCK := constraints.txt
# The stamps name a checksum of pyproject.toml and the lock, so a change to either reinstalls.
DEPS_SUM := $(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-$(DEPS_SUM)
DEVSTAMP := $(VENV)/.installed-dev-$(DEPS_SUM)
PYTEST_ARGS ?=
# pytest-xdist workers for `make unit` (the machine has 2 cores); `PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: run test lint typecheck unit build server bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/pip install --quiet -c $(LOCK) -e .
	touch $@

$(DEVSTAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'
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
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; exit 0; fi; exit $$rc

bench: $(DEVSTAMP)
	$(BIN)/python -m benchmarks.run_all

## lock: resolve pyproject.toml's ranges afresh in a throwaway venv and write every version to the lock
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip && \
	"$$tmp/venv/bin/pip" install --quiet -e '.[dev,postgres]' && \
	{ echo "# The lock file: every package \`make\` and CI install, at the version tested. Written by \`make lock\`"; \
	  echo "# from pyproject.toml's ranges (Python $$("$$tmp/venv/bin/python" -c 'import platform; print(platform.python_version())')); do not edit by hand."; \
	  "$$tmp/venv/bin/pip" freeze --exclude-editable; } > $(LOCK).new && \
	mv $(LOCK).new $(LOCK) && echo "lock: wrote $(LOCK)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
