"""Bearer credentials (department API tokens, Open311 keys): shown once, stored hashed.

A credential is a prefix naming its kind and 256 random bits. Only its SHA-256 is stored (a
slow hash adds nothing to a secret that long) and logs name it by row id, never by value.
Its ``last_used_at`` is a hint for administrators, refreshed at most once a minute so that an
authenticated read does not become a write each time.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from portal.domain.calendar import utc_now
from portal.extensions import db

# A plaintext longer than this is no credential of ours: refused before hashing.
MAX_CREDENTIAL_LENGTH = 200
LAST_USED_RESOLUTION = timedelta(minutes=1)

__all__ = [
    "LAST_USED_RESOLUTION",
    "MAX_CREDENTIAL_LENGTH",
    "credential_hash",
    "credential_lookup_hash",
    "credential_new",
    "credential_touch",
]


def credential_hash(plaintext: str) -> str:
    """Return the stored form of a credential."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def credential_new(prefix: str) -> tuple[str, str]:
    """Return a new credential of a kind and its stored form: (plaintext, hash)."""
    plaintext = prefix + secrets.token_urlsafe(32)
    return plaintext, credential_hash(plaintext)


def credential_lookup_hash(plaintext: str | None, prefix: str) -> str | None:
    """Return the hash to look a presented credential up by, or None if it cannot be ours."""
    if (not plaintext or not plaintext.startswith(prefix)
            or len(plaintext) > MAX_CREDENTIAL_LENGTH):
        return None
    return credential_hash(plaintext)


def credential_touch(row: Any) -> None:
    """Record that a credential was used now (at most once a minute), committing."""
    now = utc_now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.session.commit()
