"""Checks and conversions of settings and arguments: a bad value is a one-line ConfigError.

Settings are read one way: as Scrapy settings. scrapersky.settings fills them, reading the
environment (the only module that does); commands and crawls get them from Scrapy, and the
webservices, which have neither, from project_settings().
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings, Settings

from scrapersky.errors import ConfigError as ConfigError  # defined with the other errors
from scrapersky.net.policy import DangerousNetwork, parse_network

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


@cache
def project_settings() -> Settings:
    """The project's Scrapy settings where no command or crawler hands them over: the
    webservices and the metrics endpoint, inside Scrapyd."""
    settings = Settings()
    settings.setmodule("scrapersky.settings", priority="project")
    return settings


INT_SETTINGS = {
    "SCRAPERSKY_STALE_AFTER": 1,
    "SCRAPERSKY_MAX_ATTEMPTS": 1,
    "SCRAPERSKY_CONCURRENT_SCANS": 1,
    "SCRAPERSKY_SITEMAP_MAX_DEPTH": 0,
    "SCRAPERSKY_SITEMAPS_IN_FLIGHT": 1,
    "SCRAPERSKY_SITEMAP_MAX_BYTES": 1,
    "SCRAPERSKY_PAGE_CHUNK": 1,
    "SCRAPERSKY_STORE_BUFFER": 1,
    "SCRAPERSKY_STORE_RETRIES": 0,
    "SCRAPERSKY_PENDING_AFTER": 1,
    "SCRAPERSKY_MAX_REQUEST_BYTES": 1024,
    "SCRAPERSKY_MAX_API_REQUEST_BYTES": 1024,
    "SCRAPERSKY_MAX_BATCH_DOMAINS": 1,
    "SCRAPERSKY_MAX_BATCH_SLOTS": 1,
    "SCRAPERSKY_MAX_RETRIES": 0,
    # Scrapy's own, documented here too: a bad value would otherwise fail deep inside a component.
    "DOWNLOAD_TIMEOUT": 1,
    "DOWNLOAD_MAXSIZE": 0,
    "DOWNLOAD_WARNSIZE": 0,
    "CONCURRENT_REQUESTS": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "CONCURRENT_ITEMS": 1,
    "RETRY_TIMES": 0,
    "REDIRECT_MAX_TIMES": 0,
    "DNS_TIMEOUT": 1,
    "SCRAPERSKY_MAX_SITEMAPS": 1,
    "SCRAPERSKY_WEBHOOK_RETRY_BASE": 1,
    "SCRAPERSKY_WEBHOOK_DEADLINE": 1,
    "SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES": 1024,
    "SCRAPERSKY_MAX_HEADER_BYTES": 1024,
    "SCRAPERSKY_MAX_HEADERS": 8,
}
BOOL_SETTINGS = (
    "SCRAPERSKY_ALLOW_PRIVATE_NETWORKS",
    "SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS",
    "SCRAPERSKY_WEBHOOK_ALLOW_HTTP",
    "SCRAPERSKY_RENDER_UNISOLATED",
    "ROBOTSTXT_OBEY",
    "AUTOTHROTTLE_ENABLED",
)


def check_settings(settings: BaseSettings) -> None:
    """Raise a one-line ConfigError for the first ScraperSky setting with an unusable value."""
    for name, minimum in INT_SETTINGS.items():
        to_int(settings.get(name), name, minimum=minimum)
    for name in BOOL_SETTINGS:
        settings.set(
            name,
            to_bool(settings.get(name), name),
            priority=settings.getpriority(name) or "project",
        )
    try:
        to_tenant(settings.get("SCRAPERSKY_DEFAULT_TENANT"))
    except ConfigError:
        raise ConfigError(
            f"SCRAPERSKY_DEFAULT_TENANT must be a UUID, got {settings.get('SCRAPERSKY_DEFAULT_TENANT')!r}"
        ) from None
    for network in to_list(settings.get("SCRAPERSKY_ALLOWED_NETWORKS") or ""):
        try:
            parse_network(
                network, allow_dangerous=settings.getbool("SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS")
            )
        except DangerousNetwork as exc:
            raise ConfigError(
                f"SCRAPERSKY_ALLOWED_NETWORKS: {exc}; set SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS=true "
                "to allow it anyway"
            ) from None
        except ValueError as exc:
            raise ConfigError(f"SCRAPERSKY_ALLOWED_NETWORKS: {exc}") from None
    schemes = to_list(settings.get("SCRAPERSKY_SCHEMES"))
    if not schemes or set(schemes) - {"http", "https"}:
        raise ConfigError(
            f"SCRAPERSKY_SCHEMES must list http and/or https, got {settings.get('SCRAPERSKY_SCHEMES')!r}"
        )
    to_origins(settings.get("SCRAPERSKY_CORS_ORIGINS"))
    to_host_names(settings.get("SCRAPERSKY_ALLOWED_HOSTS"))
    level = str(settings.get("LOG_LEVEL")).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(
            f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {settings.get('LOG_LEVEL')!r}"
        )


def to_bool(value: object, name: str = "value") -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0/true/false, got {value!r}")


def to_int(value: object, name: str, *, minimum: int | None = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {number}")
    return number


def to_tenant(value: object) -> str:
    """Tenant ids are UUIDs stored in their canonical lowercase text form."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise ConfigError(f"tenant_id must be a UUID, got {value!r}") from None


def to_datetime(value: object, name: str) -> datetime:
    """An ISO 8601 date or date and time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{name} must be an ISO date or date and time (2026-11-30, 2026-11-30T08:00), "
            f"got {value!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_list(value: object) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def to_origins(value: object) -> frozenset[str]:
    """SCRAPERSKY_CORS_ORIGINS: comma-separated scheme://host[:port] origins (no wildcard)."""
    origins = set()
    for origin in to_list(value or ""):
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path
            or parts.query
            or "*" in origin
        ):
            raise ConfigError(
                f"SCRAPERSKY_CORS_ORIGINS must list origins like https://app.example.com, got {origin!r}"
            )
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return frozenset(origins)


def to_host_names(value: object) -> frozenset[str]:
    """SCRAPERSKY_ALLOWED_HOSTS: comma-separated host names (no port, no wildcard), lowercase."""
    names = set()
    for name in to_list(value or ""):
        host = name.lower().rstrip(".")
        if not host or any(not (c.isascii() and (c.isalnum() or c in "-._")) for c in host):
            raise ConfigError(
                f"SCRAPERSKY_ALLOWED_HOSTS must list host names like node1.example.com, got {name!r}"
            )
        names.add(host)
    return frozenset(names)
