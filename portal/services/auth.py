"""Staff accounts, passwords, authorization helpers and the audit log.

Every other service checks permissions with :func:`require_role`, :func:`require_department`
or :func:`can_act_for_department`, and records what staff did with :func:`audit_record`
before its own commit.

Who may do what (the roles of DOMAIN.md and issue 4):

- ``admin``: everything, in every department; manages staff accounts.
- ``officer``: acts for their own department only.
- ``triage``: the province's complaint-management unit. It routes and transfers feedback
  between departments, so :func:`can_act_for_department` is true for every department; it
  does not keep any department's catalogue (see ``catalogue_staff``), manage accounts or
  read the audit log.
- ``dprd``: reads across departments and never writes, so it acts for no department.

The audit log is readable by ``admin`` and ``dprd`` only: it is the record that oversees the
triage unit and the officers, so neither reads it.

``actor=None`` means the operator at the command line (a trusted shell), not an anonymous web
visitor: views always pass ``flask_login.current_user``, whose anonymous form is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.types import utcnow
from portal.models.users import ROLES, AuditEntry, User
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError

__all__ = [
    "ROLES",
    "AuditPage",
    "NotAuthorized",
    "audit_list",
    "audit_record",
    "can_act_for_department",
    "is_staff",
    "password_hash",
    "require_department",
    "require_role",
    "user_authenticate",
    "user_by_username",
    "user_create",
    "user_get",
    "user_list",
    "user_set_active",
    "user_set_password",
]

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,64}$")
PASSWORD_MIN = 12
# Argon2 hashes whatever it is given; a cap keeps a huge "password" from costing CPU.
PASSWORD_MAX = 1024
MAX_FULL_NAME = 200
MAX_EMAIL = 254
MAX_DETAIL = 2000
AUDIT_PAGE_MAX = 200
SYSTEM_ACTOR = "system"


# Passwords --------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _hasher_for(fast: bool) -> PasswordHasher:
    """Return the Argon2id hasher: the library's defaults, or cheap ones for tests."""
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def _hasher() -> PasswordHasher:
    """Return the hasher configured for the current app."""
    return _hasher_for(bool(current_app.config.get("PORTAL_FAST_PASSWORD_HASHING")))


@lru_cache(maxsize=2)
def _dummy_hash(fast: bool) -> str:
    """Return a hash to verify against when the username is unknown (same cost, no match)."""
    return _hasher_for(fast).hash("no account has this password, it only spends time")


def password_hash(password: str) -> str:
    """Hash a password with Argon2id and the configured parameters."""
    return _hasher().hash(password)


