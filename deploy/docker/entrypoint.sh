#!/bin/sh
# Starts a Scrapyd node by default; any other command (scrapy batch, scrapy migrate, scrapy
# status, ...) runs as given.
set -eu

if [ "$#" -eq 0 ] || [ "$1" = "scrapyd" ]; then
    if [ -z "${SCRAPYD_USERNAME:-}" ] || [ -z "${SCRAPYD_PASSWORD:-}" ]; then
        echo "error: set SCRAPYD_USERNAME and SCRAPYD_PASSWORD: this node listens on every interface" >&2
        exit 2
    fi
    exec scrapyd --pidfile=
fi
exec "$@"
