"""Which processes of a test run coverage measures.

`make test` names .coveragerc in COVERAGE_PROCESS_START, and every Python process that inherits
it measures the project and warns at exit when it ran none of it. Processes that run no project
code by design (the fixture web's command line, the other sitemap tools, pip and the egg build)
get an environment without it, so such a warning always means a project process went unmeasured.
"""

from __future__ import annotations

from collections.abc import Mapping


def unmeasured(env: Mapping[str, str]) -> dict[str, str]:
    """env for a process that runs no project code."""
    return {k: v for k, v in env.items() if k != "COVERAGE_PROCESS_START"}
