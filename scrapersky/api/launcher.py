"""Scrapyd's launcher with warm spares, set by `launcher = scrapersky.api.launcher.Launcher` in
scrapyd.conf.

A crawl process spends about 1.3 s of CPU importing Scrapy, Twisted, SQLAlchemy, lxml and the
rest before it scans anything, and a batch starts all its runs at once. So the node keeps
`warm_spares` (scrapyd.conf; 0 when absent, 2 as shipped) Pythons that have already imported
those libraries (scrapersky/api/spare.py) and hands each new run to one of them: the run's
arguments and environment go down the spare's stdin, and Scrapyd's process protocol takes over
the spare's transport, so the run's pid, output, cancel and end are Scrapyd's as for a process
it started. Without a spare waiting, a run starts cold, as in Scrapyd.

A spare serves one run and is replaced when that run ends (not when it starts, so its imports
never compete with the batch that took it). One that dies before its run is logged and not
restarted until a run ends. When the node stops, spares see their stdin close and exit.

A run whose process cannot start (an argument with a NUL in it, no process left) is logged,
listed as finished, and its slot takes the next run: Scrapyd lost the run and the slot.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from scrapyd import launcher
from scrapyd.interfaces import IEnvironment
from twisted.internet import protocol, reactor
from twisted.logger import Logger

log = Logger()
SPARE = Path(__file__).with_name("spare.py")
READY_FD = 3  # scrapersky.api.spare.READY_FD: the spare is not importable from here by design


class Spare(protocol.ProcessProtocol):
    """One warm Python, and, once it has a run, a relay of its process events to that run's
    protocol."""

    def __init__(self, owner: Launcher) -> None:
        self.owner = owner
        self.run: launcher.ScrapyProcessProtocol | None = None
        self.warm = False
        self.pid: int | None = None

    def connectionMade(self) -> None:
        self.pid = self.transport.pid

    def start(self, run: launcher.ScrapyProcessProtocol, args: list[str], env: dict) -> None:
        """Hand `args` ([python, -m, runner, ...]) and `env` to this spare, under `run`."""
        self.run = run
        log.info(
            "Run {job} starts in warm spare {pid}", job=run.job, pid=self.pid, log_system="Launcher"
        )
        run.makeConnection(self.transport)  # Scrapyd's connectionMade: the pid, "Process started"
        order = {"module": args[2], "args": args[3:], "env": env}
        self.transport.write(json.dumps(order).encode() + b"\n")
        self.transport.closeStdin()

    def retire(self) -> None:
        self.transport.closeStdin()

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if self.run is not None:
            self.run.childDataReceived(childFD, data)
        elif childFD == READY_FD:
            self.warm = True
            self.owner.spare_warm()
        else:  # before its run: the libraries' import warnings
            log.info(
                "{data}",
                data=data.rstrip().decode(errors="replace"),
                log_system=f"Launcher,spare {self.pid}",
            )

    def childConnectionLost(self, childFD: int) -> None:
        if self.run is not None:
            self.run.childConnectionLost(childFD)

    def processExited(self, reason) -> None:
        if self.run is not None:
            self.run.processExited(reason)

    def processEnded(self, reason) -> None:
        if self.run is not None:
            self.run.processEnded(reason)
        else:
            self.owner.spare_lost(self, reason)


class Launcher(launcher.Launcher):
    def __init__(self, config, app) -> None:
        super().__init__(config, app)
        self.warm_spares = max(0, config.getint("warm_spares", 0))
        self.spares: list[Spare] = []
        self.stopping = False

    def startService(self) -> None:
        super().startService()
        self.refill()

    def stopService(self):
        self.stopping = True
        for spare in self.spares:
            spare.retire()
        self.spares.clear()
        return super().stopService()

    def _spawn_process(self, message, slot) -> None:
        # Scrapyd 1.6's Launcher._spawn_process, with the process started by a spare when one waits.
        project = message["_project"]
        environment = self.app.getComponent(IEnvironment)
        message.setdefault("settings", {})
        message["settings"].update(environment.get_settings(message))

        env = environment.get_environment(message, slot)
        args = [sys.executable, "-m", self.runner, "crawl", *launcher.get_crawl_args(message)]

        process = launcher.ScrapyProcessProtocol(
            project, message["_spider"], message["_job"], env, args
        )
        process.deferred.addBoth(self._process_finished, slot)

        self.processes[slot] = process
        spare = self.take()
        if spare is not None:
            spare.start(process, args, env)
        else:
            try:
                reactor.spawnProcess(process, sys.executable, args=args, env=env)
            except (OSError, ValueError) as exc:
                # A NUL in an argument, no process left: Scrapyd lost the run and its slot with
                # it. Here the run is listed as finished and the slot takes the next one.
                log.error("Run {job} did not start: {error}", job=process.job, error=exc)
                self._process_finished(None, slot)
                return
        log.debug("Process slot {slot} occupied", slot=slot)

    def _process_finished(self, result, slot):
        super()._process_finished(result, slot)
        self.refill()

    def take(self) -> Spare | None:
        """A spare for a run, a warm one first; None when none is alive (Twisted forgets a
        process's pid as it reaps it)."""
        alive = [spare for spare in self.spares if spare.transport.pid]
        if not alive:
            return None
        spare = max(alive, key=lambda candidate: candidate.warm)
        self.spares.remove(spare)
        return spare

    def refill(self) -> None:
        while not self.stopping and len(self.spares) < self.warm_spares:
            spare = Spare(self)
            try:
                reactor.spawnProcess(
                    spare,
                    sys.executable,
                    args=[sys.executable, str(SPARE)],
                    env=dict(os.environ),  # the node's: a run's adds only Scrapyd's keys to it
                    childFDs={0: "w", 1: "r", 2: "r", READY_FD: "r"},
                )
            except OSError as exc:  # out of processes or descriptors: runs start cold meanwhile
                log.warn("no warm spare: {error}", error=exc, log_system="Launcher")  # noqa: G010
                return
            self.spares.append(spare)

    def spare_warm(self) -> None:
        if self.spares and all(spare.warm for spare in self.spares):
            log.info("{count} warm spares ready", count=len(self.spares), log_system="Launcher")

    def spare_lost(self, spare: Spare, reason) -> None:
        if spare in self.spares:
            self.spares.remove(spare)
        if not self.stopping:
            log.warn(  # noqa: G010 (Twisted's Logger has warn)
                "warm spare {pid} exited before its run: {reason}",
                pid=spare.pid,
                reason=reason.value,
                log_system="Launcher",
            )
