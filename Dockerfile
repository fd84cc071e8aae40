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

# Debian's Chromium renders the pages that need a browser (never `playwright install`).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin scrapersky

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml setup.py scrapy.cfg README.md LICENSE ./
COPY scrapersky ./scrapersky
COPY deploy/scrapyd-node.conf /etc/scrapyd/scrapyd.conf
COPY deploy/docker/entrypoint.sh deploy/docker/healthcheck.py /usr/local/bin/

# The egg registers the project with Scrapyd, as `scrapyd-deploy` would. The package itself is
# installed in place (editable, its dependencies already there) so Scrapyd's webservices can
# import it.
RUN scrapyd-deploy --build-egg /tmp/scrapersky.egg \
 && install -D -m 0644 /tmp/scrapersky.egg /var/lib/scrapyd/eggs/scrapersky/1.egg \
 && install -d /var/lib/scrapyd/logs /var/lib/scrapyd/dbs \
 && chown -R scrapersky:scrapersky /var/lib/scrapyd \
 && rm -rf /tmp/scrapersky.egg build \
 && pip install --no-deps -e . \
 && python -c "import scrapersky.api.node, scrapersky.api.jobs, scrapersky.api.batches, scrapersky.api.results, scrapersky.api.health"

USER scrapersky
# Scrapyd also reads ./scrapyd.conf and the nearest scrapy.cfg: run where neither exists.
WORKDIR /var/lib/scrapyd
EXPOSE 6800
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s CMD python /usr/local/bin/healthcheck.py
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["scrapyd"]
