"""Open311 application keys: create, list, revoke, authenticate (logged by id, never by value).

A key lets an application (a city's 311 system, a reporting app) file feedback through
``POST /open311/v2/requests``; reading needs none. Keys are issued to the whole province, not
to a department, so only those who manage API tokens for every department (an administrator,
the command line) manage them. Every change is audited.
"""

from __future__ import annotations

import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.open311 import MAX_KEY_NAME, Open311Key
from portal.services.auth import (
    Permission,
    audit_record,
    department_scope,
    require_permission,
)
from portal.services.credentials import credential_lookup_hash, credential_new, credential_touch
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError

log = logging.getLogger(__name__)

KEY_PREFIX = "o311_"


def _require_key_keeper(actor: Any) -> None:
    """Allow whoever manages API tokens for every department: an admin or the command line."""
    require_permission(actor, Permission.TOKENS_MANAGE)
    if department_scope(actor) is not None:
        raise NotAuthorized("open311 keys are the province's, not one department's")


def open311_key_create(name: str, *, actor: Any) -> tuple[Open311Key, str]:
    """Create a key for an application; return the row and the plaintext (shown once)."""
    _require_key_keeper(actor)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError([FieldError("name", _("Name the application the key is for."))])
    if len(name) > MAX_KEY_NAME:
        raise ValidationError(
            [FieldError("name", _("Use at most %(max)d characters.", max=MAX_KEY_NAME))]
        )
    plaintext, stored = credential_new(KEY_PREFIX)
    key = Open311Key(name=name, key_hash=stored)
    db.session.add(key)
    db.session.flush()
    audit_record(actor, "open311.key_create", "open311_key", key.id, to_state="active",
                 detail=f"name={name}")
    db.session.commit()
    log.info("open311 key %d created", key.id)
    return key, plaintext


def open311_key_list(*, actor: Any) -> list[Open311Key]:
    """List every key, newest first, revoked ones included."""
    _require_key_keeper(actor)
    return list(db.session.scalars(
        select(Open311Key).order_by(Open311Key.created_at.desc(), Open311Key.id.desc())
    ))


def open311_key_revoke(key_id: int, *, actor: Any) -> Open311Key:
    """Revoke a key (idempotent); raise NotFound for an unknown id."""
    _require_key_keeper(actor)
    key = db.session.get(Open311Key, key_id)
    if key is None:
        raise NotFound(str(key_id))
    if key.revoked_at is None:
        key.revoked_at = utc_now()
        audit_record(actor, "open311.key_revoke", "open311_key", key.id, from_state="active",
                     to_state="revoked")
        db.session.commit()
        log.info("open311 key %d revoked", key.id)
    return key


def open311_key_authenticate(plaintext: str | None) -> Open311Key | None:
    """Return the active key matching a plaintext, or None (unknown, revoked or empty)."""
    stored = credential_lookup_hash(plaintext, KEY_PREFIX)
    if stored is None:
        return None
    key = db.session.scalar(select(Open311Key).where(Open311Key.key_hash == stored))
    if key is None or key.revoked_at is not None:
        return None
    credential_touch(key)
    return key
