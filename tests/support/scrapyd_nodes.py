"""Real Scrapyd nodes for tests and benchmarks.

Each node runs `scrapyd --pidfile=` in its own temporary directory holding its own
scrapyd.conf (free loopback port, eggs/logs/dbs inside that directory, the project's
`[services]`), in its own process group so killing it takes its crawls with it.

A node runs what production runs, never the work tree: the project is built once per process
from a copy of its sources (`ProjectBuild`), as an egg (`scrapyd-deploy --build-egg`, uploaded
with addversion.json, which the crawls import) and as an installed copy (`pip install .` into a
directory of its own, which the node's webservices and console import, as in the Docker image).
No `PYTHONPATH` reaches a node, so a file missing from the package data fails the tests that
need it.

Nodes always hold an operator login. Unless a test gives one, a node generates its own at its
first start, as a shipped node does (the nodes of one start_nodes call share one password file,
SCRAPYD_PASSWORD_FILE, so one client login fits them all), and the harness reads it:
`node.get`/`node.post` send it to Scrapyd's own endpoints, and `client_env(nodes)` gives a
`scrapy` command the nodes and their login.
"""

from __future__ import annotations

import atexit
import configparser
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
import requests.auth

from tests.support.coverage import unmeasured
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "scrapersky"
PASSWORD_FILE = "scrapyd-password"  # scrapersky.scheduling.login.FILE_NAME, in a node's dbs_dir
START_TIMEOUT = 30.0
# Run as a script, not `-m tests.support…`: nothing of the checkout is on a node's import path.
MAIN = Path(__file__).with_name("scrapyd_main.py")


def _project_config(root: Path = ROOT) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(root / "scrapyd.conf")
    return parser


def project_services(root: Path = ROOT) -> dict[str, str]:
    """The `[services]` of a tree's scrapyd.conf, so test nodes mount what production mounts
    (a baseline tree's own, whose services may live at other paths)."""
    return dict(_project_config(root).items("services"))


def project_application(root: Path = ROOT) -> str:
    """The `application` of a tree's scrapyd.conf: the node's HTTP policy."""
    return _project_config(root)["scrapyd"]["application"]


def project_launcher(root: Path = ROOT) -> tuple[str | None, int]:
    """The `launcher` of a tree's scrapyd.conf (None: Scrapyd's own) and its `warm_spares`."""
    section = _project_config(root)["scrapyd"]
    return section.get("launcher"), section.getint("warm_spares", 0)


def tenant_endpoints() -> frozenset[str]:
    """The services that answer to API keys (every mounted one but health.json, metrics, console)."""
    return frozenset(project_services()) - {"health.json", "metrics", "console"}


class Bearer(requests.auth.AuthBase):
    """An API key as requests auth: `node.get(..., auth=Bearer(key))`."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


SHIPPED = ("pyproject.toml", "setup.py", "requirements.txt", "README.md", "LICENSE", "scrapy.cfg")
# The package and the top-level migrations/ that setup.py ships inside it (bench baselines from
# before the move have none).
SHIPPED_DIRS = ("scrapersky", "migrations")


@dataclass(frozen=True)
class ProjectBuild:
    """The project as it ships: `egg` for addversion.json, `site` a directory that holds it
    installed (put first on a node's import path by tests/support/scrapyd_main.py)."""

    egg: Path
    site: Path


@functools.cache
def project_build(root: Path = ROOT) -> ProjectBuild:
    """Build root's project once per process, from a copy of its sources (the tree stays untouched)."""
    build = Path(tempfile.mkdtemp(prefix="scrapersky-egg-"))
    atexit.register(shutil.rmtree, build, True)
    source = build / "src"
    for directory in SHIPPED_DIRS:
        if (root / directory).is_dir():
            shutil.copytree(
                root / directory, source / directory, ignore=shutil.ignore_patterns("__pycache__")
            )
    for name in SHIPPED:
        shutil.copy2(root / name, source / name)
    egg = build / "scrapersky.egg"
    deploy = Path(sys.executable).with_name("scrapyd-deploy")
    command = [str(deploy)] if deploy.exists() else [sys.executable, "-m", "scrapyd_client.deploy"]
    result = subprocess.run(
        [*command, "--build-egg", str(egg)],
        cwd=source,
        env=unmeasured(os.environ),
        capture_output=True,
        text=True,
    )
    if result.returncode or not egg.exists():
        raise RuntimeError(f"scrapyd-deploy --build-egg failed:\n{result.stderr[-3000:]}")
    # scrapyd-deploy leaves its build directories in the source copy: install from a clean one.
    clean = build / "clean"
    for directory in SHIPPED_DIRS:
        if (source / directory).is_dir():
            shutil.copytree(source / directory, clean / directory)
    for name in SHIPPED:
        shutil.copy2(source / name, clean / name)
    site = build / "site"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-compile",
            "--target",
            str(site),
            str(clean),
        ],
        env=unmeasured(os.environ),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"pip install of the project failed:\n{result.stderr[-3000:]}")
    return ProjectBuild(egg, site)


