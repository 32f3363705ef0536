"""JSON API v1: departments report requests; anyone reads services, status and metrics.

Writes authenticate by ``Authorization: Bearer TOKEN`` alone (no cookie, no CSRF token);
a token writes only for its own department. Reads are public. Every timestamp is ISO 8601
with the WIB offset (+07:00); every refusal is a problem (``portal.web.api.problems``).
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.extensions import csrf
from portal.i18n import current_lang, localized_text
from portal.models.catalogue import WORK_MODES
from portal.models.metrics import SERVICE_STATUSES
from portal.services.accountability.snapshots import accountability_data_version
from portal.services.catalogue import directory as catalogue
from portal.services.catalogue import search
from portal.services.catalogue.search import ServiceFacts
from portal.services.errors import FieldError, NotFound, ValidationError, must_be_one_of
from portal.services.metrics.figures import metrics_for_service, metrics_window_problems
from portal.services.metrics.service_requests import (
    BatchTooLarge,
    ForeignServices,
    service_requests_report,
)
from portal.services.metrics.status import StatusView, status_reason_in
from portal.services.metrics.tokens import token_authenticate
from portal.web.api.answers import api_date_problem, api_timestamp, json_answer
from portal.web.api.blueprint import bp
from portal.web.api.problems import problem
from portal.web.paging import MAX_PAGE
from portal.web.public.live import JsonText, cached_json, cached_view
from portal.web.urls import absolute_url_for


def _bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


NUL = "\x00"


def _nul_fields(value: Any, where: str = "body") -> list[str]:
    """Return where a JSON value holds a NUL character (in a key or a text), first ten."""
    found: list[str] = []
    if isinstance(value, str):
        return [where] if NUL in value else []
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            found.append(where)
        found.extend(_nul_fields(item, f"{where}.{str(key).replace(NUL, '')}"))
    return found[:10]


def _may_hold_nul(body: bytes) -> bool:
    """Tell whether a JSON body can hold a NUL character, without decoding it.

    Strict JSON (Flask's) writes a NUL in a text only as the escape \\u0000: spelt so in
    UTF-8, and in UTF-16 or UTF-32 with zero bytes. A body with neither holds no NUL, and a
    report's thousands of values need no walk.
    """
    return b"\x00" in body or b"\\u0000" in body


def _foreign_errors(payload: dict, codes: list[str]) -> list[FieldError]:
    """Name each request and reported service of another department, by its position."""
    message = _("belongs to another department")
    foreign = set(codes)
    errors = [
        FieldError("service", message, index, code="other_department")
        for index, item in enumerate(payload.get("requests") or [])
        if isinstance(item, dict) and item.get("service") in foreign
    ]
    errors += [
        FieldError("reported_services", message, index, code="other_department")
        for index, code in enumerate(payload.get("reported_services") or [])
        if code in foreign
    ]
    return errors


@bp.post("/service-requests")
@csrf.exempt  # authenticated by its bearer token alone, never by a cookie
def service_requests_post():
    """Store a department's report of service requests, all or nothing."""
    token = token_authenticate(_bearer_token())
    if token is None:
        return problem("unauthorized", headers={
            "WWW-Authenticate": 'Bearer realm="pantau-layanan"'})
    payload = request.get_json(silent=True)
    if payload is None:
        return problem("invalid-body", errors=[FieldError(
            "body", _("must be a JSON object"), code="invalid_format")])
    nul = _nul_fields(payload) if _may_hold_nul(request.get_data()) else []
    if nul:
        # PostgreSQL refuses NUL in text; no code or id of a request holds one.
        raise ValidationError([FieldError(where, _("must not contain a NUL character"),
                                          code="invalid_format") for where in nul])
    try:
        summary = service_requests_report(token.department, payload)
    except BatchTooLarge as error:
        return problem("report-too-large", _(
            "At most %(n)d requests may be sent in one report.", n=error.limit))
    except ForeignServices as error:
        return problem(
            "forbidden", _("This token may only report on its own department's services."),
            errors=_foreign_errors(payload, error.codes))
    current_app.logger.info(
        "api token %d reported %d created, %d updated", token.id, summary.created,
        summary.updated,
    )
    return json_answer({"created": summary.created, "updated": summary.updated})


def _parse_day(name: str, errors: list[FieldError]) -> date | None:
    """Read a required YYYY-MM-DD query parameter, appending a problem to errors."""
    raw = request.args.get(name, "")
    if not raw:
        errors.append(FieldError(name, _("is required, written YYYY-MM-DD"), code="required"))
        return None
    problem_found = api_date_problem(name, raw)
    if problem_found:
        errors.append(problem_found)
        return None
    return date.fromisoformat(raw)


@bp.get("/services/<code>/metrics")
@cached_view(accountability_data_version)
def service_metrics(code: str):
    """Return a service's metrics over the WIB dates from..to inclusive.

    Served from the page cache while the data versions hold (every report moves the
    departments' last report time), for at most its time-to-live: a period ending today
    counts the requests falling due as the day goes on.
    """
    service = catalogue.service_get(code, related=False)
    errors: list[FieldError] = []
    from_date, to_date = _parse_day("from", errors), _parse_day("to", errors)
    if from_date and to_date:
        errors.extend(metrics_window_problems(from_date, to_date))
    if errors:
        raise ValidationError(errors)
    assert from_date is not None and to_date is not None
    return json_answer(metrics_for_service(service, from_date, to_date).as_json())


# api_timestamp memoised: a page writes a hundred timestamps, the same until the next refresh
# or report, and converting one to WIB costs twenty times looking it up.
_timestamp = lru_cache(maxsize=4096)(api_timestamp)


def _service_fields(facts: ServiceFacts, view: StatusView, lang: str, locale: str) -> dict:
    """Return one service's catalogue facts and status, all but its 30-day metrics (last).

    ``locale``, the active one (the list looks it up once for its dozens of services).
    """
    return {
        "code": facts.code,
        "name": localized_text(lang, facts.name_id, facts.name_en),
        "department": {
            "code": facts.department_code,
            "name": localized_text(lang, facts.department_name_id, facts.department_name_en),
        },
        "work_mode": facts.work_mode,
        "work_mode_since": facts.work_mode_since.isoformat() if facts.work_mode_since
        else None,
        "commitment": {
            "value": facts.commitment_value,
            "unit": facts.commitment_unit,
            "on_time_target": facts.on_time_target,
            "first_response": None if facts.first_response_value is None else {
                "value": facts.first_response_value,
                "unit": facts.first_response_unit,
            },
        },
        "online_url": facts.online_url or None,
        "status": view.status,
        "status_reason": status_reason_in(view, locale),
        "status_computed_at": _timestamp(view.computed_at),
        "last_reported_at": _timestamp(facts.last_reported_at),
    }


def _service_json(facts: ServiceFacts, view: StatusView, lang: str) -> dict:
    """Return one service's catalogue facts, status and 30-day metrics."""
    return {**_service_fields(facts, view, lang, str(get_locale())),
            "metrics_30_days": view.metrics or None}


# How cached_json writes an answer: compact, UTF-8 (json.dumps' own encoder, built once).
_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@lru_cache(maxsize=2048)
def _stored_metrics_json(stored: str) -> str:
    """Return how an answer writes stored metrics JSON: parsed and written compact again.

    Memoised by the stored text (a province's thousand services, until their next refresh):
    a page writes the same fifty again and again, and most of its time went to this.
    """
    return _compact_json(json.loads(stored or "{}") or None)


def _service_text(facts: ServiceFacts, view: StatusView, lang: str, locale: str) -> str:
    """Return one service's JSON as _service_json's dict is written by cached_json."""
    # The stored text while the view has not parsed it (a view evaluated afresh holds a
    # dict): written as parsing it would, without parsing it again.
    stored = view.metrics_text
    metrics = (_stored_metrics_json(stored) if stored is not None
               else _compact_json(view.metrics or None))
    # The metrics are the last member: the object's closing brace makes room for them.
    return (_compact_json(_service_fields(facts, view, lang, locale))[:-1]
            + ',"metrics_30_days":' + metrics + "}")


# Services per page of the API list unless ?per_page says otherwise (1 to MAX_PER_PAGE).
API_PER_PAGE = 50


def _whole_number_arg(name: str, default: int, highest: int) -> int | FieldError:
    """Read a whole-number query parameter from 1 to highest, or say what is wrong with it."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= highest:
        return int(raw)
    return FieldError(name, _("must be a whole number from 1 to %(n)d", n=highest),
                      code="out_of_range")


def _page_link(page: int | None) -> str | None:
    """Return the absolute address of another page of this list, its filters kept."""
    if page is None:
        return None
    args = {k: v for k, v in request.args.items(multi=False) if k != "page"}
    return absolute_url_for("api.services_list", **args, page=page)


@bp.get("/services")
def services_list():
    """List services a page at a time, with status and 30-day metrics.

    ``?q`` (ranked search), ``?department``, ``?mode``, ``?status``, ``?page``, ``?per_page``
    (at most 200: more is a 400).
    """
    if request.args.get("mode", "") not in ("", *WORK_MODES):
        raise ValidationError([FieldError("mode", must_be_one_of(WORK_MODES),
                                          code="invalid_choice")])
    if request.args.get("status", "") not in ("", *SERVICE_STATUSES):
        raise ValidationError([FieldError("status", must_be_one_of(SERVICE_STATUSES),
                                          code="invalid_choice")])
    page = _whole_number_arg("page", 1, MAX_PAGE - 1)
    per_page = _whole_number_arg("per_page", API_PER_PAGE, search.MAX_PER_PAGE)
    bad = [value for value in (page, per_page) if isinstance(value, FieldError)]
    if bad:
        return problem("bad-request", _("The page asked for cannot be served."), errors=bad)
    assert isinstance(page, int) and isinstance(per_page, int)

    def build() -> JsonText:
        lang, locale = current_lang(), str(get_locale())
        found = search.service_facts_page(
            request.args.get("q", "")[:100], request.args.get("department", "")[:64],
            request.args.get("mode", ""), request.args.get("status", ""),
            page=page, per_page=per_page, lang=lang,
        )
        paging = _compact_json({
            "page": found.page.page,
            "per_page": found.page.per_page,
            "total": found.page.total,
            "pages": found.page.pages,
            "next": _page_link(found.page.next_num),
            "prev": _page_link(found.page.prev_num),
        })
        services = ",".join(_service_text(row.facts, row.status, lang, locale)
                            for row in found.page.items)
        # {"services":[...], then the paging's members: the object cached_json would write.
        return JsonText(f'{{"services":[{services}],{paging[1:]}')

    return cached_json(build)


@bp.get("/services/<code>")
def service_detail(code: str):
    """Return one service with its status and 30-day metrics."""

    def build() -> dict:
        facts = search.service_facts(code)
        if facts is None:
            raise NotFound(code)
        return _service_json(facts, search.facts_status([facts])[facts.id], current_lang())

    return cached_json(build)
