"""Blueprints and the error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, g, render_template, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.i18n import languages, preferred_lang
from portal.services.errors import NotAuthorized, NotFound
from portal.web.error_shapes import error_shape_for


def _lang_for_error() -> None:
    """Pick the error page's language from the URL prefix, else the reader's preference."""
    first = request.path.strip("/").split("/", 1)[0]
    g.lang = first if first in languages() else preferred_lang()
    g.page_is_error = True  # no canonical or language addresses in the head
    refresh()


def _machine_answer(error: Exception) -> Any:
    """Answer an error raised before any API view ran in that API's own shape, else None.

    Each API blueprint registers its shape (portal.web.error_shapes); pages get the
    translated HTML page (the caller renders it).
    """
    shape = error_shape_for(request.path)
    return None if shape is None else shape.error(error)


def init_views(app: Flask) -> None:
    """Register the blueprints and the translated error pages.

    The security headers are added around the whole app, static files included
    (portal.web.security_headers, wrapped in create_app).
    """
    # Imported here, not at module level: the blueprints import services, which import models.
    from portal.services.attachments import MAX_ATTACHMENT_MEGABYTES
    from portal.web import (
        api,
        data,
        developers,
        indexing,
        open311,
        root,
        sharing,
        site_parts,
        staff,
        well_known,
    )
    from portal.web.accountability import pages as accountability
    from portal.web.feedback import pages as feedback
    from portal.web.outage import init_outage
    from portal.web.public import (
        badges,
        feeds,
        incidents,
        service_page,  # noqa: F401  (its views join public's bp)
    )
    from portal.web.public import pages as public
    from portal.web.subscriptions import pages as subscriptions
    from portal.web.survey import pages as survey

    for module in (root, public, incidents, feedback, survey, accountability, staff, api, data,
                   open311, developers, subscriptions, feeds, badges, indexing,
                   well_known):
        app.register_blueprint(module.bp)
    sharing.init_app(app)
    site_parts.init_app(app)
    init_outage(app)  # the database or file storage down: a truthful 503, text kept

    @app.before_request
    def refuse_nul_characters() -> None:
        """Answer a NUL character in the address (404) or the query (400), not a 500.

        No code or text of the portal holds one, and PostgreSQL refuses it in a text
        parameter, so a look-up with one would fail instead of finding nothing. The JSON API
        refuses it with its own problem (portal.web.api.blueprint).
        """
        if request.blueprint == "api":
            return
        if any("\x00" in str(value) for value in (request.view_args or {}).values()):
            abort(404)
        if any("\x00" in value for _name, value in request.args.items(multi=True)):
            abort(400)

    @app.context_processor
    def demo_notice() -> dict:
        # Imported here for the same reason as the blueprints above.
        from portal.web.public.live import demo_data_shown

        try:
            return {"demo_data_loaded": demo_data_shown()}
        except Exception:  # an error page must render even without a database
            return {"demo_data_loaded": False}

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
