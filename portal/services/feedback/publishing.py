"""Publishing feedback: staff approve or decline a reporter's request, and the public list.

A reporter may ask for their text to be published (docs/definitions.md, "Privacy"). Nothing
is ever published automatically: staff who may act on the feedback read it, write the public
version of its subject and body (usually the citizen's words with anything that could
identify someone removed), and approve it; or they decline. Only that public version leaves
the staff pages, never the citizen's own text, replies or identity. As a last safeguard the
service refuses a public text that still contains the reporter's stored name, e-mail or phone.

Only the triage unit decides on a confidential report: it alone may see the identity, so only
it may be told that a text contains it (anyone else could confirm a guessed name that way).

Every decision is audited. Approving again replaces the public text (an edit); declining an
approved text withdraws it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.i18n import localized_text
from portal.models.catalogue import Department, Service
from portal.models.feedback import FEEDBACK_KINDS, MAX_BODY, MAX_SUBJECT, Feedback
from portal.services.auth import (
    Permission,
    audit_record,
    department_scope,
    require_permission,
    staff_can,
)
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError
from portal.services.feedback.citizen import (
    event_add,
    mentions_reporter,
)
from portal.services.feedback.handling import (
    STAFF_PUBLIC_TEXTS,
    feedback_for_action,
    feedback_publish_decider,
    publish_state,
)
from portal.services.feedback.public_view import feedback_public_view, public_view_options
from portal.services.paging import Pagination, paginate

PUBLISHED_PAGE_SIZE = 20
PUBLISHED_PAGE_MAX = 100


def _clean(value: Any, field: str, limit: int, empty: str) -> str:
    text = value.replace("\x00", "").strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError([FieldError(field, empty)])
    if len(text) > limit:
        raise ValidationError([FieldError(field, _("Use at most %(max)d characters.", max=limit))])
    return text


def _require_request(feedback: Feedback) -> None:
    if not feedback.publish_requested:
        raise ValidationError([FieldError(
            "publish", _("The reporter did not ask for their text to be published."))])


def _require_decider(actor: Any, feedback: Feedback) -> None:
    if not feedback_publish_decider(actor, feedback):
        raise NotAuthorized("only the triage unit decides on publishing confidential feedback")


def feedback_publish_approve(
    actor: Any, feedback_id: int, subject: Any, body: Any, now: datetime | None = None
) -> Feedback:
    """Publish the public version of a feedback's text that staff checked (or replace it)."""
    feedback = feedback_for_action(actor, feedback_id)
    _require_decider(actor, feedback)
    _require_request(feedback)
    if feedback.status == "rejected":
        raise ValidationError([FieldError(
            "publish", _("Feedback that was not accepted is not published."))])
    public_subject = _clean(subject, "subject", MAX_SUBJECT, _("Write the public subject."))
    public_body = _clean(body, "body", MAX_BODY, _("Write the public text."))
    # Whoever gets here may see the reporter's identity (a confidential one: the triage unit
    # only, see _require_decider), so the refusal tells them nothing they may not know.
    for field, text in (("subject", public_subject), ("body", public_body)):
        if mentions_reporter(feedback, text):
            raise ValidationError([FieldError(field, _(
                "This text still contains the reporter's name, e-mail address or phone "
                "number. Remove all personal data before publishing."))])
    # The published page also shows the staff's public texts (answers, reasons).
    if any(event.public and event.kind in STAFF_PUBLIC_TEXTS
           and mentions_reporter(feedback, event.body) for event in feedback.events):
        raise ValidationError([FieldError("publish", _(
            "An answer or reason on this feedback's timeline contains the reporter's name, "
            "e-mail address or phone number, and it would be published with the text. "
            "Decline publishing."))])
    now = now or utc_now()
    before = publish_state(feedback)
    feedback.public_subject = public_subject
    feedback.public_body = public_body
    feedback.publish_approved = True
    feedback.publish_decided_at = now
    if before != "approved":
        event_add(feedback, "published", now, actor=actor.username, public=True)
    audit_record(actor, "feedback.publish", "feedback", feedback.id, feedback.department_id,
                 before, "approved", detail="edited" if before == "approved" else "")
    db.session.commit()
    return feedback


