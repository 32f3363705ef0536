"""Citizen feedback, its public timeline, routing rules, attachments and the mail outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.domain.tracking_codes import tracking_code_display, tracking_key
from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.types import UTCDateTime, utcnow

FEEDBACK_KINDS = ("complaint", "suggestion", "question", "compliment")
FEEDBACK_STATUSES = ("submitted", "routed", "in_progress", "resolved", "closed", "rejected")
# Statuses in which the feedback is still someone's work.
OPEN_STATUSES = ("submitted", "routed", "in_progress")
# Why the feedback went where it went (docs/definitions.md, "Feedback: routing and deadlines").
# "integrity": rule 0, an integrity report (corruption, bribery, pungli, misconduct by officials).
ROUTING_KINDS = ("integrity", "service", "rule", "triage")
# Why an integrity report is one: the citizen said so, or an integrity phrase matched.
INTEGRITY_BY_CITIZEN = "citizen"
# "anonymous": nothing stored; "confidential": stored, seen by the triage unit only.
IDENTITY_CHOICES = ("normal", "confidential", "anonymous")

# The 13 kabupaten of Kalimantan Tengah and its one kota, keyed by a stable code. Proper
# names: the same in both languages.
REGENCIES: dict[str, str] = {
    "barito-selatan": "Kabupaten Barito Selatan",
    "barito-timur": "Kabupaten Barito Timur",
    "barito-utara": "Kabupaten Barito Utara",
    "gunung-mas": "Kabupaten Gunung Mas",
    "kapuas": "Kabupaten Kapuas",
    "katingan": "Kabupaten Katingan",
    "kotawaringin-barat": "Kabupaten Kotawaringin Barat",
    "kotawaringin-timur": "Kabupaten Kotawaringin Timur",
    "lamandau": "Kabupaten Lamandau",
    "murung-raya": "Kabupaten Murung Raya",
    "pulang-pisau": "Kabupaten Pulang Pisau",
    "seruyan": "Kabupaten Seruyan",
    "sukamara": "Kabupaten Sukamara",
    "palangka-raya": "Kota Palangka Raya",
}

# Timeline event kinds. Citizen-written texts (reply, reopened) are kept but never shown
# publicly: a tracking code may be shared or leaked, and the citizen's words are private.
EVENT_KINDS = (
    "submitted",
    "routed",
    "transferred",
    "status",
    "answer",
    "note",
    "investigation",
    "reopened",
    "reply",
    "rejected",
    "closed",
    "published",
)
CITIZEN = "citizen"
SYSTEM = "system"

# Field lengths, shared by the model, the service and the form.
MAX_SUBJECT = 200
MAX_BODY = 5000
MAX_NAME = 120
MAX_EMAIL = 254
MAX_PHONE = 30
MAX_REASON = 2000


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Feedback(db.Model):
    """One complaint, suggestion, question or compliment filed by a citizen."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(_in("kind", FEEDBACK_KINDS), name="kind"),
        CheckConstraint(_in("status", FEEDBACK_STATUSES), name="status"),
        CheckConstraint(_in("routing_rule", ROUTING_KINDS), name="routing_rule"),
        Index("ix_feedback_department_status", "department_id", "status"),
        # The published list, newest first, a page at a time, and its count (migration 0016).
        Index("ix_feedback_published", "publish_approved", "publish_decided_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As given to the citizen, without the dashes: 12 characters of the tracking alphabet
    # (codes made before the alphabet changed keep their spelling).
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    # The code with every confusable character mapped to its set's one (tracking_key): what
    # a lookup compares, so that 5PP9… finds SPP9…. Set whenever tracking_code is. An old
    # code whose key another one already had keeps "~" + its code (found by its spelling).
    tracking_key: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    # The department that must handle it; None while the triage unit has it.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT))
    body: Mapped[str] = mapped_column(Text)
    regency: Mapped[str | None] = mapped_column(String(40))
    # Personal data: None when anonymous; never in any public output.
    reporter_name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    reporter_email: Mapped[str | None] = mapped_column(String(MAX_EMAIL))
    reporter_phone: Mapped[str | None] = mapped_column(String(MAX_PHONE))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    # When staff approved or declined the request to publish (None: not decided yet).
    publish_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The texts shown publicly once approved: written (edited) by staff from the citizen's,
    # checked by them for personal data. The citizen's own subject and body never leave
    # the staff pages.
    # (server_default: the columns are added to a table that already holds feedback.)
    public_subject: Mapped[str] = mapped_column(String(MAX_SUBJECT), default="",
                                                server_default="")
    public_body: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The reporter's language: mail to them is written in it.
    lang: Mapped[str] = mapped_column(String(5), default="id")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    # Why it went where it went: "service", "rule" or "triage" (no rule matched: the triage
    # unit routes it by hand); detail: the service code or the rule's phrase.
    routing_rule: Mapped[str] = mapped_column(String(20))
    routing_detail: Mapped[str] = mapped_column(String(300), default="")
    routing_rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_rule.id", ondelete="SET NULL")
    )
    # An integrity report (routing rule 0): handled by the integrity unit, never seen by the
    # department concerned; only moved to the triage unit or back to the integrity unit.
    integrity: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The department the integrity report is about (from the chosen service), recorded for
    # the integrity unit only: every list and count goes by department_id, the handler.
    concerned_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))

    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    route_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auto_close_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    # When a reminder about each overdue deadline was queued (each is sent once).
    route_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    needs_investigation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Shown publicly: why the department needs 60 working days.
    investigation_reason: Mapped[str] = mapped_column(Text, default="")
    # Shown publicly when rejected (out of scope or abuse).
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # A random token from the form (or the API's Idempotency-Key): a double submit with
    # the same token and the same request returns the feedback already created.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 (keyed with SECRET_KEY) of the token and the canonical request, in hex: a
    # token reused for a different request is refused instead of handing out this feedback.
    # None when no token was given.
    client_fingerprint: Mapped[str | None] = mapped_column(String(64))

    service: Mapped[Service | None] = relationship()
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    concerned_department: Mapped[Department | None] = relationship(
        foreign_keys=[concerned_department_id])
    events: Mapped[list[FeedbackEvent]] = relationship(
        back_populates="feedback",
        order_by="(FeedbackEvent.at, FeedbackEvent.id)",
        cascade="all, delete-orphan",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="feedback", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    @validates("tracking_code")
    def _keep_tracking_key(self, _key: str, code: str) -> str:
        self.tracking_key = tracking_key(code)
        return code

    @property
    def tracking_code_display(self) -> str:
        """Return the code grouped for reading aloud: K7QM-3TXV-9PH4."""
        return tracking_code_display(self.tracking_code)

    @property
    def public_reference(self) -> str:
        """Return the reference staff screens show instead of the tracking code: P123.

        The tracking code lets its holder reply and reopen as the citizen, so staff screens,
        staff mail and logs never show it whole (docs/definitions.md, "Privacy"). The same
        form as Open311's public id of published feedback.
        """
        return f"P{self.id}"

    @property
    def is_open(self) -> bool:
        """Tell whether the feedback is still waiting for the department."""
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Feedback {self.tracking_code} {self.status}>"


class FeedbackEvent(db.Model):
    """One step of a feedback's timeline; only ``public`` ones are shown to the citizen."""

    __tablename__ = "feedback_event"
    __table_args__ = (CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str | None] = mapped_column(String(20))
    from_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    to_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    # A staff username, "citizen" or "system".
    actor: Mapped[str] = mapped_column(String(64), default=SYSTEM)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="events")
    from_department: Mapped[Department | None] = relationship(foreign_keys=[from_department_id])
    to_department: Mapped[Department | None] = relationship(foreign_keys=[to_department_id])


