"""The console at /console/: a page, a script and a style sheet, shipped with the package.

They hold no data: the page asks for the caller's API key and reads everything through the
node's JSON API with it, so the console shows exactly what the key may see. No CDN, no build
step. The answers forbid framing and any script, style or connection from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from twisted.web import resource, static

STATIC = Path(__file__).resolve().parent / "static"
POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    b"form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


class Console(resource.Resource):
    """Mounted by scrapyd.conf's `[services]` as `console`."""

    def __init__(self, root=None) -> None:
        super().__init__()
        self.files = static.File(str(STATIC), defaultType="application/octet-stream")
        self.files.contentTypes = {
            **self.files.contentTypes,
            ".js": "text/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".html": "text/html; charset=utf-8",
        }
        self.files.indexNames = ["index.html"]
        self.files.directoryListing = lambda: resource.NoResource()

    def getChildWithDefault(self, path, request):
        request.setHeader(b"content-security-policy", POLICY)
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"x-frame-options", b"DENY")
        request.setHeader(b"referrer-policy", b"no-referrer")
        request.setHeader(b"cache-control", b"no-cache")
        if path == b"":
            return self.files.getChild(b"index.html", request)
        if b"\x00" in path:  # no file has one; the file system would raise
            return resource.NoResource()
        return self.files.getChildWithDefault(path, request)

    def render(self, request):
        # /console → /console/, so the page's relative links resolve inside it.
        request.redirect(b"/console/")
        return b""
