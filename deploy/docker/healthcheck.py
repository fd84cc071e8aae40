"""Container health: health.json of the local node, with the node's own credentials."""

import base64
import os
import sys
import urllib.request

token = base64.b64encode(f"{os.environ['SCRAPYD_USERNAME']}:{os.environ['SCRAPYD_PASSWORD']}".encode()).decode()
request = urllib.request.Request("http://127.0.0.1:6800/health.json", headers={"Authorization": f"Basic {token}"})
try:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # any failure is unhealthy; say why in `docker inspect`
    print(exc, file=sys.stderr)
    sys.exit(1)
