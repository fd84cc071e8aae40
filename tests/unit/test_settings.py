"""Defaults a demanding operator relies on, and environment variables overriding them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings

from scrapersky.config import ConfigError, check_settings
from scrapersky.config.specs import SETTINGS

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


# Every project setting's default as settings.py set it before the settings were declared in
# scrapersky.config.specs: deriving them from the declarations changes none.
DEFAULTS = {
    "DATABASE_URL": "sqlite:///scrapersky.db",
    "SCRAPERSKY_DEFAULT_TENANT": "550e8400-e29b-41d4-a716-446655440000",
    "SCRAPERSKY_SCHEMES": "https,http",
    "SCRAPERSKY_ALLOW_PRIVATE_NETWORKS": False,
    "SCRAPERSKY_ALLOWED_NETWORKS": "",
    "SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS": False,
    "SCRAPERSKY_CHROMIUM": "",
    "SCRAPERSKY_RENDER_UNISOLATED": False,
    "SCRAPERSKY_STALE_AFTER": 300,
    "SCRAPERSKY_MAX_ATTEMPTS": 3,
    "SCRAPERSKY_CONTACT_URL": "https://github.com/scrapersky/scrapersky",
    "SCRAPERSKY_CONCURRENT_SCANS": 16,
    "SCRAPERSKY_SITEMAP_MAX_DEPTH": 5,
    "SCRAPERSKY_SITEMAPS_IN_FLIGHT": 2,
    "SCRAPERSKY_SITEMAP_MAX_BYTES": 104857600,
    "SCRAPERSKY_MAX_SITEMAPS": 50000,
    "SCRAPERSKY_MAX_HEADER_BYTES": 65536,
    "SCRAPERSKY_MAX_HEADERS": 256,
    "SCRAPERSKY_PAGE_CHUNK": 2000,
    "SCRAPERSKY_STORE_BUFFER": 50000,
    "SCRAPERSKY_STORE_RETRIES": 8,
    "SCRAPERSKY_WEBHOOK_RETRY_BASE": 10,
    "SCRAPERSKY_WEBHOOK_DEADLINE": 10,
    "SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES": 65536,
    "SCRAPERSKY_WEBHOOK_ALLOW_HTTP": False,
    "SCRAPERSKY_PENDING_AFTER": 1800,
    "SCRAPERSKY_CORS_ORIGINS": "",
    "SCRAPERSKY_MAX_REQUEST_BYTES": 16777216,
    "SCRAPERSKY_MAX_API_REQUEST_BYTES": 1048576,
    "SCRAPERSKY_ALLOWED_HOSTS": "",
    "SCRAPERSKY_MAX_BATCH_DOMAINS": 10000,
    "SCRAPERSKY_MAX_BATCH_SLOTS": 4,
    "SCRAPERSKY_MAX_RETRIES": 3,
    "SCRAPYD_URLS": "",
    "SCRAPYD_USERNAME": "",
    "SCRAPYD_PASSWORD": "",
    "SCRAPYD_PASSWORD_FILE": "",
    "ROBOTSTXT_OBEY": True,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.25,
    "AUTOTHROTTLE_MAX_DELAY": 10.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
    "CONCURRENT_REQUESTS": 64,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOADER": "scrapersky.net.downloader.Downloader",
    "DOWNLOAD_TIMEOUT": 30,
    "CONCURRENT_ITEMS": 8,
    "DNS_TIMEOUT": 15,
    "RETRY_TIMES": 1,
    "DOWNLOAD_VERIFY_CERTIFICATES": True,
    "REDIRECT_MAX_TIMES": 5,
    "DOWNLOAD_MAXSIZE": 67108864,
    "DOWNLOAD_WARNSIZE": 0,
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "FEED_EXPORT_ENCODING": "utf-8",
    "TWISTED_DNS_RESOLVER": "scrapersky.net.resolver.GuardedResolver",
}


def test_every_default_is_the_one_settings_py_had():
    import json

    from scrapersky import __version__

    code = (
        "import json, sys; from scrapy.utils.project import get_project_settings; "
        "s = get_project_settings(); print(json.dumps({k: s.get(k) for k in json.loads(sys.argv[1])}))"
    )
    # Only the environment a Scrapy project needs: none of the settings' own variables.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps([*DEFAULTS, "USER_AGENT"])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(out.stdout)
    assert (
        got.pop("USER_AGENT") == f"ScraperSky/{__version__} (+{DEFAULTS['SCRAPERSKY_CONTACT_URL']})"
    )
    typed = {name: (type(value).__name__, value) for name, value in got.items()}
    assert typed == {name: (type(value).__name__, value) for name, value in DEFAULTS.items()}


def test_every_setting_of_settings_py_is_scrapys_own_or_declared():
    # Scrapy takes every upper-case name of the module for a setting.
    from scrapy.settings import default_settings

    from scrapersky import settings
    from scrapersky.config.specs import BY_NAME

    names = {name for name in dir(settings) if name.isupper()}
    assert names - set(dir(default_settings)) - set(BY_NAME) == set()


BAD_VALUES = {
    "bool": "maybe",
    "uuid": "tenant-1",
    "networks": "10.0.0.0/33",
    "schemes": "ftp",
    "origins": "*",
    "host names": "*.example.com",
    "log level": "LOUD",
}


@pytest.mark.parametrize(
    "setting",
    [s for s in SETTINGS if s.kind not in ("text", "url")],
    ids=lambda setting: setting.name,
)
def test_every_declared_setting_is_checked(setting):
    settings = Settings()
    settings.setmodule("scrapersky.settings", priority="project")
    check_settings(settings)  # the defaults pass
    bad = setting.minimum - 1 if setting.kind == "int" else BAD_VALUES[setting.kind]
    settings.set(setting.name, str(bad), priority="cmdline")
    with pytest.raises(ConfigError, match=f"^{setting.name}( must|:)"):
        check_settings(settings)


def test_the_configuration_docs_show_the_declared_settings():
    from scrapersky.config.specs import markdown

    text = (ROOT / "docs" / "configuration.md").read_text()
    start = text.index("-->\n", text.index("<!-- The table below is printed by")) + len("-->\n")
    end = text.index("<!-- end of the generated table -->")
    assert text[start:end] == markdown(), "run python -m scrapersky.config.specs --markdown"


def test_components_read_typed_settings_built_once():
    from scrapersky.config.scan import ScanSettings
    from scrapersky.scheduling.reaper import JobTimes

    settings = Settings()
    settings.setmodule("scrapersky.settings", priority="project")
    assert JobTimes.from_settings(settings) == JobTimes(300.0, 3, 1800.0)
    settings.setdict(
        {
            "SCRAPERSKY_STALE_AFTER": "7",
            "SCRAPERSKY_MAX_ATTEMPTS": "2",
            "SCRAPERSKY_PENDING_AFTER": "60",
            "SCRAPERSKY_SCHEMES": " http , https",
            "SCRAPERSKY_PAGE_CHUNK": "10",
            "FEEDS": {"out.csv": {"format": "csv"}},
        },
        priority="cmdline",
    )
    assert JobTimes.from_settings(settings) == JobTimes(7.0, 2, 60.0)
    scan = ScanSettings.from_settings(settings)
    assert (scan.schemes, scan.chunk, scan.diffs) == (("http", "https"), 10, False)
    assert scan.max_depth == 5 and scan.default_tenant == DEFAULTS["SCRAPERSKY_DEFAULT_TENANT"]
