"""Issue 13, citizens: limits stated and kept, language switch keeping the draft, services by
department, integrity reports, the holder's own text, codes that survive a phone call."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import Feedback
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer
from portal.services.feedback.routing import routing_integrity_unit_set
from tests.factories import create_department, create_service, create_user, csrf_token_from
from tests.feedback_support import IDENTITY, create_triage_unit, valid_data


def _hidden(client, lang: str = "en") -> dict[str, str]:
    html = client.get(f"/{lang}/feedback/new").get_data(as_text=True)
    token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', html)
    return {"csrf_token": csrf_token_from(html), "client_token": token.group(1)}


def _post(client, lang: str = "en", **fields):
    data = {"kind": "complaint", "subject": "Antrean panjang", "body": "Tiga jam menunggu.",
            "regency": "", "identity": "normal", "name": "", "email": "", "phone": "",
            "website": "", **_hidden(client, lang), **fields}
    return client.post(f"/{lang}/feedback/new", data=data, content_type="multipart/form-data")


# -- limits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "limit_text"), [("en", "At most 5,000 characters."),
                                                  ("id", "5.000")])
def test_the_form_states_each_limit_and_lets_no_browser_cut_a_text(client, lang, limit_text):
    html = client.get(f"/{lang}/feedback/new").get_data(as_text=True)
    assert limit_text in html
    assert ' maxlength=' not in html  # a browser would cut a pasted text without a word
    assert 'data-maxlength="200"' in html and 'data-maxlength="5000"' in html
    assert re.search(r'<script src="/static/[0-9a-f]+/js/feedback\.js" defer', html)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_over_long_texts_are_refused_with_the_text_given_back(client, lang):
    create_triage_unit()
    subject, body = "S" * 420, "B" * 10240
    response = _post(client, lang, subject=subject, body=body)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'value="{subject}"' in html and f"{body}</textarea>" in html
    if lang == "en":
        assert "Use at most 200 characters." in html and "Use at most 5000 characters." in html
    assert db.session.query(Feedback).count() == 0


def test_the_api_refuses_an_over_long_text_instead_of_cutting_it(client):
    create_triage_unit()
    response = client.post("/api/v1/feedback", json=valid_data(subject="S" * 201))
    assert response.status_code == 422
    assert {e["field"]: e["code"] for e in response.get_json()["errors"]}["subject"] == "too_long"
    assert db.session.query(Feedback).count() == 0


# -- language switch ---------------------------------------------------------------------------


def test_switching_language_keeps_the_draft_and_files_nothing(client):
    create_triage_unit()
    hidden = _hidden(client, "id")
    html = client.get("/id/feedback/new").get_data(as_text=True)
    # The language control of the form page is a button of the form, not a link.
    assert 'name="switch_language" value="en"' in html
    assert 'formaction="/en/feedback/new"' in html
    response = client.post("/en/feedback/new", data={
        "kind": "question", "subject": "Jam buka Samsat", "body": "Sampai jam berapa?",
        "identity": "normal", "name": "Siti", "email": "", "phone": "", "website": "",
        "switch_language": "en", **hidden}, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert 'value="Jam buka Samsat"' in page and "Sampai jam berapa?</textarea>" in page
    assert 'value="Siti"' in page
    assert "What you typed is kept" in page
    assert "There is a problem" not in page
    assert db.session.query(Feedback).count() == 0


def test_the_form_switch_needs_the_forms_csrf_token(client):
    response = client.post("/en/feedback/new", data={"subject": "x", "switch_language": "en"})
    assert response.status_code == 400


# -- services by department --------------------------------------------------------------------


def test_the_services_are_grouped_by_department(client):
    bapenda = create_department(code="bapenda", name_en="Regional Revenue Agency")
    dinkes = create_department(code="dinkes", name_en="Health Office")
    create_service(code="pkb", name_en="Vehicle tax", department=bapenda)
    create_service(code="bbnkb", name_en="Ownership transfer", department=bapenda)
    create_service(code="sip", name_en="Practice permit", department=dinkes)
    html = client.get("/en/feedback/new").get_data(as_text=True)
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', html, re.S)
    assert [label for label, _ in groups] == ["Health Office", "Regional Revenue Agency"]
    assert re.findall(r'value="([^"]+)"', groups[1][1]) == ["bbnkb", "pkb"]


def test_a_name_without_english_shows_in_indonesian_in_the_english_chooser(client):
    bapenda = create_department(code="bapenda", name_id="Badan Pendapatan Daerah", name_en="  ")
    create_service(code="pkb", name_id="Pajak Kendaraan", name_en="", department=bapenda)
    create_service(code="sip", name_id="Izin Praktik", name_en="Practice permit",
                   department=bapenda)
    english = client.get("/en/feedback/new").get_data(as_text=True)
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', english, re.S)
    assert [label for label, _ in groups] == ["Badan Pendapatan Daerah"]
    assert re.findall(r'value="([^"]+)">([^<]+)<', groups[0][1]) == [
        ("pkb", "Pajak Kendaraan"), ("sip", "Practice permit")]
    indonesian = client.get("/id/feedback/new").get_data(as_text=True)
    assert 'value="sip">Izin Praktik<' in indonesian


# -- integrity reports ------------------------------------------------------------------------


def test_the_integrity_box_sends_the_report_to_the_inspektorat(client):
    create_triage_unit()
    bapenda = create_department(code="bapenda", name_en="Regional Revenue Agency")
    service = create_service(code="pkb", department=bapenda)
    create_department(code="inspektorat", name_en="Regional Inspectorate")
    routing_integrity_unit_set("inspektorat", actor=CLI_OPERATOR)
    html = client.get("/en/feedback/new").get_data(as_text=True)
    assert 'name="integrity" type="checkbox"' in html
    response = _post(client, service=service.code, integrity="y", name="Siti")
    assert response.status_code == 303
    feedback = db.session.query(Feedback).one()
    assert (feedback.integrity, feedback.confidential) == (True, True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "the province&#39;s integrity unit" in page or "the province's integrity unit" in page
    assert "integrity report" in page


# -- the holder's own report, the reply box -----------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_tracking_page_shows_the_holder_their_own_text_and_no_identity(client, lang):
    service = create_service()
    feedback = feedback_submit(valid_data(
        service=service.code, subject="Loket tutup", body="Loket tutup jam 10 pagi.",
        **IDENTITY), "id")
    page = client.get(f"/{lang}/feedback/{feedback.tracking_code_display}").get_data(
        as_text=True)
    assert "Loket tutup jam 10 pagi." in page and ">Loket tutup</h3>" in page
    for value in IDENTITY.values():
        assert value not in page
    # Not in any public list while unpublished.
    assert "Loket tutup" not in client.get(f"/{lang}/feedback").get_data(as_text=True)


def test_the_reply_box_appears_once_the_department_has_answered(client):
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code), "id")
    url = f"/en/feedback/{feedback.tracking_code_display}"
    assert "Reply to the department" not in client.get(url).get_data(as_text=True)
    token = csrf_token_from(client.get("/en/feedback/new").get_data(as_text=True))
    refused = client.post(f"{url}/reply", data={"csrf_token": token, "body": "Halo?"})
    assert refused.status_code == 422
    assert "You can reply once the department has answered." in refused.get_data(as_text=True)
    feedback_answer(officer, feedback.id, "Mohon kirim nomor antrean Anda.")
    assert "Reply to the department" in client.get(url).get_data(as_text=True)


def test_the_reporter_mail_greets_them_by_the_name_they_gave(app):
    from portal.models import OutboxMessage

    create_triage_unit()
    feedback_submit(valid_data(**IDENTITY), "en")
    mail = db.session.query(OutboxMessage).filter_by(kind="feedback.reporter.submitted").one()
    assert mail.body.startswith(f"Hello {IDENTITY['name']},")
    feedback_submit(valid_data(email="x@example.com"), "en")
    mail = db.session.query(OutboxMessage).filter_by(to_address="x@example.com").one()
    assert mail.body.startswith("Hello,")


# -- tracking codes ---------------------------------------------------------------------------


def _stored_old_code(code: str) -> Feedback:
    """Store a feedback whose code was made with the old alphabet (both 5 and S…)."""
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    feedback.tracking_code = code
    db.session.commit()
    return feedback


@pytest.mark.parametrize("typed", ["5PP9-T39M-3DKZ", "spp9 t39m 3dk2", "SPP9T39M30KZ",
                                   "5pp9-t39m-3okz"])
def test_an_old_code_read_over_the_phone_finds_its_feedback(client, typed):
    feedback = _stored_old_code("SPP9T39M3DKZ")
    response = client.get("/en/track", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/en/feedback/SPP9-T39M-3DKZ")
    assert client.get(f"/en/feedback/{typed}").status_code in (200, 301)
    api = client.get(f"/api/v1/feedback/{typed}")
    assert api.status_code == 200 and api.get_json()["tracking_code"] == "SPP9-T39M-3DKZ"
    assert feedback.tracking_key == "5PP9T39M30K2"


def test_a_new_code_is_found_with_any_member_of_its_confusable_sets(client):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    swapped = feedback.tracking_code.translate(str.maketrans("0125 8V", "OIZS BU"))
    response = client.get("/en/track", query_string={"code": swapped.lower()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/en/feedback/{feedback.tracking_code_display}")


def test_the_code_never_wraps_inside_itself_and_has_a_copy_button_with_javascript(client):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    page = client.get(f"/en/feedback/{feedback.tracking_code_display}?filed=1").get_data(
        as_text=True)
    code = feedback.tracking_code_display
    assert f'<span class="tracking-code-text" id="filed-code">{code}</span>' in page
    assert 'data-copy="filed-code"' in page
    # No button in the HTML itself: the script adds it where it can copy.
    assert "copy-button" not in page
