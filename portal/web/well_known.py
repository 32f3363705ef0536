"""``/.well-known/security.txt`` (RFC 9116): whom to tell about a vulnerability of the portal.

The contact comes from PORTAL_SECURITY_CONTACT (the province's CSIRT by default); the file
expires a year after the day it is served, so it never goes stale while the portal runs.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, Response, current_app

from portal.domain.calendar import UTC, utc_now

bp = Blueprint("well_known", __name__)

# RFC 9116 advises an Expires less than a year ahead: a year from the start of today (UTC).
EXPIRES_AFTER = timedelta(days=365)


def security_contacts(setting: str) -> list[str]:
    """Return the Contact URIs of a setting: comma separated; a bare address gets mailto:."""
    contacts = []
    for item in setting.split(","):
        item = item.strip()
        if item:
            contacts.append(item if ":" in item else f"mailto:{item}")
    return contacts


def security_txt(now: datetime | None = None) -> str:
    """Return the text of security.txt, expiring a year after the start of today (UTC)."""
    today = (now or utc_now()).astimezone(UTC).date()
    expires = datetime.combine(today, time(0, 0), tzinfo=UTC) + EXPIRES_AFTER
    config = current_app.config
    lines = [f"Contact: {contact}"
             for contact in security_contacts(config["PORTAL_SECURITY_CONTACT"])]
    lines += [
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "Preferred-Languages: id, en",
        f"Canonical: {config['PORTAL_BASE_URL'].rstrip('/')}/.well-known/security.txt",
    ]
    return "\n".join(lines) + "\n"


@bp.get("/.well-known/security.txt")
def security():
    """Serve security.txt as plain UTF-8 text, cacheable for a day."""
    response = Response(security_txt(), mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
