"""Error reporting to Sentry (or a compatible service) when SENTRY_DSN is set; else nothing.

Unhandled errors and logged errors go to the service with the release and the request id, and
without personal data (docs/definitions.md, "Privacy"), removed before anything is sent:

- never collected: the user (address, cookies), request bodies, local variables of the
  stack frames, the query string and every request header but a few harmless ones;
- scrubbed in what remains (the URL, exception and log messages, breadcrumbs, extra data):
  tracking codes in any spelling, e-mail addresses, phone numbers, NIK/KK numbers
  (:func:`portal.web.ops.scrub.scrub_text`), and the value of every field named like an
  identity or a citizen's text (name, email, phone, code, body...).
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from flask import Flask

from portal.web.access_log import mask_tracking_codes
from portal.web.ops.logs import REQUEST_ID_HEADER, current_request_id
from portal.web.ops.scrub import scrub_text
from portal.web.ops.version import version_of

FILTERED = "[Filtered]"
# Fields whose value is an identity, a place, a tracking code or a citizen's text.
PERSONAL_FIELDS = frozenset({
    "name", "full_name", "first_name", "last_name", "reporter_name",
    "email", "reporter_email", "to_address", "phone", "reporter_phone",
    "address_string", "lat", "long", "latitude", "longitude",
    "code", "tracking_code", "subject", "body", "reason", "text", "description",
    "password", "password_confirm", "api_key", "token",
})
# Request headers sent with an event; the others (Cookie, Authorization, Referer that may
# hold a code or a search...) are dropped.
KEPT_HEADERS = frozenset({"accept", "accept-language", "content-length", "content-type",
                          "host", "user-agent", REQUEST_ID_HEADER.lower()})
# Parts of an event that describe the SDK and the machine, not the request: left as they are.
_NOT_SCRUBBED = frozenset({"sdk", "modules", "debug_meta", "contexts"})


def _scrubbed(value: Any) -> Any:
    """Return value with personal fields filtered and every text scrubbed (recursively)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: FILTERED if isinstance(key, str) and key.lower() in PERSONAL_FIELDS
            and value[key] not in (None, "") else _scrubbed(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    return value


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove personal data from an event before it is sent (Sentry's before_send)."""
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "env", "query_string"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = mask_tracking_codes(request["url"].partition("?")[0])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {name: value for name, value in headers.items()
                                  if name.lower() in KEPT_HEADERS}
    scrubbed = {key: value if key in _NOT_SCRUBBED else _scrubbed(value)
                for key, value in event.items()}
    request_id = current_request_id()
    if request_id:
        scrubbed.setdefault("tags", {})["request_id"] = request_id
    return scrubbed


def sentry_options(app: Flask) -> dict[str, Any]:
    """Return the sentry_sdk.init options for the app (its DSN, release and scrubbing)."""
    return {
        "dsn": app.config["SENTRY_DSN"],
        "release": version_of(app.config),
        # send_default_pii is left unset, which is False: no user, address or cookie.
        "include_local_variables": False,
        "max_request_body_size": "never",
        "auto_session_tracking": False,
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
        # Tests give a transport that keeps the events instead of sending them.
        "transport": app.config.get("SENTRY_TRANSPORT"),
    }


def init_error_reporting(app: Flask) -> bool:
    """Start reporting errors to SENTRY_DSN; return False (and do nothing) when it is unset."""
    if not app.config.get("SENTRY_DSN"):
        return False
    sentry_sdk.init(**sentry_options(app))
    return True
