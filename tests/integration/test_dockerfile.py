"""Docker cannot run here, so the image's build steps are run as commands against a copy of
what the Dockerfile COPYs: the files exist, the package installs and Scrapyd runs it, the node
config matches the project's services, and the entrypoint refuses to expose a node without auth."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
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
    assert "migrations" in sources  # setup.py maps it into the package
    for source in sources:
        assert (ROOT / source).exists(), source


def test_image_runs_as_non_root_with_system_chromium():
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.M)
    assert "apt-get install -y --no-install-recommends chromium" in DOCKERFILE
    assert not re.search(r"^RUN .*playwright install", DOCKERFILE, re.M)


def test_package_install_step_serves_the_project_to_scrapyd(tmp_path):
    build = tmp_path / "app"
    build.mkdir()
    for source in copied_sources():
        if source.startswith("deploy/"):
            continue
        src = ROOT / source
        (shutil.copytree if src.is_dir() else shutil.copy)(src, build / source)
    site = tmp_path / "site"
    # The image's `pip install --no-deps .`, into a directory of its own (the dependencies are
    # this virtualenv's, as the image's come from requirements.txt).
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            ".",
        ],
        cwd=build,
        check=True,
        capture_output=True,
        timeout=300,
    )
    package = site / "scrapersky"
    for path in (
        "spiders/sitemap.py",
        "metadata/fingerprints.json",
        "api/node.py",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial_schema.py",
    ):
        assert (package / path).is_file(), path
    # Scrapyd, configured as in the image and with no egg, lists the project and starts its
    # crawls from the installed package.
    node = tmp_path / "node"
    node.mkdir()
    shutil.copy(ROOT / "deploy/docker/scrapyd-project.conf", node / "scrapyd.conf")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "COVERAGE_"))}
    env["PYTHONPATH"] = str(site)
    script = (
        "import os, subprocess, sys\n"
        "from scrapyd.config import Config\n"
        "from scrapyd.environ import Environment\n"
        "from scrapyd.utils import get_project_list\n"
        "config = Config()\n"
        "print(get_project_list(config))\n"
        "message = {'_project': 'scrapersky', '_spider': 'sitemap', '_job': 'j'}\n"
        "run_env = Environment(config).get_environment(message, 0)\n"
        "code = 'import scrapersky; print(scrapersky.__file__)'\n"
        "subprocess.run([sys.executable, '-c', code], env=run_env, check=True)\n"
        "runner = [sys.executable, '-m', 'scrapyd.runner', 'list']\n"
        "subprocess.run(runner, env=run_env, check=True)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script],
        cwd=node,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    projects, location, spiders = shown.stdout.splitlines()
    assert projects == "['scrapersky']"
    assert location == str(package / "__init__.py")
    assert spiders == "sitemap"


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
