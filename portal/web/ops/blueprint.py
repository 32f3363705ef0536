"""The operations blueprint: /readyz and /metrics, outside every language prefix."""

from flask import Blueprint

bp = Blueprint("ops", __name__)


@bp.after_request
def never_cached(response):
    """Operational answers describe this moment: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response
