"""Staff login, logout and the role-aware dashboard."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.extensions import limiter
from portal.services import auth
from portal.web.labels import role_label
from portal.web.staff.blueprint import bp, dashboard_links_for, safe_next
from portal.web.staff.forms import LoginForm, PostForm


def _fresh_session() -> None:
    """Empty the session and forget this request's cached CSRF token, which was tied to it."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _failed_login(response) -> bool:
    """A login attempt counts against the limits unless it succeeded (a redirect)."""
    return response.status_code != 302


def _login_rate_limit() -> str:
    """Failed logins allowed per client address."""
    return current_app.config["PORTAL_LOGIN_RATE_LIMIT"]


def _account_rate_limit() -> str:
    """Failed logins allowed per username."""
    return current_app.config["PORTAL_LOGIN_ACCOUNT_RATE_LIMIT"]


def _login_username_key() -> str:
    """Rate-limit key for the username being tried (lower case, as accounts compare)."""
    return "login-username:" + request.form.get("username", "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], deduct_when=_failed_login)
@limiter.limit(
    _account_rate_limit, methods=["POST"], deduct_when=_failed_login,
    key_func=_login_username_key,
)
def login():
    """Show the login form; on success start a fresh session and go where the user wanted."""
    next_path = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_path or url_for("staff.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = auth.user_authenticate(form.username.data, form.password.data)
        if user is not None:
            # A new session: nothing from before the login (session fixation) survives.
            _fresh_session()
            # The session ends after PERMANENT_SESSION_LIFETIME, even if the browser stays open.
            session.permanent = True
            login_user(user)
            return redirect(next_path or url_for("staff.dashboard"))
        # The same words for an unknown user, a wrong password and a deactivated account.
        error = _("The username or password is wrong.")
    return render_template("staff/login.html", form=form, error=error, next_path=next_path)


@bp.post("/logout")
def logout():
    """End the session (POST with a CSRF token, so no other site can log staff out)."""
    logout_user()
    _fresh_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("staff.login"))


@bp.get("/")
@login_required
def dashboard():
    """Show the staff member's landing page: the sections their role may use."""
    return render_template(
        "staff/dashboard.html",
        links=dashboard_links_for(current_user),
        role_name=role_label(current_user.role),
        logout_form=PostForm(),
    )
