"""Spider arguments of `scrapy crawl sitemap`, checked before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapersky.config import ConfigError, to_tenant
from scrapersky.config.scan_options import ScanOptions, parse_scan_request
from scrapersky.core.domains import InvalidDomain, standardize_domain

SOURCES = ("domain", "domains", "domains_file", "batch_id", "job_id")
KNOWN = {*SOURCES, "tenant_id", "max_pages", "render"}
MAX_DOMAINS_FILE = 50 * 1024 * 1024  # a list of names, not a data dump


@dataclass(frozen=True)
class RunArguments:
    tenant_id: str
    options: ScanOptions
    domains: list[str] | None = None  # raw names for a run given its domains directly
    batch_id: str | None = None
    job_id: str | None = None
    run_id: str | None = None  # Scrapyd's job id (`_job`), when run by Scrapyd


def read_domain_list(text: str) -> list[str]:
    """One domain per line (or comma separated); comments (#) and blanks skipped."""
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        names.extend(part.strip() for part in line.split(",") if part.strip())
    return names


def parse_run_arguments(args: dict[str, Any], default_tenant: str) -> RunArguments:
    # Scrapyd adds its own arguments (_job, _version): they start with an underscore.
    unknown = sorted(name for name in args if name not in KNOWN and not name.startswith("_"))
    if unknown:
        raise ConfigError(
            f"unknown spider argument {unknown[0]!r} (known: {', '.join(sorted(KNOWN))})"
        )
    given = [name for name in SOURCES if args.get(name) not in (None, "")]
    if len(given) != 1:
        raise ConfigError(f"give exactly one of -a {', -a '.join(SOURCES)} (got {len(given)})")
    source = given[0]
    request = parse_scan_request(args)  # tenant_id, max_pages, render: as every caller reads them
    tenant = request.tenant_id or to_tenant(default_tenant)
    options = request.options
    run_id = args.get("_job") or None
    if source == "domain":
        try:
            return RunArguments(
                tenant, options, domains=[standardize_domain(str(args["domain"]))], run_id=run_id
            )
        except InvalidDomain as exc:
            raise ConfigError(str(exc)) from None
    if source == "domains":
        names = read_domain_list(str(args["domains"]))
    elif source == "domains_file":
        if run_id:
            # Scrapyd's caller names the file, and it is read on the node: a remote read of any path.
            raise ConfigError(
                "domains_file is read from the local disk and is for the shell; "
                "runs started through Scrapyd take domains (or batch.json)"
            )
        names = read_domain_list(read_domain_file(str(args["domains_file"]), "domains_file "))
    else:
        return RunArguments(
            tenant,
            options,
            batch_id=str(args.get("batch_id") or "") or None,
            job_id=str(args.get("job_id") or "") or None,
            run_id=run_id,
        )
    if not names:
        raise ConfigError(f"{source}: no domains given")
    return RunArguments(tenant, options, domains=names, run_id=run_id)


def read_domain_file(path: str, label: str = "") -> str:
    """A domain list file's text; a missing, unreadable or oversized file is a ConfigError.

    The cap counts the bytes actually read, never trusting st_size: /dev/zero, a FIFO or a
    file that grows while it is read report a size of 0."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_DOMAINS_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{label}{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_DOMAINS_FILE:
        raise ConfigError(f"{label}{path}: larger than {MAX_DOMAINS_FILE // (1024 * 1024)} MiB")
    return data.decode("utf-8", errors="replace")
