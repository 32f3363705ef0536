"""Configuration classes: every key comes from the environment with a safe default."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def local_secret_key(path: Path = BASE_DIR / "var" / "secret_key") -> str:
    """Return this installation's generated secret key, creating it (mode 0600) once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _attempt in range(50):  # another worker may be writing it this very moment
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty: delete it or set SECRET_KEY") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1", "true", "yes" mean true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-safe defaults; the embedded SQLite database when nothing is set."""

    # Signing key for sessions and CSRF tokens. When unset, a random key is generated once
    # and kept in var/secret_key (so every gunicorn worker shares it); set it in production.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    # SQLAlchemy URL; PostgreSQL in production (postgresql+psycopg://user@host/db).
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}"
    )
    # hide_parameters: a database error's text never quotes the statement's parameters,
    # which may hold a citizen's text or contact details (logs, tracebacks of commands).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
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
    # A staff login lasts a working day at most (hours), then asks for the password again.
    PERMANENT_SESSION_LIFETIME = timedelta(
        hours=int(os.environ.get("PORTAL_STAFF_SESSION_HOURS", "8") or 8)
    )
    # Rendered public pages kept per process at most this long (seconds; 0 turns it off).
    PORTAL_PAGE_CACHE_SECONDS = int(os.environ.get("PORTAL_PAGE_CACHE_SECONDS", "60") or 0)
    # Accountability tables and scorecards of the standard periods served from the figures
    # the jobs store (portal/services/accountability/snapshots.py); 0 computes every visit.
    PORTAL_ACCOUNTABILITY_SNAPSHOTS = _env_bool("PORTAL_ACCOUNTABILITY_SNAPSHOTS", True)
    # After a department's report, the stored accountability figures are recomputed once
    # they are older than this (seconds); the 10-minute status refresh recomputes them too.
    PORTAL_ACCOUNTABILITY_REFRESH_SECONDS = int(
        os.environ.get("PORTAL_ACCOUNTABILITY_REFRESH_SECONDS", "300") or 0)
    # CPU seconds a status refresh may spend rendering the default period's PDF reports whose
    # content changed (portal/web/accountability/prepare.py); 0 leaves them to downloads.
    PORTAL_REPORT_PDF_SECONDS = int(os.environ.get("PORTAL_REPORT_PDF_SECONDS", "120") or 0)
    SESSION_COOKIE_SAMESITE = "Lax"
    # CSRF tokens live as long as the session: long forms on slow phones must not expire.
    WTF_CSRF_TIME_LIMIT = None
    # The province's name shown in headers and reports.
    PORTAL_PROVINCE_NAME = os.environ.get("PORTAL_PROVINCE_NAME", "Kalimantan Tengah")
    # Largest accepted request body (bytes): 3 attachments of 5 MB plus the form.
    MAX_CONTENT_LENGTH = int(os.environ.get("PORTAL_MAX_CONTENT_LENGTH", 16 * 1024 * 1024))
    # Rate limits on or off (tests switch them off except the rate-limit tests).
    PORTAL_RATELIMIT_ENABLED = _env_bool("PORTAL_RATELIMIT_ENABLED", True)
    # Where Flask-Limiter keeps its counters: Redis when REDIS_URL is set, else per process.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "") or "memory://"
    # What the counters' keys start with: portals (or test runs) sharing one Redis each
    # count apart.
    RATELIMIT_KEY_PREFIX = os.environ.get("PORTAL_RATELIMIT_KEY_PREFIX", "")
    # If Redis is down, count in memory per worker rather than refuse every request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Send X-RateLimit-* and Retry-After headers on rate-limited routes.
    RATELIMIT_HEADERS_ENABLED = True
    # Failed staff logins allowed per client address, whatever the username; beyond it that
    # address waits (generous: many staff share one NAT).
    PORTAL_LOGIN_RATE_LIMIT = os.environ.get(
        "PORTAL_LOGIN_RATE_LIMIT", "10 per minute; 50 per hour"
    )
    # Failed staff logins allowed per username from one client address; beyond it that
    # address waits before trying that username again.
    PORTAL_LOGIN_PAIR_RATE_LIMIT = os.environ.get(
        "PORTAL_LOGIN_PAIR_RATE_LIMIT", "5 per minute; 20 per hour"
    )
    # Failed staff logins per username, from all addresses, that make it guarded. This slows
    # guessing down and refuses nobody: an address that has not failed, the rightful user's,
    # may always try.
    PORTAL_LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get(
        "PORTAL_LOGIN_ACCOUNT_RATE_LIMIT", "30 per hour"
    )
    # Failed staff logins allowed per client address for a guarded username (one guess an
    # address, where the pair limit above allows a few).
    PORTAL_LOGIN_GUARDED_RATE_LIMIT = os.environ.get(
        "PORTAL_LOGIN_GUARDED_RATE_LIMIT", "1 per hour"
    )
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PORTAL_TRUSTED_PROXIES = int(os.environ.get("PORTAL_TRUSTED_PROXIES", "0") or 0)
    # Cheap Argon2 parameters: for the test suite only, never in production.
    PORTAL_FAST_PASSWORD_HASHING = False
    # Feedback submissions allowed per client address (HTML form and API). Generous: on
    # Indonesian mobile networks many citizens share one address (carrier-grade NAT).
    PORTAL_FEEDBACK_RATE_LIMIT = os.environ.get("PORTAL_FEEDBACK_RATE_LIMIT", "30 per hour")
    # Look-ups of feedback by tracking code allowed per client address, all doors together
    # (tracking pages, JSON API, Open311): enough for many citizens behind one NAT, too few
    # to guess codes.
    PORTAL_TRACKING_RATE_LIMIT = os.environ.get("PORTAL_TRACKING_RATE_LIMIT", "120 per hour")
    # Whom /.well-known/security.txt names for reporting vulnerabilities (RFC 9116): URIs
    # (mailto: or https:), comma separated; a bare address gets mailto:. The province's CSIRT.
    PORTAL_SECURITY_CONTACT = os.environ.get(
        "PORTAL_SECURITY_CONTACT", "mailto:csirt@kalteng.go.id"
    )
    # Subscription requests (the e-mail subscription form) allowed per client address; each
    # address also gets at most 3 confirmation mails a day, whoever asks.
    PORTAL_SUBSCRIPTION_RATE_LIMIT = os.environ.get("PORTAL_SUBSCRIPTION_RATE_LIMIT", "30 per hour")
    # Hours a subscription's confirmation link stays valid; unconfirmed ones are then deleted.
    PORTAL_SUBSCRIPTION_CONFIRM_HOURS = float(
        os.environ.get("PORTAL_SUBSCRIPTION_CONFIRM_HOURS", "48") or 48
    )
    # Satisfaction-survey answers allowed per client address (same NAT reasoning as above).
    PORTAL_SURVEY_RATE_LIMIT = os.environ.get("PORTAL_SURVEY_RATE_LIMIT", "30 per hour")
    # Where attachments of feedback are stored: outside static/, never served publicly.
    PORTAL_UPLOAD_DIR = os.environ.get(
        "PORTAL_UPLOAD_DIR", str(BASE_DIR / "instance" / "uploads")
    )
    # Where the open-data CSV downloads are kept for the next reader (portal/web/data/kept.py;
    # only while the page cache is on): a directory every worker may write, a gigabyte at most.
    PORTAL_DOWNLOAD_CACHE_DIR = os.environ.get(
        "PORTAL_DOWNLOAD_CACHE_DIR", str(BASE_DIR / "instance" / "downloads")
    )
    # Public address of the portal, used for links in mail sent by commands (no request).
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
    # Address of the licence the open data is published under (data page, data package,
    # catalogue, every CSV's Link header, page footer): CC BY 4.0 unless set otherwise.
    PORTAL_DATA_LICENCE_URL = os.environ.get(
        "PORTAL_DATA_LICENCE_URL", "https://creativecommons.org/licenses/by/4.0/"
    )
    # Short name of that licence, as readers see it.
    PORTAL_DATA_LICENCE_NAME = os.environ.get("PORTAL_DATA_LICENCE_NAME", "CC BY 4.0")
    # The jurisdiction_id the Open311 GeoReport v2 endpoint (/open311/v2) serves; a request
    # naming another one is answered 404.
    PORTAL_OPEN311_JURISDICTION = os.environ.get("PORTAL_OPEN311_JURISDICTION", "kalteng.go.id")
    # Who answers questions about Open311 and issues its keys (free text: an office, an
    # address, a phone), shown in its discovery document.
    PORTAL_OPEN311_CONTACT = os.environ.get(
        "PORTAL_OPEN311_CONTACT", "Diskominfo Provinsi Kalimantan Tengah"
    )
    # Requests one Open311 application key may file (keys: `flask open311 keys create NAME`).
    PORTAL_OPEN311_KEY_RATE_LIMIT = os.environ.get(
        "PORTAL_OPEN311_KEY_RATE_LIMIT", "30 per minute; 1000 per day"
    )
    # Outgoing mail (the outbox worker, `flask outbox send`): SMTP server and credentials.
    PORTAL_SMTP_HOST = os.environ.get("PORTAL_SMTP_HOST", "localhost")
    # SMTP port: 25 (relay), 587 (submission with STARTTLS).
    PORTAL_SMTP_PORT = int(os.environ.get("PORTAL_SMTP_PORT", "25") or 25)
    # SMTP login; empty means no authentication.
    PORTAL_SMTP_USER = os.environ.get("PORTAL_SMTP_USER", "")
    # SMTP password for PORTAL_SMTP_USER.
    PORTAL_SMTP_PASSWORD = os.environ.get("PORTAL_SMTP_PASSWORD", "")
    # Upgrade the SMTP connection with STARTTLS before logging in and sending.
    PORTAL_SMTP_STARTTLS = _env_bool("PORTAL_SMTP_STARTTLS", False)
    # Seconds to wait for the SMTP server before counting the attempt as failed.
    PORTAL_SMTP_TIMEOUT = float(os.environ.get("PORTAL_SMTP_TIMEOUT", "20") or 20)
    # Sender of every mail.
    PORTAL_MAIL_FROM = os.environ.get(
        "PORTAL_MAIL_FROM", "Pantau Layanan <no-reply@pantau.kalteng.go.id>"
    )
    # The version /readyz and error reports name, written at installation time (e.g. the
    # output of `git describe --always --dirty`); when empty, git describe is asked once.
    PORTAL_VERSION = os.environ.get("PORTAL_VERSION", "")
    # Who may read /metrics: client addresses or networks, comma separated
    # ("127.0.0.1, 10.0.0.0/8"); empty lets everyone (the figures hold no personal data).
    PORTAL_METRICS_ALLOW = os.environ.get("PORTAL_METRICS_ALLOW", "")
    # Sentry (or a compatible service such as GlitchTip) receives unhandled errors, with
    # personal data scrubbed, when this DSN is set; nothing is sent when it is empty.
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
    TESTING = False


class TestConfig(Config):
    """Settings for the test suite: CSRF stays on (tests must prove it)."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SESSION_COOKIE_SECURE = False
    # Rate-limit tests switch limits on for themselves; the others run unlimited.
    PORTAL_RATELIMIT_ENABLED = False
    PORTAL_FAST_PASSWORD_HASHING = True
    # Tests see every change at once; the page-cache tests switch it on for themselves.
    PORTAL_PAGE_CACHE_SECONDS = 0
    # Likewise the stored accountability figures (tests/services/accountability switch them on).
    PORTAL_ACCOUNTABILITY_SNAPSHOTS = False
    # Stored figures do not render PDFs unless a test asks (tests/web/accountability).
    PORTAL_REPORT_PDF_SECONDS = 0
