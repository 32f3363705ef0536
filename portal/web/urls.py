"""Absolute addresses of the portal, built from configuration, never from a request's Host.

The Host header is chosen by the client: an address built from it and put in a public,
cached answer (a feed, a download) could point readers to another site. PORTAL_BASE_URL is
the portal's public address, including any path prefix it is served under.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for


def base_url() -> str:
    """Return the portal's public address from configuration, without a trailing slash."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/")


def absolute_path(path: str) -> str:
    """Return the absolute address of a path of the application (e.g. request.full_path)."""
    return f"{base_url()}/{path.lstrip('/')}"


def absolute_url_for(endpoint: str, **values: Any) -> str:
    """Return the absolute address of an endpoint, like url_for(..., _external=True)."""
    path = url_for(endpoint, **values)
    # url_for includes the mount point (SCRIPT_NAME); PORTAL_BASE_URL already includes it.
    script_root = request.script_root if has_request_context() else ""
    if script_root and path.startswith(script_root):
        path = path[len(script_root):]
    return absolute_path(path)
