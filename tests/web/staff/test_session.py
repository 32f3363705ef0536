"""Staff sessions end after a working day, HTTPS is enforced once cookies are secure, and
failed logins are throttled without letting anyone lock a staff member out."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from tests.factories import STAFF_PASSWORD, create_user, csrf_token_from, login


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


# Failed-login throttling -----------------------------------------------------------------------
#
# Each test uses its own username and client addresses, so that counters of other tests (in
# memory, or in Redis when REDIS_URL is set) never meet them, and nothing is reset.

# The production defaults (portal/config.py).
DEFAULT_LOGIN_LIMITS = {
    "PORTAL_LOGIN_RATE_LIMIT": "10 per minute; 50 per hour",
    "PORTAL_LOGIN_PAIR_RATE_LIMIT": "5 per minute; 20 per hour",
    "PORTAL_LOGIN_ACCOUNT_RATE_LIMIT": "30 per hour",
    "PORTAL_LOGIN_GUARDED_RATE_LIMIT": "1 per hour",
}
WRONG = "not-the-password-123"


@pytest.fixture
def login_limits(app, monkeypatch):
    """Switch rate limits on, with the production login limits."""
    monkeypatch.setitem(app.config, "PORTAL_RATELIMIT_ENABLED", True)
    for key, value in DEFAULT_LOGIN_LIMITS.items():
        monkeypatch.setitem(app.config, key, value)
    return app


class Addresses:
    """Client addresses no other test uses: ``addresses[n]`` is the n-th of this test."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex
        self.prefix = f"2001:db8:{tag[:4]}:{tag[4:8]}::"

    def __getitem__(self, n: int) -> str:
        return f"{self.prefix}{n + 1:x}"


@pytest.fixture
def addresses() -> Addresses:
    """Client addresses of this test only."""
    return Addresses()


@pytest.fixture
def username() -> str:
    """A username of this test only (counters outlive the accounts between tests)."""
    return f"offb-{uuid.uuid4().hex[:8]}"


def attempt(app, address: str, username: str, password: str) -> int:
    """Try to log in from a client address, as a browser would; return the status."""
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    page = client.get("/en/staff/login", environ_base=environ)
    return client.post("/en/staff/login", environ_base=environ, data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "username": username, "password": password,
    }).status_code


def test_31_failures_from_31_addresses_do_not_lock_the_account(
    login_limits, addresses, username
) -> None:
    create_user(role="admin", username=username)
    spellings = [username, username.upper(), f" {username}"]
    for n in range(31):
        assert attempt(login_limits, addresses[n], spellings[n % 3], WRONG) == 200

    assert attempt(login_limits, addresses[100], username, STAFF_PASSWORD) == 302
    assert attempt(login_limits, addresses[101], username.upper(), STAFF_PASSWORD) == 302
    assert attempt(login_limits, addresses[102], f" {username}", STAFF_PASSWORD) == 302


def test_ten_failures_a_minute_from_one_address_for_three_minutes_do_not_lock_the_account(
    login_limits, addresses, username
) -> None:
    # The minute is scaled down to two seconds (the hour stays an hour), so the test waits
    # for three windows to pass, not three minutes.
    window = 2.0
    login_limits.config["PORTAL_LOGIN_RATE_LIMIT"] = "10 per 2 seconds; 50 per hour"
    login_limits.config["PORTAL_LOGIN_PAIR_RATE_LIMIT"] = "5 per 2 seconds; 20 per hour"
    create_user(role="admin", username=username)
    attacker = addresses[0]
    minutes = []
    for _minute in range(3):
        started = time.monotonic()
        minutes.append([attempt(login_limits, attacker, username, WRONG) for _ in range(10)])
        time.sleep(max(0.0, started + window + 0.3 - time.monotonic()))

    # The attacking address is limited: five failures for one username a minute, then it
    # waits; in the first minute that is exactly five answers and five refusals.
    assert minutes[0] == [200] * 5 + [429] * 5
    assert all(set(statuses) <= {200, 429} and statuses[-1] == 429 for statuses in minutes)
    # The rightful user, from their own address, logs in.
    assert attempt(login_limits, addresses[1], username, STAFF_PASSWORD) == 302


def test_the_attacking_address_is_limited_whatever_username_it_tries(
    login_limits, addresses, username
) -> None:
    create_user(role="admin", username=username)
    for n in range(10):
        assert attempt(login_limits, addresses[0], f"{username}-{n}", WRONG) == 200

    # Ten failures a minute from one address, whatever the usernames: it waits, even with
    # the right password; other addresses do not.
    assert attempt(login_limits, addresses[0], username, STAFF_PASSWORD) == 429
    assert attempt(login_limits, addresses[1], username, STAFF_PASSWORD) == 302


def test_spellings_of_a_username_are_counted_as_one_account(
    login_limits, addresses, username
) -> None:
    create_user(role="admin", username=username)
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in username)
    spellings = [username.upper(), f" {username}", f"{username}  ", username.title(),
                 full_width]
    for spelling in spellings:
        assert attempt(login_limits, addresses[0], spelling, WRONG) == 200

    # Five failures for one account from one address, however it was spelt: that pair waits,
    assert attempt(login_limits, addresses[0], username, STAFF_PASSWORD) == 429
    # while the same address may still try another account (ten a minute per address).
    assert attempt(login_limits, addresses[0], f"{username}-x", WRONG) == 200


def test_a_guarded_account_allows_one_failure_an_address_and_refuses_no_new_address(
    login_limits, addresses, username
) -> None:
    create_user(role="admin", username=username)
    for n in range(30):
        assert attempt(login_limits, addresses[n], username, WRONG) == 200

    # Thirty failures make the account guarded: from now on each address may fail once for
    # it, then waits, even with the right password,
    assert attempt(login_limits, addresses[0], username, WRONG) == 200
    assert attempt(login_limits, addresses[0], username, STAFF_PASSWORD) == 429
    assert attempt(login_limits, addresses[50], username, WRONG) == 200
    assert attempt(login_limits, addresses[50], username, WRONG) == 429
    # while an address that has not failed logs in,
    assert attempt(login_limits, addresses[51], username, STAFF_PASSWORD) == 302
    # and other accounts are not guarded.
    other = create_user(role="admin")
    assert attempt(login_limits, addresses[1], other.username, WRONG) == 200
    assert attempt(login_limits, addresses[1], other.username, STAFF_PASSWORD) == 302


def test_an_unguarded_account_allows_five_failures_an_address(
    login_limits, addresses, username
) -> None:
    create_user(role="admin", username=username)
    for _ in range(5):
        assert attempt(login_limits, addresses[0], username, WRONG) == 200
    assert attempt(login_limits, addresses[0], username, STAFF_PASSWORD) == 429
    assert attempt(login_limits, addresses[1], username, STAFF_PASSWORD) == 302
