"""POST requests: an api_key, form-encoded fields, the tracking code back, a limit per key."""

from __future__ import annotations

from typing import Any

import pytest

from portal.extensions import db
from portal.models import Feedback, Open311Key
from portal.services.auth import CLI_OPERATOR
from portal.services.open311.keys import open311_key_revoke
from tests.services.open311.world import new_key
from tests.web.open311.conftest import read, root_tag

FORMATS = ("json", "xml")


def _form(key: str | None, **overrides: Any) -> dict[str, str]:
    form = {
        "api_key": key,
        "service_code": "samsat-pkb",
        "description": "Antrean terlalu panjang\nSaya menunggu tiga jam.",
        "attribute[kind]": "complaint",
        "attribute[regency]": "62.71",
        "first_name": "Siti",
        "email": "siti.rahma@example.com",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.parametrize("fmt", FORMATS)
def test_filing_answers_the_tracking_code_and_what_happens_next(client, world, api_key, fmt):
    response = client.post(f"/open311/v2/requests.{fmt}?lang=en", data=_form(api_key))
    assert response.status_code == 200
    if fmt == "xml":
        assert root_tag(response) == "service_requests"
    [answer] = read(response, fmt)
    feedback = db.session.query(Feedback).order_by(Feedback.id.desc()).first()
    assert answer["service_request_id"] == feedback.tracking_code_display
    assert answer["account_id"] is None
    assert answer["service_notice"].startswith(
        "It went to Regional Revenue Agency because you chose one of its services: "
        "Vehicle tax. The department responds by ")
    assert "It is to be resolved by " in answer["service_notice"]
    assert (feedback.regency, feedback.reporter_name, feedback.lang) == (
        "palangka-raya", "Siti", "en")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_the_tracking_code_answered_finds_the_feedback(client, world, api_key):
    [answer] = client.post("/open311/v2/requests.json", data=_form(api_key)).get_json()
    code = answer["service_request_id"]
    [request] = client.get(f"/open311/v2/requests/{code}.json").get_json()
    assert request["service_request_id"] == code
    assert request["address_id"] == "62.71"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sent", ["none", "wrong", "revoked"])
def test_filing_without_a_valid_key_is_a_403_and_files_nothing(client, world, fmt, sent):
    key = new_key()
    if sent == "revoked":
        open311_key_revoke(db.session.query(Open311Key).one().id, actor=CLI_OPERATOR)
    plaintext = {"none": None, "wrong": key[:-2] + "xx", "revoked": key}[sent]
    before = db.session.query(Feedback).count()
    response = client.post(f"/open311/v2/requests.{fmt}?lang=en", data=_form(plaintext))
    assert response.status_code == 403
    [error] = read(response, fmt)
    assert str(error["code"]) == "403"
    assert "api_key" in error["description"]
    assert db.session.query(Feedback).count() == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_problem_is_listed_in_a_400(client, world, api_key, fmt):
    response = client.post(f"/open311/v2/requests.{fmt}?lang=en", data=_form(
        api_key, description="", **{"attribute[kind]": "rant", "attribute[anonymus]": "true"}))
    assert response.status_code == 400
    errors = read(response, fmt)
    assert {str(e["code"]) for e in errors} == {"400"}
    assert sorted(e["description"].split(":")[0] for e in errors) == [
        "attribute[anonymus]", "attribute[kind]", "description"]


def test_an_unknown_service_code_is_a_404(client, world, api_key):
    response = client.post("/open311/v2/requests.json?lang=en",
                           data=_form(api_key, service_code="tidak-ada"))
    assert response.status_code == 404
    assert response.get_json() == [{"code": 404,
                                    "description": "There is no service with this code."}]


def test_another_jurisdiction_is_a_404_and_files_nothing(client, world, api_key):
    before = db.session.query(Feedback).count()
    response = client.post("/open311/v2/requests.json",
                           data=_form(api_key, jurisdiction_id="sfgov.org"))
    assert response.status_code == 404
    assert db.session.query(Feedback).count() == before


def test_the_form_encoded_post_needs_no_csrf_token(client, world, api_key):
    # The test configuration keeps CSRF protection on, as the pages' forms need it.
    assert client.post("/open311/v2/requests.json", data=_form(api_key)).status_code == 200


@pytest.fixture
def rate_limited(fresh_rate_limits, monkeypatch):
    monkeypatch.setitem(fresh_rate_limits.config, "PORTAL_OPEN311_KEY_RATE_LIMIT", "2 per hour")


def test_each_key_has_its_own_limit(client, world, rate_limited):
    first, second = new_key("Aplikasi A"), new_key("Aplikasi B")
    for _ in range(2):
        assert client.post("/open311/v2/requests.json", data=_form(first)).status_code == 200
    response = client.post("/open311/v2/requests.xml?lang=en", data=_form(first))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    [error] = read(response, "xml")
    assert error["code"] == "429"
    assert "too many requests" in error["description"]
    assert client.post("/open311/v2/requests.json", data=_form(second)).status_code == 200
    assert db.session.query(Feedback).count() == 2 + 2 + 1  # the world's two, then these


def test_a_body_too_large_is_a_413_error_list(app, client, world, api_key, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/open311/v2/requests.xml?lang=en",
                           data=_form(api_key, description="x" * 2000))
    assert response.status_code == 413
    assert read(response, "xml") == [{"code": "413",
                                      "description": "The request body is too large."}]
