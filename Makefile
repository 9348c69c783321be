# The two set-up commands of the README: `make run` and `make test`. Both work on a fresh machine
# with nothing but the clone and python3 (uv is installed into .tools/ when it is not on PATH).
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help run test sync sync-dev lint format bench

help:
	@echo "make run    serve Vexil on http://127.0.0.1:8000 (SQLite in ./var, or VEXIL_DATA_DIR)"
	@echo "make test   lint, type checks, import contracts, migrations check, tests on SQLite and PostgreSQL"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install -q "uv==$(UV_VERSION)"

sync: $(UV)
	$(UV) sync --frozen --no-dev

sync-dev: $(UV)
	$(UV) sync --frozen

run: sync
	.venv/bin/vexil serve

test: sync-dev
	scripts/test

format: sync-dev
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
