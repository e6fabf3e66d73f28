# Nova: `make run` starts it on this machine, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what Nova needs at run time; the checks add the dev tools.
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
# Two pytest workers for two cores; each test module stays on one worker (loadscope), so a
# module's shared `nova serve` processes start once. `make pytest PYTEST_WORKERS=0`: one process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder

.PHONY: run test test-fast setup system-deps lint typecheck pytest clean

$(RUNTIME_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(DEV_STAMP)

setup: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	$(BIN)/nova serve

system-deps:
	./scripts/install-system-deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup system-deps
	$(PYTEST)

test: lint typecheck pytest

# The inner loop: the suite without `nova` processes or the browser (`live`, `browser` marks).
# Add checks with `make lint typecheck test-fast`.
test-fast: setup system-deps
	NOVA_TESTS_NO_PROCESSES=1 $(PYTEST) -m "not live and not browser"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
