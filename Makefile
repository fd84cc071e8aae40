# Two commands for a fresh machine (Python 3.11+, make, apt):
#   make crawl DOMAIN=example.com   set up, then scan one domain into ./scrapersky.db
#   make test                       set up, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DOMAIN ?= example.com
PYTEST_ARGS ?=

.PHONY: setup crawl test lint chromium bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed

# Debian's Chromium for rendered pages (never `playwright install`), and `ip` for the tests'
# private network namespaces; skipped without root or apt.
chromium:
	@{ command -v chromium && command -v ip; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium iproute2 >/dev/null) \
	      || echo "chromium could not be installed: rendering tests will skip (fail under CI=true)"; \
	  else echo "chromium or ip not installed and no root/apt: those tests will skip (fail under CI=true)"; fi; }

# The job table is shown whatever the scan's outcome; the exit code is the crawl's.
crawl: setup
	@$(BIN)/scrapy crawl sitemap -a domain=$(DOMAIN); code=$$?; $(BIN)/scrapy status --limit 5; exit $$code

# The formatter, the linter and the type checker (its paths and strictness are in
# pyproject.toml) run before the tests, so CI enforces them.
lint: setup
	$(BIN)/ruff format --check --quiet scrapersky tests bench
	$(BIN)/ruff check --quiet scrapersky tests bench
	$(BIN)/mypy

# Coverage of every process the tests start: coverage (requirements-dev.txt) installs a .pth
# hook into the venv that starts measuring any Python process whose environment names a config
# in COVERAGE_PROCESS_START (the `scrapy` commands, Scrapyd nodes and their crawls inherit it).
# Exits with pytest's code; the combined report is printed either way and kept in
# coverage.xml and htmlcov/.
test: setup chromium lint
	@rm -f .coverage .coverage.*
	@COVERAGE_PROCESS_START=$(CURDIR)/.coveragerc COVERAGE_FILE=$(CURDIR)/.coverage \
	  $(BIN)/python -m pytest $(PYTEST_ARGS); code=$$?; \
	  $(BIN)/coverage combine --quiet; \
	  $(BIN)/coverage report; $(BIN)/coverage xml --quiet; $(BIN)/coverage html --quiet; exit $$code

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis scrapersky.db* .coverage .coverage.* coverage.xml htmlcov
