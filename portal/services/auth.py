"""Staff accounts, passwords, authorization helpers and the audit log.

This is the one place that knows the roles. Every other service asks it what an actor may
do, with :func:`require_permission` / :func:`staff_can` (a :class:`Permission`),
:func:`require_department` / :func:`can_act_for_department` and :func:`department_scope`, and
records what staff did with :func:`audit_record` before its own commit. Views and templates
ask the same questions (or a service's allowed actions) instead of comparing role names.

Who may do what (the roles of docs/definitions.md and issue 4; the table is
``ROLE_PERMISSIONS``):

- ``admin``: everything, in every department, except what only the triage unit does;
  manages staff accounts.
- ``officer``: acts for their own department only.
- ``triage``: the province's complaint-management unit. It routes and transfers feedback
  between departments, so :func:`can_act_for_department` is true for every department; it
  alone sees a confidential reporter's identity. It does not keep any department's catalogue,
  manage accounts or read the audit log.
- ``dprd``: reads across departments and never writes, so it acts for no department.

The audit log is readable by ``admin`` and ``dprd`` only: it is the record that oversees the
triage unit and the officers, so neither reads it.

The operator at the command line (a trusted shell) acts as :data:`CLI_OPERATOR`, with an
administrator's permissions; it is never ``None``. ``None`` and Flask-Login's anonymous user
are anonymous and refused everywhere, so a view that forgot to pass its user cannot borrow
the command line's power: ``actor`` is a required argument of every service that checks it.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.types import utcnow
from portal.models.users import AuditEntry, User
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError
from portal.services.paging import LIST_PAGE_MAX, LIST_PAGE_SIZE, Pagination, paginate

__all__ = [
    "CLI_OPERATOR",
    "NotAuthorized",
    "Permission",
    "Role",
    "audit_list",
    "audit_record",
    "can_act_for_department",
    "department_scope",
    "is_staff",
    "normalize_username",
    "password_hash",
    "require_department",
    "require_permission",
    "require_role",
    "staff_can",
    "user_authenticate",
    "user_by_username",
    "user_create",
    "user_get",
    "user_list",
    "user_page",
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
# A password that is a group of at most this many characters repeated is refused
# ("abababababab", "123412341234").
REPEATED_UNIT_MAX = 4
# The 20,000 most common passwords of public breach corpora (19,640 once lower-cased and
# deduplicated), most common first, one a line: the list Django 5.2 ships
# (django/contrib/auth/common-passwords.txt.gz, created by Royce Williams), unzipped and
# otherwise unchanged.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# What "digits or symbols added" may be: anything but a letter.
_NOT_LETTERS = string.digits + string.punctuation + string.whitespace
AUDIT_PAGE_SIZE = 50
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


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """Return the shipped list of common and breached passwords (lower case, one a line)."""
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _smallest_repeated_unit(text: str) -> str:
    """Return the shortest string that text is made of, repeated (text itself if none)."""
    # text is a repetition exactly when it occurs inside itself doubled, short of its ends.
    position = (text + text).find(text, 1)
    return text[:position] if 0 < position < len(text) else text


def _is_common(password: str) -> bool:
    """Tell whether a password is a common one, or one with digits or symbols around it.

    Attackers' guessing rules append and prepend digits and symbols to every word of their
    lists and repeat them, so "dragon2025!" and "dragondragon" are as weak as "dragon".
    """
    common = _common_passwords()
    lowered = password.lower()
    candidates = {lowered, re.sub(r"[\s._-]+", "", lowered)}
    candidates |= {_smallest_repeated_unit(candidate) for candidate in candidates}
    candidates |= {candidate.strip(_NOT_LETTERS) for candidate in candidates}
    return any(candidate in common for candidate in candidates if candidate)


def _password_errors(password: str, username: str = "") -> list[FieldError]:
    """Check the password rules (NIST SP 800-63B); return the first one broken, if any."""
    if len(password) < PASSWORD_MIN:
        return [FieldError("password", _("must be at least %(n)d characters", n=PASSWORD_MIN))]
    if len(password) > PASSWORD_MAX:
        return [FieldError("password", _("is longer than %(n)d characters", n=PASSWORD_MAX))]
    if len(set(password)) == 1:
        return [FieldError("password", _("The password must not be one character repeated."))]
    lowered = password.lower()
    # What is left once every occurrence of the username is taken out: no letter means the
    # username, repeated or with digits and symbols ("weakuser5weakuser5", "Budi.Santoso1").
    rest = lowered.replace(username, "") if username else lowered
    if rest != lowered and not rest.strip(_NOT_LETTERS):
        return [FieldError(
            "password",
            _("The password must not be made of the username, even repeated or with digits "
              "or symbols added."),
        )]
    if len(_smallest_repeated_unit(lowered)) <= REPEATED_UNIT_MAX:
        return [FieldError(
            "password", _("The password must not be a few characters repeated."))]
    if _is_common(password):
        return [FieldError(
            "password",
            _("The password is a common one, or a common one with digits or symbols added: "
              "attackers try those first. Choose another, such as a few unrelated words."),
        )]
    return []


# Roles, permissions and the command-line operator -----------------------------------------


class Role(StrEnum):
    """A staff account's role; the values are the strings the database stores."""

    ADMIN = "admin"
    TRIAGE = "triage"
    OFFICER = "officer"
    DPRD = "dprd"


