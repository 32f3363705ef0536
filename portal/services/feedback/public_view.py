"""The public view of feedback: what anyone holding its tracking code may see.

It is the only shape in which feedback leaves the service layer for citizens, pages, mail and
the API alike: it never holds a name, e-mail or phone. The holder of the tracking code sees
their own subject and text, de-identified by the one rule of personal data in free text (a
code may be shared or leaked: their name, e-mail, phone or NIK written in it shows as
``[…]``), and the public version once staff approved one; everyone else
(the published list, feedback_publish) sees the public version only, built with
``for_holder=False``. A frozen object, so that no page or
template can add to it on the way out; the API writes it with :meth:`FeedbackPublicView.as_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.domain.personal_data import deidentify
from portal.domain.regions import kemendagri_from_regency
from portal.i18n import localized
from portal.models.catalogue import Department, Service
from portal.models.feedback import CITIZEN, SYSTEM, Feedback, FeedbackEvent
from portal.services.feedback.deadlines import (
    DEADLINE_NAMES,
    feedback_can_reopen,
    feedback_can_reply,
    overdue_deadlines,
)
from portal.services.feedback.routing import routing_reason, triage_unit_cached


@dataclass(frozen=True)
class PublicName:
    """A department or a service as the public sees it: its code and its name."""

    code: str
    name: str


@dataclass(frozen=True, kw_only=True)
class TimelineStep:
    """One public step of the timeline; ``text`` is only ever staff's text meant for the public."""

    kind: str
    at: datetime
    by: str  # "citizen", "staff" or "system"
    text: str
    status: str | None
    from_department: PublicName | None
    to_department: PublicName | None


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """The four deadlines of feedback (None where a clock has not started)."""

    route_due: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    auto_close_due: datetime | None

    def items(self) -> tuple[tuple[str, datetime | None], ...]:
        """Return (name, deadline) pairs in the order of the procedure, as a mapping would."""
        return tuple((name, getattr(self, name)) for name in DEADLINE_NAMES)


