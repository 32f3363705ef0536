"""Absolute addresses of the portal, built from configuration, never from a request's Host.

The Host header is chosen by the client: an address built from it and put in a public,
cached answer (a feed, a download) could point readers to another site. PORTAL_BASE_URL is
the portal's public address, including any path prefix it is served under.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


# A stand-in for an object's key while its page's address is built once: digits, which the
# text and the number converters both write as they are.
_KEY_STAND_IN = 90817263544536271809
# A key every converter writes as it is (nothing to quote): it replaces the stand-in in the
# address built once. Codes are letters, digits and hyphens, ids numbers: url_for is left
# only for a key that is not.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.~-]+")


def address_maker(endpoint: str, key_name: str, absolute: bool = False,
                  **fixed: Any) -> Callable[[Any], str]:
    """Return a function giving the address of ``endpoint`` for any key, the other values
    fixed: ``url_for(endpoint, **{key_name: key}, **fixed)`` (``absolute_url_for`` when
    absolute), byte for byte.

    url_for costs tens of microseconds an address, and a list or the sitemap builds dozens
    to thousands of one page's: the address is built once with a stand-in key, and each key
    put in its place.
    """
    build = absolute_url_for if absolute else url_for
    before, found, after = build(endpoint, **fixed, **{key_name: _KEY_STAND_IN}).partition(
        str(_KEY_STAND_IN))

    def address(key: Any) -> str:
        text = str(key)
        if found and _PLAIN_KEY.fullmatch(text):
            return f"{before}{text}{after}"
        return build(endpoint, **fixed, **{key_name: key})

    return address
