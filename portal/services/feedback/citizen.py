"""Citizen feedback: filing, tracking codes, deadlines, the public view, reply, reopen, tick.

Deadlines (docs/definitions.md, "Feedback"), in working days of the current
calendar, each the end (24:00 WIB) of the N-th working day after the WIB date of its start:

- ``route_due``: 3 after submission, only for feedback the triage unit must route by hand;
- ``first_response_due``: 5 after routing; a transfer restarts it;
- ``resolution_due``: 14 after routing, 60 when the department marks it as needing
  investigation (a reopen does not move it: the original promise stands);
- ``auto_close_due``: 10 after the department marks it resolved, cleared when reopened.

``resolved_at`` and ``first_response_at`` describe the current state only (a reopen clears the
first, a transfer the second); the handling figures (feedback_figures) are computed from the
timeline's events, which keep every resolution, reopen, transfer and answer.

The public view (``feedback_public_view``) is the only shape in which feedback leaves the
service layer for citizens, pages and the API alike: it never holds a name, e-mail or phone,
and shows the citizen's text only in the public version staff approved (feedback_publish).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.domain.personal_data import find_personal_data
from portal.domain.personal_data import mentions_reporter as text_mentions_reporter
from portal.extensions import db
from portal.i18n import localized
from portal.models.catalogue import Department, Service
from portal.models.feedback import (
    CITIZEN,
    FEEDBACK_KINDS,
    MAX_BODY,
    MAX_EMAIL,
    MAX_NAME,
    MAX_PHONE,
    MAX_REASON,
    MAX_SUBJECT,
    REGENCIES,
    SYSTEM,
    Attachment,
    Feedback,
    FeedbackEvent,
)
from portal.services.attachments import (
    MAX_ATTACHMENTS,
    AttachmentRefused,
    attachment_discard,
    attachment_prepare,
    attachment_store,
)
from portal.services.errors import (
    FieldError,
    IdempotencyConflict,
    NotFound,
    ValidationError,
    must_be_one_of,
)
from portal.services.feedback import mail as feedback_mail
from portal.services.feedback.routing import (
    routing_decide,
    routing_reason,
    triage_unit_cached,
)
from portal.services.metrics.calendar_days import calendar_current

# -- tracking codes ----------------------------------------------------------------------------

# Crockford's base 32 without 0 and 1 as well: no 0/O, 1/I/L confusion can arise because none
# of these characters is ever used (and no U, as in Crockford). 30 symbols, 12 of them:
# 12 × log2(30) ≈ 58.9 bits of randomness from `secrets`.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 12
TRACKING_GROUP = 4
_SEPARATORS = re.compile(r"[\s\-_.·/]+")


def tracking_code_new() -> str:
    """Return a new random tracking code in canonical form (12 characters, no dashes)."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def tracking_code_display(code: str) -> str:
    """Group a canonical code in fours for reading aloud: K7QM-3TXV-9PHD."""
    return "-".join(code[i : i + TRACKING_GROUP] for i in range(0, len(code), TRACKING_GROUP))


def tracking_code_normalise(text: str) -> str | None:
    """Return the canonical code for what a citizen typed, or None if it cannot be one.

    Case, spaces, dashes and dots do not matter, nor do full-width characters from phone
    keyboards. Characters that never occur in a code (0, O, 1, I, L, U…) make it invalid
    rather than being guessed at: guessing could lead a citizen to someone else's feedback.
    """
    folded = unicodedata.normalize("NFKC", text or "").upper()
    compact = _SEPARATORS.sub("", folded)
    if len(compact) != TRACKING_LENGTH or any(ch not in TRACKING_ALPHABET for ch in compact):
        return None
    return compact


# -- deadlines ---------------------------------------------------------------------------------

ROUTE_WORKING_DAYS = 3
FIRST_RESPONSE_WORKING_DAYS = 5
RESOLUTION_WORKING_DAYS = 14
INVESTIGATION_WORKING_DAYS = 60
AUTO_CLOSE_WORKING_DAYS = 10
DEADLINE_NAMES = ("route_due", "first_response_due", "resolution_due", "auto_close_due")


def deadline_after(start: datetime, working_days: int) -> datetime:
    """Return the deadline N working days after ``start`` in the current calendar."""
    return calendar_current().deadline_working_days(start, working_days)


