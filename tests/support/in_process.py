"""Run a project command inside the test process, the way `scrapy` runs it, for tables of bad
input: each case then costs milliseconds instead of a 1-2 s `scrapy` process.

The command goes through what the `scrapy` executable does before any crawl starts: the project
settings read afresh from the given environment (scrapersky.settings is imported anew), the
command's options parsed by Scrapy's parser, `-s` and `-a` applied by the command's own
process_options, then the command's run, with Scrapy's own handling of usage errors. The exit
code is the one the command leaves (SystemExit's code, or the command's exitcode), never one the
test supplies. Log records of WARNING and above go to its stderr too, as Python's last-resort
handler writes them in a `scrapy` process that has not set up logging. A `scrapy crawl` whose
checks all pass is stopped before its crawler process is made (that would install a reactor in
the test process): the call raises AssertionError.

Each test file keeps one real `scrapy` process per command to prove this wiring end to end.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
from collections.abc import Iterator

from scrapy.cmdline import ScrapyArgumentParser, _run_print_help
from scrapy.commands import ScrapyHelpFormatter
from scrapy.utils.project import get_project_settings

from tests.conftest import ROOT, Result

SETTINGS_MODULE = "scrapersky.settings"


@contextlib.contextmanager
def _as_a_new_process(env: dict[str, str]) -> Iterator[None]:
    """os.environ replaced by env, the project directory current, and the settings module
    unloaded (so it reads env again); all three restored afterwards."""
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_module = sys.modules.pop(SETTINGS_MODULE, None)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        if saved_module is not None:
            sys.modules[SETTINGS_MODULE] = saved_module
        else:
            sys.modules.pop(SETTINGS_MODULE, None)


@contextlib.contextmanager
def _logged_to(stream: io.StringIO) -> Iterator[None]:
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    logging.root.addHandler(handler)
    try:
        yield
    finally:
        logging.root.removeHandler(handler)


def run_command(*argv: str, env: dict[str, str]) -> Result:
    """`scrapy *argv` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _as_a_new_process(env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _logged_to(err),
    ):
        settings = get_project_settings()
        name, rest = argv[0], list(argv[1:])
        cmd = importlib.import_module(f"{settings['COMMANDS_MODULE']}.{name}").Command()
        parser = ScrapyArgumentParser(
            formatter_class=ScrapyHelpFormatter,
            usage=f"scrapy {name} {cmd.syntax()}",
            conflict_handler="resolve",
            description=cmd.long_desc(),
        )
        settings.setdict(cmd.default_settings, priority="command")
        cmd.settings = settings
        cmd.add_options(parser)
        opts, args = parser.parse_known_args(args=rest)
        try:
            _run_print_help(parser, cmd.process_options, args, opts)
            if cmd.requires_crawler_process:
                raise AssertionError(
                    f"scrapy {' '.join(argv)} passed its checks: a crawl would start"
                )
            _run_print_help(parser, cmd.run, args, opts)
        except SystemExit as exc:
            code = exc.code
        else:
            code = cmd.exitcode
    return Result(code, out.getvalue(), err.getvalue())