class Permission(StrEnum):
    """Something staff may do; ``ROLE_PERMISSIONS`` says which roles may do it."""

    ACCOUNTS_MANAGE = "accounts.manage"
    AUDIT_READ = "audit.read"
    CATALOGUE_KEEP = "catalogue.keep"
    # Read and act on feedback (of the departments the actor acts for).
    FEEDBACK_HANDLE = "feedback.handle"
    # Route by hand feedback no rule could route.
    FEEDBACK_ROUTE = "feedback.route"
    # Read the list of feedback transferred too often.
    FEEDBACK_ATTENTION = "feedback.attention"
    # See a confidential reporter's identity, and so decide on publishing their text.
    FEEDBACK_CONFIDENTIAL = "feedback.confidential"
    # Read every department's feedback, de-identified (oversight).
    FEEDBACK_OVERSIGHT = "feedback.oversight"
    INCIDENTS_MANAGE = "incidents.manage"
    ROUTING_MANAGE = "routing.manage"
    TOKENS_MANAGE = "tokens.manage"


ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.ADMIN: frozenset({
        Permission.ACCOUNTS_MANAGE, Permission.AUDIT_READ, Permission.CATALOGUE_KEEP,
        Permission.FEEDBACK_HANDLE, Permission.FEEDBACK_ATTENTION, Permission.FEEDBACK_OVERSIGHT,
        Permission.INCIDENTS_MANAGE, Permission.ROUTING_MANAGE, Permission.TOKENS_MANAGE,
    }),
    Role.TRIAGE: frozenset({
        Permission.FEEDBACK_HANDLE, Permission.FEEDBACK_ROUTE, Permission.FEEDBACK_ATTENTION,
        Permission.FEEDBACK_CONFIDENTIAL,
    }),
    Role.OFFICER: frozenset({
        Permission.CATALOGUE_KEEP, Permission.FEEDBACK_HANDLE, Permission.INCIDENTS_MANAGE,
        Permission.TOKENS_MANAGE,
    }),
    Role.DPRD: frozenset({Permission.AUDIT_READ, Permission.FEEDBACK_OVERSIGHT}),
}
# Roles that act for every department (the triage unit moves feedback between them); an
# officer acts for their own department, the DPRD for none.
_EVERY_DEPARTMENT = frozenset({Role.ADMIN, Role.TRIAGE})
# The stored strings of the roles, to check an account's role without converting it.
_ROLE_VALUES = frozenset(Role)


class CliOperator:
    """The operator at the command line: a trusted shell, with an administrator's permissions.

    Not a staff account: the audit log records its actions as ``system``, and what it signs
    (an incident's author) is signed ``cli``.
    """

    __slots__ = ()
    username: Final = "cli"

    def __repr__(self) -> str:
        return "CLI_OPERATOR"


# The one command-line actor: permission checks recognise it by identity.
CLI_OPERATOR: Final = CliOperator()


def is_staff(actor: Any) -> bool:
    """Tell whether actor is a logged-in, active staff account."""
    return (
        isinstance(actor, User)
        and bool(actor.is_active)
        and actor.role in _ROLE_VALUES
    )


def _role_of(actor: Any) -> Role | None:
    """Return the role actor acts with (the CLI operator: admin's), or None if anonymous."""
    if actor is CLI_OPERATOR:
        return Role.ADMIN
    return Role(actor.role) if is_staff(actor) else None


def staff_can(actor: Any, permission: Permission | str) -> bool:
    """Tell whether actor may do something (an unknown permission name is a ValueError)."""
    role = _role_of(actor)
    return role is not None and Permission(permission) in ROLE_PERMISSIONS[role]


def require_permission(actor: Any, permission: Permission | str) -> Any:
    """Return actor if it may do something, else raise NotAuthorized."""
    if not staff_can(actor, permission):
        raise NotAuthorized(f"needs permission {permission}")
    return actor


def require_role(actor: Any, *roles: Role | str) -> User:
    """Return actor if it is active staff with one of roles, else raise NotAuthorized.

    ``None``, Flask-Login's anonymous user and the CLI operator (not an account) are refused.
    """
    if not is_staff(actor) or actor.role not in roles:
        raise NotAuthorized(f"needs role {' or '.join(roles)}")
    return actor


def can_act_for_department(actor: Any, department_id: int | None) -> bool:
    """Tell whether actor may act on things belonging to a department.

    admin and the CLI operator: every department; officer: only their own; triage: every
    department, because routing and transfers move feedback between departments; dprd and
    anonymous: none.
    """
    role = _role_of(actor)
    if role in _EVERY_DEPARTMENT:
        return True
    if role is Role.OFFICER:
        return department_id is not None and actor.department_id == department_id
    return False


