"""The one place engines and sessions are made."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DisconnectionError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from scrapersky.core.errors import ConfigError
from scrapersky.core.redact import redact


def check_url(url: str) -> str:
    """Return the URL if SQLAlchemy can use it, else raise a one-line ConfigError."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(
            redact(f"DATABASE_URL is not a usable database URL: {url!r} ({exc})")
        ) from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"DATABASE_URL must be sqlite or postgresql, got {parsed.get_backend_name()!r}"
        )
    return url


@functools.cache
def get_engine(url: str) -> Engine:
    check_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5)
    event.listen(engine, "connect", _checked_in)
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


# A pooled connection idle for this long is pinged before it is used again: the server may have
# closed it meanwhile (a restart, an idle timeout). SQLAlchemy's pool_pre_ping pings at every
# checkout, a round trip (and, on PostgreSQL, a transaction of its own) per transaction: that
# was half of a batch's transactions. A connection that dies within this window fails its
# statement with a disconnect, which the callers' retries treat as transient (db/errors.py);
# SQLAlchemy then replaces every pooled connection opened before it, so a restarted server
# costs one failed statement per process, not one per pooled connection.
PING_AFTER_IDLE = 10.0


def _checked_in(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # psycopg2 opened a transaction for the ping: end it
    except Exception as exc:
        # The pool discards this connection and checks out another (SQLAlchemy's pessimistic
        # disconnect handling, as its documentation shows it for a checkout event).
        raise DisconnectionError(str(exc)) from exc


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers (scrapy status) work while a crawl writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@functools.cache
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises. The caller
    opens it (a command, an HTTP request, an extension callback); the db functions take the
    session and never open their own."""
    with _sessionmaker(url).begin() as session:
        yield session


_P = ParamSpec("_P")
_R = TypeVar("_R")


def in_transaction(
    url: str, fn: Callable[Concatenate[Session, _P], _R], *args: _P.args, **kwargs: _P.kwargs
) -> _R:
    """fn(session, ...) in one session_scope of its own: for a caller that hands the unit to a
    thread (asyncio.to_thread, deferToThread) or to a retry, which then retries it whole."""
    with session_scope(url) as session:
        return fn(session, *args, **kwargs)


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE matched. Session.execute is typed to return a Result; for
    these statements it is a CursorResult, the cast SQLAlchemy's documentation gives."""
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount
