"""Department API tokens: create, list, revoke, authenticate (logged by id, never by value)."""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
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
from portal.services.credentials import credential_lookup_hash, credential_new, credential_touch
from portal.services.errors import FieldError, NotFound, ValidationError
from portal.services.paging import LIST_PAGE_MAX, LIST_PAGE_SIZE, Pagination, paginate

log = logging.getLogger(__name__)

TOKEN_PREFIX = "plk_"
MAX_LABEL = 200


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
    plaintext, stored = credential_new(TOKEN_PREFIX)
    token = ApiToken(department=department, token_hash=stored, label=label)
    db.session.add(token)
    db.session.flush()
    audit_record(actor, "token.create", "api_token", token.id, department_id=department.id,
                 to_state="active")
    db.session.commit()
    log.info("api token %d created for department %s", token.id, department.code)
    return token, plaintext


def _tokens_query(actor: Any, department_code: str | None) -> Select:
    """Select the tokens actor may manage (optionally of one department), newest first."""
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
    return stmt


def token_list(department_code: str | None = None, *, actor: Any) -> list[ApiToken]:
    """List tokens (optionally of one department), newest first, with their department.

    An officer sees only their own department's tokens.
    """
    return list(db.session.scalars(_tokens_query(actor, department_code)))


def token_page(
    department_code: str | None = None, *, actor: Any, page: int = 1,
    per_page: int = LIST_PAGE_SIZE,
) -> Pagination:
    """Return a page of the tokens :func:`token_list` lists, newest first."""
    return paginate(_tokens_query(actor, department_code), page, per_page, LIST_PAGE_MAX)


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
    stored = credential_lookup_hash(plaintext, TOKEN_PREFIX)
    if stored is None:
        return None
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == stored)
        .options(selectinload(ApiToken.department))
    )
    if token is None or token.revoked_at is not None:
        return None
    credential_touch(token)
    return token
