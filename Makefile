# handloop's developer entry points. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
HOST ?= 127.0.0.1
PORT ?= 8080
NODE_BIN := node_modules/.bin
# pytest-xdist workers, each taking whole modules (their servers and browsers start once) in
# the order collected (tests/conftest.py puts the slow ones first). The tests wait on
# servers and browsers often enough that three beat two even on two cores; more do not
# help, as the longest module takes a third of the run. TEST_WORKERS= runs the tests one
# at a time in this process.
TEST_WORKERS ?= -n 3 --dist loadscope --no-loadscope-reorder

.PHONY: run serve test lint fmt bench conformance screenshots clean

# Python writes each module's bytecode once, on first import, whatever the environment
# says: the suite starts many Python processes, and each would compile the same modules
# again (uv, below, leaves compiling to first use instead of compiling every file).
unexport PYTHONDONTWRITEBYTECODE

# The virtualenv is rebuilt only when the project's dependencies change. uv (from PyPI,
# into the virtualenv) installs them in seconds where pip takes most of a minute.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.9,<1'
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,postgres,hf,plots]'
	touch $@

# The JavaScript linter (package.json, pinned by package-lock.json) is installed into
# node_modules/ again only when the lock file changes.
$(NODE_BIN)/.installed: package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make lint needs Node.js and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The OIDC provider tests/test_oidc.py signs workers in with (oidc-provider, pinned by
# tests/oidc/package-lock.json) is installed into tests/oidc/node_modules/ again only when
# its lock file changes.
OIDC_PROVIDER := tests/oidc/node_modules/.installed
$(OIDC_PROVIDER): tests/oidc/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "the OIDC tests need Node.js and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: start the service on SQLite + a local folder (./data)
run: $(BIN)/.installed
	$(BIN)/handloop serve --demo --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

## test: the whole suite (SQLite; PostgreSQL too when HANDLOOP_TEST_POSTGRES_URL is set) with the
## coverage report, which fails below fail_under in pyproject.toml; `make lint` runs beside it
## (mypy alone would keep a core busy for half a minute) and its output follows the suite's
test: $(BIN)/.installed $(NODE_BIN)/.installed $(OIDC_PROVIDER)
	@echo "make test: lint runs beside the suite; its output follows the suite's"
	@lint_log=$$(mktemp); \
	$(MAKE) --no-print-directory lint >"$$lint_log" 2>&1 & lint=$$!; \
	trap 'kill $$lint 2>/dev/null; rm -f "$$lint_log"' EXIT; \
	$(BIN)/python -m pytest $(TEST_WORKERS) --cov --cov-report=term $(PYTEST_ARGS); suite=$$?; \
	wait $$lint; linted=$$?; \
	echo; echo "make lint:"; cat "$$lint_log"; \
	if [ $$linted -ne 0 ]; then echo "make test: lint failed (above)" >&2; fi; \
	[ $$suite -eq 0 ] && [ $$linted -eq 0 ]

## test-fast: the edit-run loop: no lint, no coverage, no browser, no `slow` test
.PHONY: test-fast
test-fast: $(BIN)/.installed $(OIDC_PROVIDER)
	$(BIN)/python -m pytest $(TEST_WORKERS) -m "not browser and not slow" $(PYTEST_ARGS)

## lint: ruff (lint + format check), mypy, the layer contract, and ESLint on the JavaScript
lint: $(BIN)/.installed $(NODE_BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(NODE_BIN)/eslint --max-warnings 0 src/handloop/web/static tests eslint.config.js

fmt: $(BIN)/.installed
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## bench: the performance scripts; each prints its figures and ratios
bench: $(BIN)/.installed
	$(BIN)/python bench/start_loops.py
	$(BIN)/python bench/describe_list.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/task_page.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/console.py

## conformance: every corpus template in headless Chromium; prints the table and totals
conformance: $(BIN)/.installed
	$(BIN)/python -m tests.conformance

## screenshots: each corpus template rendered in a sandboxed frame, as PNGs in ./screenshots/,
## a gallery of the preference elements at desktop and phone width (preference__*.png), and
## every page of the requester console (console__*.png)
screenshots: $(BIN)/.installed
	$(BIN)/python -m tests.screenshots screenshots

clean:
	rm -rf $(VENV) node_modules tests/oidc/node_modules build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
