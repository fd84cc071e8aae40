"""Chromium's launcher: its own network, no secrets, no root, the sandbox on.

Playwright starts the script `write_launcher` writes (its `executable_path`) instead of
Chromium; the script runs `main` here, which execs Chromium as the same process once:

- with `--guard SOCKET`, it is in a network namespace of its own whose only interface is
  loopback (a new network and mount namespace as root; a new user, network and mount
  namespace as anyone else), listening on 127.0.0.1:PORT there, and that listening socket has
  been handed to the guard proxy over the guard's unix socket (SCM_RIGHTS): the crawl's guard
  accepts Chromium's connections on it, so the guard is all Chromium can reach, UDP (WebRTC)
  included; an empty tmpfs hides /run, where local services keep their unix sockets
  (PostgreSQL's /var/run/postgresql among them);
- its environment holds only what `browser_environment` keeps (no DATABASE_URL, SCRAPYD_*,
  SCRAPERSKY_*, proxy credentials), and HOME is the profile directory;
- run as root, it gives Playwright's profile directory to `nobody` and becomes `nobody`
  (`setpriv`, no new privileges): Chromium refuses its sandbox as root, and a compromised
  browser process then holds no root.

Playwright drives Chromium over a pipe (fds 3 and 4), which crosses namespaces.
`isolation_problem` checks, in a forked child, that this machine allows all of it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import pwd
import shlex
import socket
import struct
import sys
from pathlib import Path

PORT = 3128  # the guard's port inside Chromium's namespace, where nothing else listens
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
# Where local services keep unix sockets a compromised browser could otherwise connect to.
HIDDEN = "/run"
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
# What Chromium may see of the crawl's environment: locale and time zone, nothing else.
KEPT_VARIABLES = ("PATH", "LANG", "LANGUAGE", "TZ")
HANDOVER_TIMEOUT = 10.0


def browser_environment(environ: dict[str, str], home: str) -> dict[str, str]:
    """The environment Chromium runs with: an allow-list, so no secret reaches it by a new name."""
    kept = {
        name: value
        for name, value in environ.items()
        if name in KEPT_VARIABLES or name.startswith("LC_")
    }
    kept.setdefault("PATH", "/usr/bin:/bin")
    return {**kept, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home}


def write_launcher(directory: str, chromium: str, guard_socket: str | None) -> str:
    """The executable Playwright starts: this module, run by this Python, in front of Chromium."""
    import scrapersky

    # The directory this crawl imported the package from (a work tree, site-packages or an egg).
    package_root = str(Path(scrapersky.__file__).resolve().parents[1])
    command = [sys.executable, "-P", "-m", __name__, "--chromium", chromium]
    if guard_socket:
        command += ["--guard", guard_socket]
    path = os.path.join(directory, "chromium")
    with open(path, "w") as script:
        script.write(
            f'#!/bin/sh\nPYTHONPATH={shlex.quote(package_root)} exec {shlex.join(command)} -- "$@"\n'
        )
    os.chmod(path, 0o700)
    return path


# --- namespaces ---------------------------------------------------------------------------


def _libc(name: str, *args) -> None:
    function = getattr(ctypes.CDLL(None, use_errno=True), name)
    if function(*args) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{name}: {os.strerror(number)}")


def _unshare(flags: int) -> None:
    _libc("unshare", flags)


def enter_network_namespace() -> None:
    """A network namespace with only loopback, up, and a mount namespace where /run is empty; as
    anyone but root, in a user namespace of its own where this process keeps its uid and gid
    (so Chromium does not run as root there)."""
    if os.geteuid() == 0:
        _unshare(CLONE_NEWNET | CLONE_NEWNS)
    else:
        uid, gid = os.geteuid(), os.getegid()
        _unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    # Private first, so the tmpfs stays in this namespace.
    _libc("mount", b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    _libc(
        "mount", b"tmpfs", HIDDEN.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"mode=755"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | IFF_UP))


def _nobody() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def reason(exc: Exception) -> str:
    """One line: `unshare: Operation not permitted`, `Permission denied: /proc/self/uid_map`."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


def isolation_problem() -> str | None:
    """Why Chromium cannot be isolated here (None: it can): a forked child makes the network
    namespace the launcher makes, then, as the user Chromium runs as, the user namespace its
    sandbox makes."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child ends with os._exit, before coverage saves
        os.close(read)
        code = 0
        try:
            enter_network_namespace()
            if os.geteuid() == 0:
                uid, gid = _nobody()
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            _unshare(CLONE_NEWUSER)
        except Exception as exc:
            os.write(write, reason(exc).encode()[:500])
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return message or f"the namespace check ended with status {status}"


# --- the launcher -------------------------------------------------------------------------


def hand_over(guard_socket: str, address: tuple[str, int] = ("127.0.0.1", PORT)) -> int:
    """Listen on 127.0.0.1:PORT in this namespace, and give that socket to the guard proxy;
    the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(address)
        listener.listen(128)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as guard:
            guard.settimeout(HANDOVER_TIMEOUT)
            guard.connect(guard_socket)
            socket.send_fds(guard, [b"listener"], [listener.fileno()])
            if guard.recv(1) != b"1":
                raise OSError(errno.ECONNREFUSED, "the guard proxy did not take the listener")
        return listener.getsockname()[1]


def _profile(args: list[str]) -> str | None:
    for arg in args:
        if arg.startswith("--user-data-dir="):
            return arg.split("=", 1)[1]
    return None


def _give(directory: str, uid: int, gid: int) -> None:
    for root, dirs, files in os.walk(directory):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def command(chromium: str, args: list[str], profile: str | None) -> list[str]:
    """Chromium's command: behind `setpriv`, as `nobody`, when this runs as root."""
    if os.geteuid() != 0:
        return [chromium, *args]
    uid, gid = _nobody()
    if profile:
        _give(profile, uid, gid)  # Playwright made it, root's and 0700
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={gid}",
        "--clear-groups",
        "--no-new-privs",
        "--",
        chromium,
        *args,
    ]


def main(argv: list[str]) -> None:
    options, args = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    settings = dict(zip(options[::2], options[1::2], strict=True))
    if "--guard" in settings:
        enter_network_namespace()
        hand_over(settings["--guard"])
    profile = _profile(args)
    home = profile or "/tmp"
    run = command(settings["--chromium"], args, profile)
    os.execvpe(run[0], run, browser_environment(dict(os.environ), home))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (OSError, ValueError, KeyError) as exc:
        sys.exit(f"error: chromium launcher: {reason(exc)}")
