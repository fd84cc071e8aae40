"""JavaScript rendering with scrapy-playwright and a system Chromium, switched on only when one
exists and can be isolated (scrapersky.net.browser_jail), or SCRAPERSKY_RENDER_UNISOLATED says
to render without.

This module is the add-on (RenderingAddon, the name ADDONS gives) and the decision to render
(wants_render); provider.py is the browser provider, a module of its own so that runs that never
render do not import Playwright.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies
from weakref import WeakKeyDictionary

from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import deferred_to_future

from scrapersky.net import browser_jail
from scrapersky.net.browser_proxy import BrowserProxy
from scrapersky.net.download import GuardedDownloadHandler
from scrapersky.net.policy import policy_from_settings

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
HANDLER = "scrapersky.rendering.RenderingDownloadHandler"
PROVIDER = "scrapersky.rendering.provider.LazyBrowserProvider"

logger = logging.getLogger(__name__)


def find_chromium(configured: str | None) -> str | None:
    if configured:
        return configured if os.access(configured, os.X_OK) else shutil.which(configured)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def proxy_option(proxies: dict[str, str]) -> dict[str, Any] | None:
    """Chromium ignores http_proxy: hand the browser the proxy Scrapy's HttpProxyMiddleware
    uses. Proxies are not settings in Scrapy: both read them with urllib's getproxies() (the
    environment's http_proxy, https_proxy and no_proxy)."""
    proxy = proxies.get("http") or proxies.get("https")
    if not proxy:
        return None
    parts = urlsplit(proxy)
    option: dict[str, Any] = {
        "server": f"{parts.scheme or 'http'}://{parts.hostname}:{parts.port or 80}"
    }
    if parts.username:
        option["username"], option["password"] = parts.username, parts.password or ""
    bypass = proxies.get("no")
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
    # No WebRTC UDP but through the proxy (there is none: no UDP at all). Debian's Chromium
    # ignores the --force-webrtc-ip-handling-policy spelling.
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
)


def wants_render(mode: str, metadata: dict[str, Any]) -> bool:
    """`always` renders; `auto` renders only pages whose static HTML has no title or no visible text."""
    return mode == "always" or (mode == "auto" and bool(metadata.get("needs_render")))


class RenderingAddon:
    """Load the Playwright download handler only when a Chromium executable is available and
    can be isolated, so runs on machines without a browser keep working (and simply never
    render); a machine that cannot isolate it renders nothing unless SCRAPERSKY_RENDER_UNISOLATED."""

    def update_settings(self, settings) -> None:
        executable = find_chromium(settings.get("SCRAPERSKY_CHROMIUM"))
        problem = browser_jail.isolation_problem() if executable else None
        configure_rendering(settings, executable, problem)


def configure_rendering(settings, executable: str | None, problem: str | None) -> None:
    """Rendering with `executable`, isolated unless `problem` says why it cannot be."""
    if problem and not settings.getbool("SCRAPERSKY_RENDER_UNISOLATED"):
        logger.warning(
            "rendering off: Chromium cannot be isolated here (%s); "
            "SCRAPERSKY_RENDER_UNISOLATED=true renders without network isolation or sandbox",
            problem,
        )
        executable = None
    settings.set("SCRAPERSKY_RENDERING", bool(executable), priority="addon")
    if not executable:
        return
    handlers = dict(settings.getdict("DOWNLOAD_HANDLERS"))
    handlers.update({"http": HANDLER, "https": HANDLER})
    # Over the project's own table (settings.py names the guarded handler there), never under it.
    priority = max(settings.getpriority("DOWNLOAD_HANDLERS") or 0, SETTINGS_PRIORITIES["addon"])
    settings.set("DOWNLOAD_HANDLERS", handlers, priority=priority)
    settings.set(
        "PLAYWRIGHT_LAUNCH_OPTIONS",
        _launch_options(settings, executable, problem),
        priority="addon",
    )
    settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="addon")
    settings.set("PLAYWRIGHT_BROWSER_PROVIDER", PROVIDER, priority="addon")
    # Bounded browser memory: few contexts, few pages each, closed after use.
    settings.set("PLAYWRIGHT_MAX_CONTEXTS", 2, priority="addon")
    settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 4, priority="addon")
    settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 30000, priority="addon")


