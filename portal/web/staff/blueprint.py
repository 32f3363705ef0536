"""The staff blueprint, the logged-in user, and the dashboard's sections.

Every staff page (feedback inbox, incidents...) adds its routes to ``bp`` from here, and its
dashboard entry with :func:`dashboard_link`; the package imports each module once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.extensions import login_manager
from portal.i18n import current_lang, localized, preferred_lang
from portal.services import auth
from portal.services.auth import Permission
from portal.services.catalogue import directory as catalogue

bp = Blueprint("staff", __name__, url_prefix="/<lang>/staff")


# The logged-in user -----------------------------------------------------------------------


@login_manager.user_loader
def load_user(identity: str) -> Any:
    """Load the user of a session: active, and with the password it logged in with."""
    user_id, _, fingerprint = identity.partition(":")
    if not user_id.isdigit():
        return None
    user = auth.user_get(int(user_id))
    if user is None or not user.is_active or user.session_fingerprint() != fingerprint:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Send an anonymous visitor to the login page in the current language (API: 401)."""
    if request.path.startswith("/api/"):
        return jsonify(error="not_authenticated"), 401
    lang = g.get("lang") or preferred_lang()
    here = request.path + (f"?{request.query_string.decode('latin-1')}"
                           if request.query_string else "")
    return redirect(url_for("staff.login", lang=lang, next=safe_next(here)))


@bp.before_app_request
def forget_cached_identity() -> None:
    """Start every request without the user and CSRF token cached on ``g`` by an earlier one.

    Flask-Login and Flask-WTF cache them on ``g``, which lives as long as the app context.
    That is one request in production, but an app context held open across requests (the
    test suite, scripts) would otherwise carry one request's user into the next.
    """
    g.pop("_login_user", None)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.after_request
def no_store(response):
    """Staff pages are never kept by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.add("Vary", "Cookie")
    return response


@bp.after_app_request
def private_when_logged_in(response):
    """A page that shows a staff member's name (the header) must not be cached for others."""
    if request.blueprint != "staff" and _logged_in():
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _logged_in() -> bool:
    """Tell whether a staff member is logged in, without failing on a broken request."""
    if not has_request_context():
        return False  # mail and CLI rendering: nobody is logged in
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        # No session at all: do not touch it, so public pages do not get "Vary: Cookie".
        return False
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # an error page must render even without a database
        return False


@bp.app_context_processor
def staff_context() -> dict:
    """Give templates the logged-in staff member (or None) without failing on error pages.

    ``current_user`` is passed as Flask-Login's lazy proxy: a page that does not use it
    neither loads the user nor reads the session.
    """
    return {"staff_user": current_user if _logged_in() else None, "current_user": current_user}


# Dashboard sections -----------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardLink:
    """A link on the staff dashboard, shown to whoever has its permission."""

    endpoint: str
    label: Any
    description: Any
    permission: Permission
    order: int = 100


DASHBOARD_LINKS: list[DashboardLink] = []


def dashboard_link(
    endpoint: str, label: Any, description: Any, permission: Permission, order: int = 100
) -> None:
    """Add a link to the staff dashboard (labels are lazy_gettext strings)."""
    link = DashboardLink(endpoint, label, description, Permission(permission), order)
    if all(existing.endpoint != endpoint for existing in DASHBOARD_LINKS):
        DASHBOARD_LINKS.append(link)


def dashboard_links_for(actor: Any) -> list[DashboardLink]:
    """Return the dashboard links an actor sees (those it has the permission of), in order."""
    return sorted((link for link in DASHBOARD_LINKS if auth.staff_can(actor, link.permission)),
                  key=lambda link: (link.order, link.endpoint))


# Choices shared by staff forms ------------------------------------------------------------


def department_choices(exclude: int | None = None) -> list[SelectChoice]:
    """Return "Choose a department" and every department (but ``exclude``), by shown name."""
    lang = current_lang()
    named = sorted(
        ((d.code, localized(d, "name", lang).text)
         for d, _count in catalogue.department_list() if d.id != exclude),
        key=lambda item: item[1].casefold(),
    )
    return [SelectChoice("", _("Choose a department"))] + [
        SelectChoice(code, name) for code, name in named
    ]


def department_filter_code(departments: list[tuple[Any, int]]) -> str:
    """Return the list's ``?department=`` code when it names one of departments, else ""."""
    code = request.args.get("department", "").strip()[:64]
    return code if any(d.code == code for d, _count in departments) else ""
