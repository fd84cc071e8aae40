# A ScraperSky Scrapyd node with the project deployed, and the `scrapy` commands of the project.
#
#   docker build -t scrapersky .
#   docker run -p 6800:6800 -e SCRAPYD_USERNAME=... -e SCRAPYD_PASSWORD=... \
#       -e DATABASE_URL=postgresql+psycopg2://... scrapersky
#   docker run --rm -e DATABASE_URL=... scrapersky scrapy migrate
#   docker run --rm -e DATABASE_URL=... -e SCRAPYD_URLS=... -e SCRAPYD_USERNAME=... -e SCRAPYD_PASSWORD=... \
#       -v $PWD/domains.txt:/data/domains.txt:ro scrapersky scrapy batch /data/domains.txt --wait
#
# See deploy/README.md for several nodes against one PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCRAPY_SETTINGS_MODULE=scrapersky.settings \
    SCRAPERSKY_CHROMIUM=/usr/bin/chromium

# Debian's Chromium renders the pages that need a browser (never `playwright install`), in a
# user and network namespace of its own, sandboxed: the container's seccomp profile must allow
# namespaces (deploy/README.md), or the node renders nothing and logs why.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin scrapersky

WORKDIR /app
# Dependencies first, in a layer of their own that survives changes to the sources.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The package itself, installed once: the crawls that Scrapyd starts and Scrapyd's webservices
# import the same copy. Scrapyd finds the project through deploy/docker/scrapyd-project.conf
# instead of an egg.
COPY pyproject.toml setup.py README.md LICENSE ./
COPY scrapersky ./scrapersky
# Alembic's scripts, installed inside the package (setup.py maps them), so `scrapy migrate` runs.
COPY migrations ./migrations
# The import check runs outside /app, so it imports the installed copy.
RUN pip install --no-deps . \
 && cd / && python -c "import scrapersky.api.node, scrapersky.api.jobs, scrapersky.api.batches, scrapersky.api.results, scrapersky.api.health"

COPY deploy/scrapyd-node.conf /etc/scrapyd/scrapyd.conf
COPY deploy/docker/scrapyd-project.conf /etc/scrapyd/conf.d/scrapersky.conf
COPY deploy/docker/entrypoint.sh deploy/docker/healthcheck.py /usr/local/bin/
RUN install -d -o scrapersky -g scrapersky /var/lib/scrapyd/eggs /var/lib/scrapyd/logs /var/lib/scrapyd/dbs

USER scrapersky
# Scrapyd also reads ./scrapyd.conf and the nearest scrapy.cfg: run where neither exists.
WORKDIR /var/lib/scrapyd
EXPOSE 6800
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s CMD python /usr/local/bin/healthcheck.py
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["scrapyd"]
