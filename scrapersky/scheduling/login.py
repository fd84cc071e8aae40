"""The operator login of a Scrapyd node, and where the project's clients find it.

A node's operator endpoints (schedule.json, addversion.json, listjobs.json, logs/, ...) always
take a login: SCRAPYD_USERNAME and SCRAPYD_PASSWORD (or Scrapyd's own `username`/`password`)
when both are set, otherwise a password the node generates at its first start and keeps in its
password file (mode 0600; SCRAPYD_PASSWORD_FILE, or `scrapyd-password` in the node's `dbs_dir`).
Clients on the same machine (`scrapy batch`, a node's own scan.json) read that file, and send
what they read to loopback nodes only: it is this machine's node's login, no other's.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scrapersky.config import ConfigError

USERNAME = "scrapyd"  # the user of a generated login
FILE_NAME = "scrapyd-password"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Login:
    username: str
    password: str


def read_login(path: Path) -> Login | None:
    """The login kept in a password file (`username:password`), or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the Scrapyd password file {path}: {exc.strerror}") from None
    username, _, password = text.partition(":")
    if not username or not password:
        raise ConfigError(f"the Scrapyd password file {path} is not USERNAME:PASSWORD")
    return Login(username, password)


def create_login(path: Path) -> tuple[Login, bool]:
    """The password file's login, generated (and written 0600) when the file does not exist yet.
    (login, whether it was generated now). Nodes starting together agree: the file appears
    whole or not at all (written aside, then linked into place)."""
    found = read_login(path)
    if found is not None:
        return found, False
    path.parent.mkdir(parents=True, exist_ok=True)
    login = Login(USERNAME, secrets.token_urlsafe(24))
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(f"{login.username}:{login.password}\n")
        try:
            os.link(draft, path)
        except FileExistsError:  # another node won the race: use its login
            return read_login(path) or login, False
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()
    return login, True


def node_password_file(setting: str, dbs_dir: str) -> Path:
    """SCRAPYD_PASSWORD_FILE, else `scrapyd-password` in the node's dbs_dir (never served over HTTP)."""
    return Path(setting).expanduser() if setting else Path(dbs_dir).expanduser() / FILE_NAME


def local_password_file(setting: str) -> Path:
    """The password file of the node this machine would start from the current directory: the
    one SCRAPYD_PASSWORD_FILE names, else the one in the dbs_dir of Scrapyd's configuration
    (./scrapyd.conf, /etc/scrapyd/..., read as Scrapyd reads them)."""
    if setting:
        return Path(setting).expanduser()
    from scrapyd.config import Config  # Scrapyd's own search path for its configuration

    return node_password_file("", Config().get("dbs_dir", "dbs"))


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_NAMES or host.startswith("127.")


def client_logins(
    username: str, password: str, password_file: str
) -> tuple[Login | None, Login | None]:
    """(login for every node, login for loopback nodes only): SCRAPYD_USERNAME/SCRAPYD_PASSWORD
    when both are set, else the local node's password file when it exists (loopback only)."""
    if username and password:
        return Login(username, password), None
    try:
        return None, read_login(local_password_file(password_file))
    except ConfigError:
        return None, None  # no readable login here: nodes that need one answer 401