def _verify(stored_hash: str, password: str) -> bool:
    """Check a password against a hash; any failure is simply False."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _password_errors(password: str, username: str = "") -> list[FieldError]:
    """Check the password rules."""
    if len(password) < PASSWORD_MIN:
        return [FieldError("password", _("must be at least %(n)d characters", n=PASSWORD_MIN))]
    if len(password) > PASSWORD_MAX:
        return [FieldError("password", _("is longer than %(n)d characters", n=PASSWORD_MAX))]
    if username and password.strip().lower() == username:
        return [FieldError("password", _("must not be the username"))]
    return []


# Authorization ----------------------------------------------------------------------------


def is_staff(actor: Any) -> bool:
    """Tell whether actor is a logged-in, active staff account."""
    return (
        isinstance(actor, User)
        and bool(actor.is_active)
        and actor.role in ROLES
    )


def require_role(actor: Any, *roles: str) -> User:
    """Return actor if it is active staff with one of roles, else raise NotAuthorized.

    ``None`` and Flask-Login's anonymous user are anonymous and always refused.
    """
    if not is_staff(actor) or actor.role not in roles:
        raise NotAuthorized(f"needs role {' or '.join(roles)}")
    return actor


def can_act_for_department(actor: Any, department_id: int | None) -> bool:
    """Tell whether actor may act on things belonging to a department.

    admin: every department; officer: only their own; triage: every department, because
    routing and transfers move feedback between departments; dprd and anonymous: none.
    """
    if not is_staff(actor):
        return False
    if actor.role in ("admin", "triage"):
        return True
    if actor.role == "officer":
        return department_id is not None and actor.department_id == department_id
    return False


def require_department(actor: Any, department_id: int | None) -> User:
    """Return actor if it may act for the department, else raise NotAuthorized."""
    if not can_act_for_department(actor, department_id):
        raise NotAuthorized(f"may not act for department {department_id}")
    return actor


# Audit log --------------------------------------------------------------------------------


def audit_record(
    actor: Any,
    action: str,
    object_type: str,
    object_id: object,
    department_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: str = "",
) -> AuditEntry:
    """Add an audit entry to the session WITHOUT committing: the caller commits it with its change.

    ``detail`` must never contain a reporter's name, e-mail, phone or text.
    """
    staff = actor if is_staff(actor) else None
    entry = AuditEntry(
        at=utcnow(),
        actor_id=staff.id if staff else None,
        actor_username=staff.username if staff else SYSTEM_ACTOR,
        actor_role=staff.role if staff else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        department_id=department_id,
        from_state=from_state,
        to_state=to_state,
        detail=(detail or "")[:MAX_DETAIL],
    )
    db.session.add(entry)
    return entry


@dataclass
class AuditPage:
    """One page of the audit log, newest first."""

    entries: list[AuditEntry]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        """Tell whether older entries follow."""
        return self.offset + len(self.entries) < self.total

    @property
    def has_previous(self) -> bool:
        """Tell whether newer entries precede."""
        return self.offset > 0


def audit_list(
    actor: Any, department_id: int | None = None, limit: int = 50, offset: int = 0
) -> AuditPage:
    """Return a page of the audit log, newest first, optionally for one department.

    Readable by admin and dprd only.
    """
    require_role(actor, "admin", "dprd")
    limit = max(1, min(int(limit), AUDIT_PAGE_MAX))
    offset = max(0, int(offset))
    stmt = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    if department_id is not None:
        stmt = stmt.where(AuditEntry.department_id == department_id)
        count = count.where(AuditEntry.department_id == department_id)
    entries = db.session.scalars(
        stmt.options(selectinload(AuditEntry.department))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return AuditPage(list(entries), db.session.scalar(count) or 0, limit, offset)


# Accounts ---------------------------------------------------------------------------------


def _normalize_username(username: str) -> str:
    """Usernames are compared in lower case without surrounding spaces."""
    return (username or "").strip().lower()


def user_create(
    username: str,
    password: str,
    role: str,
    department_code: str | None = None,
    actor: Any = None,
    full_name: str = "",
    email: str = "",
) -> User:
    """Create a staff account; an admin (or the command line, actor=None) only."""
    if actor is not None:
        require_role(actor, "admin")
    username = _normalize_username(username)
    full_name = (full_name or "").strip()
    email = (email or "").strip()
    department_code = (department_code or "").strip()
    errors: list[FieldError] = []
    if not USERNAME_RE.match(username):
        errors.append(FieldError(
            "username",
            _("must be 3 to 64 characters: lowercase letters, digits, dots, hyphens, underscores"),
        ))
    elif db.session.scalar(select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", _("is already taken")))
    errors.extend(_password_errors(password or "", username))
    department = None
    if role not in ROLES:
        errors.append(FieldError("role", _("must be one of admin, triage, officer, dprd")))
    elif role == "officer":
        if not department_code:
            errors.append(FieldError("department", _("is required for an officer")))
        else:
            department = db.session.scalar(
                select(Department).where(Department.code == department_code)
            )
            if department is None:
                errors.append(FieldError("department", _("does not exist")))
    elif department_code:
        errors.append(FieldError("department", _("only officers belong to a department")))
    if len(full_name) > MAX_FULL_NAME:
        errors.append(FieldError("full_name", _("is longer than %(n)d characters",
                                                n=MAX_FULL_NAME)))
    if email and (len(email) > MAX_EMAIL or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email)):
        errors.append(FieldError("email", _("must be an e-mail address")))
    if errors:
        raise ValidationError(errors)

    user = User(
        username=username,
        password_hash=password_hash(password),
        role=role,
        department=department,
        full_name=full_name,
        email=email,
        is_active=True,
        created_at=utcnow(),
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as error:  # a concurrent create took the name
        db.session.rollback()
        raise ValidationError([FieldError("username", _("is already taken"))]) from error
    audit_record(
        actor, "user.create", "user", user.id,
        department_id=department.id if department else None,
        to_state=role, detail=f"username={username}",
    )
    db.session.commit()
    return user


def user_authenticate(username: str, password: str) -> User | None:
    """Return the active user with this username and password, or None.

    Unknown usernames cost one Argon2 verification too, so timing does not reveal which
    usernames exist. A hash made with older parameters is replaced on success.
    """
    name = _normalize_username(username)
    password = password or ""
    user = None
    if USERNAME_RE.match(name) and len(password) <= PASSWORD_MAX:
        user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        fast = bool(current_app.config.get("PORTAL_FAST_PASSWORD_HASHING"))
        _verify(_dummy_hash(fast), password)
        return None
    if not _verify(user.password_hash, password) or not user.is_active:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def user_get(user_id: int) -> User | None:
    """Return the user with this id, or None (used to load the logged-in user)."""
    return db.session.get(User, user_id)


def user_by_username(username: str) -> User:
    """Return the user with this username, or raise NotFound."""
    user = db.session.scalar(select(User).where(User.username == _normalize_username(username)))
    if user is None:
        raise NotFound(username)
    return user


def user_list(actor: Any) -> list[User]:
    """List every staff account by username; admin only (actor=None: the command line)."""
    if actor is not None:
        require_role(actor, "admin")
    return list(db.session.scalars(
        select(User).options(selectinload(User.department)).order_by(User.username)
    ))


def user_set_active(actor: Any, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; admin only, and never one's own account."""
    if actor is not None:
        require_role(actor, "admin")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(str(user_id))
    if actor is not None and user.id == actor.id and not active:
        raise ValidationError([FieldError("user", _("you cannot deactivate your own account"))])
    if bool(user.is_active) == bool(active):
        return user
    before = "active" if user.is_active else "inactive"
    user.is_active = bool(active)
    audit_record(
        actor, "user.activate" if active else "user.deactivate", "user", user.id,
        department_id=user.department_id, from_state=before,
        to_state="active" if active else "inactive", detail=f"username={user.username}",
    )
    db.session.commit()
    return user


def user_set_password(
    actor: Any, user_id: int, password: str, current_password: str | None = None
) -> User:
    """Set a new password: admins for anyone, staff for themselves with their current password.

    Other sessions of that user end (the session identity includes a hash fingerprint).
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(str(user_id))
    if actor is not None:
        require_role(actor, *ROLES)
        if actor.role != "admin":
            if actor.id != user.id:
                raise NotAuthorized("may only change one's own password")
            if not _verify(user.password_hash, current_password or ""):
                raise ValidationError([FieldError("current_password", _("is wrong"))])
    errors = _password_errors(password or "", user.username)
    if errors:
        raise ValidationError(errors)
    user.password_hash = _hasher().hash(password)
    audit_record(
        actor, "user.password_change", "user", user.id,
        department_id=user.department_id, detail=f"username={user.username}",
    )
    db.session.commit()
    return user
