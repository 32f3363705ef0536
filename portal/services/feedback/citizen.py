"""Citizen feedback: tracking codes, filing, reading, reply, reopen, and the periodic tick.

The deadlines are set and checked by the rules of ``feedback.deadlines``; citizens, pages and
the API see feedback only through its public view (``feedback.public_view``).

``resolved_at`` and ``first_response_at`` describe the current state only (a reopen clears the
first, a transfer the second); the handling figures (feedback_figures) are computed from the
timeline's events, which keep every resolution, reopen, transfer and answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.domain.calendar import utc_now
from portal.domain.personal_data import find_personal_data
from portal.domain.personal_data import mentions_reporter as text_mentions_reporter
from portal.domain.regions import regency_from_kemendagri
from portal.domain.tracking_codes import (  # noqa: F401  (re-exported for pages and tests)
    TRACKING_ALPHABET,
    TRACKING_GROUP,
    TRACKING_LENGTH,
    tracking_code_compact,
    tracking_code_display,
    tracking_code_new,
    tracking_code_normalise,
    tracking_key,
)
from portal.extensions import db
from portal.i18n import localized_text
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
    PreparedAttachment,
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
from portal.services.feedback.deadlines import (
    ROUTE_WORKING_DAYS,
    deadline_after,
    feedback_can_reopen,
    feedback_can_reply,
    set_routed,
)
from portal.services.feedback.public_view import public_view_options
from portal.services.feedback.routing import RoutingDecision, routing_decide

# -- tracking codes ----------------------------------------------------------------------------

# The rule lives in portal.domain.tracking_codes (imported above, and from here by pages).


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
    # The citizen says it is about corruption, bribery, illegal levies or misconduct by
    # officials (routing rule 0).
    integrity: bool = False
    errors: list[FieldError] = field(default_factory=list)


def _text(data: Mapping[str, Any], key: str, errors: list[FieldError]) -> str:
    """Read an optional text field: strings only, trimmed, NUL characters removed."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(key, _("must be text"), code="invalid_type"))
        return ""
    # PostgreSQL refuses NUL in text; other control characters are harmless but useless.
    return value.replace("\x00", "").strip()


def _flag(data: Mapping[str, Any], key: str, errors: list[FieldError]) -> bool:
    value = data.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors.append(FieldError(key, _("must be true or false"), code="invalid_type"))
        return False
    return value


def regency_code(value: str) -> str | None:
    """Return the regency code for a code, a Kemendagri code (62.71) or a name, or None."""
    official = regency_from_kemendagri(value)
    if official is not None:
        return official
    folded = " ".join(value.replace("-", " ").split()).casefold()
    for code, name in REGENCIES.items():
        short = name.split(" ", 1)[1].casefold()
        if folded in (code.replace("-", " "), name.casefold(), short):
            return code
    return None


def _validate_subject_matter(data: Mapping[str, Any], clean: _Clean) -> None:
    """Read the kind and the service the feedback is about."""
    errors = clean.errors
    kind = _text(data, "kind", errors)
    if kind not in FEEDBACK_KINDS:
        errors.append(FieldError("kind", must_be_one_of(FEEDBACK_KINDS),
                                  code="invalid_choice" if kind else "required"))
    clean.kind = kind
    clean.integrity = _flag(data, "integrity", errors)

    service_code = _text(data, "service", errors)
    if service_code:
        clean.service = db.session.scalars(
            select(Service).where(Service.code == service_code[:64])
        ).first()
        if clean.service is None:
            errors.append(FieldError("service", _("There is no service with this code."),
                                      code="not_found"))


