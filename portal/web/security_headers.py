"""The security headers of every answer: pages, API answers, errors and static files.

One set, written here once and added by one WSGI middleware around the app and WhiteNoise
(:class:`SecurityHeaders`): WhiteNoise serves static files outside Flask, where no
``after_request`` reaches. deploy/nginx/pantau.conf repeats the set for the static files nginx
serves itself; tests/deploy/test_nginx.py checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Only the portal's own scripts, styles and images (and data: images); no page may frame
# the portal (clickjacking), no form may post elsewhere, no plugin runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# Powerful browser features the portal never uses, refused to it and to anything it
# embeds; interest-cohort and browsing-topics keep visitors out of advertising cohorts.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
    "geolocation", "gyroscope", "hid", "interest-cohort", "magnetometer", "microphone",
    "midi", "payment", "serial", "usb", "xr-spatial-tracking",
))
# Sent only over HTTPS (PORTAL_SECURE_COOKIES): browsers then never use plain HTTP again.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def security_headers(*, https: bool) -> dict[str, str]:
    """Return the security headers every answer carries (HSTS only when served over HTTPS)."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        # A window the portal opens, or that opens the portal, gets no handle on the other.
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


class SecurityHeaders:
    """WSGI middleware: add the security headers to every answer that lacks them.

    Around the app and WhiteNoise both, so pages, API answers, errors and static files (even
    WhiteNoise's own 304 and 405 answers) carry the same set. A view may set one of its own.
    """

    def __init__(self, wsgi_app: WSGIApplication, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        wanted = security_headers(https=self.app.config["SESSION_COOKIE_SECURE"])

        def start_with_headers(status: str, headers: list[tuple[str, str]], exc_info=None):
            present = {name.lower() for name, _value in headers}
            headers.extend((name, value) for name, value in wanted.items()
                           if name.lower() not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_headers)
