"""Which database errors are worth another attempt.

Transient: the connection broke, the server is starting, shutting down or out of resources, a
statement timed out, or a transaction lost a serialization conflict or a deadlock; the same
statement may well succeed in a moment. Anything else (a value the column refuses, a
constraint, a statement the server rejects) fails the same way every time: retrying it only
holds everything else up.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

_DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)
_DRIVER_TRANSIENT: tuple[type[Exception], ...] = (sqlite3.OperationalError,)
try:
    import psycopg2
except ImportError:  # an install for SQLite only
    pass
else:
    _DRIVER_ERRORS += (psycopg2.Error,)
    _DRIVER_TRANSIENT += (psycopg2.OperationalError, psycopg2.InterfaceError)

# What a write can fail with: SQLAlchemy's errors; the drivers' own, raised unwrapped by the
# statements bulk.py runs on the driver's cursor (COPY); and ValueError, which psycopg2 raises
# for a value it will not send (a NUL in text, text with no UTF-8 form).
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, ValueError, *_DRIVER_ERRORS)

# SQLSTATE classes (PostgreSQL appendix A) that say "try again": connection exception,
# transaction rollback (serialization failure, deadlock), insufficient resources, operator
# intervention (query canceled by statement_timeout, admin shutdown, cannot connect now),
# system error (I/O).
_TRANSIENT_CLASSES = ("08", "40", "53", "57", "58")
_TRANSIENT_CODES = ("55P03",)  # lock_not_available (lock_timeout)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, PoolTimeout):
        return True  # no connection free in the pool in time
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        driver_error: BaseException = exc.orig or exc
    elif isinstance(exc, _DRIVER_ERRORS):
        driver_error = exc
    else:
        return False  # not the database's answer: a value the driver would not send, a bug
    code = getattr(driver_error, "pgcode", None)
    if isinstance(code, str):
        return code.startswith(_TRANSIENT_CLASSES) or code in _TRANSIENT_CODES
    # No SQLSTATE (SQLite, or the client side of psycopg2): an OperationalError is the
    # transient kind (database locked, connection lost); DataError, IntegrityError,
    # ProgrammingError and the rest are not.
    return isinstance(exc, OperationalError) or isinstance(driver_error, _DRIVER_TRANSIENT)
