"""Scan options, read one way whichever way a scan is asked for: the spider arguments of
`scrapy crawl sitemap` (`-a max_pages=5`), the options of `scrapy batch` (`--max-pages 5`) and
the fields of scan.json and batch.json (`max_pages=5`). One name per option, the same bounds,
defaults and messages; a blank value is the default. A bad value is a one-line BadInput: a
command ends with it (exit 2), a webservice answers it (400).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scrapersky.config import to_tenant
from scrapersky.core.errors import BadInput, ConfigError
from scrapersky.core.messages import cut

RENDER_MODES = ("auto", "always", "never")
DEFAULT_SLOTS = 2
# The largest max_pages or slots taken: what a BIGINT holds, as a job's stored options must.
MAX_NUMBER = 2**63 - 1
SHOWN = 80  # characters of a rejected value quoted in its message


@dataclass(frozen=True)
class ScanOptions:
    """What each job of a scan or batch keeps: listed pages fetched beyond the homepage, and
    whether the homepage is rendered in Chromium (auto | always | never)."""

    max_pages: int = 0
    render: str = "auto"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ScanOptions:
        return cls(
            max_pages=_number(values, "max_pages", 0, minimum=0),
            render=to_render(values.get("render")),
        )

    @classmethod
    def merge(cls, base: ScanOptions, stored: dict[str, Any] | None) -> ScanOptions:
        """Options stored on a job (set when its batch was made) win over the run's own."""
        stored = stored or {}
        return cls(
            max_pages=int(stored.get("max_pages", base.max_pages)),
            render=str(stored.get("render", base.render)),
        )

    def stored(self) -> dict[str, Any]:
        """The options as a job or batch row keeps them."""
        return {"max_pages": self.max_pages, "render": self.render}


@dataclass(frozen=True)
class ScanRequest:
    """A caller's scan options: the tenant (None when not named: the caller's default applies),
    the options each job keeps, and the Scrapyd priority of the runs (higher runs sooner)."""

    tenant_id: str | None
    options: ScanOptions
    priority: float = 0.0


def parse_scan_request(values: Mapping[str, Any]) -> ScanRequest:
    """tenant_id, max_pages, render and priority from a mapping of names to text (or numbers);
    other names are the caller's to check."""
    return ScanRequest(
        tenant_id=to_tenant_id(values.get("tenant_id")),
        options=ScanOptions.from_mapping(values),
        priority=to_priority(values.get("priority")),
    )


def to_tenant_id(value: object) -> str | None:
    """A tenant UUID in its canonical form; None when blank."""
    text = _text(value)
    if not text:
        return None
    try:
        return to_tenant(text)
    except ConfigError:
        raise BadInput(f"tenant_id must be a UUID, got {_shown(text)}") from None


def to_render(value: object) -> str:
    """A browser rendering mode of RENDER_MODES, in any case; blank: auto."""
    text = _text(value)
    if not text:
        return RENDER_MODES[0]
    if text.lower() not in RENDER_MODES:
        raise BadInput(f"render must be one of {', '.join(RENDER_MODES)}, got {_shown(text)}")
    return text.lower()


def to_priority(value: object) -> float:
    """The Scrapyd priority of runs: a finite number; blank: 0."""
    text = _text(value)
    if not text:
        return 0.0
    try:
        priority = float(text)
    except ValueError:
        raise BadInput(f"priority must be a number, got {_shown(text)}") from None
    if not math.isfinite(priority):
        raise BadInput(f"priority must be a finite number, got {_shown(text)}")
    return priority


def to_slots(value: object) -> int:
    """Runs per node of a batch: an integer >= 1; blank: DEFAULT_SLOTS."""
    return _number({"slots": value}, "slots", DEFAULT_SLOTS, minimum=1)


def _number(values: Mapping[str, Any], name: str, default: int, *, minimum: int) -> int:
    text = _text(values.get(name))
    if not text:
        return default
    try:
        number = int(text)
    except ValueError:
        raise BadInput(f"{name} must be an integer, got {_shown(text)}") from None
    if number < minimum:
        raise BadInput(f"{name} must be >= {minimum}, got {number}")
    if number > MAX_NUMBER:
        raise BadInput(f"{name} must be <= {MAX_NUMBER}, got {_shown(text)}")
    return number


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _shown(text: str) -> str:
    return repr(cut(text, SHOWN, "..."))
