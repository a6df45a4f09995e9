# Pulse: `make run` to try it, `make test` to check it. Both set everything up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PULSE_PORT ?= 5000
PYTEST_ARGS ?=
# Two workers on the 2-core machines this runs on; `make test PYTEST_WORKERS=0` runs
# in one process (for a debugger, or -x).
PYTEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --durations=15
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export PULSE_PORT

.PHONY: run test test-postgres install lock upgrade lint typecheck test-deps chromium pdf-libs poppler zbar css bench bench-load clean

LOCK := requirements.lock
# pip-compile's options for the lock: every Python dependency, runtime and test, at an
# exact version with its hashes (pip and setuptools included, so --require-hashes holds).
COMPILE := $(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --all-extras \
	--strip-extras --no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

$(PY):
	python3 -m venv $(VENV)

# Install exactly what the lock names (nothing is resolved here), then the project
# itself without its dependencies and without a build environment (setuptools is in
# the lock), so an upstream release can never change what runs.
$(VENV)/.installed: $(LOCK) | $(PY)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

## make lock: re-write requirements.lock from pyproject.toml's ranges, keeping every pin
## that is still in range (run after editing the dependencies in pyproject.toml).
lock: install
	$(COMPILE)

## make upgrade: move every pin to the newest release within pyproject.toml's ranges.
upgrade: install
	$(COMPILE) --upgrade

## make run: migrate the SQLite database, load the demo INT if empty, print links, then
## serve the web app and run the scheduler beside it (Ctrl-C stops both).
# The address it serves is kept in instance/pulse.env, so that `flask demo links` or
# `flask wave codes` run from another shell print links to this server, not port 5000's.
RUN_BASE_URL = $(or $(PULSE_BASE_URL),http://127.0.0.1:$(PULSE_PORT))
run: install pdf-libs
	@$(PY) -c 'import sys; from survey_app.core.config import remember_setting; \
		remember_setting(*sys.argv[1:])' instance PULSE_BASE_URL '$(RUN_BASE_URL)'
	@echo "Links from CLI commands in any shell use $(RUN_BASE_URL) (kept in instance/pulse.env)"
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving Pulse on http://127.0.0.1:$(PULSE_PORT) with the scheduler (Ctrl-C to stop)"
	@trap 'kill 0' EXIT INT TERM; \
		$(FLASK) scheduler run & \
		$(VENV)/bin/gunicorn --bind 127.0.0.1:$(PULSE_PORT) --workers 2 --threads 4 \
			--log-level warning wsgi:app

## make test: install what the suite needs (npm packages, Debian's chromium, the PDF
## libraries, poppler and zbar), lint and type-check, then run the whole suite on SQLite.
test: install test-deps lint typecheck
	$(PYTEST) $(PYTEST_ARGS)

## make test-postgres: every test that reaches the database through SQL, again on
## PostgreSQL (one database per worker beside POSTGRES_TEST_URL's); CI's second pass.
test-postgres: install test-deps
	PULSE_TEST_DATABASE_URL=$(POSTGRES_TEST_URL) $(PYTEST) -m "db and not page_only" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check survey_app analysis questionnaires tests bench wsgi.py
	$(VENV)/bin/bandit -q -r survey_app analysis questionnaires -x survey_app/migrations

typecheck: install
	$(VENV)/bin/mypy

test-deps: node_modules/.installed chromium pdf-libs poppler zbar

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's chromium (Playwright's own browser download is
# not reachable here, and not needed).
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Install the Debian packages named in $(1) that are not installed yet (none: no-op).
define apt_install_missing
	@missing=$$(for deb in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$deb 2>/dev/null | grep -q 'ok installed' || echo $$deb; \
		done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian's" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

# The PDF download: WeasyPrint draws with Pango and HarfBuzz, in DejaVu and in
# Liberation Sans (which stands in for the NHS pages' Arial).
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
	fonts-liberation2
pdf-libs:
	$(call apt_install_missing,$(PDF_DEBS))

# The PDF tests read the PDF back with pdftoppm, pdfinfo and pdftotext.
poppler:
	$(call apt_install_missing,poppler-utils)

# The QR poster test decodes the printed code with zbarimg.
zbar:
	$(call apt_install_missing,zbar-tools)

## make css: rebuild survey_app/static/css/pulse.css from nhsuk-frontend's Sass.
css: node_modules/.installed
	bash scripts/build_css.sh

bench: install test-deps
	$(PY) bench/page_weight.py

## make bench-load: staff answering a 5,000-person wave through Gunicorn with wrk, on
## SQLite and PostgreSQL, against a bare Flask app (needs wrk, PostgreSQL and Redis).
bench-load: install
	$(call apt_install_missing,wrk)
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
