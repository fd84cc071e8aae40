"""A small Scrapyd API client: the nodes' operator login, retries with backoff, one-line errors."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import ProxyHandler, Request, build_opener

from scrapersky.config import ConfigError, to_list
from scrapersky.core.errors import NodeUnavailable
from scrapersky.core.retry import Backoff, retry_call
from scrapersky.scheduling.login import Login, client_logins, is_loopback

PROJECT = "scrapersky"
SPIDER = "sitemap"


class ScrapydError(NodeUnavailable):
    """A Scrapyd call failed; str() is a one-line reason naming the node."""


class NodeUnreachable(ScrapydError):
    """The node did not answer (refused, timed out, or kept failing with 5xx) after every retry."""


def parse_node_urls(value: str | Iterable[str]) -> list[str]:
    """`http://host:port` URLs of Scrapyd nodes, trailing slashes dropped, duplicates folded."""
    urls: list[str] = []
    for raw in to_list(value):
        url = raw.rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ConfigError(f"Scrapyd node must be an http(s)://host:port URL, got {raw!r}")
        if url not in urls:
            urls.append(url)
    if not urls:
        raise ConfigError("no Scrapyd node given: set SCRAPYD_URLS or pass --scrapyd URL")
    return urls


def new_run_id() -> str:
    return uuid.uuid4().hex


class ScrapydClient:
    def __init__(
        self,
        urls: Iterable[str],
        *,
        username: str = "",
        password: str = "",
        local_login: Login | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.urls = parse_node_urls(urls)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        # http_proxy is for the crawls; Scrapyd nodes are reached directly.
        self.opener = build_opener(ProxyHandler({}))
        self.headers = {"Accept": "application/json"}
        # The local node's generated login goes to loopback nodes only, never across the network.
        self.login = Login(username, password) if username and password else None
        self.local_login = local_login

    @classmethod
    def from_settings(cls, urls: Iterable[str] | str, settings, **options: Any) -> ScrapydClient:
        """A client of these nodes with the settings' login: SCRAPYD_USERNAME/SCRAPYD_PASSWORD,
        else the password file of this machine's node (SCRAPYD_PASSWORD_FILE) for loopback nodes."""
        everywhere, local = client_logins(
            settings.get("SCRAPYD_USERNAME") or "",
            settings.get("SCRAPYD_PASSWORD") or "",
            settings.get("SCRAPYD_PASSWORD_FILE") or "",
        )
        return cls(
            urls,
            username=everywhere.username if everywhere else "",
            password=everywhere.password if everywhere else "",
            local_login=local,
            **options,
        )

    def _headers(self, node: str) -> dict[str, str]:
        login = self.login or (self.local_login if is_loopback(node) else None)
        if login is None:
            return self.headers
        token = base64.b64encode(f"{login.username}:{login.password}".encode()).decode("ascii")
        return {**self.headers, "Authorization": f"Basic {token}"}

    # --- endpoints ------------------------------------------------------------------------

    def daemon_status(self, node: str) -> dict[str, Any]:
        return self.call(node, "daemonstatus.json")

    def load(self, node: str) -> int:
        """Runs queued or running on the node."""
        answer = self.daemon_status(node)
        return int(answer.get("pending", 0)) + int(answer.get("running", 0))

    def loads(self) -> tuple[dict[str, int], dict[str, str]]:
        """(load of every node that answered, in configured order; reason of every node that did not)."""
        loads, errors = {}, {}
        for node in self.urls:
            try:
                loads[node] = self.load(node)
            except ScrapydError as exc:
                errors[node] = str(exc)
        return loads, errors

    def schedule(
        self,
        node: str,
        args: Mapping[str, str],
        *,
        run_id: str | None = None,
        priority: float = 0.0,
        settings: Mapping[str, str] | None = None,
        project: str = PROJECT,
        spider: str = SPIDER,
    ) -> str:
        """Queue one run of the spider on the node; returns its Scrapyd job id (our run id)."""
        fields: list[tuple[str, str]] = [
            ("project", project),
            ("spider", spider),
            ("jobid", run_id or new_run_id()),
        ]
        if priority:
            fields.append(("priority", repr(float(priority))))
        fields += [("setting", f"{name}={value}") for name, value in (settings or {}).items()]
        fields += [(name, str(value)) for name, value in args.items()]
        # A retried POST may queue a run twice under one run id: a second batch run shares the
        # batch's work, a second single-job run finds its job already taken.
        return str(self.call(node, "schedule.json", data=fields)["jobid"])

    def list_jobs(self, node: str, project: str = PROJECT) -> dict[str, list[dict[str, Any]]]:
        return self.call(node, "listjobs.json", params={"project": project})

    def active_runs(self, node: str, project: str = PROJECT) -> set[str]:
        """Ids of the node's runs that are queued or running."""
        answer = self.list_jobs(node, project)
        return {job["id"] for state in ("pending", "running") for job in answer.get(state, [])}

    def cancel(self, node: str, run_id: str, project: str = PROJECT) -> str | None:
        return self.call(node, "cancel.json", data=[("project", project), ("job", run_id)]).get(
            "prevstate"
        )

    # --- transport ------------------------------------------------------------------------

    def call(
        self,
        node: str,
        endpoint: str,
        *,
        params: Mapping[str, str] | None = None,
        data: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        url = f"{node}/{endpoint}" + (f"?{urlencode(params)}" if params else "")
        body = urlencode(data).encode() if data is not None else None
        try:
            return retry_call(
                lambda: self._once(node, url, body),
                is_transient=lambda exc: isinstance(exc, _Transient),
                backoff=Backoff(self.backoff, retries=self.retries),
                sleep=self.sleep,
            )
        except _Transient as exc:
            attempts = self.retries + 1
            raise NodeUnreachable(
                f"{node}: {exc} (after {attempts} attempt{'s' * (attempts != 1)})"
            ) from None

    def _once(self, node: str, url: str, body: bytes | None) -> dict[str, Any]:
        request = Request(
            url,
            data=body,
            headers=self._headers(node),
            method="POST" if body is not None else "GET",
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except HTTPError as exc:
            raw = exc.read()
            if exc.code == 401:
                raise ScrapydError(
                    f"{node}: authentication failed (HTTP 401): check SCRAPYD_USERNAME and "
                    "SCRAPYD_PASSWORD (or, for a node on this machine, SCRAPYD_PASSWORD_FILE)"
                ) from None
            if exc.code >= 500:
                raise _Transient(f"HTTP {exc.code}") from None
            raise ScrapydError(f"{node}: HTTP {exc.code}: {_message(raw) or exc.reason}") from None
        except URLError as exc:
            raise _Transient(_network_reason(exc.reason)) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Transient(_network_reason(exc)) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise ScrapydError(f"{node}: not a Scrapyd answer: {raw[:80]!r}") from None
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise ScrapydError(f"{node}: {_message(raw) or 'error'}")
        return answer


class _Transient(NodeUnavailable):
    """Worth retrying: the node may answer in a moment."""


def _message(raw: bytes) -> str:
    try:
        answer = json.loads(raw)
    except ValueError:
        return ""
    text = str(answer.get("message", "")) if isinstance(answer, dict) else ""
    return text.strip().splitlines()[0] if text.strip() else ""


def _network_reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    text = str(getattr(reason, "strerror", None) or reason).strip()
    return text.splitlines()[0] if text else type(reason).__name__
