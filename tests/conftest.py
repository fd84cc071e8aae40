"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), the fixture web, real
Scrapyd nodes, Chromium, private network namespaces, and a helper that runs real `scrapy`
commands in subprocesses.

Tiers come from fixtures: a test that uses `postgres_url` (or a database fixture's "postgres"
case), `scrapyd`, `chromium` or `netns` gets the marker of that name, so `-m "not scrapyd"`
and the like select a tier without a list to keep up to date (tests/README.md). `volume` is
marked by hand on tests whose cost is the amount of data they move."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

# The helpers tests import from here live in tests/support, which bench/ imports too.
from tests.support.commands import ROOT, Result, scrapy, scrapy_env, start_scrapy  # noqa: F401
from tests.support.databases import (  # noqa: F401
    PG_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
    fresh_postgres,
    postgres_problem,
)
from tests.support.fixture_web import FixtureWeb
from tests.support.scrapyd_nodes import start_nodes

# Fixture sites use the reserved .test and .example names; production never sets this.
os.environ["SCRAPERSKY_TEST_DOMAINS"] = "true"

IN_CI = os.environ.get("CI", "").lower() == "true"

# One Hypothesis profile, the same on a laptop and in CI (Hypothesis would load its own `ci`
# profile under CI=true, which replays the same examples on every run): new random examples each
# run, no per-example deadline on a shared 2-core machine, and the seed printed with any failure
# so it can be replayed (`--hypothesis-seed=N`). HYPOTHESIS_PROFILE=… picks another.
settings.register_profile(
    "scrapersky",
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "scrapersky"))

FIXTURE_MARKERS = {
    "postgres_url": "postgres",
    "postgres_server": "postgres",
    "scrapyd": "scrapyd",
    "chromium": "chromium",
    "netns": "netns",
    "web": "crawl",
    "web_factory": "crawl",
    "crawl": "crawl",
}


# The costliest tiers first: pytest-xdist hands out files in collection order, so files of
# these start early instead of running alone at the end of a parallel run.
COST_ORDER = ("volume", "scrapyd", "chromium", "netns", "crawl", "postgres")


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        wanted = {FIXTURE_MARKERS[name] for name in names & FIXTURE_MARKERS.keys()}
        callspec = getattr(item, "callspec", None)
        if callspec is not None and any(
            isinstance(value, str) and value == "postgres" for value in callspec.params.values()
        ):
            wanted.add("postgres")
        for marker in sorted(wanted):
            item.add_marker(marker)
    cost: dict[str, int] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        rank = next((i for i, name in enumerate(COST_ORDER) if name in marks), len(COST_ORDER))
        cost[item.path] = min(cost.get(item.path, rank), rank)
    # A stable sort by file: each file's tests stay together and in their order.
    items.sort(key=lambda item: cost[item.path])


def require_postgres() -> None:
    problem = postgres_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true but {problem}")
        pytest.skip(problem)


def migrated_postgres():
    """A new, migrated PostgreSQL database, dropped afterwards (a generator: yields its URL)."""
    require_postgres()
    with fresh_postgres() as url:
        yield url


CHROMIUM_MISSING = "no Chromium executable (SCRAPERSKY_CHROMIUM, or chromium on PATH; install Debian's `chromium`; `make test` does it as root)"


def require_chromium() -> str:
    """The browser rendered pages use: like PostgreSQL, a required component, so under CI=true a
    missing one fails the test instead of skipping it."""
    from scrapersky.rendering import find_chromium

    found = find_chromium(os.environ.get("SCRAPERSKY_CHROMIUM") or None)
    if not found:
        if IN_CI:
            pytest.fail(f"CI=true but {CHROMIUM_MISSING}")
        pytest.skip(CHROMIUM_MISSING)
    return found


@pytest.fixture
def chromium() -> str:
    """The Chromium executable (the `chromium` tier)."""
    return require_chromium()


@pytest.fixture(scope="session")
def scrapyd():
    """Starts real Scrapyd nodes running the project as shipped (the `scrapyd` tier):
    `scrapyd(base, count, env, **options)`, see tests/support/scrapyd_nodes.start_nodes."""
    return start_nodes


@pytest.fixture
def netns() -> None:
    """Private network namespaces (the `netns` tier): `unshare` and `ip`, as root."""
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    problem = (
        f"needs {' and '.join(missing)} for a private network namespace (util-linux, iproute2)"
        if missing
        else ("needs root for a private network namespace" if os.geteuid() else "")
    )
    if problem:
        pytest.fail(f"CI=true but {problem}") if IN_CI else pytest.skip(problem)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, migrated database of each kind."""
    if request.param == "postgres":
        yield from migrated_postgres()
        return
    from scrapersky.db.schema import upgrade

    url = f"sqlite:///{tmp_path / 'scrapersky.db'}"
    upgrade(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh, migrated SQLite database, for tests where the two databases cannot differ
    (what a site answers, what a crawl may reach): those run once, not once per database."""
    from scrapersky.db.schema import upgrade

    url = f"sqlite:///{tmp_path / 'scrapersky.db'}"
    upgrade(url)
    return url


@pytest.fixture
def postgres_url():
    yield from migrated_postgres()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server, for tests that make their own databases: its admin URL."""
    require_postgres()
    return PG_ADMIN_URL


@pytest.fixture
def web():
    """The fixture web for one test (the `crawl` tier)."""
    with FixtureWeb() as server:
        yield server


@pytest.fixture(scope="module")
def web_factory():
    """Starts fixture webs for module-scoped fixtures (the `crawl` tier, like `web`): each call
    a new one; all are stopped with the module."""
    started: list[FixtureWeb] = []

    def start() -> FixtureWeb:
        started.append(FixtureWeb().start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def crawl(web):
    """crawl(database_url, "-a", "domain=shop1.test", ...) → Result, through the fixture web."""

    def run(database_url: str, *args: str, timeout: float = 120, **env: str) -> Result:
        return scrapy(
            "crawl", "sitemap", *args, env=scrapy_env(database_url, web, **env), timeout=timeout
        )

    return run