def migrate_as_shipped(database_url: str, root: Path = ROOT) -> str:
    """`scrapy migrate` from root's installed copy, run outside any checkout as an operator of the
    Docker image does; its output. A migration missing from the package data leaves the schema
    behind, and the nodes then refuse work."""
    site = project_build(root).site
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        DATABASE_URL=database_url,
        PYTHONPATH=str(site),
        SCRAPY_SETTINGS_MODULE="scrapersky.settings",
    )
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "migrate"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode:
        raise RuntimeError(
            f"scrapy migrate from the installed copy failed:\n{result.stderr[-3000:]}"
        )
    return result.stdout


def project_egg(root: Path = ROOT) -> Path:
    """The project egg, as scrapyd-deploy builds it from root's sources."""
    return project_build(root).egg


@dataclass
class ScrapydNode:
    directory: Path
    port: int
    process: subprocess.Popen
    username: str = ""
    password: str = ""
    session: requests.Session = field(default_factory=requests.Session)
    # Where the node keeps a login it generated (None: it was given one).
    password_file: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.username else None

    def load_login(self) -> None:
        """Read the login the node generated, once it has started (old code generates none)."""
        if self.password_file is not None and self.password_file.exists():
            username, _, password = self.password_file.read_text().strip().partition(":")
            self.username, self.password = username, password

    def get(
        self, endpoint: str, *, auth: object = "node", headers: dict | None = None, **params: str
    ) -> requests.Response:
        return self.session.get(
            f"{self.url}/{endpoint}",
            params=params,
            auth=self._auth(auth, endpoint, params),
            headers=headers,
            timeout=30,
        )

    def post(
        self,
        endpoint: str,
        data: object = None,
        *,
        files: object = None,
        json: object = None,
        auth: object = "node",
        headers: dict | None = None,
    ) -> requests.Response:
        return self.session.post(
            f"{self.url}/{endpoint}",
            data=data,
            files=files,
            json=json,
            auth=self._auth(auth, endpoint, data),
            headers=headers,
            timeout=60,
        )

    def _auth(self, auth: object, endpoint: str, data: object = None):
        """ "node": the operator login for Scrapyd's endpoints (and cancel.json in Scrapyd's form),
        and the session's own auth (an API key, if set) for the tenant services."""
        if auth != "node":
            return auth
        name = endpoint.split("?", 1)[0]
        scrapyd_cancel = name == "cancel.json" and isinstance(data, dict) and "project" in data
        return None if name in tenant_endpoints() and not scrapyd_cancel else self.auth

    def deploy(self, egg: Path, version: str = "1.0") -> None:
        with egg.open("rb") as file:
            answer = self.post(
                "addversion.json", {"project": PROJECT, "version": version}, files={"egg": file}
            )
        body = answer.json()
        if body.get("status") != "ok" or not body.get("spiders"):
            raise RuntimeError(f"deploy to {self.url} failed: {body}\n{self.log()[-3000:]}")
        # Scrapyd lists a project's spiders (a `scrapy list` process, seconds) on the first
        # schedule.json for the default version; doing it now keeps that out of the timings.
        self.get("listspiders.json", project=PROJECT).raise_for_status()

    def jobs(self) -> dict[str, list[dict]]:
        """The node's runs by state: pending, running, finished."""
        answer = self.get("listjobs.json", project=PROJECT).json()
        return {state: answer[state] for state in ("pending", "running", "finished")}

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Until no run is queued or running on the node."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listed = self.jobs()
            if not listed["pending"] and not listed["running"]:
                return
            time.sleep(0.25)
        raise TimeoutError(f"{self.url} still busy after {timeout} s: {self.jobs()}")

    def wait_warm(self, timeout: float = 60.0) -> None:
        """Until the node's warm spares have imported their libraries (scrapersky.api.launcher)."""
        deadline = time.monotonic() + timeout
        while "warm spares ready" not in self.log():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url}: no warm spares after {timeout} s")
            time.sleep(0.1)

    def run_log(self, run_id: str) -> str:
        path = self.directory / "logs" / PROJECT / "sitemap" / f"{run_id}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log(self) -> str:
        path = self.directory / "scrapyd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the node and every run it started, as a machine dying would."""
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        self.session.close()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


