"""The database goes down and comes back: the portal tells the truth and keeps the text.

A PostgreSQL of the test's own is stopped (every connection cut), then started again; the
same app, with its connection pool, serves throughout.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.extensions import db
from portal.models import Feedback
from tests.conftest import make_test_config
from tests.factories import create_service, csrf_token_from
from tests.faults.support import form_fields
from tests.feedback_support import valid_data

TYPED = {
    "kind": "complaint",
    "service": "ktp-el",
    "subject": "Antrean KTP <tiga jam>",
    "body": "Saya menunggu tiga jam di loket.\nPetugas bilang sistemnya \"sedang down\" & tutup.",
    "regency": "kapuas",
    "identity": "confidential",
    "name": "Siti Rahmawati",
    "email": "siti.rahma@example.com",
    "phone": "0812 3456 7890",
    "publish": "y",
}


@pytest.fixture
def outage_app(postgres):
    """The portal on the private PostgreSQL: an empty schema and one service."""
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=postgres.url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        create_service(code="ktp-el", name_en="Electronic ID card", name_id="KTP elektronik")
        db.session.remove()
    yield app
    if not postgres.running:
        postgres.start()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _stored_feedback(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Feedback))
        db.session.remove()
        return count


def _filled_form(client, lang: str = "en") -> dict[str, str]:
    page = client.get(f"/{lang}/feedback/new")
    assert page.status_code == 200
    fields = form_fields(page.get_data(as_text=True))
    return {**fields, **TYPED}


def test_the_form_says_nothing_was_saved_and_gives_back_every_field(outage_app, postgres, caplog):
    client = outage_app.test_client()
    sent = _filled_form(client)
    caplog.set_level(logging.WARNING)

    postgres.stop()
    response = client.post("/en/feedback/new", data=sent)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Your feedback was not saved" in html
    assert "nothing was recorded and no tracking code was made" in html
    # Every field comes back as typed, ready to send again (the service under its code:
    # the catalogue is in the database that is down).
    shown = form_fields(html)
    for name, value in TYPED.items():
        assert shown[name] == value, name
    assert shown["client_token"] == sent["client_token"]
    assert csrf_token_from(html)
    # The log names the failure, never what the citizen wrote.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "503" in logged and "OperationalError" in logged
    for secret in ("tiga jam", "Siti", "siti.rahma", "0812"):
        assert secret not in logged

    # The database comes back: the same form, sent from the 503 page, is filed once.
    postgres.start()
    assert _stored_feedback(outage_app) == 0
    again = client.post("/en/feedback/new", data=shown)
    assert again.status_code == 303
    assert "/en/feedback/" in again.headers["Location"]
    assert _stored_feedback(outage_app) == 1
    # Sent a third time (a double click), it is still filed once.
    assert client.post("/en/feedback/new", data=shown).status_code == 303
    assert _stored_feedback(outage_app) == 1


def test_the_form_page_is_in_the_citizens_language(outage_app, postgres):
    client = outage_app.test_client()
    sent = _filled_form(client, "id")
    postgres.stop()
    response = client.post("/id/feedback/new", data=sent)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert form_fields(html)["body"] == TYPED["body"]


def test_pages_answer_a_translated_503(outage_app, postgres, caplog):
    caplog.set_level(logging.WARNING)
    client = outage_app.test_client()
    token = csrf_token_from(client.get("/en/feedback/new").get_data(as_text=True))
    postgres.stop()
    for lang in ("en", "id"):
        response = client.get(f"/{lang}/services")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "120"
        assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    english = client.get("/en/services").get_data(as_text=True)
    assert "The portal is unavailable for a moment" in english
    assert "cannot reach its data right now" in english
    # Another form (a reply on a tracking page): the page says what was sent is not saved.
    reply = client.post("/en/feedback/ABCD-EFGH-JKMN/reply",
                        data={"csrf_token": token, "body": "Masih belum selesai."})
    assert reply.status_code == 503
    assert "What you sent could not be saved: nothing was recorded." in reply.get_data(
        as_text=True)
    # The text typed comes back to copy (escaped), and is not logged.
    assert '<textarea id="typed-1" rows="6" cols="60" readonly>Masih belum selesai.</textarea>' \
        in reply.get_data(as_text=True)
    assert "Masih belum" not in "\n".join(record.getMessage() for record in caplog.records)
    # The outage's log line masks the tracking code in the path, as the access log does.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/en/feedback/[code]/reply answered 503" in logged
    assert "ABCD-EFGH-JKMN" not in logged

    postgres.start()
    assert client.get("/en/services").status_code == 200


def test_the_apis_answer_503_with_retry_after_and_recover(outage_app, postgres):
    client = outage_app.test_client()
    body = valid_data(service="ktp-el", client_token="k" * 32)
    postgres.stop()

    response = client.post("/api/v1/feedback", json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "120"
    problem = response.get_json()
    assert problem["type"].endswith("/developers#problem-service-unavailable")
    assert problem["status"] == 503
    assert "nothing was recorded" in problem["detail"]

    read = client.get("/api/v1/services")
    assert read.status_code == 503 and read.mimetype == "application/problem+json"

    open311 = client.get("/open311/v2/services.json?lang=en")
    assert open311.status_code == 503
    assert open311.headers["Retry-After"] == "120"
    errors = open311.get_json()
    assert errors[0]["code"] == 503
    assert "nothing was recorded" in errors[0]["description"]

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert client.get("/healthz").status_code == 503

    postgres.start()
    created = client.post("/api/v1/feedback", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert client.post("/api/v1/feedback", json=body).status_code == 201  # replayed, not new
    assert _stored_feedback(outage_app) == 1
    assert client.get("/open311/v2/services.json").status_code == 200


def test_no_free_pooled_connection_is_a_503_too(postgres):
    """An overloaded database (every pooled connection busy) is an outage, not a 500."""
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=postgres.url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}))
    client = app.test_client()
    with app.app_context():
        held = db.engine.connect()  # the pool's only connection, busy elsewhere
        try:
            response = client.get("/en/services")
        finally:
            held.close()
            db.engine.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"


def test_an_unexpected_error_does_not_claim_that_nothing_was_lost(outage_app, monkeypatch):
    """A 500 cannot know whether a form was saved: its page must not promise it was."""
    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setitem(outage_app.view_functions, "feedback.new", broken)
    monkeypatch.setitem(outage_app.config, "PROPAGATE_EXCEPTIONS", False)
    response = outage_app.test_client().get("/en/feedback/new")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Nothing you sent has been lost" not in html
    assert "it may not have been saved" in html


def test_switching_language_during_the_outage_keeps_the_text(outage_app, postgres):
    client = outage_app.test_client()
    sent = _filled_form(client)
    postgres.stop()
    unsaved = form_fields(client.post("/en/feedback/new", data=sent).get_data(as_text=True))
    switched = client.post("/id/feedback/new", data={**unsaved, "switch_language": "id"})
    assert switched.status_code == 503
    html = switched.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert form_fields(html)["body"] == TYPED["body"]


def test_a_database_lost_just_after_filing_says_the_feedback_may_be_saved(outage_app, postgres):
    """The database stops right after the commit, before the tracking code is read back."""
    client = outage_app.test_client()
    sent = _filled_form(client)

    def stop_the_database(session):
        if postgres.running:
            postgres.stop()

    event.listen(Session, "after_commit", stop_the_database)
    try:
        response = client.post("/en/feedback/new", data=sent)
    finally:
        event.remove(Session, "after_commit", stop_the_database)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "We could not confirm your feedback" in html
    assert "nothing was recorded" not in html
    shown = form_fields(html)
    assert shown["body"] == TYPED["body"]

    # It was saved; sent again from the page, it is not filed twice.
    postgres.start()
    assert _stored_feedback(outage_app) == 1
    again = client.post("/en/feedback/new", data=shown)
    assert again.status_code == 303
    assert _stored_feedback(outage_app) == 1


def _simple_get_paths(app) -> list[str]:
    """Every GET address that needs no argument but the language, in English."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if set(rule.arguments) - {"lang", "format"}:
            continue
        values = {"lang": "en", "format": "json"}
        paths.append(rule.build({k: v for k, v in values.items() if k in rule.arguments})[1])
    return sorted(set(paths))


def test_no_address_answers_500_while_the_database_is_down(outage_app, postgres, monkeypatch):
    monkeypatch.setitem(outage_app.config, "PROPAGATE_EXCEPTIONS", False)
    client = outage_app.test_client()
    paths = _simple_get_paths(outage_app)
    assert len(paths) > 20
    postgres.stop()
    statuses = {path: client.get(path).status_code for path in paths}
    assert {path: status for path, status in statuses.items() if status >= 500
            and status != 503} == {}
    assert sum(status == 503 for status in statuses.values()) > 10
