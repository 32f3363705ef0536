"""Staff handling of feedback: inbox, answers, notes, statuses, investigation, transfer, routing.

Who may do what (checked here, for every entry point):

- officer: reads and acts on their own department's feedback; sees the identity of normal
  reports only;
- triage: reads and acts on everything, routes unrouted feedback by hand, and is the only
  role that sees a confidential reporter's identity;
- admin: reads and acts on everything (not routing); identity of normal reports only;
- dprd: no access here; it reads de-identified texts through
  portal/services/accountability/dprd_feedback.py (the staff view shows tracking codes,
  which would let the reader act as the citizen).

Those rules are permissions of portal/services/auth.py; :func:`feedback_allowed_actions`
tells the staff page which actions to offer on one feedback, so no page restates them.

Every action adds a timeline event, an audit entry (never with personal data) and, for public
steps, mail to the reporter, all committed together.

Texts staff write for the public (answers, status notes, reasons for an investigation, a
transfer or a rejection) are checked before they are stored: one with the reporter's stored
name, e-mail or phone is refused; one with what looks like an e-mail address, a phone number
or a NIK is refused until the writer confirms it is nobody's personal data. For a
confidential report whose identity the writer may not see, the reporter check is not run (a
refusal would confirm a guessed name) and such strings are refused outright instead.

Only a public answer, or marking it as needing investigation with its public reason, is a
first response; a bare status change is not.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.feedback import (
    MAX_REASON,
    OPEN_STATUSES,
    Attachment,
    Feedback,
    FeedbackEvent,
)
from portal.services.attachments import attachment_path
from portal.services.auth import (
    Permission,
    audit_record,
    can_act_for_department,
    department_scope,
    require_permission,
    staff_can,
)
from portal.services.errors import FieldError, NotFound, ValidationError
from portal.services.feedback import mail as feedback_mail
from portal.services.feedback.citizen import (
    PersonalDataWarning,
    event_add,
    mentions_reporter,
    personal_data_warnings,
    required_text,
)
from portal.services.feedback.deadlines import (
    AUTO_CLOSE_WORKING_DAYS,
    FIRST_RESPONSE_WORKING_DAYS,
    INVESTIGATION_WORKING_DAYS,
    deadline_after,
    set_routed,
)
from portal.services.feedback.routing import integrity_unit, triage_unit
from portal.services.paging import Pagination, paginate

# Timeline steps whose text staff write for the public.
STAFF_PUBLIC_TEXTS = ("answer", "status", "investigation", "transferred", "rejected")
# Feedback moved more than this many times goes to the triage unit's attention list.
TRANSFER_ATTENTION = 2
# While the department handles it: answers, notes, status changes, transfers.
HANDLING_STATUSES = ("routed", "in_progress")
# Status moves a department may make itself (reject, reopen and close have their own rules).
STATUS_MOVES = {
    "routed": ("in_progress", "resolved"),
    "in_progress": ("resolved",),
}


def _can_handle(actor: Any, feedback: Feedback) -> bool:
    """Tell whether actor reads and acts on this feedback (its department's, or everyone's)."""
    return (staff_can(actor, Permission.FEEDBACK_HANDLE)
            and can_act_for_department(actor, feedback.department_id))


def feedback_identity_visible(actor: Any, feedback: Feedback) -> bool:
    """Tell whether actor may see the reporter's name, e-mail and phone (docs/definitions.md)."""
    if feedback.anonymous or not _can_handle(actor, feedback):
        return False
    return not feedback.confidential or staff_can(actor, Permission.FEEDBACK_CONFIDENTIAL)


def publish_state(feedback: Feedback) -> str:
    """Say where publishing stands: none, requested, approved or declined."""
    if not feedback.publish_requested:
        return "none"
    if feedback.publish_approved:
        return "approved"
    return "declined" if feedback.publish_decided_at is not None else "requested"


def publish_decided_by_triage_only(feedback: Feedback) -> bool:
    """Tell whether only the triage unit may decide on publishing (confidential reports).

    Only the triage unit sees a confidential reporter's identity; anyone else checking the
    public version against it would learn, from a refusal, that a guessed name is right.
    """
    return feedback.confidential


def feedback_publish_decider(actor: Any, feedback: Feedback) -> bool:
    """Tell whether actor decides on publishing this feedback's text (if the reporter asks)."""
    return _can_handle(actor, feedback) and (
        not publish_decided_by_triage_only(feedback)
        or staff_can(actor, Permission.FEEDBACK_CONFIDENTIAL)
    )


