"""Read-only helpers for tests: rows as plain dicts, JSON columns decoded on both databases."""

from __future__ import annotations

import json

from sqlalchemy import JSON, create_engine, text

from scrapersky.db.models import Base

# SQLite hands JSON columns back as text to a raw query; PostgreSQL decodes JSONB itself.
JSON_COLUMNS = {c.name for t in Base.metadata.tables.values() for c in t.columns if isinstance(c.type, JSON)}


def _decode(key: str, value):
    if key in JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    return value


def rows(url: str, sql: str, **params) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [{k: _decode(k, v) for k, v in r._mapping.items()} for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params):
    found = rows(url, sql, **params)
    return next(iter(found[0].values())) if found else None
