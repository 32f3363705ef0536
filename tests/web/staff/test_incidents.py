"""Staff pages for incidents and maintenance: access, CSRF, forms and what they write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import g
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Incident, IncidentUpdate, Maintenance
from portal.services.metrics.incidents import incident_get, incident_open
from tests.factories import (
    create_department,
    create_service,
    create_user,
    csrf_token_from,
    login,
)


def count(model: type) -> int:
    """Count the rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


@dataclass(frozen=True)
class World:
    """What the world fixture sets up."""

    bapenda: Any
    dinkes: Any
    pkb: Any
    rsud: Any
    officer: Any


@pytest.fixture
def world(app):
    """Two departments with a service each, and an officer of the first."""
    bapenda = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                name_en="Regional Revenue Agency")
    dinkes = create_department(code="dinkes", name_id="Dinas Kesehatan",
                               name_en="Health Office")
    pkb = create_service(department=bapenda, code="samsat-pkb", name_en="Vehicle tax payment")
    rsud = create_service(department=dinkes, code="rsud-antrean", name_en="Hospital queue")
    officer = create_user("officer", department=bapenda)
    return World(bapenda=bapenda, dinkes=dinkes, pkb=pkb, rsud=rsud, officer=officer)


def post_form(client, path: str, data: dict):
    """GET a form page, then POST it with its CSRF token and the given fields."""
    # The app fixture's app context is shared by the client's requests, so flask.g (where
    # Flask-WTF caches the token) outlives a request; drop it so the page makes a token
    # the session really holds (the login rotated the session).
    g.pop("csrf_token", None)
    page = client.get(path)
    assert page.status_code == 200, path
    return client.post(path, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                   **data})


@pytest.mark.parametrize("path", [
    "/en/staff/incidents", "/en/staff/incidents/new", "/en/staff/incidents/maintenance/new",
])
@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), ("admin", 200), ("officer", 200), ("triage", 403), ("dprd", 403)],
)
def test_who_may_see_the_staff_incident_pages(client, world, path, role, expected):
    if role:
        user = world.officer if role == "officer" else create_user(role)
        login(client, user.username)

    response = client.get(path)

    assert response.status_code == expected
    # Staff pages, these among them, are never kept by browsers or proxies.
    assert response.headers["Cache-Control"] == "no-store"
    if role is None:
        assert "/en/staff/login" in response.headers["Location"]


def test_officer_opens_an_incident_through_the_form(client, world):
    officer = world.officer
    login(client, officer.username)
    page = client.get("/en/staff/incidents/new").get_data(as_text=True)
    # Only the officer's own department's services are offered.
    assert 'value="samsat-pkb"' in page and 'value="rsud-antrean"' not in page

    response = post_form(client, "/en/staff/incidents/new", {
        "services": ["samsat-pkb"], "impact": "outage", "state": "investigating",
        "title_id": "SAMSAT daring mati", "title_en": "Online SAMSAT down",
        "body_id": "Sedang diselidiki.", "body_en": "Investigating.",
    })

    assert response.status_code == 302
    incident = db.session.scalar(select(Incident))
    assert response.headers["Location"].endswith(f"/en/staff/incidents/{incident.id}")
    assert (incident.impact, incident.created_by, [s.code for s in incident.services]) == (
        "outage", officer.username, ["samsat-pkb"]
    )


def test_officer_cannot_name_another_departments_service(client, world):
    login(client, world.officer.username)

    response = post_form(client, "/en/staff/incidents/new", {
        "services": ["rsud-antrean"], "impact": "major", "state": "investigating",
        "title_id": "Judul", "body_id": "Isi",
    })

    assert response.status_code == 422
    assert count(Incident) == 0


def test_form_errors_are_shown_and_nothing_is_written(client, world):
    login(client, world.officer.username)

    response = post_form(client, "/en/staff/incidents/new", {
        "services": [], "impact": "major", "state": "investigating", "title_id": "",
        "body_id": "Isi",
    })

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please correct the following" in html
    assert "Choose at least one service." in html
    assert count(Incident) == 0


def test_post_without_csrf_token_is_refused(client, world):
    login(client, world.officer.username)

    response = client.post("/en/staff/incidents/new", data={
        "services": ["samsat-pkb"], "impact": "major", "state": "investigating",
        "title_id": "Judul", "body_id": "Isi",
    })

    assert response.status_code == 400
    assert count(Incident) == 0


def test_officer_resolves_an_incident_through_the_update_form(client, world):
    pkb, officer = world.pkb, world.officer
    incident = incident_open(officer, [pkb.code], "major", "Judul", "", "Isi", "")
    login(client, officer.username)

    response = post_form(client, f"/en/staff/incidents/{incident.id}", {
        "state": "resolved", "body_id": "Sudah pulih.", "body_en": "Restored.",
    })

    assert response.status_code == 302
    db.session.expire_all()
    stored = incident_get(incident.id)
    assert stored.state == "resolved" and stored.resolved_at is not None
    assert stored.latest_update.body_en == "Restored."


def test_officer_of_another_department_cannot_see_or_update_an_incident(client, world):
    dinkes, pkb, officer = world.dinkes, world.pkb, world.officer
    incident = incident_open(officer, [pkb.code], "major", "Judul", "", "Isi", "")
    other = create_user("officer", department=dinkes)
    login(client, other.username)

    assert client.get(f"/en/staff/incidents/{incident.id}").status_code == 403
    assert count(IncidentUpdate) == 1


def test_maintenance_form_reads_times_as_wib(client, world):
    login(client, world.officer.username)

    response = post_form(client, "/id/staff/incidents/maintenance/new", {
        "services": ["samsat-pkb"], "starts_at": "2026-03-07T22:00",
        "ends_at": "2026-03-08T02:00", "title_id": "Pemeliharaan server",
        "title_en": "Server maintenance",
    })

    assert response.status_code == 302
    stored = db.session.scalar(select(Maintenance))
    assert (stored.starts_at, stored.ends_at) == (
        datetime(2026, 3, 7, 15, 0, tzinfo=UTC), datetime(2026, 3, 7, 19, 0, tzinfo=UTC)
    )


def test_maintenance_form_refuses_an_end_before_the_start(client, world):
    login(client, world.officer.username)

    response = post_form(client, "/en/staff/incidents/maintenance/new", {
        "services": ["samsat-pkb"], "starts_at": "2026-03-08T02:00",
        "ends_at": "2026-03-07T22:00", "title_id": "Pemeliharaan",
    })

    assert response.status_code == 422
    assert "The end must come after the start." in response.get_data(as_text=True)
    assert count(Maintenance) == 0


def test_dashboard_links_to_the_incident_pages_for_officers(client, world):
    login(client, world.officer.username)

    assert "/en/staff/incidents" in client.get("/en/staff/").get_data(as_text=True)
