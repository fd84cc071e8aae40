"""The old dotted paths of modules that left the package root (scrapersky.MOVED) still import, as
the very module of their new path, for the Scrapy settings, scrapyd.conf services and deployed
configs that name them."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.utils.misc import load_object

import scrapersky

ROOT = Path(__file__).resolve().parents[2]

# Each old path imported first, in a fresh interpreter, before anything imported its new path.
FIRST_BY_OLD_NAME = """
import importlib, json, sys
import scrapersky

found = {}
for old, new in scrapersky.MOVED.items():
    module = importlib.import_module(old)
    found[old] = [module is importlib.import_module(new), module.__name__, module.__spec__.name]
print(json.dumps(found))
"""


def test_an_old_path_imported_first_is_the_module_of_its_new_path():
    done = subprocess.run(
        [sys.executable, "-c", FIRST_BY_OLD_NAME],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found == {old: [True, new, new] for old, new in scrapersky.MOVED.items()}


@pytest.mark.parametrize(("old", "new"), sorted(scrapersky.MOVED.items()))
def test_old_and_new_path_give_the_same_module(old, new):
    new_module = __import__(new, fromlist=["_"])
    old_module = __import__(old, fromlist=["_"])
    assert old_module is new_module
    assert sys.modules[old] is new_module
    parent, _, leaf = old.rpartition(".")
    assert getattr(sys.modules[parent], leaf) is new_module


def test_an_unknown_old_name_is_still_missing():
    with pytest.raises(ModuleNotFoundError):
        __import__("scrapersky.no_such_module")


def test_the_old_service_paths_of_deployed_confs_still_mount_the_moved_services():
    # load_object is how Scrapyd mounts a [services] line and Scrapy loads a component path.
    from scrapersky.api.console import Console
    from scrapersky.api.metrics import Metrics

    assert load_object("scrapersky.metrics.Metrics") is Metrics
    assert load_object("scrapersky.console.Console") is Console


def test_the_old_setting_path_of_the_private_network_guard_still_loads_it():
    from scrapersky.net.guard import PrivateNetworkGuard

    assert load_object("scrapersky.middlewares.PrivateNetworkGuard") is PrivateNetworkGuard


def test_the_old_names_of_the_renamed_status_services_still_mount_them():
    from scrapersky.api.batches import BatchStatusService
    from scrapersky.api.jobs import JobStatusService

    assert load_object("scrapersky.api.jobs.JobStatus") is JobStatusService
    assert load_object("scrapersky.api.batches.BatchStatus") is BatchStatusService


def test_no_stub_module_is_left_at_an_old_path():
    for old in scrapersky.MOVED:
        leaf = old.removeprefix("scrapersky.")
        assert "." in leaf or not (ROOT / "scrapersky" / f"{leaf}.py").exists()
        assert "." in leaf or not (ROOT / "scrapersky" / leaf).exists()


def old_path_uses(path: Path) -> list[str]:
    """The old paths `path` imports or names in a string (a setting, a patch target)."""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]
        else:
            continue
        found += [
            f"{shown}:{node.lineno}: {name}"
            for name in names
            for old in scrapersky.MOVED
            if name == old or name.startswith(old + ".")
        ]
    return found


def test_nothing_in_the_project_uses_an_old_path():
    # The table itself and this file name old paths on purpose.
    skip = {ROOT / "scrapersky" / "__init__.py", Path(__file__).resolve()}
    files = [
        path
        for folder in ("scrapersky", "tests", "bench", "migrations")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in skip
    ]
    assert [use for path in files for use in old_path_uses(path)] == []


def test_an_old_path_use_is_seen(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('from scrapersky.errors import BadInput\nX = "scrapersky.scan.Scan"\n')
    assert old_path_uses(planted) == [
        "planted.py:1: scrapersky.errors",
        "planted.py:1: scrapersky.errors.BadInput",
        "planted.py:2: scrapersky.scan.Scan",
    ]
