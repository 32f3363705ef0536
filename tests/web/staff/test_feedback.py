"""Staff feedback pages: who may open what, identities on the page, actions with CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from portal.extensions import db
from portal.models import Feedback
from portal.services.feedback.citizen import feedback_submit
from tests.factories import create_service, create_user, csrf_token_from, login
from tests.feedback_support import IDENTITY, PDF_BYTES, create_triage_unit, valid_data


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(tmp_path / "uploads"))


@dataclass(frozen=True)
class World:
    """What the world fixture sets up."""

    feedback: Any
    users: Any


@pytest.fixture
def world(app):
    """A confidential report with an attachment, its department's officer and other staff."""
    service = create_service()
    users = {
        "officer": create_user("officer", department=service.department),
        "other_officer": create_user("officer"),
        "triage": create_user("triage"),
        "admin": create_user("admin"),
        "dprd": create_user("dprd"),
    }
    feedback = feedback_submit(
        valid_data(service=service.code, confidential=True, **IDENTITY), "en",
        attachments=[("scan.pdf", PDF_BYTES)],
    )
    return World(feedback=feedback, users=users)


@pytest.mark.parametrize(
    ("who", "inbox", "item", "attachment"),
    [
        (None, 302, 302, 302),
        ("officer", 200, 200, 200),
        ("other_officer", 200, 404, 404),
        ("triage", 200, 200, 200),
        ("admin", 200, 200, 200),
        # DPRD reads de-identified texts elsewhere: the staff view shows tracking codes.
        ("dprd", 403, 403, 403),
    ],
)
def test_access_table(client, world, who, inbox, item, attachment):
    feedback, users = world.feedback, world.users
    if who:
        login(client, users[who].username)
    base = f"/en/staff/feedback/{feedback.id}"
    assert client.get("/en/staff/feedback").status_code == inbox
    assert client.get(base).status_code == item
    attachment_id = feedback.attachments[0].id
    assert client.get(f"{base}/attachments/{attachment_id}").status_code == attachment


@pytest.mark.parametrize(("who", "sees"), [("officer", False), ("triage", True),
                                           ("admin", False), ("dprd", False)])
def test_a_confidential_identity_is_shown_to_the_triage_unit_only(client, world, who, sees):
    feedback, users = world.feedback, world.users
    login(client, users[who].username)
    html = client.get(f"/en/staff/feedback/{feedback.id}").get_data(as_text=True)
    assert (IDENTITY["email"] in html) is sees
    assert (IDENTITY["name"] in html) is sees


def test_an_officer_answers_through_the_page(client, world):
    feedback, users = world.feedback, world.users
    login(client, users["officer"].username)
    url = f"/en/staff/feedback/{feedback.id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    refused = client.post(f"{url}/answer", data={"answer-text": "tanpa token"})
    assert refused.status_code == 400
    response = client.post(f"{url}/answer",
                           data={"answer-csrf_token": token, "answer-text": "Sudah diperbaiki"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Feedback, feedback.id).status == "in_progress"
    public = client.get(f"/en/feedback/{feedback.tracking_code_display}").get_data(as_text=True)
    assert "Sudah diperbaiki" in public


def test_dprd_cannot_act(client, world):
    feedback, users = world.feedback, world.users
    login(client, users["dprd"].username)
    url = f"/en/staff/feedback/{feedback.id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/note", data={"note-csrf_token": token, "note-text": "x"})
    assert response.status_code == 403


# The page's forms, by who looks and where the feedback stands (the service's allowed actions).
FORMS = {
    "route": "Route to a department",
    "answer": "Answer the citizen (public)",
    "note": "Internal note (never public)",
    "status": "Change the status",
    "transfer": "Transfer to another department",
    "reject": "Reject (out of scope or abuse): the public reason",
}


@pytest.mark.parametrize(
    ("who", "routed", "offered"),
    [
        ("triage", False, {"route", "reject"}),
        ("admin", False, {"reject"}),
        ("officer", True, {"answer", "note", "status", "transfer", "reject"}),
        ("triage", True, {"answer", "note", "status", "transfer", "reject"}),
    ],
)
def test_the_item_page_offers_the_forms_of_the_allowed_actions(client, app, who, routed,
                                                               offered):
    create_triage_unit()
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code if routed else None), "en")
    login(client, (officer if who == "officer" else create_user(who)).username)
    html = client.get(f"/en/staff/feedback/{feedback.id}").get_data(as_text=True)
    assert {name for name, title in FORMS.items() if title in html} == offered


