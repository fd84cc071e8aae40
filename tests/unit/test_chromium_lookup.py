"""Where the browser for rendered pages is found: the configured one, else the first known name on PATH."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scrapersky.rendering import find_chromium


def _executable(directory: Path, name: str, mode: int = 0o755) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


def test_first_known_name_on_path_wins(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    _executable(second, "chromium")
    browser = _executable(first, "chromium-browser")
    _executable(first, "google-chrome")
    monkeypatch.setenv("PATH", f"{first}:{second}")
    # "chromium" comes first among the names, wherever it sits on PATH
    assert find_chromium(None) == str(second / "chromium")
    (second / "chromium").unlink()
    assert find_chromium(None) == str(browser)


def test_configured_browser_by_path_or_name(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    chrome = _executable(tmp_path, "google-chrome")
    _executable(tmp_path, "chromium")
    assert find_chromium(str(chrome)) == str(chrome)
    assert find_chromium("google-chrome") == str(chrome)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    not_runnable = _executable(elsewhere, "not-runnable", mode=0o644)
    assert find_chromium(str(not_runnable)) is None


def test_no_browser_anywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    _executable(tmp_path, "chromium", mode=0o644)  # present but not executable
    assert find_chromium(None) is None


def test_lazy_provider_starts_playwright_with_the_first_browser(chromium):
    """scrapy-playwright starts its provider when the engine starts; ours starts the Playwright
    driver only when the first page to render asks for a browser."""
    from scrapy.settings import Settings
    from scrapy_playwright.handler import Config

    from scrapersky.rendering.provider import LazyBrowserProvider

    launch = {"executable_path": chromium, "headless": True, "args": ["--no-sandbox"]}
    config = Config.from_settings(Settings({"PLAYWRIGHT_LAUNCH_OPTIONS": launch}))

    async def scenario() -> None:
        provider = LazyBrowserProvider(config)
        await provider.start()
        assert provider.playwright is None
        browser = await provider.launch_browser()
        try:
            assert provider.playwright is not None and browser.is_connected()
        finally:
            await browser.close()
            await provider.close()

    asyncio.run(scenario())
