"""Staff login, logout and the role-aware dashboard.

Failed logins are throttled three ways, and none of them lets anyone lock a staff member out:

- per client address, whatever the username (``PORTAL_LOGIN_RATE_LIMIT``);
- per username from one client address (``PORTAL_LOGIN_PAIR_RATE_LIMIT``);
- per username from every address, by slowing down rather than blocking: once a username has
  had ``PORTAL_LOGIN_ACCOUNT_RATE_LIMIT`` failures, it is guarded, and every address may then
  fail for it only ``PORTAL_LOGIN_GUARDED_RATE_LIMIT`` (one try an hour). Guessing from many
  addresses is slowed to one guess an address, and an address that has not failed, the
  rightful user's, is never refused for failures made elsewhere.

Usernames are counted as accounts are stored (``auth.normalize_username``): "OFFB" and
" offb" are one account, for the limits as for the login.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from limits import RateLimitItem, parse_many

from portal.extensions import limiter
from portal.services import auth
from portal.web.labels import role_label
from portal.web.staff.blueprint import bp, dashboard_links_for, safe_next
from portal.web.staff.forms import LoginForm, PostForm

# Usernames are at most this long; a longer "username" is counted by its beginning, so no
# one can make the limiter store keys of any length.
_USERNAME_KEY_LENGTH = 64


def _fresh_session() -> None:
    """Empty the session and forget this request's cached CSRF token, which was tied to it."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _failed_login(response) -> bool:
    """A login attempt counts against the limits unless it succeeded (a redirect)."""
    return response.status_code != 302


def _address_rate_limit() -> str:
    """Failed logins allowed per client address, whatever the username."""
    return current_app.config["PORTAL_LOGIN_RATE_LIMIT"]


def _pair_rate_limit() -> str:
    """Failed logins allowed per username from one client address."""
    return current_app.config["PORTAL_LOGIN_PAIR_RATE_LIMIT"]


def _guarded_rate_limit() -> str:
    """Failed logins allowed per client address for a guarded username."""
    return current_app.config["PORTAL_LOGIN_GUARDED_RATE_LIMIT"]


def _account_tried() -> str:
    """Return the account this login attempt is for, as accounts are stored."""
    return auth.normalize_username(request.form.get("username", ""))[:_USERNAME_KEY_LENGTH]


def _pair_key() -> str:
    """Rate-limit key for the username being tried from this client address."""
    return f"login-pair:{_account_tried()}|{get_remote_address()}"


def _guarded_pair_key() -> str:
    """Rate-limit key for a guarded username being tried from this client address."""
    return f"login-guarded:{_account_tried()}|{get_remote_address()}"


def _account_failures() -> tuple[list[RateLimitItem], tuple[str, ...]]:
    """Return the windows and the key that count a username's failures from every address."""
    key = (current_app.config.get("RATELIMIT_KEY_PREFIX", ""), "login-account-failures",
           _account_tried())
    return parse_many(current_app.config["PORTAL_LOGIN_ACCOUNT_RATE_LIMIT"]), key


def _account_not_guarded() -> bool:
    """Tell whether the username being tried has had fewer failures than make it guarded."""
    if request.method != "POST":
        return True
    windows, key = _account_failures()
    return all(limiter.limiter.get_window_stats(window, *key).remaining > 0
               for window in windows)


def _count_account_failure() -> None:
    """Count a failed login against its username, whatever address it came from.

    Counted here, not by a limit, because the count must grow with every failure while
    it refuses nobody by itself: it only decides when the username is guarded.
    """
    if not current_app.config.get("PORTAL_RATELIMIT_ENABLED", True):
        return
    windows, key = _account_failures()
    try:
        for window in windows:
            limiter.limiter.hit(window, *key)
    # The limiter's storage (Redis) may be down, whatever it raises then; a login must not
    # fail for the bookkeeping of its limits, and the per-address limits still apply.
    except Exception:
        current_app.logger.warning("could not count a failed login in the rate-limit storage")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_rate_limit, methods=["POST"], deduct_when=_failed_login)
@limiter.limit(
    _pair_rate_limit, methods=["POST"], deduct_when=_failed_login, key_func=_pair_key,
)
@limiter.limit(
    _guarded_rate_limit, methods=["POST"], deduct_when=_failed_login,
    key_func=_guarded_pair_key, exempt_when=_account_not_guarded,
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
    if request.method == "POST":
        _count_account_failure()
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
