"""The Scrapyd node's HTTP policy, set by `application = scrapersky.api.node.application` in
scrapyd.conf: Scrapyd's own application, with

- a request size cap (SCRAPERSKY_MAX_REQUEST_BYTES): a larger body gets 413 as soon as its
  Content-Length (or, chunked, its running length) says so, before it is read;
- CORS only for the origins of SCRAPERSKY_CORS_ORIGINS (Scrapyd's own `*` is dropped);
- no state-changing request (POST, …) from a page of another origin, Scrapyd's endpoints included;
- the tenant services (every ScraperSky service but health.json) answering to their API keys
  whether or not Scrapyd's basic auth is on; Scrapyd's own endpoints (schedule.json,
  addversion.json, …) and health.json stay behind it: they are the operator's interface.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from scrapyd.app import application as scrapyd_application
from twisted.application.internet import TimerService
from twisted.application.service import IServiceCollection
from twisted.internet import threads
from twisted.logger import Logger
from twisted.web import http, resource, server
from twisted.web.guard import HTTPAuthSessionWrapper

from scrapersky.api.base import Service
from scrapersky.config import project_settings, to_int, to_origins
from scrapersky.console import Console
from scrapersky.redact import redact
from scrapersky.webhooks import Sending, deliver_due

log = Logger()
SAFE_METHODS = {b"GET", b"HEAD", b"OPTIONS"}
CORS_HEADER = b"access-control-allow-origin"


WEBHOOK_INTERVAL = 5.0  # seconds between the node's passes over due webhook deliveries


def application(config):
    app = scrapyd_application(config)
    # Webhook deliveries that are due (retries included) go out from every node, in the node's
    # process: no crawl holds a run slot while a tenant's endpoint answers.
    TimerService(WEBHOOK_INTERVAL, _deliver_webhooks).setServiceParent(app)
    settings = project_settings()
    cap = to_int(
        settings.get("SCRAPERSKY_MAX_REQUEST_BYTES"), "SCRAPERSKY_MAX_REQUEST_BYTES", minimum=1024
    )
    origins = to_origins(settings.get("SCRAPERSKY_CORS_ORIGINS"))
    for service in IServiceCollection(app):
        site = next(
            (arg for arg in getattr(service, "args", ()) if isinstance(arg, server.Site)), None
        )
        if site is not None:
            site.requestFactory = type(
                "NodeRequest", (NodeRequest,), {"max_body": cap, "origins": origins}
            )
            site.resource = TenantRoutes(site.resource)
    return app


class TenantRoutes(resource.Resource):
    """Routes tenant services past Scrapyd's basic auth (they check API keys); all else goes through it."""

    def __init__(self, guarded: resource.Resource) -> None:
        super().__init__()
        self.guarded = guarded
        # Scrapyd wraps its root in twisted.web.guard when basic auth is on; the root is its realm's resource.
        self.root = (
            guarded._portal.realm.resource
            if isinstance(guarded, HTTPAuthSessionWrapper)
            else guarded
        )

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
    origins: frozenset[str] = frozenset()
    _received = 0
    _refused = False

    def gotLength(self, length):
        if length is not None and length > self.max_body:
            self._refuse_body()
            length = 0
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self._refused:
            return
        self._received += len(data)
        if self._received > self.max_body:
            self._refuse_body()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if not self._refused:
            super().requestReceived(command, path, version)

    def _refuse_body(self) -> None:
        """413 and close, as Twisted answers a malformed request: the body is never read."""
        self._refused = True
        body = _json_error(
            f"request body larger than {self.max_body} bytes (SCRAPERSKY_MAX_REQUEST_BYTES)"
        )
        self.channel.transport.write(
            b"HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
        )
        self.channel.loseConnection()

    def process(self):
        origin = self.getHeader("origin")
        allowed = origin is not None and origin.lower() in self.origins
        if allowed:
            self.responseHeaders.setRawHeaders(CORS_HEADER, [origin.encode()])
            self.responseHeaders.addRawHeader(b"vary", b"Origin")
            self.responseHeaders.setRawHeaders(
                b"access-control-allow-headers", [b"Authorization, Content-Type"]
            )
        if self.method not in SAFE_METHODS and not allowed and self._cross_site(origin):
            body = _json_error(
                "cross-origin requests may not change anything (SCRAPERSKY_CORS_ORIGINS)"
            )
            self.setResponseCode(http.FORBIDDEN)
            self.setHeader(b"content-type", b"application/json")
            self.setHeader(b"content-length", b"%d" % len(body))
            self.write(body)
            self.finish()
            return
        super().process()

    def _cross_site(self, origin: str | None) -> bool:
        if self.getHeader("sec-fetch-site") in ("cross-site", "same-site"):
            return True
        if origin is None:
            return False  # not a browser, or a same-origin GET-like request
        host = (self.getHeader("host") or "").lower()
        return urlsplit(origin.lower()).netloc != host or origin.lower() == "null"

    def setHeader(self, name, value):
        # CORS is decided in process(); Scrapyd's resources would allow every origin.
        if (name.encode() if isinstance(name, str) else name).lower() == CORS_HEADER:
            return
        super().setHeader(name, value)


def _json_error(message: str) -> bytes:
    return json.dumps({"status": "error", "message": message}).encode() + b"\n"


def _deliver_webhooks():
    settings = project_settings()
    deferred = threads.deferToThread(
        deliver_due, settings.get("DATABASE_URL"), Sending.from_settings(settings)
    )
    # A database blip skips one pass; the TimerService keeps going.
    return deferred.addErrback(
        lambda failure: log.warning(
            "webhook delivery pass failed: {error}", error=redact(failure.getErrorMessage())
        )
    )
