"""Language-neutral routes: the bare / and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import text

from portal.extensions import db
from portal.i18n import preferred_lang

bp = Blueprint("root", __name__)


@bp.get("/")
def index():
    """Send the reader to the home page in their language."""
    response = redirect(url_for("public.home", lang=preferred_lang()), code=302)
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means unhealthy
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
