"""Property: the JSON and form APIs answer any input without a 5xx, and write nothing on refusal.

The feedback API (anonymous), the reporting API (with a valid token) and Open311 filing (with a
valid key) get arbitrary JSON, JSON shaped like theirs with hostile values, and raw bodies:
broken, binary, nested up to 200,000 deep, large. Each test builds its world and client itself
and runs Hypothesis inside (a fresh client per example, no function-scoped fixture reused
across examples).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.calendar import WIB, utc_now
from portal.models.feedback import FEEDBACK_KINDS
from portal.models.metrics import CHANNELS
from tests.hardening.strategies import (
    FEW,
    FUZZ,
    assert_handled,
    extreme_dates,
    extreme_numbers,
    form_body,
    json_body,
    json_values,
    mutated,
    nasty_text,
    nested,
    one_of_or_nasty,
    raw_bodies,
    row_counts,
    scalars,
)
from tests.hardening.world import make_world

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _feedback_shaped(service: str) -> st.SearchStrategy:
    """A valid feedback submission with some values hostile."""
    valid = {"kind": "complaint", "service": service, "subject": "Antrean panjang",
             "body": "Tiga jam menunggu di loket.", "regency": "kapuas", "name": "Siti",
             "email": "siti@example.com", "phone": "0812 3456 7890", "anonymous": False,
             "confidential": False, "publish": True, "lang": "id"}
    hostile = {name: scalars for name in valid}
    hostile.update(client_token=st.one_of(scalars, st.just("a" * 32)), unknown=nasty_text,
                   kind=one_of_or_nasty(*FEEDBACK_KINDS))
    return mutated(valid, hostile)


def _recent() -> st.SearchStrategy:
    """A valid timestamp of the last few days, in WIB."""
    return st.integers(min_value=0, max_value=5 * 24 * 60).map(
        lambda minutes: (utc_now() - timedelta(minutes=minutes)).astimezone(WIB).isoformat())


def _report_shaped(service: str) -> st.SearchStrategy:
    """A department's report whose requests hold some hostile ids, dates and channels."""
    moment = st.one_of(extreme_dates, extreme_numbers, st.none(), _recent())
    item = st.builds(
        lambda number, received, responded, completed: {
            "service": service, "id": f"R-{number}", "received_at": received,
            "first_response_at": responded, "completed_at": completed, "channel": "online"},
        st.integers(1, 6), _recent(), st.one_of(st.none(), _recent()),
        st.one_of(st.none(), _recent()),
    ).flatmap(lambda valid: mutated(valid, {
        "service": scalars, "id": scalars, "received_at": moment,
        "first_response_at": moment, "completed_at": moment,
        "channel": one_of_or_nasty(*CHANNELS), "extra": json_values}))
    return st.fixed_dictionaries(
        {"requests": st.one_of(st.lists(item, min_size=1, max_size=4), json_values)},
        optional={"reported_services": st.one_of(
            st.lists(one_of_or_nasty(service), max_size=3), json_values)},
    )


def _open311_shaped(key: str, service: str) -> st.SearchStrategy:
    """A valid Open311 filing form with some values hostile."""
    valid = {"api_key": key, "service_code": service, "description": "Antrean panjang",
             "attribute[kind]": "complaint", "attribute[regency]": "62.71",
             "first_name": "Siti", "last_name": "Rahma", "email": "siti@example.com",
             "phone": "0812", "lat": "-2.2", "long": "113.9", "address_string": "Jl. A",
             "jurisdiction_id": "kalteng.go.id"}
    hostile = {name: scalars for name in valid}
    hostile.update({"lat": extreme_numbers, "long": extreme_numbers,
                    "requested_datetime": extreme_dates, "media_url": nasty_text,
                    "device_id": nasty_text, "account_id": nasty_text,
                    "address_id": nasty_text, "attribute[other]": nasty_text})
    return mutated(valid, hostile)


def test_the_feedback_api_survives_any_json(app):
    world = make_world()

    @FUZZ
    @given(body=st.one_of(json_values, _feedback_shaped(world.service)),
           lang=st.sampled_from(("id", "en", "xx")))
    def check(body, lang):
        before = row_counts()
        response = app.test_client().post(f"/api/v1/feedback?lang={lang}",
                                          data=json_body(body), content_type=JSON)
        assert_handled(response, before)

    check()


def test_the_reporting_api_survives_any_report_from_a_valid_token(app):
    world = make_world()

    @FUZZ
    @given(body=st.one_of(json_values, _report_shaped(world.service)))
    def check(body):
        before = row_counts()
        response = app.test_client().post("/api/v1/service-requests", data=json_body(body),
                                          content_type=JSON, headers=world.bearer)
        assert_handled(response, before)

    check()


def test_open311_filing_survives_any_form_from_a_valid_key(app):
    world = make_world()

    @FUZZ
    @given(form=_open311_shaped(world.open311_key, world.service),
           fmt=st.sampled_from(("json", "xml")))
    def check(form, fmt):
        before = row_counts()
        response = app.test_client().post(f"/open311/v2/requests.{fmt}",
                                          data=form_body(form), content_type=FORM)
        assert_handled(response, before)

    check()


def test_every_json_door_survives_raw_bodies(app):
    world = make_world()
    doors = [("/api/v1/feedback", JSON, {}),
             ("/api/v1/service-requests", JSON, world.bearer),
             ("/open311/v2/requests.json", FORM, {}),
             ("/open311/v2/requests.xml", "multipart/form-data; boundary=x", {})]

    @FEW
    @given(body=raw_bodies, door=st.sampled_from(doors))
    def check(body, door):
        path, content_type, headers = door
        before = row_counts()
        response = app.test_client().post(path, data=body, content_type=content_type,
                                          headers=headers)
        assert_handled(response, before)
        # Whatever came, nothing was filed: none of these bodies is a valid request.
        assert row_counts() == before

    check()


@pytest.mark.parametrize("kind", ["list", "object", "mixed"])
@pytest.mark.parametrize("path", ["/api/v1/feedback", "/api/v1/service-requests"])
def test_json_nested_100000_deep_is_a_clear_refusal(app, path, kind):
    world = make_world()
    before = row_counts()
    response = app.test_client().post(path, data=nested(100_000, kind), content_type=JSON,
                                      headers=world.bearer)
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    assert row_counts() == before


@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/v1/feedback", JSON), ("/api/v1/service-requests", JSON),
    ("/open311/v2/requests.json", FORM), ("/en/feedback/new", FORM),
])
def test_a_body_over_the_size_limit_is_413_and_stores_nothing(app, monkeypatch, path,
                                                              content_type):
    world = make_world()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    before = row_counts()
    body = b'{"subject":"' + b"a" * (300 * 1024) + b'"}'
    response = app.test_client().post(path, data=body, content_type=content_type,
                                      headers=world.bearer)
    assert response.status_code == 413
    assert row_counts() == before
