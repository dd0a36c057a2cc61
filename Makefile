# Set-up and everyday commands. `make run` and `make test` work on a fresh
# machine with nothing but Python 3.11: they create .venv and install first,
# exactly the versions in uv.lock (uv itself is bootstrapped from PyPI with pip).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
UV_VERSION := 0.13.8
# uv reads the system's certificate store (as pip does), for proxies that re-sign TLS.
export UV_SYSTEM_CERTS := 1

.PHONY: install lock lock-check run test test-sqlite lint fmt typecheck openapi sdk label-vectors migrate seed clean

install: $(INSTALLED)

# Libraries are compiled to bytecode once, here, as in the Docker image: where PYTHONDONTWRITEBYTECODE
# is set, every process (each test process, each `techex` a test starts) would compile them again.
$(INSTALLED): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv sync --locked --compile-bytecode --python $(BIN)/python
	touch $(INSTALLED)

# After changing dependencies in pyproject.toml: resolve again and commit uv.lock.
lock: $(INSTALLED)
	$(BIN)/uv lock

# Fails when uv.lock no longer matches pyproject.toml (CI runs it first).
lock-check: $(INSTALLED)
	$(BIN)/uv lock --check

run: $(INSTALLED)
	$(BIN)/techex migrate
	$(BIN)/techex seed --demo --if-empty
	$(BIN)/techex serve --host $(HOST) --port $(PORT)

# The whole suite: SQLite always; PostgreSQL when TEST_DATABASE_URL is set or
# a server answers on 127.0.0.1:5432 (skipped with the reason otherwise).
# One test process per core (up to 4), tests handed out one at a time, `slow` ones first; a file whose
# tests share a module fixture goes whole to one process (tests/conftest.py marks it an xdist_group).
PYTEST_ARGS ?= --numprocesses auto --maxprocesses 4 --dist loadgroup

test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check app tests scripts migrations
	$(BIN)/ruff format --check app tests scripts migrations
	$(BIN)/mypy

fmt: $(INSTALLED)
	$(BIN)/ruff format app tests scripts migrations
	$(BIN)/ruff check --fix --exit-zero app tests scripts migrations

openapi: $(INSTALLED)
	$(BIN)/techex export-openapi --output openapi.yaml

# The TypeScript SDK's types, generated from openapi.yaml (needs Node.js and npm).
sdk:
	cd clients/typescript && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run generate

# The taxonomy's labels embedded for matching by meaning (after the labels change; a test says when).
label-vectors: $(INSTALLED)
	$(BIN)/python scripts/embed_labels.py

migrate: $(INSTALLED)
	$(BIN)/techex migrate

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