def test_finished_feedback_offers_no_form(client, world):
    feedback, users = world.feedback, world.users
    feedback.status = "closed"
    db.session.commit()
    login(client, users["officer"].username)
    html = client.get(f"/en/staff/feedback/{feedback.id}").get_data(as_text=True)
    assert not any(title in html for title in FORMS.values())
    assert "Attachment 1" in html


def test_the_inbox_marks_overdue_items_in_words(client, world):
    feedback, users = world.feedback, world.users
    from datetime import UTC, datetime

    feedback.first_response_due = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.commit()
    login(client, users["officer"].username)
    html = client.get("/en/staff/feedback").get_data(as_text=True)
    assert "Overdue:" in html and "row-overdue" in html


# -- the triage unit's attention list -----------------------------------------------------------


@pytest.fixture
def bounced(app):
    """Feedback transferred three times (A → B → C → D) and another transferred twice."""
    from tests.factories import create_department

    offices = [create_department(code=f"office-{c}", name_en=f"Office {c.upper()}")
               for c in "abcd"]
    service = create_service(department=offices[0])
    triage = create_user("triage")
    from portal.services.feedback.handling import feedback_transfer

    three = feedback_submit(valid_data(service=service.code), "en")
    two = feedback_submit(valid_data(service=service.code), "en")
    for target in offices[1:]:
        feedback_transfer(triage, three.id, target.code, "Bukan urusan kami.")
    for target in offices[1:3]:
        feedback_transfer(triage, two.id, target.code, "Bukan urusan kami.")
    return three, two, triage


@pytest.mark.parametrize(("role", "status"), [(None, 302), ("officer", 403), ("dprd", 403),
                                              ("triage", 200), ("admin", 200)])
def test_attention_page_access(client, bounced, role, status):
    if role:
        login(client, create_user(role).username)
    assert client.get("/en/staff/feedback/attention").status_code == status


def test_attention_page_lists_feedback_moved_more_than_twice_with_its_trail(client, bounced):
    three, two, triage = bounced
    login(client, triage.username)
    html = client.get("/en/staff/feedback/attention").get_data(as_text=True)
    # Staff screens show the public reference, never the tracking code (DOMAIN.md, Privacy).
    assert f">{three.public_reference}<" in html
    assert f">{two.public_reference}<" not in html
    assert three.tracking_code_display not in html
    assert "Office A → Office B → Office C → Office D" in html
    assert "/en/staff/feedback/attention" in client.get("/en/staff/").get_data(as_text=True)


def test_the_inbox_says_how_many_items_are_overdue(client, app):
    from datetime import timedelta

    from portal.domain.calendar import utc_now

    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback_submit(valid_data(service=service.code), "en", now=utc_now() - timedelta(days=30))
    feedback_submit(valid_data(service=service.code), "en")
    login(client, officer.username)
    html = client.get("/en/staff/feedback").get_data(as_text=True)
    assert "1 feedback item is overdue." in html
    # The overdue one comes first, marked in words, not only by colour.
    assert html.index("row-overdue") < html.index("<tr>", html.index("<tbody>"))
    assert "Overdue:" in html


@dataclass(frozen=True)
class Named:
    """What the named fixture sets up."""

    feedback: Any
    officer: Any


@pytest.fixture
def named(app):
    """A normal report with an identity (its officer may see it) and that officer."""
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code, **IDENTITY), "en")
    return Named(feedback=feedback, officer=officer)


def test_an_answer_naming_the_reporter_is_refused_next_to_the_text_which_is_kept(client, named):
    feedback, officer = named.feedback, named.officer
    login(client, officer.username)
    url = f"/en/staff/feedback/{feedback.id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    text = "Ibu Siti Rahmawati, loket tambahan dibuka."
    response = client.post(f"{url}/answer", data={"answer-csrf_token": token,
                                                  "answer-text": text})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="answer-text-error"' in html
    assert "contains the reporter&#39;s name, e-mail address or phone number" in html
    assert f"{text}</textarea>" in html
    db.session.expire_all()
    assert [e.kind for e in db.session.get(Feedback, feedback.id).events] == [
        "submitted", "routed"]


def test_a_transfer_reason_with_a_nik_needs_the_confirmation_box(client, named):
    feedback, officer = named.feedback, named.officer
    other = create_service().department
    login(client, officer.username)
    url = f"/en/staff/feedback/{feedback.id}"
    html = client.get(url).get_data(as_text=True)
    assert 'name="transfer-confirm"' not in html  # only once warned
    data = {"transfer-csrf_token": csrf_token_from(html), "transfer-department": other.code,
            "transfer-text": "Pemohon NIK 6271031234567890 terdaftar di sana."}
    warned = client.post(f"{url}/transfer", data=data)
    assert warned.status_code == 422
    page = warned.get_data(as_text=True)
    assert "6271031234567890" in page and 'name="transfer-confirm"' in page
    db.session.expire_all()
    assert db.session.get(Feedback, feedback.id).transfer_count == 0
    confirmed = client.post(f"{url}/transfer", data={**data, "transfer-confirm": "y"})
    assert confirmed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Feedback, feedback.id).department_id == other.id