def write_config(
    directory: Path,
    port: int,
    *,
    username: str = "",
    password: str = "",
    max_proc: int = 4,
    application: str | None = None,
    source: Path = ROOT,
    warm_spares: int = 0,
) -> None:
    """A node's scrapyd.conf: source's application, services and launcher, with `warm_spares`
    (0 by default: a test node that runs no crawl should not import for one)."""
    services = "".join(f"{name} = {path}\n" for name, path in project_services(source).items())
    launcher, _ = project_launcher(source)
    spares = f"launcher = {launcher}\nwarm_spares = {warm_spares}\n" if launcher else ""
    (directory / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"application = {application or project_application(source)}\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"username = {username}\n"
        f"password = {password}\n"
        "poll_interval = 0.5\n"
        f"max_proc = {max_proc}\n"
        f"eggs_dir = {directory / 'eggs'}\n"
        f"logs_dir = {directory / 'logs'}\n"
        f"dbs_dir = {directory / 'dbs'}\n"
        "jobs_to_keep = 1000\n"
        "finished_to_keep = 1000\n" + spares + "\n[services]\n" + services
    )


def client_env(nodes: list[ScrapydNode]) -> dict[str, str]:
    """Environment for a `scrapy` command that talks to these nodes: SCRAPYD_URLS and their login."""
    env = {"SCRAPYD_URLS": ",".join(node.url for node in nodes)}
    logins = {(node.username, node.password) for node in nodes if node.username}
    if len(logins) > 1:
        raise ValueError("these nodes have different logins: start them together")
    if logins:
        [(env["SCRAPYD_USERNAME"], env["SCRAPYD_PASSWORD"])] = logins
    return env


def node_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment a node runs with: the given one, minus anything that would change its auth
    or peers, and minus PYTHONPATH, which would put a source tree before the deployed code."""
    return {
        k: v
        for k, v in env.items()
        if k not in ("SCRAPYD_USERNAME", "SCRAPYD_PASSWORD", "SCRAPYD_URLS", "PYTHONPATH")
    }


def launch_node(
    directory: Path,
    env: Mapping[str, str],
    *,
    username: str = "",
    password: str = "",
    max_proc: int = 4,
    extra_env: Mapping[str, str] | None = None,
    source: Path = ROOT,
    password_file: Path | None = None,
    application: str | None = None,
    warm_spares: int = 0,
) -> ScrapydNode:
    """Start a node running source's installed copy, without waiting for it to answer (see ready()).
    Without a username and password it generates its login into password_file (default: its
    dbs_dir's), which ready() reads."""
    site = project_build(source).site
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    write_config(
        directory,
        port,
        username=username,
        password=password,
        max_proc=max_proc,
        application=application,
        source=source,
        warm_spares=warm_spares,
    )
    extra = dict(extra_env or {})
    generated = None
    if not username:
        generated = password_file or directory / "dbs" / PASSWORD_FILE
        if password_file is not None:
            extra["SCRAPYD_PASSWORD_FILE"] = str(password_file)
    with (directory / "scrapyd.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(MAIN), str(site), "--pidfile="],
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**node_env(env), **extra},
            start_new_session=True,
        )
    return ScrapydNode(directory, port, process, username, password, password_file=generated)


def ready(node: ScrapydNode, timeout: float = START_TIMEOUT) -> ScrapydNode:
    """Wait until the node answers HTTP (an auth challenge counts as an answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.alive():
            raise RuntimeError(f"scrapyd on port {node.port} exited:\n{node.log()[-3000:]}")
        try:
            if node.session.get(f"{node.url}/daemonstatus.json", timeout=2).status_code in (
                200,
                401,
            ):
                node.load_login()
                return node
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    node.stop()
    raise TimeoutError(
        f"scrapyd on port {node.port} did not answer in {timeout} s:\n{node.log()[-3000:]}"
    )


def start_nodes(
    base: Path,
    count: int,
    env: Mapping[str, str],
    *,
    deploy: bool = True,
    source: Path = ROOT,
    **options,
) -> list[ScrapydNode]:
    """Start `count` nodes side by side under base/node-N, ready and (by default) with the project
    deployed, built from `source`."""
    egg = project_egg(source) if deploy else None
    if not options.get("username"):
        options.setdefault("password_file", base / PASSWORD_FILE)  # one login for the group
    nodes = [
        launch_node(base / f"node-{index}", env, source=source, **options) for index in range(count)
    ]
    try:
        for node in nodes:
            ready(node)
            if egg is not None:
                node.deploy(egg)
        if options.get("warm_spares"):
            for node in nodes:
                node.wait_warm()
    except Exception:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes: list[ScrapydNode]) -> None:
    for node in nodes:
        node.stop()
