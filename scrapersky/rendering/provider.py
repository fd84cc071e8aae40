"""The browser provider scrapy-playwright uses for ScraperSky (PLAYWRIGHT_BROWSER_PROVIDER, set by
scrapersky.rendering.RenderingAddon). A module of its own: importing Playwright costs ~0.4 s and
~8 MB, which runs that never render should not pay."""

from __future__ import annotations

from playwright.async_api import Browser
from scrapy_playwright.provider import PlaywrightBrowserProvider


class LazyBrowserProvider(PlaywrightBrowserProvider):
    """scrapy-playwright's own provider, started by the first page to render instead of when the
    crawl starts: the Playwright driver costs ~120 MB, and most runs never render."""

    async def start(self) -> None:
        pass  # the handler calls this when the engine starts: nothing to start yet

    async def launch_browser(self) -> Browser:
        # Called behind the handler's browser launch lock, for the first page to render.
        if self.browser_type is None:
            await super().start()
        return await super().launch_browser()
