"""Blueprints and the error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.exceptions import NotFound as NotFoundHttp

from portal.i18n import languages, preferred_lang
from portal.services.errors import NotAuthorized, NotFound
from portal.web.api.problems import problem_for
from portal.web.open311.blueprint import is_open311_path, open311_http_error


def _lang_for_error() -> None:
    """Pick the error page's language from the URL prefix, else the reader's preference."""
    first = request.path.strip("/").split("/", 1)[0]
    g.lang = first if first in languages() else preferred_lang()
    refresh()


def _machine_answer(error: Exception) -> Any:
    """Answer an error raised before any API view ran in that API's own shape, else None.

    Open311 clients get GeoReport errors, ``/api/`` clients a problem document; pages get
    the translated HTML page (the caller renders it).
    """
    if is_open311_path(request.path):
        if not isinstance(error, HTTPException):
            error = Forbidden() if isinstance(error, NotAuthorized) else NotFoundHttp()
        return open311_http_error(error)
    if _wants_json():
        return problem_for(error)
    return None


def _wants_json() -> bool:
    """Tell whether the failing request is an API call."""
    return request.path.startswith("/api/")


def init_views(app: Flask) -> None:
    """Register the blueprints, the security headers and the translated error pages."""
    # Imported here, not at module level: the blueprints import services, which import models.
    from portal.services.attachments import MAX_ATTACHMENT_MEGABYTES
    from portal.web import api, data, developers, open311, root, staff
    from portal.web.accountability import pages as accountability
    from portal.web.feedback import pages as feedback
    from portal.web.public import incidents
    from portal.web.public import pages as public
    from portal.web.survey import pages as survey

    for module in (root, public, incidents, feedback, survey, accountability, staff, api, data,
                   open311, developers):
        app.register_blueprint(module.bp)

    @app.context_processor
    def demo_notice() -> dict:
        # Imported here for the same reason as the blueprints above.
        from portal.services.demo.load import demo_data_loaded

        try:
            return {"demo_data_loaded": demo_data_loaded()}
        except Exception:  # an error page must render even without a database
            return {"demo_data_loaded": False}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["SESSION_COOKIE_SECURE"]:  # served over HTTPS: browsers must stay there
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        )
        return response

    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(error):
        if (answer := _machine_answer(error)) is not None:
            return answer
        _lang_for_error()
        return render_template("errors/404.html"), 404

    @app.errorhandler(403)
    @app.errorhandler(NotAuthorized)
    def forbidden(error):
        if (answer := _machine_answer(error)) is not None:
            return answer
        _lang_for_error()
        return render_template("errors/403.html"), 403

    @app.errorhandler(429)
    def too_many_requests(error):
        if (answer := _machine_answer(error)) is not None:
            return answer
        _lang_for_error()
        return render_template("errors/429.html"), 429

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        _lang_for_error()
        return render_template(
            "errors/generic.html",
            title=_("Your form could not be sent"),
            message=_(
                "For your security a form is accepted only from the page that showed it, "
                "and this one could not be matched: the page was open before the portal "
                "restarted, or your browser blocks cookies. Go back, reload the page, and "
                "send the form again."
            ),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """Answer every other HTTP error translated, as a problem on the API."""
        if (answer := _machine_answer(error)) is not None:
            return answer
        _lang_for_error()
        messages = {
            405: _("This address does not accept that kind of request."),
            413: _("What you sent is too large. Each attachment may be at most %(size)d MB.",
                   size=MAX_ATTACHMENT_MEGABYTES),
        }
        message = messages.get(error.code or 0, _("The request could not be handled."))
        # The error's own headers stay (a 405 must list what is Allowed).
        headers = [(name, value) for name, value in error.get_headers()
                   if name.lower() != "content-type"]
        return render_template(
            "errors/generic.html", title=_("The request could not be handled"),
            message=message,
        ), error.code, headers

    @app.errorhandler(500)
    def server_error(error):
        if (answer := _machine_answer(error)) is not None:
            return answer
        _lang_for_error()
        return render_template("errors/500.html"), 500
