"""Citizen feedback pages: the form (CSRF, honeypot, errors, attachments), tracking, follow-up."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from portal.extensions import db
from portal.models import Feedback
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import (
    feedback_answer,
    feedback_status_set,
    feedback_transfer,
)
from tests.factories import create_department, create_service, create_user, csrf_token_from
from tests.feedback_support import IDENTITY, create_triage_unit, jpeg_with_exif, valid_data


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(path))
    return path


def _form_page(client, lang: str = "en", query: str = "") -> tuple[str, dict[str, str]]:
    """GET the form; return its HTML and the hidden values to post back."""
    html = client.get(f"/{lang}/feedback/new{query}").get_data(as_text=True)
    token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', html)
    return html, {"csrf_token": csrf_token_from(html), "client_token": token.group(1)}


def _post(client, hidden: dict[str, str], lang: str = "en", files=None, **fields):
    data = {"kind": "complaint", "subject": "Antrean panjang", "body": "Tiga jam menunggu.",
            "regency": "", "identity": "normal", "name": "", "email": "", "phone": "",
            "website": "", **hidden, **fields}
    if files:
        data["attachments"] = files
    return client.post(f"/{lang}/feedback/new", data=data, content_type="multipart/form-data")


def test_the_form_offers_every_field_with_a_csrf_token(client):
    create_service(code="ktp-el", name_en="ID card")
    html, hidden = _form_page(client, query="?service=ktp-el")
    assert hidden["csrf_token"] and len(hidden["client_token"]) >= 32
    for name in ("kind", "subject", "body", "regency", "identity", "name", "email", "phone",
                 "publish", "attachments", "website"):
        assert f'name="{name}"' in html
    assert re.search(r'<option selected value="ktp-el">|<option value="ktp-el" selected>', html)
    assert "Kota Palangka Raya" in html and "Kabupaten Sukamara" in html
    assert "We do not store your name, e-mail or phone at all" in html


def test_the_form_works_in_indonesian(client):
    response = client.get("/id/feedback/new")
    assert response.status_code == 200
    assert '<html lang="id">' in response.get_data(as_text=True)


def test_a_post_without_csrf_token_is_refused(client):
    create_triage_unit()
    _html, hidden = _form_page(client)
    hidden.pop("csrf_token")
    response = _post(client, hidden)
    assert response.status_code == 400
    assert db.session.query(Feedback).count() == 0


def test_filing_redirects_to_a_page_saying_where_and_why_and_by_when(client):
    service = create_service(name_en="Vehicle tax", department=None)
    _html, hidden = _form_page(client)
    response = _post(client, hidden, service=service.code)
    assert response.status_code == 303
    feedback = db.session.query(Feedback).one()
    assert response.headers["Location"].endswith(
        f"/en/feedback/{feedback.tracking_code_display}?filed=1")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert feedback.tracking_code_display in html
    assert service.department.name_en in html
    assert "because you chose one of its services: Vehicle tax" in html
    assert "must give you a first response by the end of" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in page.headers["X-Robots-Tag"]


def test_errors_keep_what_was_typed_and_link_to_each_field(client):
    _html, hidden = _form_page(client)
    response = _post(client, hidden, kind="", subject="", body="Tulisan saya yang panjang",
                     email="siti@example.com", phone="0812 3456 7890")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in html
    assert 'href="#subject"' in html and 'href="#kind-0"' in html
    assert "Tulisan saya yang panjang" in html
    assert 'value="siti@example.com"' in html and 'value="0812 3456 7890"' in html
    assert hidden["client_token"] in html
    assert db.session.query(Feedback).count() == 0


def test_service_side_errors_are_shown_next_to_the_field(client):
    _html, hidden = _form_page(client)
    response = _post(client, hidden, email="bukan-email")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#email"' in html
    assert 'id="email-error"' in html


def test_the_honeypot_files_nothing(client):
    create_triage_unit()
    _html, hidden = _form_page(client)
    response = _post(client, hidden, website="http://spam.example")
    assert response.status_code == 422
    assert db.session.query(Feedback).count() == 0


def test_a_double_submit_creates_one_feedback(client):
    create_triage_unit()
    _html, hidden = _form_page(client)
    first = _post(client, hidden)
    second = _post(client, hidden)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.query(Feedback).count() == 1


def test_a_form_token_reused_with_other_text_shows_the_form_again_with_a_notice(client):
    create_triage_unit()
    _html, hidden = _form_page(client)
    first = _post(client, hidden)
    code = db.session.query(Feedback).one().tracking_code_display
    # Back button, the text changed, sent again: not the first feedback, a notice instead.
    second = _post(client, hidden, subject="Another subject")
    html = second.get_data(as_text=True)
    assert first.status_code == 303
    assert second.status_code == 409
    assert code not in html
    assert "This form was already sent with a different text" in html
    assert 'value="Another subject"' in html
    new_token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', html).group(1)
    assert new_token != hidden["client_token"]
    assert db.session.query(Feedback).count() == 1
    third = _post(client, {**hidden, "client_token": new_token}, subject="Another subject")
    assert third.status_code == 303
    assert db.session.query(Feedback).count() == 2


def test_a_spoofed_jpeg_is_refused_and_the_rest_is_kept(client, uploads):
    create_triage_unit()
    _html, hidden = _form_page(client)
    response = _post(client, hidden, files=[(io.BytesIO(b"just some text"), "foto.jpg")],
                     subject="Subjek saya")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "is not a JPEG or PNG photo or a PDF document" in html
    assert 'value="Subjek saya"' in html
    assert db.session.query(Feedback).count() == 0


def test_the_attachment_limits_are_said_as_the_rules_set_them(app, client, uploads):
    # Three files of 5 MB each: the hint, the refusal of a larger file, and the 413 page.
    html, hidden = _form_page(client)
    assert "Up to 3 files: JPEG or PNG photos or PDF documents, 5 MB each at most." in html
    create_triage_unit()
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024))
    refused = _post(client, hidden, files=[(big, "scan.pdf")]).get_data(as_text=True)
    assert "“scan.pdf” is larger than 5 MB." in refused
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        too_large = client.post("/en/feedback/new", data={"x": "y" * 5000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert too_large.status_code == 413
    assert "Each attachment may be at most 5 MB." in too_large.get_data(as_text=True)


def test_an_uploaded_photo_loses_its_exif(client, uploads):
    create_triage_unit()
    _html, hidden = _form_page(client)
    response = _post(client, hidden, files=[(io.BytesIO(jpeg_with_exif()), "IMG_1.jpg")])
    assert response.status_code == 303
    attachment = db.session.query(Feedback).one().attachments[0]
    with Image.open(Path(uploads) / attachment.stored_name) as image:
        assert dict(image.getexif()) == {}


def test_identity_choice_anonymous_stores_nothing(client):
    create_triage_unit()
    _html, hidden = _form_page(client)
    _post(client, hidden, identity="anonymous", **IDENTITY)
    feedback = db.session.query(Feedback).one()
    assert (feedback.reporter_name, feedback.reporter_email, feedback.reporter_phone) == (
        None, None, None)


def test_the_tracking_page_shows_no_identity(client):
    service = create_service()
    _html, hidden = _form_page(client)
    response = _post(client, hidden, service=service.code, **IDENTITY)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    for value in (*IDENTITY.values(), "Siti"):
        assert value not in html


@pytest.mark.parametrize("lang", ["en", "id"])
def test_track_normalises_the_code_and_redirects(client, lang):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    sloppy = feedback.tracking_code_display.lower().replace("-", " ")
    response = client.get(f"/{lang}/track", query_string={"code": sloppy})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/{lang}/feedback/{feedback.tracking_code_display}")


def test_track_explains_an_invalid_or_unknown_code(client):
    invalid = client.get("/en/track", query_string={"code": "HELLO"})
    assert invalid.status_code == 422
    assert "12 letters and digits, like K7QM-3TXV-9PH4" in invalid.get_data(as_text=True)
    unknown = client.get("/en/track", query_string={"code": "2222-2222-2222"})
    assert unknown.status_code == 404
    assert "We found no feedback with this code" in unknown.get_data(as_text=True)
    assert client.get("/en/track").status_code == 200


def test_a_non_canonical_code_in_the_url_redirects_to_the_canonical_one(client):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    response = client.get(f"/en/feedback/{feedback.tracking_code.lower()}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/en/feedback/{feedback.tracking_code_display}")
    assert client.get("/en/feedback/2222-2222-2222").status_code == 404


def test_the_canonical_redirect_keeps_only_the_page_s_own_query_parameters(client):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    code = feedback.tracking_code.lower()
    display = feedback.tracking_code_display
    # A parameter named like url_for's own argument used to give a 500 (TypeError).
    clash = client.get(f"/en/feedback/{code}?code=x&filed=1")
    assert clash.status_code == 301
    assert clash.headers["Location"] == f"/en/feedback/{display}?filed=1"
    # url_for options in the query must not build an absolute URL from the Host header.
    external = client.get(f"/en/feedback/{code}?_external=1&_scheme=http&done=reply&x=1",
                          headers={"Host": "evil.example"})
    assert external.status_code == 301
    assert external.headers["Location"] == f"/en/feedback/{display}?done=reply"


def _resolved_feedback() -> Feedback:
    """Feedback its department answered and resolved just now, through the services."""
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code), "id")
    feedback_answer(officer, feedback.id, "Sudah kami perbaiki.")
    feedback_status_set(officer, feedback.id, "resolved")
    return feedback


def test_the_citizen_reopens_with_a_reason_through_the_page(client):
    feedback = _resolved_feedback()
    url = f"/en/feedback/{feedback.tracking_code_display}"
    html = client.get(url).get_data(as_text=True)
    assert "Not solved? Reopen it" in html
    token = csrf_token_from(html)
    empty = client.post(f"{url}/reopen", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 422
    response = client.post(f"{url}/reopen", data={"csrf_token": token, "reason": "Masih rusak"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Feedback, feedback.id).status == "in_progress"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reopened by the citizen" in page
    assert "Reopened: the citizen said the problem is not solved" in page
    assert "Masih rusak" not in page  # the citizen's words are not public


def test_the_tracking_page_keeps_the_first_routing_reason_and_tells_of_the_transfer(client):
    first = create_department(code="dinas-a", name_en="Office A")
    service = create_service(department=first, name_en="Vehicle tax")
    officer = create_user("officer", department=first)
    create_department(code="dinas-b", name_en="Office B")
    feedback = feedback_submit(valid_data(service=service.code), "en")
    feedback_transfer(officer, feedback.id, "dinas-b", "Urusan Office B.")
    page = client.get(f"/en/feedback/{feedback.tracking_code_display}").get_data(as_text=True)
    assert "It went to Office A because you chose one of its services: Vehicle tax." in page
    assert "It went to Office B" not in page
    assert "It was then transferred, and Office B handles it now." in page
    assert "From Office A to Office B." in page and "Urusan Office B." in page


def test_reply_and_reopen_forms_need_csrf(client):
    feedback = _resolved_feedback()
    url = f"/en/feedback/{feedback.tracking_code_display}"
    assert client.post(f"{url}/reply", data={"body": "halo"}).status_code == 400
    assert client.post(f"{url}/reopen", data={"reason": "x"}).status_code == 400


def test_the_citizen_replies_through_the_page(client):
    feedback = _resolved_feedback()
    url = f"/en/feedback/{feedback.tracking_code_display}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/reply", data={"csrf_token": token, "body": "Terima kasih"})
    assert response.status_code == 303
    assert [e.kind for e in db.session.get(Feedback, feedback.id).events][-1] == "reply"


def test_nav_and_service_page_link_to_the_form(client):
    service = create_service(code="paspor")
    home = client.get("/en/").get_data(as_text=True)
    assert 'href="/en/feedback/new"' in home
    page = client.get("/en/services/paspor").get_data(as_text=True)
    assert f'href="/en/feedback/new?service={service.code}"' in page


def test_the_form_keeps_a_message_in_words_and_plain_english_labels(client):
    create_triage_unit()
    html, hidden = _form_page(client)
    assert "we tell you by e-mail when something happens" in html
    response = _post(client, hidden, kind="")
    assert "Choose complaint, suggestion, question or compliment." in response.get_data(
        as_text=True)
    _post(client, hidden)
    feedback = db.session.query(Feedback).one()
    page = client.get(f"/en/feedback/{feedback.tracking_code_display}").get_data(as_text=True)
    assert "following the procedure of SP4N-LAPOR!" in page
