"""E-mail subscriptions in real Chromium, both languages: the form (empty and with errors),
the page after sending, the confirmation button and the unsubscribe button, each checked by
axe-core; without JavaScript too (the pages need none)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import OutboxMessage, Subscription
from portal.services.subscriptions.subscribe import unsubscribe_url
from tests.browser.conftest import axe_violations
from tests.conftest import make_test_config

SERVICE = "samsat-pkb-tahunan"


def _live_app(live_env: dict[str, str]):
    """The portal on the live server's database, with its secret key (to derive links)."""
    return create_app(make_test_config(SQLALCHEMY_DATABASE_URI=live_env["DATABASE_URL"],
                                       SECRET_KEY=live_env["SECRET_KEY"]))


def _links(live_env: dict[str, str], address: str) -> tuple[str, str]:
    """Return the paths of the confirmation and unsubscribe links of an address."""
    app = _live_app(live_env)
    with app.app_context():
        body = db.session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.to_address == address).order_by(OutboxMessage.id.desc()))
        confirm = re.search(r"/(?:id|en)/subscriptions/confirm/\S+", body).group(0)
        subscription = db.session.scalar(select(Subscription).where(
            Subscription.email == address))
        unsubscribe = unsubscribe_url(subscription)
        db.session.remove()
        db.engine.dispose()
    return confirm, "/" + unsubscribe.split("/", 3)[3]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_subscribe_confirm_and_unsubscribe_pages_pass_axe(page, live_server, live_env, lang):
    address = f"browser-{lang}@example.org"
    page.goto(f"{live_server}/{lang}/services/{SERVICE}")
    page.click(f"a[href='/{lang}/subscribe?service={SERVICE}']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == lang
    assert page.is_checked("#topic_status")
    assert axe_violations(page) == []

    # Errors are shown on the form, and the form with errors passes axe too.
    for box in ("#topic_status", "#topic_incidents", "#topic_maintenance"):
        page.uncheck(box)
    page.fill("#email", "bukan alamat")
    page.click("form.subscribe-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert axe_violations(page) == []

    page.fill("#email", address)
    page.check("#topic_incidents")
    page.click("form.subscribe-form button[type=submit]")
    page.wait_for_load_state()
    assert f"/{lang}/subscribe/sent" in page.url
    assert address not in page.content()
    assert axe_violations(page) == []

    confirm, unsubscribe = _links(live_env, address)
    page.goto(f"{live_server}{confirm}")
    assert axe_violations(page) == []
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".notice-success").is_visible()
    assert axe_violations(page) == []

    page.goto(f"{live_server}{unsubscribe}")
    assert axe_violations(page) == []
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".notice-success").is_visible()
    assert axe_violations(page) == []


def test_the_form_works_without_javascript(no_js_page, live_server, live_env):
    address = "no-js@example.org"
    no_js_page.goto(f"{live_server}/en/subscribe?digest=dprd")
    assert no_js_page.locator("#topic_status").count() == 0  # the digest has no topics
    no_js_page.fill("#email", address)
    no_js_page.click("form.subscribe-form button[type=submit]")
    no_js_page.wait_for_load_state()
    assert "/en/subscribe/sent" in no_js_page.url
    confirm, _unsubscribe = _links(live_env, address)
    assert "/en/subscriptions/confirm/" in confirm
