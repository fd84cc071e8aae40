"""Docker cannot run here, so the image's build steps are run as commands against a copy of
what the Dockerfile COPYs: the files exist, the egg builds and carries the package, the node
config matches the project's services, and the entrypoint refuses to expose a node without auth."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
BIN = Path(sys.executable).parent


def copied_sources() -> list[str]:
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    return sources


def test_every_copied_file_exists():
    sources = copied_sources()
    assert "scrapersky" in sources and "requirements.txt" in sources and "pyproject.toml" in sources
    for source in sources:
        assert (ROOT / source).exists(), source


def test_image_runs_as_non_root_with_system_chromium():
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert "apt-get install -y --no-install-recommends chromium" in DOCKERFILE
    assert not re.search(r"^RUN .*playwright install", DOCKERFILE, re.M)


def test_egg_build_step_packages_the_project(tmp_path):
    build = tmp_path / "app"
    build.mkdir()
    for source in copied_sources():
        if source.startswith("deploy/"):
            continue
        src = ROOT / source
        (shutil.copytree if src.is_dir() else shutil.copy)(src, build / source)
    subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--build-egg", str(tmp_path / "scrapersky.egg")],
        cwd=build,
        check=True,
        capture_output=True,
        timeout=120,
    )
    names = zipfile.ZipFile(tmp_path / "scrapersky.egg").namelist()
    assert "scrapersky/spiders/sitemap.py" in names
    assert "scrapersky/metadata/fingerprints.json" in names
    assert "scrapersky/api/node.py" in names
    assert (
        "scrapersky/migrations/env.py" in names
        and "scrapersky/migrations/versions/0001_initial_schema.py" in names
    )


def test_node_config_serves_the_project_webservices():
    node, project = configparser.ConfigParser(), configparser.ConfigParser()
    node.read(ROOT / "deploy/scrapyd-node.conf")
    project.read(ROOT / "scrapyd.conf")
    assert dict(node["services"]) == dict(project["services"])
    assert node["scrapyd"]["application"] == project["scrapyd"]["application"]
    assert project["scrapyd"]["bind_address"] == "127.0.0.1"
    assert node["scrapyd"]["jobstorage"].endswith("SqliteJobStorage")


def test_entrypoint_refuses_a_node_without_credentials():
    script = ROOT / "deploy/docker/entrypoint.sh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPYD_")}
    refused = subprocess.run(
        ["sh", str(script)], env=env, capture_output=True, text=True, timeout=10
    )
    assert refused.returncode == 2 and refused.stderr.startswith("error: set SCRAPYD_USERNAME")
    passthrough = subprocess.run(
        ["sh", str(script), "echo", "ran"], env=env, capture_output=True, text=True, timeout=10
    )
    assert passthrough.stdout.strip() == "ran"
