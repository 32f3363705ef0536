"""JSON API for feedback, for apps, chat bots and other systems: /api/v1/feedback.

No cookies and no CSRF token: the API is exempt from CSRF and rate-limited per client
instead. It calls the same services as the HTML pages. Texts meant for people (the routing
reason, department and service names, error messages) come in the language asked for with
``?lang=id|en`` or ``Accept-Language`` (Indonesian by default). Timestamps are ISO 8601 with
the WIB offset.
"""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from portal.extensions import csrf, feedback_rate_limit, limiter, tracking_lookup_limit
from portal.i18n import languages
from portal.services.errors import FieldError, ValidationError, must_be_one_of
from portal.services.feedback.citizen import feedback_get, feedback_submit
from portal.services.feedback.public_view import FeedbackPublicView, feedback_public_view
from portal.web.api.answers import api_json, json_answer
from portal.web.api.blueprint import bp, never_stored
from portal.web.api.problems import problem
from portal.web.urls import absolute_url_for, base_url

# The keys a client may send; anything else is refused, so that a misspelt "anonymous"
# cannot silently store an identity.
ACCEPTED_KEYS = {
    "kind", "service", "subject", "body", "regency", "name", "email", "phone",
    "anonymous", "confidential", "publish", "integrity", "lang", "client_token",
}

# What the answer to a new feedback repeats of its public view (followed by its address).
CREATED_KEYS = ("tracking_code", "status", "department", "routing_rule", "routing_reason",
                "deadlines")


def _created_body(view: FeedbackPublicView, reporter_lang: str) -> dict:
    """Return the answer to a new feedback: its routing and deadlines, and its page's address."""
    public = api_json(view.as_dict())
    body = {key: public[key] for key in CREATED_KEYS}
    body["url"] = f"{base_url()}/{reporter_lang}/feedback/{view.tracking_code}"
    return body


def _envelope_problems(payload: dict) -> list[FieldError]:
    """Return the problems of the keys the API reads itself: unknown keys, lang, client_token."""
    errors = [FieldError(str(key)[:64], _("is not a field of feedback"), code="unknown_field")
              for key in sorted(set(payload) - ACCEPTED_KEYS, key=str)]
    lang = payload.get("lang")
    if lang is not None and lang not in languages():
        errors.append(FieldError("lang", must_be_one_of(languages()), code="invalid_choice"))
    token = payload.get("client_token")
    if token is not None and not isinstance(token, str):
        errors.append(FieldError("client_token", _("must be text"), code="invalid_type"))
    return errors


@bp.post("/feedback")
@never_stored
@csrf.exempt  # apps and bots send no cookie; the rate limit guards this door instead
@limiter.limit(feedback_rate_limit)
def feedback_create():
    """File feedback; 201 with its tracking code, routing and deadlines (Location: its view).

    A key (``Idempotency-Key`` header or ``client_token``) sent again with the same request
    gives the same 201 answer; with a different request, 409 Conflict.
    """
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return problem("invalid-body")
    errors = _envelope_problems(payload)
    if errors:
        raise ValidationError(errors)
    reporter_lang = payload.get("lang") or g.lang
    header_key = request.headers.get("Idempotency-Key")
    token = header_key if header_key is not None else payload.get("client_token")
    feedback = feedback_submit(payload, reporter_lang, client_token=token)
    view = feedback_public_view(feedback, g.lang)
    response = json_answer(_created_body(view, reporter_lang), status=201)
    response.headers["Location"] = absolute_url_for("api.feedback_read",
                                                    code=view.tracking_code)
    return response


@bp.get("/feedback/<code>")
@never_stored
@tracking_lookup_limit()
def feedback_read(code: str):
    """Return the public view of one feedback: never a name, e-mail or phone."""
    view = feedback_public_view(feedback_get(code), g.lang)
    return json_answer(view.as_dict())
