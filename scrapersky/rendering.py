"""JavaScript rendering with scrapy-playwright and a system Chromium, switched on only when one exists."""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import deferred_to_future

from scrapersky.net.browser_proxy import BrowserProxy
from scrapersky.net.download import GuardedDownloadHandler
from scrapersky.net.policy import policy_from_settings

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
HANDLER = "scrapersky.rendering.RenderingDownloadHandler"


def find_chromium(configured: str | None) -> str | None:
    if configured:
        return configured if os.access(configured, os.X_OK) else shutil.which(configured)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def proxy_option(environ: dict[str, str]) -> dict[str, Any] | None:
    """Chromium ignores http_proxy: hand the same proxy to the browser explicitly."""
    proxy = (
        environ.get("http_proxy")
        or environ.get("HTTP_PROXY")
        or environ.get("https_proxy")
        or environ.get("HTTPS_PROXY")
    )
    if not proxy:
        return None
    parts = urlsplit(proxy)
    option: dict[str, Any] = {
        "server": f"{parts.scheme or 'http'}://{parts.hostname}:{parts.port or 80}"
    }
    if parts.username:
        option["username"], option["password"] = parts.username, parts.password or ""
    bypass = environ.get("no_proxy") or environ.get("NO_PROXY")
    if bypass:
        option["bypass"] = bypass
    return option


# No call of Chromium's own: updates, sync, safe browsing, reporting, prefetching.
QUIET_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--dns-prefetch-disable",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--disable-extensions",
    "--disable-component-extensions-with-background-pages",
    "--disable-quic",
    # Some components still install on demand despite --disable-component-update: point the
    # updater at a closed local port, which the guard proxy refuses anyway.
    "--component-updater=url-source=http://127.0.0.1:9/",
)


def wants_render(mode: str, metadata: dict[str, Any]) -> bool:
    """`always` renders; `auto` renders only pages whose static HTML has no title or no visible text."""
    return mode == "always" or (mode == "auto" and bool(metadata.get("needs_render")))


class RenderingAddon:
    """Load the Playwright download handler only when a Chromium executable is available,
    so runs on machines without a browser keep working (and simply never render)."""

    def update_settings(self, settings) -> None:
        executable = find_chromium(settings.get("SCRAPERSKY_CHROMIUM"))
        settings.set("SCRAPERSKY_RENDERING", bool(executable), priority="addon")
        if not executable:
            return
        handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
        handlers.update({"http": HANDLER, "https": HANDLER})
        # Over the project's own table (settings.py names the guarded handler there), never under it.
        priority = max(settings.getpriority("DOWNLOAD_HANDLERS") or 0, SETTINGS_PRIORITIES["addon"])
        settings.set("DOWNLOAD_HANDLERS", handlers, priority=priority)
        launch: dict[str, Any] = {
            "executable_path": executable,
            "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", *QUIET_FLAGS],
        }
        if policy_from_settings(settings) is None:
            proxy = proxy_option(dict(os.environ))
        else:
            # Every connection Chromium opens goes through the guard proxy, loopback included,
            # and Chromium resolves no name itself (the proxy is an IP literal).
            guard = BrowserProxy.reserve(
                settings.getint("SCRAPERSKY_MAX_HEADER_BYTES"),
                settings.getfloat("DOWNLOAD_TIMEOUT"),
            )
            settings.set("SCRAPERSKY_BROWSER_PROXY", guard, priority="addon")
            proxy = {"server": guard.url, "bypass": "<-loopback>"}
            launch["args"] += [
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            ]
        if proxy:
            launch["proxy"] = proxy
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="addon")
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="addon")
        # Bounded browser memory: few contexts, few pages each, closed after use.
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", 2, priority="addon")
        settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 4, priority="addon")
        settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 30000, priority="addon")


class RenderingDownloadHandler(GuardedDownloadHandler):
    """Scrapy's HTTP handler that hands `meta["playwright"]` requests to scrapy-playwright.

    scrapy-playwright's own handler starts a Playwright driver per scheme when the engine
    starts (~120 MB each), even for runs that never render. This one starts a single
    driver, shared by http and https, on the first request that needs a browser.
    """

    def __init__(self, crawler) -> None:
        super().__init__(crawler=crawler)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def download_request(self, request):
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        browser = await self._browser()
        return await browser.download_request(request)

    async def _browser(self):
        shared = getattr(self.crawler, "_scrapersky_browser", None)
        if shared is None:
            shared = self.crawler._scrapersky_browser = _SharedBrowser(self.crawler)
        return await shared.get()

    async def close(self) -> None:
        await super().close()
        shared = getattr(self.crawler, "_scrapersky_browser", None)
        if shared is not None:
            self.crawler._scrapersky_browser = None
            await shared.close()


class _SharedBrowser:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.handler = None
        self.lock = asyncio.Lock()

    async def get(self):
        async with self.lock:
            if self.handler is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                await self._start_guard()

                handler = ScrapyPlaywrightDownloadHandler.from_crawler(self.crawler)
                # Made after engine_started, so start it the way that signal would have
                # (scrapy-playwright 0.0.48, pinned).
                await handler._maybe_launch_in_thread()
                self.handler = handler
            return self.handler

    async def _start_guard(self) -> None:
        from twisted.internet import (
            reactor,
        )  # imported late: this module loads before the reactor is chosen

        guard: BrowserProxy | None = self.crawler.settings.get("SCRAPERSKY_BROWSER_PROXY")
        if guard is None:
            return
        stats = self.crawler.stats

        def refused(host: str, reason: str) -> None:
            stats.inc_value("scrapersky/refused/browser")

        await guard.start(
            policy_from_settings(self.crawler.settings),
            lambda host: deferred_to_future(reactor.resolve(host)),
            refused,
        )

    async def close(self) -> None:
        if self.handler is not None:
            await self.handler.close()
        guard: BrowserProxy | None = self.crawler.settings.get("SCRAPERSKY_BROWSER_PROXY")
        if guard is not None:
            await guard.close()