class FeedbackAction(StrEnum):
    """What staff may do with one feedback; the values name the staff page's actions."""

    ROUTE = "route"
    ANSWER = "answer"
    NOTE = "note"
    INVESTIGATION = "investigation"
    STATUS = "status"
    TRANSFER = "transfer"
    REJECT = "reject"
    PUBLISH = "publish"
    PUBLISH_DECLINE = "publish_decline"
    ATTACHMENTS = "attachments"


def feedback_allowed_actions(actor: Any, feedback: Feedback) -> frozenset[FeedbackAction]:
    """Return what actor may do with this feedback now: what the staff page offers.

    The same rules as the actions' own checks, which still refuse anything else. One
    difference: a note is offered while the department handles the feedback only, though the
    service would also take one later.
    """
    if not _can_handle(actor, feedback):
        return frozenset()
    allowed = {FeedbackAction.ATTACHMENTS}
    if feedback.status == "submitted" and staff_can(actor, Permission.FEEDBACK_ROUTE):
        allowed.add(FeedbackAction.ROUTE)
    if feedback.status in HANDLING_STATUSES:
        allowed |= {FeedbackAction.ANSWER, FeedbackAction.NOTE, FeedbackAction.TRANSFER}
        if STATUS_MOVES.get(feedback.status):
            allowed.add(FeedbackAction.STATUS)
        if not feedback.needs_investigation:
            allowed.add(FeedbackAction.INVESTIGATION)
    if feedback.status in OPEN_STATUSES:
        allowed.add(FeedbackAction.REJECT)
    if feedback.publish_requested and feedback_publish_decider(actor, feedback):
        if feedback.status != "rejected":
            allowed.add(FeedbackAction.PUBLISH)
        if publish_state(feedback) != "declined":
            allowed.add(FeedbackAction.PUBLISH_DECLINE)
    return frozenset(allowed)


# Staff inbox: items per page.
INBOX_PAGE_SIZE = 50
INBOX_PAGE_MAX = 200


def _pending_deadline():
    """SQL: the next deadline the feedback still waits on (NULL: none), for sorting the inbox.

    Submitted: routing; routed or in progress: the first response (while unanswered) or the
    resolution, whichever is sooner; resolved: the automatic close.
    """
    first_or_resolution = case(
        (
            and_(Feedback.first_response_at.is_(None), Feedback.first_response_due.is_not(None)),
            case(
                (
                    and_(Feedback.resolution_due.is_not(None),
                         Feedback.resolution_due < Feedback.first_response_due),
                    Feedback.resolution_due,
                ),
                else_=Feedback.first_response_due,
            ),
        ),
        else_=Feedback.resolution_due,
    )
    return case(
        (Feedback.status == "submitted", Feedback.route_due),
        (Feedback.status.in_(("routed", "in_progress")), first_or_resolution),
        (Feedback.status == "resolved", Feedback.auto_close_due),
        else_=None,
    )


def _overdue_condition(now: datetime):
    """SQL: the feedback has missed a deadline it still waits on (as overdue_deadlines)."""
    return or_(
        and_(Feedback.status == "submitted", Feedback.route_due < now),
        and_(
            Feedback.status.in_(("routed", "in_progress")),
            or_(
                and_(Feedback.first_response_at.is_(None), Feedback.first_response_due < now),
                Feedback.resolution_due < now,
            ),
        ),
    )


def _inbox_conditions(actor: Any, include_done: bool) -> list:
    """SQL conditions of the feedback actor handles: every department's, or their own."""
    require_permission(actor, Permission.FEEDBACK_HANDLE)
    statuses = (*OPEN_STATUSES, "resolved") + (("closed", "rejected") if include_done else ())
    conditions = [Feedback.status.in_(statuses)]
    scope = department_scope(actor)
    if scope is not None:
        conditions.append(Feedback.department_id == scope)
    return conditions


def feedback_inbox(
    actor: Any,
    include_done: bool = False,
    page: int = 1,
    per_page: int = INBOX_PAGE_SIZE,
) -> Pagination:
    """Return a page of the feedback actor handles, the nearest deadline first.

    Sorted in SQL by the next deadline still pending (so overdue items come first), then by
    id; items without a pending deadline come last. A page beyond the last shows the last.
    """
    deadline = _pending_deadline()
    stmt = (
        select(Feedback)
        .where(*_inbox_conditions(actor, include_done))
        .options(selectinload(Feedback.department), selectinload(Feedback.service))
        .order_by(case((deadline.is_(None), 1), else_=0), deadline, Feedback.id)
    )
    return paginate(stmt, page, per_page, INBOX_PAGE_MAX)