def _validate_texts(data: Mapping[str, Any], clean: _Clean) -> None:
    """Read the subject and the body (both required) and the regency (optional)."""
    errors = clean.errors
    for key, limit, message in (
        ("subject", MAX_SUBJECT, _("Enter a subject.")),
        ("body", MAX_BODY, _("Describe your feedback.")),
    ):
        value = _text(data, key, errors)
        if not value:
            errors.append(FieldError(key, message, code="required"))
        elif len(value) > limit:
            errors.append(FieldError(key, _("Use at most %(max)d characters.", max=limit),
                                     code="too_long"))
        setattr(clean, key, value)

    regency = _text(data, "regency", errors)
    if regency:
        clean.regency = regency_code(regency[:100])
        if clean.regency is None:
            errors.append(FieldError("regency", _("Choose a regency or city of the province."),
                                     code="invalid_choice"))


def _validate_identity(data: Mapping[str, Any], clean: _Clean) -> None:
    """Read the identity choices and, unless anonymous, the name, e-mail and phone."""
    errors = clean.errors
    clean.anonymous = _flag(data, "anonymous", errors)
    # Anonymous wins over confidential: nothing is stored, which is stricter still.
    clean.confidential = _flag(data, "confidential", errors) and not clean.anonymous
    clean.publish = _flag(data, "publish", errors)

    name = _text(data, "name", errors)
    email = _text(data, "email", errors)
    phone = _text(data, "phone", errors)
    if clean.anonymous:
        return
    errors.extend(_contact_errors(name=name, email=email, phone=phone))
    clean.name, clean.email, clean.phone = name or None, email or None, phone or None


def _contact_errors(*, name: str, email: str, phone: str) -> list[FieldError]:
    """Return what is wrong with a reporter's name, e-mail and phone (each optional)."""
    errors = []
    if len(name) > MAX_NAME:
        errors.append(FieldError("name", _("Use at most %(max)d characters.", max=MAX_NAME),
                                 code="too_long"))
    if email and (len(email) > MAX_EMAIL or not _EMAIL.match(email)):
        errors.append(
            FieldError("email", _("Enter an e-mail address like name@example.com."),
                       code="invalid_format")
        )
    if phone and (len(phone) > MAX_PHONE or not _PHONE.match(phone)):
        errors.append(
            FieldError(
                "phone", _("Enter a phone number with digits only, like 0812 3456 7890."),
                code="invalid_format",
            )
        )
    return errors


def _validate(data: Mapping[str, Any]) -> _Clean:
    """Read a submission's fields; every problem found goes into the result's errors."""
    clean = _Clean()
    _validate_subject_matter(data, clean)
    _validate_texts(data, clean)
    _validate_identity(data, clean)
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
            "integrity": clean.integrity,
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


@dataclass
class _Submission:
    """A submission that passed validation: its fields and its files, ready to store."""

    clean: _Clean
    # Non-empty files as sent (name, content): what a retry's fingerprint is taken over.
    files: list[tuple[str, bytes]]
    prepared: list[PreparedAttachment]


def _submission_validate(
    data: Mapping[str, Any], attachments: Sequence[tuple[str, bytes]]
) -> _Submission:
    """Check the fields and the files together; raise ValidationError with every problem."""
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
    return _Submission(clean=clean, files=files, prepared=prepared)


def _feedback_new(
    clean: _Clean,
    decision: RoutingDecision,
    *,
    lang: str,
    now: datetime,
    client_token: str | None,
    fingerprint: str | None,
) -> Feedback:
    """Build the new feedback with its first steps, routed or waiting for triage, and deadlines."""
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
        # An integrity report's reporter is confidential even if they did not ask.
        confidential=clean.confidential or (decision.integrity and not clean.anonymous),
        publish_requested=clean.publish,
        publish_approved=False,
        lang=lang,
        status="submitted",
        routing_rule=decision.rule,
        routing_detail=decision.detail,
        routing_rule_id=decision.rule_id,
        integrity=decision.integrity,
        concerned_department=decision.concerned,
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
    return feedback


