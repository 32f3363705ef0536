"""Subscription pages: the form, the confirmation button, and one-click unsubscribe.

The form lives on its own page (linked from service, department and home pages), since
public pages are cached and carry no session, hence no CSRF token. A confirmation link shows
a button rather than confirming on GET, and so does an unsubscribe link: mail scanners open
links, and must neither subscribe nor unsubscribe anyone. The unsubscribe POST is RFC 8058's
one click, sent by mail clients without a session: it alone is exempt from CSRF, and the
unguessable token in its URL is its proof.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from portal.extensions import csrf, limiter
from portal.i18n import current_lang
from portal.services.errors import NotFound, ValidationError
from portal.services.subscriptions.subscribe import (
    ConfirmationExpired,
    subscription_by_unsubscribe_token,
    subscription_confirm,
    subscription_pending,
    subscription_request,
    subscription_target,
    subscription_target_of,
    subscription_unsubscribe,
)
from portal.web.form_errors import apply_validation_error
from portal.web.public.live import form_page
from portal.web.subscriptions.forms import ConfirmForm, SubscribeForm, UnsubscribeForm

bp = Blueprint("subscriptions", __name__, url_prefix="/<lang>")


def subscription_rate_limit() -> str:
    """Return the per-client limit on subscription requests (PORTAL_SUBSCRIPTION_RATE_LIMIT)."""
    return current_app.config["PORTAL_SUBSCRIPTION_RATE_LIMIT"]


def _private(response, status: int = 200):
    """Pages about one address's subscription: never cached, never indexed."""
    response = current_app.make_response((response, status))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # The token in the address must not leave in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _target_from_args():
    """Read what is to be followed from the query string (?service=, ?department=, ?digest=)."""
    if request.args.get("service"):
        scope, code = "service", request.args["service"]
    elif request.args.get("department"):
        scope, code = "department", request.args["department"]
    elif request.args.get("digest") == "dprd":
        scope, code = "dprd_digest", None
    else:
        scope, code = "province", None
    if code is not None and not code.isprintable():
        abort(404)  # a NUL or a line break is no code (and PostgreSQL refuses a NUL)
    try:
        return subscription_target(scope, (code or "")[:64] or None)
    except NotFound:
        abort(404)


def _target_args(target) -> dict:
    if target.service is not None:
        return {"service": target.service.code}
    if target.department is not None:
        return {"department": target.department.code}
    return {"digest": "dprd"} if target.scope == "dprd_digest" else {}


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(subscription_rate_limit, methods=["POST"])
def subscribe():
    """Show the subscription form; on a valid POST, mail the confirmation link."""
    target = _target_from_args()
    if request.method != "POST":
        # The same page for every visitor but its CSRF token: kept without it (form_page).
        return _private(form_page(lambda _values: _render_subscribe(SubscribeForm(), target)))
    form = SubscribeForm()
    status = 200
    if form.validate_on_submit():
        try:
            subscription_request(form.email.data, target, form.topics(), current_lang())
        except ValidationError as error:
            apply_validation_error(form, error, renames={"topics": "topic_status"})
            status = 422
        else:
            return redirect(url_for("subscriptions.sent", **_target_args(target)), code=303)
    else:
        status = 422
    return _private(_render_subscribe(form, target), status)


def _render_subscribe(form: SubscribeForm, target) -> str:
    return render_template(
        "subscriptions/subscribe.html", form=form, target=target,
        what=target.describe(current_lang()), target_args=_target_args(target),
    )


@bp.get("/subscribe/sent")
def sent():
    """Say that a confirmation link is on its way (the same words whoever the address is)."""
    target = _target_from_args()
    return _private(render_template("subscriptions/sent.html", target=target,
                                    what=target.describe(current_lang())))


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Show the confirmation button; on POST, start the subscription."""
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            subscription = subscription_confirm(token)
            return _private(render_template(
                "subscriptions/confirmed.html", subscription=subscription,
                what=subscription_target_of(subscription).describe(current_lang())))
        subscription = subscription_pending(token)
    except ConfirmationExpired:
        return _private(render_template("subscriptions/expired.html"), 410)
    except NotFound:
        return _private(render_template("subscriptions/unknown_link.html"), 404)
    return _private(render_template(
        "subscriptions/confirm.html", form=form, subscription=subscription,
        what=subscription_target_of(subscription).describe(current_lang())),
        400 if request.method == "POST" else 200)


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Show what the link would end, with a button (a GET never unsubscribes)."""
    try:
        subscription = subscription_by_unsubscribe_token(token)
    except NotFound:
        return _private(render_template("subscriptions/unknown_link.html"), 404)
    return _private(render_template(
        "subscriptions/unsubscribe.html", form=UnsubscribeForm(), token=token,
        what=subscription_target_of(subscription).describe(current_lang())))


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """End the subscription: the button of the page, or a mail client's one-click POST."""
    subscription_unsubscribe(token)
    # The same answer whether it ended now or before: the address gets no more mail.
    return _private(render_template("subscriptions/unsubscribed.html"))
