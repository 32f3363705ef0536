"""Department API tokens: create, list, revoke, authenticate (logged by id, never by value)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.metrics import ApiToken
from portal.services.auth import (
    Permission,
    audit_record,
    department_scope,
    require_department,
    require_permission,
)
from portal.services.errors import FieldError, NotFound, ValidationError

log = logging.getLogger(__name__)

TOKEN_PREFIX = "plk_"
MAX_LABEL = 200
# last_used_at is a hint for administrators; writing it on every call would turn every
# authenticated read into a write, so it is refreshed at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(plaintext: str) -> str:
    """Return the stored form of a token: SHA-256 of a 256-bit random secret is enough."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _require_token_keeper(actor: Any, department_id: int) -> None:
    """Allow an admin or the CLI operator, or an officer of the token's department."""
    require_permission(actor, Permission.TOKENS_MANAGE)
    require_department(actor, department_id)


def token_create(
    department_code: str, label: str = "", *, actor: Any
) -> tuple[ApiToken, str]:
    """Create a token for a department; return the row and the plaintext (shown once)."""
    department = db.session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        raise NotFound(department_code)
    _require_token_keeper(actor, department.id)
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise ValidationError([FieldError("label", _("Use at most %(max)d characters.",
                                                   max=MAX_LABEL))])
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(department=department, token_hash=_hash(plaintext), label=label)
    db.session.add(token)
    db.session.flush()
    audit_record(actor, "token.create", "api_token", token.id, department_id=department.id,
                 to_state="active")
    db.session.commit()
    log.info("api token %d created for department %s", token.id, department.code)
    return token, plaintext


def token_list(department_code: str | None = None, *, actor: Any) -> list[ApiToken]:
    """List tokens (optionally of one department), newest first, with their department.

    An officer sees only their own department's tokens.
    """
    require_permission(actor, Permission.TOKENS_MANAGE)
    scope = department_scope(actor)
    stmt = (
        select(ApiToken)
        .join(ApiToken.department)
        .options(selectinload(ApiToken.department))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if department_code:
        stmt = stmt.where(Department.code == department_code)
    if scope is not None:
        stmt = stmt.where(ApiToken.department_id == scope)
    return list(db.session.scalars(stmt))


def token_revoke(token_id: int, *, actor: Any) -> ApiToken:
    """Revoke a token (idempotent); raise NotFound for an unknown id."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(str(token_id))
    _require_token_keeper(actor, token.department_id)
    if token.revoked_at is None:
        token.revoked_at = utc_now()
        audit_record(actor, "token.revoke", "api_token", token.id,
                     department_id=token.department_id, from_state="active",
                     to_state="revoked")
        db.session.commit()
        log.info("api token %d revoked", token.id)
    return token


def token_authenticate(plaintext: str | None) -> ApiToken | None:
    """Return the active token matching a plaintext, or None (unknown, revoked or empty)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _hash(plaintext))
        .options(selectinload(ApiToken.department))
    )
    if token is None or token.revoked_at is not None:
        return None
    now = utc_now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token
