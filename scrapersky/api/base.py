"""What every ScraperSky webservice shares: fields (query, form or JSON body), API key auth,
JSON answers in Scrapyd's shape, and errors as HTTP status codes.

Answers follow Scrapyd's conventions (`node_name`, `status` "ok" or "error", `message`). An
error's status is its class's (scrapersky.core.errors; docs/errors.md): 400 bad input, 401 no valid
key, 403 key of another tenant, 404 unknown id, 405 wrong method, 429 a limit reached, 503
database or nodes unavailable (the database's own error goes to the node's log, never to the
caller); an SQLAlchemy error is the database unavailable, and only a bug answers 500. The key is checked before the body is parsed, and both run in
Twisted's thread pool, as does all database and network work, so the node keeps launching runs.
A tenant service answers only on a node whose operator endpoints are behind their login.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from scrapyd.webservice import WsResource
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import threads
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import http, server

from scrapersky.api.auth import bearer_key, header
from scrapersky.config import project_settings, to_int
from scrapersky.config.scan_options import to_tenant_id
from scrapersky.core.errors import (
    BadInput,
    ConfigError,
    DatabaseUnavailable,
    Forbidden,
    MethodNotAllowed,
    ScraperSkyError,
    Unauthorized,
)
from scrapersky.core.messages import cut, excerpt
from scrapersky.core.redact import redact
from scrapersky.db import jobs, keys
from scrapersky.db.engine import session_scope
from scrapersky.db.keys import Caller
from scrapersky.db.schema import ensure_schema, first_line
from scrapersky.scheduling.reaper import JobTimes

log = Logger()
MAX_PAGE = 10_000  # rows per answer of a paginated service
MAX_MESSAGE = 300  # an error message quotes the caller's input: never more than this
# Set on Scrapyd's root by scrapersky.api.node.application once the operator login guards it.
OPERATOR_LOGIN = "scrapersky_operator_login"


class Fields:
    """Query and form fields (multipart uploads included), or a JSON object body, of one request,
    and the caller its key belongs to."""

    def __init__(self, args: dict[bytes, list[bytes]], caller: Caller | None = None) -> None:
        self.args = args
        self.caller = caller

    @classmethod
    def parse(cls, args: dict[bytes, list[bytes]], content_type: str, body: bytes) -> Fields:
        """Query and form fields, and a JSON object body's (content_type application/json)."""
        args = dict(args)
        if content_type.split(";")[0].strip().lower() == "application/json":
            args.update(_json_fields(body))
        return cls(args)

    def raw(self, name: str) -> list[bytes]:
        return self.args.get(name.encode(), [])

    def all(self, name: str) -> list[str]:
        try:
            return [value.decode("utf-8") for value in self.raw(name)]
        except UnicodeDecodeError:
            raise BadInput(f"{name} is not UTF-8 text") from None

    def text(self, name: str, *, required: bool = False) -> str:
        values = [value.strip() for value in self.all(name)]
        if required and not (values and values[0]):
            raise BadInput(f"'{name}' parameter is required")
        return values[0] if values else ""

    def number(
        self, name: str, default: int, *, minimum: int = 0, maximum: int = jobs.MAX_INTEGER_ID
    ) -> int:
        try:
            value = to_int(self.text(name) or default, name, minimum=minimum)
        except ConfigError as exc:
            raise BadInput(str(exc)) from None
        if value > maximum:
            raise BadInput(f"{name} must be <= {maximum}, got {value}")
        return value

    def tenant(self, *, default: str | None = None) -> str | None:
        """The tenant this request acts for: a tenant key's own (a `tenant_id` naming another is
        a 403); for an operator key the `tenant_id` field, else `default` (None: every tenant)."""
        requested = to_tenant_id(self.text("tenant_id"))  # as every scan option is read
        if self.caller is None or self.caller.operator:
            return requested or default
        if requested and requested != self.caller.tenant_id:
            raise Forbidden("tenant_id is not the tenant of this key")
        return self.caller.tenant_id


def _json_fields(body: bytes) -> dict[bytes, list[bytes]]:
    """A JSON object body as fields: strings, numbers and booleans, or lists of them."""
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError):
        raise BadInput("the body is not valid JSON") from None
    except RecursionError:
        raise BadInput("the JSON body is nested too deeply") from None
    if not isinstance(data, dict):
        raise BadInput("the JSON body must be an object")
    fields = {}
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, (dict, list)) for v in values):
            raise BadInput(f"{excerpt(name)} must be a string, number or list of them")
        try:
            fields[str(name).encode()] = [
                json.dumps(v).encode() if isinstance(v, bool) else str(v).encode()
                for v in values
                if v is not None
            ]
        except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes can make
            raise BadInput("the JSON body holds a lone surrogate") from None
    return fields