def feedback_overdue_count(actor: Any, now: datetime | None = None) -> int:
    """Count the feedback actor handles that missed a deadline it still waits on (all pages)."""
    conditions = _inbox_conditions(actor, include_done=False)
    return db.session.scalar(
        select(func.count(Feedback.id)).where(*conditions, _overdue_condition(now or utc_now()))
    ) or 0


def feedback_attention_list(actor: Any) -> list[Feedback]:
    """Return open feedback transferred more than twice (the triage unit's attention list).

    Each item comes with its timeline and the departments it went through, loaded in a
    fixed number of queries however long the list.
    """
    require_permission(actor, Permission.FEEDBACK_ATTENTION)
    return list(db.session.scalars(_attention_query()))


def feedback_attention_page(
    actor: Any, page: int = 1, per_page: int = INBOX_PAGE_SIZE
) -> Pagination:
    """Return a page of :func:`feedback_attention_list`, the oldest first."""
    require_permission(actor, Permission.FEEDBACK_ATTENTION)
    return paginate(_attention_query(), page, per_page, INBOX_PAGE_MAX)


def _attention_query() -> Select:
    """Select open feedback transferred more than twice with its trail, the oldest first."""
    return (
        select(Feedback)
        .where(Feedback.transfer_count > TRANSFER_ATTENTION,
               Feedback.status.in_((*OPEN_STATUSES, "resolved")))
        .options(
            selectinload(Feedback.events).selectinload(FeedbackEvent.to_department),
            selectinload(Feedback.events).selectinload(FeedbackEvent.from_department),
        )
        .order_by(Feedback.submitted_at, Feedback.id)
    )


def feedback_for_staff(actor: Any, feedback_id: int) -> Feedback:
    """Return one feedback if actor may read it (NotFound otherwise: its existence is private)."""
    require_permission(actor, Permission.FEEDBACK_HANDLE)
    feedback = db.session.get(Feedback, feedback_id)
    if feedback is None or not _can_handle(actor, feedback):
        raise NotFound(str(feedback_id))
    return feedback


def feedback_for_action(actor: Any, feedback_id: int) -> Feedback:
    """Return one feedback if actor may act on it (NotAuthorized or NotFound otherwise).

    Whoever reads a feedback here acts on it too (the departments one reads are the ones one
    acts for), so this is :func:`feedback_for_staff` under the name the actions use.
    """
    return feedback_for_staff(actor, feedback_id)


def _require_open(feedback: Feedback, field: str) -> None:
    if feedback.status not in HANDLING_STATUSES:
        raise ValidationError(
            [FieldError(field, _("This can only be done while the department handles it."))]
        )


def public_text_check(
    actor: Any, feedback: Feedback, field: str, text: str, confirmed: bool = False
) -> None:
    """Refuse a public text with the reporter's identity; warn about other personal data.

    Raises ValidationError (the reporter's name, e-mail or phone) or PersonalDataWarning
    (something that looks like an e-mail address, phone number or NIK, unless ``confirmed``).
    """
    if not text:
        return
    sees_identity = feedback_identity_visible(actor, feedback)
    if sees_identity and mentions_reporter(feedback, text):
        raise ValidationError([FieldError(field, _(
            "This text is public and contains the reporter's name, e-mail address or phone "
            "number. Remove all personal data."))])
    found = personal_data_warnings(text)
    if not found:
        return
    if feedback.confidential and not sees_identity:
        # No confirmation here: it could be the reporter's, and the writer cannot check.
        raise ValidationError([FieldError(field, _(
            "This text is public and contains what looks like an e-mail address, a phone "
            "number or an ID number (NIK): %(found)s. The reporter asked for confidentiality: "
            "remove it.", found=", ".join(found)))])
    if not confirmed:
        raise PersonalDataWarning([FieldError(field, _(
            "This text is public and contains what looks like an e-mail address, a phone "
            "number or an ID number (NIK): %(found)s. Remove it, or confirm that it is "
            "nobody's personal data.", found=", ".join(found)))])


def _first_response(feedback: Feedback, now: datetime) -> None:
    if feedback.first_response_at is None:
        feedback.first_response_at = now


def _department(code: Any) -> Department:
    department = db.session.scalars(
        select(Department).where(Department.code == str(code or ""))
    ).first()
    if department is None:
        raise ValidationError([FieldError("department", _("Choose a department."))])
    return department