def _launch_options(settings, executable: str, problem: str | None) -> dict[str, Any]:
    """Chromium behind its launcher (scrapersky.net.browser_jail), through the guard proxy when
    the address policy is on; isolated (its own network, its sandbox) unless `problem`."""
    launch: dict[str, Any] = {
        "headless": True,
        "chromium_sandbox": not problem,  # Playwright's default adds --no-sandbox
        "args": ["--disable-gpu", *QUIET_FLAGS],
    }
    if policy_from_settings(settings) is None:
        launch["proxy"] = proxy_option(getproxies())
    else:
        # Every connection Chromium opens goes through the guard proxy, loopback included, and
        # Chromium resolves no name itself (the proxy is an IP literal). Isolated, the guard is
        # all there is in Chromium's network namespace.
        limits = (
            settings.getint("SCRAPERSKY_MAX_HEADER_BYTES"),
            settings.getfloat("DOWNLOAD_TIMEOUT"),
        )
        guard = BrowserProxy.reserve(*limits) if problem else BrowserProxy.reserve_unix(*limits)
        settings.set("SCRAPERSKY_BROWSER_PROXY", guard, priority="addon")
        server = guard.url if problem else f"http://127.0.0.1:{browser_jail.PORT}"
        launch["proxy"] = {"server": server, "bypass": "<-loopback>"}
        launch["args"].append("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    if launch["proxy"] is None:
        del launch["proxy"]
    # Chromium itself until the first page to render puts its launcher here (_SharedBrowser).
    launch["executable_path"] = executable
    return launch


# Each crawler's one scrapy-playwright handler, shared by its http and https handlers so that one
# driver and one browser serve both schemes.
_BROWSERS: WeakKeyDictionary[Any, _SharedBrowser] = WeakKeyDictionary()


class RenderingDownloadHandler(GuardedDownloadHandler):
    """Scrapy's HTTP handler (with the header caps) that hands `meta["playwright"]` requests to
    scrapy-playwright's handler, made at the first page to render (_SharedBrowser): most runs
    never render, and Playwright costs ~0.3 s of CPU to import and ~120 MB to start."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler=crawler)
        self.crawler = crawler
        if crawler not in _BROWSERS:
            _BROWSERS[crawler] = _SharedBrowser(crawler)
        self.browser = _BROWSERS[crawler]

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def download_request(self, request):
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        return await self.browser.download_request(request)

    async def close(self) -> None:
        await super().close()
        if _BROWSERS.pop(self.crawler, None) is not None:  # the first of the two to close
            await self.browser.close()


class _SharedBrowser:
    """scrapy-playwright's handler, the guard proxy its browser connects through and the
    browser's launcher, all made at the first page to render (a crawl that renders nothing
    imports no Playwright and leaves no file)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.handler: Any = None
        self.launcher: str | None = None
        self.lock = asyncio.Lock()

    async def download_request(self, request):
        async with self.lock:
            if self.handler is None:
                self.handler = await self._start_handler()
            if self.launcher is None:
                guard = await self._start_guard()
                self.launcher = tempfile.mkdtemp(prefix="scrapersky-chromium-")
                options = self.handler.config.launch_options  # what the browser provider launches
                options["executable_path"] = browser_jail.write_launcher(
                    self.launcher, options["executable_path"], guard.path if guard else None
                )
        return await self.handler.download_request(request)

    async def _start_handler(self) -> Any:
        from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

        handler = ScrapyPlaywrightDownloadHandler.from_crawler(self.crawler)
        # What the handler does when the engine starts, which it was made too late to see
        # (scrapy-playwright 0.0.48, as pinned): make its browser provider. LazyBrowserProvider
        # starts nothing until the browser is needed, right after this.
        await handler._launch()
        return handler

    async def _start_guard(self) -> BrowserProxy | None:
        from twisted.internet import (
            reactor,
        )  # imported late: this module loads before the reactor is chosen

        guard: BrowserProxy | None = self.crawler.settings.get("SCRAPERSKY_BROWSER_PROXY")
        if guard is None:
            return None
        stats = self.crawler.stats

        def refused(host: str, reason: str) -> None:
            stats.inc_value("scrapersky/refused/browser")

        await guard.start(
            policy_from_settings(self.crawler.settings),
            lambda host: deferred_to_future(reactor.resolve(host)),
            refused,
        )
        return guard

    async def close(self) -> None:
        if self.handler is not None:
            await self.handler.close()
        guard: BrowserProxy | None = self.crawler.settings.get("SCRAPERSKY_BROWSER_PROXY")
        if guard is not None:
            await guard.close()
        if self.launcher is not None:
            shutil.rmtree(self.launcher, ignore_errors=True)
