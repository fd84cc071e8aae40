"""A warm spare: a Python that has imported what every crawl imports, waiting for its run.

scrapersky.api.launcher starts this file by its path, never as part of the scrapersky package:
a run must import the project from the egg Scrapyd activates for it, so nothing of scrapersky is
imported here. The spare

1. imports the libraries of LIBRARIES and the Scrapy components of Scrapy's default settings,
   never the reactor (the crawl installs its own);
2. writes `warm` on file descriptor 3 and closes it;
3. reads one JSON line on stdin, `{"module": ..., "args": [...], "env": {...}}`, takes that
   environment as its own and runs the module as `python -m MODULE ARGS...` would;
4. or, when stdin ends without a line (the node stopping or gone), exits with status 0.

A library that is not installed is skipped: the run imports what it needs, as it would cold.
"""

import importlib
import json
import os
import runpy
import sys

# As `python -m`: the working directory first on the path, not this file's folder.
sys.path[0] = os.getcwd()

LIBRARIES = (
    "pkg_resources",  # Scrapyd's runner activates eggs with it
    "scrapyd.eggstorage",  # and finds them with this (the runner itself runs as __main__)
    "scrapyd.utils",
    "scrapy.cmdline",
    "scrapy.crawler",
    "twisted.internet.asyncioreactor",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.psycopg2",
    "psycopg2.extras",
    "lxml.etree",
    "lxml.html",
    "phonenumbers",
    "tldextract",
    "protego",
    "itemadapter",
    "w3lib.html",
)
READY_FD = 3


def scrapy_components() -> list[str]:
    """The modules of the components Scrapy's default settings name (middlewares, extensions,
    download handlers, ...)."""
    from scrapy.settings import default_settings

    names: set[str] = set()
    for value in vars(default_settings).values():
        paths = [*value, *value.values()] if isinstance(value, dict) else [value]
        names.update(
            path.rpartition(".")[0]
            for path in paths
            if isinstance(path, str) and path.startswith("scrapy.") and " " not in path
        )
    return sorted(names)


def warm() -> None:
    for name in LIBRARIES:
        _import(name)
    for name in scrapy_components():
        _import(name)


def _import(name: str) -> None:
    try:
        importlib.import_module(name)
    except ImportError:
        pass  # not installed here: the run imports what it needs, as it would cold


def main() -> int:
    warm()
    try:
        with os.fdopen(READY_FD, "wb") as ready:
            ready.write(b"warm\n")
    except BrokenPipeError:
        pass  # the node is gone: its stdin ends too, below
    line = sys.stdin.buffer.readline()
    if not line:
        return 0
    order = json.loads(line)
    os.environ.clear()
    os.environ.update(order["env"])
    sys.argv = ["-m", *order["args"]]
    sys.modules.pop(order["module"], None)  # it runs as __main__, as under `python -m`
    runpy.run_module(order["module"], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