def set_routed(feedback: Feedback, department: Department, at: datetime) -> None:
    """Give feedback to a department at ``at`` and start its response and resolution clocks."""
    feedback.department = department
    feedback.department_id = department.id
    feedback.routed_at = at
    feedback.first_response_at = None
    feedback.first_response_reminded_at = None
    feedback.first_response_due = deadline_after(at, FIRST_RESPONSE_WORKING_DAYS)
    days = INVESTIGATION_WORKING_DAYS if feedback.needs_investigation else RESOLUTION_WORKING_DAYS
    feedback.resolution_due = deadline_after(at, days)
    if feedback.status == "submitted":
        feedback.status = "routed"


def overdue_deadlines(feedback: Feedback, now: datetime | None = None) -> list[str]:
    """Return the names of the deadlines the feedback has missed and still waits on."""
    now = now or utc_now()
    missed = []
    if feedback.status == "submitted" and feedback.route_due and now > feedback.route_due:
        missed.append("route_due")
    if feedback.status in ("routed", "in_progress"):
        if (feedback.first_response_at is None and feedback.first_response_due
                and now > feedback.first_response_due):
            missed.append("first_response_due")
        if feedback.resolution_due and now > feedback.resolution_due:
            missed.append("resolution_due")
    return missed


# -- validation --------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,28}$")
_CLIENT_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")


@dataclass
class _Clean:
    kind: str = ""
    service: Service | None = None
    subject: str = ""
    body: str = ""
    regency: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    anonymous: bool = False
    confidential: bool = False
    publish: bool = False
    errors: list[FieldError] = field(default_factory=list)


def _text(data: Mapping[str, Any], key: str, errors: list[FieldError]) -> str:
    """Read an optional text field: strings only, trimmed, NUL characters removed."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(key, _("must be text")))
        return ""
    # PostgreSQL refuses NUL in text; other control characters are harmless but useless.
    return value.replace("\x00", "").strip()


def _flag(data: Mapping[str, Any], key: str, errors: list[FieldError]) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors.append(FieldError(key, _("must be true or false")))
        return False
    return value


def regency_code(value: str) -> str | None:
    """Return the regency code for a code or a name (any case), or None."""
    folded = " ".join(value.replace("-", " ").split()).casefold()
    for code, name in REGENCIES.items():
        short = name.split(" ", 1)[1].casefold()
        if folded in (code.replace("-", " "), name.casefold(), short):
            return code
    return None


def _validate(data: Mapping[str, Any]) -> _Clean:
    clean = _Clean()
    errors = clean.errors

    kind = _text(data, "kind", errors)
    if kind not in FEEDBACK_KINDS:
        errors.append(FieldError("kind", must_be_one_of(FEEDBACK_KINDS)))
    clean.kind = kind

    service_code = _text(data, "service", errors)
    if service_code:
        clean.service = db.session.scalars(
            select(Service).where(Service.code == service_code[:64])
        ).first()
        if clean.service is None:
            errors.append(FieldError("service", _("There is no service with this code.")))

    for key, limit, message in (
        ("subject", MAX_SUBJECT, _("Enter a subject.")),
        ("body", MAX_BODY, _("Describe your feedback.")),
    ):
        value = _text(data, key, errors)
        if not value:
            errors.append(FieldError(key, message))
        elif len(value) > limit:
            errors.append(FieldError(key, _("Use at most %(max)d characters.", max=limit)))
        setattr(clean, key, value)

    regency = _text(data, "regency", errors)
    if regency:
        clean.regency = regency_code(regency[:100])
        if clean.regency is None:
            errors.append(FieldError("regency", _("Choose a regency or city of the province.")))

    clean.anonymous = _flag(data, "anonymous", errors)
    # Anonymous wins over confidential: nothing is stored, which is stricter still.
    clean.confidential = _flag(data, "confidential", errors) and not clean.anonymous
    clean.publish = _flag(data, "publish", errors)

    name = _text(data, "name", errors)
    email = _text(data, "email", errors)
    phone = _text(data, "phone", errors)
    if not clean.anonymous:
        if len(name) > MAX_NAME:
            errors.append(FieldError("name", _("Use at most %(max)d characters.", max=MAX_NAME)))
        if email and (len(email) > MAX_EMAIL or not _EMAIL.match(email)):
            errors.append(
                FieldError("email", _("Enter an e-mail address like name@example.com."))
            )
        if phone and (len(phone) > MAX_PHONE or not _PHONE.match(phone)):
            errors.append(
                FieldError(
                    "phone", _("Enter a phone number with digits only, like 0812 3456 7890.")
                )
            )
        clean.name, clean.email, clean.phone = name or None, email or None, phone or None
    return clean


# -- personal data in texts that become public --------------------------------------------------

# What counts as personal data is portal.domain.personal_data's rule, the same one the DPRD's
# de-identified view applies. Found strings are only shown to staff, never stored or logged.


class PersonalDataWarning(ValidationError):
    """A public text contains what looks like personal data; staff may confirm it is not."""


def personal_data_warnings(*texts: str) -> list[str]:
    """Return the e-mail addresses and phone or ID numbers found in texts, for staff to check."""
    found = [
        text[match.start:match.end]
        for text in texts
        for match in find_personal_data(text or "")
    ]
    return list(dict.fromkeys(found))


def mentions_reporter(feedback: Feedback, text: str) -> bool:
    """Tell whether text contains the reporter's stored name, e-mail or phone."""
    return text_mentions_reporter(
        text or "",
        reporter_name=feedback.reporter_name,
        reporter_email=feedback.reporter_email,
        reporter_phone=feedback.reporter_phone,
    )


