"""The Open311 GeoReport v2 blueprint (/open311/v2): formats, language, jurisdiction, errors.

Every resource comes as ``.json`` and ``.xml`` (the format is the end of the address, as the
specification says). The XML has no namespace and follows the specification's examples
(``services/service``, ``service_definition``, ``service_requests/request``, ``errors/error``,
``discovery``); the JSON is its mapping by the Spark convention (a container of repeated
elements becomes a list). Errors are a list of ``{code, description}`` with the HTTP status
404 (unknown service, request or jurisdiction), 403 (missing or bad api_key) or 400
(anything else), plus 413 and 429.

Texts meant for people come in the language of ``?lang=id|en``, Indonesian by default.
Answers set no cookie.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.exceptions import NotFound as NotFoundHttp

from portal.domain.calendar import utc_now
from portal.i18n import languages
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.web.error_shapes import ErrorShape, register_error_shape
from portal.web.public.live import cached_body
from portal.web.xml_text import xml_text

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = ("json", "xml")
# The format part of every address: services.json, requests/P12.xml...
FORMAT_CONVERTER = "any(json, xml)"
MIMETYPES = {"json": "application/json", "xml": "text/xml"}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

# The element of each item of a list, by the list's own element (the specification's XML).
_ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all, even escaped: dropped from texts.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(Exception):
    """An error answer: its HTTP status and its (code, description) items."""

    def __init__(self, status: int, *errors: tuple[int | str, str]) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


def _format() -> str:
    """Return the format the client asked for in the address (XML, the required one, if none).

    Read from the matched route, or from the address's ending when no route matched.
    """
    fmt = (request.view_args or {}).get("format")
    if fmt is None and request.path.endswith(".json"):
        fmt = "json"
    return fmt if fmt in FORMATS else "xml"


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml_leaf(tag: str, value: Any) -> str:
    """Write a value that is neither a mapping nor a list as an element with its text."""
    text = _xml_text(value)
    if not text:
        return f"<{tag} />"
    return f"<{tag}>{xml_text(text)}</{tag}>"


def _xml_write(parts: list[str], tag: str, value: Any) -> None:
    """Write a value as an element: a mapping as children, a list as repeated items.

    Byte for byte what ElementTree's ``tostring`` wrote of the same tree (``<tag />`` when
    there is neither text nor child): a service list of a thousand services is written in a
    fraction of the time without building and walking the tree.
    """
    if isinstance(value, dict):
        children: Iterable[tuple[str, Any]] = value.items()
    elif isinstance(value, list):
        children = ((_ITEM_TAGS[tag], item) for item in value)
    else:
        parts.append(_xml_leaf(tag, value))
        return
    start = len(parts)
    parts.append(f"<{tag}>")
    for child, item in children:
        if isinstance(item, dict | list):
            _xml_write(parts, child, item)
        else:
            parts.append(_xml_leaf(child, item))
    if len(parts) == start + 1:
        parts[start] = f"<{tag} />"
    else:
        parts.append(f"</{tag}>")


def document(root: str, content: dict | list, status: int = 200) -> Response:
    """Answer a document in the asked format: ``root`` names the XML root element.

    ``content`` is what the JSON holds: a list (services, service_requests, errors) or a
    mapping (service_definition, discovery).
    """
    fmt = _format()
    if fmt == "json":
        body = json.dumps(content, ensure_ascii=False)
    else:
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n']
        _xml_write(parts, root, content)
        body = "".join(parts)
    return Response(body.encode("utf-8"), status=status,
                    content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def kept_document(root: str, build: Callable[[], dict | list],
                  version_of: Callable[[], str] | None = None) -> Response:
    """Answer ``document(root, build())``, kept in the page cache while the public data version
    (and ``version_of()``'s, when given) holds: the service list, its definitions, the
    discovery document and a search of published requests are the same for every client (by
    format and language: each path and query is kept apart).

    The answer carries a strong ETag (the kept body's digest): a client revalidates with an
    empty 304, and its compressed bodies are kept too (the service list is 440 KB at 1,000
    services: compressing it for every request cost more than serving it).
    """
    kept = cached_body(lambda: (document(root, build()).get_data(), utc_now()), version_of)
    response = Response(kept.body, content_type=f"{MIMETYPES[_format()]}; charset=utf-8")
    response.set_etag(kept.etag)
    return response.make_conditional(request)


def errors_document(status: int, errors: Iterable[tuple[int | str, str]]) -> Response:
    """Answer a list of errors, each with its code and a description for people."""
    return document("errors", [{"code": code, "description": description}
                               for code, description in errors], status)


@bp.before_request
def open311_language_and_jurisdiction() -> None:
    """Answer in ?lang=id|en (Indonesian by default); refuse another jurisdiction_id."""
    lang = request.args.get("lang", "")
    g.lang = lang if lang in languages() else current_app.config["BABEL_DEFAULT_LOCALE"]
    refresh()
    jurisdiction = request.values.get("jurisdiction_id", "").strip()
    if jurisdiction and jurisdiction != current_app.config["PORTAL_OPEN311_JURISDICTION"]:
        raise Open311Error(404, (404, _(
            "This endpoint serves only the jurisdiction %(jurisdiction)s.",
            jurisdiction=current_app.config["PORTAL_OPEN311_JURISDICTION"])))


@bp.after_request
def open311_headers(response: Response) -> Response:
    """Set no cookie, and have answers revalidated unless a view said otherwise."""
    g.pop("lang", None)  # the app's _remember_lang runs after this and sets no cookie then
    response.headers.pop("Set-Cookie", None)
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@bp.errorhandler(Open311Error)
def open311_error(error: Open311Error) -> Response:
    """Answer the errors a view raised."""
    return errors_document(error.status, error.errors)


@bp.errorhandler(ValidationError)
def invalid(error: ValidationError) -> Response:
    """Answer 400 with one item for each problem, naming the field."""
    return errors_document(400, [(400, f"{e.field}: {e.error}") for e in error.errors])


@bp.errorhandler(NotFound)
def not_found(error: NotFound) -> Response:
    """Answer 404 for an unknown service or request."""
    return errors_document(404, [(404, _("There is nothing at this address."))])


@bp.errorhandler(NotAuthorized)
def forbidden(error: NotAuthorized) -> Response:
    """Answer 403 when the caller may not do what it asked."""
    return errors_document(403, [(403, _("You may not do this."))])


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error: RateLimitExceeded) -> Response:
    """Answer 429 when a key files, or an address looks up, more than its limit allows."""
    if request.method != "POST":
        return errors_document(429, [(429, _(
            "Too many requests. Wait a while before sending more."))])
    return errors_document(429, [(429, _(
        "This key has filed too many requests. Wait a while before sending more."))])


@bp.errorhandler(HTTPException)
def open311_http_error(error: HTTPException) -> Response:
    """Answer every other HTTP error (a malformed or too large request) as Open311 errors.

    The app's own error handlers may answer with it too, for errors raised before any
    Open311 view runs (an unknown address or method under /open311/v2/).
    """
    status = error.code or 400
    messages = {
        404: _("There is nothing at this address."),
        405: _("This address does not accept that kind of request."),
        413: _("The request body is too large."),
        429: _("Too many requests. Wait a while before sending more."),
    }
    response = errors_document(status, [(status, messages.get(
        status, _("The request could not be handled.")))])
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # such as Allow on a 405
            response.headers[name] = value
    return response


def _app_error(error: Exception) -> Response:
    """Answer an error raised before any Open311 view ran (unknown address, method, limit)."""
    if not isinstance(error, HTTPException):
        error = Forbidden() if isinstance(error, NotAuthorized) else NotFoundHttp()
    return open311_http_error(error)


def _outage(committed: bool) -> Response:
    """Answer the database or the file storage being down (see portal.web.outage)."""
    return errors_document(503, [(503, _(
        "The portal lost its database after storing what you sent, which may have been "
        "saved. Send the same request again in a few minutes to find out."
    ) if committed else _(
        "The portal cannot store or read data right now; nothing was recorded. "
        "Try again in a few minutes."))])


register_error_shape(bp, ErrorShape(f"{bp.url_prefix}/", _app_error, _outage))
