# Two commands for a fresh machine (Python 3.11+, make, apt):
#   make crawl DOMAIN=example.com   set up, then scan one domain into ./scrapersky.db
#   make test                       set up, then run the whole test suite
#   make test-fast                  the quick tier, for every edit
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DOMAIN ?= example.com
PYTEST_ARGS ?=

.PHONY: setup crawl test test-fast lint chromium bench clean

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
	$(BIN)/ruff format --check --quiet scrapersky migrations tests bench
	$(BIN)/ruff check --quiet scrapersky migrations tests bench
	$(BIN)/mypy

# The whole suite: every tier (tests/README.md), in parallel (pytest-xdist, a test file per worker
# at a time, so a file's shared nodes and sites stay in one process), under coverage of every
# process the tests start: coverage (requirements-dev.txt) installs a .pth hook into the venv
# that starts measuring any Python process whose environment names a config in
# COVERAGE_PROCESS_START (the pytest workers, `scrapy` commands, Scrapyd nodes and the crawls
# they launch inherit it). The combined report is printed either way and kept in coverage.xml
# and htmlcov/; below .coveragerc's fail_under the run fails, unless PYTEST_ARGS picks a part.
# Exits with pytest's code, else the report's.
TEST_WORKERS ?= 3
FAST_TIERS := not (postgres or scrapyd or chromium or netns or volume or crawl)

test: setup chromium lint
	@rm -f .coverage .coverage.*
	@COVERAGE_PROCESS_START=$(CURDIR)/.coveragerc COVERAGE_FILE=$(CURDIR)/.coverage \
	  $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); code=$$?; \
	  $(BIN)/coverage combine --quiet; \
	  $(BIN)/coverage report $(if $(PYTEST_ARGS),--fail-under=0); report=$$?; \
	  $(BIN)/coverage xml --quiet; $(BIN)/coverage html --quiet; \
	  [ $$code -ne 0 ] && exit $$code; exit $$report

# The quick tier for every edit: unit tests and the SQLite integration tests that need no
# PostgreSQL, Scrapyd, Chromium, network namespace, large data or crawl of the fixture web
# (a scrapy process each); in parallel, no coverage.
test-fast: setup
	@env -u COVERAGE_PROCESS_START $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile \
	  -m "$(FAST_TIERS)" $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis scrapersky.db* .coverage .coverage.* coverage.xml htmlcov
