"""The secrets of a subscription: its confirmation and unsubscribe tokens, stored hashed.

The confirmation token is random and mailed once. The unsubscribe token must go into every
later mail, yet is stored only as a hash: it is derived from the subscription's random
nonce with the portal's secret key (HMAC-SHA256), so the database alone yields no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app

# 32 random bytes: 256 bits, far beyond guessing.
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def email_hash(address: str) -> str:
    """Return the digest that finds an address's subscriptions (case-insensitive)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def new_confirmation_token() -> str:
    """Return a fresh random confirmation token (URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_nonce() -> str:
    """Return a fresh random nonce for deriving an unsubscribe token."""
    return secrets.token_hex(16)


def unsubscribe_token(nonce: str) -> str:
    """Derive the unsubscribe token of a subscription from its nonce and the secret key."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"subscription-unsubscribe:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