def feedback_destinations(feedback: Feedback) -> list[Department] | None:
    """Return where this feedback may be routed or transferred: None for any department.

    An integrity report goes only to the triage unit or to the integrity unit, never to the
    department concerned or any other (docs/definitions.md, routing rule 0).
    """
    if not feedback.integrity:
        return None
    units = [unit for unit in (triage_unit(), integrity_unit()) if unit is not None]
    return list({unit.id: unit for unit in units}.values())


def _require_destination(feedback: Feedback, target: Department) -> None:
    allowed = feedback_destinations(feedback)
    if allowed is not None and target.id not in {unit.id for unit in allowed}:
        raise ValidationError([FieldError("department", _(
            "An integrity report may only go to the integrity unit or the triage unit."))])


def feedback_answer(
    actor: Any, feedback_id: int, text: Any, now: datetime | None = None,
    confirmed: bool = False,
) -> Feedback:
    """Publish the department's answer to the citizen (a first response when it is the first)."""
    feedback = feedback_for_action(actor, feedback_id)
    body = required_text(text, "text", _("Write the answer."))
    _require_open(feedback, "text")
    public_text_check(actor, feedback, "text", body, confirmed)
    now = now or utc_now()
    before = feedback.status
    _first_response(feedback, now)
    if feedback.status == "routed":
        feedback.status = "in_progress"
    event_add(feedback, "answer", now, actor=actor.username, body=body, public=True,
               status_from=before, status_to=feedback.status)
    audit_record(actor, "feedback.answer", "feedback", feedback.id, feedback.department_id,
                 before, feedback.status)
    feedback_mail.mail_reporter(feedback, "answer", text=body)
    db.session.commit()
    return feedback


def feedback_note(actor: Any, feedback_id: int, text: Any, now: datetime | None = None) -> Feedback:
    """Add an internal note, never shown to the citizen."""
    feedback = feedback_for_action(actor, feedback_id)
    body = required_text(text, "text", _("Write the note."))
    now = now or utc_now()
    event_add(feedback, "note", now, actor=actor.username, body=body, public=False)
    audit_record(actor, "feedback.note", "feedback", feedback.id, feedback.department_id)
    db.session.commit()
    return feedback


def feedback_status_set(
    actor: Any, feedback_id: int, status: str, note: Any = "", now: datetime | None = None,
    confirmed: bool = False,
) -> Feedback:
    """Move feedback to in_progress or resolved (resolved starts the automatic-close clock).

    Not a first response, even with a note: only an answer or an investigation reason is.
    """
    feedback = feedback_for_action(actor, feedback_id)
    if status not in STATUS_MOVES.get(feedback.status, ()):
        raise ValidationError([FieldError("status", _("This status change is not possible."))])
    text = note.replace("\x00", "").strip() if isinstance(note, str) else ""
    if len(text) > MAX_REASON:  # refused, never cut
        raise ValidationError([FieldError("text", _("Use at most %(max)d characters.",
                                                    max=MAX_REASON))])
    public_text_check(actor, feedback, "text", text, confirmed)
    now = now or utc_now()
    before = feedback.status
    feedback.status = status
    if status == "resolved":
        feedback.resolved_at = now
        feedback.auto_close_due = deadline_after(now, AUTO_CLOSE_WORKING_DAYS)
    event_add(feedback, "status", now, actor=actor.username, body=text, public=True,
               status_from=before, status_to=status)
    audit_record(actor, "feedback.status", "feedback", feedback.id, feedback.department_id,
                 before, status)
    feedback_mail.mail_reporter(feedback, status, text=text)
    db.session.commit()
    return feedback


def feedback_investigation_set(
    actor: Any, feedback_id: int, reason: Any, now: datetime | None = None,
    confirmed: bool = False,
) -> Feedback:
    """Mark feedback as needing investigation (public reason): 60 working days to resolve."""
    feedback = feedback_for_action(actor, feedback_id)
    text = required_text(reason, "reason", _("Say publicly why an investigation is needed."))
    _require_open(feedback, "reason")
    if feedback.needs_investigation:
        raise ValidationError(
            [FieldError("reason", _("It is already marked as needing investigation."))]
        )
    public_text_check(actor, feedback, "reason", text, confirmed)
    now = now or utc_now()
    feedback.needs_investigation = True
    feedback.investigation_reason = text
    feedback.resolution_due = deadline_after(feedback.routed_at or now, INVESTIGATION_WORKING_DAYS)
    _first_response(feedback, now)
    before = feedback.status
    if feedback.status == "routed":
        feedback.status = "in_progress"
    event_add(feedback, "investigation", now, actor=actor.username, body=text, public=True,
               status_from=before, status_to=feedback.status)
    audit_record(actor, "feedback.investigation", "feedback", feedback.id,
                 feedback.department_id, before, feedback.status)
    feedback_mail.mail_reporter(feedback, "investigation", text=text)
    db.session.commit()
    return feedback