class Service(WsResource):
    """Answers `answer(fields)` from a worker thread, as JSON in Scrapyd's shape.

    Every service answers only to a valid API key (`Authorization: Bearer <key>`) and sees
    `fields.caller`; `public = True` opts out (health.json)."""

    allowed: tuple[str, ...] = ("GET",)
    public = False

    @property
    def methods(self) -> str:  # type: ignore[override]
        return ", ".join(
            ("OPTIONS", "HEAD", *self.allowed)
            if "GET" in self.allowed
            else ("OPTIONS", *self.allowed)
        )

    def answer(self, fields: Fields) -> dict[str, Any]:
        raise NotImplementedError

    def for_tenants(self, txrequest) -> bool:
        """Whether this request is a tenant's (answered to its key, past the node's basic auth)."""
        return not self.public

    def render(self, txrequest):
        method = txrequest.method.decode("latin-1")
        if method == "OPTIONS":
            txrequest.setHeader("Allow", self.methods)
            txrequest.setResponseCode(http.NO_CONTENT)
            return b""
        if method == "HEAD":
            method = "GET"
        if method not in self.allowed:
            refusal: ScraperSkyError = MethodNotAllowed(f"{method} not allowed: use {self.methods}")
            return self._encode(txrequest, *self._failed(Failure(refusal)))
        if not self.public and not getattr(self.root, OPERATOR_LOGIN, False):
            refusal = ConfigError(
                "tenant services are off: this node's operator endpoints have no login "
                "(application = scrapersky.api.node.application in scrapyd.conf)"
            )
            return self._encode(txrequest, *self._failed(Failure(refusal)))
        content_type = header(txrequest, b"content-type")
        body = b""
        if txrequest.content is not None:  # capped by the node before it was read
            txrequest.content.seek(0)
            body = txrequest.content.read()
        gone: list[bool] = []
        txrequest.notifyFinish().addErrback(lambda _: gone.append(True))
        deferred = threads.deferToThread(
            self._serve, dict(txrequest.args), content_type, body, bearer_key(txrequest)
        )
        deferred.addCallbacks(lambda data: (http.OK, {**data, "status": "ok"}), self._failed)
        deferred.addCallback(lambda outcome: gone or self._finish(txrequest, *outcome))
        return server.NOT_DONE_YET

    def _serve(
        self, args: dict[bytes, list[bytes]], content_type: str, body: bytes, key: str | None
    ) -> dict[str, Any]:
        """The key first, then the body: nothing a caller without a key sends is parsed."""
        caller = None
        if not self.public:
            if not key:
                raise Unauthorized("an API key is required: send Authorization: Bearer <key>")
            # The key is checked in a read transaction of its own: it decides whether anything
            # else runs (the reaper's writes included), and the answer opens its own.
            with session_scope(self.ready_database()) as session:
                caller = keys.authenticate(session, key)
            if caller is None:
                raise Unauthorized("unknown or revoked API key")
        fields = Fields.parse(args, content_type, body)
        fields.caller = caller
        return self.answer(fields)

    def _failed(self, failure: Failure) -> tuple[int, dict[str, Any]]:
        """The status and answer of an error: its class's (an SQLAlchemy error is the database
        unavailable); 500 only for a bug, logged with its traceback."""
        exc = failure.value
        if isinstance(exc, SQLAlchemyError):
            exc = DatabaseUnavailable(first_line(exc))
        if not isinstance(exc, ScraperSkyError):
            log.failure("unexpected error in {service}", failure, service=type(self).__name__)
            return http.INTERNAL_SERVER_ERROR, _error(f"internal error ({type(exc).__name__})")
        message = redact(str(exc))
        if exc.public_message is not None:  # the detail stays in the node's log
            log.warn("{service}: {error}", service=type(self).__name__, error=message)  # noqa: G010 (Twisted's Logger has warn)
            message = exc.public_message
        return exc.http_status, _error(message, **exc.extra)

    def _finish(self, txrequest, code: int, data: dict[str, Any]) -> None:
        txrequest.write(self._encode(txrequest, code, data))
        txrequest.finish()

    def _encode(self, txrequest, code: int, data: dict[str, Any]) -> bytes:
        data["node_name"] = self.root.node_name
        content = self.json_encoder.encode(data).encode() + b"\n"
        txrequest.setResponseCode(code, HTTPStatus(code).phrase.encode())
        if code == http.UNAUTHORIZED:
            txrequest.setHeader("WWW-Authenticate", 'Bearer realm="scrapersky"')
        txrequest.setHeader("Content-Type", "application/json")
        txrequest.setHeader("Content-Length", str(len(content)))
        return content

    # --- shared by the services -----------------------------------------------------------

    @property
    def database(self) -> str:
        return project_settings().get("DATABASE_URL")

    def ready_database(self) -> str:
        """The database URL once its schema is current (SQLite migrates itself, PostgreSQL must be migrated)."""
        url = self.database
        try:
            ensure_schema(url)
        except (ScraperSkyError, SQLAlchemyError, ValueError) as exc:
            # ValueError: a DATABASE_URL no parser takes. Said as "database unavailable"; the
            # detail (a driver's words may quote part of the URL) goes to the node's log.
            raise DatabaseUnavailable(first_line(exc)) from None
        return url

    def reap(self, url: str) -> None:
        """End the jobs of dead runs, in a write transaction of its own, before a status answer
        opens its read transaction: the answer then reads what the reaper decided, and the read
        itself never writes."""
        times = JobTimes.from_settings(project_settings())
        with session_scope(url) as session:
            times.reap(session)


def _error(message: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "status": "error", "message": cut(message, MAX_MESSAGE, "...")}
