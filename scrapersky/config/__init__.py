"""The project's configuration. This module: checks and conversions of settings and arguments, a
bad value being a one-line ConfigError. specs.py declares every setting once; scan.py reads the
spider's settings into a ScanSettings.

Settings are read one way: as Scrapy settings. scrapersky.settings fills them, reading the
environment (the only module that does); commands and crawls get them from Scrapy, and the
webservices, which have neither, from project_settings().
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings, Settings

from scrapersky.config.specs import BY_NAME, SETTINGS, Kind, Setting
from scrapersky.core.errors import ConfigError as ConfigError  # defined with the other errors
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


def check_settings(settings: BaseSettings) -> None:
    """Raise a one-line ConfigError for the first declared setting (scrapersky.config.specs)
    with an unusable value; switches are stored as booleans. Numbers are checked first, then
    switches (the networks' check reads SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS), then the rest."""
    order: list[Kind] = ["int", "bool"]
    for setting in sorted(SETTINGS, key=lambda s: order.index(s.kind) if s.kind in order else 2):
        value = checked_value(setting, settings)
        if setting.kind == "bool":
            settings.set(
                setting.name, value, priority=settings.getpriority(setting.name) or "project"
            )


def declared_value(settings: BaseSettings, name: str) -> Any:
    """One setting's value, read and checked as its declaration says: for the webservices,
    where no command has run check_settings."""
    return checked_value(BY_NAME[name], settings)


def checked_value(setting: Setting, settings: BaseSettings) -> object:
    """The setting's value read as its declaration says; ConfigError if it is unusable."""
    name, value = setting.name, settings.get(setting.name)
    match setting.kind:
        case "int":
            return to_int(value, name, minimum=setting.minimum)
        case "bool":
            return to_bool(value, name)
        case "uuid":
            try:
                return to_tenant(value)
            except ConfigError:
                raise ConfigError(f"{name} must be a UUID, got {value!r}") from None
        case "networks":
            return to_networks(value, settings.getbool("SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS"))
        case "schemes":
            schemes = to_list(value)
            if not schemes or set(schemes) - set(setting.allowed):
                raise ConfigError(f"{name} must list http and/or https, got {value!r}")
            return schemes
        case "origins":
            return to_origins(value)
        case "host names":
            return to_host_names(value)
        case "log level":
            # Python's names, aliases included (WARN, FATAL, NOTSET), as Scrapy takes them.
            if not isinstance(logging.getLevelName(str(value).upper()), int):
                raise ConfigError(
                    f"{name} must be one of {', '.join(setting.allowed)}, got {value!r}"
                )
            return value
    return value


def to_networks(value: object, allow_dangerous: bool) -> list[str]:
    """SCRAPERSKY_ALLOWED_NETWORKS: comma-separated CIDR networks, each checked by the policy."""
    networks = to_list(value or "")
    for network in networks:
        try:
            parse_network(network, allow_dangerous=allow_dangerous)
        except DangerousNetwork as exc:
            raise ConfigError(
                f"SCRAPERSKY_ALLOWED_NETWORKS: {exc}; set SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS=true "
                "to allow it anyway"
            ) from None
        except ValueError as exc:
            raise ConfigError(f"SCRAPERSKY_ALLOWED_NETWORKS: {exc}") from None
    return networks


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
