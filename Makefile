# The two commands of the README quick start, and what they need.
#   make demo   run the bundled demo investigation end to end
#   make test   lint, type-check and run the whole test suite (what CI runs)
# Both build .venv from requirements.lock when it is missing, and again only when the lock
# file changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= out/demo
PYTEST_ARGS ?=

.PHONY: demo test lint lock clean

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "breachscope needs Python 3.11 (set PYTHON=...)")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/breachscope demo -o $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerate the lock file after changing dependencies in pyproject.toml (needs uv).
lock:
	uv pip compile pyproject.toml --extra spark --extra dev --generate-hashes \
		--python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) out