def require_department(actor: Any, department_id: int | None) -> Any:
    """Return actor if it may act for the department, else raise NotAuthorized."""
    if not can_act_for_department(actor, department_id):
        raise NotAuthorized(f"may not act for department {department_id}")
    return actor


def department_scope(actor: Any) -> int | None:
    """Return the one department actor's staff lists are limited to; None for every department.

    Raise NotAuthorized for an actor who acts for no department (DPRD, anonymous, an officer
    without a department), so a list is never silently widened or emptied.
    """
    role = _role_of(actor)
    if role in _EVERY_DEPARTMENT:
        return None
    if role is Role.OFFICER and actor.department_id is not None:
        return actor.department_id
    raise NotAuthorized("acts for no department")


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

    ``detail`` must never contain a reporter's name, e-mail, phone or text. An actor that is
    no staff account (the CLI operator, a scheduled job) is recorded as ``system``.
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


def audit_list(
    actor: Any, department_id: int | None = None, page: int = 1,
    per_page: int = AUDIT_PAGE_SIZE,
) -> Pagination:
    """Return a page of the audit log, newest first, optionally for one department.

    Readable by admin and dprd only.
    """
    require_permission(actor, Permission.AUDIT_READ)
    stmt = select(AuditEntry)
    if department_id is not None:
        stmt = stmt.where(AuditEntry.department_id == department_id)
    stmt = stmt.options(selectinload(AuditEntry.department)).order_by(
        AuditEntry.at.desc(), AuditEntry.id.desc())
    return paginate(stmt, page, per_page, AUDIT_PAGE_MAX)


# Accounts ---------------------------------------------------------------------------------


def normalize_username(username: str) -> str:
    """Return the one form of a username that accounts are stored, found and throttled by.

    Lower case, without surrounding spaces, and with compatibility characters folded
    (NFKC: full-width "ＯＦＦＢ" is "offb"), so every spelling of a name is one account.
    """
    return unicodedata.normalize("NFKC", username or "").strip().lower()


def _account_errors(
    username: str, role: str, department_code: str | None, full_name: str | None,
    email: str | None,
) -> tuple[list[FieldError], Department | None]:
    """Check a new account's fields other than the password; return errors and department.

    ``username`` comes normalised; the other texts are trimmed here.
    """
    department_code = (department_code or "").strip()
    full_name = (full_name or "").strip()
    email = (email or "").strip()
    errors: list[FieldError] = []
    if not USERNAME_RE.match(username):
        errors.append(FieldError(
            "username",
            _("must be 3 to 64 characters: lowercase letters, digits, dots, hyphens, underscores"),
        ))
    elif db.session.scalar(select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", _("is already taken")))
    department = None
    if role not in _ROLE_VALUES:
        errors.append(FieldError("role", _("must be one of admin, triage, officer, dprd")))
    elif role == Role.OFFICER:
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
    return errors, department


def user_create_check(
    username: str,
    role: str,
    department_code: str | None = None,
    *,
    actor: Any,
    full_name: str = "",
    email: str = "",
) -> None:
    """Refuse a new account's fields before a password is asked for (the password aside)."""
    require_permission(actor, Permission.ACCOUNTS_MANAGE)
    errors, _department = _account_errors(
        normalize_username(username), role, department_code, full_name, email
    )
    if errors:
        raise ValidationError(errors)


def user_create(
    username: str,
    password: str,
    role: str,
    department_code: str | None = None,
    *,
    actor: Any,
    full_name: str = "",
    email: str = "",
) -> User:
    """Create a staff account; an admin (or the CLI operator) only."""
    require_permission(actor, Permission.ACCOUNTS_MANAGE)
    username = normalize_username(username)
    full_name = (full_name or "").strip()
    email = (email or "").strip()
    errors, department = _account_errors(username, role, department_code, full_name, email)
    errors.extend(_password_errors(password or "", username))
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
    name = normalize_username(username)
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
    user = db.session.scalar(select(User).where(User.username == normalize_username(username)))
    if user is None:
        raise NotFound(username)
    return user


def _users_query() -> Select:
    """Select every staff account with its department, by username."""
    return select(User).options(selectinload(User.department)).order_by(User.username, User.id)


def user_list(actor: Any) -> list[User]:
    """List every staff account by username; admin (or the CLI operator) only."""
    require_permission(actor, Permission.ACCOUNTS_MANAGE)
    return list(db.session.scalars(_users_query()))


def user_page(actor: Any, page: int = 1, per_page: int = LIST_PAGE_SIZE) -> Pagination:
    """Return a page of the staff accounts by username; admin only."""
    require_permission(actor, Permission.ACCOUNTS_MANAGE)
    return paginate(_users_query(), page, per_page, LIST_PAGE_MAX)


def user_set_active(actor: Any, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; admin only, and never one's own account."""
    require_permission(actor, Permission.ACCOUNTS_MANAGE)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(str(user_id))
    if isinstance(actor, User) and user.id == actor.id and not active:
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
    if not staff_can(actor, Permission.ACCOUNTS_MANAGE):
        require_role(actor, *Role)
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
