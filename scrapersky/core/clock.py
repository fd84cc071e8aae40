"""The one clock: every timestamp ScraperSky writes and later compares comes from `now()`.

The application's clock, in UTC, rather than the database's: the bulk path stamps its rows
before COPY, SQLite has no time-zone-aware clock of its own, and the lifecycle's comparisons
(a stale heartbeat, a job pending too long, a delivery's lease) are computed in Python. The
database's `now()` stays only as a column's server default, for rows written by hand or by a
migration; nothing compares those. Limit: several nodes judge each other's heartbeats, so
their clocks must agree (NTP) to within a small part of SCRAPERSKY_STALE_AFTER.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
