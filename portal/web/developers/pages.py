"""The developer page (/<lang>/developers): the APIs, feeds and downloads, with curl examples.

One page in both languages, without JavaScript. The examples are built here from the portal's
configured address (PORTAL_BASE_URL, never the request's Host), so they can be copied and
run as they are; placeholders in capitals (SERVICE_CODE, TOKEN...) stand for what only the
reader knows. It also explains every kind of API error: the ``type`` of a problem
(``/developers#problem-<slug>``) points here.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from portal.domain.calendar import utc_now, wib_date
from portal.i18n import current_lang, preferred_lang
from portal.services.errors import FIELD_ERROR_CODES
from portal.services.metrics.service_requests import MAX_BATCH
from portal.web.api.problems import PROBLEM_TYPES
from portal.web.limit_text import rate_limit_text
from portal.web.public.live import public_page
from portal.web.urls import absolute_path, base_url

bp = Blueprint("developers", __name__)


@dataclass(frozen=True)
class Example:
    """One copy-paste example: what it does, and the command."""

    anchor: str
    title: str
    command: str
    note: str = ""


def _path(endpoint: str, **values: object) -> str | None:
    """Return the absolute address of an endpoint, or None when the portal has no such page."""
    try:
        return absolute_path(url_for(endpoint, **values))
    except BuildError:
        return None


def _curl(url: str, *options: str) -> str:
    """Write a curl command: the address last, and each option on a line of its own."""
    if not options:
        return f'curl -s "{url}"'
    return " \\\n  ".join(["curl -s", *options, f'"{url}"'])


def _api_examples(lang: str) -> list[Example]:
    """Return the examples of the JSON API v1."""
    base = base_url()
    today = wib_date(utc_now())
    month_ago = today - timedelta(days=29)
    feedback_body = json.dumps({
        "kind": "complaint",
        "service": "SERVICE_CODE",
        "subject": _("The queue is too long"),
        "body": _("I waited three hours at the counter."),
        "email": "citizen@example.com",
        "publish": True,
    }, ensure_ascii=False)
    report_body = json.dumps({"requests": [{
        "service": "SERVICE_CODE", "id": "2025-000123",
        "received_at": f"{month_ago.isoformat()}T09:15:00+07:00",
        "completed_at": f"{month_ago.isoformat()}T14:00:00+07:00", "channel": "counter",
    }]}, ensure_ascii=False)
    return [
        Example("api-services", _("List every service with its status and 30-day figures"),
                _curl(f"{base}/api/v1/services?lang={lang}")),
        Example("api-search", _("Search services by words, department or work mode"),
                _curl(f"{base}/api/v1/services?q=pajak&mode=wfa&lang={lang}")),
        Example("api-service", _("Read one service"),
                _curl(f"{base}/api/v1/services/SERVICE_CODE?lang={lang}"),
                _("Replace SERVICE_CODE with the code of a service from the list.")),
        Example("api-metrics", _("Figures of one service over any period of up to 366 days"),
                _curl(f"{base}/api/v1/services/SERVICE_CODE/metrics"
                      f"?from={month_ago.isoformat()}&to={today.isoformat()}")),
        Example("api-wfa", _("Did the service get slower after it moved to WFA?"),
                _curl(f"{base}/api/v1/services/SERVICE_CODE/wfa-impact?lang={lang}")),
        Example("api-accountability", _("Every department's scorecard over the last 90 days"),
                _curl(f"{base}/api/v1/accountability?period=90&lang={lang}")),
        Example("api-accountability-csv", _("The same scorecards as a CSV file"),
                _curl(f"{base}/api/v1/accountability.csv?period=90&lang={lang}", "-OJ"),
                _("-OJ saves the file under the name the portal gives it; .xlsx gives an "
                  "Excel workbook.")),
        Example("api-feedback-new", _("File feedback for a citizen"),
                _curl(f"{base}/api/v1/feedback?lang={lang}", "-X POST",
                      "-H 'Content-Type: application/json'",
                      f"-H 'Idempotency-Key: my-app-{lang}-000001'",
                      f"-d {shlex.quote(feedback_body)}"),
                _("The answer (201) holds the tracking code to give the citizen, where the "
                  "feedback went and why, and its deadlines; the Location header is its "
                  "address in the API. Sending the same Idempotency-Key again with the same "
                  "request creates nothing new.")),
        Example("api-feedback-read", _("Track feedback by its tracking code"),
                _curl(f"{base}/api/v1/feedback/TRACKING_CODE?lang={lang}"),
                _("Never shows a name, e-mail address or phone number.")),
        Example("api-report", _("A department reports the requests it handled"),
                _curl(f"{base}/api/v1/service-requests", "-X POST",
                      "-H 'Authorization: Bearer TOKEN'",
                      "-H 'Content-Type: application/json'", f"-d {shlex.quote(report_body)}"),
                _("At most %(n)d requests in one report; all of them are stored, or none.",
                  n=MAX_BATCH)),
        Example("api-openapi", _("The description of every operation (OpenAPI 3.1)"),
                _curl(f"{base}/api/v1/openapi.json")),
    ]


def _open311_examples(lang: str) -> list[Example]:
    """Return the Open311 GeoReport v2 examples, when the portal serves it."""
    if not any(rule.rule.startswith("/open311/v2/")
               for rule in current_app.url_map.iter_rules()):
        return []
    base = f"{base_url()}/open311/v2"
    return [
        Example("open311-discovery", _("What this Open311 endpoint offers"),
                _curl(f"{base}/discovery.json")),
        Example("open311-services", _("The services you can file a request about"),
                _curl(f"{base}/services.xml?lang={lang}"),
                _("Every address ends in .json or .xml.")),
        Example("open311-requests", _("Published requests that are still open"),
                _curl(f"{base}/requests.json?status=open&lang={lang}")),
        Example("open311-post", _("File a request with an Open311 key"),
                _curl(f"{base}/requests.json", "-X POST", "-d api_key=API_KEY",
                      "-d service_code=SERVICE_CODE",
                      "--data-urlencode "
                      + shlex.quote("description=" + _("The queue is too long")),
                      "--data-urlencode 'attribute[kind]=complaint'"),
                _("The answer holds the tracking code as service_request_id.")),
    ]


def _data_examples(lang: str) -> list[Example]:
    """Return the examples of the feeds and the open-data downloads that the portal has."""
    examples = []
    for anchor, title, endpoint, values, options in (
        ("data-csv", _("Download a dataset as CSV"), "data.download", {"name": "services"},
         ("-OJ",)),
        ("data-package", _("The data dictionary of every dataset (Frictionless Data Package)"),
         "data.datapackage", {}, ()),
        ("data-catalogue", _("The catalogue for harvesters (DCAT-AP, JSON-LD)"),
         "data.catalogue", {}, ()),
        ("feed-incidents", _("Incidents and planned maintenance as an Atom feed"),
         "feeds.province", {"lang": lang}, ()),
        ("feed-service", _("One service's status changes, incidents and planned maintenance "
                           "as an Atom feed"),
         "feeds.service", {"lang": lang, "code": "SERVICE_CODE"}, ()),
        ("badge-service", _("One service's status badge (SVG), for another website"),
         "badges.service", {"code": "SERVICE_CODE", "lang": lang}, ()),
    ):
        url = _path(endpoint, **values)
        if url:
            examples.append(Example(anchor, title, _curl(url, *options)))
    return examples


def _problem_example() -> str:
    """Return an example error answer, as the API writes it, indented for reading."""
    return json.dumps({
        "type": f"{base_url()}/developers#problem-validation",
        "title": str(PROBLEM_TYPES["validation"].title),
        "status": 422,
        "detail": str(PROBLEM_TYPES["validation"].explanation),
        "errors": [{"field": "received_at", "index": 1, "code": "invalid_format",
                    "message": _("must carry a time zone offset, e.g. +07:00")}],
    }, ensure_ascii=False, indent=2)


@bp.get("/<lang>/developers")
@public_page
def page() -> str:
    """Explain the APIs, feeds and downloads, with examples to copy."""
    lang = current_lang()
    return render_template(
        "developers/index.html",
        api_examples=_api_examples(lang),
        open311_examples=_open311_examples(lang),
        data_examples=_data_examples(lang),
        problem_types=PROBLEM_TYPES,
        problem_example=_problem_example(),
        field_codes=FIELD_ERROR_CODES,
        openapi_url=absolute_path(url_for("api.openapi_json")),
        feedback_limit=rate_limit_text(current_app.config["PORTAL_FEEDBACK_RATE_LIMIT"]),
        max_batch=MAX_BATCH,
        data_page=_path("data.index", lang=lang),
    )


@bp.get("/developers")
def page_in_reader_language():
    """Send the reader to the developer page in their language (problem types link here)."""
    response = redirect(url_for("developers.page", lang=preferred_lang()), code=302)
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
