"""JSON API v1: departments report requests; anyone reads services, status and metrics.

Writes authenticate by ``Authorization: Bearer TOKEN`` alone (no cookie, no CSRF token);
a token writes only for its own department. Reads are public. Every timestamp is ISO 8601
with its offset (WIB, +07:00).
"""

from __future__ import annotations

import json
from datetime import date, datetime

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import refresh
from werkzeug.exceptions import RequestEntityTooLarge

from portal.domain.calendar import to_wib
from portal.extensions import csrf
from portal.i18n import languages, localized
from portal.models.catalogue import Service
from portal.services.catalogue import directory as catalogue
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError
from portal.services.metrics.figures import metrics_for_service, metrics_window_problems
from portal.services.metrics.reporting import service_last_reported
from portal.services.metrics.service_requests import (
    BatchTooLarge,
    ForeignServices,
    service_requests_report,
)
from portal.services.metrics.status import status_for_services, status_reason_text
from portal.services.metrics.tokens import token_authenticate
from portal.web.public.live import cached_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def _api_language() -> None:
    """Answer in ?lang=id|en, else the Accept-Language preference, else the default."""
    lang = request.args.get("lang", "")
    if lang not in languages():
        lang = request.accept_languages.best_match(languages()) or (
            current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    g.lang = lang
    refresh()


@bp.after_request
def _api_headers(response):
    """Set no language cookie on API answers (they vary by language instead)."""
    g.pop("lang", None)  # the app's _remember_lang runs after this and sets no cookie then
    response.headers.add("Vary", "Accept-Language")
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


def _errors_json(errors: list[FieldError]) -> list[dict]:
    """Return validation errors as the API's [{"index", "field", "error"}] list."""
    return [{"index": e.index, "field": e.field, "error": e.error} for e in errors]


def _iso(value: datetime | None) -> str | None:
    """Return a timestamp as ISO 8601 in WIB with its offset."""
    return to_wib(value).isoformat() if value is not None else None


def _bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _unauthorized():
    """Answer 401 with the challenge a client needs."""
    response = jsonify(error="unauthorized", message=_("A valid API token is required."))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="pantau-layanan"'
    return response


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    return jsonify(error="payload_too_large", message=_("The request body is too large.")), 413


@bp.post("/service-requests")
def service_requests_post():
    """Store a department's report of service requests, all or nothing."""
    token = token_authenticate(_bearer_token())
    if token is None:
        return _unauthorized()
    payload = request.get_json(silent=True)
    if payload is None:
        errors = [FieldError("body", _("must be a JSON object"))]
        return jsonify(_errors_json(errors)), 400
    try:
        summary = service_requests_report(token.department, payload)
    except BatchTooLarge as error:
        message = _("At most %(n)d requests may be sent in one report.", n=error.limit)
        return jsonify(error="too_many_requests_in_report", message=message), 413
    except ForeignServices as error:
        message = _("This token may only report on its own department's services.")
        return jsonify(error="forbidden", message=message, services=error.codes), 403
    except ValidationError as error:
        return jsonify(_errors_json(error.errors)), 422
    current_app.logger.info(
        "api token %d reported %d created, %d updated", token.id, summary.created,
        summary.updated,
    )
    return jsonify(created=summary.created, updated=summary.updated)


def _parse_day(name: str, errors: list[FieldError]) -> date | None:
    """Read a YYYY-MM-DD query parameter, appending a problem to errors."""
    raw = request.args.get(name, "")
    if not raw:
        errors.append(FieldError(name, _("is required, written YYYY-MM-DD")))
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, _("must be a date written YYYY-MM-DD")))
        return None


@bp.get("/services/<code>/metrics")
def service_metrics(code: str):
    """Return a service's metrics over the WIB dates from..to inclusive."""
    service = catalogue.service_get(code)
    errors: list[FieldError] = []
    from_date, to_date = _parse_day("from", errors), _parse_day("to", errors)
    if from_date and to_date:
        errors.extend(metrics_window_problems(from_date, to_date))
    if errors:
        return jsonify(_errors_json(errors)), 422
    assert from_date is not None and to_date is not None
    return _conditional(metrics_for_service(service, from_date, to_date).as_json())


def _service_json(service: Service, view, last_reported: datetime | None) -> dict:
    """Return one service's catalogue facts, status and 30-day metrics."""
    metrics = view.metrics or None
    return {
        "code": service.code,
        "name": str(localized(service, "name")),
        "department": {
            "code": service.department.code,
            "name": str(localized(service.department, "name")),
        },
        "work_mode": service.work_mode,
        "work_mode_since": service.work_mode_since.isoformat() if service.work_mode_since
        else None,
        "commitment": {
            "value": service.commitment_value,
            "unit": service.commitment_unit,
            "on_time_target": service.on_time_target,
            "first_response": None if service.first_response_value is None else {
                "value": service.first_response_value,
                "unit": service.first_response_unit,
            },
        },
        "online_url": service.online_url or None,
        "status": view.status,
        "status_reason": status_reason_text(view),
        "status_computed_at": _iso(view.computed_at),
        "last_reported_at": _iso(last_reported),
        "metrics_30_days": metrics,
    }


def _conditional(body: object):
    """Answer JSON with a strong ETag, and 304 when the client already has it."""
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        mimetype="application/json",
    )
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/services")
def services_list():
    """List every service with its status and 30-day metrics."""

    def build() -> dict:
        services = catalogue.service_search(
            request.args.get("q", "")[:100], request.args.get("department", "")[:64],
            request.args.get("mode", ""),
        )
        ids = [s.id for s in services]
        views = status_for_services(ids)
        reported = service_last_reported(ids)
        return {
            "services": [_service_json(s, views[s.id], reported.get(s.id)) for s in services],
        }

    return cached_json(build)


@bp.get("/services/<code>")
def service_detail(code: str):
    """Return one service with its status and 30-day metrics."""

    def build() -> dict:
        service = catalogue.service_get(code)
        view = status_for_services([service.id])[service.id]
        reported = service_last_reported([service.id]).get(service.id)
        return _service_json(service, view, reported)

    return cached_json(build)


@bp.errorhandler(NotFound)
def _not_found(error):
    return jsonify(error="not_found"), 404


@bp.errorhandler(NotAuthorized)
def _forbidden(error):
    return jsonify(error="forbidden"), 403

