"""The mail outbox: mail is written to the database with the change it reports, then sent.

``outbox_enqueue`` only adds a row to the session: the caller's commit stores the change and
its mail together, or neither. ``outbox_send`` (run by ``flask outbox send``, e.g. every
minute from cron or a systemd timer) claims due messages, sends them over SMTP and records the
outcome. A failure never deletes a message: it is retried with exponential backoff (1 minute,
2, 4, … capped at 6 hours) for as long as it takes.

Several workers may run at once: each message is claimed with a conditional UPDATE that moves
its next attempt into the future (a lease), so only one worker sends it. A worker that dies
after claiming leaves the message to be retried when the lease ends; the price is that a
message may, rarely, be sent twice, never lost.

Log lines name message ids only, never an address or a text.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import func, select, update

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.feedback import OutboxMessage

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
# How long a claimed message is left alone by other workers while one sends it.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass
class SendSummary:
    """What one run of the sender did."""

    sent: int = 0
    failed: int = 0


def outbox_enqueue(
    to: str,
    subject: str,
    body: str,
    *,
    lang: str,
    kind: str,
    feedback_id: int | None = None,
    now: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMessage:
    """Queue a mail in the current transaction (the caller commits it with its change).

    ``headers`` are extra mail headers (List-Unsubscribe of subscription mail).
    """
    message = OutboxMessage(
        to_address=to,
        subject=" ".join(subject.split())[:300],
        body=body,
        lang=lang,
        kind=kind,
        feedback_id=feedback_id,
        next_attempt_at=now or utc_now(),
        headers=json.dumps(headers, separators=(",", ":")) if headers else "",
    )
    db.session.add(message)
    return message


def backoff_delay(attempts: int) -> timedelta:
    """Return the wait after the ``attempts``-th failure: 1, 2, 4, … minutes, at most 6 hours."""
    if attempts <= 0:
        return timedelta(0)
    return min(BACKOFF_FIRST * (2 ** min(attempts - 1, 20)), BACKOFF_MAX)


def _claim(message_id: int, seen_next_attempt: datetime, now: datetime) -> bool:
    """Take a message for this worker; False when another worker took it first."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at == seen_next_attempt,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _build(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    mail = EmailMessage()
    mail["From"] = config["PORTAL_MAIL_FROM"]
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(domain="pantau-layanan")
    mail["Auto-Submitted"] = "auto-generated"
    for name, value in json.loads(message.headers or "{}").items():
        mail[name] = value
    mail.set_content(message.body)
    # After set_content, which clears every Content-* header.
    mail["Content-Language"] = message.lang
    return mail


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(
        config["PORTAL_SMTP_HOST"],
        int(config["PORTAL_SMTP_PORT"]),
        timeout=float(config.get("PORTAL_SMTP_TIMEOUT", 20)),
    )
    try:
        if config.get("PORTAL_SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("PORTAL_SMTP_USER"):
            smtp.login(config["PORTAL_SMTP_USER"], config["PORTAL_SMTP_PASSWORD"])
    except Exception:
        smtp.close()
        raise
    return smtp


def _error_text(error: BaseException) -> str:
    """Describe a failure without the recipient's address (SMTP errors may quote it)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _msg in error.recipients.values()})
        return f"SMTPRecipientsRefused: {codes}"
    return type(error).__name__


def _record_failure(message_id: int, attempts: int, error: BaseException, now: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        .values(
            attempts=attempts + 1,
            next_attempt_at=now + backoff_delay(attempts + 1),
            last_error=_error_text(error)[:500],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.warning("outbox message %s failed (attempt %s): %s", message_id, attempts + 1,
                _error_text(error))


def outbox_send(now: datetime | None = None, limit: int = 100) -> SendSummary:
    """Send up to ``limit`` due messages over SMTP; failures are retried later with backoff."""
    now = now or utc_now()
    summary = SendSummary()
    due = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.next_attempt_at, OutboxMessage.attempts)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    claimed = [(mid, attempts) for mid, seen, attempts in due if _claim(mid, seen, now)]
    if not claimed:
        return summary
    try:
        smtp = _connect()
    except OSError as error:  # smtplib.SMTPException is an OSError
        # The server is unreachable: every claimed message waits for its next attempt.
        for mid, attempts in claimed:
            _record_failure(mid, attempts, error, now)
        summary.failed = len(claimed)
        return summary
    try:
        for mid, attempts in claimed:
            message = db.session.get(OutboxMessage, mid, populate_existing=True)
            try:
                smtp.send_message(_build(message))
            except OSError as error:
                db.session.rollback()
                _record_failure(mid, attempts, error, now)
                summary.failed += 1
                # smtplib's errors are OSErrors too: an SMTP answer refusing this one message
                # leaves the connection usable, anything else means it is gone.
                lost = isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(
                    error, smtplib.SMTPException
                )
                if lost:
                    # The connection is gone: the rest keep their lease and are retried.
                    for rest_mid, rest_attempts in claimed[claimed.index((mid, attempts)) + 1 :]:
                        _record_failure(rest_mid, rest_attempts, error, now)
                        summary.failed += 1
                    break
                continue
            message.sent_at = utc_now()
            message.attempts = attempts + 1
            message.last_error = ""
            db.session.commit()
            summary.sent += 1
            log.info("outbox message %s sent", mid)
    finally:
        try:
            smtp.quit()
        except OSError:
            smtp.close()
    return summary


def outbox_pending_count() -> int:
    """Return how many messages still wait to be sent."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    ) or 0
