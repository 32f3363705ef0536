"""Privacy (docs/definitions.md): no reporter's name, e-mail or phone in any public output, ever.

A reporter files feedback WITH an identity through the public form, in each identity mode;
staff answer, transfer and publish it; then every public output is read and scanned: pages,
the published list, the tracking page, the service and department pages, the JSON API, the
incidents Atom feed, the accountability figures when they exist, mail to staff, the audit log
and every log line written meanwhile.
"""

from __future__ import annotations

import logging
import re

import pytest

from portal.extensions import db
from portal.models import AuditEntry, Feedback, OutboxMessage
from portal.services.feedback.handling import feedback_answer, feedback_transfer
from portal.services.feedback.publishing import feedback_publish_approve
from tests.factories import create_department, create_service, create_user, csrf_token_from

NAME = "Siti Rahmawati"
EMAIL = "siti.rahma@example.com"
PHONE = "0812 3456 7890"
# Every form in which the identity could leak: parts of the name, the mailbox, bare digits.
NEEDLES = (NAME, "Rahmawati", EMAIL, "siti.rahma", PHONE, "081234567890", "3456 7890")


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(tmp_path / "uploads"))


def _file(client, lang: str, service_code: str, identity: str) -> Feedback:
    """File feedback with an identity through the public form, asking to publish it."""
    html = client.get(f"/{lang}/feedback/new?service={service_code}").get_data(as_text=True)
    client_token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"/{lang}/feedback/new", data={
        "csrf_token": csrf_token_from(html), "client_token": client_token,
        "kind": "complaint", "service": service_code, "subject": "Antrean terlalu panjang",
        "body": "Saya menunggu tiga jam di loket.", "regency": "kapuas",
        "identity": identity, "name": NAME, "email": EMAIL, "phone": PHONE, "publish": "y",
        "website": "",
    }, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    return db.session.query(Feedback).one()


def _assert_clean(where: str, text: str) -> None:
    for needle in NEEDLES:
        assert needle.casefold() not in text.casefold(), f"{needle!r} leaked in {where}"


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("identity", ["normal", "confidential", "anonymous"])
def test_no_public_output_carries_the_reporters_identity(client, app, caplog, identity, lang):
    caplog.set_level(logging.DEBUG)
    service = create_service(code="samsat-pkb")
    other = create_department(code="bapenda")
    officer = create_user("officer", department=service.department)
    triage = create_user("triage")
    create_user("officer", department=other)

    feedback = _file(client, lang, service.code, identity)
    stored = (feedback.reporter_name, feedback.reporter_email, feedback.reporter_phone)
    assert stored == ((None, None, None) if identity == "anonymous" else (NAME, EMAIL, PHONE))
    feedback_answer(officer, feedback.id, "Terima kasih, kami tambah loket.")
    # A confidential report's publishing is the triage unit's decision only.
    publisher = triage if identity == "confidential" else officer
    feedback_publish_approve(publisher, feedback.id, "Antrean panjang", "Menunggu tiga jam.")
    feedback_transfer(officer, feedback.id, other.code, "Urusan pajak kendaraan.")
    code = feedback.tracking_code_display

    public_urls = [
        f"/{lang}/", f"/{lang}/services", f"/{lang}/services/{service.code}",
        f"/{lang}/departments", f"/{lang}/departments/{service.department.code}",
        f"/{lang}/feedback", f"/{lang}/feedback?service={service.code}",
        f"/{lang}/feedback/published/{feedback.id}", f"/{lang}/feedback/{code}",
        f"/{lang}/track?code={code}", f"/{lang}/incidents", f"/{lang}/incidents.atom",
        f"/api/v1/feedback/{code}", f"/api/v1/feedback/{code}?lang=en",
        "/api/v1/services", f"/api/v1/services/{service.code}",
    ]
    for url in public_urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        _assert_clean(url, response.get_data(as_text=True))
    # Other engineers' accountability outputs: scanned whenever they exist.
    for url in ("/api/v1/accountability", f"/{lang}/accountability"):
        response = client.get(url)
        if response.status_code != 404:
            _assert_clean(url, response.get_data(as_text=True))

    # Mail: only the reporter's own mail may name their address; none quotes the identity.
    for message in db.session.query(OutboxMessage):
        if message.to_address != EMAIL:
            _assert_clean(f"mail {message.kind} to staff", message.subject + message.body)
        else:
            # The reporter is greeted by the name they gave (issue 13), in the first line
            # only; nothing else of the mail repeats their identity.
            greeting, rest = message.body.split("\n", 1)
            assert (NAME in greeting) == (identity != "anonymous")
            _assert_clean(f"mail {message.kind} to the reporter",
                          message.subject + rest.replace(EMAIL, ""))
    for entry in db.session.query(AuditEntry):
        _assert_clean(f"audit {entry.action}", f"{entry.detail} {entry.from_state} "
                      f"{entry.to_state} {entry.object_id}")
    _assert_clean("the log", "\n".join(r.getMessage() for r in caplog.records))
    _assert_clean("the log (formatted)", caplog.text)


def test_the_api_filing_with_identity_answers_without_it(client, app, caplog):
    caplog.set_level(logging.DEBUG)
    service = create_service(code="samsat-pkb")
    response = client.post("/api/v1/feedback", json={
        "kind": "complaint", "service": service.code, "subject": "Antrean",
        "body": "Tiga jam.", "name": NAME, "email": EMAIL, "phone": PHONE,
        "anonymous": False, "confidential": True, "publish": True,
    })
    assert response.status_code == 201
    _assert_clean("POST /api/v1/feedback", response.get_data(as_text=True))
    code = response.get_json()["tracking_code"]
    _assert_clean("GET /api/v1/feedback", client.get(f"/api/v1/feedback/{code}").get_data(
        as_text=True))
    _assert_clean("the log", caplog.text)
