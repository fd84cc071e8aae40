"""Every setting an operator may give ScraperSky, declared once: name, kind, default, lower
bound or allowed values, whether the environment may set it, and the line the documentation
shows for it.

scrapersky.settings takes each default (or the environment's value) from here,
scrapersky.config.check_settings checks every value against its declaration, and
`python -m scrapersky.config.specs --markdown` prints the table of docs/configuration.md (a
unit test fails when the two differ). The module imports nothing of ScraperSky at import time,
so that the settings module can read it first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import import_module
from typing import Literal

# How a value is read and checked (scrapersky.config.checked_value): "int" and "bool" as
# numbers and switches, "text" and "url" as given, the others by their own parser.
Kind = Literal[
    "int",
    "bool",
    "text",
    "url",
    "uuid",
    "schemes",
    "networks",
    "origins",
    "host names",
    "log level",
]
Value = str | int | bool


@dataclass(frozen=True)
class Setting:
    name: str
    kind: Kind
    # None: Scrapy's own setting at the value scrapersky/settings.py (or Scrapy) gives it.
    default: Value | None
    doc: str
    minimum: int | None = None
    allowed: tuple[str, ...] = ()
    # False: a Scrapy tuning value, given with `-s` only (the environment does not set it).
    env: bool = True
    # The default as the documentation words it, where its value alone says little.
    shown: str | None = None


def _int(name: str, default: int | None, minimum: int, doc: str, *, env: bool = True) -> Setting:
    return Setting(name, "int", default, doc, minimum=minimum, env=env)


def _bool(name: str, default: bool | None, doc: str, *, env: bool = True) -> Setting:
    return Setting(name, "bool", default, doc, env=env)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "url",
        "sqlite:///scrapersky.db",
        "SQLAlchemy URL; PostgreSQL: `postgresql+psycopg2://user:pass@host/db`",
    ),
    Setting(
        "SCRAPERSKY_DEFAULT_TENANT",
        "uuid",
        "550e8400-e29b-41d4-a716-446655440000",
        "tenant of rows created without one",
    ),
    Setting(
        "SCRAPERSKY_SCHEMES",
        "schemes",
        "https,http",
        "schemes tried, in order, to reach a domain",
        allowed=("https", "http"),
    ),
    _bool(
        "SCRAPERSKY_ALLOW_PRIVATE_NETWORKS",
        False,
        "off: refuse hosts that are or resolve to loopback, private, link-local, multicast, "
        "reserved or unspecified addresses",
    ),
    Setting(
        "SCRAPERSKY_ALLOWED_NETWORKS",
        "networks",
        "",
        "exceptions to that policy, in strict CIDR notation (`10.1.2.0/24,fd00::/8`; host bits "
        "set are an error), for an intranet you mean to scan; an entry touching loopback, "
        "link-local or `0.0.0.0`, or wider than `/8`, is an error unless forced",
    ),
    _bool(
        "SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS",
        False,
        "force `SCRAPERSKY_ALLOWED_NETWORKS` entries that touch loopback, link-local or the "
        "unspecified address, or are wider than `/8` (the whole list)",
    ),
    Setting(
        "SCRAPERSKY_CHROMIUM",
        "text",
        "",
        "browser executable for rendered pages (no browser: pages are never rendered)",
        shown="found on `PATH`",
    ),
    _bool(
        "SCRAPERSKY_RENDER_UNISOLATED",
        False,
        "render even where Chromium cannot be isolated (no user or network namespaces): without "
        "its own network namespace and without its sandbox; off, such a machine renders nothing "
        "and logs why ([security](security.md))",
    ),
    _int(
        "SCRAPERSKY_STALE_AFTER",
        300,
        1,
        "seconds without a heartbeat after which a running job counts as dead",
    ),
    _int(
        "SCRAPERSKY_MAX_ATTEMPTS",
        3,
        1,
        "a stale batch job is requeued until it has been tried this often",
    ),
    _int("SCRAPERSKY_CONCURRENT_SCANS", 16, 1, "domains one run scans at the same time"),
    _int(
        "SCRAPERSKY_SITEMAP_MAX_DEPTH",
        5,
        0,
        "sitemap index nesting followed (robots.txt → index → index → … → urlset)",
    ),
    _int(
        "SCRAPERSKY_SITEMAPS_IN_FLIGHT",
        2,
        1,
        "sitemaps of one scan downloading at once (they are parsed one at a time; the rest "
        "wait their turn, not in memory)",
    ),
    _int(
        "SCRAPERSKY_SITEMAP_MAX_BYTES",
        100 * 1024 * 1024,
        1,
        "decompressed size cap per sitemap (gzip bombs stop here)",
    ),
    _int(
        "SCRAPERSKY_MAX_SITEMAPS",
        50000,
        1,
        "sitemaps one scan reads at most (a fan-out of indexes stops here, noted in the job's "
        "result; an index lists at most 50,000)",
    ),
    _int("SCRAPERSKY_MAX_HEADER_BYTES", 64 * 1024, 1024, "size cap of a response's header section"),
    _int("SCRAPERSKY_MAX_HEADERS", 256, 8, "header lines per response"),
    _int(
        "DOWNLOAD_MAXSIZE",
        64 * 1024 * 1024,
        0,
        "transfer size cap per response (Scrapy; compressed: the decompressed cap is "
        "`SCRAPERSKY_SITEMAP_MAX_BYTES`)",
    ),
    _bool(
        "DOWNLOAD_VERIFY_CERTIFICATES",
        None,
        "verify TLS certificates against the system's trust store (Scrapy; `SSL_CERT_FILE` adds "
        "a CA); an untrusted one fails that scheme, and the scan tries the next",
        env=False,
    ),
    _int(
        "SCRAPERSKY_PAGE_CHUNK",
        2000,
        1,
        "listed URLs carried per item (they travel through Scrapy in chunks, never one item each)",
    ),
    _int("SCRAPERSKY_STORE_BUFFER", 50000, 1, "page rows buffered before a bulk write"),
    _int(
        "SCRAPERSKY_GATHER_MS",
        250,
        0,
        "milliseconds a finished scan's rows and job end wait for those of the run's other scans "
        "to share one database transaction, while others are under way (0: written at once)",
    ),
    _int(
        "SCRAPERSKY_STORE_RETRIES",
        8,
        0,
        "write retries (with backoff) while the database is unreachable",
    ),
    Setting(
        "SCRAPERSKY_CONTACT_URL",
        "text",
        "https://github.com/scrapersky/scrapersky",
        "contact URL in the User-Agent",
        shown="project page",
    ),
    _int(
        "SCRAPERSKY_WEBHOOK_RETRY_BASE",
        10,
        1,
        "seconds before a failed webhook delivery is retried (× 3 each time)",
    ),
    _int(
        "SCRAPERSKY_WEBHOOK_DEADLINE",
        10,
        1,
        "seconds one webhook call may take in all: DNS, connect, TLS, the request and the "
        "whole answer",
    ),
    _int(
        "SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES",
        64 * 1024,
        1024,
        "bytes of a webhook receiver's answer read at most (status line, headers, body); a "
        "larger answer is a failed attempt",
    ),
    _bool(
        "SCRAPERSKY_WEBHOOK_ALLOW_HTTP",
        False,
        "plain-http webhook endpoints anywhere (tests, development); off, endpoints need "
        "`https`, except in `SCRAPERSKY_ALLOWED_NETWORKS`",
    ),
    _int(
        "SCRAPERSKY_PENDING_AFTER",
        1800,
        1,
        "seconds a job handed to a run may wait unclaimed before it is failed, and a batch "
        "with pending jobs may go untouched by any run before they are failed (`scrapy retry` "
        "requeues them); keep it above the longest wait in Scrapyd's queue",
    ),
    Setting(
        "SCRAPERSKY_CORS_ORIGINS",
        "origins",
        "",
        "origins (`https://app.example.com`, comma-separated, no wildcard) whose pages may "
        "call the HTTP API from a browser",
    ),
    _int(
        "SCRAPERSKY_MAX_REQUEST_BYTES",
        16 * 1024 * 1024,
        1024,
        "largest body of the operator's `addversion.json` a Scrapyd node reads (413 beyond "
        "it); keep it above the project egg's size",
    ),
    _int(
        "SCRAPERSKY_MAX_API_REQUEST_BYTES",
        1024 * 1024,
        1024,
        "largest request body of every other endpoint (413 beyond it, before it is read)",
    ),
    Setting(
        "SCRAPERSKY_ALLOWED_HOSTS",
        "host names",
        "",
        "host names a node answers to besides IP literals, `localhost` and its own host name "
        "(comma-separated, no port); any other `Host` gets 421",
    ),
    _int(
        "SCRAPERSKY_MAX_BATCH_DOMAINS",
        10000,
        1,
        "domains one `batch.json` request may hold (400 beyond)",
    ),
    _int(
        "SCRAPERSKY_MAX_BATCH_SLOTS",
        4,
        1,
        "largest `slots` of `batch.json` and `retry.json` (400 beyond)",
    ),
    _int(
        "SCRAPERSKY_MAX_RETRIES",
        3,
        0,
        "times `retry.json` requeues a batch's failed domains (429 beyond)",
    ),
    Setting(
        "SCRAPYD_URLS",
        "text",
        "",
        "comma-separated Scrapyd nodes used by `scrapy batch` (empty: `http://127.0.0.1:6800`) "
        "and by a node's `scan.json`/`batch.json` (empty: the node runs the scans itself)",
    ),
    Setting(
        "SCRAPYD_USERNAME",
        "text",
        "",
        "the nodes' operator login (HTTP Basic), with `SCRAPYD_PASSWORD`; unset: each node "
        "generates one at its first start",
        shown="unset",
    ),
    Setting(
        "SCRAPYD_PASSWORD",
        "text",
        "",
        "the password of `SCRAPYD_USERNAME`",
        shown="unset",
    ),
    Setting(
        "SCRAPYD_PASSWORD_FILE",
        "text",
        "",
        "where a node keeps the login it generated (mode 0600); `scrapy batch` reads it for "
        "loopback nodes when the two above are unset (default: the file of the node configured "
        "by `./scrapyd.conf`)",
        shown="`scrapyd-password` in the node's `dbs_dir`",
    ),
    _bool(
        "ROBOTSTXT_OBEY",
        True,
        "obey robots.txt (sitemaps the site itself declares are always read)",
    ),
    _bool(
        "AUTOTHROTTLE_ENABLED",
        True,
        "Scrapy's AutoThrottle; per-domain concurrency is capped at 8 "
        "(`CONCURRENT_REQUESTS_PER_DOMAIN`) either way",
    ),
    _int("DOWNLOAD_TIMEOUT", 30, 1, "seconds one download may take (Scrapy)"),
    Setting(
        "LOG_LEVEL",
        "log level",
        "INFO",
        "Scrapy's log level",
        allowed=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    ),
    # Scrapy's own tuning values, set in scrapersky/settings.py: checked here, since a bad one
    # would otherwise fail deep inside a component.
    _int("DOWNLOAD_WARNSIZE", None, 0, "response size that logs a warning (0: none)", env=False),
    _int("CONCURRENT_REQUESTS", None, 1, "requests in flight per run", env=False),
    _int("CONCURRENT_REQUESTS_PER_DOMAIN", None, 1, "requests in flight per domain", env=False),
    _int("CONCURRENT_ITEMS", None, 1, "items in the pipelines at once per response", env=False),
    _int("RETRY_TIMES", None, 0, "retries of a failed download", env=False),
    _int("REDIRECT_MAX_TIMES", None, 0, "redirects followed per request", env=False),
    _int("DNS_TIMEOUT", None, 1, "seconds one name lookup may take", env=False),
)

BY_NAME = {setting.name: setting for setting in SETTINGS}

VALUES: dict[Kind, str] = {
    "int": "integer ≥ {minimum}",
    "bool": "boolean",
    "text": "text",
    "url": "URL",
    "uuid": "UUID",
    "schemes": "{allowed}, comma-separated",
    "networks": "CIDR networks, comma-separated",
    "origins": "origins, comma-separated",
    "host names": "host names, comma-separated",
    "log level": "{allowed}",
}


def markdown() -> str:
    """The settings table of docs/configuration.md, one row per declaration."""
    rows = ["| name | default | values | meaning |", "|---|---|---|---|"]
    for setting in SETTINGS:
        values = VALUES[setting.kind].format(
            minimum=setting.minimum, allowed=" ".join(f"`{a}`" for a in setting.allowed)
        )
        if not setting.env:
            values += "; `-s` only"
        rows.append(f"| `{setting.name}` | {shown_default(setting)} | {values} | {setting.doc} |")
    return "\n".join(rows) + "\n"


def shown_default(setting: Setting) -> str:
    if setting.shown is not None:
        return setting.shown
    value = setting.default
    if value is None:
        # Scrapy's own setting: the value settings.py gives it, imported only when asked.
        value = getattr(import_module("scrapersky.settings"), setting.name)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if value != "" else "empty"


def main(argv: list[str]) -> int:
    if argv != ["--markdown"]:
        print("usage: python -m scrapersky.config.specs --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
