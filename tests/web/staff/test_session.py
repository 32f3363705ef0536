"""Staff sessions end after a working day and HTTPS is enforced once cookies are secure."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import create_user, login


def test_a_staff_login_expires_after_the_configured_hours(app, client):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    user = create_user(role="admin")

    response = login(client, user.username)

    cookie = response.headers.get("Set-Cookie", "")
    assert "Expires=" in cookie
    assert "HttpOnly" in cookie


def test_hsts_is_sent_only_when_cookies_are_https_only(app, client):
    assert "Strict-Transport-Security" not in client.get("/en/").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        headers = client.get("/en/").headers
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
