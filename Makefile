# canvasgen: one entry point for set-up, the local stack, tests and tooling. `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
APT_PACKAGES := postgresql-15 postgresql-15-wal2json postgresql-15-pgtap postgresql-15-plpgsql-check \
	libtap-parser-sourcehandler-pgtap-perl pgbouncer ffmpeg fonts-dejavu-core chromium nodejs npm
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-packages python-packages node-packages dev up down status test bench faults lint \
	requirements deploy openapi clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

install: system-packages python-packages node-packages ## Install everything the project needs (idempotent)

system-packages: ## Debian packages: PostgreSQL 15 + wal2json + pgTAP, ffmpeg, Node.js
	@missing=$$(for p in $(APT_PACKAGES); do \
		if [ "$$p" = nodejs ] || [ "$$p" = npm ]; then command -v $${p/nodejs/node} >/dev/null && continue; fi; \
		dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

python-packages: $(UV) ## Python dependencies, pinned by uv.lock, and the project itself (editable)
	$(UV) sync --frozen --quiet

node-packages: ## npm dependencies, pinned by package-lock.json
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund --loglevel=error; fi

dev: install ## Set up and run the local stack in the foreground (Ctrl-C stops it)
	$(BIN)/canvasgen dev up

up: install ## Start the local stack in the background
	$(BIN)/canvasgen dev up --detach

down: ## Stop the local stack
	@if [ -x $(BIN)/canvasgen ]; then $(BIN)/canvasgen dev down; fi

status: ## Show the local stack's URLs and keys as JSON
	$(BIN)/canvasgen dev status --json

test: install ## Set up and run the whole test suite
	$(BIN)/pytest

bench: install ## Run the benchmarks on their own stack; write docs/benchmarks.md and bench-results.json
	$(BIN)/canvasgen bench

faults: install ## Run the fault-injection suite on its own stack; write docs/reliability.md
	$(BIN)/canvasgen faults

lint: install ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

deploy: python-packages node-packages ## Deploy schema, functions and scheduler job (ARGS="--config deploy/production.env [--dry-run]")
	$(BIN)/canvasgen deploy $(ARGS)

openapi: python-packages ## Write docs/openapi.json from the functions' models
	$(BIN)/canvasgen openapi

requirements: $(UV) ## Export functions/requirements.txt from uv.lock
	$(UV) export --frozen --no-default-groups --no-emit-project --no-hashes --no-header -o functions/requirements.txt --quiet

clean: down ## Stop the stack and delete its local state
	rm -rf .local
