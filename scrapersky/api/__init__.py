"""ScraperSky's HTTP API on Scrapyd's port, one module per resource.

Mounted by the `[services]` section of scrapyd.conf (they run inside the Scrapyd process);
`node.application` (the `application` option there) adds the node-wide policy: request size
cap, CORS allow-list, no cross-site state changes, and tenant services answering to API keys
whether or not Scrapyd's basic auth is on.
"""
