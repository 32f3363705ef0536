"""Publishing from the staff item page, and the public list and page of published feedback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from portal.extensions import db
from portal.models import Feedback
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer
from portal.services.feedback.publishing import (
    feedback_publish_approve,
    feedback_publish_decline,
)
from tests.conftest import a_second_later
from tests.factories import create_service, create_user, csrf_token_from, login
from tests.feedback_support import IDENTITY, valid_data

CITIZEN_BODY = "Saya Siti Rahmawati, HP 0812 3456 7890, menunggu tiga jam di loket."


@dataclass(frozen=True)
class World:
    """What the world fixture sets up."""

    service: Any
    officer: Any
    feedback: Any


@pytest.fixture
def world(app):
    service = create_service(code="samsat-pkb", name_en="Annual vehicle tax")
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(
        valid_data(service=service.code, publish=True, subject="Antrean panjang",
                   body=CITIZEN_BODY, **IDENTITY), "en")
    return World(service=service, officer=officer, feedback=feedback)


def _item(client, feedback) -> tuple[str, str]:
    html = client.get(f"/en/staff/feedback/{feedback.id}").get_data(as_text=True)
    return html, csrf_token_from(html)


def test_the_item_page_warns_about_personal_data_and_offers_an_editable_version(client, world):
    officer, feedback = world.officer, world.feedback
    login(client, officer.username)
    html, _token = _item(client, feedback)
    assert "Check the public version for personal data" in html
    # The detected phone number is pointed out; the form starts from the citizen's words.
    assert "<code>0812 3456 7890</code>" in html
    assert re.search(r'name="publish-subject"[^>]*value="Antrean panjang"', html)
    assert "Approve and publish" in html and "Decline publishing" in html


def test_an_officer_approves_an_edited_version_which_the_public_then_sees(client, world):
    officer, feedback = world.officer, world.feedback
    login(client, officer.username)
    _html, token = _item(client, feedback)
    response = client.post(f"/en/staff/feedback/{feedback.id}/publish", data={
        "publish-csrf_token": token, "publish-subject": "Antrean panjang di Samsat",
        "publish-body": "Warga menunggu tiga jam di loket."})
    assert response.status_code == 303
    listing = client.get("/en/feedback").get_data(as_text=True)
    assert "Antrean panjang di Samsat" in listing
    assert f"/en/feedback/published/{feedback.id}" in listing
    page = client.get(f"/en/feedback/published/{feedback.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Warga menunggu tiga jam di loket." in html
    assert feedback.tracking_code_display not in html
    for private in (*IDENTITY.values(), "Siti"):
        assert private not in listing and private not in html


def test_a_version_still_naming_the_reporter_is_refused_and_kept_for_editing(client, world):
    officer, feedback = world.officer, world.feedback
    login(client, officer.username)
    _html, token = _item(client, feedback)
    response = client.post(f"/en/staff/feedback/{feedback.id}/publish", data={
        "publish-csrf_token": token, "publish-subject": "Antrean panjang",
        "publish-body": "Siti Rahmawati menunggu tiga jam."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="publish-body-error"' in html
    assert "Siti Rahmawati menunggu tiga jam." in html
    db.session.expire_all()
    assert db.session.get(Feedback, feedback.id).publish_approved is False
    assert client.get(f"/en/feedback/published/{feedback.id}").status_code == 404


def test_declining_keeps_it_off_the_public_list(client, world):
    officer, feedback = world.officer, world.feedback
    login(client, officer.username)
    _html, token = _item(client, feedback)
    response = client.post(f"/en/staff/feedback/{feedback.id}/publish_decline",
                           data={"publish_decline-csrf_token": token})
    assert response.status_code == 303
    assert "Publishing was declined" in client.get(
        f"/en/staff/feedback/{feedback.id}").get_data(as_text=True)
    assert client.get(f"/en/feedback/published/{feedback.id}").status_code == 404
    assert "0 published items found" in client.get("/en/feedback").get_data(as_text=True)


@pytest.mark.parametrize(("role", "status"), [("other_officer", 404), ("dprd", 403)])
def test_staff_who_may_not_act_cannot_publish(client, world, role, status):
    feedback = world.feedback
    user = create_user("officer") if role == "other_officer" else create_user(role)
    login(client, user.username)
    token = csrf_token_from(client.get("/en/staff/").get_data(as_text=True))
    response = client.post(f"/en/staff/feedback/{feedback.id}/publish", data={
        "publish-csrf_token": token, "publish-subject": "A", "publish-body": "B"})
    assert response.status_code == status


def test_publishing_needs_a_csrf_token(client, world):
    officer, feedback = world.officer, world.feedback
    login(client, officer.username)
    response = client.post(f"/en/staff/feedback/{feedback.id}/publish", data={
        "publish-subject": "A", "publish-body": "B"})
    assert response.status_code == 400


def test_the_inbox_lists_requests_waiting_for_a_decision(client, world):
    officer, feedback = world.officer, world.feedback
    login(client, officer.username)
    html = client.get("/en/staff/feedback").get_data(as_text=True)
    assert "Requests to publish, waiting for a decision" in html
    assert f"/en/staff/feedback/{feedback.id}#publish-title" in html


def test_the_public_list_filters_paginates_and_shows_answers(client, world, monkeypatch):
    service, officer, feedback = world.service, world.officer, world.feedback
    other = create_service(code="ktp-el", name_en="Identity card")
    feedback_answer(officer, feedback.id, "Loket tambahan dibuka.")
    feedback_publish_approve(officer, feedback.id, "Antrean Samsat", "Teks publik.")
    admin = create_user("admin")
    for n in range(3):
        item = feedback_submit(valid_data(service=other.code, kind="question", publish=True),
                               "en")
        feedback_publish_approve(admin, item.id, f"Pertanyaan KTP {n}", "Teks publik.")
    monkeypatch.setattr("portal.services.feedback.publishing.PUBLISHED_PAGE_SIZE", 2)

    everything = client.get("/en/feedback").get_data(as_text=True)
    assert "4 published items found" in everything
    assert "Page 1 of 2" in everything and 'rel="next"' in everything
    second = client.get("/en/feedback?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'rel="prev"' in second

    by_service = client.get(f"/en/feedback?service={service.code}").get_data(as_text=True)
    assert "1 published item found" in by_service
    assert "Antrean Samsat" in by_service and "1 public answer" in by_service
    by_department = client.get(
        f"/en/feedback?department={other.department.code}").get_data(as_text=True)
    assert "3 published items found" in by_department and "Page 1 of 2" in by_department
    # The next page keeps the filter.
    assert f"department={other.department.code}" in re.search(
        r'rel="next" href="([^"]+)"', by_department).group(1)
    by_kind = client.get("/en/feedback?kind=complaint").get_data(as_text=True)
    assert "1 published item found" in by_kind

    page = client.get(f"/en/feedback/published/{feedback.id}").get_data(as_text=True)
    assert "Loket tambahan dibuka." in page


def test_the_public_pages_exist_in_both_languages_and_are_linked_from_the_nav(client, world):
    response = client.get("/id/feedback")
    assert response.status_code == 200
    assert '<html lang="id">' in response.get_data(as_text=True)
    assert 'href="/en/feedback"' in client.get("/en/").get_data(as_text=True)
    assert client.get("/en/feedback/published/999999").status_code == 404


@pytest.mark.parametrize(("role", "form_shown"), [("officer", False), ("admin", False),
                                                  ("triage", True)])
def test_only_the_triage_unit_gets_the_publishing_form_of_a_confidential_report(
        client, app, role, form_shown):
    service = create_service()
    users = {"officer": create_user("officer", department=service.department),
             "admin": create_user("admin"), "triage": create_user("triage")}
    feedback = feedback_submit(
        valid_data(service=service.code, publish=True, confidential=True, body=CITIZEN_BODY,
                   **IDENTITY), "en")
    login(client, users[role].username)
    html, token = _item(client, feedback)
    assert (f'action="/en/staff/feedback/{feedback.id}/publish"' in html) is form_shown
    assert ("complaint-management unit decides" in html) is (not form_shown)
    response = client.post(f"/en/staff/feedback/{feedback.id}/publish", data={
        "publish-csrf_token": token, "publish-subject": "Antrean",
        "publish-body": "Siti Rahmawati menunggu."})
    # The triage unit is told the text names the reporter; nobody else learns anything.
    assert response.status_code == (422 if form_shown else 403)


def test_published_pages_come_from_the_page_cache_and_follow_every_change(
        client, world, cached):
    officer, feedback = world.officer, world.feedback
    item = f"/en/feedback/published/{feedback.id}"
    assert "0 published items found" in client.get("/en/feedback").get_data(as_text=True)

    feedback_publish_approve(officer, feedback.id, "Antrean Samsat", "Teks publik.")
    a_second_later()
    assert "1 published item found" in client.get("/en/feedback").get_data(as_text=True)
    assert client.get(item).status_code == 200
    assert "Loket tambahan dibuka." not in client.get(item).get_data(as_text=True)
    assert cached.count("feedback/published_item.html") == 1  # the second view was kept

    feedback_answer(officer, feedback.id, "Loket tambahan dibuka.")
    a_second_later()
    assert "Loket tambahan dibuka." in client.get(item).get_data(as_text=True)

    # Withdrawn: gone from the list and the page at once.
    feedback_publish_decline(officer, feedback.id)
    a_second_later()
    assert client.get(item).status_code == 404
    assert "0 published items found" in client.get("/en/feedback").get_data(as_text=True)
