"""The mail server goes down and comes back: filing works, and every mail goes out once.

A citizen files feedback through the form while nothing listens on the SMTP port; the
outbox keeps both mails (the receipt and the department's notice). The real server (aiosmtpd)
then comes up refusing mail for a while (451, a temporary failure), then accepts it: each
mail is delivered exactly once, at the attempt after its back-off.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models import OutboxMessage
from portal.services.outbox import outbox_pending_count, outbox_send
from tests.conftest import free_port
from tests.factories import create_service, create_user, csrf_token_from
from tests.feedback_support import IDENTITY, start_smtp


class _TemporarilyFailing:
    """An SMTP server whose mailbox is unavailable for now: every message gets a 451."""

    def __init__(self) -> None:
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        self.refused += 1
        return "451 Requested action aborted: local error in processing"


@pytest.fixture
def smtp_port(app, monkeypatch):
    """A free loopback port the outbox sends to; nothing listens on it yet."""
    port = free_port()
    for key, value in {"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": port,
                       "PORTAL_SMTP_TIMEOUT": 5, "PORTAL_SMTP_STARTTLS": False,
                       "PORTAL_SMTP_USER": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    return port


def _file_through_the_form(client, service_code: str) -> None:
    page = client.get("/en/feedback/new")
    response = client.post("/en/feedback/new", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "kind": "complaint", "service": service_code, "subject": "Antrean terlalu panjang",
        "body": "Saya menunggu tiga jam di loket.", "identity": "normal", **IDENTITY,
    })
    assert response.status_code == 303, response.get_data(as_text=True)


def _unsent() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))))


def test_mail_waits_while_the_server_is_down_and_goes_out_once_when_it_is_back(
    app, client, smtp_port
):
    service = create_service()
    officer = create_user("officer", department=service.department)
    _file_through_the_form(client, service.code)  # filing does not wait for mail
    assert outbox_pending_count() == 2

    # Down: nothing listens. Both mails stay, each with its next attempt a minute later.
    now = utc_now()
    assert outbox_send(now=now).failed == 2
    assert {m.attempts for m in _unsent()} == {1}

    # Up, but refusing for now (451): still kept, next attempt two minutes later.
    failing = _TemporarilyFailing()
    controller = Controller(failing, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert outbox_send(now=now + timedelta(minutes=1)).failed == 2
    finally:
        controller.stop()
    assert failing.refused == 2
    pending = _unsent()
    assert len(pending) == 2 and {m.attempts for m in pending} == {2}
    assert all(m.last_error == "SMTPDataError: 451" for m in pending)

    # Back for good: delivered at the next attempt, each exactly once.
    controller, sink = start_smtp(smtp_port)
    try:
        assert outbox_send(now=now + timedelta(minutes=2)).sent == 0  # not due yet
        assert outbox_send(now=now + timedelta(minutes=3)).sent == 2
        assert outbox_send(now=now + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    assert sorted(m["to"][0] for m in sink.messages) == sorted([IDENTITY["email"],
                                                                officer.email])
    assert outbox_pending_count() == 0