# -- filing ------------------------------------------------------------------------------------


def event_add(feedback: Feedback, kind: str, at: datetime, **values: Any) -> FeedbackEvent:
    """Append a step to the feedback's timeline (committed with the caller's change)."""
    event = FeedbackEvent(kind=kind, at=at, **values)
    feedback.events.append(event)
    return event


def _by_client_token(token: str) -> Feedback | None:
    return db.session.scalars(select(Feedback).where(Feedback.client_token == token)).first()


def _request_fingerprint(
    token: str, clean: _Clean, files: Sequence[tuple[str, bytes]]
) -> str:
    """Return the keyed hash of a client token and the request it came with.

    The request is taken after validation (trimmed texts, the identity as it would be
    stored) with each attachment's name and content digest, so that a retry is recognised
    whatever its spacing. The reporter's language is not part of it: it only sets the
    language of mail and answers. Keyed with SECRET_KEY: the stored value cannot be used to
    check a guess of the text or the identity.
    """
    canonical = json.dumps(
        {
            "kind": clean.kind,
            "service": clean.service.code if clean.service is not None else None,
            "subject": clean.subject,
            "body": clean.body,
            "regency": clean.regency,
            "name": clean.name,
            "email": clean.email,
            "phone": clean.phone,
            "anonymous": clean.anonymous,
            "confidential": clean.confidential,
            "publish": clean.publish,
            "attachments": [
                [name, hashlib.sha256(content).hexdigest()] for name, content in files
            ],
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{token}\n{canonical}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _replayed(existing: Feedback, fingerprint: str) -> Feedback:
    """Return the feedback a token already created if the request is the same; else refuse.

    A feedback stored without a fingerprint cannot prove the request is the same: refused.
    """
    if existing.client_fingerprint and hmac.compare_digest(
        existing.client_fingerprint, fingerprint
    ):
        return existing
    raise IdempotencyConflict(existing.client_token)


def feedback_submit(
    data: Mapping[str, Any],
    lang: str,
    client_token: str | None = None,
    attachments: Sequence[tuple[str, bytes]] = (),
    now: datetime | None = None,
) -> Feedback:
    """File feedback: validate, route, set deadlines, store, queue mail, commit.

    The same ``client_token`` twice with the same request returns the feedback created the
    first time (a double click, a retried request), without creating another; with a
    different request it raises IdempotencyConflict (the first feedback, its tracking code
    included, belongs to whoever sent it).
    """
    if client_token is not None and not _CLIENT_TOKEN.match(client_token):
        raise ValidationError([FieldError("client_token", _("is not a valid token"))])
    if lang not in current_app.config["PORTAL_LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]

    clean = _validate(data)
    files = [(name, content) for name, content in attachments if content]
    if len(files) > MAX_ATTACHMENTS:
        clean.errors.append(
            FieldError("attachments", _("Attach at most %(n)d files.", n=MAX_ATTACHMENTS))
        )
        files = []
    prepared = []
    for index, (name, content) in enumerate(files):
        try:
            prepared.append(attachment_prepare(name, content, index))
        except AttachmentRefused as refused:
            clean.errors.append(refused.error)
    if clean.errors:
        raise ValidationError(clean.errors)
    fingerprint = _request_fingerprint(client_token, clean, files) if client_token else None
    if client_token:
        existing = _by_client_token(client_token)
        if existing is not None:
            return _replayed(existing, fingerprint)

    now = now or utc_now()
    decision = routing_decide(clean.service, f"{clean.subject}\n{clean.body}")
    feedback = Feedback(
        tracking_code=tracking_code_new(),
        kind=clean.kind,
        service=clean.service,
        subject=clean.subject,
        body=clean.body,
        regency=clean.regency,
        reporter_name=clean.name,
        reporter_email=clean.email,
        reporter_phone=clean.phone,
        anonymous=clean.anonymous,
        confidential=clean.confidential,
        publish_requested=clean.publish,
        publish_approved=False,
        lang=lang,
        status="submitted",
        routing_rule=decision.rule,
        routing_detail=decision.detail,
        routing_rule_id=decision.rule_id,
        submitted_at=now,
        client_token=client_token or None,
        client_fingerprint=fingerprint,
        transfer_count=0,
        reopen_count=0,
        needs_investigation=False,
    )
    event_add(feedback, "submitted", now, actor=CITIZEN, status_to="submitted")
    if decision.department is not None:
        set_routed(feedback, decision.department, now)
        event_add(
            feedback, "routed", now, actor=SYSTEM, status_from="submitted", status_to="routed",
            to_department_id=decision.department.id,
        )
    else:
        feedback.route_due = deadline_after(now, ROUTE_WORKING_DAYS)

    stored: list[str] = []
    try:
        for item in prepared:
            name, size = attachment_store(item)
            stored.append(name)
            feedback.attachments.append(
                Attachment(stored_name=name, content_type=item.content_type, size=size,
                           original_name=item.original_name)
            )
        db.session.add(feedback)
        db.session.flush()
        feedback_mail.mail_reporter(feedback, "submitted")
        feedback_mail.mail_staff(feedback, "new")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        attachment_discard(stored)
        if client_token:
            existing = _by_client_token(client_token)
            if existing is not None:
                # Another request with the same token won the race: that one counts.
                return _replayed(existing, fingerprint)
        raise
    except BaseException:
        db.session.rollback()
        attachment_discard(stored)
        raise
    return feedback


# -- reading -----------------------------------------------------------------------------------


def feedback_service_choices(lang: str) -> list[tuple[str, str]]:
    """Return (code, "service — department") for every service, for the form's list."""
    services = db.session.scalars(select(Service).join(Service.department)).all()
    choices = [
        (s.code, f"{localized(s, 'name', lang)} — {localized(s.department, 'name', lang)}")
        for s in services
    ]
    return sorted(choices, key=lambda item: item[1].casefold())


def public_view_options() -> tuple:
    """Loader options for feedback about to be shown with feedback_public_view.

    The timeline with the departments of each step, the service and the department come in
    a fixed number of queries, however many steps there are.
    """
    return (
        selectinload(Feedback.events).selectinload(FeedbackEvent.from_department),
        selectinload(Feedback.events).selectinload(FeedbackEvent.to_department),
        selectinload(Feedback.department),
        selectinload(Feedback.service),
    )


def feedback_get(code: str) -> Feedback:
    """Return the feedback with this tracking code (any spelling a citizen may type).

    Loaded with what its public view needs (public_view_options).
    """
    canonical = tracking_code_normalise(code)
    if canonical is None:
        raise NotFound(code)
    feedback = db.session.scalars(
        select(Feedback).where(Feedback.tracking_code == canonical)
        .options(*public_view_options())
    ).first()
    if feedback is None:
        raise NotFound(code)
    return feedback


def _named(obj: Department | Service | None, lang: str) -> dict[str, str] | None:
    if obj is None:
        return None
    return {"code": obj.code, "name": localized(obj, "name", lang).text}


# Public events whose text, written by staff, is meant for the citizen.
_STAFF_PUBLIC_TEXT = ("answer", "transferred", "investigation", "rejected", "status", "routed")


def feedback_public_view(feedback: Feedback, lang: str, now: datetime | None = None) -> dict:
    """Return what anyone holding the tracking code may see: never an identity.

    Datetimes are aware UTC datetimes (the API writes them in ISO 8601, pages in WIB).
    """
    now = now or utc_now()
    timeline = []
    for event in feedback.events:
        if not event.public:
            continue
        by = {CITIZEN: "citizen", SYSTEM: "system"}.get(event.actor, "staff")
        # The citizen's own words (replies, reopen reasons) are never shown: only the public
        # version staff checked and approved (see feedback_publish) is.
        text = event.body if (by != "citizen" and event.kind in _STAFF_PUBLIC_TEXT) else ""
        timeline.append({
            "kind": event.kind,
            "at": event.at,
            "by": by,
            "text": text,
            "status": event.status_to,
            "from_department": _named(event.from_department, lang),
            "to_department": _named(event.to_department, lang),
        })
    department = feedback.department
    if department is None and feedback.routing_rule == "triage":
        handler = triage_unit_cached()
    else:
        handler = department
    # The reason is about where the feedback first went; transfers are separate steps of the
    # timeline, each with its own reason.
    routed_to = next(
        (event.to_department for event in feedback.events
         if event.kind == "routed" and event.to_department is not None),
        department,
    )
    view = {
        "tracking_code": feedback.tracking_code_display,
        "kind": feedback.kind,
        "status": feedback.status,
        "service": _named(feedback.service, lang),
        "department": _named(department, lang),
        "handled_by": _named(handler, lang),
        "regency": feedback.regency,
        "routing_rule": feedback.routing_rule,
        "routing_reason": routing_reason(
            feedback.routing_rule, feedback.routing_detail, routed_to, lang, feedback.service
        ),
        "routed_department": _named(routed_to, lang),
        "submitted_at": feedback.submitted_at,
        "routed_at": feedback.routed_at,
        "first_response_at": feedback.first_response_at,
        "resolved_at": feedback.resolved_at,
        "closed_at": feedback.closed_at,
        "needs_investigation": feedback.needs_investigation,
        "investigation_reason": feedback.investigation_reason or "",
        "rejection_reason": feedback.rejection_reason or "",
        "transfer_count": feedback.transfer_count,
        "reopen_count": feedback.reopen_count,
        "deadlines": {name: getattr(feedback, name) for name in DEADLINE_NAMES},
        "overdue": overdue_deadlines(feedback, now),
        "can_reply": feedback_can_reply(feedback),
        "can_reopen": feedback_can_reopen(feedback, now),
        "published": feedback.publish_approved,
        "subject": feedback.public_subject if feedback.publish_approved else None,
        "body": feedback.public_body if feedback.publish_approved else None,
        "timeline": timeline,
    }
    return view


# -- the citizen's follow-up -------------------------------------------------------------------


def feedback_can_reply(feedback: Feedback) -> bool:
    """Tell whether the citizen may still add a reply (not once closed or rejected)."""
    return feedback.status not in ("closed", "rejected")


def feedback_can_reopen(feedback: Feedback, now: datetime | None = None) -> bool:
    """Tell whether the citizen may reopen: resolved, and not yet past the automatic close."""
    now = now or utc_now()
    return (
        feedback.status == "resolved"
        and feedback.auto_close_due is not None
        and now <= feedback.auto_close_due
    )


def required_text(value: Any, field_name: str, empty_message: str) -> str:
    """Read a required text (a reply, a reason, an answer): trimmed, NUL removed, not too long.

    Used for the citizen's texts here and for the staff's (feedback_staff).
    """
    text = value.replace("\x00", "").strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError([FieldError(field_name, empty_message)])
    if len(text) > MAX_REASON:
        raise ValidationError(
            [FieldError(field_name, _("Use at most %(max)d characters.", max=MAX_REASON))]
        )
    return text


def feedback_reply(code: str, body: Any, now: datetime | None = None) -> Feedback:
    """Add the citizen's reply to the timeline and tell the department."""
    feedback = feedback_get(code)
    text = required_text(body, "body", _("Write your reply."))
    if not feedback_can_reply(feedback):
        raise ValidationError([FieldError("body", _("This feedback is closed."))])
    now = now or utc_now()
    event_add(feedback, "reply", now, actor=CITIZEN, body=text)
    feedback_mail.mail_staff(feedback, "reply")
    db.session.commit()
    return feedback


def feedback_reopen(code: str, reason: Any, now: datetime | None = None) -> Feedback:
    """Reopen resolved feedback with the citizen's reason, before it closes by itself."""
    feedback = feedback_get(code)
    text = required_text(reason, "reason", _("Say why the problem is not solved."))
    now = now or utc_now()
    if not feedback_can_reopen(feedback, now):
        raise ValidationError(
            [FieldError("reason", _("Only resolved feedback can be reopened, before it closes."))]
        )
    # Conditional: a concurrent tick closing it, or a second click, cannot both win.
    result = db.session.execute(
        update(Feedback)
        .where(
            Feedback.id == feedback.id,
            Feedback.status == "resolved",
            Feedback.auto_close_due >= now,
        )
        .values(
            status="in_progress",
            resolved_at=None,
            auto_close_due=None,
            reopen_count=Feedback.reopen_count + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ValidationError(
            [FieldError("reason", _("Only resolved feedback can be reopened, before it closes."))]
        )
    db.session.refresh(feedback)
    event_add(
        feedback, "reopened", now, actor=CITIZEN, body=text,
        status_from="resolved", status_to="in_progress",
    )
    feedback_mail.mail_staff(feedback, "reopened")
    feedback_mail.mail_reporter(feedback, "reopened")
    db.session.commit()
    return feedback


# -- the periodic tick -------------------------------------------------------------------------


@dataclass
class TickSummary:
    """What one tick did."""

    closed: int = 0
    reminders: int = 0


_REMINDERS = (
    # (flag column, deadline column, extra condition, mail step)
    ("route_reminded_at", "route_due", lambda: Feedback.status == "submitted", "reminder_route"),
    (
        "first_response_reminded_at",
        "first_response_due",
        lambda: and_(
            Feedback.status.in_(("routed", "in_progress")),
            Feedback.first_response_at.is_(None),
        ),
        "reminder_first_response",
    ),
    (
        "resolution_reminded_at",
        "resolution_due",
        lambda: Feedback.status.in_(("routed", "in_progress")),
        "reminder_resolution",
    ),
)


def feedback_tick(now: datetime | None = None) -> TickSummary:
    """Close resolved feedback past its automatic close and queue each overdue reminder once.

    Idempotent and safe to run on several machines at once: every change is a conditional
    UPDATE that only one runner can win, and its event and mail are written in the same
    transaction as the change.
    """
    now = now or utc_now()
    summary = TickSummary()

    due_ids = list(db.session.scalars(
        select(Feedback.id).where(Feedback.status == "resolved", Feedback.auto_close_due < now)
    ))
    for feedback_id in due_ids:
        result = db.session.execute(
            update(Feedback)
            .where(
                Feedback.id == feedback_id,
                Feedback.status == "resolved",
                Feedback.auto_close_due < now,
            )
            .values(status="closed", closed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            continue
        feedback = db.session.get(Feedback, feedback_id, populate_existing=True)
        event_add(feedback, "closed", now, actor=SYSTEM, status_from="resolved",
                   status_to="closed")
        feedback_mail.mail_reporter(feedback, "closed")
        db.session.commit()
        summary.closed += 1

    for flag, deadline, condition, step in _REMINDERS:
        flag_col = getattr(Feedback, flag)
        deadline_col = getattr(Feedback, deadline)
        ids = list(db.session.scalars(
            select(Feedback.id).where(flag_col.is_(None), deadline_col < now, condition())
        ))
        for feedback_id in ids:
            result = db.session.execute(
                update(Feedback)
                .where(Feedback.id == feedback_id, flag_col.is_(None), deadline_col < now,
                       condition())
                .values({flag: now})
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                db.session.rollback()
                continue
            feedback = db.session.get(Feedback, feedback_id, populate_existing=True)
            summary.reminders += feedback_mail.mail_staff(feedback, step)
            db.session.commit()
    db.session.commit()
    return summary
