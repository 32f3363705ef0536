"""Configuration classes: every key comes from the environment with a safe default."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1", "true", "yes" mean true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-safe defaults; the embedded SQLite database when nothing is set."""

    # Signing key for sessions and CSRF tokens. Must be set in production.
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    # SQLAlchemy URL; PostgreSQL in production (postgresql+psycopg://user@host/db).
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Languages offered, the first is the default (Bahasa Indonesia first).
    PORTAL_LANGUAGES = ("id", "en")
    BABEL_DEFAULT_LOCALE = "id"
    # Every date and time is shown in WIB.
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    # Redis URL for rate-limit counters shared by all gunicorn workers (memory when unset).
    REDIS_URL = os.environ.get("REDIS_URL", "")
    # Send session cookies over HTTPS only; set PORTAL_SECURE_COOKIES=1 in production.
    SESSION_COOKIE_SECURE = _env_bool("PORTAL_SECURE_COOKIES", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # CSRF tokens live as long as the session: long forms on slow phones must not expire.
    WTF_CSRF_TIME_LIMIT = None
    # The province's name shown in headers and reports.
    PORTAL_PROVINCE_NAME = os.environ.get("PORTAL_PROVINCE_NAME", "Kalimantan Tengah")
    # Largest accepted request body (bytes): 3 attachments of 5 MB plus the form.
    MAX_CONTENT_LENGTH = int(os.environ.get("PORTAL_MAX_CONTENT_LENGTH", 16 * 1024 * 1024))
    TESTING = False


class TestConfig(Config):
    """Settings for the test suite: CSRF stays on (tests must prove it)."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
