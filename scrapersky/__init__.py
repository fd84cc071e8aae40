"""ScraperSky: every sitemap a site publishes, every URL listed, the homepage's metadata, in SQL.

MOVED is the one table of old module paths: modules that left the package root keep their old
dotted names for what names them from outside the code (Scrapy settings, scrapyd.conf
`[services]`, deployed configs), and `import scrapersky.<old>` gives the very module object of
its new path. Nothing in the project imports an old name (tests/unit/test_import_map.py).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Sequence

__version__ = "1.1.0"

# old dotted path -> where the module lives now (docs/architecture.md lists them)
MOVED: dict[str, str] = {
    "scrapersky.metrics": "scrapersky.api.metrics",
    "scrapersky.console": "scrapersky.api.console",
    "scrapersky.errors": "scrapersky.core.errors",
    "scrapersky.states": "scrapersky.core.states",
    "scrapersky.clock": "scrapersky.core.clock",
    "scrapersky.retry": "scrapersky.core.retry",
    "scrapersky.messages": "scrapersky.core.messages",
    "scrapersky.storable": "scrapersky.core.storable",
    "scrapersky.domains": "scrapersky.core.domains",
    "scrapersky.spreadsheet": "scrapersky.core.spreadsheet",
    "scrapersky.redact": "scrapersky.core.redact",
    "scrapersky.malloc": "scrapersky.core.malloc",
    "scrapersky.setting_specs": "scrapersky.config.specs",
    "scrapersky.scan_settings": "scrapersky.config.scan",
    "scrapersky.playwright_provider": "scrapersky.rendering.provider",
    "scrapersky.views": "scrapersky.db.views",
    "scrapersky.normalize": "scrapersky.db.normalize",
    "scrapersky.webhooks": "scrapersky.extensions.webhooks",
    "scrapersky.exceptions": "scrapersky.spiders.exceptions",
    "scrapersky.arguments": "scrapersky.config.arguments",
    "scrapersky.scan_options": "scrapersky.config.scan_options",
    "scrapersky.scan": "scrapersky.spiders.scan",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path of MOVED and loads it as the module of its new path."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a placeholder, replaced in sys.modules by exec_module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system returns what sys.modules holds under the old name once this
        # returns: the module of the new path, whose own name and spec stay untouched.
        sys.modules[module.__name__] = importlib.import_module(MOVED[module.__name__])


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModules())
