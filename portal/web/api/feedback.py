"""JSON API for feedback, for apps, chat bots and other systems: /api/v1/feedback.

No cookies and no CSRF token: the API is exempt from CSRF and rate-limited per client
instead. It calls the same services as the HTML pages. Texts meant for people (the routing
reason, department and service names, error messages) come in the language asked for with
``?lang=id|en`` or ``Accept-Language`` (Indonesian by default). Timestamps are ISO 8601 with
their time zone (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded

from portal.extensions import csrf, feedback_rate_limit, limiter
from portal.services.errors import FieldError, IdempotencyConflict, NotFound, ValidationError
from portal.services.feedback.citizen import feedback_get, feedback_public_view, feedback_submit

bp = Blueprint("feedback_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# The keys a client may send; anything else is refused, so that a misspelt "anonymous"
# cannot silently store an identity.
ACCEPTED_KEYS = {
    "kind", "service", "subject", "body", "regency", "name", "email", "phone",
    "anonymous", "confidential", "publish", "lang", "client_token",
}


def _api_lang() -> str:
    """Return the language of texts in the answer: ?lang=, then Accept-Language, then default."""
    languages = tuple(current_app.config["PORTAL_LANGUAGES"])
    wanted = request.args.get("lang", "")
    if wanted in languages:
        return wanted
    return request.accept_languages.best_match(languages) or languages[0]


def _jsonable(value: Any) -> Any:
    """Turn datetimes into ISO 8601 strings, recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _validation_response(error: ValidationError):
    return jsonify(
        error="validation",
        errors=[{"field": e.field, "message": e.error} for e in error.errors],
    ), 422


@bp.post("/feedback")
@limiter.limit(feedback_rate_limit)
def feedback_create():
    """File feedback; 201 with its tracking code, routing and deadlines, or 422.

    A key (``Idempotency-Key`` header or ``client_token``) sent again with the same request
    gives the same 201 answer; with a different request, 409 Conflict.
    """
    lang = _api_lang()
    payload = request.get_json(silent=True)
    with force_locale(lang):
        if not isinstance(payload, dict):
            return jsonify(error="invalid_json", message="Send a JSON object."), 400
        unknown = sorted(set(payload) - ACCEPTED_KEYS)
        if unknown:
            return _validation_response(
                ValidationError([_unknown(key) for key in unknown])
            )
        reporter_lang = payload.get("lang") if payload.get("lang") in (
            current_app.config["PORTAL_LANGUAGES"]
        ) else lang
        token = request.headers.get("Idempotency-Key") or payload.get("client_token")
        if token is not None and not isinstance(token, str):
            token = ""
        try:
            feedback = feedback_submit(payload, reporter_lang, client_token=token or None)
        except ValidationError as error:
            return _validation_response(error)
        except IdempotencyConflict:
            return jsonify(
                error="idempotency_conflict",
                message=_(
                    "This Idempotency-Key or client_token was already used for a different "
                    "request. Send new feedback with a new key; send the same request again "
                    "to get the feedback it created."
                ),
            ), 409
        view = feedback_public_view(feedback, lang)
    body = {
        "tracking_code": view["tracking_code"],
        "status": view["status"],
        "department": view["department"],
        "routing_rule": view["routing_rule"],
        "routing_reason": view["routing_reason"],
        "deadlines": view["deadlines"],
        "url": f"{current_app.config['PORTAL_BASE_URL'].rstrip('/')}/{reporter_lang}"
               f"/feedback/{view['tracking_code']}",
    }
    return jsonify(_jsonable(body)), 201


def _unknown(key: str) -> FieldError:
    return FieldError(str(key)[:64], _("is not a field of feedback"))


@bp.get("/feedback/<code>")
def feedback_read(code: str):
    """Return the public view of one feedback: never a name, e-mail or phone."""
    lang = _api_lang()
    try:
        feedback = feedback_get(code)
    except NotFound:
        return jsonify(error="not_found"), 404
    with force_locale(lang):
        view = feedback_public_view(feedback, lang)
    return jsonify(_jsonable(view))


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error: RateLimitExceeded):
    """Answer JSON when a client sends too much (the limit is per client address)."""
    response = jsonify(error="rate_limited", limit=str(error.description))
    response.status_code = 429
    return response


@bp.after_request
def no_cookies(response):
    """The API is for programs: no cookie is ever set, nothing is cached."""
    response.headers.pop("Set-Cookie", None)
    response.headers["Cache-Control"] = "no-store"
    return response
