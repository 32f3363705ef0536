"""The one error shape of the JSON API: ``application/problem+json`` (RFC 9457).

Every refusal under /api/ is ``{"type", "title", "status", "detail", "errors"}``: ``type`` is
a URI naming the kind of problem (the developer page explains each, under the anchor
``#problem-<slug>``), ``title`` and ``detail`` are for people, in the answer's language, and
``errors`` lists the problems of single fields, each ``{"field", "index", "code", "message"}``
(``index``: the position of the item in a batch, else null; ``code``: one of
``FIELD_ERROR_CODES``). :func:`init_problems` registers the handlers on the API blueprint once;
the app's own error handlers answer requests under /api/ with :func:`problem_for` too, for the
errors raised before any API view runs (404, 405, 413, 429, 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import Blueprint, Response, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from portal.services.errors import (
    FieldError,
    IdempotencyConflict,
    NotAuthorized,
    NotFound,
    ValidationError,
)
from portal.web.api.language import api_lang
from portal.web.limit_text import rate_limit_text
from portal.web.urls import base_url

PROBLEM_MIMETYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """A kind of problem: its HTTP status, its title and what it means."""

    status: int
    # Lazy strings: translated when an answer or the developer page is written.
    title: str
    explanation: str


# Slug -> kind. The slugs are stable: clients may compare ``type`` with them.
PROBLEM_TYPES: dict[str, ProblemType] = {
    "bad-request": ProblemType(400, _l("The request could not be understood"), _l(
        "The request is malformed; check its syntax and headers.")),
    "invalid-body": ProblemType(400, _l("The request body is not a JSON object"), _l(
        "Send the request body as a JSON object, with Content-Type: application/json.")),
    "unauthorized": ProblemType(401, _l("A valid API token is required"), _l(
        "Send a valid API token in an Authorization: Bearer header.")),
    "forbidden": ProblemType(403, _l("This is not allowed"), _l(
        "The token may not do this, for example report on another department's services.")),
    "not-found": ProblemType(404, _l("Not found"), _l(
        "Nothing exists at this address, or the code is unknown.")),
    "no-wfa-change": ProblemType(404, _l("No change of work mode"), _l(
        "The service has never moved to WFA or hybrid work: there is no before and after.")),
    "method-not-allowed": ProblemType(405, _l("Method not allowed"), _l(
        "This address does not accept that kind of request; the Allow header lists those it "
        "accepts.")),
    "idempotency-conflict": ProblemType(409, _l("Idempotency key already used"), _l(
        "The Idempotency-Key or client_token was already used for a different request.")),
    "payload-too-large": ProblemType(413, _l("The request body is too large"), _l(
        "The request body is larger than the portal accepts.")),
    "report-too-large": ProblemType(413, _l("Too many requests in one report"), _l(
        "A report holds too many requests: send them in several reports.")),
    "validation": ProblemType(422, _l("The request has invalid input"), _l(
        "Some of the input breaks a rule; each problem is listed in errors.")),
    "rate-limited": ProblemType(429, _l("Too many requests"), _l(
        "Too many requests from your address; try again later (see Retry-After).")),
    "server-error": ProblemType(500, _l("Internal error"), _l(
        "The portal could not answer because of an error on its side; it has been logged.")),
    "service-unavailable": ProblemType(503, _l("Temporarily unavailable"), _l(
        "The portal cannot reach its database or storage right now; nothing was recorded. "
        "Send the same request again after the seconds in Retry-After.")),
    "http-error": ProblemType(400, _l("The request could not be handled"), _l(
        "Another HTTP error; its status says which.")),
}

# The HTTP errors raised outside the API views, by status.
_SLUG_BY_STATUS = {400: "bad-request", 403: "forbidden", 404: "not-found",
                   405: "method-not-allowed", 413: "payload-too-large", 429: "rate-limited",
                   500: "server-error", 503: "service-unavailable"}


def problem_type_uri(slug: str) -> str:
    """Return the ``type`` URI of a kind of problem: its explanation on the developer page."""
    return f"{base_url()}/developers#problem-{slug}"


def field_errors_json(errors: Iterable[FieldError]) -> list[dict]:
    """Return field problems as the API writes them: field, index, code and message."""
    return [{"field": e.field, "index": e.index, "code": e.code, "message": str(e.error)}
            for e in errors]


def problem(
    slug: str,
    detail: str | None = None,
    *,
    errors: Iterable[FieldError] = (),
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Answer a problem of the given kind; ``detail`` says what went wrong this time."""
    kind = PROBLEM_TYPES[slug]
    with force_locale(api_lang()):
        body = {
            "type": problem_type_uri(slug),
            "title": str(kind.title),
            "status": status or kind.status,
            "detail": detail if detail is not None else str(kind.explanation),
            "errors": field_errors_json(errors),
        }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=body["status"],
        mimetype=PROBLEM_MIMETYPE,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_for(error: Exception) -> Response:
    """Answer an error raised while serving an API request with its problem."""
    # Also for errors raised before the API chose the language (no route matched).
    with force_locale(api_lang()):
        return _problem_for(error)


def _problem_for(error: Exception) -> Response:
    if isinstance(error, ValidationError):
        return problem("validation", errors=error.errors)
    if isinstance(error, NotFound):
        return problem("not-found")
    if isinstance(error, NotAuthorized):
        return problem("forbidden")
    if isinstance(error, IdempotencyConflict):
        return problem("idempotency-conflict", _(
            "This Idempotency-Key or client_token was already used for a different request. "
            "Send new feedback with a new key; send the same request again to get the "
            "feedback it created."
        ))
    if isinstance(error, RateLimitExceeded):
        return problem("rate-limited", _(
            "Too many requests from your address (at most %(limit)s); try again later.",
            limit=rate_limit_text(error.limit.limit),
        ))
    if isinstance(error, HTTPException):
        return _http_problem(error)
    return problem("server-error")


def _http_problem(error: HTTPException) -> Response:
    """Answer an HTTP error (raised by routing, the request parser or abort) as a problem."""
    status = error.code or 500
    slug = _SLUG_BY_STATUS.get(status, "server-error" if status >= 500 else "http-error")
    # Keep what the error needs to say in headers (Allow on a 405, Retry-After...).
    headers = {name: value for name, value in error.get_headers()
               if name.lower() != "content-type"}
    detail = None
    if slug == "http-error":
        detail = _("The request could not be handled (HTTP %(status)d).", status=status)
    return problem(slug, detail, status=status, headers=headers)


def init_problems(bp: Blueprint) -> None:
    """Answer every error raised by the blueprint's views with its problem."""
    for error_class in (ValidationError, NotFound, NotAuthorized, IdempotencyConflict,
                        RateLimitExceeded, HTTPException):
        bp.register_error_handler(error_class, problem_for)
