"""Blueprints and the error pages."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import refresh

from portal.i18n import languages, preferred_lang
from portal.services.errors import NotFound


def _lang_for_error() -> None:
    """Pick the error page's language from the URL prefix, else the reader's preference."""
    first = request.path.strip("/").split("/", 1)[0]
    g.lang = first if first in languages() else preferred_lang()
    refresh()


def _wants_json() -> bool:
    """Tell whether the failing request is an API call."""
    return request.path.startswith("/api/")


def init_views(app: Flask) -> None:
    """Register the blueprints, the security headers and the translated error pages."""
    from portal.views.public import bp as public_bp
    from portal.views.root import bp as root_bp

    app.register_blueprint(root_bp)
    app.register_blueprint(public_bp)

    @app.context_processor
    def demo_notice() -> dict:
        from portal.services.demo import demo_data_loaded

        try:
            return {"demo_data_loaded": demo_data_loaded()}
        except Exception:  # noqa: BLE001  (an error page must render even without a database)
            return {"demo_data_loaded": False}

    @app.after_request
    def security_headers(response):  # noqa: ANN001, ANN202
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        )
        return response

    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(error):  # noqa: ANN001, ANN202
        if _wants_json():
            return jsonify(error="not_found"), 404
        _lang_for_error()
        return render_template("errors/404.html"), 404

    @app.errorhandler(500)
    def server_error(error):  # noqa: ANN001, ANN202
        if _wants_json():
            return jsonify(error="server_error"), 500
        _lang_for_error()
        return render_template("errors/500.html"), 500
