"""Cross-origin reads (CORS): which answers a page on another site may read.

The public reads are open to every origin (``Access-Control-Allow-Origin: *``, never with
credentials, so no cookie of a visitor goes along): the JSON API, Open311, the open-data
downloads, the Atom feeds and the status badges. Their preflights (OPTIONS) are answered for
GET and HEAD only. Nothing that writes is opened: an answer to any other method carries no
CORS header, so a page elsewhere can neither send a JSON write nor read what a write answered.
Staff and citizen pages are not opened either.
"""

from __future__ import annotations

from flask import Flask, Response, request

from portal.extensions import cors

# Paths of the public reads: regular expressions matched from the start of the path (each
# needs a regex character, or Flask-CORS compares it as a literal path).
PUBLIC_READS = (
    r"/api/v1/.*",
    r"/open311/v2/.*",
    r"/data/.*",
    r"/badge/.*",
    r"/.*\.atom$",
)
SAFE_METHODS = ("GET", "HEAD")
# Response headers a cross-origin script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ("ETag", "Content-Disposition", "Retry-After", "Link")


def _close_writes(response: Response) -> Response:
    """Drop the CORS headers from answers to writes and to preflights of writes."""
    method = request.method
    if method == "OPTIONS":
        method = request.headers.get("Access-Control-Request-Method", "").upper()
    if method not in SAFE_METHODS:
        for name in [name for name in response.headers.keys()
                     if name.lower().startswith("access-control-")]:
            del response.headers[name]
    return response


def init_cors(app: Flask) -> None:
    """Open the public reads to pages of other origins, and nothing else."""
    # Registered before Flask-CORS's own hook, so it runs after it (Flask runs the
    # after_request hooks last registered first).
    app.after_request(_close_writes)
    cors.init_app(
        app,
        resources={pattern: {} for pattern in PUBLIC_READS},
        origins="*",
        send_wildcard=True,
        always_send=True,
        supports_credentials=False,
        methods=[*SAFE_METHODS, "OPTIONS"],
        expose_headers=list(EXPOSED_HEADERS),
        max_age=86400,
        # Every answer, errors included, goes through the after_request hooks.
        intercept_exceptions=False,
    )
