"""Read settings from the environment: every ScraperSky setting may also be an environment variable."""

from __future__ import annotations

import os
import uuid

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting or argument has an unusable value; str() is a one-line reason."""


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


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


def to_list(value: object) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]
