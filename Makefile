# Tether: two commands for a newcomer.
#   make demo   install what is needed, build a demo clinic, serve http://127.0.0.1:8000
#   make test   lint, type-check and run the whole test suite
# Needs only Python 3.12 and make; uv is installed into .tools/ if it is not on PATH.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The real interpreter path (not a pyenv shim), so uv keeps one stable .venv.
PYTHON_CMD := $(shell command -v python3.12 2>/dev/null || command -v python3 2>/dev/null)
PYTHON ?= $(shell $(PYTHON_CMD) -c 'import sys; print(sys.executable)' 2>/dev/null)
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
UV_RUN := $(UV) run --frozen --python $(PYTHON)
# The demo always uses its own SQLite file (var/tether.sqlite3), whatever DATABASE_URL says.
DEMO_ENV := DEBUG=1 TETHER_DEMO=1 TETHER_STAFF_MFA_REQUIRED=0 DATABASE_URL=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help demo test lint typecheck pytest serve clean check-python

help:
	@echo "make demo   build the demo clinic and serve it on http://$(HOST):$(PORT)"
	@echo "make test   ruff, mypy and the whole test suite (browser tests need /usr/bin/chromium)"

check-python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), "Tether needs Python 3.12, found " + sys.version.split()[0]' \
		|| { echo "Install Python 3.12 (python3.12 on PATH) and try again."; exit 1; }

.tools/bin/uv: | check-python
	@echo "uv not found: installing it into .tools/ (once)"
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.synced: uv.lock pyproject.toml | $(UV) check-python
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

demo: .venv/.synced
	$(DEMO_ENV) $(UV_RUN) python manage.py migrate --noinput
	$(DEMO_ENV) $(UV_RUN) python manage.py seed_demo --reset  # fresh dates: the stories count back from today
	@echo "Serving the demo clinic on http://$(HOST):$(PORT), with the background worker"
	@echo "and the scheduler (urgent-request escalation), restarted if they die."
	@echo "Ctrl-C stops all three."
	@$(DEMO_ENV) $(UV_RUN) python -m tether.lib.supervise \
		--restart "python manage.py run_worker --no-reload" \
		--restart "python manage.py run_scheduler" \
		-- python manage.py runserver $(HOST):$(PORT)

lint: .venv/.synced
	$(UV_RUN) ruff check .
	$(UV_RUN) ruff format --check .

typecheck: .venv/.synced
	DEBUG=1 $(UV_RUN) mypy tether

pytest: .venv/.synced
	$(UV_RUN) pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf .venv .tools var