@dataclass(frozen=True, kw_only=True)
class FeedbackPublicView:
    """What anyone holding the tracking code may see of one feedback: never an identity.

    Datetimes are aware UTC datetimes (the API writes them in ISO 8601, pages in WIB).
    """

    tracking_code: str
    kind: str
    status: str
    service: PublicName | None
    department: PublicName | None
    # Who answers for it now: the department, or the triage unit while nobody is routed.
    handled_by: PublicName | None
    regency: str | None
    # The regency's official Kemendagri code (62.01-62.13, 62.71), beside the portal's own.
    region_code: str | None
    routing_rule: str
    routing_reason: str
    routed_department: PublicName | None
    submitted_at: datetime
    routed_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    needs_investigation: bool
    investigation_reason: str
    rejection_reason: str
    transfer_count: int
    reopen_count: int
    deadlines: Deadlines
    overdue: tuple[str, ...]
    can_reply: bool
    can_reopen: bool
    published: bool
    # An integrity report (routing rule 0): handled by the integrity unit.
    integrity: bool
    # For the holder of the code: what they wrote, de-identified. For everyone else
    # (for_holder=False): the public version staff approved, None until then.
    subject: str | None
    body: str | None
    # For the holder: the public version staff approved (None until then, and never in the
    # public view, whose subject and body are that version).
    published_subject: str | None
    published_body: str | None
    timeline: tuple[TimelineStep, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the view as plain dicts and lists, datetimes kept as they are."""
        return _plain(self, iso_dates=False)

    def as_json(self) -> dict[str, Any]:
        """Return the view as the API writes it: plain dicts and lists, ISO 8601 datetimes."""
        return _plain(self, iso_dates=True)


# The field names of each dataclass the view holds, looked up once (_plain runs over every
# field of every view: 74 feedback in one Open311 search, 6,000 values).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
# Values returned as they are without further checks (most of a view's fields).
_SCALARS = frozenset({str, int, bool, float, type(None)})


def _plain(value: Any, *, iso_dates: bool) -> Any:
    """Turn the view's objects into dicts (fields in order) and tuples into lists, recursively."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name), iso_dates=iso_dates) for name in names}
    if isinstance(value, tuple):
        return [_plain(item, iso_dates=iso_dates) for item in value]
    if iso_dates and isinstance(value, datetime):
        return value.isoformat()
    return value


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


def _named(obj: Department | Service | None, lang: str) -> PublicName | None:
    if obj is None:
        return None
    return PublicName(code=obj.code, name=localized(obj, "name", lang).text)


# Public events whose text, written by staff, is meant for the citizen.
_STAFF_PUBLIC_TEXT = ("answer", "transferred", "investigation", "rejected", "status", "routed")


def _timeline(feedback: Feedback, lang: str) -> tuple[TimelineStep, ...]:
    """Return the public steps of the feedback, oldest first."""
    steps = []
    for event in feedback.events:
        if not event.public:
            continue
        by = {CITIZEN: "citizen", SYSTEM: "system"}.get(event.actor, "staff")
        # The citizen's own words (replies, reopen reasons) are never shown: only the public
        # version staff checked and approved (see feedback_publish) is.
        text = event.body if (by != "citizen" and event.kind in _STAFF_PUBLIC_TEXT) else ""
        steps.append(TimelineStep(
            kind=event.kind,
            at=event.at,
            by=by,
            text=text,
            status=event.status_to,
            from_department=_named(event.from_department, lang),
            to_department=_named(event.to_department, lang),
        ))
    return tuple(steps)


def _first_routed_to(feedback: Feedback) -> Department | None:
    """Return where the feedback first went (its department if no routing step names one).

    The routing reason is about that first place; transfers are separate steps of the
    timeline, each with its own reason.
    """
    return next(
        (event.to_department for event in feedback.events
         if event.kind == "routed" and event.to_department is not None),
        feedback.department,
    )


def _own_text(feedback: Feedback, text: str) -> str:
    """Return a text the citizen wrote without personal data, their own name included."""
    return deidentify(
        text or "",
        reporter_name=feedback.reporter_name,
        reporter_email=feedback.reporter_email,
        reporter_phone=feedback.reporter_phone,
    )


def feedback_public_view(
    feedback: Feedback, lang: str, now: datetime | None = None, *, for_holder: bool = True
) -> FeedbackPublicView:
    """Return what anyone holding the tracking code may see: never an identity.

    ``for_holder=False`` gives what everyone may see of published feedback: the texts are the
    public version only.
    """
    now = now or utc_now()
    department = feedback.department
    if department is None and feedback.routing_rule in ("triage", "integrity"):
        handler = triage_unit_cached()
    else:
        handler = department
    routed_to = _first_routed_to(feedback)
    published = feedback.publish_approved
    return FeedbackPublicView(
        tracking_code=feedback.tracking_code_display,
        kind=feedback.kind,
        status=feedback.status,
        service=_named(feedback.service, lang),
        department=_named(department, lang),
        handled_by=_named(handler, lang),
        regency=feedback.regency,
        region_code=kemendagri_from_regency(feedback.regency),
        routing_rule=feedback.routing_rule,
        routing_reason=routing_reason(
            rule=feedback.routing_rule, detail=feedback.routing_detail, department=routed_to,
            lang=lang, service=feedback.service,
        ),
        routed_department=_named(routed_to, lang),
        submitted_at=feedback.submitted_at,
        routed_at=feedback.routed_at,
        first_response_at=feedback.first_response_at,
        resolved_at=feedback.resolved_at,
        closed_at=feedback.closed_at,
        needs_investigation=feedback.needs_investigation,
        investigation_reason=feedback.investigation_reason or "",
        rejection_reason=feedback.rejection_reason or "",
        transfer_count=feedback.transfer_count,
        reopen_count=feedback.reopen_count,
        deadlines=Deadlines(**{name: getattr(feedback, name) for name in DEADLINE_NAMES}),
        overdue=tuple(overdue_deadlines(feedback, now)),
        can_reply=feedback_can_reply(feedback),
        can_reopen=feedback_can_reopen(feedback, now),
        published=published,
        integrity=feedback.integrity,
        subject=(_own_text(feedback, feedback.subject) if for_holder
                 else feedback.public_subject if published else None),
        body=(_own_text(feedback, feedback.body) if for_holder
              else feedback.public_body if published else None),
        published_subject=feedback.public_subject if published and for_holder else None,
        published_body=feedback.public_body if published and for_holder else None,
        timeline=_timeline(feedback, lang),
    )
