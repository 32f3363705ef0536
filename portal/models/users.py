"""Staff accounts and the append-only audit log of staff actions."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.types import UTCDateTime, utcnow

ROLES = ("admin", "triage", "officer", "dprd")


class User(UserMixin, db.Model):
    """A staff member who logs in: administrator, triage unit, department officer or DPRD."""

    # "user" is a reserved word in PostgreSQL; a plain name avoids quoting everywhere.
    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'triage', 'officer', 'dprd')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # Officers belong to exactly one department; the service layer enforces it.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    department: Mapped[Department | None] = relationship()

    def get_id(self) -> str:
        """Return the session identity: the id plus a fingerprint of the password hash.

        Changing a password changes the fingerprint, so every other session of that user
        ends at its next request.
        """
        return f"{self.id}:{self.session_fingerprint()}"

    def session_fingerprint(self) -> str:
        """Return a short digest of the password hash (never the hash itself)."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class AuditEntry(db.Model):
    """One staff action, kept forever: who, what, on which object, from which state to which.

    Rows are only ever added. ``detail`` never holds a reporter's personal data.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_object", "object_type", "object_id"),
        Index("ix_audit_entry_department_at", "department_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # None for the command line and scheduled jobs; the name and role are copied so the
    # entry still says who acted if the account is later renamed.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department | None] = relationship()


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_change(mapper, connection, target) -> None:
    """Keep the audit log append-only at the ORM level."""
    raise RuntimeError("audit entries are append-only")
