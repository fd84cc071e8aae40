"""The Scrapyd node's HTTP policy, set by `application = scrapersky.api.node.application` in
scrapyd.conf: Scrapyd's own application, with

- `Host` checked before anything is routed (scrapersky.api.hosts): another name gets 421, so a
  page that rebinds its name to the node reaches nothing;
- Scrapyd's own endpoints (schedule.json, addversion.json, listjobs.json, logs/, ...), /metrics
  and health.json always behind the operator login: SCRAPYD_USERNAME/SCRAPYD_PASSWORD, or the
  password the node generates at its first start (scrapersky.scheduling.login);
- the tenant services answering to their API keys, past that login;
- no body read before the request's login is checked: the operator's Basic login at once, a
  tenant service's Bearer key in a thread while the connection is not read (401 otherwise);
  bodies capped before they are read (413):
  SCRAPERSKY_MAX_REQUEST_BYTES for the operator's addversion.json, SCRAPERSKY_MAX_API_REQUEST_BYTES
  for everything else;
- CORS only for the origins of SCRAPERSKY_CORS_ORIGINS (Scrapyd's own `*` is dropped), and no
  state-changing request (POST, ...) from a page of another origin, Scrapyd's endpoints included;
- every answer, errors included, unframeable and never content-sniffed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import sys
from http import HTTPStatus
from urllib.parse import unquote_to_bytes, urlsplit

from scrapyd.app import application as scrapyd_application
from scrapyd.basicauth import PublicHTMLRealm, StringCredentialsChecker
from twisted.application.internet import TimerService
from twisted.application.service import IServiceCollection
from twisted.cred.portal import Portal
from twisted.internet import threads
from twisted.logger import Logger
from twisted.web import resource, server
from twisted.web.guard import BasicCredentialFactory, HTTPAuthSessionWrapper

from scrapersky.api.auth import bearer_key, header
from scrapersky.api.base import OPERATOR_LOGIN, Service
from scrapersky.api.console import Console
from scrapersky.api.hosts import host_allowed, own_names
from scrapersky.config import ConfigError, declared_value, project_settings
from scrapersky.core.errors import (
    BadInput,
    DatabaseUnavailable,
    Forbidden,
    ScraperSkyError,
    TooLarge,
    Unauthorized,
    WrongHost,
)
from scrapersky.core.redact import redact
from scrapersky.db import keys
from scrapersky.db.engine import session_scope
from scrapersky.db.schema import ensure_schema, first_line
from scrapersky.extensions.webhooks import Sending, deliver_due
from scrapersky.scheduling.login import Login, create_login, node_password_file

log = Logger()
SAFE_METHODS = {b"GET", b"HEAD", b"OPTIONS"}
CORS_HEADER = b"access-control-allow-origin"
# On every answer: no page of any origin may frame the node's pages (Scrapyd's included).
SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
)
REASONS = {413: b"Content Too Large"}  # RFC 9110's name; Python 3.11's is older
# The one endpoint whose body may reach SCRAPERSKY_MAX_REQUEST_BYTES (the project egg).
EGG_UPLOAD = b"addversion.json"


WEBHOOK_INTERVAL = 5.0  # seconds between the node's passes over due webhook deliveries


def application(config):
    settings = project_settings()
    cap = declared_value(settings, "SCRAPERSKY_MAX_REQUEST_BYTES")
    api_cap = declared_value(settings, "SCRAPERSKY_MAX_API_REQUEST_BYTES")
    origins = declared_value(settings, "SCRAPERSKY_CORS_ORIGINS")
    bind = os.getenv("SCRAPYD_BIND_ADDRESS") or config.get("bind_address", "127.0.0.1")
    hosts = own_names(bind, declared_value(settings, "SCRAPERSKY_ALLOWED_HOSTS"))
    try:
        login = operator_login(config, settings.get("SCRAPYD_PASSWORD_FILE") or "")
    except ConfigError as exc:  # one line and exit 2, as for any bad setting
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    app = scrapyd_application(config)
    # Webhook deliveries that are due (retries included) go out from every node, in the node's
    # process: no crawl holds a run slot while a tenant's endpoint answers.
    TimerService(WEBHOOK_INTERVAL, _deliver_webhooks).setServiceParent(app)
    for service in IServiceCollection(app):
        site = next(
            (arg for arg in getattr(service, "args", ()) if isinstance(arg, server.Site)), None
        )
        if site is not None:
            root = _unguarded(site.resource)
            setattr(root, OPERATOR_LOGIN, True)  # the tenant services serve only behind this
            tenant_paths = frozenset(
                name
                for name, child in root.children.items()
                if isinstance(child, Service) and not child.public
            )
            site.requestFactory = type(
                "NodeRequest",
                (NodeRequest,),
                {
                    "max_body": cap,
                    "max_api_body": api_cap,
                    "origins": origins,
                    "hosts": hosts,
                    "login": login,
                    "tenant_paths": tenant_paths,
                    "node_name": root.node_name,
                },
            )
            site.resource = TenantRoutes(_guard(root, login), root)
    return app


def operator_login(config, password_file: str) -> Login:
    """SCRAPYD_USERNAME/SCRAPYD_PASSWORD (or scrapyd.conf's username/password) when both are
    set, else the node's password file, generated at its first start."""
    username = os.getenv("SCRAPYD_USERNAME") or config.get("username", "")
    password = os.getenv("SCRAPYD_PASSWORD") or config.get("password", "")
    if ":" in username:
        raise ConfigError("SCRAPYD_USERNAME may not contain ':'")
    if username and password:
        log.info(
            "Operator endpoints: login from SCRAPYD_USERNAME/SCRAPYD_PASSWORD (or scrapyd.conf)"
        )
        return Login(username, password)
    path = node_password_file(password_file, config.get("dbs_dir", "dbs"))
    login, generated = create_login(path)
    log.info(
        "Operator endpoints: login {user!r}, password {how} {path} (mode 0600); "
        "SCRAPYD_USERNAME and SCRAPYD_PASSWORD set one instead",
        user=login.username,
        how="generated into" if generated else "read from",
        path=str(path.resolve()),
    )
    return login


def _unguarded(top: resource.Resource) -> resource.Resource:
    """Scrapyd's root resource, from under the guard Scrapyd wraps it in when its auth is on."""
    if isinstance(top, HTTPAuthSessionWrapper):
        return top._portal.realm.resource
    return top


def _guard(root: resource.Resource, login: Login) -> resource.Resource:
    return HTTPAuthSessionWrapper(
        Portal(PublicHTMLRealm(root), [StringCredentialsChecker(login.username, login.password)]),
        [BasicCredentialFactory(b"Scrapyd")],
    )


class TenantRoutes(resource.Resource):
    """Routes tenant services past the operator login (they check API keys); all else goes through it."""

    def __init__(self, guarded: resource.Resource, root: resource.Resource) -> None:
        super().__init__()
        self.guarded = guarded
        self.root = root

    def getChildWithDefault(self, path, request):
        child = self.root.children.get(path)
        # The console holds no data (it reads the API with the caller's key): tenants reach it too.
        if (isinstance(child, Service) and child.for_tenants(request)) or isinstance(
            child, Console
        ):
            return child
        return self.guarded.getChildWithDefault(path, request)

    def render(self, request):
        return self.guarded.render(request)


class NodeRequest(server.Request):
    max_body = 16 * 1024 * 1024
    max_api_body = 1024 * 1024
    origins: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    login: Login | None = None
    tenant_paths: frozenset[bytes] = frozenset()
    node_name = ""
    _received = 0
    _refused = False
    _cap = 0
    _key_pending = False  # a tenant's key is being checked: the body waits, unread
    _held: tuple[bytes, bytes, bytes] | None = None  # a request complete before its key was

    def gotLength(self, length):
        """The request line and headers are in, the body is not: refuse here what needs no body."""
        refusal = self._refusal(length)
        if refusal is not None:
            self._refuse(refusal)
            length = 0
        super().gotLength(length)

    def _refusal(self, length: int | None) -> ScraperSkyError | None:
        host = self.requestHeaders.getRawHeaders(b"host", [None])[0]
        if not host_allowed(host, self.hosts):
            return WrongHost("this node does not answer to that Host (SCRAPERSKY_ALLOWED_HOSTS)")
        # The request line's target: Twisted keeps it on the channel until the body is in.
        target = getattr(self.channel, "_path", b"").split(b"?", 1)[0]
        if b"\x00" in unquote_to_bytes(target):
            return BadInput("the path holds a NUL byte")
        if not (length or self.requestHeaders.hasHeader(b"transfer-encoding")):
            return None
        first = unquote_to_bytes(target.lstrip(b"/").split(b"/", 1)[0])
        operator = self._operator()
        if not operator and not (first in self.tenant_paths and bearer_key(self)):
            return Unauthorized(
                "send the operator's login (Basic) or an API key (Bearer) with a body"
            )
        if operator and first == EGG_UPLOAD:
            self._cap, setting = self.max_body, "SCRAPERSKY_MAX_REQUEST_BYTES"
        else:
            self._cap, setting = self.max_api_body, "SCRAPERSKY_MAX_API_REQUEST_BYTES"
        if length is not None and length > self._cap:
            return TooLarge(f"request body larger than {self._cap} bytes ({setting})")
        if not operator:
            self._check_key(bearer_key(self) or "")
        return None

    def _check_key(self, key: str) -> None:
        """Stop reading the connection until the tenant's key is known (the database is asked in
        a thread); an unknown key gets 401 with its body unread."""
        self._key_pending = True
        self.channel.transport.pauseProducing()
        deferred = threads.deferToThread(_caller_of, key)
        deferred.addCallbacks(self._key_known, self._key_unchecked)

    def _key_known(self, caller) -> None:
        self._key_pending = False
        if self._refused:
            return
        if caller is None:
            self._refuse(Unauthorized("unknown or revoked API key"))
            return
        if self._held is None:
            self.channel.transport.resumeProducing()  # the body may come now
        else:  # it came with the head, and the channel pauses the connection while it answers
            super().requestReceived(*self._held)

    def _key_unchecked(self, failure) -> None:
        self._key_pending = False
        log.warn("API key check: {error}", error=first_line(failure.value))  # noqa: G010 (Twisted's Logger has warn)
        if not self._refused:
            self._refuse(DatabaseUnavailable(first_line(failure.value)))

    def _operator(self) -> bool:
        """Whether the request carries the operator's login (checked again by the guard)."""
        scheme, _, token = header(self, b"authorization").strip().partition(" ")
        if scheme.lower() != "basic" or self.login is None:
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        expected = f"{self.login.username}:{self.login.password}".encode()
        return hmac.compare_digest(given, expected)

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        if self._received > self._cap:
            self._refuse(TooLarge(f"request body larger than {self._cap} bytes"))
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if self._refused:
            return
        if self._key_pending:
            self._held = (command, path, version)
            return
        super().requestReceived(command, path, version)

    def _refuse(self, error: ScraperSkyError) -> None:
        """Answer and close, as Twisted answers a malformed request: the body is never read.
        The status is the error's class's; a public message stands in for the detail."""
        self._refused = True
        code = error.http_status
        body = _json_error(error.public_message or str(error), self.node_name)
        headers = b"".join(b"%b: %b\r\n" % pair for pair in SECURITY_HEADERS)
        if isinstance(error, Unauthorized):
            headers += b'WWW-Authenticate: Basic realm="Scrapyd"\r\n'
        reason = REASONS.get(code) or HTTPStatus(code).phrase.encode()
        self.channel.transport.write(
            b"HTTP/1.1 %d %b\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"%bContent-Length: %d\r\n\r\n%b" % (code, reason, headers, len(body), body)
        )
        self.channel.loseConnection()

    def process(self):
        for name, value in SECURITY_HEADERS:
            self.responseHeaders.setRawHeaders(name, [value])
        origin = header(self, b"origin") or None
        allowed = origin is not None and origin.lower() in self.origins
        if allowed:
            self.responseHeaders.setRawHeaders(CORS_HEADER, [origin.encode()])
            self.responseHeaders.addRawHeader(b"vary", b"Origin")
            self.responseHeaders.setRawHeaders(
                b"access-control-allow-headers", [b"Authorization, Content-Type"]
            )
        if self.method not in SAFE_METHODS and not allowed and self._cross_site(origin):
            refusal = Forbidden(
                "cross-origin requests may not change anything (SCRAPERSKY_CORS_ORIGINS)"
            )
            body = _json_error(str(refusal), self.node_name)
            self.setResponseCode(refusal.http_status)
            self.setHeader(b"content-type", b"application/json")
            self.setHeader(b"content-length", b"%d" % len(body))
            self.write(body)
            self.finish()
            return
        super().process()

    def _cross_site(self, origin: str | None) -> bool:
        if header(self, b"sec-fetch-site") in ("cross-site", "same-site"):
            return True
        if origin is None:
            return False  # not a browser, or a same-origin GET-like request
        host = header(self, b"host").lower()
        return urlsplit(origin.lower()).netloc != host or origin.lower() == "null"

    def setHeader(self, name, value):
        # CORS is decided in process(); Scrapyd's resources would allow every origin.
        if (name.encode() if isinstance(name, str) else name).lower() == CORS_HEADER:
            return
        super().setHeader(name, value)


def _caller_of(key: str):
    """The caller an API key belongs to, or None (in a thread: it asks the database)."""
    url = project_settings().get("DATABASE_URL")
    ensure_schema(url)
    with session_scope(url) as session:
        return keys.authenticate(session, key)


def _json_error(message: str, node_name: str) -> bytes:
    answer = {"status": "error", "message": message, "node_name": node_name}
    return json.dumps(answer).encode() + b"\n"


def _deliver_webhooks():
    settings = project_settings()
    # Settings are read in the thread too: a bad value, like a database blip, fails one pass
    # (logged), and the TimerService keeps going.
    deferred = threads.deferToThread(
        lambda: deliver_due(settings.get("DATABASE_URL"), Sending.from_settings(settings))
    )
    return deferred.addErrback(
        lambda failure: log.warn(  # noqa: G010 (Twisted's Logger has warn)
            "webhook delivery pass failed: {error}", error=redact(failure.getErrorMessage())
        )
    )
