"""Staff lists a page at a time: accounts, tokens, services, incidents, attention, WFA.

Each list shows 50 rows a page; the next page shows the rest, the links keep the list's
filter, a page past the end shows the last page, and the refusals stay as they were.
"""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import ApiToken, Incident, Service, User
from portal.services.paging import LIST_PAGE_SIZE
from tests.factories import create_department, create_service, create_user, login

MORE_THAN_A_PAGE = LIST_PAGE_SIZE + 2


@pytest.fixture
def world(app):
    """Two departments, an officer of the first, an admin, a DPRD member."""
    own = create_department(code="dinkes", name_en="Health Office")
    other = create_department(code="bapenda", name_en="Revenue Agency")
    users = {
        "officer": create_user(role="officer", department=own, username="rina"),
        "admin": create_user(role="admin", username="adi"),
        "dprd": create_user(role="dprd", username="dewi"),
    }
    return {"own": own, "other": other, "users": users}


def _client_as(app, world, role: str):
    client = app.test_client()
    if role != "anonymous":
        assert login(client, world["users"][role].username).status_code == 302
    return client


def _pages(client, path: str) -> tuple[str, str, str]:
    """Return the first page, the second page and a page far past the end."""
    join = "&" if "?" in path else "?"
    return tuple(client.get(f"{path}{join}page={n}").get_data(as_text=True) for n in (1, 2, 99))


# Staff accounts ----------------------------------------------------------------------------


def test_accounts_list_pages_by_username(app, world) -> None:
    # Accounts are added directly: hashing 52 passwords would only slow the test down.
    db.session.add_all(
        User(username=f"zz-{n:02d}", role="triage", password_hash="unused", is_active=True)
        for n in range(MORE_THAN_A_PAGE)
    )
    db.session.commit()
    client = _client_as(app, world, "admin")

    first, second, past = _pages(client, "/en/staff/users")

    # 3 accounts of the world sort before "zz-": the first page ends at zz-46.
    assert ">zz-46<" in first and ">zz-47<" not in first
    assert ">zz-47<" in second and ">zz-51<" in second and ">adi<" not in second
    assert "Page 1 of 2" in first and 'href="/en/staff/users?page=2"' in first
    assert "Page 2 of 2" in past and ">zz-51<" in past


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("officer", 403),
                                              ("dprd", 403)])
def test_accounts_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    client = _client_as(app, world, role)
    assert client.get("/en/staff/users?page=2").status_code == status


# API tokens ---------------------------------------------------------------------------------


def _add_tokens(department, count: int, label: str) -> None:
    start = db.session.query(ApiToken).count()
    db.session.add_all(
        ApiToken(department=department, token_hash=f"{start + n:064d}", label=f"{label}-{n:02d}")
        for n in range(count)
    )
    db.session.commit()


def test_officer_pages_through_only_their_departments_tokens(app, world) -> None:
    _add_tokens(world["own"], MORE_THAN_A_PAGE, "own")
    _add_tokens(world["other"], 3, "other")
    client = _client_as(app, world, "officer")

    first, second, past = _pages(client, "/en/staff/tokens")

    shown = {label for page in (first, second) for label in
             (f"own-{n:02d}" for n in range(MORE_THAN_A_PAGE)) if f">{label}<" in page}
    assert len(shown) == MORE_THAN_A_PAGE
    assert "other-" not in first + second + past
    assert "Page 2 of 2" in second and 'href="/en/staff/tokens?page=2"' in first
    assert "Older tokens" in first and "Newer tokens" in second
    assert past.count("Revoke token") == second.count("Revoke token") == 2


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("dprd", 403)])
def test_tokens_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    assert _client_as(app, world, role).get("/en/staff/tokens?page=2").status_code == status


# Services kept -----------------------------------------------------------------------------


def _add_services(department, count: int, prefix: str) -> None:
    db.session.add_all(
        Service(department=department, code=f"{prefix}-{n:02d}", name_id=f"{prefix} {n:02d}",
                name_en=f"{prefix} {n:02d}", work_mode="onsite", commitment_value=5,
                commitment_unit="working_days", on_time_target=0.9)
        for n in range(count)
    )
    db.session.commit()


def test_officer_pages_through_their_departments_services(app, world) -> None:
    _add_services(world["own"], MORE_THAN_A_PAGE, "Kesehatan")
    _add_services(world["other"], 2, "Pajak")
    client = _client_as(app, world, "officer")

    first, second, past = _pages(client, "/en/staff/services")

    assert "/staff/services/Kesehatan-49/edit" in first
    assert "/staff/services/Kesehatan-50/edit" not in first
    assert "/staff/services/Kesehatan-51/edit" in second and "Kesehatan-00" not in second
    assert "Pajak" not in first + second
    assert "Page 2 of 2" in past and "/staff/services/Kesehatan-51/edit" in past
    # An officer keeps one department's services: no department filter to choose from.
    assert 'name="department"' not in first


