# playparse: `make install`, `make demo`, `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, or bootstrapped into .tools/ from PyPI when the machine has none.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python

.PHONY: help install demo up test lint typecheck format bench clean

help:
	@echo "make install   create .venv from the committed lock file (installs uv if missing)"
	@echo "make demo      install, start the embedded stack, parse a sample play, keep serving"
	@echo "make up        install and start the embedded stack only"
	@echo "make test      install, lint, type-check and run the whole suite (PostgreSQL too, if reachable)"
	@echo "make lint      ruff and mypy"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet uv

# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every
# process would otherwise compile its dependencies from source at each start (3.2 s instead
# of 1.4 s to import the worker, the API and the CLI).
install: $(UV)
	$(UV) sync --frozen --compile-bytecode

demo: install
	.venv/bin/playparse demo

up: install
	.venv/bin/playparse up

test: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	bash scripts/test.sh

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: install
	.venv/bin/python -m bench

clean:
	rm -rf .venv .tools .playparse .pytest_cache .mypy_cache .ruff_cache