class RoutingRule(db.Model):
    """An administrator's rule: feedback whose text contains ``phrase`` goes to a department."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    # As typed by the administrator (shown in the reason); matching uses its normal form.
    phrase: Mapped[str] = mapped_column(String(200))
    # That normal form, stored when the rule is added: matching compares it, and its length
    # ranks rules, so the database can list them in the order matching tries them. Text: the
    # folding may lengthen a phrase (a ligature becomes its letters).
    normalised: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department] = relationship()


class IntegrityPhrase(db.Model):
    """An administrator's integrity phrase: feedback containing it is an integrity report."""

    __tablename__ = "integrity_phrase"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As typed by the administrator (shown in the reason); matching uses its normal form.
    phrase: Mapped[str] = mapped_column(String(200), unique=True)
    # That normal form, stored when the phrase is added (see RoutingRule.normalised).
    normalised: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(db.Model):
    """A photo or PDF filed with a feedback, stored outside static/ under a random name."""

    __tablename__ = "feedback_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    # Random file name inside PORTAL_UPLOAD_DIR; never derived from the upload.
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    # Detected from the content, never from the browser's claim.
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    # The name on the citizen's device may itself be personal: staff only.
    original_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="attachments")


class FeedbackDigest(db.Model):
    """The daily digest of overdue feedback sent to one department (or the triage unit).

    One row per recipient scope and WIB day: inserting it is what makes the digest command
    idempotent, even when several machines run it at once.
    """

    __tablename__ = "feedback_digest"
    __table_args__ = (UniqueConstraint("scope", "day", name="uq_feedback_digest_scope_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "department:<id>", or "triage" for feedback no department has yet.
    scope: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    items: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(db.Model):
    """A mail waiting to be sent (or sent): written in the same transaction as the change."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default="id")
    # What the mail is about, e.g. "feedback.reporter.submitted" (for counting, not routing).
    kind: Mapped[str] = mapped_column(String(64))
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The kind of the last failure (never the recipient's address).
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # JSON object of extra mail headers (List-Unsubscribe of subscription mail); "" for none.
    headers: Mapped[str] = mapped_column(Text, default="", server_default="")