def test_admin_filters_services_by_department_and_the_pages_keep_the_filter(app, world) -> None:
    _add_services(world["own"], MORE_THAN_A_PAGE, "Kesehatan")
    _add_services(world["other"], 2, "Pajak")
    client = _client_as(app, world, "admin")

    everything = client.get("/en/staff/services?page=2").get_data(as_text=True)
    first, second, _past = _pages(client, "/en/staff/services?department=dinkes")
    other = client.get("/en/staff/services?department=bapenda").get_data(as_text=True)

    assert "Page 2 of 2" in everything and "Pajak 01" in everything
    assert 'href="/en/staff/services?page=2&amp;department=dinkes"' in first
    assert "Page 2 of 2" in second and "Kesehatan 51" in second and "Pajak" not in second
    assert "Pajak 00" in other and "Kesehatan" not in other and "Page 1 of" not in other
    # The filter form sends no page: a change of department starts from page 1.
    assert 'name="page"' not in first


def test_an_unknown_department_filter_lists_every_service(app, world) -> None:
    _add_services(world["other"], 2, "Pajak")
    html = _client_as(app, world, "admin").get(
        "/en/staff/services?department=nope").get_data(as_text=True)
    assert "Pajak 00" in html and "Pajak 01" in html


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("dprd", 403)])
def test_services_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    client = _client_as(app, world, role)
    assert client.get("/en/staff/services?page=2&department=dinkes").status_code == status


# Incidents ---------------------------------------------------------------------------------


def test_officer_pages_through_their_departments_incidents(app, world) -> None:
    service = create_service(department=world["own"])
    other_service = create_service(department=world["other"])
    db.session.add_all(
        Incident(title_id=f"Gangguan {n:02d}", title_en=f"Outage {n:02d}", impact="minor",
                 created_by="test", department_id=world["own"].id, services=[service])
        for n in range(MORE_THAN_A_PAGE)
    )
    db.session.add(Incident(title_id="Lain", title_en="Elsewhere", impact="minor",
                            created_by="test", department_id=world["other"].id,
                            services=[other_service]))
    db.session.commit()
    client = _client_as(app, world, "officer")

    first, second, past = _pages(client, "/en/staff/incidents")

    shown = [f"Outage {n:02d}" for n in range(MORE_THAN_A_PAGE)]
    assert sum(title in first for title in shown) == LIST_PAGE_SIZE
    assert sum(title in second for title in shown) == 2
    assert "Elsewhere" not in first + second
    assert 'href="/en/staff/incidents?page=2"' in first and "Page 2 of 2" in past


def test_incidents_and_maintenance_page_separately_each_keeping_the_others_page(
    app, world
) -> None:
    from datetime import timedelta

    from portal.domain.calendar import utc_now
    from portal.models import Maintenance

    service = create_service(department=world["own"])
    db.session.add_all(
        Incident(title_id=f"Gangguan {n:02d}", title_en=f"Outage {n:02d}", impact="minor",
                 created_by="test", department_id=world["own"].id, services=[service])
        for n in range(MORE_THAN_A_PAGE)
    )
    soon = utc_now() + timedelta(days=1)
    db.session.add_all(
        Maintenance(title_id=f"Perawatan {n:02d}", title_en=f"Upkeep {n:02d}",
                    starts_at=soon + timedelta(hours=n), ends_at=soon + timedelta(hours=n + 1),
                    created_by="test", services=[service])
        for n in range(MORE_THAN_A_PAGE)
    )
    db.session.commit()
    client = _client_as(app, world, "officer")

    html = client.get("/en/staff/incidents?page=2&maintenance_page=2").get_data(as_text=True)
    incidents, maintenance = html.split('id="staff-maintenance-title"', 1)

    assert sum(f"Outage {n:02d}" in incidents for n in range(MORE_THAN_A_PAGE)) == 2
    assert "Upkeep 50" in maintenance and "Upkeep 51" in maintenance
    assert "Upkeep 49" not in maintenance
    assert 'href="/en/staff/incidents?page=1&amp;maintenance_page=2"' in incidents
    assert 'href="/en/staff/incidents?maintenance_page=1&amp;page=2"' in maintenance
    assert 'aria-label="Pages of incidents"' in html
    assert 'aria-label="Pages of maintenance"' in html


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("dprd", 403)])
def test_incidents_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    assert _client_as(app, world, role).get("/en/staff/incidents?page=2").status_code == status


# Feedback moved too often -------------------------------------------------------------------


