"""Error reports (Sentry): sent when SENTRY_DSN is set, never with personal data; else none."""

from __future__ import annotations

import json
import logging

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from portal import create_app
from portal.web.ops.error_reports import scrub_event
from tests.conftest import make_test_config

NAME = "Siti Rahmawati"
EMAIL = "siti.rahma@example.com"
PHONE = "0812 3456 7890"
CODE = "K7QM-3TXV-9PHD"
NEEDLES = (NAME, "Rahmawati", EMAIL, "siti.rahma", PHONE, "081234567890", "3456 7890", CODE,
           CODE.replace("-", ""))


class KeepingTransport(Transport):
    """The SDK's transport interface, keeping each envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes = []

    def capture_envelope(self, envelope) -> None:
        """Keep the envelope."""
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        """Return every event item of the kept envelopes, as JSON."""
        return [item.payload.json for envelope in self.envelopes for item in envelope.items
                if item.type == "event"]


@pytest.fixture
def reported(database_url):
    """An app reporting to a DSN through a transport that keeps what it would send."""
    transport = KeepingTransport()
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=database_url, PROPAGATE_EXCEPTIONS=False,
        SENTRY_DSN="https://public@errors.example.invalid/1", SENTRY_TRANSPORT=transport,
        PORTAL_VERSION="v9.9.9", WTF_CSRF_ENABLED=False))
    yield app, transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def test_an_error_is_reported_without_email_phone_name_or_tracking_code(reported):
    app, transport = reported

    def fail(code: str):
        logging.getLogger("portal.test").warning("mail to %s (%s) failed", EMAIL, PHONE)
        reporter = {"name": NAME, "email": EMAIL, "phone": PHONE}  # a local variable
        raise RuntimeError(f"could not mail {reporter['email']} about {code}, call {PHONE}")

    app.add_url_rule("/<lang>/feedback/<code>/fail", view_func=fail, methods=["POST"])
    response = app.test_client().post(
        f"/id/feedback/{CODE}/fail?code={CODE}&q={NAME}",
        data={"name": NAME, "email": EMAIL, "phone": PHONE, "body": f"Saya {NAME}"},
        headers={"Referer": f"https://pantau.example/id/feedback/{CODE}",
                 "Cookie": "session=abc", "X-Request-ID": "5e1f0c2a9b8d7e6f"},
    )
    assert response.status_code == 500
    sentry_sdk.flush()

    [event] = transport.events()
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "could not mail […] about [code], call […]"
    assert event["request"]["url"].endswith("/id/feedback/[code]/[code]")
    assert event["tags"]["request_id"] == "5e1f0c2a9b8d7e6f"
    assert event["release"] == "v9.9.9"
    sent = json.dumps(transport.events())
    for needle in NEEDLES:
        assert needle not in sent, needle
    assert "session=abc" not in sent


def test_personal_fields_and_texts_are_scrubbed_wherever_they_sit():
    event = {
        "user": {"ip_address": "203.0.113.9", "email": EMAIL},
        "request": {"url": f"https://p.example/id/track?code={CODE}", "data": {"name": NAME},
                    "query_string": f"code={CODE}", "cookies": {"session": "x"},
                    "headers": {"User-Agent": "Mozilla/5.0", "Authorization": "Bearer pl_x",
                                "Referer": f"https://p.example/id/feedback/{CODE}"}},
        "extra": {"reporter": {"reporter_name": NAME, "reporter_phone": PHONE, "kind": "x"},
                  "note": f"called {PHONE} for {CODE.lower()}"},
        "breadcrumbs": {"values": [{"message": f"sent to {EMAIL}", "data": {"code": CODE}}]},
        "sdk": {"name": "sentry.python.flask"},
    }
    scrubbed = scrub_event(event, {})
    assert "user" not in scrubbed
    assert scrubbed["request"] == {"url": "https://p.example/id/track",
                                   "headers": {"User-Agent": "Mozilla/5.0"}}
    assert scrubbed["extra"] == {
        "reporter": {"reporter_name": "[Filtered]", "reporter_phone": "[Filtered]", "kind": "x"},
        "note": "called […] for [code]"}
    assert scrubbed["breadcrumbs"]["values"][0] == {"message": "sent to […]",
                                                     "data": {"code": "[Filtered]"}}
    assert scrubbed["sdk"] == {"name": "sentry.python.flask"}


def test_nothing_is_reported_without_a_dsn(database_url):
    create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url, SENTRY_DSN=""))
    assert not sentry_sdk.get_client().is_active()
