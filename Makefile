# okrapp developer entry points. `make` alone lists them.
# Everything runs from .venv, built from requirements-dev.lock; PostgreSQL and Redis come from wheels in it
# (scripts/services.py), unless DATABASE_URL / REDIS_URL are set.

.DEFAULT_GOAL := help
SHELL := /bin/sh

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Rebuilt only when the lock file changes (or .venv is deleted).
STAMP := $(VENV)/.installed-requirements-dev.lock
PORT ?= 8000
ARGS ?=
BENCH ?= run
CHROMIUM := /usr/bin/chromium

.PHONY: help install run test lint fmt shell bench services clean-data chromium

help: ## list the targets
	@echo "usage: make TARGET   (e.g. make run, make test ARGS=\"-k checkins -x\")"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## create .venv and install requirements-dev.lock (uv if on PATH, else pip)

$(STAMP): requirements-dev.lock
	@set -e; \
	if command -v uv >/dev/null 2>&1; then \
		[ -x $(PY) ] || uv venv --python $(PYTHON) $(VENV); \
		uv pip install --python $(PY) -r requirements-dev.lock; \
	else \
		[ -x $(PY) ] || $(PYTHON) -m venv $(VENV); \
		$(PY) -m pip install --disable-pip-version-check -r requirements-dev.lock; \
	fi
	@touch $@

# `exec` makes the Python supervisor replace the shell: a SIGTERM to make (which make forwards to its child)
# and a Ctrl-C on the terminal both reach it, and it stops everything it started.
run: $(STAMP) ## migrate, seed demo data, serve http://127.0.0.1:8000 (PORT=8001 to move) + celery worker + beat
	exec $(PY) scripts/services.py run --port $(PORT)

test: $(STAMP) chromium ## ruff format --check, ruff check, then pytest on PostgreSQL + Redis; ARGS="-k foo"
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	exec $(PY) scripts/services.py test -- $(ARGS)

lint: $(STAMP) ## ruff format + ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

fmt: $(STAMP) ## ruff format
	$(VENV)/bin/ruff format .

shell: $(STAMP) ## Django shell against the make-run database (reuses a running `make run`)
	exec $(PY) scripts/services.py exec -- $(PY) manage.py shell

bench: $(STAMP) ## run bench/$(BENCH).py (BENCH=run|map|nudges; own database, .data/bench); ARGS are passed on
	@[ -f bench/$(BENCH).py ] || { echo "bench/$(BENCH).py does not exist."; exit 1; }
	exec $(PY) scripts/services.py exec --profile bench -- $(PY) bench/$(BENCH).py $(ARGS)

services: $(STAMP) ## only PostgreSQL + Redis, in the foreground, printing DATABASE_URL / REDIS_URL
	exec $(PY) scripts/services.py services

clean-data: ## delete .data (databases, Redis dump, beat schedule); refuses while make run is up
	@if [ -x $(PY) ]; then exec $(PY) scripts/services.py clean-data; else rm -rf .data; fi

# The browser tests drive Debian's chromium (Playwright with executable_path=/usr/bin/chromium).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian chromium for the browser tests (apt-get)..."; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else \
			echo "The browser tests need Chromium at $(CHROMIUM). Install it with:"; \
			echo "    sudo apt-get install -y chromium"; \
			exit 1; \
		fi; \
	fi
