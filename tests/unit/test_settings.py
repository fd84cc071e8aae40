"""Defaults a demanding operator relies on, and environment variables overriding them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def project_settings(**env: str) -> dict:
    code = (
        "import json; from scrapy.utils.project import get_project_settings; s = get_project_settings(); "
        "print(json.dumps({k: s.get(k) for k in ('ROBOTSTXT_OBEY', 'AUTOTHROTTLE_ENABLED', "
        "'CONCURRENT_REQUESTS_PER_DOMAIN', 'USER_AGENT', 'SCRAPERSKY_ALLOW_PRIVATE_NETWORKS', 'DATABASE_URL', "
        "'SCRAPERSKY_STALE_AFTER', 'TELNETCONSOLE_ENABLED', 'REMOTE_CONTROL_ENABLED', "
        "'DOWNLOAD_VERIFY_CERTIFICATES')}))"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SCRAPERSKY_", "DATABASE_URL", "AUTOTHROTTLE"))
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    return json.loads(out.stdout)


def test_polite_and_closed_by_default():
    settings = project_settings()
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert 0 < settings["CONCURRENT_REQUESTS_PER_DOMAIN"] <= 8
    assert (
        settings["USER_AGENT"].startswith("ScraperSky/") and "+https://" in settings["USER_AGENT"]
    )
    assert settings["SCRAPERSKY_ALLOW_PRIVATE_NETWORKS"] is False
    assert (
        settings["DATABASE_URL"] == "sqlite:///scrapersky.db"
        and settings["SCRAPERSKY_STALE_AFTER"] == 300
    )
    assert not settings["TELNETCONSOLE_ENABLED"] and not settings["REMOTE_CONTROL_ENABLED"]
    assert settings["DOWNLOAD_VERIFY_CERTIFICATES"] is True


def test_environment_variables_override_defaults():
    settings = project_settings(
        SCRAPERSKY_ALLOW_PRIVATE_NETWORKS="1",
        DATABASE_URL="sqlite:////tmp/x.db",
        SCRAPERSKY_STALE_AFTER="7",
        SCRAPERSKY_CONTACT_URL="https://ops.example.org",
    )
    assert (
        settings["SCRAPERSKY_ALLOW_PRIVATE_NETWORKS"] is True
        and settings["DATABASE_URL"] == "sqlite:////tmp/x.db"
    )
    assert (
        settings["SCRAPERSKY_STALE_AFTER"] == 7
        and "+https://ops.example.org" in settings["USER_AGENT"]
    )
