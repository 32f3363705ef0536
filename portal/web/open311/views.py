"""The GeoReport v2 resources: discovery, services, a service's definition, requests.

Reading needs no key. Filing (``POST requests``) needs an ``api_key`` issued with
``flask open311 keys create NAME``, is limited per key (PORTAL_OPEN311_KEY_RATE_LIMIT), and
files feedback through the same service as the form and the JSON API.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_babel import gettext as _

from portal.extensions import csrf, limiter, tracking_lookup_limit
from portal.i18n import current_lang
from portal.services.accountability.snapshots import accountability_data_version
from portal.services.errors import NotFound
from portal.services.feedback.public_view import feedback_public_view
from portal.services.open311.catalogue import open311_changeset, open311_service, open311_services
from portal.services.open311.filing import open311_request_file
from portal.services.open311.keys import open311_key_authenticate
from portal.services.open311.listing import (
    open311_request,
    open311_request_query,
    open311_requests,
)
from portal.web.open311.blueprint import (
    FORMAT_CONVERTER,
    Open311Error,
    bp,
    document,
    kept_document,
)
from portal.web.open311.present import (
    discovery_document,
    filed_entry,
    request_entry,
    service_definition,
    service_list,
)


def _no_service() -> Open311Error:
    return Open311Error(404, (404, _("There is no service with this code.")))


def _key_rate_limit() -> str:
    """Return the limit on requests one key may file (PORTAL_OPEN311_KEY_RATE_LIMIT)."""
    return current_app.config["PORTAL_OPEN311_KEY_RATE_LIMIT"]


def _key_bucket() -> str:
    """Count filings per api_key sent (a digest of it: the key itself is never stored)."""
    sent = request.form.get("api_key", "")
    return "open311-key:" + hashlib.sha256(f"open311-rate:{sent}".encode()).hexdigest()


@bp.get(f"/discovery.<{FORMAT_CONVERTER}:format>")
def discovery(format: str):
    """Say where the endpoint is, in which formats, and how to get a key."""
    return kept_document("discovery", lambda: discovery_document(open311_changeset()))


@bp.get(f"/services.<{FORMAT_CONVERTER}:format>")
def services(format: str):
    """List every catalogue service as an Open311 service."""
    return kept_document("services", lambda: service_list(open311_services()))


@bp.get(f"/services/<service_code>.<{FORMAT_CONVERTER}:format>")
def service_definition_read(service_code: str, format: str):
    """Give a service's definition: the attributes of feedback (404 for an unknown code)."""
    try:
        return kept_document("service_definition",
                             lambda: service_definition(open311_service(service_code)))
    except NotFound:
        raise _no_service() from None


@bp.post(f"/requests.<{FORMAT_CONVERTER}:format>")
@csrf.exempt  # applications send no cookie; the api_key and its rate limit guard this door
@limiter.limit(_key_rate_limit, key_func=_key_bucket)
def request_create(format: str):
    """File feedback; answer its tracking code and what happens next (403 without a key)."""
    key = open311_key_authenticate(request.form.get("api_key"))
    if key is None:
        raise Open311Error(403, (403, _(
            "A valid api_key is needed to file requests. Reading needs none.")))
    lang = current_lang()
    try:
        feedback = open311_request_file(key, request.form.to_dict(flat=True), lang)
    except NotFound:
        raise _no_service() from None
    response = document("service_requests", [filed_entry(feedback_public_view(feedback, lang))])
    # The answer holds the reporter's tracking code: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/requests.<{FORMAT_CONVERTER}:format>")
def requests_list(format: str):
    """List published feedback, filtered as the specification says (90 days at most)."""
    # A filter may be repeated (status=open&status=closed) as well as comma-separated.
    query = open311_request_query(
        {name: ",".join(request.args.getlist(name)) for name in request.args})
    # Kept while the feedback, its handling steps and the audited publishing decisions are
    # unchanged (the accountability and public data versions), as /<lang>/feedback is.
    return kept_document("service_requests", lambda: [
        request_entry(record) for record in open311_requests(query, current_lang())],
        accountability_data_version)


@bp.get(f"/requests/<request_id>.<{FORMAT_CONVERTER}:format>")
@tracking_lookup_limit()  # a tracking code is one of the ids it takes
def request_read(request_id: str, format: str):
    """Give one feedback, as a list of one: by its public id, or by its tracking code."""
    try:
        record = open311_request(request_id, current_lang())
    except NotFound:
        raise Open311Error(404, (404, _(
            "There is no published request with this id, and no feedback with this tracking "
            "code."))) from None
    response = document("service_requests", [request_entry(record)])
    if record.by_tracking_code:
        # Asked for by its tracking code: the holder's own view, kept by no cache.
        response.headers["Cache-Control"] = "no-store"
    return response
