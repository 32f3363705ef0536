"""The database goes down while a citizen sends the feedback form, in real Chromium.

Gunicorn serves the portal on a PostgreSQL of the test's own. The citizen fills the form;
the database stops; sending answers 503 with every field given back, and axe-core finds no
violation there. The database comes back; sending the page as it stands files the feedback.
"""

from __future__ import annotations

import os
import signal

import pytest

from portal import create_app
from portal.extensions import db
from tests.browser.conftest import axe_violations
from tests.conftest import make_test_config
from tests.factories import create_service
from tests.faults.support import PrivatePostgres
from tests.ops.support import start_gunicorn

SUBJECT = "Antrean KTP terlalu lama"
BODY = "Saya menunggu tiga jam.\nPetugas bilang sistemnya sedang gangguan."


@pytest.fixture
def outage_server(browser, tmp_path):
    """Gunicorn on a private PostgreSQL holding one service; yields (base URL, database)."""
    postgres = PrivatePostgres()
    try:
        postgres.start()
        app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=postgres.url))
        with app.app_context():
            db.create_all()
            create_service(code="ktp-el", name_en="Electronic ID card",
                           name_id="KTP elektronik")
            db.session.remove()
            db.engine.dispose()
        server = start_gunicorn({**os.environ, "DATABASE_URL": postgres.url,
                                 "SECRET_KEY": "outage", "PORTAL_RATELIMIT_ENABLED": "0",
                                 "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads")},
                                workers=1, threads=2)
        try:
            yield server.base, postgres
        finally:
            server.process.send_signal(signal.SIGINT)
            server.stop()
    finally:
        postgres.remove()


def _send(page):
    with page.expect_navigation() as navigation:
        page.locator("#feedback-form").get_by_role("button", name="Send feedback").click()
    return navigation.value


def test_the_form_comes_back_whole_when_the_database_is_down(page, outage_server):
    base, postgres = outage_server
    page.goto(f"{base}/en/feedback/new")
    page.check("input[name=kind][value=complaint]")
    page.select_option("#service", "ktp-el")
    page.fill("#subject", SUBJECT)
    page.fill("#body", BODY)
    page.check("input[name=identity][value=confidential]")
    page.fill("#name", "Siti Rahmawati")
    page.fill("#email", "siti.rahma@example.com")

    postgres.stop()
    response = _send(page)
    assert response.status == 503
    assert response.headers["retry-after"] == "120"
    assert page.locator("h1").inner_text() == "Your feedback was not saved"
    assert page.input_value("#subject") == SUBJECT
    assert page.input_value("#body") == BODY
    assert page.input_value("#service") == "ktp-el"
    assert page.is_checked("input[name=identity][value=confidential]")
    assert page.input_value("#email") == "siti.rahma@example.com"
    assert axe_violations(page) == []

    postgres.start()
    filed = _send(page)
    assert filed.status == 200
    assert "/en/feedback/" in page.url
    assert SUBJECT in page.content()
