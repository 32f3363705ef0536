"""The mail outbox against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from portal.extensions import db
from portal.models import OutboxMessage
from portal.services.feedback.citizen import feedback_submit
from portal.services.outbox import (
    _claim,
    backoff_delay,
    outbox_enqueue,
    outbox_pending_count,
    outbox_send,
)
from tests.conftest import free_port
from tests.factories import create_service, create_user
from tests.feedback_support import IDENTITY, start_smtp, valid_data

NOW = datetime(2025, 8, 15, 3, 0, tzinfo=UTC)


@pytest.fixture
def smtp_port(app, monkeypatch):
    """A free loopback port the outbox is configured to send to (nothing listens yet)."""
    port = free_port()
    monkeypatch.setitem(app.config, "PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "PORTAL_SMTP_PORT", port)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "PORTAL_SMTP_USER", "")
    return port


@pytest.fixture
def smtp_server(smtp_port):
    """A running SMTP server collecting what it receives."""
    controller, sink = start_smtp(smtp_port)
    yield sink
    controller.stop()


def _queue(to: str = "warga@example.com", subject: str = "Halo") -> OutboxMessage:
    message = outbox_enqueue(to, subject, "Isi pesan", lang="id", kind="test", now=NOW)
    db.session.commit()
    return message


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, timedelta(0)), (1, timedelta(minutes=1)), (2, timedelta(minutes=2)),
     (3, timedelta(minutes=4)), (9, timedelta(minutes=256)), (10, timedelta(hours=6)),
     (50, timedelta(hours=6))],
)
def test_backoff_doubles_up_to_six_hours(attempts, delay):
    assert backoff_delay(attempts) == delay


def test_a_queued_mail_is_delivered_over_smtp(app, smtp_server):
    message = _queue()
    summary = outbox_send(now=NOW)
    assert (summary.sent, summary.failed) == (1, 0)
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["to"] == ["warga@example.com"]
    assert "Subject: Halo" in received["data"]
    assert "Content-Language: id" in received["data"]
    assert "Isi pesan" in received["data"]
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.sent_at is not None and stored.attempts == 1
    # Sent once only.
    assert outbox_send(now=NOW + timedelta(hours=1)).sent == 0
    assert len(smtp_server.messages) == 1


def test_enqueue_alone_sends_nothing_until_committed(app):
    outbox_enqueue("a@example.com", "x", "y", lang="id", kind="test", now=NOW)
    db.session.rollback()
    assert outbox_pending_count() == 0


def test_a_server_that_is_down_then_up_loses_nothing(app, smtp_port):
    message = _queue()
    # Nothing listens on the port: the attempt fails and is scheduled one minute later.
    summary = outbox_send(now=NOW)
    assert (summary.sent, summary.failed) == (0, 1)
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.sent_at is None
    assert stored.attempts == 1
    assert stored.next_attempt_at == NOW + timedelta(minutes=1)
    assert stored.last_error
    # Still down at the next attempt: two minutes more.
    assert outbox_send(now=NOW + timedelta(minutes=1)).failed == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).next_attempt_at == NOW + timedelta(minutes=3)
    # Not due yet: not even tried.
    assert outbox_send(now=NOW + timedelta(minutes=2)).failed == 0
    # The server comes up; the message goes out at its next attempt.
    controller, sink = start_smtp(smtp_port)
    try:
        summary = outbox_send(now=NOW + timedelta(minutes=3))
    finally:
        controller.stop()
    assert (summary.sent, summary.failed) == (1, 0)
    assert len(sink.messages) == 1
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.sent_at is not None and stored.attempts == 3
    assert outbox_pending_count() == 0


class _RefusingHandler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("refused"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def test_a_refused_recipient_is_retried_later_and_others_still_go(app, smtp_port):
    refused = _queue("refused.person@example.com")
    fine = _queue("fine@example.com")
    controller = Controller(_RefusingHandler(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        summary = outbox_send(now=NOW)
    finally:
        controller.stop()
    assert (summary.sent, summary.failed) == (1, 1)
    db.session.expire_all()
    failed = db.session.get(OutboxMessage, refused.id)
    assert failed.sent_at is None and failed.attempts == 1
    # The error is recorded without the address (no personal data in errors or logs).
    assert "refused.person" not in failed.last_error
    assert "550" in failed.last_error
    assert db.session.get(OutboxMessage, fine.id).sent_at is not None


def test_a_message_is_claimed_by_one_worker_only(app):
    message = _queue()
    assert _claim(message.id, NOW, NOW) is True
    assert _claim(message.id, NOW, NOW) is False


def test_filing_feedback_mails_the_reporter_and_the_department(app, smtp_server):
    service = create_service()
    officer = create_user("officer", department=service.department)
    create_user("officer", department=service.department, is_active=False)
    feedback_submit(valid_data(service=service.code, confidential=True, **IDENTITY), "en")
    summary = outbox_send(now=datetime.now(UTC))
    assert summary.sent == 2
    by_recipient = {m["to"][0]: m["data"] for m in smtp_server.messages}
    assert set(by_recipient) == {IDENTITY["email"], officer.email}
    assert "Content-Language: en" in by_recipient[IDENTITY["email"]]
    department_mail = by_recipient[officer.email]
    for value in (*IDENTITY.values(), "Siti", "Rahmawati", "0812"):
        assert value not in department_mail


def test_outbox_send_command(app, runner, smtp_server):
    _queue()
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent: 1" in result.output
    assert len(smtp_server.messages) == 1
