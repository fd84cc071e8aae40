"""ScraperSky's one error model: every error it raises is a ScraperSkyError, and its class fixes
both the exit code of a command that ends with it and the HTTP status of a webservice answer.

The hierarchy, with (exit code, HTTP status); the classes defined elsewhere are named by module:

    ScraperSkyError ................................ 1  500  never raised itself
    ├── BadInput ................................... 2  400  an argument, field or name is unusable
    │   ├── MethodNotAllowed ....................... 2  405  a webservice asked with another method
    │   ├── TooLarge ............................... 2  413  a request body over the node's cap
    │   ├── domains.InvalidDomain
    │   └── net.browser_proxy.BadRequest             (Chromium's request to its proxy)
    ├── ConfigError ................................ 2  503  a setting (or a command's argument)
    │   └── net.policy.DangerousNetwork
    ├── NotFound ................................... 3  404  no such job, batch, key, webhook,
    │                                                         domain, sitemap or scan
    ├── Refused .................................... 4  403  a caller or address is not let through
    │   ├── Unauthorized ........................... 4  401  no, unknown or revoked API key
    │   ├── Forbidden .............................. 4  403  another tenant named, a cross-site POST
    │   ├── WrongHost .............................. 4  421  a Host the node does not answer to
    │   ├── QuotaExceeded .......................... 4  429  a batch retried too often
    │   ├── net.policy.AddressRefused                (the trust boundary: a non-public address)
    │   ├── net.resolver.RefusedLookup               (also Twisted's DNSLookupError)
    │   ├── net.guard.RefusedAddress                 (also Scrapy's IgnoreRequest)
    │   ├── net.outbound.Refused                     (a webhook endpoint never called as it is)
    │   └── spiders.exceptions.RobotsForbidden       (also IgnoreRequest: the site's robots.txt)
    ├── DatabaseUnavailable ........................ 5  503  the database unreachable or refusing
    │   ├── SchemaBehind ........................... 5  503  its schema not current
    │   └── pipelines.StoreError
    ├── NodeUnavailable ............................ 6  503  no Scrapyd node took the work
    │   ├── scheduling.client.ScrapydError
    │   │   ├── scheduling.client.NodeUnreachable
    │   │   └── scheduling.runs.NoNodeAnswered
    │   └── scheduling.client._Transient             (private: a retry, never leaves the client)
    ├── Conflict ................................... 1  409  a record's state stops the work
    │   └── scheduling.follow.BatchStalled
    └── RemoteFailed ............................... 1  502  a site or endpoint answered badly
        ├── net.download.HeadersTooLarge
        ├── net.outbound.AnswerTooLarge
        ├── net.outbound.DeadlineExceeded .......... 1  504
        └── sitemaps.stream.StreamError

Exit code 1 is also a run whose work failed (a scan, or a batch that ended partial or failed) and
any unexpected error; 2 also Scrapy's usage errors. A webservice answers an SQLAlchemy error as
DatabaseUnavailable and anything else unexpected as 500 (a bug, logged with its traceback).
docs/errors.md holds the same table; tests/integration/test_error_model.py checks it against
these classes, and every command's and endpoint's error paths against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

# The exit code of a run whose work failed: a scan, or a batch that ended partial or failed.
WORK_FAILED = 1


class ScraperSkyError(Exception):
    """A ScraperSky error; str() is a one-line reason. `extra` holds fields worth keeping in an
    HTTP answer (a batch's id, say)."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    # Said over HTTP instead of the message, which then goes to the node's log only.
    public_message: ClassVar[str | None] = None
    extra: Mapping[str, Any] = MappingProxyType({})

    def __init__(self, *args: object, **extra: Any) -> None:
        super().__init__(*args)
        if extra:
            self.extra = extra


class BadInput(ScraperSkyError, ValueError):
    """An argument, field or name the caller gave is unusable."""

    exit_code = 2
    http_status = 400


class MethodNotAllowed(BadInput):
    """A webservice asked with a method it does not take."""

    http_status = 405


class TooLarge(BadInput):
    """A request body over the node's cap."""

    http_status = 413


class ConfigError(ScraperSkyError, ValueError):
    """A setting or argument has an unusable value. A command's settings are its caller's input;
    a webservice's are its node's, never the caller's fault (the caller's fields are BadInput)."""

    exit_code = 2
    http_status = 503


class NotFound(ScraperSkyError, LookupError):
    """No such record (for the caller's tenant: another tenant's is not found either)."""

    exit_code = 3
    http_status = 404


class Refused(ScraperSkyError):
    """A caller or an address is not let through."""

    exit_code = 4
    http_status = 403


class Unauthorized(Refused):
    """No API key, or an unknown or revoked one."""

    http_status = 401


class Forbidden(Refused):
    """A valid key asking for what is not its own."""

    http_status = 403


class WrongHost(Refused):
    """A request to a `Host` the node does not answer to (DNS rebinding)."""

    http_status = 421


class QuotaExceeded(Refused):
    """A request asks for more than a limit allows."""

    http_status = 429


class DatabaseUnavailable(ScraperSkyError):
    """The database cannot be used: unreachable, refusing, or its schema is not current."""

    exit_code = 5
    http_status = 503
    # A driver's words may quote part of DATABASE_URL.
    public_message: ClassVar[str | None] = "database unavailable"


class SchemaBehind(DatabaseUnavailable):
    """The database's schema is not the one this code needs: `scrapy migrate` brings it there."""

    public_message = None


class NodeUnavailable(ScraperSkyError):
    """No Scrapyd node took the work: none answered, or each refused."""

    exit_code = 6
    http_status = 503


class Conflict(ScraperSkyError):
    """A record's state stops the work (a batch stalled, a schema at an unknown revision)."""

    exit_code = 1
    http_status = 409


class RemoteFailed(ScraperSkyError):
    """A site or a webhook endpoint answered badly (too large, too slow, corrupt)."""

    exit_code = 1
    http_status = 502
