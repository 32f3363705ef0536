"""E-mail subscriptions (double opt-in) and the record of what was announced to them.

A subscription follows a service, a department, the whole province, or the weekly DPRD
digest. The address is kept only to send these mails: it is never shown, exported or logged.
Its confirmation and unsubscribe tokens are stored as SHA-256 hashes only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.types import UTCDateTime, utcnow

# What a subscription follows. "dprd_digest" is the weekly digest for the DPRD.
SUBSCRIPTION_SCOPES = ("service", "department", "province", "dprd_digest")
# What a subscriber may choose to hear about (the digest has no topics).
SUBSCRIPTION_TOPICS = ("status", "incidents", "maintenance")
# What was announced once (SubscriptionNotice.event_type).
# "incident_resolved" is keyed by the update that resolved the incident (a reopened incident
# resolved again is announced again).
NOTICE_EVENTS = ("status_change", "incident", "incident_resolved", "maintenance", "dprd_digest")


class Subscription(db.Model):
    """One address following one scope, pending until its confirmation link is followed."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint(
            "scope IN ('service', 'department', 'province', 'dprd_digest')", name="scope"
        ),
        CheckConstraint(
            "(scope = 'service') = (service_id IS NOT NULL) "
            "AND (scope = 'department') = (department_id IS NOT NULL)",
            name="target",
        ),
        # The notifier reads the confirmed subscriptions of a scope and target.
        Index("ix_subscription_scope", "scope", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address, used for nothing but these mails; never shown, exported or logged.
    email: Mapped[str] = mapped_column(String(254))
    # SHA-256 of the lower-cased address: finds an address's subscriptions without a scan.
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    topic_status: Mapped[bool] = mapped_column(Boolean, default=True)
    topic_incidents: Mapped[bool] = mapped_column(Boolean, default=True)
    topic_maintenance: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language of the page the subscriber used: every mail is written in it.
    lang: Mapped[str] = mapped_column(String(5), default="id")
    # SHA-256 of the confirmation token; None once confirmed.
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # An unconfirmed subscription is deleted after this.
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A random value the unsubscribe token is derived from (with the secret key).
    token_nonce: Mapped[str] = mapped_column(String(32))
    # SHA-256 of the unsubscribe token every mail carries.
    unsubscribe_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    service: Mapped[Service | None] = relationship()
    department: Mapped[Department | None] = relationship()

    def topics(self) -> tuple[str, ...]:
        """Return the chosen topics, in their canonical order."""
        return tuple(t for t in SUBSCRIPTION_TOPICS if getattr(self, f"topic_{t}"))

    def __repr__(self) -> str:  # never the address
        return f"<Subscription {self.id} {self.scope}>"


class SubscriptionNotice(db.Model):
    """An event announced to the subscribers once (its unique key lets one run win)."""

    __tablename__ = "subscription_notice"
    __table_args__ = (
        UniqueConstraint("event_type", "event_id", name="uq_subscription_notice_event"),
        CheckConstraint(
            "event_type IN ('status_change', 'incident', 'incident_resolved', 'maintenance', "
            "'dprd_digest')",
            name="event_type",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(20))
    # The status change, incident, resolving incident update or maintenance id; for the digest
    # its week (2026W49: 202649).
    event_id: Mapped[int] = mapped_column()
    mails: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