def feedback_transfer(
    actor: Any, feedback_id: int, department_code: Any, reason: Any, now: datetime | None = None,
    confirmed: bool = False,
) -> Feedback:
    """Transfer feedback to another department with a reason; the first-response clock restarts.

    The receiving department's first response is measured from the transfer (its
    ``transferred`` event), the first department's stays in the timeline. The resolution
    deadline keeps counting from the first routing: bouncing feedback between offices must
    not buy time.
    """
    feedback = feedback_for_action(actor, feedback_id)
    text = required_text(reason, "reason", _("Say why it belongs to the other department."))
    _require_open(feedback, "reason")
    target = _department(department_code)
    if target.id == feedback.department_id:
        raise ValidationError([FieldError("department", _("Choose another department."))])
    _require_destination(feedback, target)
    public_text_check(actor, feedback, "reason", text, confirmed)
    now = now or utc_now()
    source_id = feedback.department_id
    before = feedback.status
    feedback.department = target
    feedback.department_id = target.id
    feedback.transfer_count = (feedback.transfer_count or 0) + 1
    feedback.status = "routed"
    feedback.first_response_at = None
    feedback.first_response_reminded_at = None
    feedback.first_response_due = deadline_after(now, FIRST_RESPONSE_WORKING_DAYS)
    event_add(feedback, "transferred", now, actor=actor.username, body=text, public=True,
               from_department_id=source_id, to_department_id=target.id,
               status_from=before, status_to="routed")
    audit_record(actor, "feedback.transfer", "feedback", feedback.id, target.id,
                 str(source_id), str(target.id))
    feedback_mail.mail_reporter(feedback, "transferred", text=text)
    feedback_mail.mail_staff(feedback, "transferred")
    db.session.commit()
    return feedback


def feedback_route(
    actor: Any, feedback_id: int, department_code: Any, now: datetime | None = None
) -> Feedback:
    """Route feedback no rule could route (the triage unit's job)."""
    require_permission(actor, Permission.FEEDBACK_ROUTE)
    feedback = feedback_for_staff(actor, feedback_id)
    if feedback.status != "submitted":
        raise ValidationError([FieldError("department", _("It has already been routed."))])
    target = _department(department_code)
    _require_destination(feedback, target)
    now = now or utc_now()
    set_routed(feedback, target, now)
    event_add(feedback, "routed", now, actor=actor.username, public=True,
               status_from="submitted", status_to="routed", to_department_id=target.id)
    audit_record(actor, "feedback.route", "feedback", feedback.id, target.id, "submitted",
                 "routed")
    feedback_mail.mail_reporter(feedback, "routed")
    feedback_mail.mail_staff(feedback, "new")
    db.session.commit()
    return feedback


def feedback_reject(
    actor: Any, feedback_id: int, reason: Any, now: datetime | None = None,
    confirmed: bool = False,
) -> Feedback:
    """Reject feedback as out of scope or abusive, with a reason the citizen sees."""
    feedback = feedback_for_action(actor, feedback_id)
    text = required_text(reason, "reason", _("Say why it is not accepted."))
    if feedback.status not in OPEN_STATUSES:
        raise ValidationError([FieldError("reason", _("It is no longer open."))])
    public_text_check(actor, feedback, "reason", text, confirmed)
    now = now or utc_now()
    before = feedback.status
    feedback.status = "rejected"
    feedback.rejection_reason = text
    feedback.closed_at = now
    event_add(feedback, "rejected", now, actor=actor.username, body=text, public=True,
               status_from=before, status_to="rejected")
    audit_record(actor, "feedback.reject", "feedback", feedback.id, feedback.department_id,
                 before, "rejected")
    feedback_mail.mail_reporter(feedback, "rejected", text=text)
    db.session.commit()
    return feedback


def feedback_attachment_file(actor: Any, feedback_id: int, attachment_id: int) -> tuple[
        Attachment, Path]:
    """Return an attachment and its file, for staff allowed to handle the feedback.

    The DPRD never gets here: it does not handle feedback (it reads it de-identified).
    """
    feedback = feedback_for_staff(actor, feedback_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.feedback_id != feedback.id:
        raise NotFound(str(attachment_id))
    return attachment, attachment_path(attachment.stored_name)