def feedback_publish_decline(
    actor: Any, feedback_id: int, now: datetime | None = None
) -> Feedback:
    """Decline the request to publish, or withdraw a text already published."""
    feedback = feedback_for_action(actor, feedback_id)
    _require_decider(actor, feedback)
    _require_request(feedback)
    before = publish_state(feedback)
    if before == "declined":
        raise ValidationError([FieldError("publish", _("Publishing was already declined."))])
    now = now or utc_now()
    feedback.publish_approved = False
    feedback.publish_decided_at = now
    feedback.public_subject = ""
    feedback.public_body = ""
    for event in feedback.events:
        if event.kind == "published":
            # Withdrawn: the timeline no longer says "published".
            event.public = False
    audit_record(actor, "feedback.publish", "feedback", feedback.id, feedback.department_id,
                 before, "declined")
    db.session.commit()
    return feedback


def feedback_publish_requests(actor: Any) -> list[Feedback]:
    """Return the feedback whose publishing request waits for actor's decision, oldest first."""
    require_permission(actor, Permission.FEEDBACK_HANDLE)
    query = select(Feedback).where(
        Feedback.publish_requested.is_(True),
        Feedback.publish_decided_at.is_(None),
        Feedback.status != "rejected",
    ).order_by(Feedback.submitted_at, Feedback.id)
    scope = department_scope(actor)
    if scope is not None:
        query = query.where(Feedback.department_id == scope)
    if not staff_can(actor, Permission.FEEDBACK_CONFIDENTIAL):
        # Confidential reports wait for the triage unit's decision, not the department's.
        query = query.where(Feedback.confidential.is_(False))
    return list(db.session.scalars(query))


# -- the public list ---------------------------------------------------------------------------


def feedback_published_view(feedback: Feedback, lang: str, now: datetime | None = None) -> dict:
    """Return what everyone may see of published feedback: no tracking code, no identity.

    The tracking code is left out because whoever holds it may reply and reopen; the regency
    because, with a detailed text, it could narrow down who wrote it.
    """
    view = feedback_public_view(feedback, lang, now, for_holder=False).as_dict()
    for key in ("tracking_code", "regency", "region_code", "can_reply", "can_reopen",
                "published_subject", "published_body"):
        view.pop(key, None)
    view["id"] = feedback.id
    view["published_at"] = feedback.publish_decided_at
    view["answers"] = [
        event for event in view["timeline"] if event["text"] and event["by"] == "staff"
    ]
    return view


def feedback_published_get(feedback_id: int) -> Feedback:
    """Return published feedback by its id, or raise NotFound (unpublished ones too)."""
    feedback = db.session.get(Feedback, feedback_id, options=public_view_options())
    if feedback is None or not feedback.publish_approved:
        raise NotFound(str(feedback_id))
    return feedback


def _published() -> Any:
    return select(Feedback).where(Feedback.publish_approved.is_(True))


def feedback_published_list(
    lang: str,
    department: str | None = None,
    service: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> Pagination:
    """Return a page of published feedback, newest first, filtered by department, service, kind.

    The page's items are what everyone may see (:func:`feedback_published_view`). Unknown
    filter values match nothing rather than being ignored: a link to a department that has
    no published feedback shows an empty list, not everything.
    """
    query = _published()
    if department:
        query = query.join(Department, Feedback.department_id == Department.id).where(
            Department.code == department)
    if service:
        query = query.join(Service, Feedback.service_id == Service.id).where(
            Service.code == service)
    if kind:
        query = query.where(Feedback.kind == (kind if kind in FEEDBACK_KINDS else ""))
    result = paginate(
        query.options(
            selectinload(Feedback.department), selectinload(Feedback.service),
            selectinload(Feedback.events),
        ).order_by(Feedback.publish_decided_at.desc(), Feedback.id.desc()),
        page, per_page or PUBLISHED_PAGE_SIZE, PUBLISHED_PAGE_MAX,
    )
    now = utc_now()
    result.items = [feedback_published_view(feedback, lang, now) for feedback in result.items]
    return result


def feedback_published_filters(lang: str) -> dict[str, list[tuple[str, str]]]:
    """Return the departments and services that have published feedback, as (code, name),
    sorted by name in the reader's language (the Indonesian name where it has none).

    Their codes and names only, not the entities: at province scale the list offers hundreds
    of services, and loading each whole (its standard texts) cost most of the page.
    """
    published = _published()

    def named(model: Any, column: Any) -> list[tuple[str, str]]:
        rows = db.session.execute(
            select(model.code, model.name_id, model.name_en)
            .where(model.id.in_(published.with_only_columns(column)))
        )
        return sorted(((code, localized_text(lang, name_id, name_en))
                       for code, name_id, name_en in rows),
                      key=lambda item: item[1].casefold())

    return {"departments": named(Department, Feedback.department_id),
            "services": named(Service, Feedback.service_id)}