def _attachments_store(
    feedback: Feedback, prepared: Sequence[PreparedAttachment], stored: list[str]
) -> None:
    """Write the files and attach them to the feedback.

    Each stored name goes into ``stored`` as soon as its file exists, so that a failure
    halfway can still discard every one.
    """
    for item in prepared:
        name, size = attachment_store(item)
        stored.append(name)
        feedback.attachments.append(
            Attachment(stored_name=name, content_type=item.content_type, size=size,
                       original_name=item.original_name)
        )


def _submission_announce(feedback: Feedback) -> None:
    """Queue the reporter's receipt and the department's (or triage unit's) notice."""
    feedback_mail.mail_reporter(feedback, "submitted")
    feedback_mail.mail_staff(feedback, "new")


def _feedback_save(
    feedback: Feedback,
    prepared: Sequence[PreparedAttachment],
    *,
    client_token: str | None,
    fingerprint: str | None,
) -> Feedback:
    """Store the files, queue the mail and commit, all or nothing; return the feedback.

    Should another request with the same client token commit first, that one counts.
    """
    stored: list[str] = []
    try:
        _attachments_store(feedback, prepared, stored)
        db.session.add(feedback)
        db.session.flush()
        _submission_announce(feedback)
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
        raise ValidationError([FieldError("client_token", _("is not a valid token"),
                                          code="invalid_format")])
    if lang not in current_app.config["PORTAL_LANGUAGES"]:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]

    submission = _submission_validate(data, attachments)
    clean = submission.clean
    fingerprint = None
    if client_token:
        fingerprint = _request_fingerprint(client_token, clean, submission.files)
        existing = _by_client_token(client_token)
        if existing is not None:
            return _replayed(existing, fingerprint)

    now = now or utc_now()
    decision = routing_decide(clean.service, f"{clean.subject}\n{clean.body}",
                              integrity=clean.integrity)
    feedback = _feedback_new(
        clean, decision, lang=lang, now=now, client_token=client_token, fingerprint=fingerprint
    )
    return _feedback_save(
        feedback, submission.prepared, client_token=client_token, fingerprint=fingerprint
    )


# -- reading -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _service_names_statement() -> Select:
    """Build the statement of every service's code and names with its department's names:
    plain columns in one statement (not 1,000 services with their long texts)."""
    return select(Service.code, Service.name_id, Service.name_en, Department.name_id,
                  Department.name_en).join(Service.department)


def feedback_service_groups(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return (department name, [(code, service name)…]) for the form's grouped list.

    Departments and their services in alphabetical order of the reader's language.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name_id, name_en, department_id, department_en in db.session.execute(
            _service_names_statement()):
        department = localized_text(lang, department_id, department_en)
        groups.setdefault(department, []).append((code, localized_text(lang, name_id, name_en)))
    return [
        (department, sorted(services, key=lambda item: item[1].casefold()))
        for department, services in sorted(groups.items(), key=lambda item: item[0].casefold())
    ]


def feedback_get(code: str) -> Feedback:
    """Return the feedback with this tracking code (any spelling a citizen may type).

    Found by the code's lookup key, so that every member of a confusable set (0/O/D, 1/I/L,
    2/Z, 5/S, 8/B, U/V), in either case, finds it; a code stored before the alphabet changed
    is also found by its exact spelling, which wins should another old code share its key.
    Loaded with what its public view needs (public_view_options).
    """
    compact = tracking_code_compact(code)
    if compact is None:
        raise NotFound(code)
    found = db.session.scalars(
        select(Feedback)
        .where(or_(Feedback.tracking_key == tracking_key(compact),
                   Feedback.tracking_code == compact))
        .options(*public_view_options())
    ).all()
    if not found:
        raise NotFound(code)
    return next((f for f in found if f.tracking_code == compact), found[0])


# -- the citizen's follow-up -------------------------------------------------------------------


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
        message = (_("This feedback is closed.") if feedback.status in ("closed", "rejected")
                   else _("You can reply once the department has answered."))
        raise ValidationError([FieldError("body", message)])
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
