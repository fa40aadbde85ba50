# Two promises to a newcomer: `make run` and `make test`, on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.requirements-run
DEV_STAMP := $(VENV)/.requirements-dev
PYTEST_ARGS ?=

.PHONY: run setup test test-boundaries bench lint format messages clean help backup restore

help:
	@echo "make run    set up (venv, packages, database, demo data) and start on http://127.0.0.1:8000"
	@echo "make test   set up the test tools and run the whole test suite"
	@echo "make bench  run the performance benchmarks (tests/benchmarks)"
	@echo "make test-boundaries  run the suite with the clock at each week/month/year boundary"
	@echo "make lint   ruff check, format check and the import contracts (import-linter)"
	@echo "make backup  back up the database and media files into var/backups/ (docs/backup.md)"
	@echo "make restore BACKUP=path  restore an archive into a fresh database (docs/backup.md)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(RUN_STAMP)

messages: $(RUN_STAMP)
	$(BIN)/python manage.py compile_translations

setup: $(RUN_STAMP) messages
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py seed_demo

run: setup
	bin/run-dev

test: $(DEV_STAMP) messages
	$(BIN)/pytest $(PYTEST_ARGS)

test-boundaries: $(DEV_STAMP) messages
	bin/test-boundaries $(PYTEST_ARGS)

bench: $(DEV_STAMP) messages
	DANGJIAN_BENCH=1 $(BIN)/pytest tests/benchmarks $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

backup:
	bin/backup

restore:
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/dangjian-<UTC time>" >&2; exit 2; }
	bin/restore "$(BACKUP)"

clean:
	rm -rf var/static var/celery var/celerybeat-schedule* var/test-artifacts
