"""Every answer carries the whole set of security headers: pages, API, Open311, errors, static."""

from __future__ import annotations

import re

import pytest

from portal.web.security_headers import security_headers
from tests.factories import create_department

# Each header and the words a browser must find in it (what the set is for).
ESSENTIAL = {
    "Content-Security-Policy": ("default-src 'self'", "frame-ancestors 'none'",
                                "object-src 'none'"),
    "X-Content-Type-Options": ("nosniff",),
    "Referrer-Policy": ("same-origin",),
    "Permissions-Policy": ("camera=()", "microphone=()", "geolocation=()", "payment=()",
                           "usb=()", "interest-cohort=()"),
    "Cross-Origin-Opener-Policy": ("same-origin",),
}


def _static_path(client) -> str:
    html = client.get("/en/").get_data(as_text=True)
    return re.search(r'href="(/static/[0-9a-f]{12}/css/portal\.css)"', html).group(1)


def _assert_full_set(response, *, https: bool = False) -> None:
    for name, value in security_headers(https=https).items():
        assert response.headers.getlist(name) == [value], name
    for name, words in ESSENTIAL.items():
        assert all(word in response.headers[name] for word in words), name


@pytest.mark.parametrize("path", [
    "/en/",                              # a page
    "/id/services",                      # another page
    "/api/v1/services",                  # an API answer
    "/api/v1/feedback/2222-2222-2222",   # an API refusal (problem+json)
    "/open311/v2/services.xml",          # Open311
    "/en/no-such-page",                  # an error page
    "/en/staff/",                        # a redirect to the login
])
def test_every_answer_of_the_app_carries_the_whole_set(client, path):
    create_department()
    _assert_full_set(client.get(path))


def test_a_static_file_carries_the_same_set_as_a_page(client):
    path = _static_path(client)

    response = client.get(path)
    revalidated = client.get(path, headers={"If-None-Match": response.headers["ETag"]})

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    _assert_full_set(response)
    # Even WhiteNoise's own short answers.
    assert revalidated.status_code == 304
    _assert_full_set(revalidated)


def test_over_https_every_answer_also_keeps_browsers_on_https(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    for path in ("/en/", _static_path(client), "/api/v1/services"):
        response = client.get(path)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        _assert_full_set(response, https=True)


def test_plain_http_answers_do_not_pin_https(client):
    assert "Strict-Transport-Security" not in client.get("/en/").headers
