"""Staff pages and integrity reports: the department concerned gets nothing; the admin page."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import Feedback, IntegrityPhrase
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer, feedback_status_set
from portal.services.feedback.routing import routing_integrity_unit_set
from tests.factories import create_department, create_service, create_user, csrf_token_from, login
from tests.feedback_support import IDENTITY, create_triage_unit, valid_data


@pytest.fixture
def world(app):
    class World:
        pass

    w = World()
    create_triage_unit()
    w.bapenda = create_department(code="bapenda")
    w.service = create_service(code="pkb", department=w.bapenda)
    create_department(code="inspektorat")
    routing_integrity_unit_set("inspektorat", actor=CLI_OPERATOR)
    w.bapenda_officer = create_user("officer", department=w.bapenda)
    w.inspector = create_user("officer", department=db.session.query(type(w.bapenda))
                              .filter_by(code="inspektorat").one())
    w.feedback = feedback_submit(valid_data(
        service=w.service.code, subject="Pungli di loket 3", integrity=True, **IDENTITY), "id")
    return w


def test_the_department_concerned_gets_404_and_an_empty_inbox(client, world):
    login(client, world.bapenda_officer.username)
    assert client.get(f"/en/staff/feedback/{world.feedback.id}").status_code == 404
    inbox = client.get("/en/staff/feedback").get_data(as_text=True)
    assert "Pungli di loket 3" not in inbox and "No feedback waits for you." in inbox
    token = csrf_token_from(inbox)
    answer = client.post(f"/en/staff/feedback/{world.feedback.id}/answer",
                         data={"answer-csrf_token": token, "answer-text": "Kami cek."})
    assert answer.status_code == 404


def test_the_integrity_unit_sees_it_by_its_public_reference_with_only_its_destinations(
        client, world):
    login(client, world.inspector.username)
    inbox = client.get("/en/staff/feedback").get_data(as_text=True)
    assert "Pungli di loket 3" in inbox and world.feedback.public_reference in inbox
    assert world.feedback.tracking_code_display not in inbox
    page = client.get(f"/en/staff/feedback/{world.feedback.id}").get_data(as_text=True)
    assert "Department concerned" in page
    assert world.feedback.tracking_code_display not in page
    assert IDENTITY["name"] not in page  # confidential: the triage unit only
    transfer = page.split('id="transfer-department"', 1)[1].split("</select>", 1)[0]
    assert 'value="ulp"' in transfer and 'value="bapenda"' not in transfer


def test_the_actions_heading_goes_once_no_action_remains(client, world):
    feedback_answer(world.inspector, world.feedback.id, "Kami telaah.")
    feedback_status_set(world.inspector, world.feedback.id, "resolved")
    login(client, world.inspector.username)
    page = client.get(f"/en/staff/feedback/{world.feedback.id}").get_data(as_text=True)
    assert 'id="actions-title"' not in page
    assert "· citizen</p>" in page and "· system</p>" in page


def test_long_words_wrap_in_the_inbox(client, world):
    login(client, world.inspector.username)
    inbox = client.get("/en/staff/feedback").get_data(as_text=True)
    assert '<td class="inbox-subject">' in inbox


@pytest.mark.parametrize(("role", "status"), [("officer", 403), ("triage", 403), ("dprd", 403)])
def test_only_administrators_keep_integrity_phrases(client, app, role, status):
    user = create_user(role)
    login(client, user.username)
    token = csrf_token_from(client.get("/en/staff/").get_data(as_text=True))
    response = client.post("/en/staff/routing/integrity-phrases", data={
        "integrity_phrase-csrf_token": token, "integrity_phrase-phrase": "suap"})
    assert response.status_code == status
    assert db.session.query(IntegrityPhrase).count() == 0


def test_the_routing_page_keeps_integrity_phrases_and_the_unit(client, app):
    create_department(code="inspektorat", name_en="Regional Inspectorate")
    admin = create_user("admin")
    login(client, admin.username)
    page = client.get("/en/staff/routing").get_data(as_text=True)
    assert "Integrity reports" in page and "No department is the integrity unit yet" in page
    token = csrf_token_from(page)
    added = client.post("/en/staff/routing/integrity-phrases", data={
        "integrity_phrase-csrf_token": token, "integrity_phrase-phrase": "uang pelicin"})
    assert added.status_code == 303
    unit = client.post("/en/staff/routing/integrity-unit", data={
        "integrity_unit-csrf_token": token, "integrity_unit-department": "inspektorat"})
    assert unit.status_code == 303
    page = client.get("/en/staff/routing").get_data(as_text=True)
    assert "uang pelicin" in page and "Integrity unit: Regional Inspectorate." in page
    item = db.session.query(IntegrityPhrase).one()
    deleted = client.post(f"/en/staff/routing/integrity-phrases/{item.id}/delete",
                          data={"csrf_token": token})
    assert deleted.status_code == 303
    assert db.session.query(IntegrityPhrase).count() == 0
    assert db.session.query(Feedback).count() == 0
