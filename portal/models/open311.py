"""Open311 GeoReport v2: the keys of client applications and what their requests carried."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.feedback import Feedback
from portal.models.types import UTCDateTime, utcnow

MAX_KEY_NAME = 200
MAX_ADDRESS_STRING = 500


class Open311Key(db.Model):
    """An application's key for filing requests, stored only as its SHA-256 hash."""

    __tablename__ = "open311_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who holds it (an application, a city's 311 system): shown to administrators only.
    name: Mapped[str] = mapped_column(String(MAX_KEY_NAME))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        """Tell whether the key may still be used."""
        return self.revoked_at is None


class Open311Request(db.Model):
    """Which key filed a feedback through Open311, and the place the client gave.

    The place (a position, an address) can identify the reporter: it is treated like the
    reporter's identity. It never leaves the staff side, it is seen only by staff who may
    see the identity (a confidential report's by the triage unit only), and it is not stored
    at all for an anonymous report.
    """

    __tablename__ = "open311_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), unique=True
    )
    key_id: Mapped[int] = mapped_column(ForeignKey("open311_key.id"), index=True)
    # WGS84, as the client sent them; both or neither.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address_string: Mapped[str | None] = mapped_column(String(MAX_ADDRESS_STRING))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    feedback: Mapped[Feedback] = relationship()
    key: Mapped[Open311Key] = relationship()
