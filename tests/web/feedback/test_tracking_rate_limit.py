"""Tracking-code look-ups are limited per client address, one count for every door.

The tracking pages, the JSON API and Open311 share PORTAL_TRACKING_RATE_LIMIT: guessing codes
through several doors is no faster than through one. Refusals are 429 with Retry-After: a
translated page, a problem document, or Open311 errors.
"""

from __future__ import annotations

import pytest

from portal.services.feedback.citizen import feedback_submit
from tests.factories import csrf_token_from
from tests.feedback_support import create_triage_unit, valid_data

OTHER_ADDRESS = {"REMOTE_ADDR": "10.9.8.7"}


@pytest.fixture
def code(app) -> str:
    create_triage_unit()
    return feedback_submit(valid_data(), "id").tracking_code_display


@pytest.fixture
def two_per_hour(fresh_rate_limits, monkeypatch):
    monkeypatch.setitem(fresh_rate_limits.config, "PORTAL_TRACKING_RATE_LIMIT", "2 per hour")
    return fresh_rate_limits


def test_the_third_tracking_page_from_one_address_is_refused_in_its_language(
        client, code, two_per_hour):
    statuses = [client.get(f"/id/feedback/{code}").status_code for _ in range(2)]
    refused = client.get(f"/id/feedback/{code}")

    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    html = refused.get_data(as_text=True)
    assert '<html lang="id">' in html
    # Another address (another phone, another NAT) is not affected.
    assert client.get(f"/id/feedback/{code}", environ_base=OTHER_ADDRESS).status_code == 200


def test_the_track_form_counts_only_when_a_code_is_sent(client, code, two_per_hour):
    for _ in range(3):
        assert client.get("/en/track").status_code == 200
    assert client.get("/en/track", query_string={"code": code}).status_code == 302
    # Wrong codes count like right ones: that is what guessing sends.
    assert client.get("/en/track", query_string={"code": "2222-2222-2222"}).status_code == 404
    refused = client.get("/en/track", query_string={"code": code})
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)


def test_the_api_look_up_is_refused_with_a_problem_and_retry_after(client, code, two_per_hour):
    for _ in range(2):
        assert client.get(f"/api/v1/feedback/{code}").status_code == 200

    refused = client.get(f"/api/v1/feedback/{code}?lang=en")

    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0
    problem = refused.get_json()
    assert problem["type"].endswith("#problem-rate-limited")
    # The limit is said in words, not in Flask-Limiter's "2 per 1 hour".
    assert "(at most 2 per hour)" in problem["detail"]
    assert client.get(f"/api/v1/feedback/{code}", environ_base=OTHER_ADDRESS).status_code == 200


def test_pages_api_and_open311_share_one_count(client, code, two_per_hour):
    assert client.get(f"/en/feedback/{code}").status_code == 200
    assert client.get(f"/api/v1/feedback/{code}").status_code == 200

    open311 = client.get(f"/open311/v2/requests/{code}.json?lang=en")
    page = client.get(f"/en/feedback/{code}")

    assert open311.status_code == 429
    assert int(open311.headers["Retry-After"]) > 0
    [error] = open311.get_json()
    assert error["code"] == 429
    assert "Too many requests" in error["description"]
    assert page.status_code == 429


def test_replies_count_as_look_ups_too(client, code, two_per_hour):
    # (The token from the form page: the tracking page offers no reply box before the
    # department has answered.)
    page = client.get("/en/feedback/new", environ_base=OTHER_ADDRESS)
    token = csrf_token_from(page.get_data(as_text=True))
    for _ in range(2):
        client.get(f"/en/feedback/{code}")
    reply = client.post(f"/en/feedback/{code}/reply", data={"csrf_token": token, "body": "x"})
    reopen = client.post(f"/en/feedback/{code}/reopen",
                         data={"csrf_token": token, "reason": "x"})
    assert (reply.status_code, reopen.status_code) == (429, 429)


def test_without_the_switch_nothing_is_limited(client, code, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_TRACKING_RATE_LIMIT", "1 per hour")
    assert [client.get(f"/api/v1/feedback/{code}").status_code for _ in range(3)] == [200] * 3
