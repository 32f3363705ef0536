"""The JSON API blueprint (/api/v1): its language, headers and error answers, set once.

Every API module (services, feedback, accountability, the OpenAPI document) adds its routes
to ``bp``. Answers are in the language asked for with ``?lang=id|en``, else Accept-Language,
else the default; they set no cookie. Every refusal is a problem (``portal.web.api.problems``).
Write endpoints are exempted from CSRF one by one (``csrf.exempt`` on the view): they
authenticate without cookies, while the public reads keep the protection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_babel import gettext as _
from flask_babel import refresh

from portal.i18n import languages
from portal.services.errors import FieldError, ValidationError, must_be_one_of
from portal.web.api.language import api_lang, unknown_lang
from portal.web.api.problems import init_problems, problem, problem_for
from portal.web.error_shapes import ErrorShape, register_error_shape

bp = Blueprint("api", __name__, url_prefix="/api/v1")
init_problems(bp)


def _outage(committed: bool) -> Response:
    """Answer the database or the file storage being down (see portal.web.outage)."""
    detail = _(
        "The portal lost its database after storing what you sent, which may have been "
        "saved. Send the same request again, with the same idempotency key, after the "
        "seconds in Retry-After: it is not stored twice."
    ) if committed else None
    return problem("service-unavailable", detail)


# Under /api/ (not only /api/v1/): an unknown version is answered as a problem too.
register_error_shape(bp, ErrorShape("/api/", problem_for, _outage))


def never_stored(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose answers no browser or proxy may keep (Cache-Control: no-store)."""
    view.never_stored = True  # type: ignore[attr-defined]
    return view


@bp.before_request
def api_language() -> None:
    """Answer in ?lang=id|en, else the Accept-Language preference, else the default.

    A ?lang the portal does not speak is refused (422) rather than ignored, in the
    Accept-Language language.
    """
    g.lang = api_lang()
    refresh()
    if unknown_lang() is not None:
        raise ValidationError([FieldError(
            "lang", must_be_one_of(languages()), code="invalid_choice")])


@bp.before_request
def refuse_nul_characters() -> None:
    """Refuse a NUL character in the address or the query (422).

    No code or text of the portal holds one, and PostgreSQL refuses it in text parameters,
    so a lookup with one would fail instead of finding nothing.
    """
    for name, value in [*(request.view_args or {}).items(), *request.args.items(multi=True)]:
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError([FieldError(
                str(name).replace("\x00", ""), _("must not contain a NUL character"),
                code="invalid_format")])


@bp.after_request
def api_headers(response):
    """Set no cookie on API answers, vary them by language, and say how long to keep them.

    An answer that sets no Cache-Control of its own (the public lists do) is revalidated
    before reuse; one of a view marked :func:`never_stored` is never kept.
    """
    g.pop("lang", None)  # the app's _remember_lang runs after this and sets no cookie then
    response.headers.pop("Set-Cookie", None)
    response.headers.add("Vary", "Accept-Language")
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "never_stored", False):
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers.setdefault("Cache-Control", "no-cache")
    return response