def test_attention_list_pages_oldest_first(app, world) -> None:
    from portal.models import Feedback
    from portal.services.feedback.handling import INBOX_PAGE_SIZE
    from tests.web.staff.test_feedback import _bounced_many

    offices = [create_department(code=f"office-{c}") for c in "abcd"]
    _bounced_many(MORE_THAN_A_PAGE, offices)
    triage = create_user(role="triage", username="tari")
    client = app.test_client()
    login(client, triage.username)
    references = [f.public_reference for f in db.session.scalars(
        db.select(Feedback).order_by(Feedback.submitted_at, Feedback.id))]

    first, second, past = _pages(client, "/en/staff/feedback/attention")

    assert f">{references[INBOX_PAGE_SIZE - 1]}<" in first
    assert f">{references[INBOX_PAGE_SIZE]}<" not in first
    assert f">{references[-1]}<" in second and f">{references[0]}<" not in second
    assert 'href="/en/staff/feedback/attention?page=2"' in first
    assert "Page 2 of 2" in past and f">{references[-1]}<" in past


def test_inbox_names_the_oldest_ten_moved_too_often_and_links_to_them_all(app, world) -> None:
    from tests.web.staff.test_feedback import _bounced_many

    _bounced_many(12, [create_department(code=f"office-{c}") for c in "abcd"])
    client = app.test_client()
    login(client, create_user(role="triage", username="tari").username)

    html = client.get("/en/staff/feedback").get_data(as_text=True)
    box = html.split('id="attention-title"', 1)[1].split("</section>", 1)[0]

    assert box.count("<li>") == 10
    assert 'href="/en/staff/feedback/attention">See all 12 items transferred' in box


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("officer", 403),
                                              ("dprd", 403)])
def test_attention_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    client = _client_as(app, world, role)
    assert client.get("/en/staff/feedback/attention?page=2").status_code == status


# WFA arrangements ---------------------------------------------------------------------------


def test_admin_pages_through_the_departments_arrangements(app, world) -> None:
    for n in range(MORE_THAN_A_PAGE):
        create_department(code=f"uptd-{n:02d}", name_id=f"UPTD {n:02d}", name_en=f"UPTD {n:02d}")
    client = _client_as(app, world, "admin")

    first, second, past = _pages(client, "/en/staff/arrangements")

    # The world's two departments and 52 more, by Indonesian name: "Dinas…" first, then UPTD.
    editing = [f"/staff/departments/uptd-{n:02d}/arrangement" for n in range(MORE_THAN_A_PAGE)]
    assert sum(link in first for link in editing) + sum(link in second for link in editing) == (
        MORE_THAN_A_PAGE)
    assert editing[-1] in second and editing[0] not in second
    assert 'href="/en/staff/arrangements?page=2"' in first and "Page 2 of 2" in past


def test_officer_lists_only_their_departments_arrangement(app, world) -> None:
    create_department(code="uptd-x")
    html = _client_as(app, world, "officer").get(
        "/en/staff/arrangements?page=2").get_data(as_text=True)
    assert "/staff/departments/dinkes/arrangement" in html
    assert "uptd-x" not in html and "bapenda" not in html and "Page 1 of" not in html


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("dprd", 403)])
def test_arrangements_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    assert _client_as(app, world, role).get("/en/staff/arrangements?page=2").status_code == status


# Periodic jobs -----------------------------------------------------------------------------


def test_job_runs_page_latest_first(app, world) -> None:
    from datetime import timedelta

    from portal.domain.calendar import utc_now
    from portal.models.ops import JobRun
    from portal.services.jobs import RECENT_RUNS_SHOWN

    start = utc_now() - timedelta(days=1)
    db.session.add_all(
        JobRun(job="outbox send", started_at=start + timedelta(minutes=n), outcome="failed",
               detail=f"Error{n:02d}", host=f"host-{n:02d}")
        for n in range(RECENT_RUNS_SHOWN + 2)
    )
    db.session.commit()
    client = _client_as(app, world, "admin")

    # The runs' section: the jobs' table above it shows each job's last run on every page.
    first, second, past = (html.split('id="runs-title"', 1)[1]
                           for html in _pages(client, "/en/staff/jobs"))

    latest = f"host-{RECENT_RUNS_SHOWN + 1:02d}"
    assert latest in first and "host-02<" in first and "host-01<" not in first
    assert "host-01<" in second and "host-00<" in second and latest not in second
    assert 'href="/en/staff/jobs?page=2"' in first and "Earlier runs" in first
    assert "Page 2 of 2" in past and "Later runs" in past


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("officer", 403),
                                              ("dprd", 403)])
def test_job_runs_second_page_is_refused_as_the_first(app, world, role, status) -> None:
    assert _client_as(app, world, role).get("/en/staff/jobs?page=2").status_code == status
