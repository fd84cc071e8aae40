"""The console in real Chromium against a real Scrapyd node: sign in with a key, start a batch from
the page and follow it to its end, open a domain, cancel a batch. Every view is saved as a
screenshot under test-artifacts/console/ for review, and no view logs a console error."""

from __future__ import annotations

import shutil

import pytest

from scrapersky.db import keys
from scrapersky.db.engine import in_transaction
from tests.conftest import ROOT, scrapy_env
from tests.integration.test_scrapyd_batch import small_site
from tests.support.db import rows, scalar
from tests.support.fixture_web import DEMO_TITLE, demo_site
from tests.support.scrapyd_nodes import stop_all

SHOTS = ROOT / "test-artifacts" / "console"
VIEWS = [
    "1-batches-empty",
    "2-batch-running",
    "3-batch-complete",
    "4-domain",
    "5-batches",
    "6-batch-cancelled",
    "7-phone-batches",
]
# Far longer than the test waits for the cancel: no slow domain can finish its scan first.
SLOW_DELAY = 120.0
TENANT = "3f2b8c1e-7a4d-4e6f-9b0a-1c2d3e4f5a6b"


@pytest.fixture
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


def _page(browser, errors: list[str], **viewport):
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_console_starts_follows_opens_and_cancels(scrapyd, postgres_url, web, tmp_path, browser):
    # Screenshots of an earlier run must not stand in for this run's.
    shutil.rmtree(SHOTS, ignore_errors=True)
    for host in ("shop1.test", "shop2.test", "shop3.test"):
        demo_site(web, host)
    for index in range(8):
        small_site(web, f"slow{index}.test", delay=SLOW_DELAY)
    # A cancelled run lets its request in flight go on up to DOWNLOAD_TIMEOUT before it stops.
    env = scrapy_env(
        postgres_url,
        web,
        SCRAPERSKY_SCHEMES="http",
        SCRAPERSKY_CONCURRENT_SCANS="2",
        DOWNLOAD_TIMEOUT="5",
    )
    [node] = scrapyd(tmp_path / "nodes", 1, env)
    key = in_transaction(postgres_url, keys.create_key, TENANT, "console")[1]
    errors: list[str] = []
    try:
        page = _page(browser, errors)
        page.goto(f"{node.url}/console/")
        page.get_by_label("API key").fill(key)
        page.keyboard.press("Enter")
        page.get_by_text("No batch yet").wait_for()
        _shot(page, "1-batches-empty")

        # Start a batch from the page, by keyboard, and follow it to the end without reloading.
        page.get_by_role("link", name="New scan").click()
        page.get_by_label("Domains (one a line, or comma separated)").fill(
            "shop1.test\nshop2.test\nshop3.test"
        )
        page.get_by_role("button", name="Start").click()
        page.wait_for_url("**/console/#/batch/*")
        _shot(page, "2-batch-running")
        page.locator("h1 .state-complete").wait_for(timeout=90_000)
        assert page.locator("[data-count=complete]").inner_text() == "3"
        _shot(page, "3-batch-complete")
        batch_id = rows(postgres_url, "select batch_id, tenant_id from batch_jobs")[0]
        assert batch_id["tenant_id"] == TENANT

        # A domain: its metadata, sitemap tree and history.
        page.get_by_role("link", name="shop2.test").click()
        page.get_by_role("heading", name="shop2.test").wait_for()
        assert page.get_by_text("http://shop2.test/sitemap-products.xml").count() == 1
        metadata = page.locator("dl.meta")
        assert metadata.locator("dt", has_text="Title").count() == 1
        assert DEMO_TITLE in metadata.inner_text() and "[object" not in page.inner_text("main")
        _shot(page, "4-domain")

        # The list of batches, then a slow batch cancelled from its page.
        page.get_by_role("link", name="Batches").click()
        page.locator("tbody tr").first.wait_for()
        _shot(page, "5-batches")
        page.get_by_role("link", name="New scan").click()
        page.get_by_label("Domains (one a line, or comma separated)").fill(
            "\n".join(f"slow{index}.test" for index in range(8))
        )
        page.get_by_role("button", name="Start").click()
        page.locator("h1 .state-running").wait_for(timeout=60_000)
        page.get_by_role("button", name="Cancel batch").click()
        page.locator("h1 .state-cancelled").wait_for(timeout=30_000)
        _shot(page, "6-batch-cancelled")
        # The cancel stops the in-flight runs at once: nothing waits out the slow responses.
        node.wait_idle(60)
        assert rows(postgres_url, "select status from batch_jobs order by id") == [
            {"status": "complete"},
            {"status": "cancelled"},
        ]
        slow = rows(
            postgres_url,
            "select j.status, j.started_at, j.finished_at, count(p.id) as pages from jobs j"
            " left join domains d on d.domain = j.domain left join pages p on p.domain_id = d.id"
            " where j.domain like 'slow%' group by j.id, j.status, j.started_at, j.finished_at",
        )
        assert len(slow) == 8
        # Every slow job was cancelled (pending ones at once, running ones by their run), none
        # completed or stored a page.
        assert [(r["status"], r["pages"]) for r in slow] == [("cancelled", 0)] * 8, slow
        assert all(r["finished_at"] is not None for r in slow)
        assert any(r["started_at"] is not None for r in slow)  # a run was stopped mid-scan
        assert (
            scalar(
                postgres_url,
                "select count(*) from domains where domain like 'slow%' and status = 'complete'",
            )
            == 0
        )
        # The runs had started scanning: at least one slow site was asked for its sitemap.
        assert any(web.hits(f"slow{index}.test", "/sitemap.xml") for index in range(8))

        # Readable on a phone.
        phone = _page(browser, errors, width=390, height=844)
        phone.goto(f"{node.url}/console/")
        phone.get_by_label("API key").fill(key)
        phone.keyboard.press("Enter")
        phone.locator("tbody tr").first.wait_for()
        _shot(phone, "7-phone-batches")
        # A revoked key is signed out on its next call.
        in_transaction(
            postgres_url,
            keys.revoke_key,
            rows(postgres_url, "select key_id from api_keys")[0]["key_id"],
        )
        phone.reload()
        phone.get_by_label("API key").wait_for()
    finally:
        stop_all([node])
    assert errors == [] or all("401" in error for error in errors), errors
    written = sorted(path.name for path in SHOTS.glob("*.png"))
    assert written == [f"{view}.png" for view in VIEWS]
    assert all((SHOTS / name).stat().st_size > 0 for name in written)