# -- query counts and pages of the staff lists ---------------------------------------------------


def _bounced_many(count: int, offices: list) -> None:
    """Store `count` open feedback items, each transferred through all the offices."""
    from datetime import UTC, datetime, timedelta

    from portal.models import FeedbackEvent
    from portal.services.feedback.citizen import tracking_code_new

    start = datetime(2025, 8, 1, 3, 0, tzinfo=UTC)
    for index in range(count):
        at = start + timedelta(hours=index)
        feedback = Feedback(
            tracking_code=tracking_code_new(), kind="complaint", subject=f"S{index}",
            body="B", status="routed", routing_rule="service", submitted_at=at, routed_at=at,
            department_id=offices[-1].id, transfer_count=len(offices) - 1,
            first_response_due=at + timedelta(days=index % 7),
            resolution_due=at + timedelta(days=14),
        )
        feedback.events.append(FeedbackEvent(kind="routed", at=at, to_department_id=offices[0].id))
        for source, target in zip(offices, offices[1:], strict=False):
            feedback.events.append(FeedbackEvent(
                kind="transferred", at=at, body="Bukan urusan kami.",
                from_department_id=source.id, to_department_id=target.id))
        db.session.add(feedback)
    db.session.commit()


def _queries_of(app, client, url: str) -> int:
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/en/staff/feedback/attention", "/en/staff/feedback"])
@pytest.mark.parametrize("role", ["triage", "admin"])
def test_the_staff_lists_need_as_many_queries_for_40_items_as_for_5(app, client, url, role):
    from tests.factories import create_department

    offices = [create_department(code=f"office-{c}", name_en=f"Office {c.upper()}")
               for c in "abcd"]
    login(client, create_user(role).username)
    _bounced_many(5, offices)
    few = _queries_of(app, client, url)
    _bounced_many(35, offices)
    many = _queries_of(app, client, url)
    assert few == many
    html = client.get(url).get_data(as_text=True)
    assert html.count("Office A → Office B → Office C → Office D") == (
        40 if url.endswith("attention") else 0)


def test_the_inbox_shows_50_items_a_page_with_links_that_need_no_script(client, app):
    from tests.factories import create_department

    offices = [create_department(code=f"office-{c}") for c in "ab"]
    _bounced_many(120, offices)
    login(client, create_user("triage").username)
    first = client.get("/en/staff/feedback").get_data(as_text=True)
    assert 'href="/en/staff/feedback?page=2"' in first
    assert "Page 1 of 3" in first
    third = client.get("/en/staff/feedback?page=3").get_data(as_text=True)
    assert "Page 3 of 3" in third
    assert 'href="/en/staff/feedback?page=2"' in third
    assert 'href="/en/staff/feedback?page=4"' not in third
    rows = lambda html: html.count('<th scope="row"><a href="/en/staff/feedback/')  # noqa: E731
    assert (rows(first), rows(third)) == (50, 20)
    # A page number that is not one shows the first page.
    assert "Page 1 of 3" in client.get("/en/staff/feedback?page=x").get_data(as_text=True)


def test_staff_department_lists_come_from_the_catalogue_service(client, world, monkeypatch):
    from portal.services.catalogue import directory as catalogue
    from tests.factories import create_department

    feedback, users = world.feedback, world.users
    real = catalogue.department_list
    create_department(code="zz-last", name_en="Aardvark Office", name_id="Zebra Kantor")
    calls = []

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(catalogue, "department_list", counted)
    login(client, users["triage"].username)
    item = client.get(f"/en/staff/feedback/{feedback.id}").get_data(as_text=True)
    assert calls
    # Sorted by the name shown in the page's language, the department itself left out of
    # the transfer list.
    transfer = item[item.index('name="transfer-department"'):]
    transfer = transfer[:transfer.index("</select>")]
    import re

    names = re.findall(r"<option[^>]*>([^<]*)</option>", transfer)[1:]
    assert "Aardvark Office" in names and feedback.department.name_en not in names
    assert names == sorted(names, key=str.casefold) and len(names) >= 2
    client.post("/en/staff/logout", data={"csrf_token": csrf_token_from(item)})
    login(client, users["admin"].username)
    calls.clear()
    routing = client.get("/en/staff/routing").get_data(as_text=True)
    assert calls and "Aardvark Office" in routing
